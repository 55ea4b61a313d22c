//! Client credentials with certificate and federated assertions (protocol-entra.md §3.3, §3.4).

use std::time::{SystemTime, UNIX_EPOCH};

use auth_testkit::certs::{self, TestCertificate};
use auth_testkit::{App, Emulator};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::*;

const CERT_CLIENT: &str = "c0c0c0c0-0000-4000-8000-000000000001";
const CERT_APP_OID: &str = "c0c0c0c0-0000-4000-8000-000000000002";
const FED_CLIENT: &str = "fedfed00-0000-4000-8000-000000000001";
const FED_ISSUER: &str = "https://token.actions.githubusercontent.com";
const FED_SUBJECT: &str = "repo:contoso/ml:ref:refs/heads/main";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn claims_for(e: &Emulator, jti: &str) -> Value {
    let n = now();
    json!({"aud": e.token_url(TENANT), "iss": CERT_CLIENT, "sub": CERT_CLIENT, "jti": jti, "nbf": n, "exp": n + 600})
}

/// MSAL's current form: PS256 with padded x5t#S256.
fn ps256_header(cert: &TestCertificate) -> Value {
    json!({"alg": "PS256", "typ": "JWT", "x5t#S256": format!("{}=", cert.x5t_s256())})
}

async fn start_with_cert(cert: &TestCertificate) -> Emulator {
    Emulator::start(
        setup().app(
            App::new(TENANT, CERT_CLIENT)
                .object_id(CERT_APP_OID)
                .certificate_pem(&cert.certificate_pem),
        ),
    )
    .await
    .unwrap()
}

async fn redeem(e: &Emulator, client: &str, assertion: &str) -> (u16, Value) {
    let (s, _, b) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", client),
            ("grant_type", "client_credentials"),
            ("client_assertion", assertion),
            ("client_info", "1"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    (s, b)
}

#[tokio::test]
async fn ps256_with_x5t_s256_and_rs256_with_sha1_x5t_are_accepted() {
    let cert = certs::generate("cert-app");
    let e = start_with_cert(&cert).await;
    let (s, b) = redeem(
        &e,
        CERT_CLIENT,
        &cert.sign_jwt(&ps256_header(&cert), &claims_for(&e, "jti-1")),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let c = claims(b["access_token"].as_str().unwrap());
    assert_eq!(c["appidacr"], "2");
    assert_eq!(c["oid"], CERT_APP_OID);
    // The legacy form MSAL sends with a thumbprint (and the Azure CLI): RS256, SHA-1 x5t,
    // fractional iat/exp, no nbf.
    let n = now() as f64 + 0.875;
    let legacy = json!({"aud": e.token_url(TENANT), "iss": CERT_CLIENT, "sub": CERT_CLIENT, "exp": n + 600.0, "iat": n, "jti": "jti-2"});
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": format!("{}=", cert.x5t_sha1())});
    let (s, b) = redeem(&e, CERT_CLIENT, &cert.sign_jwt(&header, &legacy)).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn unregistered_certificate_and_bad_signature_are_700027() {
    let cert = certs::generate("cert-app");
    let other = certs::generate("other");
    let e = start_with_cert(&cert).await;
    let (s, b) = redeem(
        &e,
        CERT_CLIENT,
        &other.sign_jwt(&ps256_header(&other), &claims_for(&e, "a")),
    )
    .await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_027);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains("The key was not found")
    );
    // Signed by another key but naming the registered certificate.
    let (s, b) = redeem(
        &e,
        CERT_CLIENT,
        &other.sign_jwt(&ps256_header(&cert), &claims_for(&e, "b")),
    )
    .await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_027);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains("did not match the expected signature value")
    );
    // Tampered claims.
    let good = cert.sign_jwt(&ps256_header(&cert), &claims_for(&e, "c"));
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(
            &json!({"aud": e.token_url(TENANT), "iss": CERT_CLIENT, "sub": CERT_CLIENT, "jti": "d", "exp": now() + 99999})
        ),
        parts[2]
    );
    let (s, b) = redeem(&e, CERT_CLIENT, &forged).await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_027);
}

