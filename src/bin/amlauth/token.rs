//! `amlauth token`: the JSON of `az account get-access-token`, field for field.

use auth_core::AccessToken;
use base64::Engine as _;
use serde::Serialize;

/// `az account get-access-token`'s output (protocol reference §3.5), in az's field order.
///
/// `accessToken` is the token itself: printing it is this command's purpose.
#[derive(Serialize)]
pub(crate) struct AzToken<'a> {
    #[serde(rename = "accessToken")]
    access_token: &'a str,
    /// Local time, `YYYY-MM-DD HH:MM:SS.ffffff`, no zone (as az prints it).
    #[serde(rename = "expiresOn")]
    expires_on_local: String,
    /// POSIX seconds (az 2.54+); what programs should read.
    expires_on: u64,
    subscription: String,
    tenant: String,
    #[serde(rename = "tokenType")]
    token_type: &'a str,
}

impl<'a> AzToken<'a> {
    /// The output for `token`. `tenant` is the token's `tid` claim when the token is a JWT that
    /// has one, else `fallback_tenant`; `subscription` is the known subscription, else the
    /// tenant (what az prints for a tenant-level account, whose "subscription" id is the
    /// tenant id).
    pub(crate) fn new(
        token: &'a AccessToken,
        fallback_tenant: &str,
        subscription: Option<&str>,
    ) -> Result<Self, String> {
        let access_token = token.token().expose_secret();
        let tenant = jwt_tenant(access_token).unwrap_or_else(|| fallback_tenant.to_owned());
        let expires_on = token.expires_on_unix();
        Ok(Self {
            access_token,
            expires_on_local: local_time(expires_on)?,
            expires_on,
            subscription: subscription.map_or_else(|| tenant.clone(), str::to_owned),
            tenant,
            token_type: token.token_type().as_str(),
        })
    }

    /// Pretty JSON with two-space indents, as az prints it.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// az's `--output table`: a header line, a dashes line and one row.
    pub(crate) fn to_table(&self) -> String {
        let cols = [
            ("AccessToken", self.access_token.to_owned()),
            ("ExpiresOn", self.expires_on_local.clone()),
            ("Expires_on", self.expires_on.to_string()),
            ("Subscription", self.subscription.clone()),
            ("Tenant", self.tenant.clone()),
            ("TokenType", self.token_type.to_owned()),
        ];
        let widths: Vec<usize> = cols.iter().map(|(h, v)| h.len().max(v.len())).collect();
        let line = |cells: Vec<&str>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        let head = line(cols.iter().map(|(h, _)| *h).collect());
        let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let dash = line(dashes.iter().map(String::as_str).collect());
        let row = line(cols.iter().map(|(_, v)| v.as_str()).collect());
        format!("{head}\n{dash}\n{row}")
    }
}

/// `epoch` as az's `expiresOn`: the machine's local time (`TZ`, else the system zone),
/// `YYYY-MM-DD HH:MM:SS.ffffff`. az derives it from whole seconds, so the fraction is zeros.
pub(crate) fn local_time(epoch: u64) -> Result<String, String> {
    local_time_in(epoch, &jiff::tz::TimeZone::system())
}

fn local_time_in(epoch: u64, tz: &jiff::tz::TimeZone) -> Result<String, String> {
    let secs = i64::try_from(epoch).map_err(|_| format!("expiry {epoch} is out of range"))?;
    let ts = jiff::Timestamp::from_second(secs).map_err(|e| format!("expiry {epoch}: {e}"))?;
    Ok(ts
        .to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S.000000")
        .to_string())
}

/// The `tid` claim of a JWT, read without verifying the signature (only to label the output;
/// the token is not trusted for anything).
fn jwt_tenant(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("tid")?
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::{Secret, TokenType};
    use std::time::{Duration, SystemTime};

    fn tz(posix: &str) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::posix(posix).unwrap()
    }

    #[test]
    fn local_time_is_az_format() {
        // 2025-07-15 08:45:37 UTC
        let t = 1_752_569_137;
        assert_eq!(
            local_time_in(t, &tz("UTC0")).unwrap(),
            "2025-07-15 08:45:37.000000"
        );
        assert_eq!(
            local_time_in(t, &tz("IST-5:30")).unwrap(),
            "2025-07-15 14:15:37.000000"
        );
        assert_eq!(
            local_time_in(t, &tz("EST5EDT,M3.2.0,M11.1.0")).unwrap(),
            "2025-07-15 04:45:37.000000"
        );
    }

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"HS256"}"#),
            e.encode(claims)
        )
    }

    #[test]
    fn fields_and_order_are_az_s() {
        let token = AccessToken::from_lifetime(
            Secret::new(jwt(r#"{"tid":"tid-from-token"}"#)),
            TokenType::Bearer,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_752_569_137),
            Duration::from_secs(3600),
            None,
        );
        let out = AzToken::new(&token, "fallback", Some("sub"))
            .unwrap()
            .to_json();
        let keys: Vec<&str> = out
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
            .collect();
        assert_eq!(
            keys,
            [
                "accessToken",
                "expiresOn",
                "expires_on",
                "subscription",
                "tenant",
                "tokenType"
            ]
        );
        assert!(out.contains("\n  \"expires_on\": 1752572737,\n"), "{out}");
        assert!(out.contains("\"tenant\": \"tid-from-token\""), "{out}");
        assert!(out.contains("\"tokenType\": \"Bearer\""), "{out}");
    }

    #[test]
    fn unknown_subscription_is_the_tenant_as_for_a_tenant_level_az_account() {
        let token = AccessToken::from_lifetime(
            Secret::new("opaque"),
            TokenType::Bearer,
            SystemTime::UNIX_EPOCH,
            Duration::from_secs(60),
            None,
        );
        let out = AzToken::new(&token, "t-1", None).unwrap();
        assert_eq!(
            (out.tenant.as_str(), out.subscription.as_str()),
            ("t-1", "t-1")
        );
        assert_eq!(out.to_table().lines().count(), 3);
    }
}
