//! The managed-identity endpoints (`shared/docs/protocol-msi-cli-arm.md` §1–§2): IMDS, App
//! Service, Azure Arc, Azure ML compute, Cloud Shell and Service Fabric, on one listener.
//!
//! | source | method and path | told apart by |
//! |---|---|---|
//! | IMDS (and AKS pod identity) | `GET /metadata/identity/oauth2/token` | `api-version=2018-02-01` |
//! | Azure Arc | `GET /metadata/identity/oauth2/token` | `api-version=2020-06-01` |
//! | Service Fabric | `GET /metadata/identity/oauth2/token` | `api-version=2019-07-01-preview` |
//! | App Service | `GET /MSI/token` | |
//! | Azure ML compute | `GET /MSI/auth` | |
//! | Cloud Shell | `POST /oauth2/token` | |
//!
//! Each checks its real request (api-version, parameters and their spelling, headers, the
//! secret) and answers its real response shape; a request it would refuse is refused with that
//! source's error body. Identities come from [`Setup::system_identity`] and
//! [`Setup::user_assigned_identity`].

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::entra::{IssueRequest, issue_access_token};
use crate::fault::Endpoint;
use crate::server::{Req, Resp};
use crate::setup::Setup;
use crate::state::{Shared, State};
use crate::util;

/// The tenant of managed identities when the setup has no tenant.
const FALLBACK_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// A managed identity: its client id, object (principal) id and ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedIdentity {
    pub(crate) client_id: String,
    pub(crate) object_id: String,
    pub(crate) resource_id: String,
}

impl ManagedIdentity {
    /// An identity with these ids (the resource id matters for user-assigned identities).
    pub fn new(client_id: &str, object_id: &str, resource_id: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            object_id: object_id.to_owned(),
            resource_id: resource_id.to_owned(),
        }
    }

    fn matches(&self, selector: &Selector) -> bool {
        match selector {
            Selector::Client(v) => self.client_id.eq_ignore_ascii_case(v),
            Selector::Object(v) => self.object_id.eq_ignore_ascii_case(v),
            Selector::Resource(v) => self.resource_id.eq_ignore_ascii_case(v),
        }
    }
}

/// The managed-identity part of a [`Setup`].
#[derive(Debug, Clone)]
pub(crate) struct MsiSetup {
    system: Option<ManagedIdentity>,
    user_assigned: Vec<ManagedIdentity>,
    msi_secret: String,
    identity_header: String,
    arc_key_directory: Option<PathBuf>,
    cloud_shell_user: Option<String>,
    azure_ml_date_expiry: bool,
    arc_legacy_agent: bool,
    /// IMDS answers this status until this emulator time (epoch seconds).
    imds_status_until: Option<(u16, i64)>,
    /// Arc key files handed out and not yet used: (path, content).
    arc_keys: Vec<(PathBuf, String)>,
}

impl Default for MsiSetup {
    fn default() -> Self {
        Self {
            system: None,
            user_assigned: Vec::new(),
            msi_secret: "emulator-msi-secret-0123456789".to_owned(),
            identity_header: "emulator-identity-header-0123456789".to_owned(),
            arc_key_directory: None,
            cloud_shell_user: None,
            azure_ml_date_expiry: false,
            arc_legacy_agent: false,
            imds_status_until: None,
            arc_keys: Vec::new(),
        }
    }
}

impl Setup {
    /// The resource's system-assigned managed identity (every source serves it).
    pub fn system_identity(mut self, identity: ManagedIdentity) -> Self {
        self.managed.system = Some(identity);
        self
    }

    /// A user-assigned identity assigned to the resource.
    pub fn user_assigned_identity(mut self, identity: ManagedIdentity) -> Self {
        self.managed.user_assigned.push(identity);
        self
    }

    /// The `MSI_SECRET` Azure ML compute expects in its `secret` header.
    pub fn msi_secret(mut self, secret: &str) -> Self {
        self.managed.msi_secret = secret.to_owned();
        self
    }

    /// The `IDENTITY_HEADER` App Service (`X-IDENTITY-HEADER`) and Service Fabric (`Secret`)
    /// expect.
    pub fn identity_header(mut self, value: &str) -> Self {
        self.managed.identity_header = value.to_owned();
        self
    }

