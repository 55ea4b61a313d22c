//! Token responses of every source (§1.2, §2.2–§2.6): `expires_on` as a number or a string
//! (epoch seconds, or the legacy App Service date forms), `expires_in` as a number or a string.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::{AccessToken, Error, ErrorKind, Secret, TokenType};
use serde_json::Value;

use crate::ManagedIdentitySource;

/// A parsed token answer, with the echoed identity selectors (Arc checks them).
pub(crate) struct Parsed {
    pub(crate) token: AccessToken,
    pub(crate) body: Value,
}

/// Parses a 200 answer of `source` received at `now`.
pub(crate) fn parse_token(
    source: ManagedIdentitySource,
    body: &[u8],
    now: SystemTime,
) -> Result<Parsed, Error> {
    let bad = |what: &str| {
        Error::new(
            ErrorKind::Service,
            format!("the {source} endpoint answered 200 but {what}"),
        )
        .with_hint("the endpoint is not a managed identity endpoint, or answered a partial body; retry later or check the endpoint URL")
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| bad("the body is not valid JSON"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("the body is not a JSON object"))?;
    let token = obj
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("the body has no access_token"))?;
    let token_type = obj
        .get("token_type")
        .and_then(Value::as_str)
        .map_or(TokenType::Bearer, TokenType::parse);
    let expires_in = obj.get("expires_in").and_then(seconds);
    let expires_on = obj.get("expires_on").and_then(expiry_time);
    let token = match (expires_in, expires_on) {
        // The local clock plus the lifetime (as MSAL does): immune to clock skew.
        (Some(secs), _) => AccessToken::from_lifetime(
            Secret::new(token),
            token_type,
            now,
            Duration::from_secs(secs),
            None,
        ),
        (None, Some(at)) => {
            let life = at.duration_since(now).unwrap_or_default();
            AccessToken::new(
                Secret::new(token),
                token_type,
                at,
                auth_core::refresh_on(now, life, None),
            )
        }
        (None, None) => {
            return Err(bad(
                "the body has no usable expires_in or expires_on (a number, epoch seconds or a date)",
            ));
        }
    };
    Ok(Parsed { token, body: value })
}

/// A non-negative whole number, as a JSON number or a digit string.
fn seconds(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `expires_on`: epoch seconds (number or digit string), or a legacy App Service date in UTC:
/// `06/20/2019 02:57:58 +00:00` (Linux) or `1/16/2020 5:24:12 AM +00:00` (Windows).
pub(crate) fn expiry_time(v: &Value) -> Option<SystemTime> {
    if let Some(secs) = seconds(v) {
        return Some(UNIX_EPOCH + Duration::from_secs(secs.min(253_402_300_799)));
    }
    let s = v.as_str()?.trim().strip_suffix("+00:00")?.trim_end();
    let (date, time) = s.split_once(' ')?;
    let mut d = date.split('/');
    let (month, day, year): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if d.next().is_some() {
        return None;
    }
    let (clock, ampm) = match time.split_once(' ') {
        Some((c, p)) => (c, Some(p.trim())),
        None => (time, None),
    };
    let mut t = clock.split(':');
    let (mut h, m, sec): (i64, i64, i64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    match ampm {
        None if h <= 23 => {}
        Some(p) if (1..=12).contains(&h) && p.eq_ignore_ascii_case("AM") => h %= 12,
        Some(p) if (1..=12).contains(&h) && p.eq_ignore_ascii_case("PM") => h = h % 12 + 12,
        _ => return None,
    }
    auth_core::utc_time(year, month, day, h, m, sec)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn check(body: Value, expires_on: u64, refresh_on: u64) {
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        let p = parse_token(
            ManagedIdentitySource::Imds,
            body.to_string().as_bytes(),
            now,
        )
        .unwrap();
        assert_eq!(p.token.expires_on_unix(), expires_on, "{body}");
        assert_eq!(
            p.token
                .refresh_on()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            refresh_on,
            "{body}"
        );
        assert_eq!(p.token.token().expose_secret(), "at");
    }

    #[test]
    fn every_shape() {
        // IMDS: strings of digits; expires_in wins.
        check(
            json!({"access_token":"at","expires_in":"3599","expires_on":"1","token_type":"Bearer"}),
            NOW + 3599,
            NOW + 3299,
        );
        check(
            json!({"access_token":"at","expires_in":86399}),
            NOW + 86399,
            NOW + 43199,
        );
        // App Service: expires_on string epoch only.
        check(
            json!({"access_token":"at","expires_on":(NOW + 3600).to_string()}),
            NOW + 3600,
            NOW + 3300,
        );
        // Azure ML: an integer.
        check(
            json!({"access_token":"at","expires_on":NOW + 3600}),
            NOW + 3600,
            NOW + 3300,
        );
        // Legacy date strings (UTC): 2023-11-14 22:13:20 is NOW.
        check(
            json!({"access_token":"at","expires_on":"11/14/2023 23:13:20 +00:00"}),
            NOW + 3600,
            NOW + 3300,
        );
        check(
            json!({"access_token":"at","expires_on":"11/14/2023 11:13:20 PM +00:00"}),
            NOW + 3600,
            NOW + 3300,
        );
    }

    #[test]
    fn dates() {
        let t = |s: &str| {
            expiry_time(&json!(s)).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs())
        };
        assert_eq!(t("06/20/2019 02:57:58 +00:00"), Some(1_560_999_478));
        assert_eq!(t("1/16/2020 5:24:12 AM +00:00"), Some(1_579_152_252));
        assert_eq!(t("1/16/2020 12:24:12 AM +00:00"), Some(1_579_134_252));
        assert_eq!(t("1/16/2020 12:24:12 PM +00:00"), Some(1_579_177_452));
        assert_eq!(t("1/16/2020 13:24:12 PM +00:00"), None);
        assert_eq!(t("06/20/2019 02:57:58 +01:00"), None);
        assert_eq!(t("2019-06-20T02:57:58Z"), None);
        assert_eq!(t("soon"), None);
    }

    #[test]
    fn bad_bodies_are_clear_errors() {
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        for (body, what) in [
            (
                &br#"{"access_token":"at","expires_in":"3"#[..],
                "not valid JSON",
            ),
            (b"[]", "not a JSON object"),
            (br#"{"expires_in":3599}"#, "no access_token"),
            (
                br#"{"access_token":"at","expires_on":"tomorrow"}"#,
                "no usable expires_in",
            ),
        ] {
            let e = parse_token(ManagedIdentitySource::AzureMl, body, now)
                .err()
                .unwrap();
            assert_eq!(e.kind(), ErrorKind::Service);
            assert!(e.message().contains(what), "{e}");
            assert!(
                e.message()
                    .starts_with("the Azure ML compute endpoint answered 200"),
                "{e}"
            );
            assert!(!e.to_string().contains("\"at\""), "{e}");
        }
    }
}
