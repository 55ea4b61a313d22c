//! User sign-in (protocol-entra.md §4, §5): the authorize endpoint and its HTML sign-in page,
//! and the device-code flow with its verification page.
//!
//! The pages are plain HTML forms that a test can drive over HTTP and a person or a headless
//! browser by hand:
//! - `GET /{t}/oauth2/v2.0/authorize?...` shows a sign-in form that POSTs to `/{t}/login`
//!   with `ctx` (the authorize request, opaque), `username`, `password`, and when needed
//!   `mfa_code` ([`MFA_CODE`](crate::MFA_CODE)) and `consent=accept`; `action=cancel`
//!   declines. Success redirects to the `redirect_uri` with `code` and `state` in the query
//!   (in the fragment with `response_mode=fragment`, or posts them with
//!   `response_mode=form_post`); failures redirect with `error` and `error_description`.
//! - A successful sign-in sets a session cookie (`ESTSAUTH`); an authorize request carrying
//!   it with no `prompt` or `prompt=none` signs in silently (single sign-on), while
//!   `prompt=login`, `select_account` or `consent` show the page again. Without a session,
//!   `prompt=none` answers `login_required`.
//! - `GET /devicelogin` shows a form that POSTs `otc` (the user code), `username`,
//!   `password`, `action=approve|decline`, and `mfa_code`/`consent` when needed.

use serde_json::{Value, json};

use super::token::{check_consent, parse_scope};
use super::{
    OAuthError, client_info, conditional_access, directory_name, find_app, require, required,
    resolve_tenant, tenant_error, user_needs_mfa,
};
use crate::server::{Req, Resp};
use crate::setup::{App, User};
use crate::state::{AuthCode, DeviceFlow, DeviceState, Shared, State};
use crate::util::{self, html_escape};

/// The one-time code the emulated MFA step accepts.
pub const MFA_CODE: &str = "123456";
/// The browser session cookie set after a sign-in (Entra's is also `ESTSAUTH`).
const SESSION_COOKIE: &str = "ESTSAUTH";
/// Lifetime of authorization codes, seconds ("a few minutes").
const CODE_LIFETIME: i64 = 600;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">\
         <p><small>auth-testkit — emulated Microsoft Entra ID</small></p><h1>{t}</h1>{body}</body></html>\n",
        t = html_escape(title)
    )
}

fn error_page(status: u16, err: &OAuthError) -> Resp {
    Resp::html(
        status,
        page(
            "Sign in",
            &format!(
                "<p>Sorry, but we're having trouble signing you in.</p><p id=\"error\">AADSTS{}: {}</p>",
                err.code,
                html_escape(&err.message)
            ),
        ),
    )
}

/// The validated authorize request.
struct Authorize {
    params: Vec<(String, String)>,
    tenant_segment: String,
    tenant_id: Option<String>,
    app: App,
    redirect_uri: String,
    state: Option<String>,
    response_mode: String,
}

impl Authorize {
    fn param(&self, name: &str) -> Option<&str> {
        param(&self.params, name)
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The tenant (`None` for `organizations`/`common`) and the app of a sign-in request.
fn tenant_and_app(
    st: &State,
    segment: &str,
    client_id: Option<&str>,
) -> Result<(Option<String>, App), OAuthError> {
    let tenant_id = resolve_tenant(st, segment).map_err(|e| tenant_error(e, segment, false))?;
    let client_id = required(client_id, "client_id")?;
    let app = find_app(st, tenant_id.as_deref(), segment, client_id)?;
    Ok((tenant_id, app))
}

/// Loopback redirect URIs match ignoring the port (as Entra does for `http://localhost`).
fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let strip_port = |u: &str| -> Option<String> {
        let rest = u.strip_prefix("http://")?;
        let (hostport, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap_or((rest, String::new()));
        let host = hostport.split(':').next()?;
        (host == "localhost" || host == "127.0.0.1")
            .then(|| format!("http://{host}{}", if path == "/" { "" } else { &path }))
    };
    matches!((strip_port(registered), strip_port(requested)), (Some(a), Some(b)) if a == b)
}

/// Validates what must be valid before Entra will redirect anywhere.
fn validate(
    st: &State,
    segment: &str,
    params: Vec<(String, String)>,
) -> Result<Authorize, OAuthError> {
    let client_id = param(&params, "client_id");
    let (tenant_id, app) = tenant_and_app(st, segment, client_id)?;
    let redirect_uri = required(param(&params, "redirect_uri"), "redirect_uri")?.to_owned();
    if !app
        .redirect_uris
        .iter()
        .any(|r| redirect_matches(r, &redirect_uri))
    {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            50_011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
                client_id.unwrap_or_default()
            ),
        ));
    }
    let response_mode = param(&params, "response_mode")
        .unwrap_or("query")
        .to_owned();
    Ok(Authorize {
        tenant_segment: segment.to_owned(),
        tenant_id,
        app,
        state: param(&params, "state").map(str::to_owned),
        response_mode,
        redirect_uri,
        params,
    })
}

