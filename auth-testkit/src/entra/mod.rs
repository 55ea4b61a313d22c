//! Microsoft Entra ID: discovery, token endpoint (every grant), authorize and device code.
//!
//! Paths (per tenant segment `{t}`: a GUID, a verified domain, `organizations` or `common`):
//! - `GET  /{t}/v2.0/.well-known/openid-configuration`
//! - `POST /{t}/oauth2/v2.0/token`
//! - `POST /{t}/oauth2/v2.0/devicecode`
//! - `GET  /{t}/oauth2/v2.0/authorize`, `POST /{t}/login` (the sign-in form)
//! - `GET|POST /devicelogin` (device-code verification page)
//! - `GET  /error?code=N`

mod assertion;
mod interactive;
mod token;

use serde_json::{Map, Value, json};

use crate::fault::Endpoint;
use crate::server::{Req, Resp};
use crate::setup::{AZURE_CLI_CLIENT_ID, App, PolicyKind, User};
use crate::state::{Shared, State};
use crate::util;

pub use interactive::MFA_CODE;
pub(crate) use interactive::{DeviceDecision, decide_device_code};
pub(crate) use token::{IssueRequest, issue_access_token};

/// Classifies a request for recording and fault injection.
pub(crate) fn classify(req: &Req) -> Option<Endpoint> {
    let segs = req.segments();
    match segs.as_slice() {
        [_, "oauth2", "v2.0", "token"] => Some(Endpoint::Token),
        [_, "oauth2", "v2.0", "devicecode"] => Some(Endpoint::DeviceCode),
        [_, "oauth2", "v2.0", "authorize"] | [_, "login"] => Some(Endpoint::Authorize),
        [_, "v2.0", ".well-known", "openid-configuration"] => Some(Endpoint::OpenIdConfiguration),
        _ => None,
    }
}

/// Routes an Entra request.
pub(crate) fn route(shared: &Shared, req: &Req) -> Resp {
    match req.segments().as_slice() {
        [t, "v2.0", ".well-known", "openid-configuration"] => discovery(shared, req, t),
        [t, "oauth2", "v2.0", "token"] => post_endpoint(shared, req, t, token::token_grant),
        [t, "oauth2", "v2.0", "devicecode"] => {
            post_endpoint(shared, req, t, interactive::devicecode)
        }
        [t, "oauth2", "v2.0", "authorize"] => interactive::authorize(shared, req, t),
        [t, "login"] => interactive::login(shared, req, t),
        ["devicelogin"] => interactive::devicelogin(shared, req),
        ["common", "discovery", "instance"] => instance_discovery(shared, req),
        [_, "discovery", "v2.0", "keys"] => Resp::json(200, &json!({"keys": []})),
        ["error"] => error_page(req),
        _ => Resp::html(
            404,
            "<html><body><h1>404 Not Found</h1></body></html>".to_owned(),
        ),
    }
}

/// A POST-only JSON endpoint (token, devicecode): `handler` runs on the locked state.
fn post_endpoint(
    shared: &Shared,
    req: &Req,
    segment: &str,
    handler: fn(&Shared, &mut State, &Req, &str) -> Result<Value, OAuthError>,
) -> Resp {
    if req.method != http::Method::POST {
        return OAuthError::new(
            400,
            "invalid_request",
            900_561,
            format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {} request.",
                req.method
            ),
        )
        .response(shared, req);
    }
    let result = handler(shared, &mut shared.lock(), req, segment);
    match result {
        Ok(body) => json_response(200, &body, req, &util::uuid_v4()),
        Err(e) => e.response(shared, req),
    }
}

/// Context of one Entra error: ids echoed into the body.
pub(crate) struct ErrCtx {
    pub(crate) trace_id: String,
    pub(crate) correlation_id: String,
    pub(crate) timestamp: String,
}

impl ErrCtx {
    pub(crate) fn new(req: &Req, now: i64) -> Self {
        ErrCtx {
            trace_id: util::uuid_v4(),
            correlation_id: req
                .header("client-request-id")
                .filter(|v| util::is_guid(v))
                .map(str::to_owned)
                .unwrap_or_else(util::uuid_v4),
            timestamp: util::entra_timestamp(now),
        }
    }
}

/// An Entra OAuth error.
#[derive(Debug, Clone)]
pub(crate) struct OAuthError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) code: u32,
    pub(crate) message: String,
    pub(crate) suberror: Option<&'static str>,
    pub(crate) claims: Option<String>,
}

impl OAuthError {
    pub(crate) fn new(
        status: u16,
        error: &'static str,
        code: u32,
        message: impl Into<String>,
    ) -> Self {
        OAuthError {
            status,
            error,
            code,
            message: message.into(),
            suberror: None,
            claims: None,
        }
    }
    pub(crate) fn suberror(mut self, s: &'static str) -> Self {
        self.suberror = Some(s);
        self
    }
    pub(crate) fn claims(mut self, c: String) -> Self {
        self.claims = Some(c);
        self
    }

