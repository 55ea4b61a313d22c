//! Compute-target actions: start or stop a compute instance over ARM and follow the
//! asynchronous operation ARM answers with (`Azure-AsyncOperation`) to its end.

use std::fmt;
use std::time::Duration;

use auth_core::http::HttpResponse;

use crate::arm_error::{ArmError, ArmErrorInfo};
use crate::client::{WorkspaceClient, json_body};
use crate::resource_http::{encode_segment, origin_of, same_origin, strip_query};
use crate::workspace::{ARM_API_VERSION, Workspace, arm_base};

/// How many times a compute action polls its asynchronous operation before it stops waiting
/// and returns the last status it saw.
pub const DEFAULT_MAX_POLLS: u32 = 60;

/// The wait between two polls when ARM's answer has no `Retry-After`.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The longest wait between two polls, whatever `Retry-After` asks for.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// The longest compute name accepted.
const MAX_COMPUTE_NAME: usize = 64;

/// An action on a compute instance: the last segment of its ARM `POST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ComputeAction {
    /// `POST .../computes/{name}/start`: needs
    /// `Microsoft.MachineLearningServices/workspaces/computes/start/action`.
    Start,
    /// `POST .../computes/{name}/stop`: needs
    /// `Microsoft.MachineLearningServices/workspaces/computes/stop/action`.
    Stop,
}

impl ComputeAction {
    /// `start` or `stop`, as in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
        }
    }
}

impl fmt::Display for ComputeAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a compute action came to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComputeOperation {
    /// The action.
    pub action: ComputeAction,
    /// The compute's ARM id: the workspace's id, `/computes/`, the name.
    pub compute_id: String,
    /// The operation's last status, as ARM spells it: `Succeeded` once it has finished;
    /// `Accepted` when ARM gave no operation to follow (or one on another host, which is not
    /// followed so that the token stays with ARM); a status that is not terminal (`InProgress`,
    /// `Updating`, ...) when the poll bound ran out first. `Failed` and `Canceled` are errors
    /// ([`ArmError::OperationFailed`]), never a status here.
    pub status: String,
}

impl ComputeOperation {
    /// Whether the operation was still running when the call returned.
    pub fn in_progress(&self) -> bool {
        is_running(&self.status)
    }
}

/// Whether an operation status means "not finished yet": any status but ARM's terminal ones,
/// `Succeeded`, `Failed` and `Canceled` (case-insensitive).
fn is_running(status: &str) -> bool {
    !["Succeeded", "Failed", "Canceled"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(status))
}

/// Checks a compute name before it goes into a URL: letters, digits, `-` and `_`, at most 64.
fn check_compute_name(name: &str) -> Result<(), ArmError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_COMPUTE_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ArmError::Request(auth_core::Error::configuration(format!(
            "invalid compute name {name:?}: use letters, digits, '-' and '_' (at most {MAX_COMPUTE_NAME})"
        ))))
    }
}

impl WorkspaceClient {
    /// Starts the compute instance `name` of `workspace`: `POST {arm}/subscriptions/{s}/
    /// resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/computes/
    /// {name}/start?api-version=2022-05-01` ([`ARM_API_VERSION`]), then follows the operation.
    ///
    /// The name is checked before anything is sent (letters, digits, `-`, `_`, at most 64), and
    /// a workspace of another cloud is refused as by [`get`](Self::get). A 401 claims challenge
    /// is answered once. ARM's `Azure-AsyncOperation` is polled (same host only) until it ends
    /// (`Succeeded`, `Failed` or `Canceled`), waiting as `Retry-After` says ([`DEFAULT_POLL_INTERVAL`] without one, at
    /// most [`MAX_POLL_INTERVAL`]) with the pipeline's sleep, at most [`DEFAULT_MAX_POLLS`] times
    /// (see [`with_max_polls`](Self::with_max_polls)).
    ///
    /// Errors are [`ArmError`]s as for [`get`](Self::get) (a 403 `AuthorizationFailed` names the
    /// action and scope), with [`ArmErrorInfo::compute_id`] set; an operation that ends `Failed`
    /// or `Canceled` is [`ArmError::OperationFailed`].
    pub async fn start_compute(
        &self,
        workspace: &Workspace,
        name: &str,
    ) -> Result<ComputeOperation, ArmError> {
        self.compute_action(workspace, name, ComputeAction::Start)
            .await
    }

