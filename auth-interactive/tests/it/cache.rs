//! The persistent cache across processes: a second process refreshes with no sign-in, eight
//! processes read and refresh at once, and writers killed mid-write never leave a corrupt or
//! readable-by-others file. Child processes re-run this test binary on `child_process`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use auth_core::ErrorKind;
use auth_interactive::{InteractiveBrowserCredential, InteractiveOptions, PersistentCache};
use auth_testkit::Emulator;

use crate::common::*;

const CHILD: &str = "AML_IT_CHILD";

/// What a child does, from the environment: `once` (two silent tokens), `loop` (silent tokens
/// until killed), `hammer` (rewrites the file until killed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process() {
    let Ok(mode) = std::env::var(CHILD) else {
        return; // Not a child: nothing to do.
    };
    let authority = std::env::var("AML_IT_AUTHORITY").unwrap();
    let cache = PersistentCache::new(std::env::var("AML_IT_CACHE").unwrap());
    let options = || {
        InteractiveOptions::new()
            .authority_host(&authority)
            .unwrap()
            .pipeline(pipeline())
            .browser(Arc::new(NoBrowser))
            .device_code_fallback(false)
            .persistent_cache(cache.clone())
            .disable_automatic_authentication(true)
    };
    if mode == "hammer" {
        // Nothing but writes (each a full atomic replace), until killed.
        loop {
            cache.clear().unwrap();
        }
    }
    loop {
        // A new credential each time: nothing in memory, everything from the file.
        let c = InteractiveBrowserCredential::new(options()).unwrap();
        for request in [arm(), ml()] {
            let t = c.get_token(&request).await.unwrap();
            assert_eq!(claims(t.token().expose_secret())["oid"], USER_OID);
        }
        if mode != "loop" {
            break;
        }
    }
    println!("CHILD_OK");
}

fn child(e: &Emulator, cache: &Path, mode: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "cache::child_process",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, mode)
    .env("AML_IT_AUTHORITY", e.authority_host())
    .env("AML_IT_CACHE", cache)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Signs in once (test browser) with the persistent cache.
async fn seed(e: &Emulator, cache: &PersistentCache) {
    let b = TestBrowser::new();
    let c =
        InteractiveBrowserCredential::new(options(e, b.clone()).persistent_cache(cache.clone()))
            .unwrap();
    c.get_token(&arm()).await.unwrap();
    assert_eq!(b.opened().len(), 1);
}

#[cfg(unix)]
fn assert_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if let Ok(m) = std::fs::metadata(&p) {
            assert_eq!(
                m.permissions().mode() & 0o077,
                0,
                "{} is readable by others",
                p.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn assert_private(_dir: &Path) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_refreshes_from_the_cache_without_signing_in() {
    let e = start().await;
    let dir = temp_dir("second");
    let cache = PersistentCache::new(dir.join("cache.json"));
    // Without an account, the child fails (it may not sign in).
    let out = child(&e, cache.path(), "once").output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("automatic interactive sign-in is disabled")
            || String::from_utf8_lossy(&out.stdout)
                .contains("automatic interactive sign-in is disabled")
    );
    seed(&e, &cache).await;
    let out = child(&e, cache.path(), "once").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD_OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(cache.accounts().unwrap()[0].username, USER);
    assert_private(&dir);
    // Sign-out in this process clears it for every process.
    let c = InteractiveBrowserCredential::new(
        options(&e, TestBrowser::new())
            .persistent_cache(cache.clone())
            .disable_automatic_authentication(true),
    )
    .unwrap();
    c.get_token(&ml()).await.unwrap();
    c.sign_out().await.unwrap();
    assert!(cache.accounts().unwrap().is_empty());
    let err = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InteractionRequired);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_read_and_refresh_at_once() {
    let e = start().await;
    let dir = temp_dir("eight");
    let cache = PersistentCache::new(dir.join("cache.json"));
    seed(&e, &cache).await;
    let children: Vec<_> = (0..8)
        .map(|_| child(&e, cache.path(), "once").spawn().unwrap())
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("CHILD_OK"),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // 16 rotations, one after the other: the file holds the last refresh token.
    let accounts = cache.accounts().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_private(&dir);
    let c = InteractiveBrowserCredential::new(
        options(&e, TestBrowser::new())
            .persistent_cache(cache.clone())
            .disable_automatic_authentication(true),
    )
    .unwrap();
    c.get_token(&ml()).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_killed_mid_write_never_corrupt_the_file() {
    let e = start().await;
    let dir = temp_dir("killed");
    let cache = PersistentCache::new(dir.join("cache.json"));
    seed(&e, &cache).await;
    let mut torn_total = 0;
    for round in 0..12u64 {
        let mode = if round % 2 == 0 { "loop" } else { "hammer" };
        let mut writer = child(&e, cache.path(), mode).spawn().unwrap();
        // Let it refresh (and rewrite the file) a few times, then kill it wherever it is.
        tokio::time::sleep(Duration::from_millis(250 + 37 * round)).await;
        writer.kill().unwrap();
        writer.wait().unwrap();
        // The file verifies (HMAC, JSON) and nobody else can read anything in the directory.
        let accounts = cache
            .accounts()
            .unwrap_or_else(|err| panic!("round {round}: {err}"));
        assert!(accounts.len() <= 1, "round {round}");
        assert_private(&dir);
        let torn = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|f| {
                f.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".cache.json.tmp.")
            })
            .count();
        torn_total += torn;
        // A writer killed between the refresh and the write leaves a spent refresh token
        // (Entra rotates them); a sign-in then repairs the cache. Either way it is usable.
        let b = TestBrowser::new();
        let c = InteractiveBrowserCredential::new(options(&e, b).persistent_cache(cache.clone()))
            .unwrap();
        c.get_token(&ml()).await.unwrap();
    }
    println!("temporary files left by killed writers (removed by the next writer): {torn_total}");
    let leftovers = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".cache.json.tmp.")
        })
        .count();
    assert_eq!(leftovers, 0, "the next writer cleans up");
    std::fs::remove_dir_all(&dir).unwrap();
}
