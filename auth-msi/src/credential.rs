//! `ManagedIdentityCredential`: tokens from the managed-identity endpoint the environment
//! describes.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use auth_core::http::{HttpRequest, HttpResponse, RetryClassifier, RetryPolicy};
use auth_core::{
    AccessToken, CachePartition, Env, Error, ErrorKind, Pipeline, ProcessEnv, Secret, TenantPolicy,
    TokenCache, TokenCredential, TokenFlow, TokenFuture, TokenRequest,
};
use serde_json::Value;

use crate::options::{IMDS_410_WINDOW, IMDS_RETRY_WINDOW};
use crate::parse::parse_token;
use crate::source::{Endpoint, with_query};
use crate::{ManagedIdentityOptions, ManagedIdentitySource, UserAssignedId, arc};

/// Which IMDS answers are retried (§1.3, §1.4): 404, 429 and 5xx for
/// [`window`](Self::window), 410 ("IMDS is updating") for [`window_410`](Self::window_410).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImdsRetryClassifier {
    /// How long 404, 429 and 5xx are retried, from the first attempt.
    pub window: Duration,
    /// How long 410 is retried, from the first attempt (at least 70 s).
    pub window_410: Duration,
}

impl Default for ImdsRetryClassifier {
    fn default() -> Self {
        Self {
            window: IMDS_RETRY_WINDOW,
            window_410: IMDS_410_WINDOW,
        }
    }
}

impl RetryClassifier for ImdsRetryClassifier {
    fn should_retry(&self, status: u16, elapsed: Duration) -> bool {
        match status {
            410 => elapsed < self.window_410,
            404 | 429 | 500..=599 => elapsed < self.window,
            _ => false,
        }
    }
}

/// The first contact with IMDS retries only failures to get an answer: once IMDS answers, its
/// answer goes to the full policy.
#[derive(Debug)]
struct AnswerEnds;

impl RetryClassifier for AnswerEnds {
    fn should_retry(&self, _status: u16, _elapsed: Duration) -> bool {
        false
    }
}

/// A managed identity: the system-assigned identity of the Azure resource the program runs on,
/// or one of its user-assigned identities.
///
/// The source (IMDS, App Service, Azure ML compute, Azure Arc, Cloud Shell, Service Fabric) is
/// chosen from the environment in azure-identity's order when the credential is built; see
/// [`ManagedIdentityCredential::source`]. Tokens are cached per resource.
pub struct ManagedIdentityCredential {
    endpoint: Endpoint,
    reason: &'static str,
    id: Option<UserAssignedId>,
    pipeline: Pipeline,
    /// IMDS until it has answered once: the pipeline of the first contact, and the probe's
    /// timeout in probe mode.
    first_contact: Option<(Pipeline, Option<Duration>)>,
    answered: AtomicBool,
    arc_directory: Option<PathBuf>,
    flow: TokenFlow,
}

impl fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityCredential")
            .field("source", &self.endpoint.source())
            .field("endpoint", &self.endpoint.url())
            .field("user_assigned_id", &self.id)
            .field("probe", &self.probe_timeout().is_some())
            .finish_non_exhaustive()
    }
}

impl ManagedIdentityCredential {
    /// The name in errors and logs.
    pub const NAME: &'static str = "managed identity credential";

    /// A credential for the source the process environment describes.
    pub fn new(options: ManagedIdentityOptions) -> Result<Self, Error> {
        Self::from_env(&ProcessEnv, options)
    }