/// Sends the result to the redirect URI (query, fragment or form_post).
fn deliver(a: &Authorize, mut fields: Vec<(String, String)>) -> Resp {
    if let Some(s) = &a.state {
        fields.push(("state".to_owned(), s.clone()));
    }
    if a.response_mode == "form_post" {
        let inputs: String = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    html_escape(k),
                    html_escape(v)
                )
            })
            .collect();
        return Resp::html(
            200,
            format!(
                "<!DOCTYPE html><html><head><title>Working...</title></head><body onload=\"document.forms[0].submit()\">\
                 <form method=\"POST\" action=\"{}\">{inputs}<noscript><input type=\"submit\" value=\"Continue\"></noscript></form></body></html>",
                html_escape(&a.redirect_uri)
            ),
        );
    }
    let sep = if a.response_mode == "fragment" {
        '#'
    } else if a.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let query = util::form_encode(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Resp::new(302)
        .header("location", &format!("{}{sep}{query}", a.redirect_uri))
        .header("cache-control", "no-store, no-cache")
}

fn redirect_error(shared: &Shared, st: &State, a: &Authorize, err: &OAuthError) -> Resp {
    let ctx = super::ErrCtx {
        trace_id: util::uuid_v4(),
        correlation_id: util::uuid_v4(),
        timestamp: util::entra_timestamp(st.now()),
    };
    let body = err.body(shared, &ctx);
    let mut fields = vec![
        ("error".to_owned(), err.error.to_owned()),
        (
            "error_description".to_owned(),
            body["error_description"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        (
            "error_uri".to_owned(),
            body["error_uri"].as_str().unwrap_or_default().to_owned(),
        ),
    ];
    if let Some(c) = &err.claims {
        fields.push(("claims".to_owned(), c.clone()));
    }
    deliver(a, fields)
}

/// `GET /{t}/oauth2/v2.0/authorize`.
pub(crate) fn authorize(shared: &Shared, req: &Req, segment: &str) -> Resp {
    let mut st = shared.lock();
    let a = match validate(&st, segment, req.query.clone()) {
        Ok(a) => a,
        Err(e) => return error_page(400, &e),
    };
    if let Err(e) = check_request(&st, &a) {
        return redirect_error(shared, &st, &a, &e);
    }
    let prompt = a.param("prompt");
    if matches!(prompt, None | Some("none"))
        && let Some((user, mfa)) = session_user(&st, req)
    {
        return sso(shared, &mut st, &a, &user, mfa);
    }
    if prompt == Some("none") {
        let e = OAuthError::new(
            400,
            "login_required",
            50_058,
            "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD.",
        );
        return redirect_error(shared, &st, &a, &e);
    }
    let login_hint = a.param("login_hint").unwrap_or("").to_owned();
    Resp::html(200, sign_in_form(&a, &login_hint, None, false, false))
}

/// Checks the parts of the request whose errors Entra reports by redirect.
fn check_request(st: &State, a: &Authorize) -> Result<(), OAuthError> {
    match a.param("response_type") {
        None | Some("") => return Err(OAuthError::missing("response_type")),
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                400,
                "unsupported_response_type",
                700_054,
                format!("response_type '{other}' is not enabled for the application."),
            ));
        }
    }
    let scope = required(a.param("scope"), "scope")?;
    parse_scope(
        st,
        scope,
        a.tenant_id.as_deref().unwrap_or(&a.tenant_segment),
    )?;
    match (a.param("code_challenge"), a.param("code_challenge_method")) {
        (None, Some(_)) => return Err(OAuthError::missing("code_challenge")),
        (Some(_), Some(m)) if m != "S256" && m != "plain" => {
            return Err(OAuthError::new(
                400,
                "invalid_request",
                50_162,
                format!(
                    "The code_challenge_method '{m}' is not supported. Supported methods are 'plain' and 'S256'."
                ),
            ));
        }
        _ => {}
    }
    if !matches!(a.response_mode.as_str(), "query" | "form_post" | "fragment") {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            900_002,
            format!("The response_mode '{}' is not valid.", a.response_mode),
        ));
    }
    Ok(())
}

