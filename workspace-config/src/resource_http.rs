//! Generic plumbing for calling an Azure resource API (ARM here) with a bearer token.
//!
//! **Candidates for auth-core.** Nothing in this module is specific to workspaces: every crate
//! that calls ARM or another CAE-enabled resource (the `rbac` crate's role assignments, a
//! data-plane client) needs the same pieces, so they should move to `auth-core` (next to
//! `challenge` and `http`) and be shared:
//!
//! - [`send_authenticated`]: token, request, and the one-shot answer to a claims challenge
//!   (protocol-entra.md §8.2: one new token with the claims, bypassing the cache; one retry).
//! - [`same_origin`] / [`origin_of`]: the check that keeps a token on its host when a service
//!   hands back a `nextLink`.
//! - [`strip_query`]: what may be logged of a URL.
//! - [`parse_error_body`]: ARM's `{"error": {"code", "message"}}` envelope.

use auth_core::http::{HttpRequest, HttpResponse};
use auth_core::{Pipeline, TokenCredential, TokenRequest};

/// Gets a token for `request` from `credential`, sends the request `make` builds with that
/// `Authorization` value through `pipeline` (which retries as its policy says), and answers a
/// claims challenge once.
///
/// Returns the final response whatever its status, with the claims that were answered (when a
/// challenge came). A second challenge is not answered: the caller reports it.
pub(crate) async fn send_authenticated<F>(
    pipeline: &Pipeline,
    credential: &dyn TokenCredential,
    request: &TokenRequest,
    make: F,
) -> Result<(HttpResponse, Option<String>), auth_core::Error>
where
    F: Fn(&http::HeaderValue) -> Result<HttpRequest, auth_core::Error>,
{
    let resp = send_once(pipeline, credential, request, &make).await?;
    if resp.status() != http::StatusCode::UNAUTHORIZED {
        return Ok((resp, None));
    }
    let Some(claims) = auth_core::challenge::claims_challenge(resp.headers()) else {
        return Ok((resp, None));
    };
    tracing::debug!(
        credential = credential.name(),
        "answering a claims challenge with a new token"
    );
    let with_claims = request.clone().with_claims(claims.clone());
    let retried = send_once(pipeline, credential, &with_claims, &make).await?;
    Ok((retried, Some(claims)))
}

async fn send_once<F>(
    pipeline: &Pipeline,
    credential: &dyn TokenCredential,
    request: &TokenRequest,
    make: &F,
) -> Result<HttpResponse, auth_core::Error>
where
    F: Fn(&http::HeaderValue) -> Result<HttpRequest, auth_core::Error>,
{
    let (_, auth) = auth_core::authorization_header(credential, request).await?;
    pipeline.send(|| make(&auth)).await
}

/// Percent-encoding of one URL path segment.
pub(crate) use auth_core::http::encode_path_segment as encode_segment;

/// `scheme://authority` of a URL, lowercased (empty when it has neither).
pub(crate) fn origin_of(url: &str) -> String {
    url.parse::<http::Uri>()
        .ok()
        .and_then(|u| {
            Some(format!("{}://{}", u.scheme_str()?, u.authority()?.as_str()).to_ascii_lowercase())
        })
        .unwrap_or_default()
}

/// Whether two absolute URLs have the same scheme, host and port.
pub(crate) fn same_origin(a: &str, b: &str) -> bool {
    let a = origin_of(a);
    !a.is_empty() && a == origin_of(b)
}

/// The URL without its query (queries may carry skip tokens; never log them).
pub(crate) fn strip_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(p, _)| p)
}

/// `error.code` and `error.message` of an ARM error body (or the top-level `code`/`message`
/// some gateways send); empty strings when the body is not one.
pub(crate) fn parse_error_body(body: &[u8]) -> (String, String) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (String::new(), String::new());
    };
    let e = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
    let s = |k: &str| {
        e.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (s("code"), s("message"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let arm = "https://management.azure.com";
        for (url, same) in [
            (
                "https://management.azure.com/subscriptions/s?api-version=1&$skiptoken=abc",
                true,
            ),
            ("https://MANAGEMENT.azure.com/x", true),
            ("https://evil.example/a", false),
            ("http://management.azure.com/a", false),
            ("https://management.azure.com:8443/a", false),
            ("/relative/next", false),
            ("", false),
        ] {
            assert_eq!(same_origin(url, arm), same, "{url}");
        }
        assert!(same_origin(
            "http://127.0.0.1:8080/a",
            "http://127.0.0.1:8080"
        ));
        assert!(!same_origin(
            "http://127.0.0.1:8081/a",
            "http://127.0.0.1:8080"
        ));
        assert!(!same_origin("/a", "/b"));
    }

    #[test]
    fn segments() {
        for (raw, encoded) in [
            ("ws-1_a.b~c", "ws-1_a.b~c"),
            ("my rg", "my%20rg"),
            ("rg(1)", "rg%281%29"),
            ("wś", "w%C5%9B"),
            ("a/b?c#d%", "a%2Fb%3Fc%23d%25"),
        ] {
            assert_eq!(encode_segment(raw), encoded, "{raw}");
        }
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            parse_error_body(br#"{"error":{"code":"C","message":"M","details":[]}}"#),
            ("C".into(), "M".into())
        );
        assert_eq!(
            parse_error_body(br#"{"code":"C","message":"M"}"#),
            ("C".into(), "M".into())
        );
        assert_eq!(parse_error_body(b"<html>"), (String::new(), String::new()));
        assert_eq!(
            parse_error_body(br#"{"error":"text"}"#),
            (String::new(), String::new())
        );
        assert_eq!(strip_query("https://h/p?q=1"), "https://h/p");
    }
}
