//! Recorded requests, with secrets redacted when printed.

use std::fmt;

use crate::fault::Endpoint;

/// Form fields and query parameters whose values are secrets.
const SECRET_FIELDS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "assertion",
    "code",
    "code_verifier",
    "refresh_token",
    "device_code",
    "password",
    "access_token",
    "id_token",
];

/// Headers whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "secret",
    "x-identity-header",
    "cookie",
    "proxy-authorization",
    "x-ms-authorization-auxiliary",
];

/// Which emulated service received a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// Microsoft Entra ID (the authority host).
    Entra,
    /// Azure Resource Manager.
    Arm,
    /// The managed-identity endpoints (IMDS, App Service, Arc, Azure ML, Cloud Shell, Service
    /// Fabric).
    ManagedIdentity,
}

/// One request the emulator received, as it arrived.
///
/// `Debug` and `Display` redact secret values (client secrets, assertions, codes, PKCE
/// verifiers, refresh tokens, device codes, passwords, and the `Authorization`, cookie and other credential headers); the
/// fields themselves hold the real values so that tests can assert on them.
#[derive(Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// Which service received it.
    pub service: Service,
    /// The endpoint it was classified as, if any.
    pub endpoint: Option<Endpoint>,
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path, percent-encoded as sent, without the query.
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-case, in order.
    pub headers: Vec<(String, String)>,
    /// Decoded `application/x-www-form-urlencoded` body fields, in order (empty otherwise).
    pub form: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a form field.
    pub fn form_field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The names of the form fields, in order.
    pub fn form_names(&self) -> Vec<&str> {
        self.form.iter().map(|(k, _)| k.as_str()).collect()
    }
}

fn redact_pairs<'a>(pairs: &'a [(String, String)], secret: &'a [&str]) -> Vec<(&'a str, &'a str)> {
    pairs
        .iter()
        .map(|(k, v)| {
            let hidden = secret.iter().any(|s| k.eq_ignore_ascii_case(s));
            (k.as_str(), if hidden { "[redacted]" } else { v.as_str() })
        })
        .collect()
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("service", &self.service)
            .field("endpoint", &self.endpoint)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &redact_pairs(&self.query, SECRET_FIELDS))
            .field("headers", &redact_pairs(&self.headers, SECRET_HEADERS))
            .field("form", &redact_pairs(&self.form, SECRET_FIELDS))
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl fmt::Display for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        let q = redact_pairs(&self.query, SECRET_FIELDS);
        if !q.is_empty() {
            let parts: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "?{}", parts.join("&"))?;
        }
        for (k, v) in redact_pairs(&self.headers, SECRET_HEADERS) {
            write!(f, "\n{k}: {v}")?;
        }
        let form = redact_pairs(&self.form, SECRET_FIELDS);
        if !form.is_empty() {
            let parts: Vec<String> = form.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "\n\n{}", parts.join("&"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_redacts_secrets() {
        let r = RecordedRequest {
            service: Service::Entra,
            endpoint: Some(Endpoint::Token),
            method: "POST".into(),
            path: "/t/oauth2/v2.0/token".into(),
            query: vec![],
            headers: vec![
                ("authorization".into(), "Bearer tok-SECRET".into()),
                ("client-request-id".into(), "abc".into()),
            ],
            form: vec![
                ("grant_type".into(), "client_credentials".into()),
                ("client_secret".into(), "pw-SECRET".into()),
                ("refresh_token".into(), "rt-SECRET".into()),
                ("code_verifier".into(), "v-SECRET".into()),
            ],
            body: b"client_secret=pw-SECRET".to_vec(),
        };
        let shown = format!("{r:?}\n{r}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("client_credentials"));
        assert!(shown.contains("client-request-id: abc"));
        assert_eq!(r.form_field("client_secret"), Some("pw-SECRET"));
        assert_eq!(
            r.to_string(),
            "POST /t/oauth2/v2.0/token\nauthorization: [redacted]\nclient-request-id: abc\n\n\
             grant_type=client_credentials&client_secret=[redacted]&refresh_token=[redacted]&code_verifier=[redacted]"
        );
    }
}
