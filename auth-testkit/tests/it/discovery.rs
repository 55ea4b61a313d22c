//! OpenID configuration (protocol-entra.md §1.3).

use crate::common::*;

#[tokio::test]
async fn openid_configuration_per_tenant() {
    let e = start().await;
    let base = e.authority_host();
    let (status, _, doc) = get(
        &format!("{base}/{TENANT}/v2.0/.well-known/openid-configuration"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/devicecode")
    );
    assert_eq!(doc["issuer"], format!("{base}/{TENANT}/v2.0"));
    // By domain: the canonical tenant (GUID) appears in the endpoints.
    let (_, _, doc) = get(
        &format!("{base}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"),
        None,
    )
    .await;
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/token")
    );
    // Multi-tenant segments keep the placeholder issuer.
    let (_, _, doc) = get(
        &format!("{base}/organizations/v2.0/.well-known/openid-configuration"),
        None,
    )
    .await;
    assert_eq!(doc["issuer"], format!("{base}/{{tenantid}}/v2.0"));
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/organizations/oauth2/v2.0/token")
    );
}

#[tokio::test]
async fn unknown_tenant_gets_invalid_tenant_90002() {
    let e = start().await;
    let (status, _, body) = get(
        &format!(
            "{}/88888888-8888-4888-8888-888888888888/v2.0/.well-known/openid-configuration",
            e.authority_host()
        ),
        None,
    )
    .await;
    assert_entra_error(&e, status, &body, 400, "invalid_tenant", 90_002);
    assert!(body["error_description"].as_str().unwrap().starts_with(
        "AADSTS90002: Tenant '88888888-8888-4888-8888-888888888888' not found. Check to make sure you have the correct tenant ID"
    ));
}