    /// `400 invalid_request AADSTS900144` for a missing form field.
    pub(crate) fn missing(field: &str) -> Self {
        OAuthError::new(
            400,
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{field}'."),
        )
    }

    /// `AADSTS54005`: the code was redeemed before.
    pub(crate) fn already_redeemed() -> Self {
        OAuthError::new(
            400,
            "invalid_grant",
            54_005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        )
    }

    /// `AADSTS50034`: the user of a grant no longer exists.
    pub(crate) fn user_not_found() -> Self {
        OAuthError::new(
            400,
            "invalid_grant",
            50_034,
            "The user account does not exist in this directory.",
        )
    }

    /// `AADSTS70008`: an expired (or unknown) code or refresh token.
    pub(crate) fn grant_expired() -> Self {
        OAuthError::new(
            400,
            "invalid_grant",
            70_008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        )
    }

    /// `AADSTS7000218`: a confidential client sent no credential.
    pub(crate) fn credential_required() -> Self {
        OAuthError::new(
            401,
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    }

    /// `AADSTS50020`: the user is not in the tenant the request names.
    pub(crate) fn user_not_in_tenant(error: &'static str, username: &str, directory: &str) -> Self {
        OAuthError::new(
            400,
            error,
            50_020,
            format!(
                "User account '{username}' from identity provider does not exist in tenant '{directory}'."
            ),
        )
    }

    /// The JSON body Entra writes.
    pub(crate) fn body(&self, shared: &Shared, ctx: &ErrCtx) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), json!(self.error));
        m.insert(
            "error_description".into(),
            json!(format!(
                "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                self.code, self.message, ctx.trace_id, ctx.correlation_id, ctx.timestamp
            )),
        );
        m.insert("error_codes".into(), json!([self.code]));
        m.insert("timestamp".into(), json!(ctx.timestamp));
        m.insert("trace_id".into(), json!(ctx.trace_id));
        m.insert("correlation_id".into(), json!(ctx.correlation_id));
        m.insert(
            "error_uri".into(),
            json!(format!("{}/error?code={}", shared.entra_base(), self.code)),
        );
        if let Some(s) = self.suberror {
            m.insert("suberror".into(), json!(s));
        }
        if let Some(c) = &self.claims {
            m.insert("claims".into(), json!(c));
        }
        Value::Object(m)
    }

    pub(crate) fn response(&self, shared: &Shared, req: &Req) -> Resp {
        let now = shared.lock().now();
        let ctx = ErrCtx::new(req, now);
        json_response(self.status, &self.body(shared, &ctx), req, &ctx.trace_id)
    }
}

/// A JSON response with the headers Entra sends on token-endpoint answers.
pub(crate) fn json_response(status: u16, body: &Value, req: &Req, trace_id: &str) -> Resp {
    let mut resp = Resp::json(status, body)
        .header("cache-control", "no-store, no-cache")
        .header("pragma", "no-cache")
        .header("x-ms-request-id", trace_id);
    if req
        .header("return-client-request-id")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        && let Some(id) = req.header("client-request-id")
    {
        resp = resp.header("client-request-id", id);
    }
    resp
}

/// The body of an injected status fault.
pub(crate) fn status_fault(shared: &Shared, req: &Req, status: u16) -> Resp {
    let err = match status {
        429 => OAuthError::new(
            429,
            "temporarily_unavailable",
            50_196,
            "The server terminated an operation because it encountered a client request loop. Please contact your app vendor.",
        ),
        503 | 504 => OAuthError::new(
            status,
            "temporarily_unavailable",
            90_033,
            "A transient error has occurred. Please try again.",
        ),
        s if s >= 500 => OAuthError::new(
            s,
            "server_error",
            90_100,
            "An unexpected error occurred. Please try again.",
        ),
        401 => OAuthError::new(
            401,
            "invalid_client",
            7_000_215,
            "Invalid client secret provided.",
        ),
        s => OAuthError::new(
            s,
            "invalid_request",
            900_144,
            "The request was rejected (injected fault).",
        ),
    };
    let mut resp = err.response(shared, req);
    resp.status = status;
    resp
}

/// Why a tenant segment cannot be used.
pub(crate) enum TenantError {
    Invalid,
    NotFound,
}

