use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_cli::{AzureCliCredential, AzureCliOptions};
use auth_core::{ErrorKind, TenantId, TokenRequest};
use auth_testkit::az::{AzMode, LEAKED_TOKEN};
use auth_testkit::sample;

use crate::{logged_in, options};

fn ml() -> TokenRequest {
    TokenRequest::for_resource("https://ml.azure.com").unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The `tid` claim of a JWT.
fn tid(jwt: &str) -> String {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["tid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_from_the_az_session_with_the_reference_arguments() {
    let (emu, az) = logged_in().await;
    let cli = AzureCliCredential::new(options(&az)).unwrap();
    let before = now();
    let t = cli.get_token(&ml()).await.unwrap();
    assert_eq!(tid(t.token().expose_secret()), sample::TENANT_ID);
    // The emulator issues 3599 s tokens; az prints the expiry, read from `expires_on`.
    let exp = t.expires_on_unix();
    assert!((before + 3590..=now() + 3600).contains(&exp), "{exp}");
    assert_eq!(
        az.runs(),
        ["account get-access-token --output json --resource https://ml.azure.com"]
    );
    // Cached: a second call runs nothing.
    cli.get_token(&ml()).await.unwrap();
    assert_eq!(az.runs().len(), 1);
    // The stand-in asked the emulator as az does: client credentials with the CP1 claims.
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].form_field("scope"),
        Some("https://ml.azure.com/.default")
    );
    // A tenant and a subscription become --tenant and --subscription.
    let cli = AzureCliCredential::new(
        options(&az)
            .tenant(sample::TENANT_ID)
            .subscription(sample::SUBSCRIPTION_ID),
    )
    .unwrap();
    cli.get_token(&TokenRequest::for_resource("https://management.azure.com/").unwrap())
        .await
        .unwrap();
    assert_eq!(
        az.runs()[1],
        format!(
            "account get-access-token --output json --resource https://management.azure.com/ --tenant {} --subscription {}",
            sample::TENANT_ID,
            sample::SUBSCRIPTION_ID
        )
    );
}

#[tokio::test]
async fn older_az_expiry_is_read_from_local_time() {
    let (_emu, mut az) = logged_in().await;
    az.set_mode(AzMode::LegacyExpiry).unwrap();
    let cli = AzureCliCredential::new(options(&az)).unwrap();
    let before = now();
    let t = cli.get_token(&ml()).await.unwrap();
    let exp = t.expires_on_unix();
    assert!((before + 3590..=now() + 3600).contains(&exp), "{exp}");
}

#[tokio::test]
async fn not_logged_in_is_unavailable_with_az_login_as_the_hint() {
    let (_emu, mut az) = logged_in().await;
    az.set_mode(AzMode::NotLoggedIn).unwrap();
    let e = AzureCliCredential::new(options(&az))
        .unwrap()
        .get_token(&ml())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert_eq!(e.credential(), Some(AzureCliCredential::NAME));
    assert!(e.message().contains("az is not logged in"), "{e}");
    assert_eq!(e.hint(), Some("run `az login`"));
}

#[tokio::test]
async fn az_missing_from_path_is_unavailable_and_nothing_runs() {
    let empty = std::env::temp_dir().join(format!("auth-cli-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let env: HashMap<String, String> = [("PATH".to_owned(), empty.display().to_string())].into();
    let e = AzureCliCredential::new(AzureCliOptions::new().env(Arc::new(env)))
        .unwrap()
        .get_token(&ml())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.message().contains("was not found on PATH"), "{e}");
    assert!(e.hint().unwrap().contains("install the Azure CLI"), "{e}");
}

#[tokio::test]
async fn a_tenant_az_cannot_sign_in_to_is_an_authentication_error_with_azs_hint() {
    let (_emu, az) = logged_in().await;
    let other = "0ther000-0000-4000-8000-000000000009";
    let request = ml().with_tenant(TenantId::new(other).unwrap());
    let e = AzureCliCredential::new(options(&az))
        .unwrap()
        .get_token(&request)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(e.message().contains("AADSTS"), "{e}");
    assert_eq!(
        e.hint(),
        Some(format!("run `az login --tenant {other}`").as_str())
    );
    assert!(az.runs()[0].ends_with(&format!("--tenant {other}")));
    // With a configured tenant, another one is refused before az runs.
    let strict = AzureCliCredential::new(options(&az).tenant(sample::TENANT_ID)).unwrap();
    let e = strict.get_token(&request).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
    assert_eq!(az.runs().len(), 1);
}

#[tokio::test]
async fn a_hung_az_is_killed_at_the_timeout() {
    let (_emu, mut az) = logged_in().await;
    az.set_mode(AzMode::Hang).unwrap();
    let cli = AzureCliCredential::new(options(&az).timeout(Duration::from_millis(500))).unwrap();
    let started = Instant::now();
    let e = cli.get_token(&ml()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the timeout"
    );
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.message().contains("az took longer than 0.5 s"), "{e}");
    assert_eq!(az.runs().len(), 1);
}

#[tokio::test]
async fn garbage_on_stdout_is_a_clear_service_error() {
    let (_emu, mut az) = logged_in().await;
    az.set_mode(AzMode::Garbage).unwrap();
    let e = AzureCliCredential::new(options(&az))
        .unwrap()
        .get_token(&ml())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert!(e.message().contains("unexpected output from az"), "{e}");
}

#[tokio::test]
async fn tokens_az_prints_on_failure_are_never_shown() {
    let (_emu, mut az) = logged_in().await;
    az.set_mode(AzMode::LeakyFailure).unwrap();
    let e = AzureCliCredential::new(options(&az))
        .unwrap()
        .get_token(&ml())
        .await
        .unwrap_err();
    for shown in [e.to_string(), format!("{e:?}")] {
        assert!(!shown.contains(LEAKED_TOKEN), "{shown}");
        assert!(!shown.contains("bGVha2VkLXRva2Vu"), "{shown}");
    }
    assert!(e.to_string().contains("\"accessToken\": \"****\""), "{e}");
}

