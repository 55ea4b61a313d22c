//! `POST /{tenant}/oauth2/v2.0/token`: every grant, and access-token issuance.

use serde_json::{Map, Value, json};

use super::{
    OAuthError, client_info, conditional_access, find_app, is_azure_cli, require, resolve_tenant,
    tenant_error,
};
use crate::server::Req;
use crate::setup::{App, User};
use crate::state::{DeviceState, RefreshGrant, Shared, State};
use crate::util;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const RESERVED_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];
/// Resources with a service principal in every tenant.
const KNOWN_RESOURCES: &[&str] = &[
    "https://management.core.windows.net",
    "https://management.azure.com",
    "https://ml.azure.com",
    "https://graph.microsoft.com",
    "https://graph.windows.net",
    "https://vault.azure.net",
    "https://storage.azure.com",
    "https://database.windows.net",
];
/// Lifetime of refresh tokens (sliding), seconds.
const REFRESH_TOKEN_LIFETIME: i64 = 90 * 24 * 3600;

/// What a token request asks for, once the scope has been parsed.
#[derive(Debug, Clone)]
pub(crate) struct ScopeInfo {
    /// The access token's audience (the resource, derived from the scope text).
    pub(crate) resource: String,
    /// Resource scopes as requested (e.g. `https://management.azure.com//.default`).
    pub(crate) resource_scopes: Vec<String>,
    /// Whether `openid` was requested (→ `id_token`).
    pub(crate) openid: bool,
    /// Whether `offline_access` was requested (→ `refresh_token`).
    pub(crate) offline_access: bool,
}

/// Parses a space-separated scope list as Entra does.
pub(crate) fn parse_scope(
    st: &State,
    scope: &str,
    tenant_name: &str,
) -> Result<ScopeInfo, OAuthError> {
    let mut resource: Option<String> = None;
    let mut resource_scopes = Vec::new();
    let mut info = ScopeInfo {
        resource: String::new(),
        resource_scopes: Vec::new(),
        openid: false,
        offline_access: false,
    };
    for s in scope.split_whitespace() {
        if RESERVED_SCOPES.contains(&s) {
            info.openid |= s == "openid";
            info.offline_access |= s == "offline_access";
            continue;
        }
        let r = if let Some(r) = s.strip_suffix("/.default") {
            r.to_owned()
        } else if s.contains("://") {
            match s.rfind('/') {
                Some(i) if i > s.find("://").unwrap_or(0) + 2 => s[..i].to_owned(),
                _ => s.to_owned(),
            }
        } else {
            "https://graph.microsoft.com".to_owned()
        };
        if let Some(existing) = &resource {
            if existing.trim_end_matches('/') != r.trim_end_matches('/') {
                return Err(OAuthError::new(
                    400,
                    "invalid_scope",
                    28_000,
                    format!(
                        "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
                    ),
                ));
            }
        } else {
            resource = Some(r);
        }
        resource_scopes.push(s.to_owned());
    }
    let resource = resource.unwrap_or_else(|| "https://graph.microsoft.com".to_owned());
    let bare = resource.trim_end_matches('/');
    let known = KNOWN_RESOURCES.iter().any(|k| k.eq_ignore_ascii_case(bare))
        || st.setup.apps.iter().any(|a| {
            a.client_id.eq_ignore_ascii_case(bare)
                || format!("api://{}", a.client_id).eq_ignore_ascii_case(bare)
        });
    if !known {
        return Err(OAuthError::new(
            400,
            "invalid_resource",
            500_011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant_name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        ));
    }
    info.resource = resource;
    info.resource_scopes = resource_scopes;
    Ok(info)
}

/// Parses the `claims` request parameter.
fn parse_claims(req: &Req) -> Result<Option<Value>, OAuthError> {
    match req.form("claims") {
        None => Ok(None),
        Some(c) => serde_json::from_str::<Value>(c)
            .ok()
            .filter(Value::is_object)
            .map(Some)
            .ok_or_else(|| {
                OAuthError::new(
                    400,
                    "invalid_request",
                    90_007,
                    "The claims parameter is not valid JSON.",
                )
            }),
    }
}

