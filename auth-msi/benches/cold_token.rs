//! Cold token acquisition through each managed-identity source against the emulator: a new
//! credential each round (so nothing is cached), on the shared pipeline's reused connection,
//! paired with a bare reqwest request of the same shape (same URL, headers and, for Arc, the
//! same challenge and key-file read) right before or after it, alternating.
//!
//! Run with `cargo bench -p auth-msi --bench cold_token`. Plain `main`, timed with `Instant`;
//! it prints medians, p90s and the median of the per-pair ratios, then the cache hit.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use auth_core::{Pipeline, TokenRequest};
use auth_msi::{ManagedIdentityCredential, ManagedIdentityOptions, ManagedIdentitySource};
use auth_testkit::{Emulator, ManagedIdentity, Setup, Tenant, User};

const TENANT: &str = "72f988bf-0000-4000-8000-00000000b001";
const CLIENT: &str = "a11ce000-0000-4000-8000-00000000b002";
const OBJECT: &str = "a11ce000-0000-4000-8000-00000000b003";
const USER: &str = "a11ce000-0000-4000-8000-00000000b004";
const RESOURCE: &str = "https://management.azure.com";
const ROUNDS: usize = 300;

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn env(emu: &Emulator, source: ManagedIdentitySource) -> HashMap<String, String> {
    let pairs: Vec<(&str, String)> = match source {
        ManagedIdentitySource::AppService => vec![
            ("IDENTITY_ENDPOINT", emu.app_service_endpoint()),
            ("IDENTITY_HEADER", emu.identity_header()),
        ],
        ManagedIdentitySource::AzureArc => vec![
            ("IDENTITY_ENDPOINT", emu.imds_token_url()),
            ("IMDS_ENDPOINT", emu.msi_base()),
        ],
        ManagedIdentitySource::AzureMl => vec![
            ("MSI_ENDPOINT", emu.azure_ml_endpoint()),
            ("MSI_SECRET", emu.msi_secret()),
        ],
        ManagedIdentitySource::CloudShell => vec![("MSI_ENDPOINT", emu.cloud_shell_endpoint())],
        _ => vec![("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.msi_base())],
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The same request(s) with a bare reqwest client.
async fn bare(client: &reqwest::Client, emu: &Emulator, source: ManagedIdentitySource) {
    let q = format!(
        "?api-version={{}}&resource={}",
        "https%3A%2F%2Fmanagement.azure.com"
    );
    let with = |base: String, api: &str| format!("{base}{}", q.replace("{}", api));
    let response = match source {
        ManagedIdentitySource::Imds => {
            client
                .get(with(emu.imds_token_url(), "2018-02-01"))
                .header("metadata", "true")
                .send()
                .await
        }
        ManagedIdentitySource::AppService => {
            client
                .get(with(emu.app_service_endpoint(), "2019-08-01"))
                .header("x-identity-header", emu.identity_header())
                .header("metadata", "true")
                .send()
                .await
        }
        ManagedIdentitySource::AzureMl => {
            client
                .get(with(emu.azure_ml_endpoint(), "2017-09-01"))
                .header("secret", emu.msi_secret())
                .send()
                .await
        }
        ManagedIdentitySource::CloudShell => {
            client
                .post(emu.cloud_shell_endpoint())
                .header("metadata", "true")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("resource=https%3A%2F%2Fmanagement.azure.com")
                .send()
                .await
        }
        _ => {
            let url = with(emu.imds_token_url(), "2020-06-01");
            let challenge = client
                .get(&url)
                .header("metadata", "true")
                .send()
                .await
                .expect("challenge");
            let realm = challenge.headers()["www-authenticate"]
                .to_str()
                .expect("header")
                .split_once('=')
                .expect("realm")
                .1
                .to_owned();
            let _ = challenge.bytes().await;
            let key = std::fs::read_to_string(realm).expect("key");
            client
                .get(&url)
                .header("metadata", "true")
                .header("authorization", format!("Basic {key}"))
                .send()
                .await
        }
    };
    let response = response.expect("bare request");
    assert!(response.status().is_success(), "{}", response.status());
    assert!(!response.bytes().await.expect("body").is_empty());
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
    let arc_dir = std::env::temp_dir().join(format!("auth-msi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&arc_dir).expect("arc dir");
    let emu = Emulator::start(
        Setup::new()
            .tenant(Tenant::new(TENANT))
            .user(User::new(TENANT, "bench@contoso.example").object_id(USER))
            .system_identity(ManagedIdentity::new(CLIENT, OBJECT, ""))
            .cloud_shell_user(USER)
            .arc_key_directory(&arc_dir),
    )
    .await
    .expect("emulator");
    let pipeline = Pipeline::shared();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("reqwest");
    let request = TokenRequest::for_resource(RESOURCE).expect("request");
    let credential = |source| {
        ManagedIdentityCredential::from_env(
            &env(&emu, source),
            ManagedIdentityOptions::new()
                .pipeline(pipeline.clone())
                .arc_key_directory(&arc_dir),
        )
        .expect("credential")
    };
    println!(
        "cold token through each source, {ROUNDS} pairs (a new credential each, shared pipeline, reused connection)"
    );
    println!(
        "  source              auth-msi median / p90       bare reqwest median / p90   paired ratio"
    );
    for source in [
        ManagedIdentitySource::Imds,
        ManagedIdentitySource::AppService,
        ManagedIdentitySource::AzureMl,
        ManagedIdentitySource::CloudShell,
        ManagedIdentitySource::AzureArc,
    ] {
        for _ in 0..30 {
            credential(source).get_token(&request).await.expect("token");
            bare(&client, &emu, source).await;
        }
        let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..ROUNDS {
            let time_ours = async {
                let t = Instant::now();
                drop(credential(source).get_token(&request).await.expect("token"));
                t.elapsed()
            };
            let time_bare = async {
                let t = Instant::now();
                bare(&client, &emu, source).await;
                t.elapsed()
            };
            let (o, b) = if i % 2 == 0 {
                let o = time_ours.await;
                (o, time_bare.await)
            } else {
                let b = time_bare.await;
                (time_ours.await, b)
            };
            ratios.push(o.as_secs_f64() / b.as_secs_f64());
            ours.push(o);
            theirs.push(b);
            emu.clear_requests();
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "  {:<18} {:8.1} µs / {:8.1} µs   {:8.1} µs / {:8.1} µs   {:.3}×",
            source.to_string(),
            us(percentile(&ours, 0.5)),
            us(percentile(&ours, 0.9)),
            us(percentile(&theirs, 0.5)),
            us(percentile(&theirs, 0.9)),
            ratios[ratios.len() / 2]
        );
    }
    let one = credential(ManagedIdentitySource::Imds);
    one.get_token(&request).await.expect("token");
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
        std::hint::black_box(credential(ManagedIdentitySource::AzureMl));
    }
    println!(
        "constructing a ManagedIdentityCredential (Azure ML): {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(HITS / 10)
    );
    let _ = std::fs::remove_dir_all(&arc_dir);
}
