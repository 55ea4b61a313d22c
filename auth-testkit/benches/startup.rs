//! How long starting an emulator takes (target: under 50 ms). `cargo bench -p auth-testkit`.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::time::{Duration, Instant};

use auth_testkit::{Emulator, Setup, StartOptions};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median over `runs` of: start (and, with `first_request`, answer one discovery GET).
fn measure(rt: &tokio::runtime::Runtime, tls: bool, first_request: bool, runs: usize) -> Duration {
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let elapsed = rt.block_on(async {
            let start = Instant::now();
            let e = Emulator::start_with_options(Setup::sample(), StartOptions::new().tls(tls))
                .await
                .expect("emulator starts");
            if first_request {
                let url = format!(
                    "{}/{}/v2.0/.well-known/openid-configuration",
                    e.authority_host(),
                    auth_testkit::sample::TENANT_ID
                );
                let status = client.get(url).send().await.expect("response").status();
                assert!(status.is_success());
            }
            let elapsed = start.elapsed();
            drop(e);
            elapsed
        });
        times.push(elapsed);
    }
    median(times)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let runs = 50;
    let http = measure(&rt, false, false, runs);
    let https = measure(&rt, true, false, runs);
    let first = measure(&rt, false, true, runs);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "emulator start (HTTP):                   median {:.3} ms over {runs} starts",
        ms(http)
    );
    println!(
        "emulator start (HTTPS, CA generated):    median {:.3} ms over {runs} starts",
        ms(https)
    );
    println!(
        "emulator start + first response (HTTP):  median {:.3} ms over {runs} starts",
        ms(first)
    );
    println!(
        "target: under 50 ms — {}",
        if http.max(https) < Duration::from_millis(50) {
            "met"
        } else {
            "MISSED"
        }
    );
}
