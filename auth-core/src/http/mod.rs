//! The HTTP seam: a small transport trait, and the one retry policy every flow shares.
//!
//! `auth-core` has no HTTP client of its own. [`HttpClient`] takes an `http::Request<Vec<u8>>`
//! and gives an `http::Response<Vec<u8>>`; any closure of that shape is a client, so tests and
//! embedded users can pass a plain function. With the `reqwest` feature, [`Pipeline::shared`]
//! uses one process-wide reqwest client, so every credential shares one connection pool.

mod encode;
#[cfg(feature = "reqwest")]
mod reqwest_client;
mod retry;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

pub use encode::encode_path_segment;
pub(crate) use encode::{Encoding, percent_encode};
#[cfg(feature = "reqwest")]
pub use reqwest_client::{CONNECT_TIMEOUT, ReqwestClient, TokioSleep};
pub use retry::{RetryPolicy, retry_after, should_retry_status};

use crate::{Clock, Error, ErrorKind, SystemClock};

pub use crate::cloud::check_endpoint_url;

/// Which responses a [`Pipeline`] retries. The default retries 408, 429, 500, 502, 503 and
/// 504 ([`should_retry_status`]); a flow whose service has other rules (managed identity
/// retries 404 and 410) gives its own.
pub trait RetryClassifier: Send + Sync + fmt::Debug {
    /// Whether a response with `status` is retried, `elapsed` after the first attempt began.
    fn should_retry(&self, status: u16, elapsed: Duration) -> bool;
}

/// The default [`RetryClassifier`]: [`should_retry_status`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRetryClassifier;

impl RetryClassifier for DefaultRetryClassifier {
    fn should_retry(&self, status: u16, _elapsed: Duration) -> bool {
        should_retry_status(status)
    }
}

/// A request as the transport sends it.
pub type HttpRequest = http::Request<Vec<u8>>;
/// A response as the transport gives it: the whole body, read up to [`ResponseLimit`].
pub type HttpResponse = http::Response<Vec<u8>>;
/// The future a transport returns.
pub type HttpFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

/// The most bytes of a response body a transport should read, carried in the request's
/// extensions. A transport that finds more stops reading and fails with
/// [`TransportErrorKind::BodyTooLarge`]; the pipeline checks again after the fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseLimit(pub usize);

/// Sends one request. Never follows redirects; never retries (the [`Pipeline`] does).
pub trait HttpClient: Send + Sync {
    /// Sends `request` and reads the whole response.
    fn send(&self, request: HttpRequest) -> HttpFuture<'_>;
}

impl<F, Fut> HttpClient for F
where
    F: Fn(HttpRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<HttpResponse, TransportError>> + Send + 'static,
{
    fn send(&self, request: HttpRequest) -> HttpFuture<'_> {
        Box::pin(self(request))
    }
}

/// Why a request did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, DNS, unreachable).
    Connect,
    /// The TLS handshake failed (untrusted or invalid certificate): never retried.
    Tls,
    /// The connection broke while sending or reading.
    Io,
    /// The transport's own timeout fired.
    Timeout,
    /// The body was larger than the [`ResponseLimit`].
    BodyTooLarge,
    /// Anything else (an invalid request, a builder failure).
    Other,
}

/// A failure of the transport, with a message that holds no secret (no URL query, no body).
#[derive(Clone, Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
}