    /// A credential for the source `env` describes.
    ///
    /// Fails with [`ErrorKind::Unavailable`] when the environment names an incomplete source
    /// (`IDENTITY_ENDPOINT` alone), and with [`ErrorKind::Configuration`] for an endpoint that
    /// is neither https nor local, or an identity the source cannot select (Azure ML takes only
    /// a client id; Cloud Shell and Service Fabric take none).
    pub fn from_env(env: &dyn Env, options: ManagedIdentityOptions) -> Result<Self, Error> {
        let named = |e: Error| e.with_credential(Self::NAME);
        if let Some(id) = &options.id {
            id.validate().map_err(named)?;
        }
        let (mut endpoint, reason) = Endpoint::from_env(env).map_err(named)?;
        if let (Endpoint::Imds { url, .. }, Some(custom)) = (&mut endpoint, &options.imds_endpoint)
        {
            auth_core::http::check_endpoint_url("IMDS endpoint", custom).map_err(named)?;
            url.clone_from(custom);
        }
        endpoint.check_id(options.id.as_ref()).map_err(named)?;
        let source = endpoint.source();
        let mut base = match (&endpoint, &options.pipeline) {
            #[cfg(feature = "reqwest")]
            (Endpoint::ServiceFabric { thumbprint, .. }, None) => Pipeline::new(
                Arc::new(crate::pinned::transport(thumbprint).map_err(named)?),
                Arc::new(auth_core::http::TokioSleep),
            ),
            _ => options.resolved_pipeline().map_err(named)?,
        }
        .with_timeout(options.timeout);
        if let Some(t) = options.call_timeout {
            base = base.with_call_timeout(t);
        }
        let mut first_contact = None;
        let pipeline = match &endpoint {
            Endpoint::Imds { pod_identity, .. } => {
                let full = base
                    .with_retry(options.imds_retry.clone())
                    .with_retry_classifier(Arc::new(ImdsRetryClassifier::default()));
                if *pod_identity {
                    // The pod-identity endpoint counts as present: no probe, no first contact.
                } else if options.probe {
                    let p = full
                        .clone()
                        .with_retry(RetryPolicy::none())
                        .with_timeout(options.probe_timeout)
                        .with_call_timeout(options.probe_timeout);
                    first_contact = Some((p, Some(options.probe_timeout)));
                } else {
                    // Until IMDS answers, retry within the guidance's budget (about 5 retries),
                    // not the 410 window: off Azure, that is all the waiting there is.
                    let retry = RetryPolicy {
                        max_total: options.imds_retry.max_total.min(IMDS_RETRY_WINDOW),
                        ..options.imds_retry.clone()
                    };
                    let p = full
                        .clone()
                        .with_retry(retry)
                        .with_retry_classifier(Arc::new(AnswerEnds));
                    first_contact = Some((p, None));
                }
                full
            }
            _ => base,
        };
        let arc_directory = match &endpoint {
            Endpoint::AzureArc { .. } => Some(match &options.arc_key_directory {
                Some(d) => d.clone(),
                None => arc::default_key_directory(env).map_err(named)?,
            }),
            _ => None,
        };
        let who = match &options.id {
            None => "system".to_owned(),
            Some(id) => format!("{}:{}", id.kind_name(), id.value()),
        };
        let flow = TokenFlow::new(
            Self::NAME,
            CachePartition::new(endpoint.url(), &who),
            TokenCache::for_pipeline(&pipeline),
            TenantPolicy::none(),
            false,
        );
        tracing::info!(
            credential = Self::NAME,
            source = %source,
            endpoint = endpoint.url(),
            identity = %who,
            probe = first_contact.as_ref().is_some_and(|(_, t)| t.is_some()),
            reason,
            "managed identity source chosen"
        );
        Ok(Self {
            endpoint,
            reason,
            id: options.id,
            pipeline,
            first_contact,
            answered: AtomicBool::new(false),
            arc_directory,
            flow,
        })
    }

    /// The source the environment chose.
    pub fn source(&self) -> ManagedIdentitySource {
        self.endpoint.source()
    }

