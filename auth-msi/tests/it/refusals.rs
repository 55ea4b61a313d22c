//! Configurations a source cannot serve, and refusals from the sources: clear errors, never a
//! silent system-assigned token.

use std::collections::HashMap;

use auth_core::{ErrorKind, TokenRequest};
use auth_msi::{
    ManagedIdentityCredential, ManagedIdentityOptions, ManagedIdentitySource, UserAssignedId,
};

use crate::common::*;

fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_source_that_cannot_select_the_id_is_a_configuration_error() {
    let aml = env_of(&[
        ("MSI_ENDPOINT", "http://127.0.0.1:46808/MSI/auth"),
        ("MSI_SECRET", "s"),
    ]);
    let shell = env_of(&[("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")]);
    let sf = env_of(&[
        (
            "IDENTITY_ENDPOINT",
            "https://127.0.0.1:2377/metadata/identity/oauth2/token",
        ),
        ("IDENTITY_HEADER", "h"),
        (
            "IDENTITY_SERVER_THUMBPRINT",
            "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67",
        ),
    ]);
    for (env, id, expected) in [
        (
            &aml,
            UserAssignedId::ObjectId("o-1".into()),
            "Azure ML compute selects a user-assigned identity by client id only, but the user-assigned identity with object id o-1 was requested",
        ),
        (
            &aml,
            UserAssignedId::ResourceId("/r/1".into()),
            "by client id only, but the user-assigned identity with resource id /r/1",
        ),
        (
            &shell,
            UserAssignedId::ClientId("c-1".into()),
            "Cloud Shell always uses the signed-in user's identity",
        ),
        (
            &sf,
            UserAssignedId::ClientId("c-1".into()),
            "Service Fabric uses the identity the cluster assigns",
        ),
    ] {
        let e = ManagedIdentityCredential::from_env(
            env,
            ManagedIdentityOptions::new().user_assigned(id),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
        assert!(e.to_string().contains(expected), "{e}");
        assert!(
            e.to_string().starts_with("managed identity credential: "),
            "{e}"
        );
    }
}

#[test]
fn endpoints_must_be_https_or_local() {
    let e = ManagedIdentityCredential::from_env(
        &env_of(&[
            ("IDENTITY_ENDPOINT", "http://10.0.0.4:8081/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ]),
        ManagedIdentityOptions::new(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
    let e = ManagedIdentityCredential::from_env(
        &env_of(&[]),
        ManagedIdentityOptions::new().imds_endpoint("http://imds.example/token"),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
    let e = ManagedIdentityCredential::from_env(
        &env_of(&[]),
        ManagedIdentityOptions::new().user_assigned(UserAssignedId::ClientId(" ".into())),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
}

#[tokio::test]
async fn exactly_one_scope() {
    let w = start("scopes").await;
    let c =
        ManagedIdentityCredential::from_env(&env(&w.emu, ManagedIdentitySource::Imds), options(&w))
            .unwrap();
    let two = TokenRequest::for_scopes([ARM, "https://ml.azure.com/.default"]).unwrap();
    let e = c.get_token(&two).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
    assert!(
        e.message().contains("exactly one resource, but 2 scopes"),
        "{e}"
    );
    assert!(w.emu.requests().is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_refused() {
    let w = start("wrong-secret").await;
    for source in [
        ManagedIdentitySource::AppService,
        ManagedIdentitySource::AzureMl,
    ] {
        let mut env = env(&w.emu, source);
        for v in ["IDENTITY_HEADER", "MSI_SECRET"] {
            if env.contains_key(v) {
                env.insert(v.into(), "not-the-secret".into());
            }
        }
        let c = ManagedIdentityCredential::from_env(&env, options(&w)).unwrap();
        let e = c.get_token(&arm()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
        assert_eq!(e.status(), Some(401));
        assert!(!e.to_string().contains("not-the-secret"), "{e}");
    }
}

#[tokio::test]
async fn app_service_unknown_identity_names_it() {
    let w = start("app-unknown").await;
    let c = ManagedIdentityCredential::from_env(
        &env(&w.emu, ManagedIdentitySource::AppService),
        options(&w).user_assigned(UserAssignedId::ResourceId("/subscriptions/x/nope".into())),
    )
    .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert_eq!(e.status(), Some(400));
    assert!(
        e.to_string()
            .contains("resource id /subscriptions/x/nope is not assigned"),
        "{e}"
    );
}

#[tokio::test]
async fn arc_key_files_outside_the_agent_directory_are_refused() {
    let w = start("arc-elsewhere").await;
    let elsewhere = temp_dir("arc-allowed");
    let c = ManagedIdentityCredential::from_env(
        &env(&w.emu, ManagedIdentitySource::AzureArc),
        options(&w).arc_key_directory(&elsewhere),
    )
    .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(
        e.message().contains("not in the agent's token directory"),
        "{e}"
    );
    assert_eq!(w.emu.requests().len(), 1, "the key was not sent");
}

#[test]
fn a_malformed_thumbprint_is_a_configuration_error() {
    let e = ManagedIdentityCredential::from_env(
        &env_of(&[
            (
                "IDENTITY_ENDPOINT",
                "https://127.0.0.1:2377/metadata/identity/oauth2/token",
            ),
            ("IDENTITY_HEADER", "h"),
            ("IDENTITY_SERVER_THUMBPRINT", "not-a-thumbprint"),
        ]),
        ManagedIdentityOptions::new(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
    assert!(e.message().contains("40 hex digits"), "{e}");
}

#[tokio::test]
async fn a_legacy_arc_agent_that_does_not_confirm_the_identity_fails_closed() {
    let w = start_with("arc-legacy", |s| s.arc_legacy_agent(true)).await;
    let c = ManagedIdentityCredential::from_env(
        &env(&w.emu, ManagedIdentitySource::AzureArc),
        options(&w).user_assigned(UserAssignedId::ClientId(USER_CLIENT.into())),
    )
    .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(
        e.message().contains(&format!("did not confirm that the token is for the user-assigned identity with client id {USER_CLIENT}")),
        "{e}"
    );
    // The system-assigned identity still works with that agent.
    let c = ManagedIdentityCredential::from_env(
        &env(&w.emu, ManagedIdentitySource::AzureArc),
        options(&w),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
}
