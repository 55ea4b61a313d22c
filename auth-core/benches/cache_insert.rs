//! Benchmark: inserting 20,000 new keys into a token cache, with room for all of them and with
//! the default capacity (eviction at work). Run with `cargo bench -p auth-core --bench
//! cache_insert` (or `cargo xtask bench`).
#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::time::{Duration, Instant, SystemTime};

use auth_core::{
    AccessToken, CacheKey, CacheOptions, CachePartition, Scopes, Secret, TenantId, TokenCache,
    TokenType,
};

const KEYS: usize = 20_000;

fn insert_all(cache: &TokenCache, keys: &[Scopes], token: &AccessToken) -> Duration {
    let partition = CachePartition::new(
        "https://login.microsoftonline.com",
        "0f6e4a3c-1b2d-4c5e-8f90-a1b2c3d4e5f6",
    );
    let tenant = TenantId::new("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap();
    let start = Instant::now();
    for scopes in keys {
        let key = CacheKey {
            partition: &partition,
            tenant: Some(&tenant),
            scopes,
            cae: false,
        };
        cache.insert(&key, token);
    }
    start.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let keys: Vec<Scopes> = (0..KEYS)
        .map(|i| Scopes::new([format!("https://resource-{i}.example/.default")]).unwrap())
        .collect();
    let token = AccessToken::from_lifetime(
        Secret::new("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.sig"),
        TokenType::Bearer,
        SystemTime::now(),
        Duration::from_secs(3600),
        None,
    );
    let roomy = median(
        (0..5)
            .map(|_| {
                let cache = TokenCache::with_options(CacheOptions::default().with_capacity(KEYS));
                insert_all(&cache, &keys, &token)
            })
            .collect(),
    );
    let bounded = median(
        (0..5)
            .map(|_| insert_all(&TokenCache::new(), &keys, &token))
            .collect(),
    );
    println!(
        "cache insert: {KEYS} new keys in {:.1} ms with room for all ({:.2} us/key)",
        roomy.as_secs_f64() * 1e3,
        roomy.as_secs_f64() * 1e6 / KEYS as f64
    );
    println!(
        "cache insert: {KEYS} new keys in {:.1} ms at the default capacity of {} (evicting)",
        bounded.as_secs_f64() * 1e3,
        auth_core::DEFAULT_CACHE_CAPACITY
    );
}
