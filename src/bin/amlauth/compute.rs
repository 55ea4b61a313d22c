//! `amlauth compute start | stop NAME`: a compute instance operation over ARM, the kind of call
//! Azure RBAC allows one role and refuses another (`.../computes/start/action`).

use std::time::Duration;

use auth_core::{Pipeline, TokenCredential, TokenRequest};
use clap::{Args, Subcommand};
use serde_json::Value;
use workspace_config::{ARM_API_VERSION, Workspace};

use crate::conn::ConnArgs;
use crate::fail::{EXIT_FAILED, Failure};
use crate::workspace::WorkspaceArgs;

/// How many times the async operation is polled before the tool stops waiting.
const MAX_POLLS: u32 = 60;

/// `amlauth compute ...`
#[derive(Subcommand, Debug)]
pub(crate) enum ComputeCommand {
    /// Start a compute instance (needs Microsoft.MachineLearningServices/workspaces/computes/start/action).
    #[command(
        after_help = "Examples:\n  amlauth compute start ci-alice\n  amlauth compute start ci-alice --config .azureml/config.json --output json"
    )]
    Start(ComputeArgs),
    /// Stop a compute instance (needs .../computes/stop/action).
    Stop(ComputeArgs),
}

/// Flags of `compute start|stop`.
#[derive(Args, Debug)]
pub(crate) struct ComputeArgs {
    /// The compute instance's name.
    name: String,
    #[command(flatten)]
    workspace: WorkspaceArgs,
    #[command(flatten)]
    conn: ConnArgs,
}

/// What was done.
pub(crate) struct Done {
    pub(crate) operation: &'static str,
    pub(crate) compute_id: String,
    pub(crate) status: String,
}

impl Done {
    /// One line of text.
    pub(crate) fn to_text(&self) -> String {
        format!("{} {}: {}", self.operation, self.compute_id, self.status)
    }

    /// `{"operation", "id", "status"}`.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(&serde_json::json!({
            "operation": self.operation,
            "id": self.compute_id,
            "status": self.status,
        }))
        .unwrap_or_default()
    }
}

/// Runs `start` or `stop`: POST `.../computes/{name}/{op}`, then follows the async operation.
pub(crate) async fn run(command: &ComputeCommand) -> Result<Done, Failure> {
    let (op, args) = match command {
        ComputeCommand::Start(a) => ("start", a),
        ComputeCommand::Stop(a) => ("stop", a),
    };
    let (_, workspace) = args.workspace.resolve()?;
    check_name(&args.name)?;
    let cloud = args.conn.cloud()?;
    let credential = args.conn.credential(&cloud)?;
    let pipeline = Pipeline::shared();
    let request = TokenRequest::for_resource(cloud.arm_audience())?;
    let compute_id = format!("{}/computes/{}", workspace.resource_id(), args.name);
    let url = format!(
        "{}/computes/{}/{op}?api-version={ARM_API_VERSION}",
        workspace.arm_resource_url(&cloud),
        args.name
    );
    let token = credential.get_token(&request).await?;
    let auth = auth_core::bearer_value(&token)?;
    drop(token);
    let resp = send(&pipeline, http::Method::POST, &url, &auth).await?;
    if !resp.status().is_success() {
        return Err(arm_failure(&resp, &workspace));
    }
    let mut status = "Accepted".to_owned();
    if let Some(poll) = resp
        .headers()
        .get("azure-asyncoperation")
        .and_then(|v| v.to_str().ok())
        .filter(|u| same_origin(u, &url))
        .map(str::to_owned)
    {
        for _ in 0..MAX_POLLS {
            let r = send(&pipeline, http::Method::GET, &poll, &auth).await?;
            if !r.status().is_success() {
                return Err(arm_failure(&r, &workspace));
            }
            let body: Value = serde_json::from_slice(r.body()).unwrap_or_default();
            status = body
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("Unknown")
                .to_owned();
            if !matches!(status.as_str(), "InProgress" | "Running" | "Accepted") {
                break;
            }
            let wait = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                .unwrap_or(2)
                .min(30);
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    }
    if status == "Failed" || status == "Canceled" {
        return Err(Failure::new(
            EXIT_FAILED,
            "service",
            format!("the {op} operation on {compute_id} ended {status}"),
        ));
    }
    Ok(Done {
        operation: op,
        compute_id,
        status,
    })
}

fn check_name(name: &str) -> Result<(), Failure> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "invalid compute name {name:?}: use letters, digits, '-' and '_' (at most 64)"
        )))
    }
}