    /// Stops the compute instance `name` of `workspace` (`POST .../computes/{name}/stop`), as
    /// [`start_compute`](Self::start_compute) starts one.
    pub async fn stop_compute(
        &self,
        workspace: &Workspace,
        name: &str,
    ) -> Result<ComputeOperation, ArmError> {
        self.compute_action(workspace, name, ComputeAction::Stop)
            .await
    }

    async fn compute_action(
        &self,
        workspace: &Workspace,
        name: &str,
        action: ComputeAction,
    ) -> Result<ComputeOperation, ArmError> {
        check_compute_name(name)?;
        self.check_cloud(workspace)?;
        let compute_id = format!("{}/computes/{name}", workspace.resource_id());
        let about = {
            let id = compute_id.clone();
            move |e: ArmError| e.about_compute(&id)
        };
        let url = format!(
            "{}/computes/{}/{action}?api-version={ARM_API_VERSION}",
            workspace.arm_resource_url(self.cloud()),
            encode_segment(name)
        );
        // One correlation id for the POST and every poll, as ARM clients do.
        let correlation = auth_core::entra::new_request_id();
        let resp = self
            .send(http::Method::POST, &url, &correlation)
            .await
            .map_err(&about)?;
        let mut op = ComputeOperation {
            action,
            status: if resp.status() == http::StatusCode::ACCEPTED {
                "Accepted".to_owned()
            } else {
                "Succeeded".to_owned()
            },
            compute_id,
        };
        let Some(poll) = resp
            .headers()
            .get("azure-asyncoperation")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
        else {
            return Ok(op);
        };
        if !same_origin(&poll, arm_base(self.cloud())) {
            tracing::warn!(
                host = %origin_of(&poll),
                "not following an async operation on another host than ARM"
            );
            return Ok(op);
        }
        let mut wait = self.poll_interval(&resp);
        for _ in 0..self.max_polls() {
            if !wait.is_zero() {
                self.pipeline().sleeper().sleep(wait).await;
            }
            tracing::debug!(url = %strip_query(&poll), status = %op.status, "polling the operation");
            let r = self
                .send(http::Method::GET, &poll, &correlation)
                .await
                .map_err(&about)?;
            let body = json_body(&r)?;
            let Some(status) = body.get("status").and_then(serde_json::Value::as_str) else {
                return Err(ArmError::InvalidResponse {
                    status: r.status().as_u16(),
                    reason: "an operation status without a status".into(),
                });
            };
            op.status = status.to_owned();
            if status.eq_ignore_ascii_case("Failed") || status.eq_ignore_ascii_case("Canceled") {
                let mut info = ArmErrorInfo::of_response(&r);
                info.compute_id = Some(op.compute_id);
                return Err(ArmError::OperationFailed {
                    operation: action.as_str().to_owned(),
                    status: op.status,
                    info: Box::new(info),
                });
            }
            if !is_running(status) {
                break;
            }
            wait = self.poll_interval(&r);
        }
        Ok(op)
    }

    /// How long to wait before the next poll: `Retry-After`, else the default, capped.
    fn poll_interval(&self, resp: &HttpResponse) -> Duration {
        auth_core::http::retry_after(resp.headers(), self.pipeline().clock().now())
            .unwrap_or(DEFAULT_POLL_INTERVAL)
            .min(MAX_POLL_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_names() {
        for (name, ok) in [
            ("ci-alice_1", true),
            ("CI2", true),
            (&"a".repeat(64), true),
            (&"a".repeat(65), false),
            ("", false),
            ("../x", false),
            ("a/b", false),
            ("a b", false),
            ("a?b", false),
            ("wś", false),
        ] {
            let got = check_compute_name(name);
            assert_eq!(got.is_ok(), ok, "{name:?}");
            if let Err(e) = got {
                assert_eq!(e.kind(), auth_core::ErrorKind::Configuration);
                assert!(e.to_string().starts_with("invalid compute name"), "{e}");
            }
        }
    }

    #[test]
    fn running_statuses() {
        for (s, running) in [
            ("InProgress", true),
            ("running", true),
            ("Accepted", true),
            ("Updating", true),
            ("Creating", true),
            ("Succeeded", false),
            ("SUCCEEDED", false),
            ("canceled", false),
            ("Failed", false),
            ("Canceled", false),
        ] {
            assert_eq!(is_running(s), running, "{s}");
        }
        assert_eq!(ComputeAction::Stop.to_string(), "stop");
    }
}
