//! Small helpers: random ids, base64url, time formatting.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Fills a vector with `n` random bytes from the system CSPRNG.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut out = vec![0u8; n];
    // The system RNG only fails when the OS has no entropy source at all.
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut out)
        .expect("system random number generator");
    out
}

/// A random version-4 UUID in its usual lower-case text form.
pub(crate) fn uuid_v4() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A random opaque token of `n` random bytes, base64url without padding.
pub(crate) fn random_token(n: usize) -> String {
    b64url(&random_bytes(n))
}

/// base64url without padding.
pub(crate) fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Standard base64 with padding.
pub(crate) fn b64std(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decodes base64url or standard base64, with or without padding (as Entra tolerates).
pub(crate) fn b64_decode_lenient(s: &str) -> Option<Vec<u8>> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && *c != '=')
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(cleaned.as_bytes()).ok()
}

/// Whether a string looks like a GUID (8-4-4-4-12 hex digits).
pub(crate) fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Seconds since the epoch as UTC (year, month, day, hour, minute, second).
pub(crate) fn split(secs: i64) -> (i64, u32, u32, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Entra's error timestamp: `YYYY-MM-DD HH:MM:SSZ`.
pub(crate) fn entra_timestamp(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
}

/// ISO 8601 UTC with fractional seconds, as ARM writes `creationTime`.
pub(crate) fn iso8601(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.0000000Z")
}

/// ARM's US-style time in `ExpiredAuthenticationToken`: `8/17/2017 10:54:41 PM`.
pub(crate) fn arm_us_time(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!("{mo}/{d}/{y} {h12}:{mi:02}:{s:02} {ampm}")
}

/// Escapes text for HTML.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `application/x-www-form-urlencoded` serialisation of pairs.
pub(crate) fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(entra_timestamp(0), "1970-01-01 00:00:00Z");
        assert_eq!(entra_timestamp(1_704_067_200), "2024-01-01 00:00:00Z");
        // 2017-08-17 22:54:41 UTC
        assert_eq!(arm_us_time(1_503_010_481), "8/17/2017 10:54:41 PM");
        assert_eq!(
            arm_us_time(1_503_014_400 - 86_400 + 60),
            "8/17/2017 12:01:00 AM"
        );
        assert_eq!(iso8601(1_704_067_200), "2024-01-01T00:00:00.0000000Z");
    }

    #[test]
    fn guids_and_base64() {
        let u = uuid_v4();
        assert!(is_guid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert_eq!(b64_decode_lenient("aGk=").unwrap(), b"hi");
        assert_eq!(b64_decode_lenient("aGk").unwrap(), b"hi");
        assert_eq!(
            b64_decode_lenient("-_8").unwrap(),
            b64_decode_lenient("+/8=").unwrap()
        );
    }
}