#[tokio::test]
async fn wrong_audience_issuer_and_time_range() {
    let cert = certs::generate("cert-app");
    let e = start_with_cert(&cert).await;
    let h = ps256_header(&cert);
    let mut c = claims_for(&e, "1");
    c["aud"] = json!(format!("{}/", e.token_url(TENANT)));
    let (s, b) = redeem(&e, CERT_CLIENT, &cert.sign_jwt(&h, &c)).await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_023);
    let mut c = claims_for(&e, "2");
    c["sub"] = json!("someone-else");
    let (s, b) = redeem(&e, CERT_CLIENT, &cert.sign_jwt(&h, &c)).await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_021);
    let mut c = claims_for(&e, "3");
    c["exp"] = json!(now() - 301);
    let (s, b) = redeem(&e, CERT_CLIENT, &cert.sign_jwt(&h, &c)).await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_024);
    let mut c = claims_for(&e, "4");
    c["nbf"] = json!(now() + 900);
    c["exp"] = json!(now() + 1500);
    let (s, b) = redeem(&e, CERT_CLIENT, &cert.sign_jwt(&h, &c)).await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_024);
    // Within the 5 minute skew: accepted.
    let mut c = claims_for(&e, "5");
    c["exp"] = json!(now() - 100);
    let (s, b) = redeem(&e, CERT_CLIENT, &cert.sign_jwt(&h, &c)).await;
    assert_eq!(s, 200, "{b}");
    // Unsupported algorithm.
    let (s, b) = redeem(
        &e,
        CERT_CLIENT,
        &cert.sign_jwt(
            &json!({"alg": "ES256", "typ": "JWT", "x5t#S256": cert.x5t_s256()}),
            &claims_for(&e, "6"),
        ),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    assert_eq!(b["error"], "invalid_client");
}

#[tokio::test]
async fn a_replayed_jti_is_refused_unless_replay_checks_are_off() {
    let cert = certs::generate("cert-app");
    let e = start_with_cert(&cert).await;
    let a = cert.sign_jwt(&ps256_header(&cert), &claims_for(&e, "same-jti"));
    assert_eq!(redeem(&e, CERT_CLIENT, &a).await.0, 200);
    let (s, b) = redeem(&e, CERT_CLIENT, &a).await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 50_012);

    let lenient = Emulator::start(
        setup()
            .assertion_replay_check(false)
            .app(App::new(TENANT, CERT_CLIENT).certificate_der(&cert.certificate_der)),
    )
    .await
    .unwrap();
    let a = cert.sign_jwt(&ps256_header(&cert), &claims_for(&lenient, "same-jti"));
    assert_eq!(redeem(&lenient, CERT_CLIENT, &a).await.0, 200);
    assert_eq!(redeem(&lenient, CERT_CLIENT, &a).await.0, 200);
}

#[tokio::test]
async fn assertion_type_is_required_and_public_clients_must_not_send_credentials() {
    let cert = certs::generate("cert-app");
    let e = start_with_cert(&cert).await;
    let a = cert.sign_jwt(&ps256_header(&cert), &claims_for(&e, "x"));
    let (s, _, b) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CERT_CLIENT),
            ("grant_type", "client_credentials"),
            ("client_assertion", &a),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_request", 900_144);
    let (s, _, b) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", auth_testkit::AZURE_CLI_CLIENT_ID),
            ("grant_type", "client_credentials"),
            ("client_secret", "x"),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_025);
}

#[tokio::test]
async fn federated_assertion_from_a_registered_issuer_and_subject() {
    let e = Emulator::start(
        setup().app(App::new(TENANT, FED_CLIENT).federated(FED_ISSUER, FED_SUBJECT)),
    )
    .await
    .unwrap();
    let ok = certs::federated_token(
        FED_ISSUER,
        FED_SUBJECT,
        "api://AzureADTokenExchange",
        now(),
        600,
    );
    let (s, b) = redeem(&e, FED_CLIENT, &ok).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(claims(b["access_token"].as_str().unwrap())["appidacr"], "2");
    // Platforms reuse their token: that is fine.
    assert_eq!(redeem(&e, FED_CLIENT, &ok).await.0, 200);
    for (token, code) in [
        (
            certs::federated_token(
                "https://other.issuer",
                FED_SUBJECT,
                "api://AzureADTokenExchange",
                now(),
                600,
            ),
            700_211,
        ),
        (
            certs::federated_token(
                FED_ISSUER,
                "repo:contoso/ml:pull_request",
                "api://AzureADTokenExchange",
                now(),
                600,
            ),
            700_213,
        ),
        (
            certs::federated_token(FED_ISSUER, FED_SUBJECT, "api://something-else", now(), 600),
            700_212,
        ),
    ] {
        let (s, b) = redeem(&e, FED_CLIENT, &token).await;
        assert_entra_error(&e, s, &b, 400, "invalid_request", code);
    }
    let expired = certs::federated_token(
        FED_ISSUER,
        FED_SUBJECT,
        "api://AzureADTokenExchange",
        now(),
        -3600,
    );
    let (s, b) = redeem(&e, FED_CLIENT, &expired).await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 700_024);
    let (s, b) = redeem(&e, FED_CLIENT, "not-a-jwt").await;
    assert_entra_error(&e, s, &b, 400, "invalid_request", 50_027);
}