    /// Why that source was chosen (which variables are set), for logs and diagnostics.
    pub fn source_reason(&self) -> &'static str {
        self.reason
    }

    /// The token endpoint URL (without query).
    pub fn endpoint(&self) -> &str {
        self.endpoint.url()
    }

    fn probe_timeout(&self) -> Option<Duration> {
        self.first_contact.as_ref().and_then(|(_, t)| *t)
    }

    /// The user-assigned identity asked for (`None`: system-assigned).
    pub fn user_assigned_id(&self) -> Option<&UserAssignedId> {
        self.id.as_ref()
    }

    /// Gets a token for `request` (exactly one scope), from the cache when fresh.
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        self.flow
            .get_token(request, |context| async move {
                let resource = context.scopes.single_resource().ok_or_else(|| {
                    Error::configuration(format!(
                        "a managed identity token is for exactly one resource, but {} scopes were requested",
                        context.scopes.iter().count()
                    ))
                })?;
                tracing::debug!(credential = Self::NAME, source = %self.source(), resource, "requesting a token");
                self.fetch(resource).await
            })
            .await
    }

    async fn fetch(&self, resource: &str) -> Result<AccessToken, Error> {
        let url = with_query(
            self.endpoint.url(),
            &self.endpoint.query(resource, self.id.as_ref()),
        );
        match &self.endpoint {
            Endpoint::Imds { .. } => {
                let make = || get(&url, &[metadata()]);
                if let Some((first, probe)) = &self.first_contact
                    && !self.answered.load(Ordering::Acquire)
                {
                    // No answer at all: there is no managed identity endpoint here.
                    let resp = first.send(make).await.map_err(|e| {
                        let when = match probe {
                            Some(t) => format!("within {} s", t.as_secs_f64()),
                            None => "after retries".to_owned(),
                        };
                        Error::unavailable(format!(
                            "no response from the IMDS endpoint {when}: {}",
                            e.message()
                        ))
                        .with_hint("this does not look like an Azure VM; a chain moves on to its next credential")
                    })?;
                    if is_docker_403(&resp) {
                        return Err(docker_unavailable());
                    }
                    self.answered.store(true, Ordering::Release);
                    let classifier = ImdsRetryClassifier::default();
                    if !classifier.should_retry(resp.status().as_u16(), Duration::ZERO) {
                        return self.answer(resp);
                    }
                    tracing::debug!(
                        credential = Self::NAME,
                        status = resp.status().as_u16(),
                        "IMDS answered; retrying with the full policy"
                    );
                }
                let resp = self.pipeline.send(make).await?;
                self.answer(resp)
            }
            Endpoint::AppService { header, .. } => {
                let resp = self
                    .pipeline
                    .send(|| {
                        get(
                            &url,
                            &[secret_header("x-identity-header", header)?, metadata()],
                        )
                    })
                    .await?;
                self.answer(resp)
            }
            Endpoint::AzureMl { secret, .. } => {
                let resp = self
                    .pipeline
                    .send(|| get(&url, &[secret_header("secret", secret)?]))
                    .await?;
                self.answer(resp)
            }
            Endpoint::ServiceFabric { header, .. } => {
                let resp = self
                    .pipeline
                    .send(|| get(&url, &[secret_header("secret", header)?]))
                    .await?;
                self.answer(resp)
            }
            Endpoint::CloudShell { url } => {
                let body = auth_core::entra::Form::new()
                    .field("resource", resource)
                    .encode();
                let resp = self
                    .pipeline
                    .send(|| {
                        let mut r = http::Request::post(url.as_str())
                            .header(
                                http::header::CONTENT_TYPE,
                                "application/x-www-form-urlencoded",
                            )
                            .body(body.to_vec())
                            .map_err(|_| invalid_url(url))?;
                        r.headers_mut()
                            .insert("metadata", http::HeaderValue::from_static("true"));
                        Ok(r)
                    })
                    .await?;
                self.answer(resp)
            }
            Endpoint::AzureArc { .. } => self.arc(&url).await,
        }
    }

    async fn arc(&self, url: &str) -> Result<AccessToken, Error> {
        let challenge = self.pipeline.send(|| get(url, &[metadata()])).await?;
        let status = challenge.status().as_u16();
        if status != 401 {
            if !(200..300).contains(&status) {
                return Err(self.refusal(&challenge));
            }
            return Err(Error::new(
                ErrorKind::Authentication,
                format!("Azure Arc answered the challenge request with HTTP {status} instead of 401 with a key file"),
            )
            .with_status(status));
        }
        let header = challenge
            .headers()
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok());
        let dir = self.arc_directory.clone().unwrap_or_default();
        let path = arc::key_path(header, &dir)?;
        let key = auth_core::blocking::run(move || arc::read_key(&path)).await?;
        let authorization = Secret::new(format!("Basic {}", key.expose_secret()));
        let resp = self
            .pipeline
            .send(|| {
                get(
                    url,
                    &[metadata(), secret_header("authorization", &authorization)?],
                )
            })
            .await?;
        // `answer` checks that a user-assigned selector was echoed.
        self.answer(resp)
    }

    /// The token of a 2xx answer, or the error of any other.
    fn answer(&self, resp: HttpResponse) -> Result<AccessToken, Error> {
        if !resp.status().is_success() {
            return Err(self.refusal(&resp));
        }
        let parsed = parse_token(self.source(), resp.body(), self.pipeline.clock().now())?;
        if self.source() == ManagedIdentitySource::AzureArc
            && let Some(id) = &self.id
        {
            let fields: &[&str] = match id {
                UserAssignedId::ClientId(_) => &["client_id"],
                UserAssignedId::ObjectId(_) => &["object_id"],
                UserAssignedId::ResourceId(_) => &["msi_res_id", "mi_res_id"],
            };
            let echoed = fields.iter().any(|f| {
                parsed
                    .body
                    .get(*f)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(id.value()))
            });
            if !echoed {
                return Err(Error::new(
                    ErrorKind::Authentication,
                    format!("Azure Arc did not confirm that the token is for {}; it may be the system-assigned identity's", id.describe()),
                )
                .with_hint("update the Azure Connected Machine agent; older agents ignore user-assigned selectors"));
            }
        }
        Ok(parsed.token)
    }

    /// The error of a non-2xx answer: kind by status, with the service's `error` code and
    /// description (never the raw body).
    fn refusal(&self, resp: &HttpResponse) -> Error {
        let status = resp.status().as_u16();
        let source = self.source();
        if source == ManagedIdentitySource::Imds && is_docker_403(resp) {
            return docker_unavailable();
        }
        let detail = error_detail(resp.body());
        let said = match &detail {
            Some(d) => format!(" ({d})"),
            None => String::new(),
        };
        let e = match status {
            400 => {
                let who = match &self.id {
                    None => "no system-assigned identity is enabled on this resource".to_owned(),
                    Some(id) => format!("{} is not assigned to this resource", id.describe()),
                };
                // "Identity not found": this identity is not here, so a chain may move on.
                Error::new(
                    ErrorKind::Unavailable,
                    format!("{source} found no such identity: {who}{said}"),
                )
                .with_hint("assign the identity to this resource, or check the id")
            }
            404 | 410 | 429 | 500..=599 => Error::new(
                ErrorKind::Service,
                format!("{source} answered HTTP {status}{said}, and kept failing after retries"),
            )
            .with_hint("the managed identity endpoint is busy or updating; retry later"),
            _ => Error::new(
                ErrorKind::Authentication,
                format!("{source} refused the token request with HTTP {status}{said}"),
            ),
        };
        let e = e.with_status(status);
        match auth_core::http::retry_after(resp.headers(), self.pipeline.clock().now()) {
            Some(after) => e.with_retry_after(after),
            None => e,
        }
    }
}

