//! Every refusal the emulator gives a service principal (§7) comes back with the right kind
//! and hint, names the credential, and shows no secret.

use std::time::Duration;

use auth_core::{Error, ErrorKind, Secret, TokenCredential, TokenRequest};
use auth_sp::{ClientCertificate, ClientCertificateCredential, ClientSecretCredential};
use auth_testkit::{App, Emulator, Policy, Setup, Tenant};

use crate::common::*;

fn secret_credential(
    emu: &Emulator,
    tenant: &str,
    client: &str,
    secret: &str,
) -> Box<dyn TokenCredential> {
    Box::new(
        ClientSecretCredential::new(tenant, client, Secret::new(secret), options(emu)).unwrap(),
    )
}

/// The error `credential` gets for `request` from an emulator of `setup` (after `prepare`).
async fn refusal(
    setup: Setup,
    prepare: impl FnOnce(&Emulator),
    credential: impl FnOnce(&Emulator) -> Box<dyn TokenCredential>,
    request: TokenRequest,
) -> Error {
    let emu = Emulator::start(setup).await.unwrap();
    prepare(&emu);
    let c = credential(&emu);
    let e = c.get_token(&request).await.unwrap_err();
    // No retry of a refusal.
    assert_eq!(token_requests(&emu).len(), 1, "{e}");
    e
}

/// The error has `kind`, names `code` in its message and `hint_text` in its hint, names the
/// credential, and shows no secret.
fn check(e: &Error, kind: ErrorKind, code: &str, hint_text: &str) {
    assert_eq!(e.kind(), kind, "{e}");
    assert!(e.message().contains(code), "{code}: {e}");
    let hint = e.hint().unwrap_or_else(|| panic!("no hint: {e}"));
    assert!(
        hint.contains(hint_text),
        "{code}: hint {hint:?} lacks {hint_text:?}"
    );
    assert!(e.credential().is_some(), "{e}");
    let shown = format!("{e} {e:?}");
    for secret in [SECRET, EXPIRED_SECRET, PASSWORD] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        !shown.contains("eyJ"),
        "no token or assertion in errors: {shown}"
    );
}

