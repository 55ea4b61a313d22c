//! The browser flow: authorize URL, sign-in page, loopback redirect, code redemption, silent
//! refresh, tenants, MFA step-up.

use std::sync::Arc;

use auth_core::{ErrorKind, TenantId, TokenCredential};
use auth_interactive::{AZURE_CLI_CLIENT_ID, InteractiveBrowserCredential};
use auth_testkit::{Endpoint, Policy};

use crate::common::*;

fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').unwrap().1;
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_gives_a_user_token_then_refreshes_silently() {
    let e = start().await;
    let b = TestBrowser::new();
    let c = InteractiveBrowserCredential::new(options(&e, b.clone()).login_hint(USER)).unwrap();
    let t = c.get_token(&arm()).await.unwrap();
    let at = claims(t.token().expose_secret());
    assert_eq!(at["aud"], ARM);
    assert_eq!(at["oid"], USER_OID);
    assert_eq!(at["tid"], TENANT);
    assert_eq!(at["appid"], AZURE_CLI_CLIENT_ID);
    // The authorize request, as SDK v1 / MSAL send it.
    let opened = b.opened();
    assert_eq!(opened.len(), 1);
    assert!(
        opened[0].starts_with(&format!(
            "{}/organizations/oauth2/v2.0/authorize?",
            e.authority_host()
        )),
        "{}",
        opened[0]
    );
    let q = query(&opened[0]);
    let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "response_type",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "nonce",
            "client_info",
            "prompt",
            "login_hint"
        ]
    );
    assert_eq!(param(&q, "client_id"), Some(AZURE_CLI_CLIENT_ID));
    assert_eq!(param(&q, "code_challenge_method"), Some("S256"));
    assert_eq!(param(&q, "code_challenge").unwrap().len(), 43);
    assert_eq!(param(&q, "state").unwrap().len(), 22);
    assert_eq!(param(&q, "prompt"), Some("select_account"));
    assert_eq!(param(&q, "login_hint"), Some(USER));
    assert_eq!(
        param(&q, "scope"),
        Some("https://management.core.windows.net//.default offline_access openid profile")
    );
    let redirect = param(&q, "redirect_uri").unwrap();
    assert!(redirect.starts_with("http://localhost:"), "{redirect}");
    let (status, page) = b.seen.lock().unwrap().loopback[0].clone().unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("You can close this window"), "{page}");
    // The code redemption: PKCE verifier, same redirect URI.
    let token_requests = e.requests_to(Endpoint::Token);
    assert_eq!(token_requests.len(), 1);
    let form = &token_requests[0].form;
    let f = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(f("grant_type"), Some("authorization_code"));
    assert_eq!(f("redirect_uri"), Some(redirect));
    assert_eq!(f("code_verifier").unwrap().len(), 43);
    // Cached, then silent for another resource (the refresh token is not scope-bound).
    c.get_token(&arm()).await.unwrap();
    let t = c.get_token(&ml()).await.unwrap();
    assert_eq!(claims(t.token().expose_secret())["aud"], ML);
    assert_eq!(b.opened().len(), 1, "no second sign-in");
    let token_requests = e.requests_to(Endpoint::Token);
    assert_eq!(token_requests.len(), 2);
    let f2 = |k: &str| {
        token_requests[1]
            .form
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(f2("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(
        f2("scope").as_deref(),
        Some("https://ml.azure.com/.default offline_access openid profile")
    );
    // The account record, and sign-out forgets it.
    let a = c.account().await.unwrap().unwrap();
    assert_eq!(a.username, USER);
    assert_eq!(a.home_account_id, format!("{USER_OID}.{TENANT}"));
    assert_eq!(a.tenant_id, TENANT);
    c.sign_out().await.unwrap();
    assert!(c.account().await.unwrap().is_none());
    assert_eq!(TokenCredential::name(&c), "interactive browser credential");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_state_is_refused_and_a_second_code_finds_nobody() {
    let e = start().await;
    let b = TestBrowser::tampering();
    let c = InteractiveBrowserCredential::new(options(&e, b.clone())).unwrap();
    c.get_token(&arm()).await.unwrap();
    // Let the browser's last request finish.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let seen = b.seen.lock().unwrap();
    assert_eq!(seen.loopback.len(), 3, "{seen:?}");
    let (s, page) = seen.loopback[0].clone().unwrap();
    assert_eq!(s, 400);
    assert!(page.contains("state does not match"), "{page}");
    assert_eq!(seen.loopback[1].as_ref().unwrap().0, 200);
    assert!(
        seen.loopback[2].is_none(),
        "the listener is closed after one code"
    );
    assert_eq!(e.requests_to(Endpoint::Token).len(), 1, "one code redeemed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_by_guid_and_domain_and_per_request() {
    let e = start().await;
    for tenant in [TENANT, DOMAIN] {
        let b = TestBrowser::new();
        let c = InteractiveBrowserCredential::new(
            options(&e, b.clone())
                .tenant_id(tenant)
                .unwrap()
                .domain_hint(DOMAIN),
        )
        .unwrap();
        let t = c.get_token(&arm()).await.unwrap();
        assert_eq!(claims(t.token().expose_secret())["tid"], TENANT);
        let q = query(&b.opened()[0]);
        assert_eq!(param(&q, "domain_hint"), Some(DOMAIN));
        assert!(b.opened()[0].contains(&format!("/{tenant}/oauth2/v2.0/authorize")));
    }
    // A credential of one tenant refuses a request for another unless allowed.
    let c = InteractiveBrowserCredential::new(
        options(&e, TestBrowser::new()).tenant_id(TENANT).unwrap(),
    )
    .unwrap();
    let err = c
        .get_token(&arm().with_tenant(TenantId::new(TENANT_2).unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    // The user is not in tenant 2: the sign-in page says so and never redirects.
    let b = TestBrowser::new();
    let c = InteractiveBrowserCredential::new(
        options(&e, b.clone()).timeout(std::time::Duration::from_secs(2)),
    )
    .unwrap();
    let err = c
        .get_token(&arm().with_tenant(TenantId::new(TENANT_2).unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(b.seen.lock().unwrap().failures[0].contains("AADSTS50020"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfa_challenge_then_success_with_one_interactive_sign_in() {
    let e = start().await;
    let b = TestBrowser::new();
    let c = InteractiveBrowserCredential::new(options(&e, b.clone())).unwrap();
    c.get_token(&arm()).await.unwrap();
    assert_eq!(b.seen.lock().unwrap().mfa_asked, [false]);
    // Now MFA is required: the silent refresh answers interaction_required with claims, and
    // the one interactive sign-in carries those claims and passes MFA.
    e.add_policy(Policy::require_mfa(USER).id("mfa-policy-1"));
    let t = c.get_token(&ml()).await.unwrap();
    assert_eq!(claims(t.token().expose_secret())["aud"], ML);
    let opened = b.opened();
    assert_eq!(opened.len(), 2);
    let q = query(&opened[1]);
    let sent_claims = param(&q, "claims").expect("the challenge's claims go to /authorize");
    assert!(sent_claims.contains("mfa-policy-1"), "{sent_claims}");
    assert_eq!(b.seen.lock().unwrap().mfa_asked, [false, true]);
    let refreshes: Vec<_> = e
        .requests_to(Endpoint::Token)
        .into_iter()
        .filter(|r| {
            r.form
                .iter()
                .any(|(k, v)| k == "grant_type" && v == "refresh_token")
        })
        .collect();
    assert_eq!(
        refreshes.len(),
        1,
        "one silent attempt, then one sign-in: no loop"
    );
    // The MFA'd refresh token now works silently.
    c.get_token(&arm().with_claims(r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#))
        .await
        .unwrap();
    assert_eq!(b.opened().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_by_conditional_access_is_a_clear_error_without_a_sign_in_loop() {
    let e = start().await;
    let b = TestBrowser::new();
    let c = InteractiveBrowserCredential::new(options(&e, b.clone())).unwrap();
    c.get_token(&arm()).await.unwrap();
    e.add_policy(Policy::block(USER).id("block-policy-7"));
    let err = c.get_token(&ml()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    let text = err.to_string();
    assert!(text.contains("Conditional Access policy blocks"), "{text}");
    assert!(
        text.contains("AADSTS53003; policy block-policy-7"),
        "{text}"
    );
    assert_eq!(b.opened().len(), 1, "a block is not retried interactively");
    // A fresh sign-in is refused on the redirect the same way.
    let c = InteractiveBrowserCredential::new(options(&e, b.clone())).unwrap();
    let err = c.get_token(&ml()).await.unwrap_err();
    assert!(err.to_string().contains("AADSTS53003"), "{err}");
    assert_eq!(b.opened().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_it_falls_back_to_device_code() {
    let e = start().await;
    let e2 = e.clone();
    let shown = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = shown.clone();
    let c = InteractiveBrowserCredential::new(
        options(&e, Arc::new(NoBrowser))
            .device_code_fallback(true)
            .device_code_prompt(move |info| {
                s2.lock().unwrap().push(info.message.clone());
                assert!(e2.approve_device_code(&info.user_code, USER));
            }),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
    assert_eq!(shown.lock().unwrap().len(), 1);
    // Headless (no DISPLAY): the browser is not even tried.
    let b = TestBrowser::new();
    let e3 = e.clone();
    let c = InteractiveBrowserCredential::new(
        options(&e, b.clone())
            .env(Arc::new(std::collections::HashMap::from([(
                "SSH_CONNECTION",
                "1.2.3.4 5 6.7.8.9 22",
            )])))
            .device_code_fallback(true)
            .device_code_prompt(move |info| {
                assert!(e3.approve_device_code(&info.user_code, USER));
            }),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
    assert!(b.opened().is_empty());
    // Without the fallback, no browser is an error.
    let c = InteractiveBrowserCredential::new(options(&e, Arc::new(NoBrowser))).unwrap();
    let err = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_rotating_refresh_token() {
    let e = start().await;
    let dir = temp_dir("concurrent");
    for cache in [
        None,
        Some(auth_interactive::PersistentCache::new(
            dir.join("cache.json"),
        )),
    ] {
        let b = TestBrowser::new();
        let mut o = options(&e, b.clone());
        if let Some(c) = cache {
            o = o.persistent_cache(c);
        }
        let c = InteractiveBrowserCredential::new(o).unwrap();
        c.get_token(&arm()).await.unwrap();
        // Two scopes at once: both refresh with the same (rotating) refresh token.
        let claims_req =
            arm().with_claims(r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#);
        let (ml_req, cae_req) = (ml(), ml().with_cae(true));
        let (a, m, x) = tokio::join!(
            c.get_token(&ml_req),
            c.get_token(&claims_req),
            c.get_token(&cae_req)
        );
        a.unwrap();
        m.unwrap();
        x.unwrap();
        assert_eq!(
            b.opened().len(),
            1,
            "no sign-in: the retries or the lock handled the rotation"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticate_returns_a_record_for_silent_sign_in_later() {
    let e = start().await;
    let dir = temp_dir("record");
    let cache = auth_interactive::PersistentCache::new(dir.join("cache.json"));
    let b = TestBrowser::new();
    let c =
        InteractiveBrowserCredential::new(options(&e, b.clone()).persistent_cache(cache.clone()))
            .unwrap();
    let record = c.authenticate(&arm()).await.unwrap();
    assert_eq!(record.username, USER);
    let text = record.to_json();
    assert!(!text.contains("refresh"), "{text}");
    let record = auth_interactive::AuthenticationRecord::from_json(&text).unwrap();
    let silent = InteractiveBrowserCredential::new(
        options(&e, b.clone())
            .persistent_cache(cache)
            .authentication_record(record)
            .disable_automatic_authentication(true),
    )
    .unwrap();
    silent.get_token(&ml()).await.unwrap();
    assert_eq!(b.opened().len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
