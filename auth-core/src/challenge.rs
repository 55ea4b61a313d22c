//! `WWW-Authenticate` challenges, and the claims of a Conditional Access / CAE challenge (§8.1).

use base64::Engine as _;

/// One challenge of a `WWW-Authenticate` header: a scheme and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme, such as `Bearer`.
    pub scheme: String,
    /// The `key="value"` parameters, keys lowercased, in order.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `key` (case-insensitive).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded claims request when this is a claims challenge (`error="insufficient_claims"`
    /// with base64 `claims`; padding optional, standard or URL-safe alphabet). `None` for any
    /// other challenge, or when `claims` does not decode to UTF-8 JSON text.
    pub fn claims(&self) -> Option<String> {
        if !self.scheme.eq_ignore_ascii_case("bearer")
            || self.param("error") != Some("insufficient_claims")
        {
            return None;
        }
        let raw = self.param("claims")?.trim().trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(raw)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        serde_json::from_str::<serde_json::Value>(&text)
            .ok()?
            .is_object()
            .then_some(text)
    }
}

/// Parses a `WWW-Authenticate` header value: a comma-separated list of challenges, each a scheme
/// followed by `key=value` or `key="quoted value"` parameters.
pub fn parse_www_authenticate(value: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let end = rest.find([' ', '\t', ',', '=']).unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        if token.is_empty() {
            break;
        }
        let after_ws = after.trim_start_matches([' ', '\t']);
        if let Some(v) = after_ws.strip_prefix('=').filter(|_| !out.is_empty()) {
            let v = v.trim_start_matches([' ', '\t']);
            let (value, remaining) = if let Some(q) = v.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = q.char_indices();
                let mut end = q.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, n)) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &q[end.min(q.len())..])
            } else {
                let e = v.find(',').unwrap_or(v.len());
                (v[..e].trim().to_owned(), &v[e..])
            };
            if let Some(last) = out.last_mut() {
                last.params.push((token.to_ascii_lowercase(), value));
            }
            rest = remaining;
        } else {
            out.push(Challenge {
                scheme: token.to_owned(),
                params: Vec::new(),
            });
            rest = after;
        }
    }
    out
}

/// The decoded claims of the first claims challenge among `headers`' `WWW-Authenticate` values.
pub fn claims_challenge(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_www_authenticate)
        .find_map(|c| c.claims())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARM: &str = r#"Bearer authorization_uri="https://login.microsoftonline.com/t/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzAwMDAwMDAwIn19fQ==""#;

    #[test]
    fn arm_claims_challenge() {
        let cs = parse_www_authenticate(ARM);
        assert_eq!(cs.len(), 1);
        assert_eq!(
            cs[0].param("authorization_uri"),
            Some("https://login.microsoftonline.com/t/oauth2/authorize")
        );
        assert_eq!(
            cs[0].claims().as_deref(),
            Some(r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#)
        );
    }

    fn check_claims(header: &str, expected: Option<&str>) {
        let mut h = http::HeaderMap::new();
        h.append(http::header::WWW_AUTHENTICATE, header.parse().unwrap());
        assert_eq!(claims_challenge(&h).as_deref(), expected, "{header}");
    }

    #[test]
    fn claims_variants() {
        let json = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        let std = base64::engine::general_purpose::STANDARD.encode(json);
        let nopad = std.trim_end_matches('=').to_owned();
        let urlsafe = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"access_token":{"acrs":{"essential":true,"value":"c1??>"}}}"#);
        check_claims(
            &format!(r#"Bearer realm="", error="insufficient_claims", claims="{std}""#),
            Some(json),
        );
        check_claims(
            &format!(r#"Bearer error="insufficient_claims", claims="{nopad}""#),
            Some(json),
        );
        check_claims(
            &format!(r#"Bearer error="insufficient_claims",claims="{urlsafe}""#),
            Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1??>"}}}"#),
        );
        check_claims(
            &format!(r#"Bearer error="invalid_token", claims="{std}""#),
            None,
        );
        check_claims(
            r#"Bearer error="insufficient_claims", claims="not base64!""#,
            None,
        );
        check_claims(r#"Basic realm="x""#, None);
        // Several challenges in one header: the Bearer one is found.
        check_claims(
            &format!(r#"Basic realm="x", Bearer error="insufficient_claims", claims="{std}""#),
            Some(json),
        );
    }

    #[test]
    fn quoted_values_with_commas_and_escapes() {
        let cs =
            parse_www_authenticate(r#"Bearer error_description="a, \"b\"", error=invalid_token"#);
        assert_eq!(cs[0].param("error_description"), Some(r#"a, "b""#));
        assert_eq!(cs[0].param("error"), Some("invalid_token"));
        assert!(parse_www_authenticate("").is_empty());
    }
}
