//! ARM error responses as typed errors a caller can act on (protocol reference §6.5).

use std::fmt;
use std::time::Duration;

use auth_core::ErrorKind;
use auth_core::http::HttpResponse;

use crate::resource_http::parse_error_body;

/// What every ARM error response says: status, `error.code`, `error.message` and the request
/// ids to quote to support.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArmErrorInfo {
    /// The HTTP status.
    pub status: u16,
    /// `error.code`, such as `AuthorizationFailed` (empty when the body had none).
    pub code: String,
    /// `error.message`, for people.
    pub message: String,
    /// `x-ms-request-id`.
    pub request_id: Option<String>,
    /// `x-ms-correlation-request-id`.
    pub correlation_id: Option<String>,
    /// The compute target's ARM id, for a compute action
    /// ([`WorkspaceClient::start_compute`](crate::WorkspaceClient::start_compute)); `None` for
    /// the workspace calls. A compute action's 404 `ResourceNotFound` may be about the compute
    /// or its workspace: the message says which.
    pub compute_id: Option<String>,
}

impl ArmErrorInfo {
    /// Status, `error.code`, `error.message` and request ids of a response.
    pub(crate) fn of_response(resp: &HttpResponse) -> Self {
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (code, message) = parse_error_body(resp.body());
        Self {
            status: resp.status().as_u16(),
            code,
            message,
            request_id: header("x-ms-request-id"),
            correlation_id: header("x-ms-correlation-request-id"),
            compute_id: None,
        }
    }
}

/// Which of ARM's 404s it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotFoundCode {
    /// `ResourceNotFound`: the workspace does not exist in the resource group (or is not visible).
    ResourceNotFound,
    /// `ResourceGroupNotFound`.
    ResourceGroupNotFound,
    /// `SubscriptionNotFound`: the subscription does not exist, or is not in the token's tenant.
    SubscriptionNotFound,
    /// Another 404 code.
    Other,
}

impl NotFoundCode {
    fn from_code(code: &str) -> Self {
        match code {
            c if c.eq_ignore_ascii_case("ResourceNotFound") => Self::ResourceNotFound,
            c if c.eq_ignore_ascii_case("ResourceGroupNotFound") => Self::ResourceGroupNotFound,
            c if c.eq_ignore_ascii_case("SubscriptionNotFound") => Self::SubscriptionNotFound,
            _ => Self::Other,
        }
    }
}

/// A failed ARM call.
///
/// Converts into [`auth_core::Error`] with a kind (`Authentication`, `InteractionRequired`,
/// `Forbidden`, `NotFound`, `Configuration`, `Service`) and a hint; this error stays reachable as
/// its `source()`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ArmError {
    /// No response to judge: the token could not be had, the request could not be sent, or the
    /// input was invalid. The auth-core error says which.
    Request(auth_core::Error),
    /// 401: the token was refused.
    Unauthenticated {
        /// The response.
        info: Box<ArmErrorInfo>,
        /// For `InvalidAuthenticationTokenTenant`: the tenant ARM wants the token from.
        expected_tenant: Option<String>,
        /// The claims of a challenge that was still there after it had been answered once.
        claims: Option<String>,
    },
    /// 403 `AuthorizationFailed` (or `LinkedAuthorizationFailed`): the identity lacks a
    /// permission. The fields are extracted from the message when ARM gives them.
    AuthorizationFailed {
        /// The response.
        info: Box<ArmErrorInfo>,
        /// The missing action, such as `Microsoft.MachineLearningServices/workspaces/read`.
        action: Option<String>,
        /// The scope it was checked at.
        scope: Option<String>,
        /// The client as ARM names it (a UPN or an application id).
        client: Option<String>,
        /// The object id of the identity.
        client_oid: Option<String>,
    },
    /// Another 403.
    Forbidden {
        /// The response.
        info: Box<ArmErrorInfo>,
    },
    /// 404: the workspace, its resource group or its subscription does not exist (or is not
    /// visible to this identity).
    NotFound {
        /// The response.
        info: Box<ArmErrorInfo>,
        /// Which one.
        code: NotFoundCode,
    },
    /// 429 after the retry budget ran out.
    Throttled {
        /// The response.
        info: Box<ArmErrorInfo>,
        /// How long ARM asked to wait.
        retry_after: Option<Duration>,
    },
    /// 400: ARM rejected the request itself (an invalid subscription id or name).
    BadRequest {
        /// The response.
        info: Box<ArmErrorInfo>,
    },
    /// 5xx after retries, or another unexpected status.
    Service {
        /// The response.
        info: Box<ArmErrorInfo>,
    },
    /// An asynchronous operation (a compute start or stop) that ARM accepted and that then
    /// ended `Failed` or `Canceled`.
    OperationFailed {
        /// What was asked, such as `start`.
        operation: String,
        /// How it ended: `Failed` or `Canceled`.
        status: String,
        /// The last operation status response (its `error.code` and `error.message` when it had
        /// them), with [`ArmErrorInfo::compute_id`].
        info: Box<ArmErrorInfo>,
    },
    /// A success status whose body is not what ARM sends.
    InvalidResponse {
        /// The status.
        status: u16,
        /// What is wrong.
        reason: String,
    },
}

