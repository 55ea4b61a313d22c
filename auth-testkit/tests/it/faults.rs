//! Fault injection: every fault kind, on Entra and ARM endpoints.

use std::time::{Duration, Instant};

use auth_testkit::{Endpoint, Fault};

use crate::common::*;

fn cc() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", CLIENT),
        ("grant_type", "client_credentials"),
        ("client_secret", SECRET),
        ("scope", ARM_SCOPE),
    ]
}

#[tokio::test]
async fn status_429_with_retry_after_then_200() {
    let e = start().await;
    e.inject(
        Endpoint::Token,
        [Fault::Status {
            status: 429,
            retry_after: Some(7),
        }],
    );
    let (s, h, b) = post_form(&e.token_url(TENANT), &cc()).await;
    assert_eq!(s, 429);
    assert_eq!(h["retry-after"], "7");
    assert_entra_error(&e, s, &b, 429, "temporarily_unavailable", 50_196);
    let (s, _, b) = post_form(&e.token_url(TENANT), &cc()).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn status_503_is_temporarily_unavailable_and_500_server_error() {
    let e = start().await;
    e.inject(
        Endpoint::Token,
        [
            Fault::Status {
                status: 503,
                retry_after: None,
            },
            Fault::Status {
                status: 500,
                retry_after: None,
            },
        ],
    );
    let (s, h, b) = post_form(&e.token_url(TENANT), &cc()).await;
    assert_eq!(b["error"], "temporarily_unavailable");
    assert_eq!(s, 503);
    assert!(!h.contains_key("retry-after"));
    let (s, _, b) = post_form(&e.token_url(TENANT), &cc()).await;
    assert_eq!((s, b["error"].as_str()), (500, Some("server_error")));
}

#[tokio::test]
async fn arm_status_fault_has_the_arm_error_envelope() {
    let e = start().await;
    let token = app_token(&e, ARM_SCOPE).await;
    e.inject(
        Endpoint::ArmWorkspaces,
        [Fault::Status {
            status: 429,
            retry_after: Some(1),
        }],
    );
    let (s, h, b) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    assert_eq!(s, 429);
    assert_eq!(h["retry-after"], "1");
    assert_eq!(b["error"]["code"], "TooManyRequests");
    let (s, _, _) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn delay_then_normal_handling() {
    let e = start().await;
    e.inject(Endpoint::Token, [Fault::Delay(Duration::from_millis(150))]);
    let t = Instant::now();
    let (s, _, _) = post_form(&e.token_url(TENANT), &cc()).await;
    assert_eq!(s, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn malformed_json() {
    let e = start().await;
    e.inject(Endpoint::Token, [Fault::MalformedJson]);
    let resp = client()
        .post(e.token_url(TENANT))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&cc()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body = resp.bytes().await.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
}

#[tokio::test]
async fn truncated_body_fails_the_read() {
    let e = start().await;
    e.inject(Endpoint::Token, [Fault::TruncatedBody]);
    let resp = client()
        .post(e.token_url(TENANT))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&cc()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.bytes().await.is_err(),
        "the body ends before Content-Length"
    );
}

#[tokio::test]
async fn oversized_body() {
    let e = start().await;
    e.inject(Endpoint::Token, [Fault::OversizedBody(2 * 1024 * 1024)]);
    let resp = client()
        .post(e.token_url(TENANT))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&cc()))
        .send()
        .await
        .unwrap();
    let body = resp.bytes().await.unwrap();
    assert!(body.len() >= 2 * 1024 * 1024 - 64);
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
}

#[tokio::test]
async fn connection_reset() {
    let e = start().await;
    e.inject(Endpoint::Token, [Fault::ConnectionReset]);
    let err = client()
        .post(e.token_url(TENANT))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&cc()))
        .send()
        .await;
    assert!(err.is_err(), "{err:?}");
    let (s, _, _) = post_form(&e.token_url(TENANT), &cc()).await;
    assert_eq!(s, 200, "next request is normal");
}

#[tokio::test]
async fn html_error_page() {
    let e = start().await;
    e.inject(Endpoint::Any, [Fault::HtmlErrorPage]);
    let resp = client()
        .get(workspace_url(&e, SUB, RG, WS))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 502);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(resp.text().await.unwrap().contains("<html>"));
}

#[tokio::test]
async fn faults_are_per_endpoint() {
    let e = start().await;
    e.inject(
        Endpoint::OpenIdConfiguration,
        [Fault::Status {
            status: 500,
            retry_after: None,
        }],
    );
    let (s, _, _) = post_form(&e.token_url(TENANT), &cc()).await;
    assert_eq!(s, 200);
    let (s, _, _) = get(
        &format!(
            "{}/{TENANT}/v2.0/.well-known/openid-configuration",
            e.authority_host()
        ),
        None,
    )
    .await;
    assert_eq!(s, 500);
}

#[tokio::test]
async fn arm_401_fault_carries_a_challenge_and_requests_to_counts_retries() {
    let e = start().await;
    let token = app_token(&e, ARM_SCOPE).await;
    e.inject(
        Endpoint::ArmWorkspaces,
        [
            Fault::Status {
                status: 401,
                retry_after: None,
            },
            Fault::Status {
                status: 503,
                retry_after: Some(0),
            },
        ],
    );
    let (s, h, b) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("AuthenticationFailed"))
    );
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer authorization_uri=")
    );
    let (s, _, _) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    assert_eq!(s, 503);
    let (s, _, _) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(e.requests_to(Endpoint::ArmWorkspaces).len(), 3);
    assert_eq!(e.requests_to(Endpoint::Token).len(), 1);
}
