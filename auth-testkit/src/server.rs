//! The HTTP(S) listeners: one per emulated service, each on 127.0.0.1 port 0.
//!
//! A listener accepts connections, reads each request whole, records it, applies an injected
//! fault if one is queued, and hands it to the service's router (a plain function from
//! [`Req`] to [`Resp`]). Adding a service (managed identity, say) means adding a
//! [`Service`] variant and a router.

use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::fault::Fault;
use crate::record::{RecordedRequest, Service};
use crate::state::Shared;

/// The largest request body accepted (1 MiB); a larger one is answered 413 and not recorded.
const MAX_BODY: usize = 1 << 20;

/// A request as the routers see it.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) form: Vec<(String, String)>,
}

impl Req {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub(crate) fn form(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// Path segments (still percent-encoded), without empty ones at the ends.
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path.trim_matches('/').split('/').collect()
    }
}

/// A response as the routers produce it.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Send the body, then fail the stream (the `Content-Length` header promises more).
    pub(crate) truncated: bool,
}

impl Resp {
    pub(crate) fn new(status: u16) -> Self {
        Resp {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            truncated: false,
        }
    }
    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Resp::new(status)
            .header("content-type", "application/json; charset=utf-8")
            .body(value.to_string().into_bytes())
    }
    pub(crate) fn html(status: u16, html: String) -> Self {
        Resp::new(status)
            .header("content-type", "text/html; charset=utf-8")
            .body(html.into_bytes())
    }
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
    fn truncated(mut self) -> Self {
        self.truncated = true;
        self
    }
}

/// What to do with one request once faults have been considered.
enum Outcome {
    Respond(Resp),
    Reset,
}

/// A TCP stream that is closed with a reset (SO_LINGER 0) when asked to.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Binds 127.0.0.1:`port` (0: any free port).
pub(crate) async fn bind(port: u16) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Runs the accept loop of one service until the task is aborted (which also aborts every
/// connection task it spawned).
pub(crate) async fn serve(
    listener: TcpListener,
    service: Service,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    let reset = Arc::new(AtomicBool::new(false));
                    let stream = ResettableStream { inner: stream, reset: reset.clone() };
                    match tls {
                        Some(acceptor) => {
                            if let Ok(tls_stream) = acceptor.accept(stream).await {
                                serve_connection(tls_stream, service, shared, reset).await;
                            }
                        }
                        None => serve_connection(stream, service, shared, reset).await,
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection<S>(
    stream: S,
    service: Service,
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let shared = shared.clone();
        let reset = reset.clone();
        async move {
            match handle(req, service, &shared).await {
                Outcome::Respond(resp) => Ok(into_hyper(resp)),
                Outcome::Reset => {
                    reset.store(true, Ordering::SeqCst);
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "injected reset",
                    ))
                }
            }
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}

type Body = BoxBody<Bytes, std::io::Error>;

/// A body that yields its data and then fails, so the connection is cut short.
/// It pauses between the two so that the head and the partial body are flushed first.
struct TruncatedBody {
    data: Option<Bytes>,
    pause: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for TruncatedBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(hyper::body::Frame::data(data))));
        }
        match self.pause.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other("injected truncation")))),
        }
    }
}

fn into_hyper(resp: Resp) -> hyper::Response<Body> {
    let mut builder = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body: Body = if resp.truncated {
        TruncatedBody {
            data: Some(Bytes::from(resp.body)),
            pause: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(20))),
        }
        .boxed()
    } else {
        Full::new(Bytes::from(resp.body))
            .map_err(|never| match never {})
            .boxed()
    };
    builder.body(body).unwrap_or_else(|_| {
        hyper::Response::new(
            Full::new(Bytes::new())
                .map_err(|never| match never {})
                .boxed(),
        )
    })
}

fn parse_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

async fn handle(req: hyper::Request<Incoming>, service: Service, shared: &Shared) -> Outcome {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Outcome::Respond(
                Resp::new(413)
                    .header("content-type", "text/plain; charset=utf-8")
                    .header("connection", "close")
                    .body(b"request body too large\n".to_vec()),
            );
        }
        Err(_) => return Outcome::Reset,
    };
    let is_form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let form = if is_form {
        parse_pairs(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(parse_pairs).unwrap_or_default(),
        headers: parts.headers,
        body,
        form,
    };
    let endpoint = match service {
        Service::Entra => crate::entra::classify(&req),
        Service::Arm => crate::arm::classify(&req),
        Service::ManagedIdentity => crate::msi::classify(&req),
    };
    let fault = shared.record_and_take_fault(RecordedRequest {
        service,
        endpoint,
        method: req.method.to_string(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        form: req.form.clone(),
        body: req.body.clone(),
    });
    let route = |req: &Req| match service {
        Service::Entra => crate::entra::route(shared, req),
        Service::Arm => crate::arm::route(shared, req),
        Service::ManagedIdentity => crate::msi::route(shared, req),
    };
    match fault {
        None => Outcome::Respond(route(&req)),
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Outcome::Respond(route(&req))
        }
        Some(Fault::ConnectionReset) => Outcome::Reset,
        Some(f) => Outcome::Respond(fault_response(shared, service, &req, &f)),
    }
}

fn fault_response(shared: &Shared, service: Service, req: &Req, fault: &Fault) -> Resp {
    let json = "application/json; charset=utf-8";
    match fault {
        Fault::Status {
            status,
            retry_after,
        } => {
            let mut resp = match service {
                Service::Entra => crate::entra::status_fault(shared, req, *status),
                Service::Arm => crate::arm::status_fault(shared, req, *status),
                Service::ManagedIdentity => crate::msi::status_fault(shared, req, *status),
            };
            if let Some(secs) = retry_after {
                resp = resp.header("retry-after", &secs.to_string());
            }
            resp
        }
        Fault::MalformedJson => {
            let body: &[u8] = match service {
                Service::Arm => br#"{"id":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg","name":"#,
                _ => br#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAi"#,
            };
            Resp::new(200)
                .header("content-type", json)
                .body(body.to_vec())
        }
        Fault::TruncatedBody => {
            let full: &[u8] = match service {
                Service::Arm => br#"{"id":"/subscriptions/00000000-0000-0000-0000-000000000000","name":"truncated","type":"Microsoft.MachineLearningServices/workspaces","properties":{}}"#,
                _ => br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"truncated"}"#,
            };
            Resp::new(200)
                .header("content-type", json)
                .header("content-length", &full.len().to_string())
                .body(full[..full.len() / 2].to_vec())
                .truncated()
        }
        Fault::OversizedBody(n) => {
            let padding = "x".repeat(n.saturating_sub(64));
            let body = serde_json::json!({"padding": padding, "token_type": "Bearer"}).to_string();
            Resp::new(200)
                .header("content-type", json)
                .body(body.into_bytes())
        }
        Fault::HtmlErrorPage => Resp::html(
                502,
                "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
                 <body><h1>Bad Gateway</h1><p>The proxy server received an invalid response from an upstream server.</p>\
                 </body></html>\n"
                    .to_owned(),
        ),
        // Handled by the caller.
        Fault::Delay(_) | Fault::ConnectionReset => Resp::new(500),
    }
}
