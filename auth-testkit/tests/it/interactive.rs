//! Authorization code + PKCE through the sign-in page, and refresh tokens
//! (protocol-entra.md §4, §6, §7, §8).

use auth_testkit::{AZURE_CLI_CLIENT_ID, App, Emulator, MFA_CODE, Policy};
use base64::Engine as _;
use serde_json::Value;
use sha2::Digest as _;

use crate::common::*;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk.~abc";
const REDIRECT: &str = "http://localhost:8400";
const USER_SCOPE: &str =
    "https://management.core.windows.net//.default offline_access openid profile";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn authorize_url(e: &Emulator, extra: &[(&str, &str)]) -> String {
    let ch = challenge(VERIFIER);
    let mut pairs = vec![
        ("client_id", AZURE_CLI_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", USER_SCOPE),
        ("state", "st4te"),
        ("code_challenge", ch.as_str()),
        ("code_challenge_method", "S256"),
        ("nonce", "n0nce"),
        ("client_info", "1"),
    ];
    pairs.extend_from_slice(extra);
    format!(
        "{}/{TENANT}/oauth2/v2.0/authorize?{}",
        e.authority_host(),
        form(&pairs)
    )
}

/// Extracts the value of a named input from a page.
fn input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

async fn page(url: &str) -> (u16, String) {
    let resp = client().get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Submits the sign-in form; returns status, Location header and body.
async fn sign_in(
    e: &Emulator,
    ctx: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let mut pairs = vec![("ctx", ctx)];
    pairs.extend_from_slice(fields);
    let resp = client()
        .post(format!("{}/{TENANT}/login", e.authority_host()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&pairs))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, location, resp.text().await.unwrap())
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Runs the browser leg; returns the redirect's query pairs.
async fn browser_leg(e: &Emulator, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let (status, html) = page(&authorize_url(e, extra)).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(&format!("value=\"{USER}\"")),
        "login_hint pre-fills the user name"
    );
    let ctx = input(&html, "ctx").expect("ctx");
    let (status, location, body) = sign_in(
        e,
        &ctx,
        &[
            ("username", USER),
            ("password", PASSWORD),
            ("action", "signin"),
        ],
    )
    .await;
    assert_eq!(status, 302, "{body}");
    let location = location.unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    query_of(&location)
}

async fn redeem(e: &Emulator, code: &str, verifier: &str, redirect: &str) -> (u16, Value) {
    let (s, _, b) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("grant_type", "authorization_code"),
            ("client_info", "1"),
            ("code_verifier", verifier),
            ("code", code),
            ("redirect_uri", redirect),
            ("scope", USER_SCOPE),
        ],
    )
    .await;
    (s, b)
}