fn hidden_ctx(a: &Authorize) -> String {
    let ctx = util::b64url(
        util::form_encode(a.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))).as_bytes(),
    );
    format!("<input type=\"hidden\" name=\"ctx\" value=\"{ctx}\">")
}

fn sign_in_form(
    a: &Authorize,
    username: &str,
    error: Option<&str>,
    ask_mfa: bool,
    ask_consent: bool,
) -> String {
    let mut body = String::new();
    if let Some(d) = a.param("domain_hint") {
        body.push_str(&format!("<p>Organization: <b>{}</b></p>", html_escape(d)));
    }
    body.push_str(&format!(
        "<p>to continue to <b>{}</b></p>",
        html_escape(&a.app.display_name)
    ));
    if let Some(e) = error {
        body.push_str(&format!(
            "<p id=\"error\" style=\"color:#a00\">{}</p>",
            html_escape(e)
        ));
    }
    body.push_str(&format!(
        "<form method=\"POST\" action=\"/{}/login\">{}\
         <p><label>Email or username<br><input name=\"username\" value=\"{}\" autofocus></label></p>\
         <p><label>Password<br><input type=\"password\" name=\"password\"></label></p>",
        html_escape(&a.tenant_segment),
        hidden_ctx(a),
        html_escape(username)
    ));
    if ask_mfa {
        body.push_str(&format!(
            "<p><label>Verification code (multi-factor authentication; the emulator's code is {MFA_CODE})<br>\
             <input name=\"mfa_code\" inputmode=\"numeric\"></label></p>"
        ));
    }
    if ask_consent {
        body.push_str(&format!(
            "<p><b>Permissions requested</b> by {}: {}<br><label><input type=\"checkbox\" name=\"consent\" value=\"accept\"> Accept</label></p>",
            html_escape(&a.app.display_name),
            html_escape(a.param("scope").unwrap_or(""))
        ));
    }
    body.push_str(
        "<p><button name=\"action\" value=\"signin\" type=\"submit\">Sign in</button> \
         <button name=\"action\" value=\"cancel\" type=\"submit\">Cancel</button></p></form>",
    );
    page("Sign in to your account", &body)
}

/// Finds and checks a user signing in for `tenant_id` (None = any tenant).
fn sign_in_user(
    st: &State,
    tenant_id: Option<&str>,
    username: &str,
    password: &str,
) -> Result<User, String> {
    let user = st.user_by_name(username).filter(|u| u.password == password);
    let Some(user) = user else {
        return Err(
            "AADSTS50126: Error validating credentials due to invalid username or password."
                .to_owned(),
        );
    };
    if let Some(t) = tenant_id
        && !t.eq_ignore_ascii_case(&user.tenant_id)
    {
        return Err(format!(
            "AADSTS50020: User account '{}' from identity provider does not exist in tenant '{}' and cannot access the application in that tenant.",
            user.username,
            directory_name(st, t)
        ));
    }
    Ok(user.clone())
}

