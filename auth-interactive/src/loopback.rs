//! The loopback redirect listener (protocol-entra.md §4.2, §4.4): `127.0.0.1` on a free (or
//! fixed) port, the redirect URI written as `http://localhost:{port}`, the `state` checked, one
//! code (or one error) accepted, then a small page, then the listener closes.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use auth_core::{EntraError, Error, ErrorKind, Secret};

/// Largest request the listener reads (the redirect is a few KiB).
const MAX_REQUEST: usize = 64 * 1024;
/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the accept loop checks for a new connection, the deadline and cancellation.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// What the redirect brought back.
pub(crate) enum Outcome {
    /// A code (the redirect's `client_info` is not needed: the token response repeats it).
    Code { code: Secret },
    /// An error redirect (`error`, `error_description`, `error_uri` only, §4.4).
    Error(EntraError),
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Code { .. } => f.write_str("Code([redacted])"),
            Outcome::Error(e) => f.debug_tuple("Error").field(&e.error).finish(),
        }
    }
}

/// A bound listener, not yet waiting.
pub(crate) struct Listener {
    listener: TcpListener,
    port: u16,
}

impl Listener {
    /// Binds `127.0.0.1:{port}` (0: a port the OS picks).
    pub(crate) fn bind(port: u16) -> Result<Self, Error> {
        let listener =
            TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).map_err(|e| {
                Error::configuration(format!(
                    "could not listen on 127.0.0.1:{port} for the sign-in redirect: {e}"
                ))
                .with_hint("choose another redirect port, or leave it to the system (port 0)")
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| {
                Error::configuration(format!("the redirect listener has no address: {e}"))
            })?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::configuration(format!("the redirect listener: {e}")))?;
        Ok(Self { listener, port })
    }

    /// The redirect URI to send (`localhost`, which the registration of public clients has).
    pub(crate) fn redirect_uri(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Waits (on a thread of its own) until a redirect with `state` arrives or `timeout` passes.
    /// Requests with another state, or with neither code nor error, get a 400 page and the wait
    /// goes on, so a stray or forged request cannot end the sign-in. Dropping the future stops
    /// the thread.
    pub(crate) async fn wait(self, state: String, timeout: Duration) -> Result<Outcome, Error> {
        let cancel = Arc::new(AtomicBool::new(false));
        struct Cancel(Arc<AtomicBool>);
        impl Drop for Cancel {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _guard = Cancel(cancel.clone());
        auth_core::blocking::run(move || self.accept_loop(&state, timeout, &cancel)).await
    }

    #[allow(
        clippy::disallowed_methods,
        reason = "the listener's own deadline: a monotonic clock in the adapter that waits"
    )]
    fn accept_loop(
        self,
        state: &str,
        timeout: Duration,
        cancel: &AtomicBool,
    ) -> Result<Outcome, Error> {
        let start = std::time::Instant::now();
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::new(ErrorKind::Timeout, "the sign-in was abandoned"));
            }
            if start.elapsed() >= timeout {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no sign-in came back to the redirect listener within {} s",
                        timeout.as_secs()
                    ),
                )
                .with_hint("finish the sign-in in the browser sooner, raise the timeout, or use the device code flow"));
            }
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(outcome) = handle(stream, state) {
                        return Ok(outcome);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(ACCEPT_POLL);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Transport,
                        format!("the redirect listener failed: {e}"),
                    ));
                }
            }
        }
    }
}