/// Everything an access token is issued from.
#[derive(Debug, Clone)]
pub(crate) struct IssueRequest {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    /// Object id of the app's service principal (app-only tokens).
    pub(crate) app_object_id: String,
    pub(crate) app_roles: Vec<String>,
    pub(crate) user: Option<User>,
    pub(crate) resource: String,
    pub(crate) claims_request: Option<Value>,
    /// `0` public client, `1` secret, `2` certificate or assertion.
    pub(crate) appidacr: &'static str,
    pub(crate) mfa: bool,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) expires_in: i64,
    pub(crate) refresh_in: Option<i64>,
}

/// Whether a claims request declares the `CP1` client capability.
fn declares_cp1(claims: Option<&Value>) -> bool {
    claims
        .and_then(|c| c.pointer("/access_token/xms_cc/values"))
        .and_then(Value::as_array)
        .is_some_and(|v| {
            v.iter()
                .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("cp1")))
        })
}

/// The `acrs` values a claims request asks for.
fn requested_acrs(claims: Option<&Value>) -> Vec<String> {
    let Some(acrs) = claims.and_then(|c| c.pointer("/access_token/acrs")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = acrs
        .get("value")
        .and_then(Value::as_str)
        .map(|s| vec![s.to_owned()])
        .unwrap_or_default();
    if let Some(vs) = acrs.get("values").and_then(Value::as_array) {
        out.extend(vs.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    out
}

fn is_arm_audience(resource: &str) -> bool {
    let r = resource.trim_end_matches('/').to_ascii_lowercase();
    r == "https://management.core.windows.net" || r == "https://management.azure.com"
}

/// Mints a v1-shaped HS256 access token (what ARM and Azure ML accept).
pub(crate) fn issue_access_token(shared: &Shared, st: &State, r: &IssueRequest) -> Issued {
    let now = st.now();
    let cae = declares_cp1(r.claims_request.as_ref());
    let lifetime = if cae && is_arm_audience(&r.resource) {
        st.setup.cae_token_lifetime.as_secs() as i64
    } else {
        st.setup.token_lifetime.as_secs() as i64
    };
    let sts = format!("https://sts.windows.net/{}/", r.tenant_id);
    let mut c = Map::new();
    c.insert("aud".into(), json!(r.resource));
    c.insert("iss".into(), json!(sts));
    c.insert("iat".into(), json!(now - 300));
    c.insert("nbf".into(), json!(now - 300));
    c.insert("exp".into(), json!(now + lifetime));
    c.insert("aio".into(), json!(util::random_token(24)));
    c.insert("appid".into(), json!(r.client_id));
    c.insert("appidacr".into(), json!(r.appidacr));
    c.insert("idp".into(), json!(sts));
    c.insert("rh".into(), json!(format!("0.{}.", util::random_token(16))));
    c.insert("tid".into(), json!(r.tenant_id));
    c.insert("uti".into(), json!(util::random_token(16)));
    c.insert("ver".into(), json!("1.0"));
    match &r.user {
        Some(u) => {
            let mut amr = vec!["pwd"];
            if r.mfa {
                amr.push("mfa");
            }
            c.insert("amr".into(), json!(amr));
            c.insert("idtyp".into(), json!("user"));
            c.insert("name".into(), json!(u.display_name));
            c.insert("oid".into(), json!(u.object_id));
            c.insert("sub".into(), json!(util::b64url(u.object_id.as_bytes())));
            c.insert("upn".into(), json!(u.username));
            c.insert("unique_name".into(), json!(u.username));
            c.insert("scp".into(), json!("user_impersonation"));
            c.insert("ipaddr".into(), json!("127.0.0.1"));
        }
        None => {
            c.insert("idtyp".into(), json!("app"));
            c.insert("oid".into(), json!(r.app_object_id));
            c.insert("sub".into(), json!(r.app_object_id));
            if !r.app_roles.is_empty() {
                c.insert("roles".into(), json!(r.app_roles));
            }
        }
    }
    if cae {
        c.insert("xms_cc".into(), json!(["CP1"]));
    }
    let acrs = requested_acrs(r.claims_request.as_ref());
    if !acrs.is_empty() {
        c.insert("acrs".into(), json!(acrs));
    }
    let token = crate::jwt::sign_hs256(&shared.key, &shared.kid, &Value::Object(c));
    Issued {
        access_token: token,
        expires_in: lifetime,
        // Entra suggests a proactive refresh point for long-lived tokens: half the lifetime.
        refresh_in: (lifetime >= 7200).then_some(lifetime / 2),
    }
}

/// `client_secret_basic`: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(req: &Req) -> Option<(String, String)> {
    let value = req.header("authorization")?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(util::b64_decode_lenient(b64.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |v: &str| -> String {
        form_urlencoded::parse(format!("x={v}").as_bytes())
            .map(|(_, v)| v.into_owned())
            .next()
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The client id from the form, or from HTTP Basic authentication.
fn client_id_of<'a>(
    req: &'a Req,
    basic: Option<&'a (String, String)>,
) -> Result<&'a str, OAuthError> {
    req.form("client_id")
        .filter(|v| !v.is_empty())
        .or(basic.map(|(id, _)| id.as_str()))
        .ok_or_else(|| OAuthError::missing("client_id"))
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) fn token_grant(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    segment: &str,
) -> Result<Value, OAuthError> {
    let grant_type = require(req, "grant_type")?;
    let tenant = resolve_tenant(st, segment).map_err(|e| tenant_error(e, segment, false))?;
    match grant_type {
        "client_credentials" => client_credentials(shared, st, req, segment, tenant),
        "authorization_code" => authorization_code(shared, st, req, segment, tenant),
        "refresh_token" => refresh_token(shared, st, req, segment, tenant),
        DEVICE_CODE_GRANT => device_code(shared, st, req, segment, tenant),
        other => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// Authenticates the client of a request; returns `appidacr`.
fn authenticate_client(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    app: &App,
    segment: &str,
) -> Result<&'static str, OAuthError> {
    let basic = basic_credentials(req);
    let secret = req
        .form("client_secret")
        .or(basic.as_ref().map(|(_, s)| s.as_str()));
    let assertion = req.form("client_assertion");
    if app.public_client {
        if secret.is_some() || assertion.is_some() {
            return Err(OAuthError::new(
                401,
                "invalid_client",
                700_025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ));
        }
        return Ok("0");
    }
    if let Some(assertion) = assertion {
        match req.form("client_assertion_type") {
            None => return Err(OAuthError::missing("client_assertion_type")),
            Some(JWT_BEARER) => {}
            Some(other) => {
                return Err(OAuthError::new(
                    400,
                    "invalid_request",
                    70_002,
                    format!(
                        "Error validating credentials. The client_assertion_type '{other}' is not supported."
                    ),
                ));
            }
        }
        let token_urls = token_urls(shared, segment, &app.tenant_id);
        super::assertion::verify_client_assertion(st, app, assertion, &token_urls)?;
        return Ok("2");
    }
    if let Some(secret) = secret {
        return check_secret(app, secret).map(|()| "1");
    }
    Err(OAuthError::credential_required())
}

/// The token URLs an assertion's `aud` may name.
fn token_urls(shared: &Shared, segment: &str, tenant_id: &str) -> Vec<String> {
    let base = shared.entra_base();
    vec![
        format!("{base}/{segment}/oauth2/v2.0/token"),
        format!("{base}/{tenant_id}/oauth2/v2.0/token"),
    ]
}

fn check_secret(app: &App, secret: &str) -> Result<(), OAuthError> {
    if app.secrets.iter().any(|s| !s.expired && s.value == secret) {
        return Ok(());
    }
    if app.secrets.iter().any(|s| s.expired && s.value == secret) {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            7_000_222,
            format!(
                "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                app.client_id
            ),
        ));
    }
    Err(OAuthError::new(
        401,
        "invalid_client",
        7_000_215,
        format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
            app.client_id
        ),
    ))
}

fn no_tenant() -> OAuthError {
    OAuthError::new(
        400,
        "invalid_request",
        50_059,
        "No tenant-identifying information found in either the request or implied by any provided credentials.",
    )
}

fn client_credentials(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    segment: &str,
    tenant: Option<String>,
) -> Result<Value, OAuthError> {
    let basic = basic_credentials(req);
    let client_id = client_id_of(req, basic.as_ref())?;
    let tenant_id = tenant.ok_or_else(no_tenant)?;
    let scope = require(req, "scope")?;
    let app = find_app(st, Some(&tenant_id), segment, client_id)?;
    // A public client with no credential is told to send one; with one, `AADSTS700025`.
    if app.public_client
        && req.form("client_assertion").is_none()
        && req.form("client_secret").is_none()
        && basic.is_none()
    {
        return Err(OAuthError::credential_required());
    }
    let appidacr = authenticate_client(shared, st, req, &app, segment)?;
    let tenant_name = super::directory_name(st, &tenant_id);
    let info = parse_scope(st, scope, &tenant_name)?;
    if info.resource_scopes.len() != 1
        || !info.resource_scopes[0].ends_with("/.default")
        || info.openid
        || info.offline_access
    {
        return Err(OAuthError::new(
            400,
            "invalid_scope",
            1_002_012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    let claims = parse_claims(req)?;
    conditional_access(st, &app, None, &info.resource, false)?;
    let issued = issue_access_token(
        shared,
        st,
        &IssueRequest {
            tenant_id,
            client_id: app.client_id.clone(),
            app_object_id: app.object_id.clone(),
            app_roles: app.roles.clone(),
            user: None,
            resource: info.resource,
            claims_request: claims,
            appidacr,
            mfa: false,
        },
    );
    Ok(app_token_body(&issued))
}

fn app_token_body(i: &Issued) -> Value {
    let mut m = Map::new();
    m.insert("token_type".into(), json!("Bearer"));
    m.insert("expires_in".into(), json!(i.expires_in));
    m.insert("ext_expires_in".into(), json!(i.expires_in));
    if let Some(r) = i.refresh_in {
        m.insert("refresh_in".into(), json!(r));
    }
    m.insert("access_token".into(), json!(i.access_token));
    Value::Object(m)
}

/// Issues the response of a user flow: access token, refresh token, id token, client info.
#[allow(clippy::too_many_arguments)]
pub(crate) fn user_token_response(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    app: &App,
    user: &User,
    info: &ScopeInfo,
    claims: Option<Value>,
    appidacr: &'static str,
    mfa: bool,
    nonce: Option<&str>,
) -> Result<Value, OAuthError> {
    let issued = issue_access_token(
        shared,
        st,
        &IssueRequest {
            tenant_id: user.tenant_id.clone(),
            client_id: app.client_id.clone(),
            app_object_id: app.object_id.clone(),
            app_roles: Vec::new(),
            user: Some(user.clone()),
            resource: info.resource.clone(),
            claims_request: claims,
            appidacr,
            mfa,
        },
    );
    let now = st.now();
    let mut m = Map::new();
    m.insert("token_type".into(), json!("Bearer"));
    let mut granted: Vec<String> = info.resource_scopes.clone();
    let base = info.resource.trim_end_matches('/');
    let imp = if info.resource.ends_with('/') {
        format!("{base}//user_impersonation")
    } else {
        format!("{base}/user_impersonation")
    };
    if !granted.contains(&imp) {
        granted.insert(0, imp);
    }
    for (flag, name) in [
        (info.openid, "openid"),
        (info.openid, "profile"),
        (info.offline_access, "offline_access"),
    ] {
        if flag {
            granted.push(name.to_owned());
        }
    }
    m.insert("scope".into(), json!(granted.join(" ")));
    m.insert("expires_in".into(), json!(issued.expires_in));
    m.insert("ext_expires_in".into(), json!(issued.expires_in));
    if let Some(r) = issued.refresh_in {
        m.insert("refresh_in".into(), json!(r));
    }
    m.insert("access_token".into(), json!(issued.access_token));
    if info.offline_access {
        let rt = format!("1.A{}", util::random_token(48));
        st.refresh_tokens.insert(
            rt.clone(),
            RefreshGrant {
                client_id: app.client_id.clone(),
                user_object_id: user.object_id.clone(),
                mfa,
                expires_at: now + REFRESH_TOKEN_LIFETIME,
            },
        );
        m.insert("refresh_token".into(), json!(rt));
    }
    if info.openid {
        let mut id = json!({
            "aud": app.client_id,
            "iss": format!("{}/{}/v2.0", shared.entra_base(), user.tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user.display_name,
            "oid": user.object_id,
            "preferred_username": user.username,
            "sub": util::b64url(user.object_id.as_bytes()),
            "tid": user.tenant_id,
            "ver": "2.0"
        });
        if let Some(n) = nonce {
            id["nonce"] = json!(n);
        }
        m.insert(
            "id_token".into(),
            json!(crate::jwt::sign_hs256(&shared.key, &shared.kid, &id)),
        );
    }
    if req.form("client_info") == Some("1") {
        m.insert("client_info".into(), json!(client_info(user)));
    }
    if is_azure_cli(&app.client_id) {
        m.insert("foci".into(), json!("1"));
    }
    Ok(Value::Object(m))
}

/// `AADSTS65001` when nobody consented to the app for this user.
pub(crate) fn check_consent(st: &State, app: &App, user: &User) -> Result<(), OAuthError> {
    if st.consented(app, user) {
        return Ok(());
    }
    Err(OAuthError::new(
        400,
        "invalid_grant",
        65_001,
        format!(
            "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
            app.client_id, app.display_name
        ),
    )
    .suberror("consent_required"))
}

fn authorization_code(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    segment: &str,
    tenant: Option<String>,
) -> Result<Value, OAuthError> {
    let basic = basic_credentials(req);
    let client_id = client_id_of(req, basic.as_ref())?;
    let code = require(req, "code")?;
    let redirect_uri = require(req, "redirect_uri")?;
    let now = st.now();
    if st.redeemed_codes.contains(code) {
        return Err(OAuthError::already_redeemed());
    }
    let Some(grant) = st.auth_codes.get(code).cloned() else {
        return Err(OAuthError::new(
            400,
            "invalid_grant",
            9_002_313,
            "Invalid request. Request is malformed or invalid.",
        ));
    };
    let user = st
        .user_by_oid(&grant.user_object_id)
        .cloned()
        .ok_or_else(OAuthError::user_not_found)?;
    // On `organizations`/`common` the app must be usable in the user's tenant.
    let app_tenant = tenant.as_deref().unwrap_or(&user.tenant_id);
    let app = find_app(st, Some(app_tenant), segment, client_id)?;
    let appidacr = authenticate_client(shared, st, req, &app, segment)?;
    if !grant.client_id.eq_ignore_ascii_case(client_id) {
        return Err(OAuthError::new(
            400,
            "invalid_grant",
            70_000,
            "Provided grant is invalid or malformed. The authorization code was issued to another client.",
        ));
    }
    if grant.expires_at <= now {
        st.auth_codes.remove(code);
        return Err(OAuthError::grant_expired());
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::new(
            400,
            "invalid_grant",
            500_112,
            format!(
                "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting Authorization code.",
                grant.redirect_uri
            ),
        ));
    }
    let verifier = req.form("code_verifier");
    let pkce_ok = match (&grant.code_challenge, verifier) {
        (None, None) => true,
        (Some(challenge), Some(verifier)) => {
            use sha2::Digest as _;
            let ok_format = (43..=128).contains(&verifier.len())
                && verifier
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
            let computed = if grant.code_challenge_method.as_deref() == Some("plain") {
                verifier.to_owned()
            } else {
                util::b64url(&sha2::Sha256::digest(verifier.as_bytes()))
            };
            ok_format && &computed == challenge
        }
        (Some(_), None) | (None, Some(_)) => false,
    };
    if !pkce_ok {
        st.auth_codes.remove(code);
        let detail = if grant.code_challenge.is_none() {
            ": no code_challenge was supplied"
        } else {
            ""
        };
        return Err(OAuthError::new(
            400,
            "invalid_grant",
            501_481,
            format!(
                "The Code_Verifier does not match the code_challenge supplied in the authorization request{detail}."
            ),
        ));
    }
    // Single use: the code is spent whatever happens next.
    st.auth_codes.remove(code);
    st.redeemed_codes.insert(code.to_owned());
    let scope = req.form("scope").unwrap_or(&grant.scope).to_owned();
    let tenant_name = super::directory_name(st, &user.tenant_id);
    let info = parse_scope(st, &scope, &tenant_name)?;
    let claims = parse_claims(req)?.or_else(|| {
        grant
            .claims
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
    });
    conditional_access(st, &app, Some(&user), &info.resource, grant.mfa)?;
    user_token_response(
        shared,
        st,
        req,
        &app,
        &user,
        &info,
        claims,
        appidacr,
        grant.mfa,
        grant.nonce.as_deref(),
    )
}

fn refresh_token(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    segment: &str,
    tenant: Option<String>,
) -> Result<Value, OAuthError> {
    let basic = basic_credentials(req);
    let client_id = client_id_of(req, basic.as_ref())?;
    let rt = require(req, "refresh_token")?;
    let scope = require(req, "scope")?;
    let now = st.now();
    let Some(grant) = st.refresh_tokens.get(rt).cloned() else {
        return Err(OAuthError::grant_expired().suberror("bad_token"));
    };
    if grant.expires_at <= now {
        st.refresh_tokens.remove(rt);
        return Err(OAuthError::new(
            400,
            "invalid_grant",
            700_082,
            "The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90.00:00:00.",
        ));
    }
    let user = st
        .user_by_oid(&grant.user_object_id)
        .cloned()
        .ok_or_else(OAuthError::grant_expired)?;
    let app_tenant = tenant.as_deref().unwrap_or(&user.tenant_id);
    let app = find_app(st, Some(app_tenant), segment, client_id)?;
    let appidacr = authenticate_client(shared, st, req, &app, segment)?;
    if !grant.client_id.eq_ignore_ascii_case(client_id) {
        return Err(OAuthError::new(
            400,
            "invalid_grant",
            70_000,
            "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
        )
        .suberror("client_mismatch"));
    }
    if let Some(t) = &tenant
        && !t.eq_ignore_ascii_case(&user.tenant_id)
    {
        return Err(OAuthError::user_not_in_tenant(
            "invalid_grant",
            &user.username,
            &super::directory_name(st, t),
        ));
    }
    let tenant_name = super::directory_name(st, &user.tenant_id);
    let info = parse_scope(st, scope, &tenant_name)?;
    let claims = parse_claims(req)?;
    check_consent(st, &app, &user)?;
    conditional_access(st, &app, Some(&user), &info.resource, grant.mfa)?;
    // Rotation: the presented refresh token is spent; the response carries a new one.
    st.refresh_tokens.remove(rt);
    let mut info = info;
    info.offline_access = true;
    user_token_response(
        shared, st, req, &app, &user, &info, claims, appidacr, grant.mfa, None,
    )
}

fn device_code(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    segment: &str,
    _tenant: Option<String>,
) -> Result<Value, OAuthError> {
    let basic = basic_credentials(req);
    let client_id = client_id_of(req, basic.as_ref())?;
    let device_code = require(req, "device_code")?;
    let now = st.now();
    // A device code is valid only for the client and tenant segment it was issued to.
    let Some(idx) = st.device_flows.iter().position(|f| {
        f.device_code == device_code
            && f.client_id.eq_ignore_ascii_case(client_id)
            && f.tenant_segment.eq_ignore_ascii_case(segment)
    }) else {
        return Err(OAuthError::new(
            400,
            "bad_verification_code",
            70_000,
            "The provided value for the input parameter 'device_code' is not valid.",
        ));
    };
    let flow = st.device_flows[idx].clone();
    if now >= flow.expires_at {
        return Err(OAuthError::new(
            400,
            "expired_token",
            70_019,
            "Verification code expired.",
        ));
    }
    match flow.state {
        DeviceState::Pending => {
            let too_fast = flow
                .last_poll
                .is_some_and(|last| now - last < flow.interval);
            let f = &mut st.device_flows[idx];
            f.last_poll = Some(now);
            if too_fast {
                f.interval += 5;
                return Err(OAuthError::new(
                    400,
                    "slow_down",
                    70_016,
                    "OAuth 2.0 device flow error. Polling too frequently; increase the polling interval by 5 seconds.",
                ));
            }
            Err(OAuthError::new(
                400,
                "authorization_pending",
                70_016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ))
        }
        DeviceState::Declined => Err(OAuthError::new(
            400,
            "authorization_declined",
            70_000,
            "The user declined the authentication request.",
        )),
        DeviceState::Redeemed => Err(OAuthError::already_redeemed()),
        DeviceState::Approved {
            user_object_id,
            mfa,
        } => {
            let user = st
                .user_by_oid(&user_object_id)
                .cloned()
                .ok_or_else(OAuthError::user_not_found)?;
            let app = find_app(st, Some(&user.tenant_id), segment, client_id)?;
            let appidacr = authenticate_client(shared, st, req, &app, segment)?;
            let tenant_name = super::directory_name(st, &user.tenant_id);
            let info = parse_scope(st, &flow.scope, &tenant_name)?;
            let claims = parse_claims(req)?.or_else(|| {
                flow.claims
                    .as_deref()
                    .and_then(|c| serde_json::from_str(c).ok())
            });
            check_consent(st, &app, &user)?;
            conditional_access(st, &app, Some(&user), &info.resource, mfa)?;
            st.device_flows[idx].state = DeviceState::Redeemed;
            user_token_response(
                shared, st, req, &app, &user, &info, claims, appidacr, mfa, None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::Setup;

    fn resource(scope: &str) -> Result<String, u32> {
        let st = State::new(Setup::new());
        parse_scope(&st, scope, "t")
            .map(|i| i.resource)
            .map_err(|e| e.code)
    }

    #[test]
    fn audience_is_derived_from_the_scope_text() {
        assert_eq!(
            resource("https://management.core.windows.net//.default"),
            Ok("https://management.core.windows.net/".into())
        );
        assert_eq!(
            resource("https://management.azure.com/.default"),
            Ok("https://management.azure.com".into())
        );
        assert_eq!(
            resource("https://management.azure.com//.default"),
            Ok("https://management.azure.com/".into())
        );
        assert_eq!(
            resource("https://ml.azure.com/.default offline_access openid profile"),
            Ok("https://ml.azure.com".into())
        );
        assert_eq!(
            resource("https://management.azure.com/user_impersonation"),
            Ok("https://management.azure.com".into())
        );
        assert_eq!(
            resource("https://management.azure.com/.default https://ml.azure.com/.default"),
            Err(28_000)
        );
        assert_eq!(resource("https://unknown.example/.default"), Err(500_011));
    }

    #[test]
    fn cp1_and_acrs_are_read_from_claims() {
        let c: Value = serde_json::from_str(r#"{"access_token": {"xms_cc": {"values": ["CP1"]}, "acrs": {"essential": true, "value": "c1"}}}"#).unwrap();
        assert!(declares_cp1(Some(&c)));
        assert_eq!(requested_acrs(Some(&c)), vec!["c1".to_owned()]);
        assert!(!declares_cp1(None));
    }
}