/// `POST /{t}/login`: the sign-in form.
pub(crate) fn login(shared: &Shared, req: &Req, segment: &str) -> Resp {
    if req.method != http::Method::POST {
        return Resp::html(405, page("Sign in", "<p>Use the authorize endpoint.</p>"));
    }
    let mut st = shared.lock();
    let params: Vec<(String, String)> = req
        .form("ctx")
        .and_then(util::b64_decode_lenient)
        .map(|b| form_urlencoded::parse(&b).into_owned().collect())
        .unwrap_or_default();
    let a = match validate(&st, segment, params) {
        Ok(a) => a,
        Err(e) => return error_page(400, &e),
    };
    if let Err(e) = check_request(&st, &a) {
        return redirect_error(shared, &st, &a, &e);
    }
    if req.form("action") == Some("cancel") {
        let e = OAuthError::new(
            400,
            "access_denied",
            65_004,
            "User declined to consent to access the app.",
        );
        return redirect_error(shared, &st, &a, &e);
    }
    let username = req.form("username").unwrap_or("");
    // On a multi-tenant authority, a domain_hint naming a known tenant picks that tenant.
    let hinted = a
        .param("domain_hint")
        .and_then(|d| st.tenant(d))
        .map(|t| t.id.clone());
    let tenant_id = a.tenant_id.clone().or(hinted);
    let user = match sign_in_user(
        &st,
        tenant_id.as_deref(),
        username,
        req.form("password").unwrap_or(""),
    ) {
        Ok(u) => u,
        Err(msg) => return Resp::html(200, sign_in_form(&a, username, Some(&msg), false, false)),
    };
    let mfa_code = req.form("mfa_code");
    let mfa_ok = mfa_code == Some(MFA_CODE);
    let needs_mfa = match second_steps(
        &mut st,
        &a.app,
        &user,
        mfa_ok,
        a.param("prompt") == Some("consent"),
        req.form("consent") == Some("accept"),
    ) {
        Ok(needs_mfa) => needs_mfa,
        Err(Ask { mfa, consent }) => {
            let msg = (mfa && mfa_code.is_some() && !mfa_ok).then_some(
                "AADSTS50074: Strong Authentication is required. The verification code is not correct.",
            );
            return Resp::html(200, sign_in_form(&a, username, msg, mfa, consent));
        }
    };
    let scope = a.param("scope").unwrap_or_default().to_owned();
    if let Ok(info) = parse_scope(&st, &scope, &user.tenant_id)
        && let Err(e) = conditional_access(&st, &a.app, Some(&user), &info.resource, true)
    {
        return redirect_error(shared, &st, &a, &e);
    }
    let session = util::random_token(32);
    st.sessions
        .insert(session.clone(), (user.object_id.clone(), needs_mfa));
    issue_code(&mut st, &a, &user, needs_mfa).header(
        "set-cookie",
        &format!("{SESSION_COOKIE}={session}; path=/; HttpOnly; SameSite=Lax"),
    )
}

/// What a sign-in page must still ask for.
struct Ask {
    mfa: bool,
    consent: bool,
}

/// The steps of a sign-in after the password: MFA when a policy requires it, consent when
/// none was given (or `force_consent`). `Ok(needs_mfa)` once passed, recording a consent given.
fn second_steps(
    st: &mut State,
    app: &App,
    user: &User,
    mfa_ok: bool,
    force_consent: bool,
    consent_given: bool,
) -> Result<bool, Ask> {
    let needs_mfa = user_needs_mfa(st, user);
    let needs_consent = force_consent || !st.consented(app, user);
    if (needs_mfa && !mfa_ok) || (needs_consent && !consent_given) {
        return Err(Ask {
            mfa: needs_mfa,
            consent: needs_consent,
        });
    }
    if needs_consent {
        st.record_consent(app, user);
    }
    Ok(needs_mfa)
}

/// Issues an authorization code for `user` and delivers it to the redirect URI.
fn issue_code(st: &mut State, a: &Authorize, user: &User, mfa: bool) -> Resp {
    let scope = a.param("scope").unwrap_or_default().to_owned();
    let code = format!("1.A{}", util::random_token(64));
    let now = st.now();
    st.auth_codes.insert(
        code.clone(),
        AuthCode {
            client_id: a.app.client_id.clone(),
            redirect_uri: a.redirect_uri.clone(),
            code_challenge: a.param("code_challenge").map(str::to_owned),
            code_challenge_method: a.param("code_challenge").map(|_| {
                a.param("code_challenge_method")
                    .unwrap_or("plain")
                    .to_owned()
            }),
            scope,
            user_object_id: user.object_id.clone(),
            nonce: a.param("nonce").map(str::to_owned),
            claims: a.param("claims").map(str::to_owned),
            mfa,
            expires_at: now + CODE_LIFETIME,
        },
    );
    let mut fields = vec![("code".to_owned(), code)];
    if a.param("client_info") == Some("1") {
        fields.push(("client_info".to_owned(), client_info(user)));
    }
    fields.push(("session_state".to_owned(), util::uuid_v4()));
    deliver(a, fields)
}

