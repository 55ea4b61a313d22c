//! Get and list over ARM, and each ARM error, against the emulator.

use std::time::Duration;

use auth_core::ErrorKind;
use auth_testkit::{Endpoint, Fault, Service};
use workspace_config::{ArmError, NotFoundCode, Workspace};

use crate::{NOBODY, OTHER_SUB, OTHER_TENANT, READER, STEP_UP, SUB, client, emulator, ws_id};

fn arm_requests(emu: &auth_testkit::Emulator) -> Vec<auth_testkit::RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.service == Service::Arm)
        .collect()
}

fn token_requests(emu: &auth_testkit::Emulator) -> Vec<auth_testkit::RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Token))
        .collect()
}

#[tokio::test]
async fn get_returns_the_workspace() {
    let emu = emulator().await;
    let c = client(&emu, READER, 0);
    let ws = Workspace::new(SUB, "rg-ml", "ws-b").unwrap();
    let info = c.get(&ws).await.unwrap();
    assert_eq!(info.id, ws_id(SUB, "rg-ml", "ws-b"));
    assert_eq!(info.name, "ws-b");
    assert_eq!(info.location.as_deref(), Some("westeurope"));
    assert_eq!(info.friendly_name.as_deref(), Some("Friendly ws-b"));
    assert_eq!(info.provisioning_state.as_deref(), Some("Succeeded"));
    assert!(!info.workspace_id.is_empty());
    assert_eq!(
        info.discovery_url.as_deref(),
        Some("https://westeurope.api.azureml.ms/discovery")
    );
    assert_eq!(info.workspace().unwrap(), ws);

    // SDK v1's request: the ARM audience of v1 and api-version 2022-05-01.
    let tokens = token_requests(&emu);
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        tokens[0].form_field("scope"),
        Some("https://management.core.windows.net//.default")
    );
    let arm = arm_requests(&emu);
    assert_eq!(arm.len(), 1);
    assert_eq!(arm[0].method, "GET");
    assert_eq!(arm[0].path, format!("{}", ws_id(SUB, "rg-ml", "ws-b")));
    assert_eq!(
        arm[0].query,
        vec![("api-version".to_owned(), "2022-05-01".to_owned())]
    );

    // A second call reuses the cached token.
    c.get(&ws).await.unwrap();
    assert_eq!(token_requests(&emu).len(), 1);
}

#[tokio::test]
async fn list_by_resource_group_follows_next_link() {
    let emu = emulator().await;
    let c = client(&emu, READER, 0);
    let all = c.list_by_resource_group(SUB, "rg-ml").await.unwrap();
    let names: Vec<&str> = all.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["ws-a", "ws-b", "ws-c", "ws-d", "ws-e"]);
    // Pages of 2: three requests, the later ones with the emulator's skip token.
    let arm = arm_requests(&emu);
    assert_eq!(arm.len(), 3, "{arm:?}");
    assert!(
        arm[1]
            .query
            .iter()
            .any(|(k, v)| k == "$skipToken" && v == "2")
    );
    assert!(
        arm[2]
            .query
            .iter()
            .any(|(k, v)| k == "$skipToken" && v == "4")
    );
}

#[tokio::test]
async fn list_by_subscription_follows_next_link() {
    let emu = emulator().await;
    let c = client(&emu, READER, 0);
    let all = c.list_by_subscription(SUB).await.unwrap();
    let mut names: Vec<&str> = all.iter().map(|w| w.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["ws-a", "ws-b", "ws-c", "ws-d", "ws-e", "ws-x"]);
    assert_eq!(arm_requests(&emu).len(), 3);
    // The bound on pages is enforced against a real server too.
    let e = c
        .with_max_pages(2)
        .list_by_subscription(SUB)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("more than 2 pages"), "{e}");
}

#[tokio::test]
async fn forbidden_names_the_action_and_scope() {
    let emu = emulator().await;
    let c = client(&emu, NOBODY, 0);
    let e = c
        .get(&Workspace::new(SUB, "rg-ml", "ws-a").unwrap())
        .await
        .unwrap_err();
    let ArmError::AuthorizationFailed {
        action,
        scope,
        client_oid,
        info,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        action.as_deref(),
        Some("Microsoft.MachineLearningServices/workspaces/read")
    );
    assert_eq!(scope.as_deref(), Some(ws_id(SUB, "rg-ml", "ws-a").as_str()));
    assert_eq!(client_oid.as_deref(), Some(NOBODY.1));
    assert_eq!(info.status, 403);
    assert!(info.correlation_id.is_some());
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!(
            "not authorized to perform Microsoft.MachineLearningServices/workspaces/read over {} (HTTP 403 AuthorizationFailed); grant '{}' a role",
            ws_id(SUB, "rg-ml", "ws-a"),
            NOBODY.1
        )),
        "{shown}"
    );
    let core: auth_core::Error = e.into();
    assert_eq!(core.kind(), ErrorKind::Forbidden);
    assert_eq!(core.status(), Some(403));

    // A list the identity may not see at all: the same error at the resource group's scope.
    let e = c.list_by_resource_group(SUB, "rg-ml").await.unwrap_err();
    assert!(
        matches!(&e, ArmError::AuthorizationFailed { scope: Some(s), .. } if *s == format!("/subscriptions/{SUB}/resourceGroups/rg-ml")),
        "{e:?}"
    );
}

