use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::{
    CacheKey, CacheOptions, CachePartition, Error, ErrorKind, Scopes, TenantId, TokenCache,
};

use crate::{ManualClock, TokioTimer, token};

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

fn options(clock: Arc<ManualClock>) -> CacheOptions {
    CacheOptions::default().with_clock(clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_fetch_times_out_for_its_leader_and_waiters_and_the_key_recovers() {
    let cache = Arc::new(TokenCache::with_options(
        options(ManualClock::at(T0))
            .with_timer(Arc::new(TokioTimer))
            .with_load_timeout(Duration::from_millis(200)),
    ));
    let fx = Arc::new(Fixture::new());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (cache, fx) = (cache.clone(), fx.clone());
        tasks.push(tokio::spawn(async move {
            cache.get_or_fetch(&fx.key(), std::future::pending).await
        }));
    }
    for t in tasks {
        let err = tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .expect("no caller may hang past the load timeout")
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(
            err.message()
                .contains("took longer than 0.2 s (the token cache's load timeout)"),
            "{err}"
        );
    }
    let ok = cache
        .get_or_fetch(&fx.key(), || async { Ok(token("after", T0, 3600)) })
        .await
        .unwrap();
    assert_eq!(ok.token().expose_secret(), "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claims_token_inserted_during_a_refresh_is_not_overwritten() {
    let cache = Arc::new(TokenCache::with_clock(ManualClock::at(T0)));
    let fx = Arc::new(Fixture::new());
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (started, has_started) = tokio::sync::oneshot::channel::<()>();
    let ordinary = {
        let (cache, fx) = (cache.clone(), fx.clone());
        tokio::spawn(async move {
            cache
                .get_or_fetch(&fx.key(), || async move {
                    started.send(()).unwrap();
                    released.await.unwrap();
                    Ok(token("ordinary", T0, 3600))
                })
                .await
        })
    };
    has_started.await.unwrap();
    // A claims challenge is answered while the ordinary fetch is in flight.
    cache.insert(&fx.key(), &token("claims", T0, 3600));
    release.send(()).unwrap();
    let got = ordinary.await.unwrap().unwrap();
    assert_eq!(got.token().expose_secret(), "claims");
    assert_eq!(
        cache.get(&fx.key()).unwrap().token().expose_secret(),
        "claims"
    );
    // A fetch that starts after the insert stores its token as usual.
    cache.clear();
    let later = cache
        .get_or_fetch(&fx.key(), || async { Ok(token("later", T0, 3600)) })
        .await
        .unwrap();
    assert_eq!(later.token().expose_secret(), "later");
}

#[test]
fn short_lived_tokens_are_served_until_shortly_before_expiry() {
    let clock = ManualClock::at(T0);
    let cache = TokenCache::with_clock(clock.clone());
    let fx = Fixture::new();
    cache.insert(&fx.key(), &token("short", T0, 300));
    clock.advance(269);
    assert!(
        cache.get(&fx.key()).is_some(),
        "a tenth of 300 s before expiry"
    );
    clock.advance(1);
    assert!(
        cache.get(&fx.key()).is_none(),
        "refresh due 30 s before expiry"
    );
    // An hour-long token refreshes five minutes before expiry.
    cache.insert(&fx.key(), &token("hour", T0 + 270, 3600));
    clock.advance(3600 - 301);
    assert!(cache.get(&fx.key()).is_some());
    clock.advance(1);
    assert!(cache.get(&fx.key()).is_none());
}

fn numbered(n: usize) -> Scopes {
    Scopes::new([format!("https://resource-{n}.example/.default")]).unwrap()
}

#[test]
fn over_capacity_expired_keys_go_first_then_the_least_recently_used() {
    let clock = ManualClock::at(T0);
    let cache = TokenCache::with_options(options(clock.clone()).with_capacity(8));
    let fx = Fixture::new();
    let scopes: Vec<Scopes> = (0..9).map(numbered).collect();
    let key = |i: usize| CacheKey {
        scopes: &scopes[i],
        ..fx.key()
    };
    for i in 0..8 {
        let lifetime = if i == 1 { 10 } else { 3600 };
        cache.insert(&key(i), &token(&format!("t{i}"), T0, lifetime));
    }
    assert_eq!(cache.len(), 8);
    clock.advance(100);
    assert!(
        cache.get(&key(0)).is_some(),
        "key 0 is the most recently used"
    );
    cache.insert(&key(8), &token("t8", T0 + 100, 3600));
    // Down to seven eighths: the expired key 1 and the least recently used live key.
    assert_eq!(cache.len(), 7);
    assert!(cache.get(&key(0)).is_some());
    assert!(cache.get(&key(8)).is_some());
    let kept = (2..8).filter(|&i| cache.get(&key(i)).is_some()).count();
    assert_eq!(kept, 5);
}

#[test]
fn twenty_thousand_keys_stay_bounded_or_all_kept_with_room() {
    let clock = ManualClock::at(T0);
    let fx = Fixture::new();
    let scopes: Vec<Scopes> = (0..20_000).map(numbered).collect();
    let bounded = TokenCache::with_clock(clock.clone());
    let roomy = TokenCache::with_options(options(clock.clone()).with_capacity(20_000));
    for s in &scopes {
        let key = CacheKey {
            scopes: s,
            ..fx.key()
        };
        bounded.insert(&key, &token("t", T0, 3600));
        roomy.insert(&key, &token("t", T0, 3600));
    }
    assert!(bounded.len() <= auth_core::DEFAULT_CACHE_CAPACITY);
    assert!(bounded.len() > auth_core::DEFAULT_CACHE_CAPACITY / 2);
    assert_eq!(roomy.len(), 20_000);
    for s in scopes.iter().step_by(997) {
        assert!(
            roomy
                .get(&CacheKey {
                    scopes: s,
                    ..fx.key()
                })
                .is_some()
        );
    }
    // The most recent keys survive in the bounded cache.
    let last = CacheKey {
        scopes: &scopes[19_999],
        ..fx.key()
    };
    assert!(bounded.get(&last).is_some());
    bounded.clear();
    assert!(bounded.is_empty());
    assert!(bounded.get(&last).is_none());
}