/// The signed-in user of the browser session cookie, if any.
fn session_user(st: &State, req: &Req) -> Option<(User, bool)> {
    let cookies = req.header("cookie")?;
    let id = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)?
        .1;
    let (oid, mfa) = st.sessions.get(id)?;
    Some((st.user_by_oid(oid)?.clone(), *mfa))
}

/// Single sign-on from the session: a code, or the error a silent request gets.
fn sso(shared: &Shared, st: &mut State, a: &Authorize, user: &User, mfa: bool) -> Resp {
    if let Some(t) = &a.tenant_id
        && !t.eq_ignore_ascii_case(&user.tenant_id)
    {
        let e = OAuthError::user_not_in_tenant(
            "interaction_required",
            &user.username,
            &directory_name(st, t),
        );
        return redirect_error(shared, st, a, &e);
    }
    if let Err(mut e) = check_consent(st, &a.app, user) {
        e.error = "consent_required";
        return redirect_error(shared, st, a, &e);
    }
    let scope = a.param("scope").unwrap_or_default();
    if let Ok(info) = parse_scope(st, scope, &user.tenant_id)
        && let Err(e) = conditional_access(st, &a.app, Some(user), &info.resource, mfa)
    {
        return redirect_error(shared, st, a, &e);
    }
    issue_code(st, a, user, mfa)
}

fn user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    util::random_bytes(9)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// `POST /{t}/oauth2/v2.0/devicecode`.
pub(crate) fn devicecode(
    shared: &Shared,
    st: &mut State,
    req: &Req,
    segment: &str,
) -> Result<Value, OAuthError> {
    let (tenant_id, app) = tenant_and_app(st, segment, req.form("client_id"))?;
    if !app.public_client {
        return Err(OAuthError::credential_required());
    }
    let scope = require(req, "scope")?;
    parse_scope(st, scope, tenant_id.as_deref().unwrap_or(segment))?;
    let now = st.now();
    let uri = format!("{}/devicelogin", shared.entra_base());
    let code = user_code();
    let interval = st.setup.device_code_interval.as_secs() as i64;
    let expires_in = st.setup.device_code_lifetime.as_secs() as i64;
    let device_code = format!("DAQABAAEAAA{}", util::random_token(96));
    st.device_flows.push(DeviceFlow {
        device_code: device_code.clone(),
        user_code: code.clone(),
        client_id: app.client_id.clone(),
        tenant_segment: segment.to_owned(),
        scope: scope.to_owned(),
        claims: req.form("claims").map(str::to_owned),
        expires_at: now + expires_in,
        interval,
        last_poll: None,
        state: DeviceState::Pending,
    });
    Ok(json!({
        "user_code": code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": expires_in,
        "interval": interval,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {code} to authenticate.")
    }))
}

fn device_form(error: Option<&str>, otc: &str, ask_mfa: bool, ask_consent: bool) -> String {
    let mut body = String::from("<p>Enter the code displayed on your app or device.</p>");
    if let Some(e) = error {
        body.push_str(&format!(
            "<p id=\"error\" style=\"color:#a00\">{}</p>",
            html_escape(e)
        ));
    }
    body.push_str(&format!(
        "<form method=\"POST\" action=\"/devicelogin\">\
         <p><label>Code<br><input name=\"otc\" value=\"{}\" autofocus></label></p>\
         <p><label>Email or username<br><input name=\"username\"></label></p>\
         <p><label>Password<br><input type=\"password\" name=\"password\"></label></p>",
        html_escape(otc)
    ));
    if ask_mfa {
        body.push_str(&format!("<p><label>Verification code (the emulator's code is {MFA_CODE})<br><input name=\"mfa_code\"></label></p>"));
    }
    if ask_consent {
        body.push_str("<p><label><input type=\"checkbox\" name=\"consent\" value=\"accept\"> Accept the permissions the app requests</label></p>");
    }
    body.push_str(
        "<p><button name=\"action\" value=\"approve\" type=\"submit\">Continue</button> \
         <button name=\"action\" value=\"decline\" type=\"submit\">Cancel</button></p></form>",
    );
    page("Enter code", &body)
}

/// Outcome of a verification-page decision.
pub(crate) enum DeviceDecision {
    Approved(String),
    Declined,
    Retry {
        error: Option<String>,
        ask_mfa: bool,
        ask_consent: bool,
    },
}

