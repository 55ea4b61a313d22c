//! Time, injected so that tests need no real clock.

use std::fmt::Debug;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// The instant of a UTC civil date and time (proleptic Gregorian, years 1970 to 9999), or
/// `None` when a field is out of range (month 1–12, day 1–31, hour 0–23, minute 0–59, second
/// 0–60). For the dates services print: HTTP's `Retry-After`, managed identity's `expires_on`.
pub fn utc_time(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<SystemTime> {
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..=23).contains(&hour)
        || !(0..=59).contains(&minute)
        || !(0..=60).contains(&second)
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_exact_and_bounded() {
        let at = |secs| Some(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(utc_time(1970, 1, 1, 0, 0, 0), at(0));
        assert_eq!(utc_time(1994, 11, 6, 8, 49, 37), at(784_111_777));
        assert_eq!(utc_time(2019, 6, 20, 2, 57, 58), at(1_560_999_478));
        assert_eq!(utc_time(2024, 2, 29, 23, 59, 59), at(1_709_251_199));
        assert_eq!(utc_time(9999, 12, 31, 23, 59, 59), at(253_402_300_799));
        for bad in [
            (1969, 12, 31, 0, 0, 0),
            (2024, 0, 1, 0, 0, 0),
            (2024, 13, 1, 0, 0, 0),
            (2024, 1, 32, 0, 0, 0),
            (2024, 1, 1, 24, 0, 0),
            (2024, 1, 1, 0, 60, 0),
            (2024, 1, 1, 0, 0, 61),
        ] {
            let (y, mo, d, h, mi, s) = bad;
            assert_eq!(utc_time(y, mo, d, h, mi, s), None, "{bad:?}");
        }
    }
}
