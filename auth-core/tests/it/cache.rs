use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::{CacheKey, CachePartition, Error, ErrorKind, Scopes, TenantId, TokenCache};

use crate::{ManualClock, token};

struct Fixture {
    partition: CachePartition,
    tenant: TenantId,
    scopes: Scopes,
}

impl Fixture {
    fn new() -> Self {
        Self {
            partition: CachePartition::new(
                "https://login.microsoftonline.com",
                "11111111-1111-1111-1111-111111111111",
            ),
            tenant: TenantId::new("contoso.onmicrosoft.com").unwrap(),
            scopes: Scopes::for_resource("https://management.core.windows.net/").unwrap(),
        }
    }
    fn key(&self) -> CacheKey<'_> {
        CacheKey {
            partition: &self.partition,
            tenant: Some(&self.tenant),
            scopes: &self.scopes,
            cae: false,
        }
    }
}

const T0: u64 = 1_700_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_on_a_cold_key_fetch_once() {
    let clock = ManualClock::at(T0);
    let cache = Arc::new(TokenCache::with_clock(clock.clone()));
    let fx = Arc::new(Fixture::new());
    let fetches = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (cache, fx, fetches) = (cache.clone(), fx.clone(), fetches.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_fetch(&fx.key(), || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(token("tok-1", T0, 3600))
                })
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().token().expose_secret(), "tok-1");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_hit_does_not_fetch_and_keys_are_separate() {
    let clock = ManualClock::at(T0);
    let cache = TokenCache::with_clock(clock.clone());
    let fx = Fixture::new();
    assert!(cache.get(&fx.key()).is_none());
    cache
        .get_or_fetch(&fx.key(), || async { Ok(token("a", T0, 3600)) })
        .await
        .unwrap();
    let hit = cache
        .get_or_fetch(&fx.key(), || async {
            Err(Error::configuration("must not fetch"))
        })
        .await
        .unwrap();
    assert_eq!(hit.token().expose_secret(), "a");
    // Another tenant, other scopes, CAE: each its own key.
    let other_tenant = TenantId::new("fabrikam.onmicrosoft.com").unwrap();
    let ml = Scopes::for_resource("https://ml.azure.com").unwrap();
    assert!(
        cache
            .get(&CacheKey {
                tenant: Some(&other_tenant),
                ..fx.key()
            })
            .is_none()
    );
    assert!(
        cache
            .get(&CacheKey {
                scopes: &ml,
                ..fx.key()
            })
            .is_none()
    );
    assert!(
        cache
            .get(&CacheKey {
                cae: true,
                ..fx.key()
            })
            .is_none()
    );
    let other_client = CachePartition::new(
        "https://login.microsoftonline.com",
        "22222222-2222-2222-2222-222222222222",
    );
    assert!(
        cache
            .get(&CacheKey {
                partition: &other_client,
                ..fx.key()
            })
            .is_none()
    );
    // Scope order does not matter.
    let ab = Scopes::new(["b/.default", "a/.default"]).unwrap();
    let ba = Scopes::new(["a/.default", "b/.default"]).unwrap();
    cache.insert(
        &CacheKey {
            scopes: &ab,
            ..fx.key()
        },
        &token("ab", T0, 3600),
    );
    assert_eq!(
        cache
            .get(&CacheKey {
                scopes: &ba,
                ..fx.key()
            })
            .unwrap()
            .token()
            .expose_secret(),
        "ab"
    );
}

#[tokio::test]
async fn a_failed_early_refresh_serves_the_still_valid_token_and_backs_off() {
    let clock = ManualClock::at(T0);
    let cache = TokenCache::with_clock(clock.clone());
    let fx = Fixture::new();
    cache
        .get_or_fetch(&fx.key(), || async { Ok(token("old", T0, 3600)) })
        .await
        .unwrap();
    // Refresh time (5 min before expiry) has come; the token is still valid.
    clock.advance(3400);
    assert!(
        cache.get(&fx.key()).is_none(),
        "due for refresh: not a plain hit"
    );
    let attempts = AtomicUsize::new(0);
    let fail = || async {
        attempts.fetch_add(1, Ordering::SeqCst);
        Err(Error::new(ErrorKind::Service, "identity service down"))
    };
    let got = cache.get_or_fetch(&fx.key(), fail).await.unwrap();
    assert_eq!(got.token().expose_secret(), "old");
    // Within 30 s of the failure: no new attempt.
    clock.advance(10);
    let got = cache.get_or_fetch(&fx.key(), fail).await.unwrap();
    assert_eq!(got.token().expose_secret(), "old");
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    // After 30 s: one more attempt, which succeeds.
    clock.advance(30);
    let got = cache
        .get_or_fetch(&fx.key(), || async { Ok(token("new", T0 + 3440, 3600)) })
        .await
        .unwrap();
    assert_eq!(got.token().expose_secret(), "new");
    assert_eq!(cache.get(&fx.key()).unwrap().token().expose_secret(), "new");
}