async fn send(
    pipeline: &Pipeline,
    method: http::Method,
    url: &str,
    auth: &http::HeaderValue,
) -> Result<auth_core::http::HttpResponse, Failure> {
    let uri: http::Uri = url.parse().map_err(|_| {
        Failure::usage(format!(
            "cannot build an ARM URL from {:?}",
            strip_query(url)
        ))
    })?;
    Ok(pipeline
        .send(|| {
            http::Request::builder()
                .method(method.clone())
                .uri(uri.clone())
                .header(http::header::AUTHORIZATION, auth.clone())
                .header(http::header::ACCEPT, "application/json")
                .header(http::header::CONTENT_LENGTH, "0")
                .body(Vec::new())
                .map_err(|e| {
                    auth_core::Error::configuration(format!("cannot build the ARM request: {e}"))
                })
        })
        .await?)
}

/// An ARM error response as one line: status, code, message, and what to do. A 403
/// `AuthorizationFailed` names the missing action and the scope, and the command that names
/// the least-privileged role.
fn arm_failure(resp: &auth_core::http::HttpResponse, workspace: &Workspace) -> Failure {
    let status = resp.status().as_u16();
    let body: Value = serde_json::from_slice(resp.body()).unwrap_or_default();
    let code = body
        .pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_end_matches('.');
    let head = format!(
        "ARM refused the call (HTTP {status}{}{code})",
        if code.is_empty() { "" } else { " " }
    );
    let (kind, hint) = match (status, code) {
        (403, "AuthorizationFailed" | "LinkedAuthorizationFailed") => {
            let action = quoted_after(message, "perform action '");
            let scope = quoted_after(message, "over scope '");
            let hint = match (action, scope) {
                (Some(a), Some(s)) => format!(
                    "grant the identity a role that allows {a} at {s}; `amlauth rbac suggest --action {a} --scope {s}` names the least-privileged one"
                ),
                _ => "grant the identity a role that allows this action".to_owned(),
            };
            ("forbidden", hint)
        }
        (401, _) => (
            "authentication",
            "ARM refused the token: check the credential, its tenant and the cloud".to_owned(),
        ),
        (404, _) => (
            "not_found",
            format!("check the compute name and that it exists in {}", workspace),
        ),
        (400, _) => (
            "bad_request",
            "check the compute name and that it is a compute instance".to_owned(),
        ),
        _ => ("service", "retry later".to_owned()),
    };
    let text = if message.is_empty() {
        format!("{head}; {hint}")
    } else {
        format!("{head}: {message}; {hint}")
    };
    Failure::new(EXIT_FAILED, kind, text)
}

/// The text between `marker` and the next `'`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    rest.split('\'').next().filter(|s| !s.is_empty())
}

fn strip_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(p, _)| p)
}

/// Whether `a` has the scheme and authority of `b` (the token goes to ARM only).
fn same_origin(a: &str, b: &str) -> bool {
    let origin = |u: &str| -> Option<String> {
        let u: http::Uri = u.parse().ok()?;
        Some(format!("{}://{}", u.scheme_str()?, u.authority()?).to_ascii_lowercase())
    };
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_failed_names_action_and_scope() {
        let m = "The client 'x' with object id 'o' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/computes/start/action' over scope '/subscriptions/s/c' or the scope is invalid";
        assert_eq!(
            quoted_after(m, "perform action '"),
            Some("Microsoft.MachineLearningServices/workspaces/computes/start/action")
        );
        assert_eq!(quoted_after(m, "over scope '"), Some("/subscriptions/s/c"));
        assert_eq!(quoted_after(m, "nothing '"), None);
    }

    #[test]
    fn polling_stays_on_arm() {
        assert!(same_origin(
            "http://127.0.0.1:9/a?x=1",
            "http://127.0.0.1:9/b"
        ));
        assert!(!same_origin(
            "https://evil.example/a",
            "https://management.azure.com/b"
        ));
        assert!(!same_origin("/relative", "https://management.azure.com/b"));
    }

    #[test]
    fn names() {
        assert!(check_name("ci-alice_1").is_ok());
        assert!(check_name("../x").is_err());
        assert!(check_name("").is_err());
    }
}
