//! The one error type of every credential, with a kind that tells the caller what to do.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// What a caller (or a credential chain) should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// This credential does not apply here (not configured, endpoint absent, tool not
    /// installed). A chain tries the next credential; every other kind stops a chain.
    Unavailable,
    /// The identity service refused the request: wrong or expired secret, unknown app or tenant,
    /// rejected assertion or grant. Fix the credential or its configuration; retrying won't help.
    Authentication,
    /// The service wants more than a silent request can give: a claims challenge, MFA, consent
    /// or a Conditional Access step-up. Sign in interactively (with [`Error::claims`] if set).
    InteractionRequired,
    /// The caller is authenticated but not allowed to do this (HTTP 403). Grant a role.
    Forbidden,
    /// The resource does not exist, or is not visible to this identity (HTTP 404).
    NotFound,
    /// The service failed or answered something unusable: 5xx after retries, throttling beyond
    /// the retry budget, a body that is not the expected JSON. Retrying later may help.
    Service,
    /// The request did not complete: connection refused or reset, DNS, TLS. A TLS failure such as
    /// an untrusted certificate is never retried.
    Transport,
    /// A request or the whole retry budget ran out of time.
    Timeout,
    /// Invalid input or configuration, found before anything was sent: fix the value named.
    Configuration,
}

impl ErrorKind {
    /// A short lowercase name, stable for scripts and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Authentication => "authentication",
            Self::InteractionRequired => "interaction_required",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Service => "service",
            Self::Transport => "transport",
            Self::Timeout => "timeout",
            Self::Configuration => "configuration",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parsed error body of Microsoft Entra ID (`error`, `error_description`, `error_codes`, …).
///
/// None of these members carries a secret: Entra never echoes credentials in error bodies, and
/// this type keeps only the documented members.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct EntraError {
    /// The OAuth error class, e.g. `invalid_client`: branch on this.
    pub error: String,
    /// `AADSTSnnnnn: text\r\nTrace ID: …`; for people and logs.
    #[serde(default)]
    pub error_description: Option<String>,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u64>,
    /// Server timestamp.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Server trace id: quote it to support.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Echo of the request's `client-request-id`.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// A page that explains the code.
    #[serde(default)]
    pub error_uri: Option<String>,
    /// Refinement of `interaction_required` / `invalid_grant`.
    #[serde(default)]
    pub suberror: Option<String>,
    /// A claims request to replay in the next (interactive) request.
    #[serde(default)]
    pub claims: Option<String>,
}

impl EntraError {
    /// Parses an Entra error body; `None` when the body is not one.
    pub fn from_json(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(body)
            .ok()
            .filter(|e| !e.error.is_empty())
    }