/// Handles one connection; `Some` when it was the redirect.
fn handle(mut stream: TcpStream, state: &str) -> Option<Outcome> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
    let Some((method, target, body)) = read_request(&mut stream) else {
        respond(
            &mut stream,
            400,
            "Bad request",
            "The request could not be read.",
        );
        return None;
    };
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    if path != "/" {
        respond(&mut stream, 404, "Not found", "Nothing here.");
        return None;
    }
    let params: Vec<(String, String)> = match method.as_str() {
        "GET" => form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
        "POST" => form_urlencoded::parse(&body).into_owned().collect(),
        _ => {
            respond(&mut stream, 405, "Method not allowed", "Use GET or POST.");
            return None;
        }
    };
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // Constant-time: the state is a CSRF token.
    let state_ok = get("state").is_some_and(|s| {
        s.len() == state.len()
            && s.bytes()
                .zip(state.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0
    });
    if !state_ok {
        tracing::warn!(
            "the sign-in redirect listener refused a request with a wrong or missing state"
        );
        respond(
            &mut stream,
            400,
            "Sign-in not accepted",
            "This response does not belong to the sign-in in progress (its state does not match). It was ignored.",
        );
        return None;
    }
    if let Some(code) = get("code").filter(|c| !c.is_empty()) {
        let outcome = Outcome::Code {
            code: Secret::new(code),
        };
        respond(
            &mut stream,
            200,
            "Authentication complete",
            "You are signed in. You can close this window and return to the application.",
        );
        return Some(outcome);
    }
    if let Some(error) = get("error").filter(|e| !e.is_empty()) {
        let json = serde_json::json!({
            "error": error,
            "error_description": get("error_description"),
            "error_uri": get("error_uri"),
        });
        let Some(entra) = EntraError::from_json(json.to_string().as_bytes()) else {
            respond(
                &mut stream,
                400,
                "Sign-in not accepted",
                "The error response is not valid.",
            );
            return None;
        };
        respond(
            &mut stream,
            200,
            "Sign-in failed",
            "The sign-in did not succeed. You can close this window; the application shows the reason.",
        );
        return Some(Outcome::Error(entra));
    }
    respond(
        &mut stream,
        400,
        "Sign-in not accepted",
        "The response has neither a code nor an error.",
    );
    None
}

/// Reads one HTTP/1 request: method, target and body (by `Content-Length`), within the caps.
fn read_request(stream: &mut TcpStream) -> Option<(String, String, zeroize::Zeroizing<Vec<u8>>)> {
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(MAX_REQUEST));
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() >= MAX_REQUEST {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        let room = MAX_REQUEST - buf.len();
        buf.extend_from_slice(&chunk[..n.min(room)]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST {
        return None;
    }
    let mut body = zeroize::Zeroizing::new(buf[head_end + 4..].to_vec());
    while body.len() < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some((method, target, body))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Bad Request",
    };
    let body = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\"><h1>{title}</h1><p id=\"result\">{text}</p></body></html>\n"
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(port: u16, raw: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // A tiny executor: `blocking::run` wakes the waker from its thread.
        struct W(std::thread::Thread);
        impl std::task::Wake for W {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Arc::new(W(std::thread::current())).into();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }

    #[test]
    fn wrong_state_is_ignored_then_the_code_is_taken_once() {
        let l = Listener::bind(0).unwrap();
        let port = l.port;
        assert_eq!(l.redirect_uri(), format!("http://localhost:{port}"));
        let client = std::thread::spawn(move || {
            let a = send(
                port,
                "GET /?code=c1&state=wrong HTTP/1.1\r\nhost: x\r\n\r\n",
            );
            let b = send(port, "GET /favicon.ico HTTP/1.1\r\n\r\n");
            let c = send(port, "GET /?state=s1 HTTP/1.1\r\n\r\n");
            let d = send(
                port,
                "POST / HTTP/1.1\r\ncontent-length: 29\r\n\r\ncode=the-code&state=s1&x=yyyy",
            );
            (a, b, c, d)
        });
        let outcome = block_on(l.wait("s1".into(), Duration::from_secs(10))).unwrap();
        let (a, b, c, d) = client.join().unwrap();
        assert!(a.starts_with("HTTP/1.1 400"), "{a}");
        assert!(a.contains("state does not match"));
        assert!(b.starts_with("HTTP/1.1 404"), "{b}");
        assert!(c.starts_with("HTTP/1.1 400"), "{c}");
        assert!(d.starts_with("HTTP/1.1 200"), "{d}");
        assert!(d.contains("You can close this window"));
        match outcome {
            Outcome::Code { code } => assert_eq!(code.expose_secret(), "the-code"),
            other => panic!("{other:?}"),
        }
        // The listener is gone: a second code finds nobody.
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn error_redirects_and_timeouts() {
        let l = Listener::bind(0).unwrap();
        let port = l.port;
        let client = std::thread::spawn(move || {
            send(
                port,
                "GET /?error=access_denied&error_description=AADSTS65004%3A+declined&state=s&foo=bar HTTP/1.1\r\n\r\n",
            )
        });
        let outcome = block_on(l.wait("s".into(), Duration::from_secs(10))).unwrap();
        client.join().unwrap();
        let Outcome::Error(e) = outcome else { panic!() };
        assert_eq!(e.error, "access_denied");
        assert!(e.has_code(65004));
        let l = Listener::bind(0).unwrap();
        let e = block_on(l.wait("s".into(), Duration::from_millis(100))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
    }
}
