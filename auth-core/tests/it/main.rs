//! Integration tests of auth-core: the cache under concurrency and the shared pipeline.

mod cache;
mod pipeline;
#[cfg(feature = "reqwest")]
mod proxy;
#[cfg(feature = "reqwest")]
mod transport;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::{AccessToken, Clock, Secret, TokenType};

/// A clock a test moves by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock at `secs` after the epoch.
    pub fn at(secs: u64) -> Arc<Self> {
        Arc::new(Self(AtomicU64::new(secs)))
    }
    /// Moves the clock forward.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    /// The time in seconds.
    pub fn secs(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.secs())
    }
}

/// A token issued at `now` for `lifetime` seconds.
pub fn token(text: &str, now: u64, lifetime: u64) -> AccessToken {
    AccessToken::from_lifetime(
        Secret::new(text),
        TokenType::Bearer,
        UNIX_EPOCH + Duration::from_secs(now),
        Duration::from_secs(lifetime),
        None,
    )
}

/// A timer on tokio's clock, for the cache's load timeout.
#[derive(Debug, Default)]
pub struct TokioTimer;

impl auth_core::http::Sleep for TokioTimer {
    fn sleep(
        &self,
        d: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(d))
    }
}