    /// The first line of the description (without the trace/correlation lines).
    pub fn summary(&self) -> &str {
        self.error_description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.error)
    }

    /// Whether any of the AADSTS codes is `code`.
    pub fn has_code(&self, code: u64) -> bool {
        self.error_codes.contains(&code)
            || self
                .error_description
                .as_deref()
                .and_then(|d| d.strip_prefix("AADSTS")?.split_once(':'))
                .is_some_and(|(n, _)| n.parse() == Ok(code))
    }

    /// The kind of a token-endpoint refusal (section 7.2 of the protocol reference).
    pub fn kind(&self) -> ErrorKind {
        if self.has_code(53003)
            || self.has_code(53000)
            || self.has_code(53001)
            || self.has_code(530003)
        {
            // Blocked by Conditional Access: no interactive retry of this client fixes it.
            return ErrorKind::Authentication;
        }
        match self.error.as_str() {
            "interaction_required" | "consent_required" | "login_required" => {
                ErrorKind::InteractionRequired
            }
            "invalid_grant"
                if self.has_code(50076) || self.has_code(50079) || self.has_code(65001) =>
            {
                ErrorKind::InteractionRequired
            }
            "temporarily_unavailable" | "server_error" => ErrorKind::Service,
            "invalid_scope" | "unsupported_grant_type" => ErrorKind::Configuration,
            "invalid_request" if self.has_code(90002) || self.has_code(900023) => {
                ErrorKind::Configuration
            }
            _ => ErrorKind::Authentication,
        }
    }

    /// What to do about it, for the AADSTS codes worth recognising (section 7.3).
    pub fn hint(&self) -> Option<&'static str> {
        const HINTS: &[(u64, &str)] = &[
            (
                7000215,
                "the client secret is wrong: use the secret's value, not its id, and check for a stray space or newline",
            ),
            (
                7000222,
                "the client secret has expired: create a new secret for the app registration and update your configuration",
            ),
            (
                7000218,
                "the app is confidential but no secret or certificate was sent: give the credential one",
            ),
            (
                700025,
                "the app is a public client: do not send a secret or certificate",
            ),
            (
                700016,
                "the application was not found in this tenant: check the client id and the tenant id (and the cloud), or have an admin consent to a multi-tenant app",
            ),
            (
                700027,
                "the certificate is not registered on the app, or the assertion signature is invalid: upload the certificate's public part to the app registration",
            ),
            (
                700024,
                "the client assertion is outside its valid time range: check the machine clock",
            ),
            (
                700021,
                "the client assertion's issuer or subject is not the client id",
            ),
            (
                700023,
                "the client assertion's audience is not this token endpoint",
            ),
            (
                70021,
                "no federated credential on the app matches this token's issuer and subject: add one, or check the token file",
            ),
            (
                700211,
                "no federated identity credential on the app matches the token's issuer: add one, or check the token file",
            ),
            (
                700212,
                "no federated identity credential on the app matches the token's audience (api://AzureADTokenExchange by default)",
            ),
            (
                700213,
                "no federated identity credential on the app matches the token's subject: add one, or check the service account",
            ),
            (
                50027,
                "the client assertion is not a valid JWT: check the token file or the assertion callback",
            ),
            (
                50012,
                "the client assertion was refused (replayed jti or invalid assertion): sign a new one",
            ),
            (
                90002,
                "the tenant was not found: check the tenant id or domain, and that you use the right cloud",
            ),
            (900023, "the tenant id is not a valid GUID or domain"),
            (
                65001,
                "consent is missing: a user or an administrator must consent to the application for this resource",
            ),
            (
                50076,
                "multi-factor authentication is required: sign in interactively",
            ),
            (
                50079,
                "the user must register for multi-factor authentication: sign in interactively",
            ),
            (
                53003,
                "access is blocked by a Conditional Access policy: the client cannot fix this; ask the tenant's administrator which policy applies",
            ),
            (
                53000,
                "Conditional Access requires a compliant device: sign in from a managed device",
            ),
            (53001, "Conditional Access requires a domain-joined device"),
            (530003, "Conditional Access requires a managed device"),
            (
                50173,
                "the grant was revoked (password changed or reset): sign in again",
            ),
            (
                70008,
                "the authorization code or refresh token has expired or was revoked: sign in again",
            ),
            (
                700082,
                "the refresh token expired through inactivity: sign in again",
            ),
            (50126, "wrong username or password"),
            (
                50011,
                "the redirect URI does not match the app registration",
            ),
            (
                70011,
                "the scope is invalid: ask for one resource's /.default scope",
            ),
            (
                500011,
                "the resource principal was not found in the tenant: check the resource and the cloud",
            ),
        ];
        HINTS
            .iter()
            .find(|(code, _)| self.has_code(*code))
            .map(|(_, h)| *h)
            .or(match self.error.as_str() {
                "interaction_required" => Some("sign in interactively"),
                "invalid_client" => {
                    Some("the client credential was rejected: check the secret or certificate")
                }
                "unauthorized_client" => {
                    Some("the app is not allowed to use this grant in this tenant")
                }
                "invalid_grant" => Some("the grant was rejected: sign in again"),
                "temporarily_unavailable" | "server_error" => {
                    Some("the identity service is having trouble: retry later")
                }
                _ => None,
            })
    }
}

