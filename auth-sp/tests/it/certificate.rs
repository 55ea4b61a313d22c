//! Certificates: PEM, encrypted PKCS#8, PKCS#12, x5c, legacy form; the assertion of §3.3.

use auth_core::{ErrorKind, Secret};
use auth_sp::{ClientCertificate, ClientCertificateCredential, ServicePrincipalOptions};
use auth_testkit::{App, Emulator, Setup, Tenant};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::common::*;

/// Gets a token with the certificate file `name` and checks the recorded request: the form
/// fields of §3.3, the assertion's header (`expected_header` with `x5c` filled in from
/// `expected_chain`) and claims; returns the header.
async fn check(
    name: &str,
    password: Option<&str>,
    options: ServicePrincipalOptions,
    emu: &Emulator,
) -> Value {
    let password = password.map(Secret::new);
    let c = ClientCertificateCredential::from_file(
        TENANT,
        CLIENT,
        fixture_path(name),
        password.as_ref(),
        options,
    )
    .unwrap();
    let before = earliest_clock_second();
    c.get_token(&arm())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let reqs = token_requests(emu);
    let r = reqs.last().unwrap();
    assert_eq!(
        r.form_names(),
        [
            "client_id",
            "grant_type",
            "scope",
            "client_assertion_type",
            "client_assertion"
        ]
    );
    assert_eq!(r.form_field("client_id"), Some(CLIENT));
    assert_eq!(r.form_field("grant_type"), Some("client_credentials"));
    assert_eq!(
        r.form_field("scope"),
        Some("https://management.core.windows.net//.default")
    );
    assert_eq!(
        r.form_field("client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let assertion = r.form_field("client_assertion").unwrap();
    assert_eq!(assertion.split('.').count(), 3);
    assert!(!assertion.contains('='), "unpadded base64url");
    let (header, claims) = jwt_parts(assertion);
    let iat = claims["iat"].as_u64().unwrap();
    assert!(iat >= before && iat <= now(), "iat is now");
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 36);
    assert_eq!(
        claims,
        json!({"aud": token_url(emu, TENANT), "iss": CLIENT, "sub": CLIENT, "jti": jti,
               "nbf": iat, "iat": iat, "exp": iat + 600})
    );
    let cert = c.certificate();
    assert_eq!(
        cert.thumbprint(),
        "4836FA6D9E0D1A7078DE009B55E24BA04BBE31FB"
    );
    assert_secret_only_in(std::slice::from_ref(r), assertion, "client_assertion");
    header
}

fn x5c(names: &[&str]) -> Value {
    let mut out = Vec::new();
    for n in names {
        let c = ClientCertificate::from_bytes(&[fixture("key.pem"), fixture(n)].concat(), None);
        // The CA certificate does not match the key: take its DER from the PEM directly.
        let der = match c {
            Ok(c) => c.chain()[0].clone(),
            Err(_) => {
                let text = String::from_utf8(fixture(n)).unwrap();
                let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
                STANDARD.decode(b64).unwrap()
            }
        };
        out.push(Value::String(STANDARD.encode(der)));
    }
    Value::Array(out)
}

#[tokio::test]
async fn pem_encrypted_key_and_pkcs12_each_get_a_token() {
    let emu = start().await;
    let cert = ClientCertificate::from_file(fixture_path("combined.pem"), None).unwrap();
    let current = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": cert.x5t_s256()});
    assert_eq!(
        check("combined.pem", None, options(&emu), &emu).await,
        current
    );
    assert_eq!(
        check("chain-ca-first.pem", None, options(&emu), &emu).await,
        current
    );
    assert_eq!(
        check(
            "combined-encrypted.pem",
            Some(PASSWORD),
            options(&emu),
            &emu
        )
        .await,
        current
    );
    assert_eq!(
        check("cert.p12", Some(PASSWORD), options(&emu), &emu).await,
        current
    );
    assert_eq!(
        check("cert-legacy.p12", Some(PASSWORD), options(&emu), &emu).await,
        current
    );
    assert_eq!(token_requests(&emu).len(), 5);
}

#[tokio::test]
async fn x5c_chain_and_legacy_form() {
    let emu = start().await;
    let cert = ClientCertificate::from_file(fixture_path("combined.pem"), None).unwrap();
    let header = check(
        "cert.p12",
        Some(PASSWORD),
        options(&emu).send_certificate_chain(true),
        &emu,
    )
    .await;
    assert_eq!(
        header,
        json!({"alg": "PS256", "typ": "JWT", "x5c": x5c(&["cert.pem", "ca.pem"]), "x5t#S256": cert.x5t_s256()})
    );
    let header = check(
        "chain-ca-first.pem",
        None,
        options(&emu).send_certificate_chain(true),
        &emu,
    )
    .await;
    assert_eq!(header["x5c"], x5c(&["cert.pem", "ca.pem"]), "leaf first");
    let header = check(
        "combined.pem",
        None,
        options(&emu).legacy_assertion(true),
        &emu,
    )
    .await;
    assert_eq!(
        header,
        json!({"alg": "RS256", "typ": "JWT", "x5t": cert.x5t()})
    );
    let header = check(
        "combined.pem",
        None,
        options(&emu)
            .legacy_assertion(true)
            .send_certificate_chain(true),
        &emu,
    )
    .await;
    assert_eq!(
        header,
        json!({"alg": "RS256", "typ": "JWT", "x5c": x5c(&["cert.pem"]), "x5t": cert.x5t()})
    );
}

#[tokio::test]
async fn a_certificate_generated_at_test_time() {
    let generated = auth_testkit::certs::generate("auth-sp generated");
    let tenant = "generated.onmicrosoft.com";
    let emu = Emulator::start(
        Setup::new()
            .tenant(Tenant::new(TENANT).domain(tenant))
            .app(App::new(TENANT, CLIENT).certificate_der(&generated.certificate_der)),
    )
    .await
    .unwrap();
    let pem = format!("{}{}", generated.private_key_pem, generated.certificate_pem);
    let cert = ClientCertificate::from_pem(pem.as_bytes(), None).unwrap();
    assert_eq!(cert.x5t_s256(), generated.x5t_s256());
    assert_eq!(cert.x5t(), generated.x5t_sha1());
    let c = ClientCertificateCredential::new(tenant, CLIENT, cert, options(&emu)).unwrap();
    c.get_token(&arm()).await.unwrap();
    // The default emulator refuses a replayed jti: each new request needs a new assertion,
    // which a claims request (cache bypass) within the reuse window does not get.
    let e = c.get_token(&arm().with_claims("{}")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(e.message().contains("AADSTS50012"), "{e}");
}

#[tokio::test]
async fn one_assertion_is_reused_across_requests() {
    let emu = start().await;
    let c = ClientCertificateCredential::from_file(
        TENANT,
        CLIENT,
        fixture_path("combined.pem"),
        None,
        options(&emu),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
    c.get_token(&auth_core::TokenRequest::for_resource("https://ml.azure.com").unwrap())
        .await
        .unwrap();
    let reqs = token_requests(&emu);
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].form_field("client_assertion"),
        reqs[1].form_field("client_assertion")
    );
}

#[tokio::test]
async fn assertions_match_the_emulators_reference_form() {
    use auth_testkit::certs::AssertionAlg;
    let generated = auth_testkit::certs::generate("reference");
    let emu = Emulator::start(
        Setup::new()
            .tenant(Tenant::new(TENANT))
            .app(App::new(TENANT, CLIENT).certificate_der(&generated.certificate_der))
            .assertion_replay_check(false),
    )
    .await
    .unwrap();
    let pem = format!("{}{}", generated.private_key_pem, generated.certificate_pem);
    for (legacy, alg) in [(false, AssertionAlg::Ps256), (true, AssertionAlg::Rs256)] {
        let cert = ClientCertificate::from_pem(pem.as_bytes(), None).unwrap();
        let c = ClientCertificateCredential::new(
            TENANT,
            CLIENT,
            cert,
            options(&emu).legacy_assertion(legacy),
        )
        .unwrap();
        c.get_token(&arm()).await.unwrap();
        let ours = token_requests(&emu)
            .last()
            .unwrap()
            .form_field("client_assertion")
            .unwrap()
            .to_owned();
        let reference =
            generated.client_assertion(CLIENT, &token_url(&emu, TENANT), emu.now(), alg);
        let (oh, oc) = jwt_parts(&ours);
        let (rh, rc) = jwt_parts(&reference);
        assert_eq!(oh, rh, "same header");
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&oc), keys(&rc), "same claims");
        for k in ["aud", "iss", "sub"] {
            assert_eq!(oc[k], rc[k]);
        }
    }
}
