//! The ARM client against a scripted transport (the injected HTTP boundary).
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use auth_core::http::{HttpClient, HttpFuture, HttpRequest, RetryPolicy, Sleep};
use auth_core::{
    AccessToken, Cloud, ErrorKind, Pipeline, Secret, TokenCredential, TokenFuture, TokenRequest,
    TokenType,
};

use super::*;
use crate::{ArmError, ComputeAction, NotFoundCode, Workspace};

/// Hands out `tok-1`, `tok-2`, … and records each request's scopes and claims.
#[derive(Debug, Default)]
struct CountingCredential {
    seen: Mutex<Vec<(String, Option<String>)>>,
}

impl TokenCredential for CountingCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(async move {
            let mut seen = self.seen.lock().unwrap();
            seen.push((
                request.scopes().to_form_value(),
                request.claims().map(str::to_owned),
            ));
            Ok(AccessToken::from_lifetime(
                Secret::new(format!("tok-{}", seen.len())),
                TokenType::Bearer,
                SystemTime::now(),
                Duration::from_secs(3600),
                None,
            ))
        })
    }
    fn name(&self) -> &'static str {
        "counting credential"
    }
}

/// A scripted response: status, headers, body.
type Canned = (u16, Vec<(&'static str, String)>, String);

/// Answers scripted responses in order and records (url, authorization) of each request.
#[derive(Default)]
struct Script {
    responses: Mutex<VecDeque<Canned>>,
    requests: Mutex<Vec<(String, String)>>,
}

impl Script {
    fn new(responses: Vec<Canned>) -> Arc<Self> {
        Arc::new(Self {
            responses: Mutex::new(responses.into()),
            requests: Mutex::default(),
        })
    }
    fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }
}

impl HttpClient for Script {
    fn send(&self, request: HttpRequest) -> HttpFuture<'_> {
        let auth = request
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(request.headers()["authorization"].is_sensitive());
        assert_eq!(request.headers()["accept"], "application/json");
        self.requests
            .lock()
            .unwrap()
            .push((request.uri().to_string(), auth));
        let (status, headers, body) = self
            .responses
            .lock()
            .unwrap()
            .pop_front()
            .expect("a scripted response");
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(k, v);
        }
        let resp = b.body(body.into_bytes()).unwrap();
        Box::pin(async move { Ok(resp) })
    }
}

#[derive(Debug)]
struct NoSleep;

impl Sleep for NoSleep {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        // The pipeline's timeout timer is also a sleep: never let it fire in these tests.
        if d >= Duration::from_secs(5) {
            Box::pin(std::future::pending())
        } else {
            Box::pin(async {})
        }
    }
}

const WS_ID: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

fn ws_json(name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/{name}"),
        "name": name, "location": "eastus2",
        "properties": {"workspaceId": format!("guid-{name}"), "discoveryUrl": "https://eastus2.api.azureml.ms/discovery"}
    })
}

fn ok(body: serde_json::Value) -> Canned {
    (200, vec![], body.to_string())
}

fn arm_error(status: u16, code: &str) -> Canned {
    (
        status,
        vec![],
        serde_json::json!({"error": {"code": code, "message": "m"}}).to_string(),
    )
}

fn challenge() -> Canned {
    (
        401,
        vec![(
            "www-authenticate",
            r#"Bearer authorization_uri="https://login.microsoftonline.com/t/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzAwMDAwMDAwIn19fQ==""#.to_owned(),
        )],
        serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": "revoked"}})
            .to_string(),
    )
}

const CLAIMS: &str = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;

fn client(script: &Arc<Script>) -> (WorkspaceClient, Arc<CountingCredential>) {
    let cred = Arc::new(CountingCredential::default());
    let pipeline = Pipeline::new(script.clone(), Arc::new(NoSleep)).with_retry(RetryPolicy {
        initial_delay: Duration::from_millis(1),
        max_retries: 2,
        ..RetryPolicy::default()
    });
    (
        WorkspaceClient::new(cred.clone(), Cloud::public(), pipeline),
        cred,
    )
}

