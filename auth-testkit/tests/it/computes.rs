//! ARM compute targets, RBAC actions and the claims challenge.

use auth_testkit::{Emulator, Policy};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::*;

fn compute_url(e: &Emulator, name: &str, suffix: &str) -> String {
    format!(
        "{}subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}/computes/{name}{suffix}?api-version=2024-04-01",
        e.arm_endpoint()
    )
}

async fn send(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client()
        .request(method, url)
        .header("authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let s = resp.status().as_u16();
    let h = resp.headers().clone();
    let b = resp.bytes().await.unwrap();
    (s, h, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

#[tokio::test]
async fn create_get_stop_start_delete_a_compute_instance() {
    let e = start().await;
    let token = e.mint_token(USER_OID, "https://management.azure.com/");
    let body = json!({"location": "eastus2", "properties": {"computeType": "ComputeInstance", "properties": {"vmSize": "STANDARD_DS3_V2"}}});
    let (s, h, b) = send(
        reqwest::Method::PUT,
        &compute_url(&e, "ci1", ""),
        &token,
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert!(
        h["azure-asyncoperation"]
            .to_str()
            .unwrap()
            .contains("/computeOperationsStatus/")
    );
    assert_eq!(b["properties"]["provisioningState"], "Creating");
    assert_eq!(
        b["type"],
        "Microsoft.MachineLearningServices/workspaces/computes"
    );
    let (s, _, op) = get(h["azure-asyncoperation"].to_str().unwrap(), Some(&token)).await;
    assert_eq!((s, op["status"].as_str()), (200, Some("Succeeded")));
    let (s, _, b) = get(&compute_url(&e, "ci1", ""), Some(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(b["properties"]["provisioningState"], "Succeeded");
    assert_eq!(b["properties"]["properties"]["state"], "Running");
    assert_eq!(b["properties"]["properties"]["vmSize"], "STANDARD_DS3_V2");
    let (s, _, _) = send(
        reqwest::Method::POST,
        &compute_url(&e, "ci1", "/stop"),
        &token,
        None,
    )
    .await;
    assert_eq!(s, 202);
    let (_, _, b) = get(&compute_url(&e, "ci1", ""), Some(&token)).await;
    assert_eq!(b["properties"]["properties"]["state"], "Stopped");
    let (s, _, _) = send(
        reqwest::Method::POST,
        &compute_url(&e, "ci1", "/start"),
        &token,
        None,
    )
    .await;
    assert_eq!(s, 202);
    let (s, _, b) = send(
        reqwest::Method::DELETE,
        &compute_url(&e, "ci1", ""),
        &token,
        None,
    )
    .await;
    assert_eq!(s, 400, "underlyingResourceAction is required: {b}");
    let url = compute_url(&e, "ci1", "") + "&underlyingResourceAction=Delete";
    let (s, _, _) = send(reqwest::Method::DELETE, &url, &token, None).await;
    assert_eq!(s, 202);
    let (s, _, b) = get(&compute_url(&e, "ci1", ""), Some(&token)).await;
    assert_eq!(s, 404);
    assert_eq!(b["error"]["code"], "ResourceNotFound");
    assert!(b["error"]["message"].as_str().unwrap().starts_with("The Resource 'Microsoft.MachineLearningServices/workspaces/ws1/computes/ci1' under resource group 'rg-ml' was not found."));
}

#[tokio::test]
async fn compute_actions_are_authorized_per_role() {
    let e = start().await;
    let token = e.mint_token(APP_OID, "https://management.azure.com/"); // Reader
    let body = json!({"properties": {"computeType": "AmlCompute"}});
    let (s, _, b) = send(
        reqwest::Method::PUT,
        &compute_url(&e, "cpu", ""),
        &token,
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, 403);
    let msg = b["error"]["message"].as_str().unwrap();
    assert!(msg.contains("to perform action 'Microsoft.MachineLearningServices/workspaces/computes/write' over scope '/subscriptions/"), "{msg}");
    assert!(
        msg.contains("/workspaces/ws1/computes/cpu' or the scope is invalid."),
        "{msg}"
    );
    let ws_scope = format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
    );
    e.assign_role(APP_OID, "AzureML Compute Operator", &ws_scope);
    let (s, _, _) = send(
        reqwest::Method::PUT,
        &compute_url(&e, "cpu", ""),
        &token,
        Some(body),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _, b) = send(
        reqwest::Method::POST,
        &compute_url(&e, "cpu", "/start"),
        &token,
        None,
    )
    .await;
    assert_eq!(s, 400, "start is for compute instances: {b}");
    let (s, _, b) = send(
        reqwest::Method::PUT,
        &compute_url(&e, "bad", ""),
        &token,
        Some(json!({"properties": {}})),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("ValidationError"))
    );
}

#[tokio::test]
async fn arm_claims_challenge_until_the_token_carries_the_claims() {
    let e = auth_testkit::Emulator::start(
        setup().conditional_access(Policy::arm_claims_challenge(CLIENT)),
    )
    .await
    .unwrap();
    let token = app_token(&e, ARM_SCOPE).await;
    let (s, h, b) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    assert_eq!(s, 401, "{b}");
    let www = h["www-authenticate"].to_str().unwrap();
    assert!(www.starts_with(&format!("Bearer authorization_uri=\"{}/{TENANT}/oauth2/authorize\", error=\"insufficient_claims\", claims=\"", e.authority_host())), "{www}");
    let claims_b64 = www.split("claims=\"").nth(1).unwrap().trim_end_matches('"');
    let claims_json = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(claims_b64)
            .unwrap(),
    )
    .unwrap();
    let (s, _, t) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
            ("claims", &claims_json),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let (s, _, _) = get(
        &workspace_url(&e, SUB, RG, WS),
        Some(t["access_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn put_with_non_object_inner_properties_is_invalid_request_content() {
    let e = start().await;
    let token = e.mint_token(USER_OID, "https://management.azure.com/");
    for (compute_type, inner) in [
        ("ComputeInstance", json!("STANDARD_DS3_V2")),
        ("AmlCompute", json!(4)),
        ("ComputeInstance", json!(["a"])),
        ("AmlCompute", json!(true)),
    ] {
        let body = json!({"location": "eastus2", "properties": {"computeType": compute_type, "properties": inner}});
        let (s, h, b) = send(
            reqwest::Method::PUT,
            &compute_url(&e, "bad1", ""),
            &token,
            Some(body),
        )
        .await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["error"]["code"], "InvalidRequestContent", "{b}");
        assert!(b["error"]["message"].is_string(), "{b}");
        assert!(h.contains_key("x-ms-request-id"));
    }
    let (s, _, b) = get(&compute_url(&e, "bad1", ""), Some(&token)).await;
    assert_eq!(s, 404, "nothing was created: {b}");
}