#[tokio::test]
async fn refusals_map_to_kinds_and_hints() {
    let e = refusal(
        setup(),
        |_| {},
        |emu| secret_credential(emu, TENANT, CLIENT, "wrong-secret"),
        arm(),
    )
    .await;
    check(
        &e,
        ErrorKind::Authentication,
        "AADSTS7000215",
        "secret's value, not its id",
    );
    assert_eq!(e.status(), Some(401));
    assert!(e.to_string().contains("trace id"), "{e}");

    let e = refusal(
        setup(),
        |_| {},
        |emu| secret_credential(emu, TENANT, CLIENT, EXPIRED_SECRET),
        arm(),
    )
    .await;
    check(&e, ErrorKind::Authentication, "AADSTS7000222", "expired");

    let e = refusal(
        setup(),
        |_| {},
        |emu| secret_credential(emu, TENANT, "a11ce000-0000-4000-8000-0000000000ff", SECRET),
        arm(),
    )
    .await;
    check(
        &e,
        ErrorKind::Authentication,
        "AADSTS700016",
        "not found in this tenant",
    );

    let e = refusal(
        setup(),
        |_| {},
        |emu| secret_credential(emu, "72f988bf-0000-4000-8000-0000000000ff", CLIENT, SECRET),
        arm(),
    )
    .await;
    check(
        &e,
        ErrorKind::Configuration,
        "AADSTS90002",
        "tenant was not found",
    );

    let e = refusal(
        setup().conditional_access(Policy::block(CLIENT)),
        |_| {},
        |emu| secret_credential(emu, TENANT, CLIENT, SECRET),
        arm(),
    )
    .await;
    check(
        &e,
        ErrorKind::Authentication,
        "AADSTS53003",
        "Conditional Access",
    );

    let e = refusal(
        setup().conditional_access(Policy::require_mfa(CLIENT)),
        |_| {},
        |emu| secret_credential(emu, TENANT, CLIENT, SECRET),
        arm(),
    )
    .await;
    check(
        &e,
        ErrorKind::InteractionRequired,
        "AADSTS50076",
        "multi-factor",
    );

    let scope =
        TokenRequest::for_scopes(["https://management.azure.com/user_impersonation"]).unwrap();
    let e = refusal(
        setup(),
        |_| {},
        |emu| secret_credential(emu, TENANT, CLIENT, SECRET),
        scope,
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
    assert!(
        e.message().contains("invalid_scope") || e.message().contains("scope"),
        "{e}"
    );

    let public = Setup::new()
        .tenant(Tenant::new(TENANT))
        .app(App::public(TENANT, CLIENT));
    let e = refusal(
        public,
        |_| {},
        |emu| secret_credential(emu, TENANT, CLIENT, SECRET),
        arm(),
    )
    .await;
    check(
        &e,
        ErrorKind::Authentication,
        "AADSTS700025",
        "public client",
    );
}

#[tokio::test]
async fn certificate_refusals() {
    // A certificate the app does not know.
    let other = auth_testkit::certs::generate("not registered");
    let pem = format!("{}{}", other.private_key_pem, other.certificate_pem);
    let e = refusal(
        setup(),
        |_| {},
        |emu| {
            Box::new(
                ClientCertificateCredential::new(
                    TENANT,
                    CLIENT,
                    ClientCertificate::from_pem(pem.as_bytes(), None).unwrap(),
                    options(emu),
                )
                .unwrap(),
            )
        },
        arm(),
    )
    .await;
    check(
        &e,
        ErrorKind::Authentication,
        "AADSTS700027",
        "certificate is not registered",
    );

    // The service's clock is 20 minutes ahead of the assertion.
    let e = refusal(
        setup(),
        |emu| emu.advance_clock(Duration::from_secs(1200)),
        |emu| {
            Box::new(
                ClientCertificateCredential::from_file(
                    TENANT,
                    CLIENT,
                    fixture_path("combined.pem"),
                    None,
                    options(emu),
                )
                .unwrap(),
            )
        },
        arm(),
    )
    .await;
    check(&e, ErrorKind::Authentication, "AADSTS700024", "clock");
}

/// Refusals of bad assertions, sent through the callback of a `ClientAssertionCredential`.
#[tokio::test]
async fn assertion_refusals() {
    use auth_sp::ClientAssertionCredential;
    use auth_testkit::certs::{AssertionAlg, federated_token, generate};
    let cert = generate("assertion refusals");
    let app = App::new(TENANT, CLIENT)
        .certificate_der(&cert.certificate_der)
        .federated(ISSUER, SUBJECT);
    let world = || {
        Setup::new()
            .tenant(Tenant::new(TENANT))
            .app(app.clone())
            .assertion_replay_check(false)
    };
    let emu = Emulator::start(world()).await.unwrap();
    let now = emu.now();
    let url = token_url(&emu, TENANT);
    let cases: Vec<(String, ErrorKind, &str, &str)> = vec![
        (
            cert.client_assertion(
                CLIENT,
                "https://login.example/wrong/oauth2/v2.0/token",
                now,
                AssertionAlg::Ps256,
            ),
            ErrorKind::Authentication,
            "AADSTS700023",
            "audience",
        ),
        (
            cert.client_assertion(CLIENT, &url, now - 3600, AssertionAlg::Rs256),
            ErrorKind::Authentication,
            "AADSTS700024",
            "clock",
        ),
        (
            federated_token(
                "https://issuer.example/",
                SUBJECT,
                "api://AzureADTokenExchange",
                now,
                600,
            ),
            ErrorKind::Authentication,
            "AADSTS700211",
            "issuer",
        ),
        (
            federated_token(ISSUER, SUBJECT, "api://other", now, 600),
            ErrorKind::Authentication,
            "AADSTS700212",
            "audience",
        ),
        (
            federated_token(
                ISSUER,
                SUBJECT,
                "api://AzureADTokenExchange",
                now - 7200,
                600,
            ),
            ErrorKind::Authentication,
            "AADSTS700024",
            "clock",
        ),
        (
            "not-a-jwt".to_owned(),
            ErrorKind::Authentication,
            "AADSTS50027",
            "not a valid JWT",
        ),
    ];
    for (assertion, kind, code, hint) in cases {
        let c = ClientAssertionCredential::from_callback(
            TENANT,
            CLIENT,
            move || Ok(Secret::new(assertion.clone())),
            options(&emu),
        )
        .unwrap();
        let e = c.get_token(&arm()).await.unwrap_err();
        check(&e, kind, code, hint);
    }
    // An assertion whose issuer is another app, for an app without federated credentials.
    let emu = Emulator::start(
        Setup::new()
            .tenant(Tenant::new(TENANT))
            .app(App::new(TENANT, CLIENT).certificate_der(&cert.certificate_der)),
    )
    .await
    .unwrap();
    let other = cert.client_assertion(
        "a11ce000-0000-4000-8000-0000000000ee",
        &token_url(&emu, TENANT),
        emu.now(),
        AssertionAlg::Ps256,
    );
    let c = ClientAssertionCredential::from_callback(
        TENANT,
        CLIENT,
        move || Ok(Secret::new(other.clone())),
        options(&emu),
    )
    .unwrap();
    check(
        &c.get_token(&arm()).await.unwrap_err(),
        ErrorKind::Authentication,
        "AADSTS700021",
        "issuer or subject",
    );
}
