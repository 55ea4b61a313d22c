//! Cold token acquisition against the emulator, compared with a bare reqwest POST of the same
//! form to the same endpoint in the same run, both on a reused connection; then 200 new
//! credentials in a row, which must share the process-wide connection pool.
//!
//! Run with `cargo bench -p auth-sp`. Plain `main`, timed with `Instant`. Each of our requests
//! is paired with a bare one right before or after it (the order alternates), so that load
//! from other processes hits both alike; it prints the medians, p90s and the median of the
//! per-pair ratios (target ≤ 1.1×), and the connections the emulator holds.
//!
//! The bare POST sends the same form and, unless marked "minimal", the same headers as our
//! request (the telemetry headers Entra asks clients to send: `client-request-id`,
//! `x-client-sku`/`-ver`/`-os`, `x-ms-lib-capability`), so the ratio measures our client
//! code; the minimal pairing shows what those headers cost on both ends.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::future::Future;
use std::time::{Duration, Instant};

use auth_core::entra::{Form, request_token};
use auth_core::{Pipeline, Secret, TokenRequest};
use auth_sp::{ClientSecretCredential, ServicePrincipalOptions};
use auth_testkit::{App, Emulator, Setup, Tenant};

const TENANT: &str = "72f988bf-0000-4000-8000-00000000b001";
const CLIENT: &str = "a11ce000-0000-4000-8000-00000000b002";
const SECRET: &str = "bench-secret-value";
const SCOPE: &str = "https://management.core.windows.net//.default";
const CLAIMS: &str = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;
const ROUNDS: usize = 1000;
const NEW_CREDENTIALS: usize = 200;

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Runs `ours` and `bare` `rounds` times each, paired and alternating, and prints the result.
async fn paired<A, FA, B, FB>(title: &str, rounds: usize, mut ours: A, mut bare: B) -> Vec<Duration>
where
    A: FnMut() -> FA,
    FA: Future<Output = ()>,
    B: FnMut() -> FB,
    FB: Future<Output = ()>,
{
    let (mut o, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        let time_ours = async {
            let t = Instant::now();
            ours().await;
            t.elapsed()
        };
        let (to, tb) = if i % 2 == 0 {
            let to = time_ours.await;
            let t = Instant::now();
            bare().await;
            (to, t.elapsed())
        } else {
            let t = Instant::now();
            bare().await;
            let tb = t.elapsed();
            (time_ours.await, tb)
        };
        ratios.push(to.as_secs_f64() / tb.as_secs_f64());
        o.push(to);
        b.push(tb);
    }
    ratios.sort_by(f64::total_cmp);
    println!("{title}");
    println!(
        "  auth-sp      median {:7.1} µs   p90 {:7.1} µs",
        us(percentile(&o, 0.5)),
        us(percentile(&o, 0.9))
    );
    println!(
        "  bare reqwest median {:7.1} µs   p90 {:7.1} µs",
        us(percentile(&b, 0.5)),
        us(percentile(&b, 0.9))
    );
    println!(
        "  ratio of medians {:.3}×, median of paired ratios {:.3}×",
        us(percentile(&o, 0.5)) / us(percentile(&b, 0.5)),
        ratios[ratios.len() / 2]
    );
    o
}

