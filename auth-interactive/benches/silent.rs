//! Silent acquisition from the persistent cache, against the emulator: a new credential each
//! round (nothing in memory) reads the file, verifies its HMAC, refreshes with the refresh
//! token (which Entra rotates) and writes the file back (temp file, fsync, rename, all under
//! the lock). For scale: the same credential's in-memory hit, and reading + verifying the
//! file alone.
//!
//! Run with `cargo bench -p auth-interactive`. Plain `main`, timed with `Instant`; prints
//! medians and p90s.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::{Pipeline, TokenRequest};
use auth_interactive::{DeviceCodeCredential, InteractiveOptions, PersistentCache};
use auth_testkit::{App, Emulator, Setup, Tenant, User};

const TENANT: &str = "72f988bf-0000-4000-8000-00000000f001";
const USER: &str = "bench@contoso.onmicrosoft.com";
const ROUNDS: usize = 300;

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn report(title: &str, samples: &[Duration]) {
    println!(
        "  {title:<44} median {:8.1} µs   p90 {:8.1} µs   ({} rounds)",
        percentile(samples, 0.5).as_secs_f64() * 1e6,
        percentile(samples, 0.9).as_secs_f64() * 1e6,
        samples.len()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let emu = Arc::new(
        Emulator::start(
            Setup::new()
                .tenant(Tenant::new(TENANT))
                .app(App::azure_cli())
                .user(User::new(TENANT, USER))
                .device_code_interval(Duration::ZERO),
        )
        .await
        .expect("emulator"),
    );
    let dir = std::env::temp_dir().join(format!("aml-bench-silent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = PersistentCache::new(dir.join("cache.json"));
    let e2 = emu.clone();
    let options = InteractiveOptions::new()
        .tenant_id(TENANT)
        .expect("tenant")
        .authority_host(&emu.authority_host())
        .expect("authority")
        .pipeline(Pipeline::shared())
        .persistent_cache(cache.clone())
        .device_code_prompt(move |info| {
            assert!(e2.approve_device_code(&info.user_code, USER));
        });
    let arm = TokenRequest::for_resource("https://management.core.windows.net/").expect("scope");
    // Sign in once (device code, approved at once).
    DeviceCodeCredential::new(options.clone())
        .expect("credential")
        .get_token(&arm)
        .await
        .expect("sign-in");
    let silent = options.disable_automatic_authentication(true);

    let mut cold = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let c = DeviceCodeCredential::new(silent.clone()).expect("credential");
        c.get_token(&arm).await.expect("silent token");
        cold.push(t.elapsed());
    }
    let c = DeviceCodeCredential::new(silent.clone()).expect("credential");
    c.get_token(&arm).await.expect("silent token");
    let mut warm = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        c.get_token(&arm).await.expect("cached token");
        warm.push(t.elapsed());
    }
    let mut read = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        assert_eq!(cache.accounts().expect("verified read").len(), 1);
        read.push(t.elapsed());
    }
    println!("silent acquisition from the persistent cache (emulator on 127.0.0.1)");
    report("new credential: file → refresh → file", &cold);
    report("same credential: in-memory hit", &warm);
    report("read + HMAC-verify the file only", &read);
    let _ = std::fs::remove_dir_all(&dir);
}
