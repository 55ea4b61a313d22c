//! The standalone sample setup works as the README says.

use auth_testkit::{AZURE_CLI_CLIENT_ID, Emulator, Setup, sample};

use crate::common::*;

#[tokio::test]
async fn readme_flow_token_then_workspace() {
    let e = Emulator::start(Setup::sample()).await.unwrap();
    let (s, _, b) = post_form(
        &e.token_url(sample::TENANT_ID),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", sample::CLIENT_ID),
            ("client_secret", sample::CLIENT_SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let url = workspace_url(
        &e,
        sample::SUBSCRIPTION_ID,
        sample::RESOURCE_GROUP,
        sample::WORKSPACE_NAME,
    );
    let (s, _, ws) = get(&url, b["access_token"].as_str()).await;
    assert_eq!(s, 200, "{ws}");
    assert_eq!(ws["properties"]["workspaceId"], sample::WORKSPACE_ID);
}

#[tokio::test]
async fn sample_user_signs_in_with_the_device_code_flow() {
    let e = Emulator::start(Setup::sample()).await.unwrap();
    let (_, _, flow) = post_form(
        &format!(
            "{}/organizations/oauth2/v2.0/devicecode",
            e.authority_host()
        ),
        &[
            ("client_id", AZURE_CLI_CLIENT_ID),
            (
                "scope",
                "https://management.core.windows.net//.default offline_access openid profile",
            ),
        ],
    )
    .await;
    assert!(e.approve_device_code(flow["user_code"].as_str().unwrap(), sample::USER_NAME));
    let (s, _, t) = post_form(
        &format!("{}/organizations/oauth2/v2.0/token", e.authority_host()),
        &[
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", flow["device_code"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let url = workspace_url(
        &e,
        sample::SUBSCRIPTION_ID,
        sample::RESOURCE_GROUP,
        sample::WORKSPACE_NAME,
    );
    assert_eq!(get(&url, t["access_token"].as_str()).await.0, 200);
}