#[tokio::test]
async fn auth_code_with_pkce_gives_user_tokens_and_the_code_is_single_use() {
    let e = start().await;
    let q = browser_leg(&e, &[("prompt", "select_account"), ("login_hint", USER)]).await;
    assert_eq!(param(&q, "state"), Some("st4te"));
    assert!(param(&q, "session_state").is_some());
    let ci = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(param(&q, "client_info").unwrap())
        .unwrap();
    let ci: Value = serde_json::from_slice(&ci).unwrap();
    assert_eq!(
        (ci["uid"].as_str(), ci["utid"].as_str()),
        (Some(USER_OID), Some(TENANT))
    );
    let code = param(&q, "code").unwrap().to_owned();
    let (s, b) = redeem(&e, &code, VERIFIER, REDIRECT).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["token_type"], "Bearer");
    for m in [
        "scope",
        "expires_in",
        "ext_expires_in",
        "access_token",
        "refresh_token",
        "id_token",
        "client_info",
    ] {
        assert!(b.get(m).is_some(), "missing {m}: {b}");
    }
    assert_eq!(b["foci"], "1");
    let at = claims(b["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], "https://management.core.windows.net/");
    assert_eq!(at["oid"], USER_OID);
    assert_eq!(at["upn"], USER);
    assert_eq!(at["scp"], "user_impersonation");
    assert_eq!(at["appid"], AZURE_CLI_CLIENT_ID);
    assert_eq!(at["idtyp"], "user");
    let id = claims(b["id_token"].as_str().unwrap());
    assert_eq!(id["preferred_username"], USER);
    assert_eq!(id["nonce"], "n0nce");
    assert_eq!(id["aud"], AZURE_CLI_CLIENT_ID);
    // The user token reads the workspace (the user is Contributor on the subscription).
    let (s, _, _) = get(
        &workspace_url(&e, SUB, RG, WS),
        Some(b["access_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = redeem(&e, &code, VERIFIER, REDIRECT).await;
    assert_entra_error(&e, s, &b, 400, "invalid_grant", 54_005);
}

#[tokio::test]
async fn pkce_redirect_and_expiry_failures() {
    let e = start().await;
    let code = browser_leg(&e, &[("login_hint", USER)]).await;
    let code = param(&code, "code").unwrap().to_owned();
    let (s, b) = redeem(
        &e,
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier-1234",
        REDIRECT,
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_grant", 501_481);

    let q = browser_leg(&e, &[("login_hint", USER)]).await;
    let (s, b) = redeem(
        &e,
        param(&q, "code").unwrap(),
        VERIFIER,
        "http://localhost:9999",
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_grant", 500_112);

    let q = browser_leg(&e, &[("login_hint", USER)]).await;
    e.advance_clock(std::time::Duration::from_secs(601));
    let (s, b) = redeem(&e, param(&q, "code").unwrap(), VERIFIER, REDIRECT).await;
    assert_entra_error(&e, s, &b, 400, "invalid_grant", 70_008);

    let (s, b) = redeem(&e, "garbage", VERIFIER, REDIRECT).await;
    assert_entra_error(&e, s, &b, 400, "invalid_grant", 9_002_313);
}

#[tokio::test]
async fn authorize_errors_before_and_after_redirect_validation() {
    let e = start().await;
    // Not redirectable: unregistered redirect URI, unknown client.
    let url = authorize_url(&e, &[]).replace("localhost%3A8400", "evil.example");
    let (s, html) = page(&url).await;
    assert_eq!(s, 400);
    assert!(html.contains("AADSTS50011"), "{html}");
    let url =
        authorize_url(&e, &[]).replace(AZURE_CLI_CLIENT_ID, "77777777-7777-4777-8777-777777777777");
    let (s, html) = page(&url).await;
    assert_eq!(s, 400);
    assert!(html.contains("AADSTS700016"), "{html}");
    // Redirected: prompt=none without a session.
    let resp = client()
        .get(authorize_url(&e, &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(param(&q, "error"), Some("login_required"));
    assert!(
        param(&q, "error_description")
            .unwrap()
            .starts_with("AADSTS50058: ")
    );
    assert_eq!(param(&q, "state"), Some("st4te"));
    // Redirected: unsupported response_type.
    let resp = client()
        .get(authorize_url(&e, &[]).replace("response_type=code", "response_type=token"))
        .send()
        .await
        .unwrap();
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(param(&q, "error"), Some("unsupported_response_type"));
}

#[tokio::test]
async fn wrong_password_redisplays_the_page_and_cancel_redirects_access_denied() {
    let e = start().await;
    let (_, html) = page(&authorize_url(&e, &[])).await;
    let ctx = input(&html, "ctx").unwrap();
    let (s, loc, body) = sign_in(&e, &ctx, &[("username", USER), ("password", "nope")]).await;
    assert_eq!((s, loc), (200, None));
    assert!(body.contains("AADSTS50126"), "{body}");
    let (s, loc, _) = sign_in(&e, &ctx, &[("action", "cancel")]).await;
    assert_eq!(s, 302);
    let q = query_of(&loc.unwrap());
    assert_eq!(param(&q, "error"), Some("access_denied"));
    assert_eq!(param(&q, "state"), Some("st4te"));
}

#[tokio::test]
async fn form_post_response_mode_posts_the_code() {
    let e = start().await;
    let (_, html) = page(&authorize_url(&e, &[("response_mode", "form_post")])).await;
    let ctx = input(&html, "ctx").unwrap();
    let (s, _, body) = sign_in(&e, &ctx, &[("username", USER), ("password", PASSWORD)]).await;
    assert_eq!(s, 200);
    assert!(body.contains(&format!("action=\"{REDIRECT}\"")), "{body}");
    let code = input(&body, "code").unwrap();
    assert_eq!(input(&body, "state").as_deref(), Some("st4te"));
    assert_eq!(redeem(&e, &code, VERIFIER, REDIRECT).await.0, 200);
}

#[tokio::test]
async fn mfa_policy_adds_a_verification_step_and_consent_a_prompt() {
    let e = Emulator::start(
        setup().conditional_access(Policy::require_mfa(USER)).app(
            App::public(TENANT, "abcdabcd-0000-4000-8000-000000000001")
                .display_name("Needs consent")
                .without_consent(),
        ),
    )
    .await
    .unwrap();
    let (_, html) = page(&authorize_url(&e, &[])).await;
    let ctx = input(&html, "ctx").unwrap();
    let (s, loc, body) = sign_in(&e, &ctx, &[("username", USER), ("password", PASSWORD)]).await;
    assert_eq!((s, loc), (200, None));
    assert!(body.contains("name=\"mfa_code\""), "{body}");
    let (s, loc, _) = sign_in(
        &e,
        &ctx,
        &[
            ("username", USER),
            ("password", PASSWORD),
            ("mfa_code", MFA_CODE),
        ],
    )
    .await;
    assert_eq!(s, 302);
    let q = query_of(&loc.unwrap());
    let (_, b) = redeem(&e, param(&q, "code").unwrap(), VERIFIER, REDIRECT).await;
    assert_eq!(
        claims(b["access_token"].as_str().unwrap())["amr"],
        serde_json::json!(["pwd", "mfa"])
    );

    let url =
        authorize_url(&e, &[]).replace(AZURE_CLI_CLIENT_ID, "abcdabcd-0000-4000-8000-000000000001");
    let (_, html) = page(&url).await;
    let ctx = input(&html, "ctx").unwrap();
    let (s, _, body) = sign_in(
        &e,
        &ctx,
        &[
            ("username", USER),
            ("password", PASSWORD),
            ("mfa_code", MFA_CODE),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert!(body.contains("name=\"consent\""), "{body}");
    let (s, _, _) = sign_in(
        &e,
        &ctx,
        &[
            ("username", USER),
            ("password", PASSWORD),
            ("mfa_code", MFA_CODE),
            ("consent", "accept"),
        ],
    )
    .await;
    assert_eq!(s, 302);
}

async fn user_refresh_token(e: &Emulator) -> String {
    let q = browser_leg(e, &[("login_hint", USER)]).await;
    let (_, b) = redeem(e, param(&q, "code").unwrap(), VERIFIER, REDIRECT).await;
    b["refresh_token"].as_str().unwrap().to_owned()
}

async fn refresh(e: &Emulator, rt: &str, scope: &str) -> (u16, Value) {
    let (s, _, b) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("client_info", "1"),
            ("refresh_token", rt),
            ("scope", scope),
        ],
    )
    .await;
    (s, b)
}

#[tokio::test]
async fn refresh_rotates_the_token_and_is_not_bound_to_a_scope() {
    let e = start().await;
    let rt = user_refresh_token(&e).await;
    let (s, b) = refresh(
        &e,
        &rt,
        "https://ml.azure.com/.default offline_access openid profile",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        claims(b["access_token"].as_str().unwrap())["aud"],
        "https://ml.azure.com"
    );
    let rt2 = b["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt, rt2);
    let (s, b) = refresh(&e, &rt, USER_SCOPE).await;
    assert_entra_error(&e, s, &b, 400, "invalid_grant", 70_008);
    let (s, _) = refresh(&e, &rt2, USER_SCOPE).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn mfa_required_on_refresh_is_50076_interaction_required_with_claims() {
    let e = start().await;
    let rt = user_refresh_token(&e).await;
    e.add_policy(Policy::require_mfa(USER_OID).id("0c1d2e3f-0000-4000-8000-000000000001"));
    let (s, b) = refresh(&e, &rt, USER_SCOPE).await;
    assert_entra_error(&e, s, &b, 400, "interaction_required", 50_076);
    assert_eq!(b["suberror"], "basic_action");
    let c: Value = serde_json::from_str(b["claims"].as_str().unwrap()).unwrap();
    assert_eq!(
        c["access_token"]["capolids"]["values"][0],
        "0c1d2e3f-0000-4000-8000-000000000001"
    );
    assert!(b["error_description"].as_str().unwrap().contains(
        "you must use multi-factor authentication to access 'https://management.core.windows.net/'"
    ));
}

#[tokio::test]
async fn blocked_principals_get_53003_and_consent_missing_65001() {
    let e = Emulator::start(setup().conditional_access(Policy::block(CLIENT)))
        .await
        .unwrap();
    let (s, _, b) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "access_denied", 53_003);

    let e = start().await;
    let rt = user_refresh_token(&e).await;
    e.add_policy(Policy::block(USER));
    let (s, b) = refresh(&e, &rt, USER_SCOPE).await;
    assert_entra_error(&e, s, &b, 400, "access_denied", 53_003);
}

#[tokio::test]
async fn app_mfa_policy_fails_client_credentials_with_50076() {
    let e = Emulator::start(setup().conditional_access(Policy::require_mfa(CLIENT)))
        .await
        .unwrap();
    let (s, _, b) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "interaction_required", 50_076);
    assert!(b["claims"].is_string());
}

#[tokio::test]
async fn domain_hint_on_organizations_restricts_the_tenant_and_basic_auth_is_accepted() {
    let e = start().await;
    let url = authorize_url(&e, &[("domain_hint", "other.example")])
        .replace(&format!("/{TENANT}/"), "/organizations/");
    let (s, html) = page(&url).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("other.example"));
    let url = authorize_url(&e, &[("domain_hint", OTHER_TENANT)])
        .replace(&format!("/{TENANT}/"), "/organizations/");
    let (_, html) = page(&url).await;
    let ctx = input(&html, "ctx").unwrap();
    let resp = client()
        .post(format!("{}/organizations/login", e.authority_host()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("ctx", ctx.as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.text().await.unwrap().contains("AADSTS50020"));

    // client_secret_basic works as well as the form field.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:{SECRET}"));
    let resp = client()
        .post(e.token_url(TENANT))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {basic}"))
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn a_session_cookie_gives_single_sign_on_and_prompt_none_works_with_it() {
    let e = start().await;
    let (_, html) = page(&authorize_url(&e, &[])).await;
    let ctx = input(&html, "ctx").unwrap();
    let resp = client()
        .post(format!("{}/{TENANT}/login", e.authority_host()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("ctx", ctx.as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("ESTSAUTH="));
    for extra in [&[("prompt", "none")][..], &[][..]] {
        let resp = client()
            .get(authorize_url(&e, extra))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 302);
        let q = query_of(resp.headers()["location"].to_str().unwrap());
        let code = param(&q, "code").expect("silent code");
        assert_eq!(redeem(&e, code, VERIFIER, REDIRECT).await.0, 200);
    }
    // prompt=login shows the page even with a session.
    let resp = client()
        .get(authorize_url(&e, &[("prompt", "login")]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn fragment_response_mode_puts_the_result_in_the_fragment() {
    let e = start().await;
    let fragment_of = |location: &str| -> Vec<(String, String)> {
        let (base, f) = location.split_once('#').expect("a fragment");
        assert_eq!(base, REDIRECT, "{location}");
        form_urlencoded::parse(f.as_bytes()).into_owned().collect()
    };
    let (_, html) = page(&authorize_url(&e, &[("response_mode", "fragment")])).await;
    let ctx = input(&html, "ctx").unwrap();
    let (s, loc, body) = sign_in(&e, &ctx, &[("username", USER), ("password", PASSWORD)]).await;
    assert_eq!(s, 302, "{body}");
    let f = fragment_of(&loc.unwrap());
    assert_eq!(param(&f, "state"), Some("st4te"));
    let code = param(&f, "code").expect("code").to_owned();
    assert_eq!(redeem(&e, &code, VERIFIER, REDIRECT).await.0, 200);
    // Errors go in the fragment too.
    let resp = client()
        .get(authorize_url(
            &e,
            &[("response_mode", "fragment"), ("prompt", "none")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let f = fragment_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(param(&f, "error"), Some("login_required"));
    assert_eq!(param(&f, "state"), Some("st4te"));
}
