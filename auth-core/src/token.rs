//! Access tokens and when to refresh them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Secret;

/// Tokens that live at least this long are refreshed at half-life (MSAL, azure-identity).
pub const HALF_LIFE_THRESHOLD: Duration = Duration::from_secs(2 * 3600);
/// Shorter-lived tokens are refreshed this long before they expire (MSAL, SDK v1's threshold).
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// The type of an access token, as the `token_type` member gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// `Bearer`: sent as `Authorization: Bearer <token>`.
    Bearer,
    /// Any other type, as the service wrote it.
    Other(Box<str>),
}

impl TokenType {
    /// Parses `token_type` (case-insensitive for `Bearer`).
    pub fn parse(value: &str) -> Self {
        if value.eq_ignore_ascii_case("bearer") {
            Self::Bearer
        } else {
            Self::Other(value.into())
        }
    }

    /// The type as it goes into an `Authorization` header.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Bearer => "Bearer",
            Self::Other(s) => s,
        }
    }
}

/// An access token: the secret token text, when it expires, and when to refresh it.
///
/// Cloning is cheap (the token text is shared and zeroed when the last clone drops). `Debug`
/// shows the times and the type, never the token.
#[derive(Clone)]
pub struct AccessToken(Arc<Inner>);

/// Everything a token is, behind one pointer: a clone is one reference count up, and a token
/// fits in a register.
///
/// Aligned so that each copy's reference count has a cache line of its own (the cache hands
/// each thread its own copy; adjacent counts would bounce between cores).
#[repr(align(128))]
#[derive(Clone)]
struct Inner {
    token: Secret,
    token_type: TokenType,
    expires_on: u64,
    refresh_on: u64,
}

impl AccessToken {
    /// A token that expires at `expires_on` and should be refreshed at `refresh_on` (clamped to
    /// `expires_on`).
    pub fn new(
        token: Secret,
        token_type: TokenType,
        expires_on: SystemTime,
        refresh_on: SystemTime,
    ) -> Self {
        let expires_on = unix_secs(expires_on);
        Self(Arc::new(Inner {
            token,
            token_type,
            expires_on,
            refresh_on: unix_secs(refresh_on).min(expires_on),
        }))
    }

    /// A token received at `received_at`, living `expires_in`, with the server's `refresh_in`
    /// when given; the refresh time follows [`refresh_on`].
    pub fn from_lifetime(
        token: Secret,
        token_type: TokenType,
        received_at: SystemTime,
        expires_in: Duration,
        refresh_in: Option<Duration>,
    ) -> Self {
        let expires_on = later(received_at, expires_in);
        Self::new(
            token,
            token_type,
            expires_on,
            refresh_on(received_at, expires_in, refresh_in),
        )
    }

    /// The secret token text.
    pub fn token(&self) -> &Secret {
        &self.0.token
    }

    /// The token type.
    pub fn token_type(&self) -> &TokenType {
        &self.0.token_type
    }

    /// When the token expires.
    pub fn expires_on(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.expires_on)
    }

    /// When a cache should fetch a new token, while this one is still served.
    pub fn refresh_on(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.refresh_on)
    }

    /// `expires_on` in seconds since the Unix epoch.
    pub fn expires_on_unix(&self) -> u64 {
        self.0.expires_on
    }

    pub(crate) fn refresh_on_unix(&self) -> u64 {
        self.0.refresh_on
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        unix_secs(now) >= self.0.expires_on
    }

    /// A reference that does not keep the token alive (the cache's per-thread views hold
    /// these, so that clearing the cache frees every copy of the token).
    pub(crate) fn downgrade(&self) -> WeakToken {
        WeakToken(Arc::downgrade(&self.0))
    }

    /// A copy whose token text lives in its own allocation (the cache spreads hits over such
    /// copies so that threads do not contend on one reference count).
    pub(crate) fn deep_copy(&self) -> Self {
        Self(Arc::new(Inner::clone(&self.0)))
    }
}

/// A token the cache may already have let go of.
pub(crate) struct WeakToken(std::sync::Weak<Inner>);

impl WeakToken {
    /// The token, if a strong reference still holds it.
    #[inline]
    pub(crate) fn upgrade(&self) -> Option<AccessToken> {
        self.0.upgrade().map(AccessToken)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &self.0.token)
            .field("token_type", &self.0.token_type)
            .field("expires_on", &self.0.expires_on)
            .field("refresh_on", &self.0.refresh_on)
            .finish()
    }
}

