//! Entra token-endpoint plumbing shared by the service principal and interactive flows: the
//! form POST, success body → token, error body → error, client capabilities.

use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

use crate::http::{HttpRequest, Pipeline, retry_after};
use crate::{AccessToken, EntraError, Error, ErrorKind, Secret, TokenType};

/// The `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

enum Value {
    Plain(String),
    Secret(Secret),
}

/// An `application/x-www-form-urlencoded` body whose secret fields stay in [`Secret`]s until the
/// body is encoded for the wire. The encoded buffer is sized once (no reallocation leaves a copy
/// behind) and handed to the transport without another copy; what the transport does with it
/// afterwards is outside this crate.
#[derive(Default)]
pub struct Form {
    fields: Vec<(&'static str, Value)>,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_map();
        for (k, v) in &self.fields {
            match v {
                Value::Plain(p) => l.entry(k, p),
                Value::Secret(s) => l.entry(k, s),
            };
        }
        l.finish()
    }
}

impl Form {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plain field.
    pub fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, Value::Plain(value.into())));
        self
    }

    /// Adds a secret field (client secret, assertion, code, refresh token, verifier).
    pub fn secret(mut self, name: &'static str, value: &Secret) -> Self {
        self.fields.push((name, Value::Secret(value.clone())));
        self
    }

    /// Adds the field when `value` is `Some`.
    pub fn optional(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.field(name, v),
            None => self,
        }
    }

    /// The encoded body.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let value = |v: &'_ Value| -> usize {
            match v {
                Value::Plain(p) => p.len(),
                Value::Secret(s) => s.expose_secret().len(),
            }
        };
        // Every byte encodes to at most three.
        let worst: usize = self
            .fields
            .iter()
            .map(|(k, v)| 3 * (k.len() + value(v)) + 2)
            .sum();
        let mut out = Zeroizing::new(Vec::with_capacity(worst));
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b'&');
            }
            encode_component(k, &mut out);
            out.push(b'=');
            match v {
                Value::Plain(p) => encode_component(p, &mut out),
                Value::Secret(s) => encode_component(s.expose_secret(), &mut out),
            }
        }
        out
    }
}

fn encode_component(s: &str, out: &mut Vec<u8>) {
    crate::http::percent_encode(s, crate::http::Encoding::Form, out);
}

/// A successful token-endpoint response (§6.2).
#[derive(Debug)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token with its expiry and refresh times.
    pub access_token: AccessToken,
    /// The refresh token of user flows.
    pub refresh_token: Option<Secret>,
    /// The ID token of user flows (kept secret: it identifies the user).
    pub id_token: Option<Secret>,
    /// The granted scopes.
    pub scope: Option<String>,
    /// The base64url `client_info` (`uid`, `utid`).
    pub client_info: Option<String>,
    /// `ext_expires_in`, when sent.
    pub ext_expires_in: Option<Duration>,
}

#[derive(serde::Deserialize)]
struct RawResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    ext_expires_in: Option<serde_json::Value>,
    refresh_in: Option<serde_json::Value>,
    expires_on: Option<serde_json::Value>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    scope: Option<String>,
    client_info: Option<String>,
}

fn seconds(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses a 2xx token response received for a request sent at `sent_at`. The error never
/// contains any of the body.
pub fn parse_token_response(
    body: &[u8],
    sent_at: SystemTime,
    host: &str,
) -> Result<TokenResponse, Error> {
    let raw: RawResponse = serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_eof() {
            "a truncated JSON body"
        } else {
            "a body that is not JSON"
        };
        Error::new(
            ErrorKind::Service,
            format!(
                "the token endpoint of {host} answered with {what} ({} bytes)",
                body.len()
            ),
        )
        .with_hint("check that the authority host points at Microsoft Entra ID, and retry later")
    })?;
    let missing = |field: &str| {
        Error::new(
            ErrorKind::Service,
            format!("the token response from {host} has no valid {field}"),
        )
        .with_hint("check that the authority host points at Microsoft Entra ID")
    };
    let token = raw
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| missing("access_token"))?;
    let token_type = TokenType::parse(raw.token_type.as_deref().unwrap_or("Bearer"));
    let refresh_in = raw
        .refresh_in
        .as_ref()
        .and_then(seconds)
        .map(Duration::from_secs);
    let expires_in = match raw.expires_in.as_ref().and_then(seconds) {
        Some(s) => Duration::from_secs(s),
        None => {
            let on = raw
                .expires_on
                .as_ref()
                .and_then(seconds)
                .ok_or_else(|| missing("expires_in"))?;
            Duration::from_secs(on).saturating_sub(
                sent_at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default(),
            )
        }
    };
    Ok(TokenResponse {
        access_token: AccessToken::from_lifetime(
            Secret::new(token),
            token_type,
            sent_at,
            expires_in,
            refresh_in,
        ),
        refresh_token: raw.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
        id_token: raw.id_token.map(Secret::new),
        scope: raw.scope,
        client_info: raw.client_info,
        ext_expires_in: raw
            .ext_expires_in
            .as_ref()
            .and_then(seconds)
            .map(Duration::from_secs),
    })
}