fn ws() -> Workspace {
    Workspace::new("s", "rg", "ws").unwrap()
}

#[tokio::test]
async fn get_sends_sdk_v1_request() {
    let script = Script::new(vec![ok(ws_json("ws"))]);
    let (c, cred) = client(&script);
    let info = c.get(&ws()).await.unwrap();
    assert_eq!(info.id, WS_ID);
    assert_eq!(info.workspace_id, "guid-ws");
    assert_eq!(
        info.discovery_url.as_deref(),
        Some("https://eastus2.api.azureml.ms/discovery")
    );
    assert_eq!(
        script.requests(),
        vec![(
            format!("https://management.azure.com{WS_ID}?api-version=2022-05-01"),
            "Bearer tok-1".to_owned()
        )]
    );
    assert_eq!(
        cred.seen.lock().unwrap().clone(),
        vec![(
            "https://management.core.windows.net//.default".to_owned(),
            None
        )]
    );
}

#[tokio::test]
async fn names_are_percent_encoded() {
    let script = Script::new(vec![ok(ws_json("ws"))]);
    let (c, _) = client(&script);
    c.get(&Workspace::new("s", "rg (1)", "wś").unwrap())
        .await
        .unwrap();
    assert!(
        script.requests()[0]
            .0
            .ends_with("/resourceGroups/rg%20%281%29/providers/Microsoft.MachineLearningServices/workspaces/w%C5%9B?api-version=2022-05-01"),
        "{:?}",
        script.requests()
    );
}

#[tokio::test]
async fn claims_challenge_is_answered_once() {
    let script = Script::new(vec![challenge(), ok(ws_json("ws"))]);
    let (c, cred) = client(&script);
    c.get(&ws()).await.unwrap();
    let seen = cred.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].1, None);
    assert_eq!(seen[1].1.as_deref(), Some(CLAIMS));
    let auths: Vec<String> = script.requests().into_iter().map(|r| r.1).collect();
    assert_eq!(auths, vec!["Bearer tok-1", "Bearer tok-2"]);
}

#[tokio::test]
async fn a_second_challenge_is_not_answered() {
    let script = Script::new(vec![challenge(), challenge()]);
    let (c, cred) = client(&script);
    let e = c.get(&ws()).await.unwrap_err();
    assert!(
        matches!(&e, ArmError::Unauthenticated { claims: Some(c), .. } if c == CLAIMS),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::InteractionRequired);
    assert_eq!(script.requests().len(), 2);
    assert_eq!(cred.seen.lock().unwrap().len(), 2);
    let core: auth_core::Error = e.into();
    assert_eq!(core.claims(), Some(CLAIMS));
    assert_eq!(core.kind(), ErrorKind::InteractionRequired);
}

