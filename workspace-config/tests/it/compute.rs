//! Starting and stopping a compute instance against the emulator: refused without the role,
//! allowed once it is assigned, a claims challenge, a missing compute.

use auth_core::ErrorKind;
use auth_core::http::{HttpClient, ReqwestClient};
use auth_testkit::{Emulator, Endpoint};
use workspace_config::{ArmError, ComputeAction, NotFoundCode, Workspace};

use crate::{AppIds, READER, STEP_UP, SUB, client, emulator, ws_id};

const START: &str = "Microsoft.MachineLearningServices/workspaces/computes/start/action";
/// The principal the tests create computes with (Contributor on the subscription).
const BUILDER: &str = "0b1ec700-0000-4000-8000-0000000000ff";

fn ws() -> Workspace {
    Workspace::new(SUB, "rg-ml", "ws-a").unwrap()
}

fn compute_id(name: &str) -> String {
    format!("{}/computes/{name}", ws_id(SUB, "rg-ml", "ws-a"))
}

/// Creates the compute `name` of type `compute_type` in `ws-a` (a PUT as another principal).
async fn create_compute(emu: &Emulator, name: &str, compute_type: &str) {
    emu.assign_role(BUILDER, "Contributor", &format!("/subscriptions/{SUB}"));
    let token = emu.mint_token(BUILDER, "https://management.core.windows.net/");
    let body = serde_json::json!({"properties": {"computeType": compute_type}});
    let request = http::Request::put(format!(
        "{}{}?api-version=2022-05-01",
        emu.arm_endpoint().trim_end_matches('/'),
        compute_id(name)
    ))
    .header("authorization", format!("Bearer {token}"))
    .header("content-type", "application/json")
    .body(body.to_string().into_bytes())
    .unwrap();
    let resp = ReqwestClient::new().send(request).await.unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
    emu.clear_requests();
}

/// Gives `app` the least-privileged role that starts and stops the computes of `ws-a`.
fn allow_compute(emu: &Emulator, app: AppIds) {
    emu.assign_role(
        app.1,
        "AzureML Compute Operator",
        &ws_id(SUB, "rg-ml", "ws-a"),
    );
}

/// The compute requests the client sent: (method, path).
fn compute_requests(emu: &Emulator) -> Vec<(String, String)> {
    emu.requests_to(Endpoint::ArmComputes)
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

#[tokio::test]
async fn refused_then_allowed_once_the_role_is_assigned() {
    let emu = emulator().await;
    create_compute(&emu, "ci1", "ComputeInstance").await;
    // Reader on the subscription may read the workspace, not start its computes.
    let c = client(&emu, READER, 0);
    let e = c.start_compute(&ws(), "ci1").await.unwrap_err();
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
    assert_eq!(action.as_deref(), Some(START));
    assert_eq!(scope.as_deref(), Some(compute_id("ci1").as_str()));
    assert_eq!(client_oid.as_deref(), Some(READER.1));
    assert_eq!(info.compute_id.as_deref(), Some(compute_id("ci1").as_str()));
    assert!(info.correlation_id.is_some());
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    assert!(
        e.to_string().starts_with(&format!(
            "not authorized to perform {START} over {} (HTTP 403 AuthorizationFailed)",
            compute_id("ci1")
        )),
        "{e}"
    );

    allow_compute(&emu, READER);
    emu.clear_requests();
    let op = c.start_compute(&ws(), "ci1").await.unwrap();
    assert_eq!(op.action, ComputeAction::Start);
    assert_eq!(op.compute_id, compute_id("ci1"));
    assert_eq!(op.status, "Succeeded");
    let sent = compute_requests(&emu);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        sent[0],
        ("POST".to_owned(), format!("{}/start", compute_id("ci1")))
    );
    assert_eq!(sent[1].0, "GET");
    assert!(sent[1].1.contains("/computeOperationsStatus/"), "{sent:?}");
    let post = &emu.requests_to(Endpoint::ArmComputes)[0];
    assert_eq!(
        post.query,
        vec![("api-version".to_owned(), "2022-05-01".to_owned())]
    );

    let op = c.stop_compute(&ws(), "ci1").await.unwrap();
    assert_eq!(
        (op.action, op.status.as_str()),
        (ComputeAction::Stop, "Succeeded")
    );
}

#[tokio::test]
async fn a_claims_challenge_is_answered_once() {
    let emu = emulator().await;
    create_compute(&emu, "ci1", "ComputeInstance").await;
    allow_compute(&emu, STEP_UP);
    let c = client(&emu, STEP_UP, 0);
    let op = c.start_compute(&ws(), "ci1").await.unwrap();
    assert_eq!(op.status, "Succeeded");
    // One token without claims, one with them (which the credential then keeps for the poll).
    let tokens = emu.requests_to(Endpoint::Token);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(tokens[0].form_field("claims"), None);
    assert!(tokens[1].form_field("claims").is_some());
    let methods: Vec<String> = compute_requests(&emu).into_iter().map(|r| r.0).collect();
    assert_eq!(methods, ["POST", "POST", "GET"]);
}

#[tokio::test]
async fn a_missing_compute_is_not_found() {
    let emu = emulator().await;
    allow_compute(&emu, READER);
    let c = client(&emu, READER, 0);
    let e = c.stop_compute(&ws(), "nope").await.unwrap_err();
    assert!(
        matches!(&e, ArmError::NotFound { code: NotFoundCode::ResourceNotFound, info } if info.compute_id.as_deref() == Some(compute_id("nope").as_str())),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let shown = e.to_string();
    assert!(
        shown.starts_with("the compute or its workspace was not found (HTTP 404 ResourceNotFound)"),
        "{shown}"
    );
    assert!(shown.contains("computes/nope"), "{shown}");
}

#[tokio::test]
async fn only_compute_instances_start_and_invalid_names_are_not_sent() {
    let emu = emulator().await;
    create_compute(&emu, "cluster1", "AmlCompute").await;
    allow_compute(&emu, READER);
    let c = client(&emu, READER, 0);
    let e = c.start_compute(&ws(), "cluster1").await.unwrap_err();
    assert!(matches!(e, ArmError::BadRequest { .. }), "{e:?}");
    assert!(e.to_string().contains("compute instance"), "{e}");

    emu.clear_requests();
    let e = c.start_compute(&ws(), "../x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(emu.requests().is_empty());
}