/// Applies a decision on a user code (shared by the page and `Emulator` helpers).
pub(crate) fn decide_device_code(
    st: &mut State,
    otc: &str,
    approve: bool,
    username: &str,
    password: Option<&str>,
    mfa_code: Option<&str>,
    consent: bool,
) -> DeviceDecision {
    let retry = |error: String| DeviceDecision::Retry {
        error: Some(error),
        ask_mfa: false,
        ask_consent: false,
    };
    let no_such_code = || retry("That code didn't work. Check the code and try again.".to_owned());
    let now = st.now();
    let Some(idx) = st.device_flows.iter().position(|f| {
        f.user_code.eq_ignore_ascii_case(otc.trim())
            && f.state == DeviceState::Pending
            && f.expires_at > now
    }) else {
        return no_such_code();
    };
    if !approve {
        st.device_flows[idx].state = DeviceState::Declined;
        return DeviceDecision::Declined;
    }
    let flow = st.device_flows[idx].clone();
    let tenant_id = resolve_tenant(st, &flow.tenant_segment).ok().flatten();
    let user = match password {
        Some(pw) => sign_in_user(st, tenant_id.as_deref(), username, pw),
        None => st
            .user_by_name(username)
            .cloned()
            .ok_or_else(|| format!("AADSTS50034: The user account {username} does not exist.")),
    };
    let user = match user {
        Ok(u) => u,
        Err(e) => return retry(e),
    };
    // Flows are issued to apps of the setup, which never loses one: this always finds it.
    let Some(app) = st.app(None, &flow.client_id).cloned() else {
        return no_such_code();
    };
    let mfa_ok = password.is_none() || mfa_code == Some(MFA_CODE);
    let mfa = match second_steps(st, &app, &user, mfa_ok, false, consent) {
        Ok(mfa) => mfa,
        Err(ask) => {
            return DeviceDecision::Retry {
                error: None,
                ask_mfa: ask.mfa,
                ask_consent: ask.consent,
            };
        }
    };
    st.device_flows[idx].state = DeviceState::Approved {
        user_object_id: user.object_id.clone(),
        mfa,
    };
    DeviceDecision::Approved(app.display_name)
}

/// `GET|POST /devicelogin`: the verification page.
pub(crate) fn devicelogin(shared: &Shared, req: &Req) -> Resp {
    if req.method != http::Method::POST {
        let otc = req.query("otc").unwrap_or("");
        return Resp::html(200, device_form(None, otc, false, false));
    }
    let mut st = shared.lock();
    let otc = req.form("otc").unwrap_or("").to_owned();
    let approve = req.form("action") != Some("decline");
    let decision = decide_device_code(
        &mut st,
        &otc,
        approve,
        req.form("username").unwrap_or(""),
        Some(req.form("password").unwrap_or("")),
        req.form("mfa_code"),
        req.form("consent") == Some("accept"),
    );
    match decision {
        DeviceDecision::Approved(app) => Resp::html(
            200,
            page(
                "You're signed in",
                &format!(
                    "<p id=\"result\">You have signed in to the {} application on your device. You may now close this window.</p>",
                    html_escape(&app)
                ),
            ),
        ),
        DeviceDecision::Declined => Resp::html(
            200,
            page(
                "Sign-in canceled",
                "<p id=\"result\">You have declined to sign in to the application on your device. You may now close this window.</p>",
            ),
        ),
        DeviceDecision::Retry {
            error,
            ask_mfa,
            ask_consent,
        } => Resp::html(
            200,
            device_form(error.as_deref(), &otc, ask_mfa, ask_consent),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_matches;

    #[test]
    fn loopback_redirects_ignore_the_port() {
        assert!(redirect_matches(
            "http://localhost",
            "http://localhost:8400"
        ));
        assert!(redirect_matches(
            "http://localhost",
            "http://localhost:51234/"
        ));
        assert!(!redirect_matches(
            "http://localhost",
            "http://localhost:8400/callback"
        ));
        assert!(redirect_matches(
            "http://localhost/cb",
            "http://localhost:1/cb"
        ));
        assert!(!redirect_matches("http://localhost", "http://evil.example"));
        assert!(!redirect_matches(
            "https://app.example/cb",
            "https://app.example/other"
        ));
        assert!(redirect_matches(
            "https://app.example/cb",
            "https://app.example/cb"
        ));
    }
}
