//! Cold token acquisition against the emulator, compared with a bare reqwest POST of the same
//! form to the same endpoint in the same run, both on a reused connection; then 200 new
//! credentials in a row, which must share the process-wide connection pool.
//!
//! Run with `cargo bench -p auth-sp`. Plain `main`, timed with `Instant`; it prints medians,
//! p90s and the ratios (target ≤ 1.1×), and the number of connections the emulator accepted.

use std::time::{Duration, Instant};

use auth_core::{Pipeline, Secret, TokenRequest};
use auth_sp::{ClientSecretCredential, ServicePrincipalOptions};
use auth_testkit::{App, Emulator, Setup, Tenant};

const TENANT: &str = "72f988bf-0000-4000-8000-00000000b001";
const CLIENT: &str = "a11ce000-0000-4000-8000-00000000b002";
const SECRET: &str = "bench-secret-value";
const ROUNDS: usize = 400;
const NEW_CREDENTIALS: usize = 200;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Server-side TCP connections of the emulator's port (Linux `/proc/net/tcp`), whatever their
/// state: every connection a client opened and not yet fully closed.
fn connections_to(port: u16) -> Option<usize> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port_hex = format!(":{port:04X}");
    Some(
        table
            .lines()
            .skip(1)
            .filter(|l| {
                let mut cols = l.split_whitespace();
                let local = cols.nth(1).unwrap_or_default();
                let state = cols.nth(1).unwrap_or_default();
                local.ends_with(&port_hex) && state != "0A" // not the listening socket
            })
            .count(),
    )
}

fn credential(emu: &Emulator, pipeline: &Pipeline) -> ClientSecretCredential {
    let options = ServicePrincipalOptions::new()
        .authority_host(&emu.authority_host())
        .expect("emulator host")
        .pipeline(pipeline.clone());
    ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options).expect("credential")
}

async fn bare(client: &reqwest::Client, url: &str, body: &str) {
    let response = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("bare POST");
    assert!(response.status().is_success());
    let bytes = response.bytes().await.expect("bare body");
    assert!(!bytes.is_empty());
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
    let emu = Emulator::start(
        Setup::new()
            .tenant(Tenant::new(TENANT))
            .app(App::new(TENANT, CLIENT).secret(SECRET)),
    )
    .await
    .expect("emulator");
    let port: u16 = emu
        .authority_host()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let url = format!("{}/{TENANT}/oauth2/v2.0/token", emu.authority_host());
    let request =
        TokenRequest::for_resource("https://management.core.windows.net/").expect("request");
    let body = format!(
        "client_id={CLIENT}&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default&client_secret={SECRET}"
    );
    let pipeline = Pipeline::shared();
    let bare_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest");

    // Warm both connections up.
    for _ in 0..20 {
        credential(&emu, &pipeline)
            .get_token(&request)
            .await
            .expect("token");
        bare(&bare_client, &url, &body).await;
    }

    // Cold token (a new credential, so an empty cache, on the shared pipeline) versus the bare
    // POST, interleaved so that drift hits both alike.
    let mut ours = Vec::with_capacity(ROUNDS);
    let mut theirs = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let measure_ours = async {
            let t = Instant::now();
            credential(&emu, &pipeline)
                .get_token(&request)
                .await
                .expect("token");
            t.elapsed()
        };
        let measure_bare = async {
            let t = Instant::now();
            bare(&bare_client, &url, &body).await;
            t.elapsed()
        };
        if i % 2 == 0 {
            ours.push(measure_ours.await);
            theirs.push(measure_bare.await);
        } else {
            theirs.push(measure_bare.await);
            ours.push(measure_ours.await);
        }
    }
    let (o50, o90) = (percentile(&mut ours, 0.5), percentile(&mut ours, 0.9));
    let (b50, b90) = (percentile(&mut theirs, 0.5), percentile(&mut theirs, 0.9));
    println!(
        "cold token, {ROUNDS} rounds (new credential each, shared pipeline, reused connection)"
    );
    println!(
        "  auth-sp      median {:8.1} µs   p90 {:8.1} µs",
        us(o50),
        us(o90)
    );
    println!(
        "  bare reqwest median {:8.1} µs   p90 {:8.1} µs",
        us(b50),
        us(b90)
    );
    println!(
        "  ratio        median {:.3}×        p90 {:.3}×",
        us(o50) / us(b50),
        us(o90) / us(b90)
    );

    // The request path alone: one credential, the cache bypassed by a claims request, against
    // the bare POST of the same form (claims field included).
    let one = credential(&emu, &pipeline);
    let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;
    let with_claims = request.clone().with_claims(claims);
    let claims_body = format!(
        "client_id={CLIENT}&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default&claims={}&client_secret={SECRET}",
        "%7B%22access_token%22%3A%7B%22nbf%22%3A%7B%22essential%22%3Atrue%2C%22value%22%3A%221700000000%22%7D%7D%7D"
    );
    let mut ours = Vec::with_capacity(ROUNDS);
    let mut theirs = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let measure_ours = async {
            let t = Instant::now();
            one.get_token(&with_claims).await.expect("token");
            t.elapsed()
        };
        let measure_bare = async {
            let t = Instant::now();
            bare(&bare_client, &url, &claims_body).await;
            t.elapsed()
        };
        if i % 2 == 0 {
            ours.push(measure_ours.await);
            theirs.push(measure_bare.await);
        } else {
            theirs.push(measure_bare.await);
            ours.push(measure_ours.await);
        }
    }
    let (o50, o90) = (percentile(&mut ours, 0.5), percentile(&mut ours, 0.9));
    let (b50, b90) = (percentile(&mut theirs, 0.5), percentile(&mut theirs, 0.9));
    println!("request path, {ROUNDS} rounds (one credential, cache bypassed by claims, same form)");
    println!(
        "  auth-sp      median {:8.1} µs   p90 {:8.1} µs",
        us(o50),
        us(o90)
    );
    println!(
        "  bare reqwest median {:8.1} µs   p90 {:8.1} µs",
        us(b50),
        us(b90)
    );
    println!(
        "  ratio        median {:.3}×        p90 {:.3}×",
        us(o50) / us(b50),
        us(o90) / us(b90)
    );

    // 200 new credentials in a row: each gets its first token over the shared pool.
    let before = connections_to(port);
    let mut per_credential = Vec::with_capacity(NEW_CREDENTIALS);
    let started = Instant::now();
    for _ in 0..NEW_CREDENTIALS {
        let t = Instant::now();
        credential(&emu, &pipeline)
            .get_token(&request)
            .await
            .expect("token");
        per_credential.push(t.elapsed());
    }
    let total = started.elapsed();
    let after = connections_to(port);
    let mut bare_row = Vec::with_capacity(NEW_CREDENTIALS);
    for _ in 0..NEW_CREDENTIALS {
        let t = Instant::now();
        bare(&bare_client, &url, &body).await;
        bare_row.push(t.elapsed());
    }
    let c50 = percentile(&mut per_credential, 0.5);
    let r50 = percentile(&mut bare_row, 0.5);
    println!("{NEW_CREDENTIALS} new credentials in a row");
    println!(
        "  total {:.1} ms, median {:8.1} µs per credential; bare median {:8.1} µs; ratio {:.3}×",
        total.as_secs_f64() * 1e3,
        us(c50),
        us(r50),
        us(c50) / us(r50)
    );
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "  emulator-side connections: {b} before, {a} after (the shared pipeline and the bare client hold one each; {} new)",
            a.saturating_sub(b)
        ),
        _ => println!("  connection count unavailable (no /proc/net/tcp)"),
    }
}
