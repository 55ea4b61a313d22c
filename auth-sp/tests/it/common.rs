//! What every test shares: the world, fast pipelines, recorded-request helpers.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::http::RetryPolicy;
use auth_core::{Pipeline, TokenRequest};
use auth_sp::ServicePrincipalOptions;
use auth_testkit::{App, Emulator, Endpoint, RecordedRequest, Setup, Tenant};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

pub(crate) const TENANT: &str = "72f988bf-0000-4000-8000-00000000a001";
pub(crate) const TENANT_2: &str = "72f988bf-0000-4000-8000-00000000a002";
pub(crate) const CLIENT: &str = "a11ce000-0000-4000-8000-00000000c001";
pub(crate) const SECRET: &str = "Sp~Secret.Value_0123456789-abcdefXYZ";
pub(crate) const EXPIRED_SECRET: &str = "Sp~Expired.Value_0123456789-abcdef";
pub(crate) const PASSWORD: &str = "fixture-password";
pub(crate) const ISSUER: &str =
    "https://oidc.prod-aks.example/11111111-2222-3333-4444-555555555555/";
pub(crate) const SUBJECT: &str = "system:serviceaccount:ml:trainer";
pub(crate) const ARM: &str = "https://management.core.windows.net/";

pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// The app with a secret, an expired secret, the fixture certificate and a federated
/// credential, in two tenants.
pub(crate) fn setup() -> Setup {
    let cert = String::from_utf8(fixture("cert.pem")).unwrap();
    Setup::new()
        .tenant(Tenant::new(TENANT).domain("contoso.onmicrosoft.com"))
        .tenant(Tenant::new(TENANT_2))
        .app(
            App::new(TENANT, CLIENT)
                .secret(SECRET)
                .expired_secret(EXPIRED_SECRET)
                .certificate_pem(&cert)
                .federated(ISSUER, SUBJECT)
                .multi_tenant(),
        )
        // MSAL reuses one assertion for up to 540 s and Entra accepts it (§3.3).
        .assertion_replay_check(false)
}

pub(crate) async fn start() -> Emulator {
    Emulator::start(setup()).await.unwrap()
}

/// A fast retry policy: 10 ms backoff, 3 retries, waits up to 2 s.
pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        max_total: Duration::from_secs(5),
        jitter: 0.0,
    }
}

/// The shared pipeline with the fast retry policy and a 2 s timeout.
pub(crate) fn pipeline() -> Pipeline {
    Pipeline::shared()
        .with_retry(fast_retry())
        .with_timeout(Duration::from_secs(2))
}

/// Options pointing at the emulator.
pub(crate) fn options(emu: &Emulator) -> ServicePrincipalOptions {
    ServicePrincipalOptions::new()
        .authority_host(&emu.authority_host())
        .unwrap()
        .pipeline(pipeline())
}

pub(crate) fn arm() -> TokenRequest {
    TokenRequest::for_resource(ARM).unwrap()
}

pub(crate) fn token_requests(emu: &Emulator) -> Vec<RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Token))
        .collect()
}

pub(crate) fn token_url(emu: &Emulator, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", emu.authority_host())
}

/// The header and claims of a compact JWS.
pub(crate) fn jwt_parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut next = || -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap()
    };
    (next(), next())
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The whole second the credential's clock may still report now: `SystemClock` reads whole
/// seconds from the coarse real-time clock, which trails the precise one by up to a tick (a few
/// milliseconds), so right after a second boundary it can still give the previous second.
pub(crate) fn earliest_clock_second() -> u64 {
    (SystemTime::now() - std::time::Duration::from_millis(50))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An external identity provider's token (the emulator checks issuer, subject, audience and
/// time, not the signature).
pub(crate) fn federated_token(subject: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#);
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": subject, "aud": ["api://AzureADTokenExchange"],
        "iat": now(), "nbf": now(), "exp": now() + 3600,
        "jti": SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos().to_string(),
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

/// Asserts that `secret` appears in the recorded requests only as the value of `field`.
pub(crate) fn assert_secret_only_in(requests: &[RecordedRequest], secret: &str, field: &str) {
    assert!(!requests.is_empty());
    for r in requests {
        assert!(!r.path.contains(secret), "path {}", r.path);
        for (k, v) in &r.query {
            assert!(!v.contains(secret), "query {k}");
        }
        for (k, v) in &r.headers {
            assert!(!v.contains(secret), "header {k}");
        }
        for (k, v) in &r.form {
            if k == field {
                assert_eq!(v, secret, "the field {field} holds exactly the secret");
            } else {
                assert!(!v.contains(secret), "form field {k}");
            }
        }
        let shown = format!("{r:?} {r}");
        assert!(
            !shown.contains(secret),
            "the emulator's own Debug/Display redact it"
        );
    }
}

/// A unique temporary directory for one test.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auth-sp-it-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