#[tokio::test]
async fn plain_401_is_not_retried() {
    let script = Script::new(vec![arm_error(401, "ExpiredAuthenticationToken")]);
    let (c, _) = client(&script);
    let e = c.get(&ws()).await.unwrap_err();
    assert!(
        matches!(e, ArmError::Unauthenticated { claims: None, .. }),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(script.requests().len(), 1);
}

#[tokio::test]
async fn not_found_variants() {
    for (code, want) in [
        ("ResourceNotFound", NotFoundCode::ResourceNotFound),
        ("ResourceGroupNotFound", NotFoundCode::ResourceGroupNotFound),
        ("SubscriptionNotFound", NotFoundCode::SubscriptionNotFound),
    ] {
        let script = Script::new(vec![arm_error(404, code)]);
        let (c, _) = client(&script);
        let e = c.get(&ws()).await.unwrap_err();
        assert!(
            matches!(&e, ArmError::NotFound { code, .. } if *code == want),
            "{e:?}"
        );
        assert_eq!(auth_core::Error::from(e).kind(), ErrorKind::NotFound);
    }
}

#[tokio::test]
async fn throttling_is_retried_then_reported() {
    let throttled = || {
        (
            429,
            vec![("retry-after", "0".to_owned())],
            serde_json::json!({"error": {"code": "TooManyRequests", "message": "slow"}})
                .to_string(),
        )
    };
    let script = Script::new(vec![throttled(), ok(ws_json("ws"))]);
    let (c, _) = client(&script);
    c.get(&ws()).await.unwrap();
    assert_eq!(script.requests().len(), 2);

    let script = Script::new(vec![throttled(), throttled(), throttled()]);
    let (c, _) = client(&script);
    let e = c.get(&ws()).await.unwrap_err();
    assert!(matches!(e, ArmError::Throttled { .. }), "{e:?}");
    assert_eq!(script.requests().len(), 3, "1 try + 2 retries");
}

fn page(names: &[&str], next: Option<&str>) -> Canned {
    let mut v = serde_json::json!({"value": names.iter().map(|n| ws_json(n)).collect::<Vec<_>>()});
    if let Some(n) = next {
        v["nextLink"] = n.into();
    }
    ok(v)
}

#[tokio::test]
async fn list_follows_next_link() {
    let base = "https://management.azure.com/subscriptions/s/providers/Microsoft.MachineLearningServices/workspaces?api-version=2022-05-01";
    let p2 = format!("{base}&$skiptoken=2");
    let p3 = format!("{base}&$skiptoken=3");
    let script = Script::new(vec![
        page(&["a", "b"], Some(&p2)),
        page(&["c"], Some(&p3)),
        page(&[], None),
    ]);
    let (c, _) = client(&script);
    let all = c.list_by_subscription("s").await.unwrap();
    let names: Vec<&str> = all.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let urls: Vec<String> = script.requests().into_iter().map(|r| r.0).collect();
    assert_eq!(urls, vec![base.to_owned(), p2, p3]);

    let script = Script::new(vec![page(&["a"], None)]);
    let (c, _) = client(&script);
    assert_eq!(c.list_by_resource_group("s", "rg").await.unwrap().len(), 1);
    assert_eq!(
        script.requests()[0].0,
        "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces?api-version=2022-05-01"
    );
}

#[tokio::test]
async fn list_guards() {
    // A nextLink to another host is not followed: the token would go there.
    let script = Script::new(vec![page(&["a"], Some("https://evil.example/next"))]);
    let (c, _) = client(&script);
    let e = c.list_by_subscription("s").await.unwrap_err();
    assert!(
        e.to_string()
            .contains("a nextLink to another host (https://evil.example)"),
        "{e}"
    );
    assert_eq!(script.requests().len(), 1);

    // A loop.
    let first = "https://management.azure.com/subscriptions/s/providers/Microsoft.MachineLearningServices/workspaces?api-version=2022-05-01";
    let script = Script::new(vec![page(&["a"], Some(first))]);
    let (c, _) = client(&script);
    let e = c.list_by_subscription("s").await.unwrap_err();
    assert!(e.to_string().contains("repeats an earlier page"), "{e}");

    // The page bound.
    let script = Script::new(vec![
        page(&["a"], Some("https://management.azure.com/p2")),
        page(&["b"], Some("https://management.azure.com/p3")),
    ]);
    let (c, _) = client(&script);
    let e = c
        .with_max_pages(2)
        .list_by_subscription("s")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("more than 2 pages"), "{e}");

    // A page that is not a list.
    let script = Script::new(vec![ok(serde_json::json!({"value": {"a": 1}}))]);
    let (c, _) = client(&script);
    let e = c.list_by_subscription("s").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service);

    // Invalid names are refused before anything is sent.
    let script = Script::new(vec![]);
    let (c, cred) = client(&script);
    let e = c.list_by_resource_group("s", "a/b").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(cred.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_workspace_of_another_cloud_is_refused() {
    let script = Script::new(vec![]);
    let (c, cred) = client(&script);
    let e = c.get(&ws().with_cloud(Cloud::china())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(e.to_string().contains("is in AzureChinaCloud"), "{e}");
    assert!(cred.seen.lock().unwrap().is_empty());
    assert!(script.requests().is_empty());
}

#[tokio::test]
async fn invalid_success_bodies() {
    let script = Script::new(vec![(200, vec![], "<html>".to_owned())]);
    let (c, _) = client(&script);
    let e = c.get(&ws()).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "ARM answered HTTP 200 with a body that is not JSON (6 bytes); check that the ARM endpoint is Azure Resource Manager of the right cloud"
    );
    let script = Script::new(vec![ok(serde_json::json!({"id": WS_ID, "name": "ws"}))]);
    let (c, _) = client(&script);
    let e = c.get(&ws()).await.unwrap_err();
    assert!(
        e.to_string().contains("without properties.workspaceId"),
        "{e}"
    );
}

#[test]
fn debug_shows_no_secret() {
    let script = Script::new(vec![]);
    let (c, _) = client(&script);
    assert_eq!(
        format!("{c:?}"),
        "WorkspaceClient { credential: \"counting credential\", cloud: \"AzureCloud\", arm_endpoint: \"https://management.azure.com/\", max_pages: 100, max_polls: 60, .. }"
    );
}

#[tokio::test]
async fn get_by_name_without_a_resource_group() {
    let in_rg = |rg: &str, name: &str| {
        let mut v = ws_json(name);
        v["id"] = format!(
            "/subscriptions/s/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name}"
        )
        .into();
        v
    };
    let list = |items: Vec<serde_json::Value>| ok(serde_json::json!({ "value": items }));

    let script = Script::new(vec![list(vec![in_rg("rg1", "a"), in_rg("rg2", "B")])]);
    let (c, _) = client(&script);
    let found = c.get_by_name("s", None, "b").await.unwrap();
    assert_eq!(found.workspace().unwrap().resource_group(), "rg2");

    let script = Script::new(vec![list(vec![in_rg("rg1", "a")])]);
    let (c, _) = client(&script);
    let e = c.get_by_name("s", None, "zz").await.unwrap_err();
    assert!(
        matches!(
            e,
            ArmError::NotFound {
                code: NotFoundCode::ResourceNotFound,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("no workspace named 'zz' is visible in subscription 's'"),
        "{e}"
    );

    let script = Script::new(vec![list(vec![in_rg("rg1", "a"), in_rg("rg2", "a")])]);
    let (c, _) = client(&script);
    let e = c.get_by_name("s", None, "a").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(
        e.to_string()
            .contains("(resource groups rg1, rg2); name the resource group too"),
        "{e}"
    );

    // With a resource group: the plain GET.
    let script = Script::new(vec![ok(ws_json("ws"))]);
    let (c, _) = client(&script);
    c.get_by_name("s", Some("rg"), "ws").await.unwrap();
    assert!(
        script.requests()[0]
            .0
            .contains("/workspaces/ws?api-version=")
    );
}

const COMPUTE_ID: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/ci1";
const OPERATION: &str = "https://management.azure.com/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus2/computeOperationsStatus/op1?api-version=2022-05-01";

/// ARM's 202 to a compute action, with the operation to follow at `operation`.
fn accepted(operation: &str) -> Canned {
    (
        202,
        vec![
            ("azure-asyncoperation", operation.to_owned()),
            ("retry-after", "0".to_owned()),
            ("x-ms-correlation-request-id", "corr-7".to_owned()),
        ],
        String::new(),
    )
}

fn op_status(status: &str) -> Canned {
    ok(serde_json::json!({"name": "op1", "status": status}))
}

#[tokio::test]
async fn start_compute_posts_then_follows_the_operation() {
    let script = Script::new(vec![
        accepted(OPERATION),
        op_status("InProgress"),
        op_status("Succeeded"),
    ]);
    let (c, cred) = client(&script);
    let op = c.start_compute(&ws(), "ci1").await.unwrap();
    assert_eq!(op.action, ComputeAction::Start);
    assert_eq!(op.compute_id, COMPUTE_ID);
    assert_eq!(op.status, "Succeeded");
    assert!(!op.in_progress());
    let urls: Vec<String> = script.requests().into_iter().map(|r| r.0).collect();
    assert_eq!(
        urls,
        vec![
            format!("https://management.azure.com{COMPUTE_ID}/start?api-version=2022-05-01"),
            OPERATION.to_owned(),
            OPERATION.to_owned(),
        ]
    );
    // A token (from the credential's cache, in real credentials) for each request, all for ARM.
    let seen = cred.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(
            |(scope, claims)| scope == "https://management.core.windows.net//.default"
                && claims.is_none()
        ),
        "{seen:?}"
    );
}

/// Any status but ARM's terminal ones (Succeeded, Failed, Canceled) keeps the polling going.
#[tokio::test]
async fn polling_goes_on_through_a_non_terminal_status() {
    let script = Script::new(vec![
        accepted(OPERATION),
        op_status("Updating"),
        op_status("Succeeded"),
    ]);
    let (c, _) = client(&script);
    let op = c.start_compute(&ws(), "ci1").await.unwrap();
    assert_eq!(op.status, "Succeeded");
    assert!(!op.in_progress());
    assert_eq!(script.requests().len(), 3);
}

#[tokio::test]
async fn compute_action_without_an_operation_to_follow() {
    let script = Script::new(vec![(202, vec![], String::new())]);
    let (c, _) = client(&script);
    let op = c.stop_compute(&ws(), "ci1").await.unwrap();
    assert_eq!(
        (op.action, op.status.as_str()),
        (ComputeAction::Stop, "Accepted")
    );
    assert!(
        script.requests()[0]
            .0
            .ends_with("/computes/ci1/stop?api-version=2022-05-01")
    );

    let script = Script::new(vec![(200, vec![], String::new())]);
    let (c, _) = client(&script);
    assert_eq!(
        c.stop_compute(&ws(), "ci1").await.unwrap().status,
        "Succeeded"
    );
}

#[tokio::test]
async fn an_operation_on_another_host_is_not_followed() {
    let script = Script::new(vec![accepted(
        "https://evil.example/operations/op1?api-version=2022-05-01",
    )]);
    let (c, _) = client(&script);
    let op = c.start_compute(&ws(), "ci1").await.unwrap();
    assert_eq!(op.status, "Accepted");
    assert_eq!(script.requests().len(), 1);
}

#[tokio::test]
async fn polling_is_bounded() {
    let script = Script::new(vec![
        accepted(OPERATION),
        op_status("InProgress"),
        op_status("InProgress"),
    ]);
    let (c, _) = client(&script);
    let op = c
        .with_max_polls(2)
        .start_compute(&ws(), "ci1")
        .await
        .unwrap();
    assert_eq!(op.status, "InProgress");
    assert!(op.in_progress());
    assert_eq!(script.requests().len(), 3);
}

#[tokio::test]
async fn a_failed_operation_is_an_error() {
    let failed = ok(serde_json::json!({
        "name": "op1", "status": "Failed",
        "error": {"code": "ComputeStartFailed", "message": "The VM could not be allocated."}
    }));
    let script = Script::new(vec![accepted(OPERATION), failed]);
    let (c, _) = client(&script);
    let e = c.start_compute(&ws(), "ci1").await.unwrap_err();
    let ArmError::OperationFailed {
        operation,
        status,
        info,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((operation.as_str(), status.as_str()), ("start", "Failed"));
    assert_eq!(info.code, "ComputeStartFailed");
    assert_eq!(info.compute_id.as_deref(), Some(COMPUTE_ID));
    assert_eq!(e.kind(), ErrorKind::Service);
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!(
            "the start operation on {COMPUTE_ID} ended Failed (ComputeStartFailed): The VM could not be allocated; "
        )),
        "{shown}"
    );

    let script = Script::new(vec![accepted(OPERATION), op_status("Canceled")]);
    let (c, _) = client(&script);
    let e = c.stop_compute(&ws(), "ci1").await.unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "the stop operation on {COMPUTE_ID} ended Canceled; "
        )),
        "{e}"
    );
}

