//! Shared fixtures and helpers.

use auth_testkit::{App, Emulator, Setup, Tenant, User, Workspace};
use serde_json::Value;

pub(crate) const TENANT: &str = "11111111-1111-4111-8111-111111111111";
pub(crate) const OTHER_TENANT: &str = "99999999-9999-4999-8999-999999999999";
pub(crate) const CLIENT: &str = "22222222-2222-4222-8222-222222222222";
pub(crate) const APP_OID: &str = "33333333-3333-4333-8333-333333333333";
pub(crate) const SECRET: &str = "good-secret-value";
pub(crate) const OLD_SECRET: &str = "expired-secret-value";
pub(crate) const SUB: &str = "44444444-4444-4444-8444-444444444444";
pub(crate) const RG: &str = "rg-ml";
pub(crate) const WS: &str = "ws1";
pub(crate) const USER_OID: &str = "55555555-5555-4555-8555-555555555555";
pub(crate) const USER: &str = "alice@contoso.com";
pub(crate) const PASSWORD: &str = "alice-password";
pub(crate) const ARM_SCOPE: &str = "https://management.core.windows.net//.default";

/// A tenant, an app with a valid and an expired secret (Reader on the resource group), a
/// user, a workspace.
pub(crate) fn setup() -> Setup {
    Setup::new()
        .tenant(
            Tenant::new(TENANT)
                .domain("contoso.onmicrosoft.com")
                .display_name("Contoso"),
        )
        .tenant(Tenant::new(OTHER_TENANT))
        .app(
            App::new(TENANT, CLIENT)
                .object_id(APP_OID)
                .secret(SECRET)
                .expired_secret(OLD_SECRET),
        )
        .app(App::azure_cli())
        .user(
            User::new(TENANT, USER)
                .object_id(USER_OID)
                .password(PASSWORD),
        )
        .workspace(Workspace::new(SUB, RG, WS).workspace_id("66666666-6666-4666-8666-666666666666"))
        .role_assignment(
            APP_OID,
            "Reader",
            &format!("/subscriptions/{SUB}/resourceGroups/{RG}"),
        )
        .role_assignment(USER_OID, "Contributor", &format!("/subscriptions/{SUB}"))
}

pub(crate) async fn start() -> Emulator {
    Emulator::start(setup()).await.expect("emulator starts")
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// POSTs a form; returns status, headers and the JSON body (Null when not JSON).
pub(crate) async fn post_form(
    url: &str,
    pairs: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("client-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e")
        .body(form(pairs))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

pub(crate) async fn get(
    url: &str,
    bearer: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client().get(url);
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// Gets an app token with the client secret.
pub(crate) async fn app_token(e: &Emulator, scope: &str) -> String {
    let (status, _, body) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_info", "1"),
            ("client_secret", SECRET),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// Decodes a JWT's claims without verifying it.
pub(crate) fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

/// Checks the Entra error shape (protocol-entra.md §7.1) and returns the body.
pub(crate) fn assert_entra_error(
    e: &Emulator,
    status: u16,
    body: &Value,
    expected_status: u16,
    error: &str,
    code: u64,
) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    let desc = body["error_description"]
        .as_str()
        .expect("error_description");
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert!(desc.contains("\r\nTrace ID: "), "{desc}");
    assert!(desc.contains("\r\nCorrelation ID: "), "{desc}");
    assert!(desc.contains("\r\nTimestamp: "), "{desc}");
    assert_eq!(body["error_codes"], serde_json::json!([code]));
    let ts = body["timestamp"].as_str().expect("timestamp");
    assert_eq!(ts.len(), 20, "{ts}");
    assert!(ts.ends_with('Z') && &ts[10..11] == " ", "{ts}");
    assert_eq!(body["trace_id"].as_str().expect("trace_id").len(), 36);
    assert_eq!(
        body["correlation_id"]
            .as_str()
            .expect("correlation_id")
            .len(),
        36
    );
    assert_eq!(
        body["error_uri"],
        format!("{}/error?code={code}", e.authority_host())
    );
}

pub(crate) fn workspace_url(e: &Emulator, sub: &str, rg: &str, ws: &str) -> String {
    format!(
        "{}subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}?api-version=2022-05-01",
        e.arm_endpoint()
    )
}