/// The boxed [`ArmErrorInfo`] of an `ArmError` (by reference or by mutable reference), when it
/// has one.
macro_rules! info_of {
    ($e:expr) => {
        match $e {
            ArmError::Unauthenticated { info, .. }
            | ArmError::AuthorizationFailed { info, .. }
            | ArmError::Forbidden { info }
            | ArmError::NotFound { info, .. }
            | ArmError::Throttled { info, .. }
            | ArmError::BadRequest { info }
            | ArmError::Service { info }
            | ArmError::OperationFailed { info, .. } => Some(info),
            ArmError::Request(_) | ArmError::InvalidResponse { .. } => None,
        }
    };
}

impl ArmError {
    /// The error of a non-success response received at `now`. `answered_claims` is the claims
    /// request already answered, if any.
    pub(crate) fn from_response(
        resp: &HttpResponse,
        answered_claims: Option<String>,
        now: std::time::SystemTime,
    ) -> Self {
        let info = Box::new(ArmErrorInfo::of_response(resp));
        match info.status {
            401 => Self::Unauthenticated {
                expected_tenant: if info
                    .code
                    .eq_ignore_ascii_case("InvalidAuthenticationTokenTenant")
                {
                    expected_tenant(&info.message)
                } else {
                    None
                },
                claims: answered_claims.and(auth_core::challenge::claims_challenge(resp.headers())),
                info,
            },
            403 => {
                let action = quoted_after(&info.message, "perform action '");
                let scope = quoted_after(&info.message, "over scope '");
                if info.code.ends_with("AuthorizationFailed") || action.is_some() {
                    Self::AuthorizationFailed {
                        action,
                        scope,
                        client: quoted_after(&info.message, "The client '"),
                        client_oid: quoted_after(&info.message, "with object id '"),
                        info,
                    }
                } else {
                    Self::Forbidden { info }
                }
            }
            404 => Self::NotFound {
                code: NotFoundCode::from_code(&info.code),
                info,
            },
            429 => Self::Throttled {
                // Seconds, milliseconds or an HTTP-date, read as the shared pipeline reads them.
                retry_after: auth_core::http::retry_after(resp.headers(), now),
                info,
            },
            400 => Self::BadRequest { info },
            _ => Self::Service { info },
        }
    }

    /// This error, as the answer to an action on the compute target `compute_id`.
    pub(crate) fn about_compute(mut self, compute_id: &str) -> Self {
        if let Some(info) = self.info_mut() {
            info.compute_id = Some(compute_id.to_owned());
        }
        self
    }

    fn info_mut(&mut self) -> Option<&mut ArmErrorInfo> {
        info_of!(self).map(|info| &mut **info)
    }