async fn not_found(sub: &str, rg: &str, name: &str) -> ArmError {
    let emu = emulator().await;
    let c = client(&emu, READER, 0);
    c.get(&Workspace::new(sub, rg, name).unwrap())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn each_not_found() {
    let cases = [
        (
            SUB,
            "rg-ml",
            "ws-missing",
            NotFoundCode::ResourceNotFound,
            "the workspace was not found (HTTP 404 ResourceNotFound)",
        ),
        (
            SUB,
            "rg-missing",
            "ws-a",
            NotFoundCode::ResourceGroupNotFound,
            "the resource group was not found (HTTP 404 ResourceGroupNotFound)",
        ),
        (
            "5ab5c000-0000-4000-8000-0000000000ff",
            "rg-ml",
            "ws-a",
            NotFoundCode::SubscriptionNotFound,
            "the subscription was not found (HTTP 404 SubscriptionNotFound)",
        ),
    ];
    for (sub, rg, name, want, text) in cases {
        let e = not_found(sub, rg, name).await;
        assert!(
            matches!(&e, ArmError::NotFound { code, .. } if *code == want),
            "{sub}/{rg}/{name}: {e:?}"
        );
        assert!(e.to_string().starts_with(text), "{e}");
        assert_eq!(auth_core::Error::from(e).kind(), ErrorKind::NotFound);
    }
    // A list in a resource group that does not exist.
    let emu = emulator().await;
    let e = client(&emu, READER, 0)
        .list_by_resource_group(SUB, "rg-missing")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ArmError::NotFound {
                code: NotFoundCode::ResourceGroupNotFound,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_claims_challenge_is_answered_once() {
    let emu = emulator().await;
    let c = client(&emu, STEP_UP, 0);
    let info = c
        .get(&Workspace::new(SUB, "rg-ml", "ws-a").unwrap())
        .await
        .unwrap();
    assert_eq!(info.name, "ws-a");
    // One token without claims, one with the challenge's claims; the first GET refused.
    let tokens = token_requests(&emu);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(tokens[0].form_field("claims"), None);
    let claims: serde_json::Value =
        serde_json::from_str(tokens[1].form_field("claims").expect("claims sent")).unwrap();
    assert_eq!(
        claims["access_token"]["acrs"],
        serde_json::json!({"essential": true, "value": "c1"})
    );
    assert_eq!(arm_requests(&emu).len(), 2);
}

#[tokio::test]
async fn throttling_is_retried_with_retry_after() {
    let emu = emulator().await;
    let c = client(&emu, READER, 2);
    emu.inject(
        Endpoint::ArmWorkspaces,
        [Fault::Status {
            status: 429,
            retry_after: Some(1),
        }],
    );
    let started = std::time::Instant::now();
    let info = c
        .get(&Workspace::new(SUB, "rg-ml", "ws-a").unwrap())
        .await
        .unwrap();
    assert_eq!(info.name, "ws-a");
    assert_eq!(arm_requests(&emu).len(), 2);
    // Retry-After (1 s) was honoured rather than the 10 ms backoff.
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn throttling_beyond_the_budget_is_reported() {
    let emu = emulator().await;
    let c = client(&emu, READER, 1);
    emu.inject(
        Endpoint::ArmWorkspaces,
        [
            Fault::Status {
                status: 429,
                retry_after: Some(1),
            },
            Fault::Status {
                status: 429,
                retry_after: Some(1),
            },
        ],
    );
    let e = c
        .get(&Workspace::new(SUB, "rg-ml", "ws-a").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ArmError::Throttled { retry_after: Some(d), .. } if *d == Duration::from_secs(1)),
        "{e:?}"
    );
    assert_eq!(arm_requests(&emu).len(), 2);
    let core: auth_core::Error = e.into();
    assert_eq!(core.kind(), ErrorKind::Service);
    assert_eq!(core.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn a_subscription_of_another_tenant_names_that_tenant() {
    let emu = emulator().await;
    let c = client(&emu, READER, 0);
    let e = c
        .get(&Workspace::new(OTHER_SUB, "rg-far", "ws-far").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ArmError::Unauthenticated { expected_tenant: Some(t), claims: None, .. } if t == OTHER_TENANT),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(
        e.to_string()
            .contains(&format!("belongs to tenant {OTHER_TENANT}")),
        "{e}"
    );
}

#[tokio::test]
async fn server_errors_are_retried() {
    let emu = emulator().await;
    let c = client(&emu, READER, 2);
    emu.inject(
        Endpoint::ArmWorkspaces,
        [
            Fault::Status {
                status: 503,
                retry_after: None,
            },
            Fault::HtmlErrorPage,
        ],
    );
    let all = c.list_by_resource_group(SUB, "rg-other").await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(arm_requests(&emu).len(), 3);
}

#[tokio::test]
async fn get_by_name_searches_the_subscription() {
    let emu = emulator().await;
    let c = client(&emu, READER, 0);
    let info = c.get_by_name(SUB, None, "WS-X").await.unwrap();
    assert_eq!(info.id, ws_id(SUB, "rg-other", "ws-x"));
    let e = c.get_by_name(SUB, None, "ws-none").await.unwrap_err();
    assert_eq!(auth_core::Error::from(e).kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn no_secret_or_token_in_debug_display_or_errors() {
    let emu = emulator().await;
    let c = client(&emu, NOBODY, 0);
    let e = c
        .get(&Workspace::new(SUB, "rg-ml", "ws-a").unwrap())
        .await
        .unwrap_err();
    let token_sent = arm_requests(&emu)[0]
        .header("authorization")
        .expect("a bearer token")
        .trim_start_matches("Bearer ")
        .to_owned();
    let core: auth_core::Error = e.clone().into();
    for text in [
        format!("{c:?}"),
        format!("{e:?}"),
        e.to_string(),
        format!("{core:?}"),
        core.to_string(),
    ] {
        assert!(!text.contains(NOBODY.2), "secret in {text}");
        assert!(!text.contains(&token_sent), "token in {text}");
        assert!(!text.contains("eyJ"), "a JWT in {text}");
    }
}