#[tokio::test]
async fn an_operation_status_must_be_json_with_a_status() {
    for body in ["<html>", r#"{"name": "op1"}"#] {
        let script = Script::new(vec![accepted(OPERATION), (200, vec![], body.to_owned())]);
        let (c, _) = client(&script);
        let e = c.start_compute(&ws(), "ci1").await.unwrap_err();
        assert!(
            matches!(e, ArmError::InvalidResponse { status: 200, .. }),
            "{body}: {e:?}"
        );
    }
}

#[tokio::test]
async fn compute_errors_are_arm_errors_about_the_compute() {
    let action = "Microsoft.MachineLearningServices/workspaces/computes/start/action";
    let message = format!(
        "The client 'app' with object id 'oid' does not have authorization to perform action '{action}' over scope '{COMPUTE_ID}' or the scope is invalid."
    );
    let refused = (
        403,
        vec![],
        serde_json::json!({"error": {"code": "AuthorizationFailed", "message": message}})
            .to_string(),
    );
    let script = Script::new(vec![refused]);
    let (c, _) = client(&script);
    let e = c.start_compute(&ws(), "ci1").await.unwrap_err();
    let ArmError::AuthorizationFailed {
        action: Some(a),
        scope: Some(s),
        info,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((a.as_str(), s.as_str()), (action, COMPUTE_ID));
    assert_eq!(info.compute_id.as_deref(), Some(COMPUTE_ID));
    assert!(e.to_string().contains("AzureML Compute Operator"), "{e}");
    assert!(!e.to_string().contains("reading a workspace"), "{e}");

    let script = Script::new(vec![arm_error(404, "ResourceNotFound")]);
    let (c, _) = client(&script);
    let e = c.start_compute(&ws(), "ci1").await.unwrap_err();
    assert!(
        matches!(&e, ArmError::NotFound { code: NotFoundCode::ResourceNotFound, info } if info.compute_id.as_deref() == Some(COMPUTE_ID)),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("the compute or its workspace was not found (HTTP 404 ResourceNotFound)"),
        "{e}"
    );

    let script = Script::new(vec![arm_error(400, "BadRequest")]);
    let (c, _) = client(&script);
    let e = c.stop_compute(&ws(), "ci1").await.unwrap_err();
    assert!(
        e.to_string().contains("that it is a compute instance"),
        "{e}"
    );
}

#[tokio::test]
async fn a_compute_action_answers_one_claims_challenge() {
    let script = Script::new(vec![
        challenge(),
        accepted(OPERATION),
        op_status("Succeeded"),
    ]);
    let (c, cred) = client(&script);
    c.start_compute(&ws(), "ci1").await.unwrap();
    // The POST is retried with a token carrying the claims; the poll asks again without them
    // (a real credential's cache holds the token with the claims by then).
    let claims: Vec<Option<String>> = cred
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.1.clone())
        .collect();
    assert_eq!(claims, vec![None, Some(CLAIMS.to_owned()), None]);
    let auths: Vec<String> = script.requests().into_iter().map(|r| r.1).collect();
    assert_eq!(auths, vec!["Bearer tok-1", "Bearer tok-2", "Bearer tok-3"]);
}

#[tokio::test]
async fn compute_names_and_clouds_are_checked_before_sending() {
    let script = Script::new(vec![]);
    let (c, cred) = client(&script);
    for name in ["", "../x", "ci 1", "a/b"] {
        let e = c.start_compute(&ws(), name).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{name:?}");
        assert!(e.to_string().starts_with("invalid compute name"), "{e}");
    }
    let china = Workspace::new("s", "rg", "ws")
        .unwrap()
        .with_cloud(Cloud::china());
    let e = c.stop_compute(&china, "ci1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(script.requests().is_empty());
    assert!(cred.seen.lock().unwrap().is_empty());
}

#[cfg(feature = "reqwest")]
#[tokio::test]
async fn the_shared_client_reads_pages_larger_than_a_token_response() {
    let client = WorkspaceClient::shared(Arc::new(CountingCredential::default()), Cloud::public());
    let shown = format!("{:?}", client.pipeline);
    assert!(
        shown.contains(&format!("max_response_bytes: {MAX_ARM_RESPONSE_BYTES}")),
        "{shown}"
    );
    const { assert!(MAX_ARM_RESPONSE_BYTES > auth_core::http::DEFAULT_MAX_RESPONSE_BYTES) };
}
