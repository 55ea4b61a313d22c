//! Loopback and link-local requests never go through a proxy, configured or from the
//! environment: a local recording proxy shows what reaches it.

use std::sync::{Arc, Mutex};

use auth_core::http::{Pipeline, ReqwestClient, TokioSleep};
use auth_core::{Secret, entra};
use auth_testkit::{Emulator, Setup, sample};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An HTTP proxy on 127.0.0.1 that records every request head it receives and answers each
/// with `200 proxied`.
struct RecordingProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    record
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf).into_owned());
                    let _ = conn
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nproxied")
                        .await;
                });
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn form() -> Result<entra::Form, auth_core::Error> {
    Ok(entra::Form::new()
        .field("client_id", sample::CLIENT_ID)
        .field("grant_type", "client_credentials")
        .secret("client_secret", &Secret::new(sample::CLIENT_SECRET))
        .field("scope", "https://management.core.windows.net//.default"))
}

/// Gets a token from the emulator over plain http, then sends one request to a remote host
/// (which only a proxy can answer: `.invalid` never resolves).
async fn secret_to_loopback_then_remote(client: ReqwestClient) -> String {
    let emu = Emulator::start(Setup::sample()).await.unwrap();
    let pipeline = Pipeline::new(Arc::new(client), Arc::new(TokioSleep))
        .with_retry(auth_core::http::RetryPolicy::none());
    let url = emu.token_url(sample::TENANT_ID);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    entra::request_token(&pipeline, &url, form)
        .await
        .expect("the loopback request goes straight to the emulator");
    assert_eq!(emu.requests().len(), 1);
    let remote = pipeline
        .send(|| {
            Ok(http::Request::get("http://login.example.invalid/probe")
                .body(Vec::new())
                .unwrap())
        })
        .await
        .expect("a remote host is reached through the proxy");
    String::from_utf8(remote.into_body()).unwrap()
}

fn assert_only_the_remote_request(proxy: &RecordingProxy) {
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("GET http://login.example.invalid/probe HTTP/1.1"),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|s| s.contains(sample::CLIENT_SECRET)));
    assert!(!seen.iter().any(|s| s.contains("127.0.0.1")), "{seen:?}");
}

#[tokio::test]
async fn a_configured_proxy_never_sees_loopback_requests() {
    let proxy = RecordingProxy::start().await;
    let url = proxy.url.clone();
    let client = ReqwestClient::from_builder(move || {
        reqwest::Client::builder().proxy(reqwest::Proxy::all(&url).unwrap())
    })
    .unwrap();
    assert_eq!(secret_to_loopback_then_remote(client).await, "proxied");
    assert_only_the_remote_request(&proxy);
}

const CHILD: &str = "AUTH_CORE_PROXY_CHILD";

#[tokio::test]
async fn the_system_proxy_never_sees_loopback_requests() {
    let proxy = RecordingProxy::start().await;
    let exe = std::env::current_exe().unwrap();
    // The environment is read when the client is built: a child process gets HTTP_PROXY,
    // so this process's environment is never changed under other tests.
    #[allow(
        clippy::disallowed_methods,
        reason = "the test runs itself as a child with a proxy environment"
    )]
    let mut command = tokio::process::Command::new(exe);
    let out = command
        .args([
            "--exact",
            "proxy::child_with_the_system_proxy",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("HTTP_PROXY", &proxy.url)
        .env("http_proxy", &proxy.url)
        .env("ALL_PROXY", &proxy.url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_only_the_remote_request(&proxy);
}

/// Run by [`the_system_proxy_never_sees_loopback_requests`] with HTTP_PROXY set.
#[tokio::test]
#[ignore = "run as a child of the_system_proxy_never_sees_loopback_requests"]
async fn child_with_the_system_proxy() {
    #[allow(
        clippy::disallowed_methods,
        reason = "the child checks it was started as one"
    )]
    let is_child = std::env::var_os(CHILD).is_some();
    assert!(
        is_child,
        "run only by the_system_proxy_never_sees_loopback_requests"
    );
    assert_eq!(
        secret_to_loopback_then_remote(ReqwestClient::new()).await,
        "proxied"
    );
}
