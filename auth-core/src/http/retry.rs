//! The retry policy shared by every flow (protocol reference §10.2).

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whether a response status is worth retrying: 408, 429, 500, 502, 503, 504.
///
/// 400 and 401 never are: `invalid_grant`, `invalid_client` and the like need a person, and
/// authorization codes are single-use.
pub fn should_retry_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// How long the server asked to wait: `retry-after-ms`, `x-ms-retry-after-ms`, then
/// `Retry-After` in integer seconds or as an HTTP-date.
pub fn retry_after(headers: &http::HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = text(name).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP servers send.
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    crate::clock::utc_time(year, month, day, h, m, sec)
}

/// Exponential backoff with jitter, bounded in attempts and in total time.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff delay.
    pub initial_delay: Duration,
    /// The longest single wait, `Retry-After` included: a longer one is not waited for.
    pub max_delay: Duration,
    /// The longest time from the first attempt to the start of the last.
    pub max_total: Duration,
    /// Spread of the random jitter, as a fraction of the delay (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 3 retries; 0.8 s, 1.6 s, 3.2 s (±20 %); waits capped at 60 s; 120 s in all.
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
            max_total: Duration::from_secs(120),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The backoff before retry number `attempt + 1`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .initial_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let spread = (next_random() * 2.0 - 1.0) * self.jitter.clamp(0.0, 1.0);
        Duration::try_from_secs_f64(base.as_secs_f64() * (1.0 + spread).max(0.0))
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// Whether retry number `retry` may start after `wait`, `elapsed` into the operation.
    pub fn allows(&self, retry: u32, elapsed: Duration, wait: Duration) -> bool {
        retry <= self.max_retries
            && wait <= self.max_delay
            && elapsed.saturating_add(wait) <= self.max_total
    }
}

/// A uniform number in [0, 1) from a per-thread xorshift generator (jitter needs no quality).
#[allow(clippy::disallowed_methods, reason = "the time only seeds randomness")]
fn next_random() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
            let local = 0u8;
            (t ^ (&local as *const u8 as u64).rotate_left(32)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        let table = [
            (200, false),
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (408, true),
            (429, true),
            (500, true),
            (501, false),
            (502, true),
            (503, true),
            (504, true),
        ];
        for (status, retry) in table {
            assert_eq!(should_retry_status(status), retry, "{status}");
        }
    }

    fn check_retry_after(name: &str, value: &str, expected: Option<u64>) {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let mut h = http::HeaderMap::new();
        h.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
        assert_eq!(
            retry_after(&h, now).map(|d| d.as_millis() as u64),
            expected,
            "{name}: {value}"
        );
    }

    #[test]
    fn retry_after_forms() {
        check_retry_after("retry-after", "7", Some(7000));
        check_retry_after("Retry-After", " 0 ", Some(0));
        check_retry_after("retry-after-ms", "250", Some(250));
        check_retry_after("x-ms-retry-after-ms", "1500", Some(1500));
        check_retry_after("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT", Some(10_000));
        check_retry_after("retry-after", "Sun, 06 Nov 1994 08:49:27 GMT", Some(0));
        check_retry_after("retry-after", "soon", None);
        check_retry_after("retry-after", "Sun, 06 Nov 1994 25:49:27 GMT", None);
        // Years no HTTP-date has (the arithmetic would overflow): ignored, not a panic.
        check_retry_after(
            "retry-after",
            "Sun, 06 Nov 99999999999999999 08:49:27 GMT",
            None,
        );
        check_retry_after(
            "retry-after",
            "Sun, 06 Nov -9223372036854775808 08:49:27 GMT",
            None,
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy::default();
        for _ in 0..100 {
            let d0 = p.backoff(0).as_secs_f64();
            assert!((0.64..=0.96).contains(&d0), "{d0}");
            let d2 = p.backoff(2).as_secs_f64();
            assert!((2.56..=3.84).contains(&d2), "{d2}");
            assert!(p.backoff(20) <= p.max_delay);
        }
    }

    #[test]
    fn bounds() {
        let p = RetryPolicy::default();
        assert!(p.allows(3, Duration::ZERO, Duration::from_secs(1)));
        assert!(!p.allows(4, Duration::ZERO, Duration::from_secs(1)));
        assert!(
            !p.allows(1, Duration::ZERO, Duration::from_secs(61)),
            "Retry-After beyond the cap is not waited for"
        );
        assert!(!p.allows(1, Duration::from_secs(119), Duration::from_secs(2)));
        assert!(!RetryPolicy::none().allows(1, Duration::ZERO, Duration::ZERO));
        // Extreme public settings bound the wait instead of panicking.
        let wild = RetryPolicy {
            max_delay: Duration::MAX,
            max_total: Duration::MAX,
            jitter: 1e300,
            ..RetryPolicy::default()
        };
        assert!(wild.backoff(16) <= Duration::MAX);
        assert!(wild.allows(1, Duration::MAX, Duration::MAX));
    }
}