/// When to refresh a token received at `received_at` (protocol reference §6.3): the server's
/// `refresh_in` when given; otherwise half the lifetime for tokens living 2 h or more; otherwise
/// [`REFRESH_BEFORE_EXPIRY`] (5 minutes) before expiry.
///
/// A short-lived token (managed identity and federated tokens can live 5 minutes or less) would
/// be "due" for its whole life under the 5-minute rule and fetched again on every call; instead
/// its margin shrinks with its life: a tenth of it, at least 30 s, never more than half of it.
/// A token living 300 s is served for 270 s; the 5-minute margin applies from 50 minutes up.
pub fn refresh_on(
    received_at: SystemTime,
    expires_in: Duration,
    refresh_in: Option<Duration>,
) -> SystemTime {
    let after = match refresh_in {
        Some(r) => r.min(expires_in),
        None if expires_in >= HALF_LIFE_THRESHOLD => expires_in / 2,
        None => {
            let margin = (expires_in / 10)
                .max(SHORT_TOKEN_MIN_MARGIN)
                .min(REFRESH_BEFORE_EXPIRY)
                .min(expires_in / 2);
            expires_in - margin
        }
    };
    later(received_at, after)
}

/// The least margin before expiry at which a short-lived token is refreshed.
const SHORT_TOKEN_MIN_MARGIN: Duration = Duration::from_secs(30);

/// The latest time a token may carry, the end of year 9999 (every platform's `SystemTime`
/// holds it): a lifetime past it is clamped, never an overflow panic.
const LATEST_UNIX_SECS: u64 = 253_402_300_799;

/// `t + d`, clamped to [`LATEST_UNIX_SECS`].
fn later(t: SystemTime, d: Duration) -> SystemTime {
    let latest = UNIX_EPOCH + Duration::from_secs(LATEST_UNIX_SECS);
    t.checked_add(d).map_or(latest, |x| x.min(latest))
}

pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expires_in: u64, refresh_in: Option<u64>, expected_after: u64) {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let got = refresh_on(
            t0,
            Duration::from_secs(expires_in),
            refresh_in.map(Duration::from_secs),
        );
        assert_eq!(
            got.duration_since(t0).unwrap().as_secs(),
            expected_after,
            "expires_in {expires_in} refresh_in {refresh_in:?}"
        );
    }

    #[test]
    fn refresh_time_rules() {
        check(3599, None, 3299); // short-lived: 5 minutes before expiry
        check(7200, None, 3600); // 2 h or more: half-life
        check(86399, None, 43199);
        check(7199, None, 6899);
        check(3599, Some(1800), 1800); // the server's refresh_in wins
        check(86399, Some(43200), 43200);
        check(3000, None, 2700); // 5 minutes from 50 minutes up
        check(1200, None, 1080); // shorter: a tenth of the life
        check(300, None, 270); // served until 30 s before expiry, not refetched per call
        check(200, None, 170);
        check(40, None, 20); // never more than half the life
        check(0, None, 0);
        check(100, Some(500), 100); // refresh_in never past expiry
    }

    #[test]
    fn an_absurd_lifetime_is_clamped_not_a_panic() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let t = AccessToken::from_lifetime(
            Secret::new("t"),
            TokenType::Bearer,
            t0,
            Duration::from_secs(u64::MAX),
            Some(Duration::MAX),
        );
        assert_eq!(t.expires_on_unix(), LATEST_UNIX_SECS);
        assert_eq!(t.refresh_on_unix(), LATEST_UNIX_SECS);
        assert!(!t.is_expired(t0));
    }

    #[test]
    fn a_token_is_one_pointer() {
        // The cache's hit path returns `Option<AccessToken>` in a register.
        assert_eq!(size_of::<AccessToken>(), size_of::<usize>());
        assert_eq!(size_of::<Option<AccessToken>>(), size_of::<usize>());
    }

    #[test]
    fn debug_hides_the_token() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let t = AccessToken::from_lifetime(
            Secret::new("eyJ0eXAi.secret.part"),
            TokenType::Bearer,
            t0,
            Duration::from_secs(3600),
            None,
        );
        let d = format!("{t:?}");
        assert!(!d.contains("eyJ0eXAi"), "{d}");
        assert_eq!(
            d,
            "AccessToken { token: Secret([redacted]), token_type: Bearer, expires_on: 1700003600, refresh_on: 1700003300 }"
        );
        assert!(!t.is_expired(t0));
        assert!(t.is_expired(t0 + Duration::from_secs(3600)));
        assert_eq!(
            t.deep_copy().token().expose_secret(),
            "eyJ0eXAi.secret.part"
        );
    }
}