#[tokio::test]
async fn the_certs_helpers_produce_accepted_assertions() {
    use auth_testkit::certs::AssertionAlg;
    let cert = certs::generate("cert-app");
    let e = start_with_cert(&cert).await;
    for alg in [AssertionAlg::Ps256, AssertionAlg::Rs256] {
        let a = cert.client_assertion(CERT_CLIENT, &e.token_url(TENANT), e.now(), alg);
        let (s, b) = redeem(&e, CERT_CLIENT, &a).await;
        assert_eq!(s, 200, "{alg:?}: {b}");
    }
    let e = Emulator::start(
        setup().app(App::new(TENANT, FED_CLIENT).federated(FED_ISSUER, FED_SUBJECT)),
    )
    .await
    .unwrap();
    let t = certs::federated_token(
        FED_ISSUER,
        FED_SUBJECT,
        "api://AzureADTokenExchange",
        e.now(),
        3600,
    );
    assert_eq!(redeem(&e, FED_CLIENT, &t).await.0, 200);
}

#[tokio::test]
async fn extreme_exp_and_nbf_are_judged_without_overflow() {
    let cert = certs::generate("cert-app");
    let e = Emulator::start(
        setup()
            .app(
                App::new(TENANT, CERT_CLIENT)
                    .object_id(CERT_APP_OID)
                    .certificate_pem(&cert.certificate_pem),
            )
            .app(App::new(TENANT, FED_CLIENT).federated(FED_ISSUER, FED_SUBJECT)),
    )
    .await
    .unwrap();
    let h = ps256_header(&cert);
    // (exp, nbf, accepted): far bounds saturate (the service does not cap `exp`).
    let cases = [
        (json!(i64::MAX), json!(now()), true),
        (json!(1e300), json!(now()), true),
        (json!(now() + 600), json!(i64::MIN), true),
        (json!(now() + 600), json!(-1e300), true),
        (json!(i64::MIN), json!(now()), false),
        (json!(-1e300), json!(now()), false),
        (json!(i64::MAX), json!(i64::MAX), false),
        (json!(i64::MAX), json!(1e300), false),
    ];
    for (i, (exp, nbf, accepted)) in cases.into_iter().enumerate() {
        let mut c = claims_for(&e, &format!("extreme-{i}"));
        c["exp"] = exp.clone();
        c["nbf"] = nbf.clone();
        let (s, b) = redeem(&e, CERT_CLIENT, &cert.sign_jwt(&h, &c)).await;
        let fed = json!({"iss": FED_ISSUER, "sub": FED_SUBJECT, "aud": "api://AzureADTokenExchange", "exp": exp, "nbf": nbf});
        let fed = format!(
            "{}.{}.{}",
            b64(&json!({"alg": "RS256", "typ": "JWT"})),
            b64(&fed),
            URL_SAFE_NO_PAD.encode(b"external-signature")
        );
        let (fs, fb) = redeem(&e, FED_CLIENT, &fed).await;
        if accepted {
            assert_eq!(s, 200, "case {i}: {b}");
            assert_eq!(fs, 200, "case {i}: {fb}");
        } else {
            assert_entra_error(&e, s, &b, 401, "invalid_client", 700_024);
            assert_entra_error(&e, fs, &fb, 401, "invalid_client", 700_024);
        }
    }
}
