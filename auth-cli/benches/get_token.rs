//! AzureCliCredential::get_token with a warm cache (no process spawned) and cold (one spawn of
//! the stand-in az, which gets its token from the emulator). Run with
//! `cargo bench -p auth-cli --bench get_token` (or `cargo xtask bench`). Plain `main`, timed with
//! `Instant`; the cold figure is dominated by process start-up, the same for real az plus its
//! own Python start (1–13 s).
#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_cli::{AzureCliCredential, AzureCliOptions};
use auth_core::TokenRequest;
use auth_testkit::az::{AzStandIn, stand_in_binary};
use auth_testkit::{Emulator, Setup};

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emu = Emulator::start(Setup::sample()).await.unwrap();
        let az = AzStandIn::install(&emu, &stand_in_binary()).unwrap();
        let env: HashMap<String, String> =
            [("PATH".to_owned(), az.dir().display().to_string())].into();
        let options = AzureCliOptions::new().env(Arc::new(env));
        let request = TokenRequest::for_resource("https://ml.azure.com").unwrap();

        let mut cold = Vec::new();
        for _ in 0..30 {
            let cli = AzureCliCredential::new(options.clone()).unwrap();
            let t = Instant::now();
            black_box(cli.get_token(&request).await.unwrap());
            cold.push(t.elapsed());
        }
        let cli = AzureCliCredential::new(options.clone()).unwrap();
        cli.get_token(&request).await.unwrap();
        let spawns_before = az.runs().len();
        const HITS: u32 = 200_000;
        let mut warm = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            for _ in 0..HITS {
                black_box(cli.get_token(black_box(&request)).await.unwrap());
            }
            warm.push(t.elapsed() / HITS);
        }
        assert_eq!(az.runs().len(), spawns_before, "a warm cache spawns nothing");
        println!(
            "az get_token warm (cached, no spawn): median {:.0} ns, p90 {:.0} ns",
            percentile(&warm, 0.5).as_nanos(),
            percentile(&warm, 0.9).as_nanos()
        );
        println!(
            "az get_token cold (one spawn of the stand-in az + its token request): median {:.2} ms, p90 {:.2} ms",
            percentile(&cold, 0.5).as_secs_f64() * 1e3,
            percentile(&cold, 0.9).as_secs_f64() * 1e3
        );
    });
}
