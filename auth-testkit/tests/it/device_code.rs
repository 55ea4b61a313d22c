//! Device code flow (protocol-entra.md §5).

use std::time::Duration;

use auth_testkit::{AZURE_CLI_CLIENT_ID, Emulator};
use serde_json::Value;

use crate::common::*;

const SCOPE: &str = "https://management.core.windows.net//.default offline_access openid profile";

async fn start_flow(e: &Emulator) -> Value {
    let (s, _, b) = post_form(
        &format!(
            "{}/organizations/oauth2/v2.0/devicecode",
            e.authority_host()
        ),
        &[("client_id", AZURE_CLI_CLIENT_ID), ("scope", SCOPE)],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b
}

async fn poll(e: &Emulator, device_code: &str) -> (u16, Value) {
    let (s, _, b) = post_form(
        &format!("{}/organizations/oauth2/v2.0/token", e.authority_host()),
        &[
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_info", "1"),
            ("code", device_code),
            ("device_code", device_code),
        ],
    )
    .await;
    (s, b)
}

#[tokio::test]
async fn device_code_response_members() {
    let e = start().await;
    let b = start_flow(&e).await;
    let user_code = b["user_code"].as_str().unwrap();
    let uri = format!("{}/devicelogin", e.authority_host());
    assert_eq!(b["verification_uri"], uri);
    assert_eq!(b["expires_in"], 900);
    assert_eq!(b["interval"], 5);
    assert!(b["device_code"].as_str().unwrap().len() > 40);
    assert_eq!(
        b["message"],
        format!(
            "To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."
        )
    );
}

#[tokio::test]
async fn pending_slow_down_then_approved_on_the_page() {
    let e = start().await;
    let b = start_flow(&e).await;
    let dc = b["device_code"].as_str().unwrap();
    let (s, b2) = poll(&e, dc).await;
    assert_entra_error(&e, s, &b2, 400, "authorization_pending", 70_016);
    let (s, b2) = poll(&e, dc).await;
    assert_eq!((s, b2["error"].as_str()), (400, Some("slow_down")));
    // Approve on the verification page, as a person would.
    let resp = client()
        .post(format!("{}/devicelogin", e.authority_host()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("otc", b["user_code"].as_str().unwrap()),
            ("username", USER),
            ("password", PASSWORD),
            ("action", "approve"),
        ]))
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("You have signed in"), "{html}");
    e.advance_clock(Duration::from_secs(10));
    let (s, t) = poll(&e, dc).await;
    assert_eq!(s, 200, "{t}");
    assert!(t["refresh_token"].is_string() && t["id_token"].is_string());
    assert_eq!(claims(t["access_token"].as_str().unwrap())["oid"], USER_OID);
    let (s, b2) = poll(&e, dc).await;
    assert_eq!((s, b2["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn declined_expired_and_unknown_codes() {
    let e = Emulator::start(setup().device_code_interval(Duration::ZERO))
        .await
        .unwrap();
    let b = start_flow(&e).await;
    assert_eq!(b["interval"], 0);
    assert!(e.decline_device_code(b["user_code"].as_str().unwrap()));
    let (s, b2) = poll(&e, b["device_code"].as_str().unwrap()).await;
    assert_entra_error(&e, s, &b2, 400, "authorization_declined", 70_000);

    let b = start_flow(&e).await;
    e.advance_clock(Duration::from_secs(901));
    let (s, b2) = poll(&e, b["device_code"].as_str().unwrap()).await;
    assert_entra_error(&e, s, &b2, 400, "expired_token", 70_019);
    assert!(!e.approve_device_code(b["user_code"].as_str().unwrap(), USER));

    let (s, b2) = poll(&e, "no-such-code").await;
    assert_entra_error(&e, s, &b2, 400, "bad_verification_code", 70_000);
}

#[tokio::test]
async fn approve_helper_and_confidential_clients() {
    let e = Emulator::start(setup().device_code_interval(Duration::ZERO))
        .await
        .unwrap();
    let b = start_flow(&e).await;
    assert!(e.approve_device_code(b["user_code"].as_str().unwrap(), USER));
    let (s, _) = poll(&e, b["device_code"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    // A confidential app without public client flows cannot start a device flow.
    let (s, _, b) = post_form(
        &format!("{}/{TENANT}/oauth2/v2.0/devicecode", e.authority_host()),
        &[("client_id", CLIENT), ("scope", SCOPE)],
    )
    .await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 7_000_218);
    let (s, _, b) = post_form(
        &format!("{}/{TENANT}/oauth2/v2.0/devicecode", e.authority_host()),
        &[("client_id", AZURE_CLI_CLIENT_ID)],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_request", 900_144);
}