    /// Where the emulated Azure Arc agent writes its key files (without it, Arc answers 500).
    pub fn arc_key_directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.managed.arc_key_directory = Some(dir.into());
        self
    }

    /// The object id of the setup's user signed in to Cloud Shell (Cloud Shell tokens are
    /// delegated tokens of that user).
    pub fn cloud_shell_user(mut self, object_id: &str) -> Self {
        self.managed.cloud_shell_user = Some(object_id.to_owned());
        self
    }

    /// The Azure Arc agent is a legacy one: it ignores user-assigned selectors and returns the
    /// system-assigned identity's token without echoing a selector.
    pub fn arc_legacy_agent(mut self, legacy: bool) -> Self {
        self.managed.arc_legacy_agent = legacy;
        self
    }

    /// Azure ML compute answers `expires_on` as the legacy date string
    /// (`MM/DD/YYYY HH:MM:SS +00:00`) instead of an integer.
    pub fn azure_ml_date_expiry(mut self, date: bool) -> Self {
        self.managed.azure_ml_date_expiry = date;
        self
    }
}

/// The secrets the emulator expects: (`MSI_SECRET`, `IDENTITY_HEADER`).
pub(crate) fn secrets(shared: &Shared) -> (String, String) {
    let st = shared.lock();
    (
        st.setup.managed.msi_secret.clone(),
        st.setup.managed.identity_header.clone(),
    )
}

/// IMDS answers `status` for `seconds` of emulator time from now.
pub(crate) fn imds_status_for(shared: &Shared, status: u16, seconds: u64) {
    let mut st = shared.lock();
    let until = st.now() + seconds as i64;
    st.setup.managed.imds_status_until = Some((status, until));
}

pub(crate) fn classify(req: &Req) -> Option<Endpoint> {
    match req.path.as_str() {
        "/metadata/identity/oauth2/token" => match req.query("api-version") {
            Some("2020-06-01") => Some(Endpoint::AzureArc),
            Some("2019-07-01-preview") => Some(Endpoint::ServiceFabric),
            _ => Some(Endpoint::Imds),
        },
        "/MSI/token" => Some(Endpoint::AppService),
        "/MSI/auth" => Some(Endpoint::AzureMl),
        "/oauth2/token" => Some(Endpoint::CloudShell),
        _ => None,
    }
}

/// Which identity a request selects.
enum Selector {
    Client(String),
    Object(String),
    Resource(String),
}