/// The error for a non-2xx token-endpoint response: the parsed Entra error with its kind and
/// hint, or a clear "not an Entra error" message that quotes none of the body.
pub fn error_from_response(
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
    now: SystemTime,
    host: &str,
) -> Error {
    let after = retry_after(headers, now);
    let transient = crate::error::is_throttling_or_server_error(status);
    let mut err = match EntraError::from_json(body) {
        Some(entra) => Error::from_entra(status, entra),
        None => {
            let ctype = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no content type");
            Error::new(
                ErrorKind::Service,
                format!("{host} answered HTTP {status} with a body that is not an Entra error ({ctype}, {} bytes)", body.len()),
            )
            .with_status(status)
            .with_hint(if transient { "the service is throttling or failing: retry later" } else { "check that the authority host points at Microsoft Entra ID" })
        }
    };
    if let Some(a) = after {
        err = err.with_retry_after(a);
    }
    err
}

/// Posts `form` to a token endpoint through `pipeline` (with its retries) and parses the
/// answer. `make_form` is called once per attempt (a certificate flow signs a fresh assertion).
pub async fn request_token<F>(
    pipeline: &Pipeline,
    url: &str,
    mut make_form: F,
) -> Result<TokenResponse, Error>
where
    F: FnMut() -> Result<Form, Error>,
{
    let uri: http::Uri = url
        .parse()
        .map_err(|_| Error::configuration(format!("invalid token endpoint URL {url:?}")))?;
    let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let request_id = new_request_id();
    let sent_at = pipeline.clock().now();
    let response = pipeline
        .send(|| {
            let mut body = make_form()?.encode();
            build_post(&uri, &request_id, std::mem::take(&mut *body))
        })
        .await?;
    let (parts, body) = response.into_parts();
    let body = Zeroizing::new(body);
    if parts.status.is_success() {
        parse_token_response(&body, sent_at, &host)
    } else {
        Err(error_from_response(
            parts.status.as_u16(),
            &parts.headers,
            &body,
            pipeline.clock().now(),
            &host,
        ))
    }
}

fn build_post(uri: &http::Uri, request_id: &str, body: Vec<u8>) -> Result<HttpRequest, Error> {
    http::Request::post(uri.clone())
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .header("client-request-id", request_id)
        .header("x-client-sku", "azureml-auth")
        .header("x-client-ver", env!("CARGO_PKG_VERSION"))
        .header("x-client-os", std::env::consts::OS)
        .header("x-ms-lib-capability", "retry-after, h429")
        .body(body)
        .map_err(|e| Error::configuration(format!("could not build the token request: {e}")))
}

/// A random UUID v4 for `client-request-id` (a correlation id, not a secret).
#[allow(clippy::disallowed_methods, reason = "the time only seeds randomness")]
pub fn new_request_id() -> String {
    let mut b = [0u8; 16];
    let seed = std::collections::hash_map::RandomState::new();
    for (i, chunk) in b.chunks_mut(8).enumerate() {
        use std::hash::{BuildHasher, Hasher};
        let mut h = seed.build_hasher();
        h.write_usize(i);
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    format_uuid_v4(b)
}

/// Formats 16 random bytes as a version 4 UUID (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`),
/// setting the version and variant bits.
pub fn format_uuid_v4(mut b: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(HEX[usize::from(x >> 4)]));
        s.push(char::from(HEX[usize::from(x & 15)]));
    }
    s
}