/// Server-side TCP connections of the emulator's port (Linux `/proc/net/tcp`), listening
/// socket excluded: every connection a client opened and not yet fully closed.
fn connections_to(port: u16) -> Option<usize> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port_hex = format!(":{port:04X}");
    Some(
        table
            .lines()
            .skip(1)
            .filter(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3 && cols[1].ends_with(&port_hex) && cols[3] != "0A"
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

/// Which headers the bare POST sends besides `content-type` and `accept`.
#[derive(Clone, Copy, PartialEq)]
enum Headers {
    /// The same telemetry headers as auth-core sends (a fixed request id of the same length).
    Same,
    /// None.
    Minimal,
}

async fn bare(client: &reqwest::Client, url: &str, body: &str, headers: Headers) {
    let mut request = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if headers == Headers::Same {
        request = request
            .header("client-request-id", "0f6e4a3c-1b2d-4c5e-8f90-a1b2c3d4e5f6")
            .header("x-client-sku", "azureml-auth")
            .header("x-client-ver", env!("CARGO_PKG_VERSION"))
            .header("x-client-os", std::env::consts::OS)
            .header("x-ms-lib-capability", "retry-after, h429");
    }
    let response = request
        .body(body.to_owned())
        .send()
        .await
        .expect("bare POST");
    assert!(response.status().is_success());
    assert!(!response.bytes().await.expect("bare body").is_empty());
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
    let with_claims = request.clone().with_claims(CLAIMS);
    let encode = |claims: bool| {
        let mut f = Form::new()
            .field("client_id", CLIENT)
            .field("grant_type", "client_credentials")
            .field("scope", SCOPE);
        if claims {
            f = f.field("claims", CLAIMS);
        }
        String::from_utf8(f.field("client_secret", SECRET).encode().to_vec()).expect("form")
    };
    let (body, claims_body) = (encode(false), encode(true));
    let pipeline = Pipeline::shared();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest");

    for _ in 0..50 {
        credential(&emu, &pipeline)
            .get_token(&request)
            .await
            .expect("token");
        bare(&client, &url, &body, Headers::Same).await;
        bare(&client, &url, &body, Headers::Minimal).await;
    }

    let cold = || async {
        drop(
            credential(&emu, &pipeline)
                .get_token(&request)
                .await
                .expect("token"),
        )
    };
    paired(
        &format!(
            "cold token, {ROUNDS} pairs (a new credential each, shared pipeline, reused connection)"
        ),
        ROUNDS,
        cold,
        || bare(&client, &url, &body, Headers::Same),
    )
    .await;
    paired(
        &format!("cold token again, {ROUNDS} pairs, against a minimal bare POST (form only)"),
        ROUNDS,
        cold,
        || bare(&client, &url, &body, Headers::Minimal),
    )
    .await;

    let one = credential(&emu, &pipeline);
    paired(
        &format!(
            "request path, {ROUNDS} pairs (one credential, cache bypassed by claims, same form)"
        ),
        ROUNDS,
        || async { drop(one.get_token(&with_claims).await.expect("token")) },
        || bare(&client, &url, &claims_body, Headers::Same),
    )
    .await;

    let secret = Secret::new(SECRET);
    paired(
        &format!("auth-core request_token alone, {ROUNDS} pairs (same form with claims; the shared plumbing)"),
        ROUNDS,
        || async {
            let form = || {
                Ok(Form::new()
                    .field("client_id", CLIENT)
                    .field("grant_type", "client_credentials")
                    .field("scope", SCOPE)
                    .field("claims", CLAIMS)
                    .secret("client_secret", &secret))
            };
            drop(request_token(&pipeline, &url, form).await.expect("token"));
        },
        || bare(&client, &url, &claims_body, Headers::Same),
    )
    .await;

    const HITS: u32 = 100_000;
    let t = Instant::now();
    for _ in 0..HITS {
        std::hint::black_box(one.get_token(&request).await.expect("token"));
    }
    println!(
        "cache hit: {:.0} ns per get_token",
        t.elapsed().as_secs_f64() * 1e9 / f64::from(HITS)
    );

    let t = Instant::now();
    for _ in 0..HITS / 10 {
        std::hint::black_box(credential(&emu, &pipeline));
    }
    println!(
        "constructing a ClientSecretCredential: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(HITS / 10)
    );

    let before = connections_to(port);
    let started = Instant::now();
    paired(
        &format!("{NEW_CREDENTIALS} new credentials in a row (each paired with a bare POST)"),
        NEW_CREDENTIALS,
        cold,
        || bare(&client, &url, &body, Headers::Same),
    )
    .await;
    let total = started.elapsed();
    match (before, connections_to(port)) {
        (Some(b), Some(a)) => println!(
            "  {:.1} ms in all; emulator-side connections {b} before, {a} after ({} new; the shared pipeline and the bare client hold one each)",
            total.as_secs_f64() * 1e3,
            a.saturating_sub(b)
        ),
        _ => println!("  connection count unavailable (no /proc/net/tcp)"),
    }
}