/// Validates the tenant segment's characters (azure-identity's rule, also Entra's).
fn tenant_segment_valid(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Resolves a concrete tenant segment to a tenant id; `organizations`/`common` give `None`.
pub(crate) fn resolve_tenant(st: &State, segment: &str) -> Result<Option<String>, TenantError> {
    if !tenant_segment_valid(segment) {
        return Err(TenantError::Invalid);
    }
    if segment.eq_ignore_ascii_case("organizations") || segment.eq_ignore_ascii_case("common") {
        return Ok(None);
    }
    if !util::is_guid(segment) && !segment.contains('.') {
        return Err(TenantError::Invalid);
    }
    st.tenant(segment)
        .map(|t| Some(t.id.clone()))
        .ok_or(TenantError::NotFound)
}

pub(crate) fn tenant_error(e: TenantError, segment: &str, discovery: bool) -> OAuthError {
    match e {
        TenantError::Invalid => OAuthError::new(
            400,
            "invalid_request",
            900_023,
            format!(
                "Specified tenant identifier '{segment}' is neither a valid DNS name, nor a valid external domain."
            ),
        ),
        TenantError::NotFound => OAuthError::new(
            400,
            if discovery {
                "invalid_tenant"
            } else {
                "invalid_request"
            },
            90_002,
            format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ),
    }
}

/// The directory name Entra writes in some messages.
pub(crate) fn directory_name(st: &State, tenant_id: &str) -> String {
    st.tenant(tenant_id)
        .and_then(|t| t.display_name.clone())
        .unwrap_or_else(|| tenant_id.to_owned())
}

/// The app `client_id` usable in `tenant_id` (in any tenant when `None`), or `AADSTS700016`
/// naming `tenant_id`, else `segment`.
pub(crate) fn find_app(
    st: &State,
    tenant_id: Option<&str>,
    segment: &str,
    client_id: &str,
) -> Result<App, OAuthError> {
    st.app(tenant_id, client_id).cloned().ok_or_else(|| {
        OAuthError::new(
            400,
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                directory_name(st, tenant_id.unwrap_or(segment))
            ),
        )
    })
}

/// A non-empty parameter, or `AADSTS900144` naming it.
pub(crate) fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::missing(name))
}

/// A non-empty form field, or `AADSTS900144` naming it.
pub(crate) fn require<'a>(req: &'a Req, name: &str) -> Result<&'a str, OAuthError> {
    required(req.form(name), name)
}

/// The `client_info` Entra returns: base64url JSON `{"uid", "utid"}`.
pub(crate) fn client_info(user: &User) -> String {
    let ci = json!({"uid": user.object_id, "utid": user.tenant_id}).to_string();
    util::b64url(ci.as_bytes())
}

/// The Conditional Access decision for a principal: `Err` when a policy refuses.
pub(crate) fn conditional_access(
    st: &State,
    app: &App,
    user: Option<&User>,
    resource: &str,
    mfa_done: bool,
) -> Result<(), OAuthError> {
    let principal = match user {
        Some(u) => [u.username.as_str(), u.object_id.as_str()],
        None => [app.client_id.as_str(), app.object_id.as_str()],
    };
    for policy in st
        .setup
        .policies
        .iter()
        .filter(|p| p.applies_to(&principal))
    {
        let claims =
            json!({"access_token": {"capolids": {"essential": true, "values": [policy.id]}}})
                .to_string();
        match policy.kind {
            PolicyKind::Block => {
                return Err(OAuthError::new(
                    400,
                    "access_denied",
                    53_003,
                    "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
                )
                .suberror("message_only")
                .claims(claims));
            }
            PolicyKind::RequireMfa if !mfa_done => {
                return Err(OAuthError::new(
                    400,
                    "interaction_required",
                    50_076,
                    format!(
                        "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resource}'."
                    ),
                )
                .suberror("basic_action")
                .claims(claims));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a user must pass MFA on the sign-in pages.
pub(crate) fn user_needs_mfa(st: &State, user: &User) -> bool {
    st.setup.policies.iter().any(|p| {
        p.kind == PolicyKind::RequireMfa && p.applies_to(&[&user.username, &user.object_id])
    })
}

fn discovery(shared: &Shared, req: &Req, segment: &str) -> Resp {
    let st = shared.lock();
    let tenant_id = match resolve_tenant(&st, segment) {
        Ok(t) => t,
        Err(e) => {
            drop(st);
            return tenant_error(e, segment, true).response(shared, req);
        }
    };
    drop(st);
    let base = shared.entra_base();
    let issuer_tenant = tenant_id.clone().unwrap_or_else(|| "{tenantid}".to_owned());
    let t = tenant_id.as_deref().unwrap_or(segment);
    let doc = json!({
        "token_endpoint": format!("{base}/{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{t}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    });
    Resp::json(200, &doc)
}

fn instance_discovery(shared: &Shared, req: &Req) -> Resp {
    let base = shared.entra_base();
    let host = base.split("://").nth(1).unwrap_or(base);
    let endpoint = req
        .query("authorization_endpoint")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{base}/common/oauth2/authorize"));
    let tenant = endpoint.split('/').nth(3).unwrap_or("common").to_owned();
    Resp::json(
        200,
        &json!({
            "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]
        }),
    )
}

fn error_page(req: &Req) -> Resp {
    let code = req.query("code").unwrap_or("");
    Resp::html(
        200,
        format!(
            "<!DOCTYPE html><html><head><title>Error {0}</title></head><body><h1>AADSTS{0}</h1>\
             <p>Emulated Microsoft Entra ID error lookup.</p></body></html>",
            util::html_escape(code)
        ),
    )
}

/// Whether `client_id` names the Azure CLI.
pub(crate) fn is_azure_cli(client_id: &str) -> bool {
    client_id.eq_ignore_ascii_case(AZURE_CLI_CLIENT_ID)
}