    /// The ARM response details, when there was an error response.
    pub fn info(&self) -> Option<&ArmErrorInfo> {
        info_of!(self).map(|info| &**info)
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Request(e) => e.status(),
            Self::InvalidResponse { status, .. } => Some(*status),
            _ => self.info().map(|i| i.status),
        }
    }

    /// The auth-core kind this error converts to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Request(e) => e.kind(),
            Self::Unauthenticated {
                claims: Some(_), ..
            } => ErrorKind::InteractionRequired,
            Self::Unauthenticated { .. } => ErrorKind::Authentication,
            Self::AuthorizationFailed { .. } | Self::Forbidden { .. } => ErrorKind::Forbidden,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::BadRequest { .. } => ErrorKind::Configuration,
            Self::Throttled { .. }
            | Self::Service { .. }
            | Self::OperationFailed { .. }
            | Self::InvalidResponse { .. } => ErrorKind::Service,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Request(e) => return e.hint().map(str::to_owned),
            Self::Unauthenticated {
                claims: Some(_), ..
            } => "ARM still asks for more claims after one new token: sign in interactively (Conditional Access or a revoked session), passing these claims".into(),
            Self::Unauthenticated {
                expected_tenant: Some(t),
                ..
            } => format!("the subscription belongs to tenant {t}: get the token from that tenant (set the credential's tenant id to {t}, such as AZURE_TENANT_ID for a service principal)"),
            Self::Unauthenticated { info, .. } => match info.code.as_str() {
                "ExpiredAuthenticationToken" => "the token had expired: get a new one, and check the machine clock".into(),
                "InvalidAuthenticationToken" => "ARM cannot use this token: ask for the ARM audience (https://management.core.windows.net/ or https://management.azure.com/) of the workspace's cloud".into(),
                _ => "ARM refused the token: check the credential, its tenant and the cloud".into(),
            },
            Self::AuthorizationFailed {
                action,
                scope,
                client,
                info,
                ..
            } => {
                let who = client.as_deref().map_or("the identity".to_owned(), |c| format!("'{c}'"));
                let what = action.as_deref().unwrap_or("the action");
                let at = scope.as_deref().unwrap_or("the workspace");
                let roles = if info.compute_id.is_some() {
                    " (for starting and stopping compute instances: AzureML Compute Operator, AzureML Data Scientist or Contributor)"
                } else {
                    " (for reading a workspace: Reader, AzureML Data Scientist or Contributor)"
                };
                format!("grant {who} a role that allows {what} at {at}{roles}, then get a new token; role assignments can take a few minutes to apply")
            }
            Self::Forbidden { .. } => "the identity is not allowed to do this: check its role assignments and any deny assignment or policy".into(),
            Self::NotFound { code, info } => match code {
                NotFoundCode::ResourceNotFound if info.compute_id.is_some() => "check the compute name and that it exists in the workspace (ARM's message names what is missing)".into(),
                NotFoundCode::ResourceNotFound => "check the workspace name and resource group (in the config file or arguments), and that the identity can see it".into(),
                NotFoundCode::ResourceGroupNotFound => "check the resource group name, and that it is in this subscription".into(),
                NotFoundCode::SubscriptionNotFound => "check the subscription id, and that the token comes from the subscription's tenant and cloud".into(),
                NotFoundCode::Other if info.code.is_empty() => "check the ARM endpoint and the names in the request".into(),
                NotFoundCode::Other => "check the names in the request".into(),
            },
            Self::Throttled { retry_after, .. } => match retry_after {
                Some(d) => format!("ARM throttled the requests: retry after {} s", d.as_secs().max(1)),
                None => "ARM throttled the requests: retry later".into(),
            },
            Self::BadRequest { info } if info.compute_id.is_some() => "check the compute name and that it is a compute instance (only those can be started and stopped)".into(),
            Self::BadRequest { .. } => "check the subscription id, resource group and workspace name".into(),
            Self::Service { .. } => "retry later; quote the correlation id to support if it persists".into(),
            Self::OperationFailed { .. } => "check the compute's state in the workspace, then retry; quote the correlation id to support if it persists".into(),
            Self::InvalidResponse { .. } => "check that the ARM endpoint is Azure Resource Manager of the right cloud".into(),
        })
    }
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Self::Request(e) = self {
            return write!(f, "{e}");
        }
        write!(f, "{}", Head(self))?;
        if let Some(h) = self.hint() {
            write!(f, "; {h}")?;
        }
        f.write_str(&self.request_ids())
    }
}