impl TokenCredential for ManagedIdentityCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(ManagedIdentityCredential::get_token(self, request))
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}

fn metadata() -> (http::HeaderName, http::HeaderValue) {
    (
        http::HeaderName::from_static("metadata"),
        http::HeaderValue::from_static("true"),
    )
}

fn secret_header(
    name: &'static str,
    value: &Secret,
) -> Result<(http::HeaderName, http::HeaderValue), Error> {
    let mut v = http::HeaderValue::from_str(value.expose_secret()).map_err(|_| {
        Error::configuration(format!(
            "the value for the {name} header has characters a header cannot carry"
        ))
    })?;
    v.set_sensitive(true);
    Ok((http::HeaderName::from_static(name), v))
}

fn invalid_url(url: &str) -> Error {
    Error::configuration(format!(
        "the managed identity endpoint {url:?} is not a valid URL"
    ))
}

fn get(url: &str, headers: &[(http::HeaderName, http::HeaderValue)]) -> Result<HttpRequest, Error> {
    let mut r = http::Request::get(url)
        .body(Vec::new())
        .map_err(|_| invalid_url(url.split('?').next().unwrap_or_default()))?;
    for (k, v) in headers {
        r.headers_mut().insert(k.clone(), v.clone());
    }
    Ok(r)
}

