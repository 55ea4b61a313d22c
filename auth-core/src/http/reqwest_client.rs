//! The default transport: reqwest over rustls, redirects off, the body read up to its limit.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{
    HttpClient, HttpFuture, HttpRequest, ResponseLimit, Sleep, TransportError, TransportErrorKind,
};

/// Connect timeout of the default client.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An [`HttpClient`] over reqwest (one connection pool per destination kind). Never follows
/// redirects.
///
/// Requests to loopback and link-local hosts (the emulator, a local proxy of a tool, the managed
/// identity endpoint 169.254.169.254) go through a second client with no proxy at all: a system
/// proxy (`HTTP_PROXY`, `ALL_PROXY`) must never see a secret sent over plain http to a local
/// authority, and could not reach such an address anyway.
#[derive(Clone, Debug)]
pub struct ReqwestClient {
    client: reqwest::Client,
    direct: reqwest::Client,
}

impl Default for ReqwestClient {
    fn default() -> Self {
        Self::new()
    }
}

impl ReqwestClient {
    /// A client trusting the platform's roots.
    pub fn new() -> Self {
        // The default builder fails only where `reqwest::Client::new` itself would (no TLS
        // backend), so the fallback never drops a caller's configuration.
        Self::from_builder(reqwest::Client::builder).unwrap_or_else(|_| Self {
            client: reqwest::Client::default(),
            direct: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_default(),
        })
    }

    /// A client from reqwest builders that `make` returns (for extra roots, proxies): it is
    /// called twice, once for remote hosts and once for loopback and link-local ones, whose
    /// client gets `no_proxy` on top. Redirects and the connect timeout are set here. A builder
    /// that cannot build is an error: falling back to a default client would drop the caller's
    /// roots and proxy.
    pub fn from_builder(make: impl Fn() -> reqwest::ClientBuilder) -> Result<Self, TransportError> {
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(CONNECT_TIMEOUT)
                .build()
                .map_err(|e| {
                    TransportError::new(
                        TransportErrorKind::Other,
                        format!("cannot build the HTTP client: {e}"),
                    )
                })
        };
        Ok(Self {
            client: build(make())?,
            direct: build(make().no_proxy())?,
        })
    }

    /// A client that also trusts the PEM certificate `ca_pem` (such as the emulator's CA).
    pub fn with_root_certificate_pem(ca_pem: &[u8]) -> Result<Self, TransportError> {
        let cert = reqwest::Certificate::from_pem(ca_pem).map_err(|e| {
            TransportError::new(
                TransportErrorKind::Other,
                format!("invalid CA certificate: {e}"),
            )
        })?;
        Self::from_builder(|| reqwest::Client::builder().add_root_certificate(cert.clone()))
    }

    /// The client for `request`'s host: never a proxy for loopback and link-local hosts.
    fn client_for(&self, request: &HttpRequest) -> &reqwest::Client {
        let host = request.uri().host().unwrap_or_default();
        if crate::cloud::is_loopback(host) || crate::cloud::is_link_local(host) {
            &self.direct
        } else {
            &self.client
        }
    }
}

impl HttpClient for ReqwestClient {
    fn send(&self, request: HttpRequest) -> HttpFuture<'_> {
        Box::pin(async move {
            let limit = request
                .extensions()
                .get::<ResponseLimit>()
                .map_or(usize::MAX, |l| l.0);
            let client = self.client_for(&request);
            let request = reqwest::Request::try_from(request).map_err(|e| classify(&e))?;
            let mut response = client.execute(request).await.map_err(|e| classify(&e))?;
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            if let Some(h) = builder.headers_mut() {
                *h = std::mem::take(response.headers_mut());
            }
            // Sized from Content-Length so that growing the buffer leaves no copies of a token
            // behind in freed memory; at most a token response's cap, whatever the server claims.
            let expected = response.content_length().unwrap_or(0);
            let mut body = Vec::with_capacity(
                usize::try_from(expected)
                    .map_or(0, |n| n.min(limit).min(super::DEFAULT_MAX_RESPONSE_BYTES)),
            );
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
                if body.len() + chunk.len() > limit {
                    return Err(TransportError::new(
                        TransportErrorKind::BodyTooLarge,
                        format!("the body exceeds {limit} bytes"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            builder
                .body(body)
                .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))
        })
    }
}

/// Sorts a reqwest error into a kind, looking through its sources for a TLS failure.
/// Messages name no URL (a query could carry a secret).
fn classify(e: &reqwest::Error) -> TransportError {
    let mut chain = String::new();
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    let kind =
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            TransportErrorKind::Tls
        } else if e.is_timeout() {
            TransportErrorKind::Timeout
        } else if e.is_connect() {
            TransportErrorKind::Connect
        } else if e.is_body() || e.is_request() || e.is_decode() {
            TransportErrorKind::Io
        } else {
            TransportErrorKind::Other
        };
    let what = if e.is_connect() {
        "connection failed"
    } else if e.is_body() {
        "reading the response failed"
    } else {
        "the request failed"
    };
    TransportError::new(kind, format!("{what}{chain}"))
}

/// [`Sleep`] on tokio's timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleep;

impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_that_cannot_build_is_an_error_not_a_default_client() {
        // rustls speaks no TLS 1.0: this configuration cannot be built.
        let builder = || reqwest::Client::builder().max_tls_version(reqwest::tls::Version::TLS_1_0);
        let err = ReqwestClient::from_builder(builder).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Other);
        assert!(
            err.to_string().contains("cannot build the HTTP client"),
            "{err}"
        );
    }
}