impl TransportError {
    /// A new transport error.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether trying again may help.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::Io | TransportErrorKind::Timeout
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// Waits, for backoff and timeouts. Injected so that `auth-core` needs no runtime and tests
/// need not wait.
pub trait Sleep: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// Default timeout of one request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default cap on a response body: token responses are a few KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A transport with its timer, clock, timeout, body cap and retry policy: what every flow sends
/// through.
#[derive(Clone)]
pub struct Pipeline {
    client: Arc<dyn HttpClient>,
    sleep: Arc<dyn Sleep>,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    classifier: Arc<dyn RetryClassifier>,
    timeout: Duration,
    call_timeout: Option<Duration>,
    max_response_bytes: usize,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("retry", &self.retry)
            .field("classifier", &self.classifier)
            .field("timeout", &self.timeout)
            .field("call_timeout", &self.call_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline over `client`, waiting with `sleep`, with the default timeout, body cap and
    /// retry policy.
    pub fn new(client: Arc<dyn HttpClient>, sleep: Arc<dyn Sleep>) -> Self {
        Self {
            client,
            sleep,
            clock: Arc::new(SystemClock),
            retry: RetryPolicy::default(),
            classifier: Arc::new(DefaultRetryClassifier),
            timeout: DEFAULT_REQUEST_TIMEOUT,
            call_timeout: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The process-wide pipeline over one shared reqwest client: every credential that uses it
    /// shares one connection pool. Needs a tokio runtime when used.
    #[cfg(feature = "reqwest")]
    pub fn shared() -> Self {
        static SHARED: std::sync::OnceLock<Arc<ReqwestClient>> = std::sync::OnceLock::new();
        let client = SHARED
            .get_or_init(|| Arc::new(ReqwestClient::new()))
            .clone();
        Self::new(client, Arc::new(TokioSleep))
    }

    /// With another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// With another rule for which responses are retried.
    pub fn with_retry_classifier(mut self, classifier: Arc<dyn RetryClassifier>) -> Self {
        self.classifier = classifier;
        self
    }

    /// With another timeout of each attempt.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With a bound on a whole [`Pipeline::send`], its retries and their waits included: when
    /// it passes, the call fails with [`ErrorKind::Timeout`] whatever attempt is under way.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// The timeout of each attempt.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// With another cap on response bodies.
    pub fn with_max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// With another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The timer.
    pub fn sleeper(&self) -> &Arc<dyn Sleep> {
        &self.sleep
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Sends the request `make` builds, retrying as the policy says. `make` is called once per
    /// attempt, so a flow can build a fresh body (a new client assertion) for each.
    ///
    /// Returns the final response whatever its status (a caller parses error bodies); fails
    /// on transport errors, timeouts (of an attempt, or of the whole call), redirects and
    /// oversized bodies.
    pub async fn send<F>(&self, make: F) -> Result<HttpResponse, Error>
    where
        F: FnMut() -> Result<HttpRequest, Error>,
    {
        let Some(limit) = self.call_timeout else {
            return self.send_retrying(make).await;
        };
        match select(Box::pin(self.send_retrying(make)), self.sleep.sleep(limit)).await {
            Some(result) => result,
            None => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "no answer within the call's {} s limit, retries included",
                    limit.as_secs_f64()
                ),
            )
            .with_hint("the endpoint is slow or keeps failing; check the network path, or raise the call timeout")),
        }
    }

    async fn send_retrying<F>(&self, mut make: F) -> Result<HttpResponse, Error>
    where
        F: FnMut() -> Result<HttpRequest, Error>,
    {
        let started = self.clock.now();
        let mut attempt = 0u32;
        loop {
            let mut request = make()?;
            request
                .extensions_mut()
                .insert(ResponseLimit(self.max_response_bytes));
            let host = request.uri().host().unwrap_or_default().to_owned();
            let path = request.uri().path().to_owned();
            let outcome = self.send_once(request).await;
            let elapsed = self.clock.now().duration_since(started).unwrap_or_default();
            let wait = match &outcome {
                Ok(resp)
                    if self
                        .classifier
                        .should_retry(resp.status().as_u16(), elapsed) =>
                {
                    Some(
                        retry_after(resp.headers(), self.clock.now())
                            .unwrap_or_else(|| self.retry.backoff(attempt)),
                    )
                }
                Err(e) if e.is_retryable() => Some(self.retry.backoff(attempt)),
                _ => None,
            };
            match (wait, outcome) {
                (Some(wait), outcome) if self.retry.allows(attempt + 1, elapsed, wait) => {
                    tracing::debug!(
                        host,
                        path,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    self.sleep.sleep(wait).await;
                    attempt += 1;
                    drop(outcome);
                }
                (_, Ok(resp)) => return self.finish(resp, &host),
                (_, Err(e)) if e.kind() == TransportErrorKind::BodyTooLarge => {
                    return Err(body_too_large(&host, self.max_response_bytes));
                }
                (_, Err(e)) => return Err(transport_error(e, &host, attempt)),
            }
        }
    }

    async fn send_once(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let send = self.client.send(request);
        let timer = self.sleep.sleep(self.timeout);
        match select(send, timer).await {
            Some(result) => result,
            None => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!("no response within {} s", self.timeout.as_secs_f64()),
            )),
        }
    }

    fn finish(&self, resp: HttpResponse, host: &str) -> Result<HttpResponse, Error> {
        if resp.body().len() > self.max_response_bytes {
            return Err(body_too_large(host, self.max_response_bytes));
        }
        if resp.status().is_redirection() {
            return Err(Error::new(
                ErrorKind::Service,
                format!("{host} answered with a redirect (HTTP {}), which is never followed: it could carry a secret or a token to another host", resp.status().as_u16()),
            )
            .with_status(resp.status().as_u16())
            .with_hint("check the authority host and endpoint URLs"));
        }
        Ok(resp)
    }
}

fn body_too_large(host: &str, max: usize) -> Error {
    Error::new(
        ErrorKind::Service,
        format!("the response from {host} is larger than the {max}-byte limit"),
    )
    .with_hint(
        "check that the endpoint URL points at the intended service (the identity service, or ARM)",
    )
}

fn transport_error(e: TransportError, host: &str, retries: u32) -> Error {
    let tried = if retries > 0 {
        format!(" after {} attempts", retries + 1)
    } else {
        String::new()
    };
    let source = e.clone();
    let error = match e.kind() {
        TransportErrorKind::Tls => Error::new(ErrorKind::Transport, format!("TLS with {host} failed: {e}"))
            .with_hint("the server's certificate is not trusted or not valid for this host; this is not retried: check the URL, or add the issuing CA to the trusted roots"),
        TransportErrorKind::Timeout => Error::new(ErrorKind::Timeout, format!("{host} did not answer in time{tried}: {e}"))
            .with_hint("check the network path to the endpoint, or raise the timeout"),
        TransportErrorKind::Io => Error::new(
            ErrorKind::Transport,
            format!("the connection to {host} broke before the response was complete{tried}: {e}"),
        )
        .with_hint("the network or the server dropped the connection; retry later"),
        _ => Error::new(ErrorKind::Transport, format!("could not reach {host}{tried}: {e}"))
            .with_hint("check the network and the endpoint URL"),
    };
    error.with_source(source)
}

/// Polls `a` and `b` together; `Some` with `a`'s output if it finishes first, else `None`.
pub(crate) async fn select<A, B>(a: A, b: B) -> Option<A::Output>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    struct Select<A, B>(A, B);
    impl<A: Future + Unpin, B: Future + Unpin> Future for Select<A, B> {
        type Output = Option<A::Output>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if let Poll::Ready(v) = Pin::new(&mut self.0).poll(cx) {
                return Poll::Ready(Some(v));
            }
            if Pin::new(&mut self.1).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        }
    }
    Select(a, b).await
}
