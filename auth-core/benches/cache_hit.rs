//! Benchmark: a cache hit on a warm key — median ns per hit, and throughput with 1 and 2
//! threads. Run with `cargo bench -p auth-core --bench cache_hit` (or `cargo xtask bench`).
#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use auth_core::{
    AccessToken, CacheKey, CachePartition, Scopes, Secret, TenantId, TokenCache, TokenType,
};

struct Fixture {
    cache: TokenCache,
    partition: CachePartition,
    tenant: TenantId,
    scopes: Scopes,
}

impl Fixture {
    fn key(&self) -> CacheKey<'_> {
        CacheKey {
            partition: &self.partition,
            tenant: Some(&self.tenant),
            scopes: &self.scopes,
            cae: false,
        }
    }
}

fn fixture() -> Arc<Fixture> {
    let f = Fixture {
        cache: TokenCache::new(),
        partition: CachePartition::new(
            "https://login.microsoftonline.com",
            "0f6e4a3c-1b2d-4c5e-8f90-a1b2c3d4e5f6",
        ),
        tenant: TenantId::new("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap(),
        scopes: Scopes::for_resource("https://management.core.windows.net/").unwrap(),
    };
    // A realistic token: ~1.5 KB of JWT text.
    let text = format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.sig",
        "A".repeat(1400)
    );
    let token = AccessToken::from_lifetime(
        Secret::new(text),
        TokenType::Bearer,
        SystemTime::now(),
        Duration::from_secs(3600),
        None,
    );
    f.cache.insert(&f.key(), &token);
    // A few other keys, as a process with several resources has.
    for r in [
        "https://ml.azure.com",
        "https://storage.azure.com/",
        "https://vault.azure.net",
    ] {
        let s = Scopes::for_resource(r).unwrap();
        f.cache.insert(
            &CacheKey {
                scopes: &s,
                ..f.key()
            },
            &token,
        );
    }
    Arc::new(f)
}

const BATCH: u32 = 100_000;

fn run(f: &Fixture, iters: u32) {
    let key = f.key();
    for _ in 0..iters {
        black_box(f.cache.get(black_box(&key)).unwrap());
    }
}

fn throughput(f: &Arc<Fixture>, threads: usize, duration: Duration) -> f64 {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let mut n = 0u64;
                while start.elapsed() < duration {
                    run(&f, 10_000);
                    n += 10_000;
                }
                n as f64 / start.elapsed().as_secs_f64()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

fn main() {
    let f = fixture();
    run(&f, 1_000_000); // warm up
    let mut samples: Vec<f64> = (0..50)
        .map(|_| {
            let start = Instant::now();
            run(&f, BATCH);
            start.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    // Baseline: what cloning and dropping the returned token costs by itself (one reference
    // count up and down), the floor of any hit that hands out an owned token.
    let token = f.cache.get(&f.key()).unwrap();
    let start = Instant::now();
    for _ in 0..BATCH * 10 {
        black_box(black_box(&token).clone());
    }
    let floor = start.elapsed().as_nanos() as f64 / f64::from(BATCH * 10);
    let one = throughput(&f, 1, Duration::from_secs(2));
    let two = throughput(&f, 2, Duration::from_secs(2));
    println!("baseline: clone + drop of the returned token alone {floor:.1} ns");
    println!(
        "cache hit (warm key): median {median:.1} ns/hit (p10 {:.1}, p90 {:.1})",
        samples[5], samples[45]
    );
    println!(
        "cache hit throughput: 1 thread {:.1} M hits/s, 2 threads {:.1} M hits/s, scaling {:.2}x",
        one / 1e6,
        two / 1e6,
        two / one
    );
}
