//! What az printed, read: the token JSON and its expiry (§3.5), `az account show` (§3.6), and
//! failures classified as az means them (§3.4), with tokens redacted from anything shown.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::{AccessToken, Error, ErrorKind, Secret, TokenType};
use serde::Deserialize;

/// The longest token lifetime believed (az's tokens last 5 minutes to about a day).
const MAX_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// `az account get-access-token --output json`.
#[derive(Deserialize)]
struct TokenJson {
    /// Moved straight into a [`Secret`] (zeroed on drop), never copied.
    #[serde(rename = "accessToken", default, deserialize_with = "secret")]
    access_token: Option<Secret>,
    /// POSIX seconds (az 2.54 and later): a number, or a digit string.
    expires_on: Option<serde_json::Value>,
    /// Local time without a zone (every version).
    #[serde(rename = "expiresOn")]
    expires_on_local: Option<String>,
    #[serde(rename = "tokenType")]
    token_type: Option<String>,
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

/// The token in az's output, expiring as `expires_on` (else `expiresOn` read in `zone`) says.
pub(crate) fn token(
    stdout: &[u8],
    now: SystemTime,
    zone: &jiff::tz::TimeZone,
) -> Result<AccessToken, Error> {
    let unexpected = |why: &str| {
        Error::new(
            ErrorKind::Service,
            format!("unexpected output from az ({why}): {}", redact(stdout)),
        )
        .with_hint("run `az account get-access-token --output json` to see what az prints; update az if it is older than 2.54")
    };
    let parsed: TokenJson = serde_json::from_slice(stdout)
        .map_err(|_| unexpected("not the JSON of get-access-token"))?;
    let Some(text) = parsed
        .access_token
        .filter(|t| !t.expose_secret().trim().is_empty())
    else {
        return Err(unexpected("no accessToken"));
    };
    // `expires_on` first; when it is absent or unusable, `expiresOn` (§3.5 fails only when
    // neither works).
    let expires = match parsed.expires_on.as_ref().and_then(epoch_secs) {
        Some(secs) => secs,
        None => match (
            &parsed.expires_on,
            parsed
                .expires_on_local
                .as_deref()
                .map(|l| local_secs(l, zone)),
        ) {
            (_, Some(Some(secs))) => secs,
            (Some(_), _) => return Err(unexpected("expires_on is not a number")),
            (None, Some(None)) => return Err(unexpected("expiresOn is not a local time")),
            (None, None) => return Err(unexpected("no expires_on or expiresOn")),
        },
    };
    // az's tokens live minutes to a day; an expiry further off would be cached as good.
    let expires_on = UNIX_EPOCH
        .checked_add(Duration::from_secs(expires))
        .filter(|e| e.duration_since(now).unwrap_or_default() <= MAX_LIFETIME)
        .ok_or_else(|| unexpected("the expiry is more than a week away"))?;
    let lifetime = expires_on.duration_since(now).unwrap_or_default();
    let token_type = TokenType::parse(parsed.token_type.as_deref().unwrap_or("Bearer"));
    Ok(AccessToken::new(
        text,
        token_type,
        expires_on,
        auth_core::refresh_on(now, lifetime, None),
    ))
}

fn epoch_secs(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` in `zone`, to POSIX seconds. Around a DST change an ambiguous
/// time takes the earlier instant, a skipped one the later (jiff's "compatible" rule).
fn local_secs(text: &str, zone: &jiff::tz::TimeZone) -> Option<u64> {
    let text = text.trim();
    let (whole, _fraction) = text.split_once('.').unwrap_or((text, ""));
    let civil = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", whole).ok()?;
    let zoned = civil.to_zoned_datetime(zone.clone()).ok()?;
    u64::try_from(zoned.timestamp().as_second()).ok()
}

/// The default account of `az account show`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AzAccount {
    /// The default subscription's id (`id`).
    pub subscription_id: String,
    /// Its display name (`name`).
    pub subscription_name: String,
    /// The tenant of the subscription and of the login (`tenantId`).
    pub tenant_id: String,
    /// Who is logged in (`user.name`): a UPN, an app id, or `systemAssignedIdentity`.
    pub user: Option<String>,
    /// `user` or `servicePrincipal` (`user.type`).
    pub user_type: Option<String>,
    /// `AzureCloud`, `AzureChinaCloud`, ... (`cloudName`, older `environmentName`).
    pub cloud: Option<String>,
}

pub(crate) fn account(stdout: &[u8]) -> Result<AzAccount, Error> {
    #[derive(Deserialize)]
    struct User {
        name: Option<String>,
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Json {
        id: Option<String>,
        name: Option<String>,
        tenant_id: Option<String>,
        user: Option<User>,
        cloud_name: Option<String>,
        environment_name: Option<String>,
    }
    let unexpected = || {
        Error::new(
            ErrorKind::Service,
            format!(
                "unexpected output from `az account show`: {}",
                redact(stdout)
            ),
        )
    };
    let j: Json = serde_json::from_slice(stdout).map_err(|_| unexpected())?;
    let (Some(subscription_id), Some(tenant_id)) = (j.id, j.tenant_id) else {
        return Err(unexpected());
    };
    Ok(AzAccount {
        subscription_id,
        subscription_name: j.name.unwrap_or_default(),
        tenant_id,
        user: j.user.as_ref().and_then(|u| u.name.clone()),
        user_type: j.user.and_then(|u| u.kind),
        cloud: j.cloud_name.or(j.environment_name),
    })
}

/// The error for an az that exited with `code` (None: killed by a signal) and printed `stderr`.
pub(crate) fn failure(code: Option<i32>, stderr: &[u8], tenant: Option<&str>) -> Error {
    let text = redact(stderr);
    let login = match tenant {
        Some(t) => format!("run `az login --tenant {t}`"),
        None => "run `az login`".to_owned(),
    };
    if code == Some(127) || text.starts_with("'az' is not recognized") {
        return not_found();
    }
    let has_aadsts = text.contains("AADSTS");
    if !has_aadsts && (text.contains("az login") || text.contains("az account set")) {
        return Error::unavailable(format!("az is not logged in: {text}")).with_hint(login);
    }
    let message = if text.is_empty() {
        format!(
            "az failed (exit code {})",
            code.map_or("none".to_owned(), |c| c.to_string())
        )
    } else {
        format!("az failed: {text}")
    };
    let kind = if has_aadsts {
        ErrorKind::Authentication
    } else {
        ErrorKind::Service
    };
    // az's own advice ("Please run:\naz login --tenant …") is the hint when it gives one.
    let hint = az_suggestion(&text).unwrap_or(login);
    Error::new(kind, message).with_hint(hint)
}

/// The command az suggests after "Please run:", such as `az login --tenant contoso`.
fn az_suggestion(text: &str) -> Option<String> {
    let after = text.split("Please run:").nth(1)?;
    let command = after.trim_start().lines().next()?.trim();
    command
        .starts_with("az ")
        .then(|| format!("run `{command}`"))
}

pub(crate) fn not_found() -> Error {
    Error::unavailable("the Azure CLI (az) was not found on PATH").with_hint(
        "install the Azure CLI (https://aka.ms/azure-cli) and run `az login`, or put az on PATH",
    )
}

/// `bytes` as text for an error: control characters dropped first (so an escape sequence
/// cannot hide a token), then every run of token characters shaped like a token and the value
/// of every `accessToken` key (quoted, escaped or not) replaced by `****`; at most 2,000
/// characters.
pub(crate) fn redact(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let text = redact_access_token_fields(&redact_token_runs(&text));
    text.trim().chars().take(2000).collect()
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '+' | '/' | '~')
}

/// Each maximal run of token characters that looks like a token, replaced.
fn redact_token_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(is_token_char).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c| !is_token_char(c)).unwrap_or(rest.len());
        let run = &rest[..end];
        out.push_str(if looks_like_token(run) { "****" } else { run });
        rest = &rest[end..];
    }
    out
}

/// A run holding a JWT (`eyJ…` with two dots after it) or a long run (200+ characters).
fn looks_like_token(run: &str) -> bool {
    run.find("eyJ")
        .is_some_and(|at| run[at..].matches('.').count() >= 2)
        || run.len() >= 200
}

/// The value after every `accessToken` key (`"accessToken": "…"`, `\"accessToken\": \"…\"`,
/// `'accessToken': '…'`, `accessToken=…`), replaced.
fn redact_access_token_fields(text: &str) -> String {
    const KEY: &str = "accessToken";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let value = tail.trim_start_matches(|c: char| {
            matches!(c, '"' | '\'' | '\\' | ':' | '=') || c.is_whitespace()
        });
        let separator = &tail[..tail.len() - value.len()];
        out.push_str(separator);
        rest = value;
        if separator.contains(':') || separator.contains('=') {
            let end = value
                .find(|c: char| matches!(c, '"' | '\'' | '\\' | ',' | '}') || c.is_whitespace())
                .unwrap_or(value.len());
            if end > 0 {
                out.push_str("****");
            }
            rest = &value[end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::UTC
    }

    const NOW: u64 = 1_752_569_137; // 2025-07-15 08:45:37 UTC

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn expires_on_wins_over_expires_on_local() {
        let out = br#"{"accessToken":"tok","expiresOn":"1999-01-01 00:00:00.000000","expires_on":1752572737,"subscription":"s","tenant":"t","tokenType":"Bearer"}"#;
        let t = token(out, at(NOW), &utc()).unwrap();
        assert_eq!(t.expires_on_unix(), NOW + 3600);
        assert_eq!(t.token().expose_secret(), "tok");
        let out = br#"{"accessToken":"tok","expires_on":"1752572737"}"#;
        assert_eq!(
            token(out, at(NOW), &utc()).unwrap().expires_on_unix(),
            NOW + 3600
        );
    }

    #[test]
    fn expires_on_local_is_read_in_the_local_zone() {
        let out = br#"{"accessToken":"tok","expiresOn":"2025-07-15 11:45:37.000000"}"#;
        // UTC+2 (POSIX spells it UTC-2): 11:45:37 local is 09:45:37 UTC.
        let zone = jiff::tz::TimeZone::posix("UTC-2").unwrap();
        assert_eq!(
            token(out, at(NOW), &zone).unwrap().expires_on_unix(),
            NOW + 3600
        );
        let out = br#"{"accessToken":"tok","expiresOn":"2025-07-15 09:45:37"}"#;
        assert_eq!(
            token(out, at(NOW), &utc()).unwrap().expires_on_unix(),
            NOW + 3600
        );
    }

    #[test]
    fn unusable_output_is_a_clear_error_that_shows_no_token() {
        for (out, why) in [
            (&b"not json"[..], "not the JSON"),
            (br#"{"expires_on":1}"#, "no accessToken"),
            (
                br#"{"accessToken":"eyJhbGciOi.eyJzdWIi.c2ln"}"#,
                "no expires_on or expiresOn",
            ),
            (
                br#"{"accessToken":"eyJhbGciOi.eyJzdWIi.c2ln","expiresOn":"N/A"}"#,
                "not a local time",
            ),
            (
                br#"{"accessToken":"eyJhbGciOi.eyJzdWIi.c2ln","expires_on":"soon"}"#,
                "not a number",
            ),
        ] {
            let e = token(out, at(NOW), &utc()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Service);
            assert!(e.message().contains(why), "{e}");
            assert!(!e.to_string().contains("eyJzdWIi"), "{e}");
        }
    }

    #[test]
    fn failures_are_classified_as_az_means_them() {
        let e = failure(
            Some(1),
            b"ERROR: Please run 'az login' to setup account.\n",
            None,
        );
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert_eq!(e.hint(), Some("run `az login`"));
        let e = failure(
            Some(1),
            b"ERROR: Please run 'az login' to setup account.",
            Some("contoso"),
        );
        assert_eq!(e.hint(), Some("run `az login --tenant contoso`"));
        let e = failure(
            Some(1),
            b"ERROR: AADSTS70043: The refresh token has expired. Trace ID: x\nInteractive authentication is needed. Please run:\naz login --scope https://management.core.windows.net//.default\n",
            None,
        );
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(e.message().contains("AADSTS70043"), "{e}");
        assert_eq!(
            e.hint(),
            Some("run `az login --scope https://management.core.windows.net//.default`")
        );
        assert_eq!(failure(Some(127), b"", None).kind(), ErrorKind::Unavailable);
        let e = failure(Some(2), b"", None);
        assert_eq!(e.message(), "az failed (exit code 2)");
    }

    #[test]
    fn tokens_are_redacted() {
        let jwt = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let shown = redact(
            format!("KeyError: {{\"accessToken\": \"{jwt}\", \"x\": 1}} then {jwt}.").as_bytes(),
        );
        assert!(!shown.contains("eyJzdWIi"), "{shown}");
        assert!(shown.contains("\"accessToken\": \"****\""), "{shown}");
        let shown = redact(br#"{"accessToken": "opaque-not-a-jwt"}"#);
        assert_eq!(shown, r#"{"accessToken": "****"}"#);
        assert_eq!(redact(b"plain \x1b[31mred\x1b[0m"), "plain [31mred[0m");
        // Next to punctuation, behind an escape sequence, in escaped or Python quoting.
        for text in [
            format!("Bearer {jwt}, then"),
            format!("({jwt})"),
            format!("\x1b[0m{jwt}\x1b[0m"),
            format!("token={jwt};"),
            format!("{{\\\"accessToken\\\": \\\"{jwt}\\\"}}"),
        ] {
            let shown = redact(text.as_bytes());
            assert!(!shown.contains("eyJzdWIi"), "{text:?} shown as {shown:?}");
        }
        for text in [
            r#"{\"accessToken\": \"opaque-secret\"}"#,
            "{'accessToken': 'opaque-secret'}",
            "accessToken=opaque-secret",
        ] {
            let shown = redact(text.as_bytes());
            assert!(
                !shown.contains("opaque-secret"),
                "{text:?} shown as {shown:?}"
            );
            assert!(shown.contains("****"), "{shown}");
        }
        // Ordinary words stay readable.
        assert_eq!(
            redact(b"ERROR: Please run 'az login' to setup account."),
            "ERROR: Please run 'az login' to setup account."
        );
    }

    #[test]
    fn an_unusable_expires_on_falls_back_to_expires_on_local() {
        let out = br#"{"accessToken":"tok","expires_on":"soon","expiresOn":"2025-07-15 09:45:37.000000"}"#;
        assert_eq!(
            token(out, at(NOW), &utc()).unwrap().expires_on_unix(),
            NOW + 3600
        );
    }

    #[test]
    fn an_absurd_expiry_is_refused_not_cached_forever() {
        for out in [
            &br#"{"accessToken":"tok","expires_on":18446744073709551615}"#[..],
            br#"{"accessToken":"tok","expires_on":"99999999999"}"#,
        ] {
            let e = token(out, at(NOW), &utc()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Service);
            assert!(e.message().contains("more than a week away"), "{e}");
        }
    }

    #[test]
    fn account_show_fields() {
        let a = account(br#"{"environmentName":"AzureCloud","homeTenantId":"t","id":"sub","isDefault":true,"managedByTenants":[],"name":"My sub","state":"Enabled","tenantId":"t","user":{"name":"alice@contoso.com","type":"user"}}"#).unwrap();
        assert_eq!(a.subscription_id, "sub");
        assert_eq!(a.tenant_id, "t");
        assert_eq!(a.user.as_deref(), Some("alice@contoso.com"));
        assert_eq!(a.cloud.as_deref(), Some("AzureCloud"));
        assert!(account(b"[]").is_err());
    }
}