fn imds_error(status: u16, error: &str, description: &str) -> Resp {
    Resp::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn app_service_error(status: u16, message: &str) -> Resp {
    Resp::json(status, &json!({"statusCode": status, "message": message}))
}

fn service_fabric_error(status: u16, code: &str, message: &str) -> Resp {
    Resp::json(
        status,
        &json!({"error": {"code": code, "message": message, "correlationId": util::uuid_v4()}}),
    )
}

/// The error body a source sends for an injected status.
pub(crate) fn status_fault(_shared: &Shared, req: &Req, status: u16) -> Resp {
    let endpoint = classify(req);
    match (endpoint, status) {
        (Some(Endpoint::Imds), 403) => imds_error(
            403,
            "forbidden",
            "connecting to 169.254.169.254:80: connecting to 169.254.169.254:80: dial tcp 169.254.169.254:80: connectex: A socket operation was attempted to an unreachable network.",
        ),
        (Some(Endpoint::AppService | Endpoint::AzureMl), _) => app_service_error(
            status,
            "An unexpected error occured while fetching the AAD Token.",
        ),
        (Some(Endpoint::ServiceFabric), _) => {
            service_fabric_error(status, "InternalServerError", "The service is unavailable.")
        }
        (_, 400) => imds_error(400, "invalid_request", "Identity not found"),
        (_, 404) => imds_error(404, "not_found", "IMDS endpoint is updating"),
        (_, 410) => imds_error(410, "gone", "IMDS is going through updates"),
        (_, 429) => imds_error(429, "too_many_requests", "IMDS throttle limit reached"),
        _ => imds_error(
            status,
            "server_error",
            "Internal error in the managed identity subsystem",
        ),
    }
}

pub(crate) fn route(shared: &Shared, req: &Req) -> Resp {
    let mut st = shared.lock();
    let Some(endpoint) = classify(req) else {
        return imds_error(404, "not_found", "no such managed identity endpoint");
    };
    if endpoint == Endpoint::Imds
        && let Some((status, until)) = st.setup.managed.imds_status_until
    {
        if st.now() < until {
            return status_fault(shared, req, status);
        }
        st.setup.managed.imds_status_until = None;
    }
    match endpoint {
        Endpoint::Imds => imds(shared, &st, req),
        Endpoint::AzureArc => arc(shared, &mut st, req),
        Endpoint::ServiceFabric => service_fabric(shared, &st, req),
        Endpoint::AppService => app_service(shared, &st, req),
        Endpoint::AzureMl => azure_ml(shared, &st, req),
        Endpoint::CloudShell => cloud_shell(shared, &st, req),
        _ => imds_error(404, "not_found", "no such managed identity endpoint"),
    }
}

/// The selector among `names` (name, kind): at most one may be given.
fn selector(req: &Req, names: &[(&str, u8)]) -> Result<Option<Selector>, ()> {
    let mut found = None;
    for (name, kind) in names {
        if let Some(v) = req.query(name) {
            if found.is_some() {
                return Err(());
            }
            let v = v.to_owned();
            found = Some(match kind {
                0 => Selector::Client(v),
                1 => Selector::Object(v),
                _ => Selector::Resource(v),
            });
        }
    }
    Ok(found)
}

/// The identity a selector names; without one, the system-assigned identity (or, as IMDS
/// does, the only user-assigned one when there is no system-assigned identity).
fn identity(st: &State, selector: Option<&Selector>) -> Option<ManagedIdentity> {
    let m = &st.setup.managed;
    match selector {
        Some(s) => m
            .user_assigned
            .iter()
            .chain(m.system.iter())
            .find(|i| i.matches(s))
            .cloned(),
        None => m
            .system
            .clone()
            .or_else(|| match m.user_assigned.as_slice() {
                [only] => Some(only.clone()),
                _ => None,
            }),
    }
}

fn mint(shared: &Shared, st: &State, id: &ManagedIdentity, resource: &str) -> (String, i64) {
    let issued = issue_access_token(
        shared,
        st,
        &IssueRequest {
            tenant_id: st.default_tenant().unwrap_or(FALLBACK_TENANT).to_owned(),
            client_id: id.client_id.clone(),
            app_object_id: id.object_id.clone(),
            app_roles: Vec::new(),
            user: None,
            resource: resource.to_owned(),
            claims_request: None,
            appidacr: "2",
            mfa: false,
        },
    );
    (issued.access_token, issued.expires_in)
}

fn resource(req: &Req) -> Option<&str> {
    req.query("resource").filter(|r| !r.is_empty())
}

fn imds(shared: &Shared, st: &State, req: &Req) -> Resp {
    if req.method != http::Method::GET {
        return imds_error(405, "invalid_request", "Method not allowed");
    }
    if req.header("metadata") != Some("true") {
        return imds_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    if req.query("api-version") != Some("2018-02-01") {
        return imds_error(
            400,
            "invalid_request",
            "Invalid or missing api-version parameter",
        );
    }
    let Some(resource) = resource(req) else {
        return imds_error(
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    let Ok(sel) = selector(
        req,
        &[("client_id", 0), ("object_id", 1), ("msi_res_id", 2)],
    ) else {
        return imds_error(
            400,
            "invalid_request",
            "Only one of client_id, object_id or msi_res_id may be specified",
        );
    };
    let Some(id) = identity(st, sel.as_ref()) else {
        return imds_error(400, "invalid_request", "Identity not found");
    };
    let (token, expires_in) = mint(shared, st, &id, resource);
    let now = st.now();
    Resp::json(
        200,
        &json!({
            "access_token": token,
            "client_id": id.client_id,
            "expires_in": expires_in.to_string(),
            "expires_on": (now + expires_in).to_string(),
            "ext_expires_in": expires_in.to_string(),
            "not_before": (now - 300).to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    )
}

fn arc(shared: &Shared, st: &mut State, req: &Req) -> Resp {
    if req.header("metadata") != Some("true") {
        return imds_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let Some(resource) = resource(req).map(str::to_owned) else {
        return imds_error(
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    // Arc honours msi_res_id; mi_res_id is ignored (the system identity is returned).
    let Ok(sel) = selector(
        req,
        &[("client_id", 0), ("object_id", 1), ("msi_res_id", 2)],
    ) else {
        return imds_error(
            400,
            "invalid_request",
            "Only one identity selector may be specified",
        );
    };
    let Some(auth) = req.header("authorization") else {
        let Some(dir) = st.setup.managed.arc_key_directory.clone() else {
            return imds_error(500, "server_error", "the agent has no token directory");
        };
        let path = dir.join(format!("{}.key", util::random_token(16)));
        let content = util::random_token(48);
        if std::fs::write(&path, &content).is_err() {
            return imds_error(
                500,
                "server_error",
                "the agent could not write its key file",
            );
        }
        st.setup.managed.arc_keys.push((path.clone(), content));
        return imds_error(401, "unauthorized_client", "Unauthorized").header(
            "www-authenticate",
            &format!("Basic realm={}", path.display()),
        );
    };
    let presented = auth.strip_prefix("Basic ").unwrap_or_default();
    let Some(pos) = st
        .setup
        .managed
        .arc_keys
        .iter()
        .position(|(_, k)| !presented.is_empty() && k == presented)
    else {
        return imds_error(401, "unauthorized_client", "Invalid key");
    };
    let (path, _) = st.setup.managed.arc_keys.remove(pos);
    let _ = std::fs::remove_file(path);
    let sel = if st.setup.managed.arc_legacy_agent {
        None
    } else {
        sel
    };
    let Some(id) = identity(st, sel.as_ref()) else {
        return imds_error(400, "invalid_request", "Identity not found");
    };
    let (token, expires_in) = mint(shared, st, &id, &resource);
    let now = st.now();
    let mut body = json!({
        "access_token": token,
        "expires_in": expires_in.to_string(),
        "expires_on": (now + expires_in).to_string(),
        "not_before": (now - 300).to_string(),
        "resource": resource,
        "token_type": "Bearer",
    });
    if let (Some(sel), Value::Object(o)) = (&sel, &mut body) {
        let (k, v) = match sel {
            Selector::Client(_) => ("client_id", &id.client_id),
            Selector::Object(_) => ("object_id", &id.object_id),
            Selector::Resource(_) => ("msi_res_id", &id.resource_id),
        };
        o.insert(k.to_owned(), json!(v));
    }
    Resp::json(200, &body)
}

fn service_fabric(shared: &Shared, st: &State, req: &Req) -> Resp {
    if req.header("secret") != Some(st.setup.managed.identity_header.as_str()) {
        return service_fabric_error(
            401,
            "SecretHeaderNotFound",
            "Secret is not found in the request headers.",
        );
    }
    let Some(resource) = resource(req) else {
        return service_fabric_error(
            400,
            "ArgumentNullOrEmpty",
            "Value cannot be null. Parameter name: resource",
        );
    };
    let Some(id) = identity(st, None) else {
        return service_fabric_error(
            404,
            "ManagedIdentityNotFound",
            "No managed identity is assigned to the application.",
        );
    };
    let (token, expires_in) = mint(shared, st, &id, resource);
    Resp::json(
        200,
        &json!({
            "access_token": token,
            "expires_on": (st.now() + expires_in).to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    )
}

fn app_service(shared: &Shared, st: &State, req: &Req) -> Resp {
    if req.header("x-identity-header") != Some(st.setup.managed.identity_header.as_str()) {
        return app_service_error(401, "The X-IDENTITY-HEADER header is missing or invalid.");
    }
    if req.query("api-version") != Some("2019-08-01") {
        return app_service_error(
            400,
            "The api-version parameter is missing or not supported.",
        );
    }
    let Some(resource) = resource(req) else {
        return app_service_error(400, "The resource parameter is missing.");
    };
    let Ok(sel) = selector(
        req,
        &[
            ("client_id", 0),
            ("principal_id", 1),
            ("object_id", 1),
            ("mi_res_id", 2),
        ],
    ) else {
        return app_service_error(
            400,
            "Only one of client_id, principal_id or mi_res_id may be specified.",
        );
    };
    let Some(id) = identity(st, sel.as_ref()) else {
        return app_service_error(
            400,
            "No managed identity found for specified ClientId/ResourceId/PrincipalId.",
        );
    };
    let (token, expires_in) = mint(shared, st, &id, resource);
    let now = st.now();
    Resp::json(
        200,
        &json!({
            "access_token": token,
            "expires_on": (now + expires_in).to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": id.client_id,
            "not_before": (now - 300).to_string(),
        }),
    )
}

fn azure_ml(shared: &Shared, st: &State, req: &Req) -> Resp {
    if req.header("secret") != Some(st.setup.managed.msi_secret.as_str()) {
        return app_service_error(401, "The secret header is missing or invalid.");
    }
    if req.query("api-version") != Some("2017-09-01") {
        return app_service_error(
            400,
            "The api-version parameter is missing or not supported.",
        );
    }
    let Some(resource) = resource(req) else {
        return app_service_error(400, "The resource parameter is missing.");
    };
    if [
        "client_id",
        "object_id",
        "msi_res_id",
        "mi_res_id",
        "principal_id",
    ]
    .iter()
    .any(|p| req.query(p).is_some())
    {
        return imds_error(
            400,
            "invalid_request",
            "Azure ML compute selects a user-assigned identity by clientid only",
        );
    }
    let sel = req
        .query("clientid")
        .map(|c| Selector::Client(c.to_owned()));
    let Some(id) = identity(st, sel.as_ref()) else {
        return imds_error(400, "invalid_request", "Identity not found");
    };
    let (token, expires_in) = mint(shared, st, &id, resource);
    let at = st.now() + expires_in;
    let expires_on = if st.setup.managed.azure_ml_date_expiry {
        json!(legacy_date(at))
    } else {
        json!(at)
    };
    Resp::json(
        200,
        &json!({
            "access_token": token,
            "expires_on": expires_on,
            "resource": resource,
            "token_type": "Bearer",
            "client_id": id.client_id,
        }),
    )
}

fn cloud_shell(shared: &Shared, st: &State, req: &Req) -> Resp {
    if req.method != http::Method::POST {
        return imds_error(405, "invalid_request", "Method not allowed");
    }
    if req.header("metadata") != Some("true") {
        return imds_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let Some(resource) = req.form("resource").filter(|r| !r.is_empty()) else {
        return imds_error(
            400,
            "invalid_request",
            "Required resource field not specified",
        );
    };
    let user = st
        .setup
        .managed
        .cloud_shell_user
        .as_deref()
        .and_then(|oid| st.user_by_oid(oid))
        .cloned();
    let Some(user) = user else {
        return imds_error(
            400,
            "invalid_request",
            "No user is signed in to Cloud Shell",
        );
    };
    let issued = issue_access_token(
        shared,
        st,
        &IssueRequest {
            tenant_id: user.tenant_id.clone(),
            client_id: crate::setup::AZURE_CLI_CLIENT_ID.to_owned(),
            app_object_id: String::new(),
            app_roles: Vec::new(),
            user: Some(user),
            resource: resource.to_owned(),
            claims_request: None,
            appidacr: "0",
            mfa: true,
        },
    );
    let now = st.now();
    Resp::json(
        200,
        &json!({
            "access_token": issued.access_token,
            "expires_in": issued.expires_in.to_string(),
            "expires_on": (now + issued.expires_in).to_string(),
            "not_before": (now - 300).to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    )
}

/// `MM/DD/YYYY HH:MM:SS +00:00` (UTC), the legacy App Service 2017 form.
fn legacy_date(secs: i64) -> String {
    let (y, m, d, h, mi, s) = crate::util::split(secs);
    format!("{m:02}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02} +00:00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_dates() {
        assert_eq!(legacy_date(1_560_999_478), "06/20/2019 02:57:58 +00:00");
        assert_eq!(legacy_date(1_700_003_600), "11/14/2023 23:13:20 +00:00");
    }
}