impl ArmError {
    /// ` (correlation id …)`, else ` (request id …)`, else nothing.
    fn request_ids(&self) -> String {
        match self.info() {
            Some(ArmErrorInfo {
                correlation_id: Some(id),
                ..
            }) => format!(" (correlation id {id})"),
            Some(ArmErrorInfo {
                request_id: Some(id),
                ..
            }) => format!(" (request id {id})"),
            _ => String::new(),
        }
    }
}

/// What went wrong, without the hint and the request ids.
struct Head<'a>(&'a ArmError);

impl fmt::Display for Head<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = |f: &mut fmt::Formatter<'_>, text: &str, info: &ArmErrorInfo| {
            write!(f, "{text} (HTTP {}", info.status)?;
            if !info.code.is_empty() {
                write!(f, " {}", info.code)?;
            }
            f.write_str(")")?;
            if !info.message.is_empty() {
                write!(f, ": {}", info.message.trim_end_matches('.'))?;
            }
            Ok(())
        };
        match self.0 {
            ArmError::Request(e) => write!(f, "{e}")?,
            ArmError::Unauthenticated { info, .. } => what(f, "ARM refused the token", info)?,
            ArmError::AuthorizationFailed {
                info,
                action: Some(action),
                scope: Some(scope),
                ..
            } => {
                write!(
                    f,
                    "not authorized to perform {action} over {scope} (HTTP {} {})",
                    info.status, info.code
                )?;
            }
            ArmError::AuthorizationFailed { info, .. } | ArmError::Forbidden { info } => {
                what(f, "not authorized", info)?;
            }
            ArmError::NotFound { info, code } => {
                let text = match code {
                    NotFoundCode::ResourceNotFound if info.compute_id.is_some() => {
                        "the compute or its workspace was not found"
                    }
                    NotFoundCode::ResourceNotFound => "the workspace was not found",
                    NotFoundCode::ResourceGroupNotFound => "the resource group was not found",
                    NotFoundCode::SubscriptionNotFound => "the subscription was not found",
                    NotFoundCode::Other => "not found",
                };
                what(f, text, info)?;
            }
            ArmError::Throttled { info, .. } => what(f, "ARM is throttling requests", info)?,
            ArmError::BadRequest { info } => what(f, "ARM rejected the request", info)?,
            ArmError::Service { info } => what(f, "ARM failed", info)?,
            ArmError::OperationFailed {
                operation,
                status,
                info,
            } => {
                let on = info.compute_id.as_deref().unwrap_or("the compute");
                write!(f, "the {operation} operation on {on} ended {status}")?;
                if !info.code.is_empty() {
                    write!(f, " ({})", info.code)?;
                }
                if !info.message.is_empty() {
                    write!(f, ": {}", info.message.trim_end_matches('.'))?;
                }
            }
            ArmError::InvalidResponse { status, reason } => {
                write!(f, "ARM answered HTTP {status} with {reason}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ArmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ArmError> for auth_core::Error {
    fn from(e: ArmError) -> Self {
        if let ArmError::Request(inner) = e {
            return inner;
        }
        // The hint goes in as the hint, followed by the request ids, so that `hint()` has it
        // and the text reads as the ArmError's own.
        let mut out = match e.hint() {
            Some(h) => auth_core::Error::new(e.kind(), Head(&e).to_string())
                .with_hint(format!("{h}{}", e.request_ids())),
            None => auth_core::Error::new(e.kind(), e.to_string()),
        };
        if let Some(s) = e.status() {
            out = out.with_status(s);
        }
        if let ArmError::Unauthenticated {
            claims: Some(c), ..
        } = &e
        {
            out = out.with_claims(c.clone());
        }
        if let ArmError::Throttled {
            retry_after: Some(d),
            ..
        } = &e
        {
            out = out.with_retry_after(*d);
        }
        out.with_source(e)
    }
}

/// The text between `marker` and the next `'` in `message`.
fn quoted_after(message: &str, marker: &str) -> Option<String> {
    let start = message.find(marker)? + marker.len();
    let len = message[start..].find('\'')?;
    Some(message[start..start + len].to_owned()).filter(|s| !s.is_empty())
}

/// The tenant of "Please use the authority (URL) 'https://login.windows.net/<tid>'".
fn expected_tenant(message: &str) -> Option<String> {
    let url = quoted_after(message, "use the authority (URL) '").or_else(|| {
        quoted_after(
            message,
            "associated with this subscription. Please use the authority '",
        )
    })?;
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|t| !t.is_empty() && !t.contains(':'))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    fn body(code: &str, message: &str) -> String {
        serde_json::json!({"error": {"code": code, "message": message}}).to_string()
    }

    #[test]
    fn authorization_failed_fields_are_extracted() {
        let msg = "The client 'app@contoso.com' with object id '11111111-2222-3333-4444-555555555555' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/read' over scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws' or the scope is invalid. If access was recently granted, please refresh your credentials.";
        let e = ArmError::from_response(
            &response(
                403,
                &[("x-ms-correlation-request-id", "corr-1")],
                &body("AuthorizationFailed", msg),
            ),
            None,
            T0,
        );
        let ArmError::AuthorizationFailed {
            action,
            scope,
            client,
            client_oid,
            info,
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            action.as_deref(),
            Some("Microsoft.MachineLearningServices/workspaces/read")
        );
        assert_eq!(
            scope.as_deref(),
            Some(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
            )
        );
        assert_eq!(client.as_deref(), Some("app@contoso.com"));
        assert_eq!(
            client_oid.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(info.correlation_id.as_deref(), Some("corr-1"));
        let shown = e.to_string();
        assert!(
            shown.starts_with("not authorized to perform Microsoft.MachineLearningServices/workspaces/read over /subscriptions/s/"),
            "{shown}"
        );
        assert!(shown.contains("grant 'app@contoso.com' a role"), "{shown}");
        assert!(shown.ends_with("(correlation id corr-1)"), "{shown}");
        let core: auth_core::Error = e.into();
        assert_eq!(core.kind(), ErrorKind::Forbidden);
        assert_eq!(core.status(), Some(403));
        // The hint is the error's hint, not only part of its text, and the text is the same.
        assert!(
            core.hint()
                .is_some_and(|h| h.starts_with("grant 'app@contoso.com' a role")
                    && h.ends_with("(correlation id corr-1)")),
            "{core:?}"
        );
        assert!(!core.message().contains("grant"), "{core:?}");
        assert_eq!(core.to_string(), shown);
        let src = std::error::Error::source(&core).unwrap();
        assert!(src.downcast_ref::<ArmError>().is_some());
    }

    fn check(status: u16, code: &str, message: &str, kind: ErrorKind, shown: &str) {
        let e = ArmError::from_response(&response(status, &[], &body(code, message)), None, T0);
        assert_eq!(e.kind(), kind, "{status} {code}");
        let text = e.to_string();
        assert!(text.contains(shown), "{status} {code}: {text}");
        assert!(!text.ends_with('.'), "{text}");
        assert!(
            text.starts_with(|c: char| !c.is_uppercase()) || text.starts_with("ARM"),
            "{text}"
        );
    }

    /// `WorkspaceClient` never asks for a token from the config's `tenant_id`, so the hint must
    /// not send people there.
    #[test]
    fn wrong_tenant_hint_names_a_remedy_that_works() {
        let e = ArmError::from_response(
            &response(
                401,
                &[],
                &body(
                    "InvalidAuthenticationTokenTenant",
                    "The access token is from the wrong issuer 'https://sts.windows.net/t1/'. Please use the authority (URL) 'https://login.windows.net/t2' to get the token.",
                ),
            ),
            None,
            T0,
        );
        let hint = e.hint().unwrap();
        assert!(hint.contains("tenant id to t2"), "{hint}");
        assert!(!hint.contains("workspace config"), "{hint}");
    }

    #[test]
    fn statuses_map_to_kinds_and_messages() {
        check(
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.MachineLearningServices/workspaces/ws' under resource group 'rg' was not found.",
            ErrorKind::NotFound,
            "the workspace was not found (HTTP 404 ResourceNotFound): The Resource",
        );
        check(
            404,
            "ResourceGroupNotFound",
            "Resource group 'rg' could not be found.",
            ErrorKind::NotFound,
            "the resource group was not found",
        );
        check(
            404,
            "SubscriptionNotFound",
            "The subscription 's' could not be found.",
            ErrorKind::NotFound,
            "tenant and cloud",
        );
        check(
            401,
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time ...",
            ErrorKind::Authentication,
            "check the machine clock",
        );
        check(
            401,
            "InvalidAuthenticationTokenTenant",
            "The access token is from the wrong issuer 'https://sts.windows.net/t1/'. It must match the tenant 'https://sts.windows.net/t2/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/t2' to get the token.",
            ErrorKind::Authentication,
            "belongs to tenant t2: get the token from that tenant (set the credential's tenant id to t2",
        );
        check(
            403,
            "RequestDisallowedByPolicy",
            "policy",
            ErrorKind::Forbidden,
            "not authorized (HTTP 403 RequestDisallowedByPolicy)",
        );
        check(
            400,
            "InvalidSubscriptionId",
            "bad",
            ErrorKind::Configuration,
            "ARM rejected the request",
        );
        check(
            500,
            "InternalServerError",
            "boom",
            ErrorKind::Service,
            "ARM failed (HTTP 500",
        );
        check(503, "", "", ErrorKind::Service, "ARM failed (HTTP 503)");
    }

    #[test]
    fn not_found_codes() {
        for (code, want) in [
            ("ResourceNotFound", NotFoundCode::ResourceNotFound),
            ("ResourceGroupNotFound", NotFoundCode::ResourceGroupNotFound),
            ("SubscriptionNotFound", NotFoundCode::SubscriptionNotFound),
            ("NotFound", NotFoundCode::Other),
        ] {
            let e = ArmError::from_response(&response(404, &[], &body(code, "m")), None, T0);
            assert!(
                matches!(e, ArmError::NotFound { code, .. } if code == want),
                "{code}"
            );
        }
    }

    /// A fixed "now" for responses in these tests.
    const T0: std::time::SystemTime = std::time::SystemTime::UNIX_EPOCH;

    #[test]
    fn throttled_retry_after_as_an_http_date() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let e = ArmError::from_response(
            &response(
                429,
                &[("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT")],
                &body("TooManyRequests", "slow down"),
            ),
            None,
            now,
        );
        assert!(
            matches!(e, ArmError::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(10)),
            "{e:?}"
        );
    }

    #[test]
    fn throttled_keeps_retry_after() {
        let e = ArmError::from_response(
            &response(
                429,
                &[("retry-after", "7")],
                &body("TooManyRequests", "slow down"),
            ),
            None,
            T0,
        );
        assert!(
            matches!(e, ArmError::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(7))
        );
        assert!(e.to_string().contains("retry after 7 s"), "{e}");
        let shown = e.to_string();
        let core: auth_core::Error = e.into();
        assert_eq!(core.kind(), ErrorKind::Service);
        assert_eq!(core.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            core.hint(),
            Some("ARM throttled the requests: retry after 7 s")
        );
        assert_eq!(core.to_string(), shown);
    }

    #[test]
    fn non_json_error_bodies() {
        let e = ArmError::from_response(&response(502, &[], "<html>bad gateway</html>"), None, T0);
        assert_eq!(
            e.to_string(),
            "ARM failed (HTTP 502); retry later; quote the correlation id to support if it persists"
        );
        assert_eq!(e.info().unwrap().code, "");
    }
}
