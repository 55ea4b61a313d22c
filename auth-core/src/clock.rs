//! Time, injected so that tests need no real clock.

use std::fmt::Debug;
use std::time::SystemTime;

/// A wall clock.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time in seconds since the Unix epoch, as cheaply as the platform allows (the
    /// cache reads it on every hit; second resolution is all it needs).
    fn now_unix_secs(&self) -> u64 {
        crate::token::unix_secs(self.now())
    }
}

/// The system clock. On Linux, whole-second reads use the coarse real-time clock (a couple of
/// nanoseconds instead of ~25), which is exact to a few milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods, reason = "the system clock adapter")]
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    #[cfg(target_os = "linux")]
    fn now_unix_secs(&self) -> u64 {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        u64::try_from(t.tv_sec).unwrap_or(0)
    }
}