/// Docker Desktop answers for 169.254.169.254 itself: 403 with "unreachable" in the body.
fn is_docker_403(resp: &HttpResponse) -> bool {
    resp.status().as_u16() == 403
        && String::from_utf8_lossy(resp.body())
            .to_ascii_lowercase()
            .contains("unreachable")
}

fn docker_unavailable() -> Error {
    Error::unavailable(
        "IMDS is unreachable: the answer came from Docker Desktop's network, not from Azure",
    )
    .with_status(403)
    .with_hint("this is not an Azure VM; a chain moves on to its next credential")
}

/// `error: description` from the documented members of an error body (`error` and
/// `error_description`; Service Fabric's `error.code` and `error.message`; App Service's
/// `message`), trimmed and bounded.
fn error_detail(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let (code, description) = match v.get("error") {
        Some(Value::Object(o)) => (text(o.get("code")), text(o.get("message"))),
        Some(other) => (text(Some(other)), text(v.get("error_description"))),
        None => (None, text(v.get("message"))),
    };
    let clean = |s: String| -> String {
        let s: String = s.chars().filter(|c| !c.is_control()).take(300).collect();
        s.trim().to_owned()
    };
    match (code.map(clean), description.map(clean)) {
        (Some(c), Some(d)) if !d.is_empty() => Some(format!("{c}: {d}")),
        (Some(c), _) => Some(c),
        (None, Some(d)) => Some(d),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imds_retry_table() {
        let c = ImdsRetryClassifier::default();
        let s = Duration::from_secs;
        for (status, elapsed, retry) in [
            (200, 0, false),
            (400, 0, false),
            (403, 0, false),
            (404, 0, true),
            (404, 31, false),
            (410, 0, true),
            (410, 69, true),
            (410, 79, true),
            (410, 81, false),
            (429, 10, true),
            (500, 0, true),
            (503, 29, true),
            (599, 0, true),
            (501, 40, false),
        ] {
            assert_eq!(
                c.should_retry(status, s(elapsed)),
                retry,
                "{status} at {elapsed} s"
            );
        }
    }

    #[test]
    fn policy_outlasts_the_410_window() {
        // Without jitter, the attempts start at 0, 1, 3, 7, 15, 31, 63, then 123 s: the last
        // one after the 70 s IMDS may take to come back.
        let p = RetryPolicy {
            jitter: 0.0,
            ..crate::imds_retry_policy()
        };
        let (mut at, mut last) = (Duration::ZERO, Duration::ZERO);
        let c = ImdsRetryClassifier::default();
        for attempt in 0.. {
            let wait = p.backoff(attempt);
            if !c.should_retry(410, at) || !p.allows(attempt + 1, at, wait) {
                break;
            }
            at += wait;
            last = at;
        }
        assert!(last >= Duration::from_secs(70), "{last:?}");
    }

    #[test]
    fn error_details() {
        assert_eq!(
            error_detail(
                br#"{"error":"invalid_request","error_description":"Identity not found"}"#
            )
            .as_deref(),
            Some("invalid_request: Identity not found")
        );
        assert_eq!(
            error_detail(br#"{"error":{"code":"SecretHeaderNotFound","message":"Secret is not found in the request headers."}}"#).as_deref(),
            Some("SecretHeaderNotFound: Secret is not found in the request headers.")
        );
        assert_eq!(
            error_detail(br#"{"statusCode":500,"message":"An unexpected error occured"}"#)
                .as_deref(),
            Some("An unexpected error occured")
        );
        assert_eq!(error_detail(b"<html>"), None);
    }
}
