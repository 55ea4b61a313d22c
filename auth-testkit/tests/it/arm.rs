//! ARM workspace GET/list and token checks (protocol-msi-cli-arm.md §6.3–§6.5).

use std::time::Duration;

use auth_testkit::{Emulator, Workspace};

use crate::common::*;

fn assert_arm_error(
    status: u16,
    body: &serde_json::Value,
    expected_status: u16,
    code: &str,
) -> String {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned()
}

#[tokio::test]
async fn workspace_get_with_an_app_token_returns_the_workspace_body() {
    let e = start().await;
    let token = app_token(&e, ARM_SCOPE).await;
    let (status, headers, ws) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    assert_eq!(status, 200, "{ws}");
    assert!(
        headers.contains_key("x-ms-request-id")
            && headers.contains_key("x-ms-correlation-request-id")
    );
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
    );
    assert_eq!(ws["id"], id);
    assert_eq!(ws["name"], WS);
    assert_eq!(ws["type"], "Microsoft.MachineLearningServices/workspaces");
    assert_eq!(ws["location"], "eastus2");
    assert_eq!(
        ws["sku"],
        serde_json::json!({"name": "Basic", "tier": "Basic"})
    );
    assert_eq!(ws["identity"]["type"], "SystemAssigned");
    assert_eq!(ws["identity"]["tenantId"], TENANT);
    assert!(ws["tags"].is_object());
    let p = &ws["properties"];
    assert_eq!(p["workspaceId"], "66666666-6666-4666-8666-666666666666");
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(
        p["discoveryUrl"],
        "https://eastus2.api.azureml.ms/discovery"
    );
    for f in ["keyVault", "storageAccount", "applicationInsights"] {
        assert!(
            p[f].as_str().unwrap().starts_with(&format!(
                "/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
            )),
            "{f}"
        );
    }
    assert!(p["creationTime"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn both_arm_audiences_are_accepted_and_names_are_case_insensitive() {
    let e = start().await;
    for scope in [
        "https://management.azure.com/.default",
        "https://management.azure.com//.default",
        "https://management.core.windows.net//.default",
    ] {
        let token = app_token(&e, scope).await;
        let (status, _, body) = get(
            &workspace_url(&e, SUB, &RG.to_uppercase(), &WS.to_uppercase()),
            Some(&token),
        )
        .await;
        assert_eq!(status, 200, "{scope}: {body}");
    }
}

#[tokio::test]
async fn missing_malformed_and_wrong_audience_tokens_are_401_with_www_authenticate() {
    let e = start().await;
    let url = workspace_url(&e, SUB, RG, WS);
    let (s, h, b) = get(&url, None).await;
    let msg = assert_arm_error(s, &b, 401, "AuthenticationFailed");
    assert_eq!(
        msg,
        "Authentication failed. The 'Authorization' header is missing."
    );
    let www = h["www-authenticate"].to_str().unwrap();
    assert!(www.starts_with(&format!("Bearer authorization_uri=\"{}/{TENANT}\", error=\"invalid_token\", error_description=\"", e.authority_host())), "{www}");

    let (s, h, b) = get(&url, Some("not-a-jwt")).await;
    assert_arm_error(s, &b, 401, "InvalidAuthenticationToken");
    assert!(h.contains_key("www-authenticate"));

    let ml = app_token(&e, "https://ml.azure.com/.default").await;
    let (s, _, b) = get(&url, Some(&ml)).await;
    let msg = assert_arm_error(s, &b, 401, "InvalidAuthenticationToken");
    assert!(msg.starts_with("The access token has been obtained for wrong audience or resource 'https://ml.azure.com'."), "{msg}");

    // A token from another emulator (another signing key) is invalid here.
    let other = Emulator::start(setup()).await.unwrap();
    let foreign = app_token(&other, ARM_SCOPE).await;
    let (s, _, b) = get(&url, Some(&foreign)).await;
    assert_arm_error(s, &b, 401, "InvalidAuthenticationToken");
}

#[tokio::test]
async fn expired_token_is_expired_authentication_token() {
    let e = start().await;
    let token = app_token(&e, ARM_SCOPE).await;
    e.advance_clock(Duration::from_secs(3600));
    let (s, h, b) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    let msg = assert_arm_error(s, &b, 401, "ExpiredAuthenticationToken");
    assert!(
        msg.starts_with("The access token expiry UTC time '")
            && msg.contains("' is earlier than current UTC time '"),
        "{msg}"
    );
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn not_found_codes_and_messages() {
    let e = start().await;
    let token = e.mint_token(USER_OID, "https://management.azure.com/");
    let (s, _, b) = get(&workspace_url(&e, SUB, RG, "nope"), Some(&token)).await;
    let msg = assert_arm_error(s, &b, 404, "ResourceNotFound");
    assert_eq!(
        msg,
        "The Resource 'Microsoft.MachineLearningServices/workspaces/nope' under resource group 'rg-ml' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    );
    let (s, _, b) = get(&workspace_url(&e, SUB, "rg-none", WS), Some(&token)).await;
    assert_eq!(
        assert_arm_error(s, &b, 404, "ResourceGroupNotFound"),
        "Resource group 'rg-none' could not be found."
    );
    let other_sub = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    let (s, _, b) = get(&workspace_url(&e, other_sub, RG, WS), Some(&token)).await;
    assert_eq!(
        assert_arm_error(s, &b, 404, "SubscriptionNotFound"),
        format!("The subscription '{other_sub}' could not be found.")
    );
}

#[tokio::test]
async fn missing_api_version_is_refused() {
    let e = start().await;
    let token = app_token(&e, ARM_SCOPE).await;
    let url = workspace_url(&e, SUB, RG, WS).replace("?api-version=2022-05-01", "");
    let (s, _, b) = get(&url, Some(&token)).await;
    assert_arm_error(s, &b, 400, "MissingApiVersionParameter");
    let url = workspace_url(&e, SUB, RG, WS).replace("2022-05-01", "1999-01-01");
    let (s, _, b) = get(&url, Some(&token)).await;
    assert_arm_error(s, &b, 400, "NoRegisteredProviderFound");
}

#[tokio::test]
async fn no_role_is_403_authorization_failed_naming_action_and_scope_then_a_runtime_grant_fixes_it()
{
    let e = Emulator::start(setup().workspace(Workspace::new(SUB, "rg-other", "ws2")))
        .await
        .unwrap();
    let token = app_token(&e, ARM_SCOPE).await;
    let (s, h, b) = get(&workspace_url(&e, SUB, "rg-other", "ws2"), Some(&token)).await;
    let msg = assert_arm_error(s, &b, 403, "AuthorizationFailed");
    let scope = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-other/providers/Microsoft.MachineLearningServices/workspaces/ws2"
    );
    assert_eq!(
        msg,
        format!(
            "The client '{APP_OID}' with object id '{APP_OID}' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/read' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
        )
    );
    assert_eq!(h["x-ms-failure-cause"], "gateway");
    e.assign_role(APP_OID, "AzureML Data Scientist", &scope);
    let (s, _, _) = get(&workspace_url(&e, SUB, "rg-other", "ws2"), Some(&token)).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn user_403_names_the_upn() {
    let e = start().await;
    e.remove_role(USER_OID, "Contributor", &format!("/subscriptions/{SUB}"));
    let token = e.mint_token(USER_OID, "https://management.core.windows.net/");
    let (s, _, b) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    let msg = assert_arm_error(s, &b, 403, "AuthorizationFailed");
    assert!(
        msg.starts_with(&format!(
            "The client '{USER}' with object id '{USER_OID}' does not have authorization"
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn token_of_another_tenant_is_invalid_authentication_token_tenant() {
    let e = Emulator::start(
        setup().app(
            auth_testkit::App::new(OTHER_TENANT, "12121212-1212-4212-8212-121212121212")
                .object_id("13131313-1313-4313-8313-131313131313"),
        ),
    )
    .await
    .unwrap();
    let token = e.mint_token(
        "13131313-1313-4313-8313-131313131313",
        "https://management.azure.com/",
    );
    let (s, h, b) = get(&workspace_url(&e, SUB, RG, WS), Some(&token)).await;
    let msg = assert_arm_error(s, &b, 401, "InvalidAuthenticationTokenTenant");
    assert!(msg.starts_with(&format!("The access token is from the wrong issuer 'https://sts.windows.net/{OTHER_TENANT}/'. It must match the tenant 'https://sts.windows.net/{TENANT}/'")), "{msg}");
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .contains(&format!("/{TENANT}\""))
    );
}

#[tokio::test]
async fn list_by_resource_group_and_subscription_with_paging() {
    let mut s = setup().arm_page_size(2);
    for i in 0..4 {
        s = s.workspace(Workspace::new(SUB, RG, &format!("extra{i}")));
    }
    s = s.workspace(Workspace::new(SUB, "rg-b", "other"));
    let e = Emulator::start(s).await.unwrap();
    let token = e.mint_token(USER_OID, "https://management.azure.com/");
    let mut url = format!(
        "{}subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces?api-version=2022-05-01",
        e.arm_endpoint()
    );
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let (st, _, b) = get(&url, Some(&token)).await;
        assert_eq!(st, 200, "{b}");
        pages += 1;
        names.extend(
            b["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["name"].as_str().unwrap().to_owned()),
        );
        match b.get("nextLink").and_then(|v| v.as_str()) {
            Some(next) => {
                assert!(
                    next.starts_with(&e.arm_endpoint()) && next.contains("api-version=2022-05-01"),
                    "{next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["ws1", "extra0", "extra1", "extra2", "extra3"]);
    let url = format!(
        "{}subscriptions/{SUB}/providers/Microsoft.MachineLearningServices/workspaces?api-version=2024-04-01",
        e.arm_endpoint()
    );
    let (st, _, b) = get(&url, Some(&token)).await;
    assert_eq!(st, 200);
    assert_eq!(b["value"].as_array().unwrap().len(), 2);
    assert!(b["nextLink"].is_string());
}

#[tokio::test]
async fn list_is_filtered_to_what_the_caller_may_read() {
    let e = Emulator::start(setup().workspace(Workspace::new(SUB, "rg-b", "hidden")))
        .await
        .unwrap();
    let token = app_token(&e, ARM_SCOPE).await; // Reader on rg-ml only
    let url = format!(
        "{}subscriptions/{SUB}/providers/Microsoft.MachineLearningServices/workspaces?api-version=2022-05-01",
        e.arm_endpoint()
    );
    let (st, _, b) = get(&url, Some(&token)).await;
    assert_eq!(st, 200, "{b}");
    let names: Vec<&str> = b["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [WS]);
    let url = format!(
        "{}subscriptions/{SUB}/resourceGroups/rg-b/providers/Microsoft.MachineLearningServices/workspaces?api-version=2022-05-01",
        e.arm_endpoint()
    );
    let (st, _, b) = get(&url, Some(&token)).await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");
}

#[tokio::test]
async fn subscriptions_list_shows_the_callers_subscriptions() {
    let e = start().await;
    let token = app_token(&e, ARM_SCOPE).await;
    let (st, _, b) = get(
        &format!("{}subscriptions?api-version=2022-12-01", e.arm_endpoint()),
        Some(&token),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["value"][0]["subscriptionId"], SUB);
    assert_eq!(b["value"][0]["tenantId"], TENANT);
    assert_eq!(b["value"][0]["state"], "Enabled");
}

#[tokio::test]
async fn a_skip_token_past_the_end_gives_an_empty_last_page() {
    let e = Emulator::start(setup().arm_page_size(2)).await.unwrap();
    let token = e.mint_token(USER_OID, "https://management.azure.com/");
    for skip in ["5", "18446744073709551615"] {
        let url = format!(
            "{}subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces?api-version=2022-05-01&$skipToken={skip}",
            e.arm_endpoint()
        );
        let (st, _, b) = get(&url, Some(&token)).await;
        assert_eq!(st, 200, "{b}");
        assert_eq!(b["value"], serde_json::json!([]), "{b}");
        assert!(b.get("nextLink").is_none(), "{b}");
    }
}