/// Whether an HTTP status says "throttled" (429) or "the service failed" (5xx): a
/// [`ErrorKind::Service`] error whatever the body says.
pub(crate) fn is_throttling_or_server_error(status: u16) -> bool {
    status == 429 || status >= 500
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    hint: Option<Cow<'static, str>>,
    credential: Option<&'static str>,
    status: Option<u16>,
    entra: Option<EntraError>,
    claims: Option<String>,
    retry_after: Option<std::time::Duration>,
    attempts: Vec<Error>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

/// An error from any credential or request of azureml-auth.
///
/// [`Error::kind`] tells what to do; `Display` says what went wrong and what to do next in one
/// line. An error never contains a secret: it is built from parsed, documented fields only, never
/// from raw request or response bodies.
#[derive(Clone)]
pub struct Error(Box<Inner>);

impl Error {
    /// A new error of `kind` with a message (lowercase, no trailing period).
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            hint: None,
            credential: None,
            status: None,
            entra: None,
            claims: None,
            retry_after: None,
            attempts: Vec::new(),
            source: None,
        }))
    }

    /// [`ErrorKind::Configuration`].
    pub fn configuration(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Configuration, message)
    }

    /// [`ErrorKind::Unavailable`].
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// An error from an Entra error body, with its kind and hint. Throttling (429) and server
    /// errors (5xx) are [`ErrorKind::Service`] whatever the body's code, with the body's details
    /// kept.
    pub fn from_entra(status: u16, entra: EntraError) -> Self {
        let transient = is_throttling_or_server_error(status);
        let mut e = Self::new(
            if transient {
                ErrorKind::Service
            } else {
                entra.kind()
            },
            format!(
                "the identity service refused the request (HTTP {status}): {}",
                entra.summary()
            ),
        );
        e.0.status = Some(status);
        e.0.hint = if transient {
            Some(Cow::Borrowed(
                "the identity service is throttling or failing: retry later",
            ))
        } else {
            entra.hint().map(Cow::Borrowed)
        };
        e.0.claims = entra.claims.clone().filter(|c| !c.is_empty());
        e.0.entra = Some(entra);
        e
    }

    /// Adds what to do next.
    pub fn with_hint(mut self, hint: impl Into<Cow<'static, str>>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// Names the credential that failed (a chain lists them).
    pub fn with_credential(mut self, name: &'static str) -> Self {
        self.0.credential = Some(name);
        self
    }

    /// Records the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    /// Records the claims of a challenge to answer.
    pub fn with_claims(mut self, claims: impl Into<String>) -> Self {
        self.0.claims = Some(claims.into());
        self
    }

    /// Records how long the service asked the caller to wait.
    pub fn with_retry_after(mut self, after: std::time::Duration) -> Self {
        self.0.retry_after = Some(after);
        self
    }

    /// Records the errors of earlier attempts (a chain's tried credentials).
    pub fn with_attempts(mut self, attempts: Vec<Error>) -> Self {
        self.0.attempts = attempts;
        self
    }

    /// Keeps the underlying error (it must not contain a secret).
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.0.source = Some(Arc::new(source));
        self
    }

    /// What to do about it.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message without the hint.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// What to do next, when known.
    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }

    /// The credential that failed, when known.
    pub fn credential(&self) -> Option<&'static str> {
        self.0.credential
    }

    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The parsed Entra error body, when the identity service refused.
    pub fn entra(&self) -> Option<&EntraError> {
        self.0.entra.as_ref()
    }

    /// A claims request to answer (from a `WWW-Authenticate` challenge or an Entra error).
    pub fn claims(&self) -> Option<&str> {
        self.0.claims.as_deref()
    }

    /// How long the service asked to wait before trying again.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.0.retry_after
    }

    /// Earlier attempts (a chain's tried credentials).
    pub fn attempts(&self) -> &[Error] {
        &self.0.attempts
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.0.credential {
            write!(f, "{c}: ")?;
        }
        f.write_str(&self.0.message)?;
        if let Some(h) = &self.0.hint {
            write!(f, "; {h}")?;
        }
        if let Some(t) = self.0.entra.as_ref().and_then(|e| e.trace_id.as_ref()) {
            write!(f, " (trace id {t}")?;
            if let Some(c) = self
                .0
                .entra
                .as_ref()
                .and_then(|e| e.correlation_id.as_ref())
            {
                write!(f, ", correlation id {c}")?;
            }
            f.write_str(")")?;
        }
        for a in &self.0.attempts {
            write!(f, "\n  - {a}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind)
            .field("message", &self.0.message);
        if let Some(h) = &self.0.hint {
            d.field("hint", h);
        }
        if let Some(c) = self.0.credential {
            d.field("credential", &c);
        }
        if let Some(s) = self.0.status {
            d.field("status", &s);
        }
        if let Some(e) = &self.0.entra {
            d.field("entra", e);
        }
        if let Some(c) = &self.0.claims {
            d.field("claims", c);
        }
        if !self.0.attempts.is_empty() {
            d.field("attempts", &self.0.attempts);
        }
        if let Some(s) = &self.0.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entra(body: &str) -> EntraError {
        EntraError::from_json(body.as_bytes()).expect("an entra error body")
    }

    fn body(error: &str, code: u64, text: &str) -> String {
        format!(
            r#"{{"error":"{error}","error_description":"AADSTS{code}: {text}\r\nTrace ID: 0a1b\r\nCorrelation ID: 9f8e\r\nTimestamp: 2024-01-01 00:00:00Z","error_codes":[{code}],"timestamp":"2024-01-01 00:00:00Z","trace_id":"0a1b","correlation_id":"9f8e","error_uri":"https://login.microsoftonline.com/error?code={code}"}}"#
        )
    }

    fn check(error: &str, code: u64, kind: ErrorKind, hint_contains: &str) {
        let e = Error::from_entra(400, entra(&body(error, code, "text")));
        assert_eq!(e.kind(), kind, "{error} {code}");
        let hint = e.hint().unwrap_or_default();
        assert!(
            hint.contains(hint_contains),
            "{code}: hint {hint:?} lacks {hint_contains:?}"
        );
        let shown = e.to_string();
        assert!(shown.contains(&format!("AADSTS{code}")), "{shown}");
        assert!(
            shown.contains("trace id 0a1b, correlation id 9f8e"),
            "{shown}"
        );
        assert!(
            !shown.contains("Trace ID: "),
            "only the first description line is shown: {shown}"
        );
    }

    #[test]
    fn entra_errors_map_to_kinds_and_hints() {
        check(
            "invalid_client",
            7000215,
            ErrorKind::Authentication,
            "secret's value, not its id",
        );
        check(
            "invalid_client",
            7000222,
            ErrorKind::Authentication,
            "expired",
        );
        check(
            "unauthorized_client",
            700016,
            ErrorKind::Authentication,
            "not found in this tenant",
        );
        check(
            "invalid_client",
            700027,
            ErrorKind::Authentication,
            "certificate",
        );
        check("invalid_client", 700024, ErrorKind::Authentication, "clock");
        check(
            "invalid_client",
            700211,
            ErrorKind::Authentication,
            "issuer",
        );
        check(
            "invalid_client",
            700213,
            ErrorKind::Authentication,
            "subject",
        );
        check(
            "invalid_client",
            50027,
            ErrorKind::Authentication,
            "not a valid JWT",
        );
        check(
            "invalid_request",
            90002,
            ErrorKind::Configuration,
            "tenant was not found",
        );
        check(
            "invalid_grant",
            65001,
            ErrorKind::InteractionRequired,
            "consent",
        );
        check(
            "consent_required",
            65001,
            ErrorKind::InteractionRequired,
            "consent",
        );
        check(
            "interaction_required",
            50076,
            ErrorKind::InteractionRequired,
            "multi-factor",
        );
        check(
            "invalid_grant",
            50076,
            ErrorKind::InteractionRequired,
            "multi-factor",
        );
        check(
            "access_denied",
            53003,
            ErrorKind::Authentication,
            "Conditional Access",
        );
        check(
            "interaction_required",
            53003,
            ErrorKind::Authentication,
            "Conditional Access",
        );
        check(
            "invalid_grant",
            70008,
            ErrorKind::Authentication,
            "sign in again",
        );
        check(
            "temporarily_unavailable",
            50000,
            ErrorKind::Service,
            "retry later",
        );
        check("invalid_scope", 70011, ErrorKind::Configuration, "scope");
    }

    #[test]
    fn claims_are_kept() {
        let b = r#"{"error":"interaction_required","error_description":"AADSTS50076: Due to a configuration change made by your administrator...","error_codes":[50076],"claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"p1\"]}}}","suberror":"basic_action"}"#;
        let e = Error::from_entra(400, entra(b));
        assert_eq!(e.kind(), ErrorKind::InteractionRequired);
        assert!(e.claims().unwrap().contains("capolids"));
        assert_eq!(e.entra().unwrap().suberror.as_deref(), Some("basic_action"));
    }

    #[test]
    fn not_entra_bodies_are_rejected() {
        assert!(EntraError::from_json(b"<html>oops</html>").is_none());
        assert!(EntraError::from_json(br#"{"access_token":"x"}"#).is_none());
        assert!(EntraError::from_json(br#"{"error":""}"#).is_none());
    }

    #[test]
    fn display_has_credential_message_hint_and_attempts() {
        let inner = Error::unavailable("AZURE_CLIENT_ID is not set").with_credential("environment");
        let e = Error::configuration("bad")
            .with_hint("fix it")
            .with_credential("chain")
            .with_attempts(vec![inner]);
        assert_eq!(
            e.to_string(),
            "chain: bad; fix it\n  - environment: AZURE_CLIENT_ID is not set"
        );
    }
}