#[tokio::test]
async fn an_expired_token_is_never_served() {
    let clock = ManualClock::at(T0);
    let cache = TokenCache::with_clock(clock.clone());
    let fx = Fixture::new();
    cache
        .get_or_fetch(&fx.key(), || async { Ok(token("old", T0, 3600)) })
        .await
        .unwrap();
    clock.advance(3600);
    assert!(cache.get(&fx.key()).is_none());
    let err = cache
        .get_or_fetch(&fx.key(), || async {
            Err(Error::new(ErrorKind::Service, "down"))
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Service,
        "the expired token must not hide the failure"
    );
    // Even a token inserted already expired is not served.
    cache.insert(&fx.key(), &token("stale", T0, 10));
    assert!(cache.get(&fx.key()).is_none());
}

#[tokio::test]
async fn a_failed_refresh_that_outlasts_the_token_does_not_serve_it() {
    let clock = ManualClock::at(T0);
    let cache = TokenCache::with_clock(clock.clone());
    let fx = Fixture::new();
    cache
        .get_or_fetch(&fx.key(), || async { Ok(token("old", T0, 3600)) })
        .await
        .unwrap();
    clock.advance(3400); // due for refresh, still valid
    // The refresh retries for minutes and fails after the old token has expired.
    let err = cache
        .get_or_fetch(&fx.key(), || async {
            clock.advance(300);
            Err(Error::new(ErrorKind::Service, "identity service down"))
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service);
    assert!(cache.get(&fx.key()).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_failure_reaches_every_waiter_and_the_next_call_tries_again() {
    let cache = Arc::new(TokenCache::with_clock(ManualClock::at(T0)));
    let fx = Arc::new(Fixture::new());
    let fetches = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (cache, fx, fetches) = (cache.clone(), fx.clone(), fetches.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_fetch(&fx.key(), || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Err::<auth_core::AccessToken, _>(Error::new(
                        ErrorKind::Authentication,
                        "wrong secret",
                    ))
                })
                .await
        }));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap().unwrap_err().kind(),
            ErrorKind::Authentication
        );
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    let ok = cache
        .get_or_fetch(&fx.key(), || async { Ok(token("t", T0, 3600)) })
        .await
        .unwrap();
    assert_eq!(ok.token().expose_secret(), "t");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_hands_the_fetch_to_a_waiter() {
    let cache = Arc::new(TokenCache::with_clock(ManualClock::at(T0)));
    let fx = Arc::new(Fixture::new());
    let leader = {
        let (cache, fx) = (cache.clone(), fx.clone());
        tokio::spawn(async move {
            cache
                .get_or_fetch(&fx.key(), || async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(token("never", T0, 3600))
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let waiter = {
        let (cache, fx) = (cache.clone(), fx.clone());
        tokio::spawn(async move {
            cache
                .get_or_fetch(&fx.key(), || async { Ok(token("waiter", T0, 3600)) })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    leader.abort();
    let got = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter must not hang")
        .unwrap()
        .unwrap();
    assert_eq!(got.token().expose_secret(), "waiter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_keys_refresh_never_blocks_another_keys_hits() {
    let cache = Arc::new(TokenCache::with_clock(ManualClock::at(T0)));
    let fx = Arc::new(Fixture::new());
    let ml = Scopes::for_resource("https://ml.azure.com").unwrap();
    cache.insert(
        &CacheKey {
            scopes: &ml,
            ..fx.key()
        },
        &token("ml", T0, 3600),
    );
    let slow = {
        let (cache, fx) = (cache.clone(), fx.clone());
        tokio::spawn(async move {
            cache
                .get_or_fetch(&fx.key(), || async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(token("slow", T0, 3600))
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let hit = tokio::time::timeout(
        Duration::from_secs(1),
        cache.get_or_fetch(
            &CacheKey {
                scopes: &ml,
                ..fx.key()
            },
            || async { Err(Error::configuration("no fetch")) },
        ),
    )
    .await
    .expect("a hit on another key completes at once")
    .unwrap();
    assert_eq!(hit.token().expose_secret(), "ml");
    slow.abort();
}