/// Merges client capabilities into a claims request as MSAL does (§8.3): the challenge's
/// `access_token` object (created if absent) gets `xms_cc: {"values": capabilities}`, every
/// other member kept. Without capabilities the challenge is returned unchanged.
pub fn merge_client_capabilities(
    claims: Option<&str>,
    capabilities: &[&str],
) -> Result<Option<String>, Error> {
    if capabilities.is_empty() {
        return Ok(claims.map(str::to_owned));
    }
    let mut root: serde_json::Value = match claims {
        Some(c) => serde_json::from_str(c)
            .map_err(|_| Error::configuration("the claims challenge is not JSON"))?,
        None => serde_json::json!({}),
    };
    let obj = root
        .as_object_mut()
        .ok_or_else(|| Error::configuration("the claims challenge is not a JSON object"))?;
    let at = obj
        .entry("access_token")
        .or_insert_with(|| serde_json::json!({}));
    let at = at.as_object_mut().ok_or_else(|| {
        Error::configuration("the claims challenge's access_token is not an object")
    })?;
    at.insert(
        "xms_cc".into(),
        serde_json::json!({ "values": capabilities }),
    );
    Ok(Some(root.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0)
    }

    #[test]
    fn form_encoding() {
        let f = Form::new()
            .field("grant_type", "client_credentials")
            .field(
                "scope",
                "https://management.core.windows.net//.default openid",
            )
            .secret("client_secret", &Secret::new("a+b/c=d&e f~"));
        assert_eq!(
            String::from_utf8(f.encode().to_vec()).unwrap(),
            "grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default+openid&client_secret=a%2Bb%2Fc%3Dd%26e+f%7E"
        );
        let d = format!("{f:?}");
        assert!(!d.contains("a+b"), "{d}");
        assert!(d.contains("Secret([redacted])"), "{d}");
    }

    #[test]
    fn success_body() {
        let body = br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ.abc.def"}"#;
        let r = parse_token_response(body, t0(), "login").unwrap();
        assert_eq!(r.access_token.expires_on_unix(), T0 + 3599);
        assert_eq!(r.access_token.refresh_on_unix(), T0 + 3299);
        assert_eq!(r.ext_expires_in, Some(Duration::from_secs(3599)));
        // expires_in as a string (v1 endpoints), refresh_in given, refresh token kept secret.
        let body = br#"{"token_type":"Bearer","expires_in":"86399","refresh_in":43199,"access_token":"x","refresh_token":"rt-secret"}"#;
        let r = parse_token_response(body, t0(), "login").unwrap();
        assert_eq!(r.access_token.refresh_on_unix(), T0 + 43199);
        assert_eq!(
            r.refresh_token.as_ref().unwrap().expose_secret(),
            "rt-secret"
        );
        assert!(!format!("{r:?}").contains("rt-secret"));
    }

    #[test]
    fn absurd_lifetimes_are_clamped_not_a_panic() {
        for body in [
            &br#"{"expires_in":18446744073709551615,"refresh_in":"18446744073709551615","access_token":"x"}"#[..],
            br#"{"expires_on":"18446744073709551615","access_token":"x"}"#,
        ] {
            let r = parse_token_response(body, t0(), "login").unwrap();
            assert!(r.access_token.expires_on_unix() > T0);
        }
        // An expires_on in the past is a token already expired.
        let r =
            parse_token_response(br#"{"expires_on":5,"access_token":"x"}"#, t0(), "login").unwrap();
        assert!(r.access_token.is_expired(t0()));
    }

    fn check_bad_body(body: &[u8], expected: &str) {
        let e = parse_token_response(body, t0(), "login.example").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Service);
        let shown = format!("{e} {e:?}");
        assert!(shown.contains(expected), "{shown}");
        assert!(
            !shown.contains("SECRET-TOKEN"),
            "no body in the error: {shown}"
        );
    }

    #[test]
    fn bad_success_bodies() {
        check_bad_body(b"<html><body>SECRET-TOKEN</body></html>", "not JSON");
        check_bad_body(
            br#"{"access_token":"SECRET-TOKEN","expires_in":35"#,
            "truncated",
        );
        check_bad_body(
            br#"{"token_type":"Bearer","expires_in":3599}"#,
            "no valid access_token",
        );
        check_bad_body(br#"{"access_token":"SECRET-TOKEN"}"#, "no valid expires_in");
    }

    #[test]
    fn error_bodies() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app 'x' are expired.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2024-01-01 00:00:00Z","error_codes":[7000222],"trace_id":"t","correlation_id":"c"}"#;
        let e = error_from_response(401, &http::HeaderMap::new(), body, t0(), "login");
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(e.hint().unwrap().contains("expired"));
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "5".parse().unwrap());
        h.insert("content-type", "text/html".parse().unwrap());
        let e = error_from_response(503, &h, b"<html>down</html>", t0(), "login");
        assert_eq!(e.kind(), ErrorKind::Service);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
        assert!(
            e.to_string()
                .contains("not an Entra error (text/html, 17 bytes)"),
            "{e}"
        );
        let e = error_from_response(
            429,
            &h,
            br#"{"error":"temporarily_unavailable","error_codes":[50196]}"#,
            t0(),
            "login",
        );
        assert_eq!(e.kind(), ErrorKind::Service);
        assert_eq!(e.status(), Some(429));
        assert!(
            e.entra().unwrap().has_code(50196),
            "the body's details are kept"
        );
        assert!(e.hint().unwrap().contains("retry later"));
    }

    #[test]
    fn client_capabilities_merge() {
        assert_eq!(merge_client_capabilities(None, &[]).unwrap(), None);
        assert_eq!(
            merge_client_capabilities(None, &["CP1"]).unwrap().unwrap(),
            r#"{"access_token":{"xms_cc":{"values":["CP1"]}}}"#
        );
        let merged = merge_client_capabilities(Some(r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"},"xms_cc":{"values":["old"]}},"id_token":{}}"#), &["CP1"]).unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(v["access_token"]["nbf"]["value"], "1700000000");
        assert_eq!(v["access_token"]["xms_cc"]["values"][0], "CP1");
        assert_eq!(v["id_token"], serde_json::json!({}));
        assert!(merge_client_capabilities(Some("nope"), &["CP1"]).is_err());
    }

    #[test]
    fn request_ids_are_uuid_v4() {
        let a = new_request_id();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_request_id());
        assert_eq!(
            format_uuid_v4([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(
            format_uuid_v4([0x01; 16]),
            "01010101-0101-4101-8101-010101010101"
        );
    }
}