#[tokio::test]
async fn success_shows_no_token_either() {
    let (_emu, az) = logged_in().await;
    let cli = AzureCliCredential::new(options(&az)).unwrap();
    let t = cli.get_token(&ml()).await.unwrap();
    let secret = t.token().expose_secret().to_owned();
    for shown in [format!("{cli:?}"), format!("{t:?}")] {
        assert!(!shown.contains(&secret), "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_spawn_az_once() {
    let (_emu, mut az) = logged_in().await;
    az.set_delay_ms(300).unwrap();
    let cli = Arc::new(AzureCliCredential::new(options(&az)).unwrap());
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let cli = cli.clone();
            tokio::spawn(async move { cli.get_token(&ml()).await })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap().unwrap().token().expose_secret().to_owned());
    }
    assert_eq!(tokens.len(), 1);
    assert_eq!(az.runs().len(), 1, "{:?}", az.runs());
}

#[tokio::test]
async fn account_show_gives_the_default_subscription_and_tenant() {
    let (_emu, az) = logged_in().await;
    let a = AzureCliCredential::new(options(&az))
        .unwrap()
        .account()
        .await
        .unwrap();
    assert_eq!(a.subscription_id, sample::SUBSCRIPTION_ID);
    assert_eq!(a.tenant_id, sample::TENANT_ID);
    assert_eq!(a.user_type.as_deref(), Some("servicePrincipal"));
    assert_eq!(az.runs(), ["account show --output json"]);
}

#[tokio::test]
async fn a_claims_challenge_names_the_az_login_to_run_and_runs_nothing() {
    let (_emu, az) = logged_in().await;
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    let e = AzureCliCredential::new(options(&az))
        .unwrap()
        .get_token(&ml().with_claims(claims))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert_eq!(e.claims(), Some(claims));
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("az login --claims-challenge eyJhY2Nlc3NfdG9rZW4i"),
        "{hint}"
    );
    assert!(
        hint.contains("--scope https://ml.azure.com/.default"),
        "{hint}"
    );
    assert!(az.runs().is_empty());
}

#[test]
fn values_that_could_become_options_are_refused_up_front() {
    for bad in ["--debug", "a b", "t;x"] {
        let e = AzureCliCredential::new(AzureCliOptions::new().tenant(bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{bad}");
    }
    let e = AzureCliCredential::new(AzureCliOptions::new().subscription("x\"; rm")).unwrap_err();
    assert!(e.to_string().contains("use its id instead"), "{e}");
}

/// A folder holding `az` as the shell script `body`, as the real az on Linux is a script.
#[cfg(unix)]
fn script_az(name: &str, body: &str) -> (std::path::PathBuf, AzureCliOptions) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir().join(format!("auth-cli-script-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let az = dir.join("az");
    std::fs::write(&az, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env: HashMap<String, String> = [("PATH".to_owned(), dir.display().to_string())].into();
    (dir, AzureCliOptions::new().env(Arc::new(env)))
}

/// Whether process `pid` is gone (or a zombie nobody has reaped yet).
#[cfg(unix)]
fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z')),
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn at_the_timeout_everything_az_started_is_killed_too() {
    // The script starts a long child (as az's script starts python) and waits for it.
    let (dir, options) = script_az(
        "group",
        "sleep 60 &\necho $! > \"$(dirname \"$0\")/child\"\nwait",
    );
    let cli = AzureCliCredential::new(options.timeout(Duration::from_millis(700))).unwrap();
    let e = cli.get_token(&ml()).await.unwrap_err();
    assert!(e.message().contains("az took longer than"), "{e}");
    let child = std::fs::read_to_string(dir.join("child")).unwrap();
    let child = child.trim();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !is_dead(child) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(is_dead(child), "az's child {child} outlived the timeout");
}

#[cfg(unix)]
#[tokio::test]
async fn a_process_az_leaves_behind_holding_its_output_does_not_make_it_a_timeout() {
    let expires = now() + 3600;
    let (_dir, options) = script_az(
        "linger",
        &format!(
            "sleep 5 &\necho '{{\"accessToken\": \"opaque\", \"expires_on\": {expires}, \"tokenType\": \"Bearer\"}}'"
        ),
    );
    let cli = AzureCliCredential::new(options.timeout(Duration::from_secs(4))).unwrap();
    let started = Instant::now();
    let t = cli.get_token(&ml()).await.unwrap();
    assert_eq!(t.expires_on_unix(), expires);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn disable_multitenant_auth_in_the_environment_pins_the_tenant() {
    let (_emu, az) = logged_in().await;
    let mut env: HashMap<String, String> = [
        ("PATH".to_owned(), az.dir().display().to_string()),
        (
            "AZURE_IDENTITY_DISABLE_MULTITENANTAUTH".to_owned(),
            "true".to_owned(),
        ),
    ]
    .into();
    let cli = AzureCliCredential::new(AzureCliOptions::new().env(Arc::new(env.clone()))).unwrap();
    let other = TenantId::new("contoso.onmicrosoft.com").unwrap();
    cli.get_token(&ml().with_tenant(other)).await.unwrap();
    assert_eq!(
        az.runs(),
        ["account get-access-token --output json --resource https://ml.azure.com"],
        "no --tenant"
    );
    env.insert(
        "AZURE_IDENTITY_DISABLE_MULTITENANTAUTH".to_owned(),
        "maybe".to_owned(),
    );
    let e = AzureCliCredential::new(AzureCliOptions::new().env(Arc::new(env))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
}
