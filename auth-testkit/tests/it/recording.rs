//! Request recording and redaction.

use auth_testkit::{Endpoint, Service};

use crate::common::*;

#[tokio::test]
async fn every_request_is_recorded_with_form_fields_and_printing_redacts_secrets() {
    let e = start().await;
    let token = app_token(&e, ARM_SCOPE).await;
    let resp = client()
        .get(workspace_url(&e, SUB, RG, WS))
        .header("authorization", format!("Bearer {token}"))
        .header("x-ms-authorization-auxiliary", format!("Bearer {token}"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    let reqs = e.requests();
    assert_eq!(reqs.len(), 2);
    let t = &reqs[0];
    assert_eq!(t.service, Service::Entra);
    assert_eq!(t.endpoint, Some(Endpoint::Token));
    assert_eq!(t.method, "POST");
    assert_eq!(t.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(
        t.form_names(),
        [
            "client_id",
            "grant_type",
            "client_info",
            "client_secret",
            "scope"
        ]
    );
    assert_eq!(t.form_field("client_secret"), Some(SECRET));
    assert_eq!(
        t.header("client-request-id"),
        Some("0f8fad5b-d9cb-469f-a165-70867728950e")
    );
    let w = &reqs[1];
    assert_eq!(w.service, Service::Arm);
    assert_eq!(w.endpoint, Some(Endpoint::ArmWorkspaces));
    assert_eq!(w.query_param("api-version"), Some("2022-05-01"));
    let printed = format!("{t}\n{t:?}\n{w}\n{w:?}");
    assert!(!printed.contains(SECRET), "{printed}");
    assert!(!printed.contains(&token), "{printed}");
    assert!(printed.contains("client_secret=[redacted]"));
    assert!(printed.contains("x-ms-authorization-auxiliary: [redacted]"));
    e.clear_requests();
    assert!(e.requests().is_empty());
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413_and_not_recorded() {
    let e = start().await;
    let big = format!("client_id={CLIENT}&padding={}", "x".repeat(1 << 20));
    let resp = client()
        .post(e.token_url(TENANT))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 413);
    assert!(resp.text().await.unwrap().len() < 100);
    assert!(e.requests().is_empty());
    // The emulator keeps serving.
    let _ = app_token(&e, ARM_SCOPE).await;
}
