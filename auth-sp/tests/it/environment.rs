//! Construction from the environment and from sdk-auth files, end to end.

use std::collections::HashMap;

use auth_core::ErrorKind;
use auth_sp::{EnvironmentCredential, ServicePrincipalCredential, ServicePrincipalOptions};

use crate::common::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn options() -> ServicePrincipalOptions {
    ServicePrincipalOptions::new().pipeline(pipeline())
}

#[tokio::test]
async fn every_variable_family_gets_a_token() {
    let emu = start().await;
    let host = emu.authority_host();
    let cert = fixture_path("cert.p12");
    let cert = cert.to_str().unwrap();
    let families: [&[(&str, &str)]; 4] = [
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_SECRET", SECRET),
        ],
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_CERTIFICATE_PATH", cert),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD),
            ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true"),
        ],
        &[
            ("AZUREML_SERVICE_PRINCIPAL_TENANT_ID", TENANT),
            ("AZUREML_SERVICE_PRINCIPAL_ID", CLIENT),
            ("AZUREML_SERVICE_PRINCIPAL_PASSWORD", SECRET),
        ],
        &[
            ("AML_TENANT_ID", TENANT),
            ("AML_PRINCIPAL_ID", CLIENT),
            ("AML_PRINCIPAL_PASS", SECRET),
        ],
    ];
    for pairs in families {
        let mut pairs = pairs.to_vec();
        pairs.push(("AZURE_AUTHORITY_HOST", &host));
        let c = EnvironmentCredential::from_env(&env(&pairs), options());
        c.get_token(&arm())
            .await
            .unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
    }
    let reqs = token_requests(&emu);
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].form_field("client_secret"), Some(SECRET));
    let (header, _) = jwt_parts(reqs[1].form_field("client_assertion").unwrap());
    assert_eq!(header["x5c"].as_array().unwrap().len(), 2);
    assert_secret_only_in(
        &[reqs[0].clone(), reqs[2].clone(), reqs[3].clone()],
        SECRET,
        "client_secret",
    );
}

#[tokio::test]
async fn sdk_auth_file_utf16_gets_a_token() {
    let emu = start().await;
    let json = serde_json::json!({
        "clientId": CLIENT,
        "clientSecret": SECRET,
        "subscriptionId": "5ab5c000-0000-4000-8000-000000000004",
        "tenantId": TENANT,
        "activeDirectoryEndpointUrl": emu.authority_host(),
        "resourceManagerEndpointUrl": emu.arm_endpoint(),
        "activeDirectoryGraphResourceId": "https://graph.windows.net/",
        "sqlManagementEndpointUrl": "https://management.core.windows.net:8443/",
        "galleryEndpointUrl": "https://gallery.azure.com/",
        "managementEndpointUrl": "https://management.core.windows.net/"
    });
    let text = serde_json::to_string_pretty(&json).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let dir = temp_dir("sdk-auth");
    let path = dir.join("azure.json");
    std::fs::write(&path, utf16).unwrap();
    let c = ServicePrincipalCredential::from_sdk_auth_file(&path, options()).unwrap();
    c.get_token(&arm()).await.unwrap();
    let c = ServicePrincipalCredential::from_env(
        &env(&[("AZURE_AUTH_LOCATION", path.to_str().unwrap())]),
        options(),
    )
    .unwrap();
    c.get_token(&arm().with_claims("{}")).await.unwrap();
    assert_eq!(token_requests(&emu).len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn nothing_set_is_unavailable_and_partial_is_configuration() {
    let c = EnvironmentCredential::from_env(&env(&[("AZURE_CLIENT_ID", CLIENT)]), options());
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let c = EnvironmentCredential::from_env(&env(&[("AML_PRINCIPAL_PASS", SECRET)]), options());
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(
        e.to_string()
            .contains("AML_TENANT_ID, AML_PRINCIPAL_ID not set"),
        "{e}"
    );
    assert!(!format!("{e} {e:?} {c:?}").contains(SECRET));
}
