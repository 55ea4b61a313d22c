use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::{
    HttpRequest, HttpResponse, Pipeline, RetryClassifier, Sleep, TransportError,
    TransportErrorKind, check_endpoint_url,
};
use auth_core::{ErrorKind, Secret, entra};

/// A sleep that records the waits and returns at once (a long wait never completes, so a
/// pipeline timeout can be tested without waiting).
#[derive(Debug, Default)]
struct RecordingSleep(Mutex<Vec<Duration>>);

impl Sleep for RecordingSleep {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.0.lock().unwrap().push(d);
        if d >= Duration::from_secs(30) {
            Box::pin(std::future::pending())
        } else {
            Box::pin(async {})
        }
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}

type Script = Arc<Mutex<Vec<Result<HttpResponse, TransportError>>>>;

/// A scripted transport at the injected boundary: answers in order, counts requests.
type Scripted = (
    Pipeline,
    Arc<AtomicUsize>,
    Arc<RecordingSleep>,
    Arc<Mutex<Vec<HttpRequest>>>,
);

fn scripted(answers: Vec<Result<HttpResponse, TransportError>>) -> Scripted {
    let script: Script = Arc::new(Mutex::new(answers.into_iter().rev().collect()));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c, s, q) = (count.clone(), script.clone(), seen.clone());
    let client = move |req: HttpRequest| {
        c.fetch_add(1, Ordering::SeqCst);
        q.lock().unwrap().push(req);
        let next = s.lock().unwrap().pop();
        async move {
            match next {
                Some(answer) => answer,
                None => std::future::pending().await,
            }
        }
    };
    let sleep = Arc::new(RecordingSleep::default());
    (
        Pipeline::new(Arc::new(client), sleep.clone()),
        count,
        sleep,
        seen,
    )
}

const OK: &str =
    r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok"}"#;

fn form() -> Result<entra::Form, auth_core::Error> {
    Ok(entra::Form::new()
        .field("grant_type", "client_credentials")
        .secret("client_secret", &Secret::new("s3cr3t-value")))
}

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn retries_429_and_5xx_honouring_retry_after() {
    let (p, count, sleep, seen) = scripted(vec![
        Ok(response(
            429,
            &[("retry-after", "2")],
            r#"{"error":"temporarily_unavailable"}"#,
        )),
        Ok(response(503, &[], "<html>busy</html>")),
        Ok(response(200, &[], OK)),
    ]);
    let r = block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap();
    assert_eq!(r.access_token.token().expose_secret(), "tok");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let waits = sleep
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|d| **d < Duration::from_secs(30))
        .copied()
        .collect::<Vec<_>>();
    assert_eq!(
        waits[0],
        Duration::from_secs(2),
        "Retry-After is honoured exactly"
    );
    assert!(
        waits[1] >= Duration::from_millis(1280) && waits[1] <= Duration::from_millis(1920),
        "second backoff {:?}",
        waits[1]
    );
    let seen = seen.lock().unwrap();
    let req = &seen[0];
    assert_eq!(
        req.headers()["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(req.headers()["accept"], "application/json");
    assert_eq!(req.headers()["client-request-id"].len(), 36);
    assert_eq!(req.headers()["x-ms-lib-capability"], "retry-after, h429");
    let ids: Vec<_> = seen
        .iter()
        .map(|r| r.headers()["client-request-id"].clone())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one client-request-id per logical operation"
    );
}

#[test]
fn gives_up_after_the_retry_budget_with_a_service_error() {
    let answers = (0..5)
        .map(|_| {
            Ok(response(
                500,
                &[],
                r#"{"error":"server_error","error_description":"AADSTS50000: boom"}"#,
            ))
        })
        .collect();
    let (p, count, _, _) = scripted(answers);
    let e = block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 4, "first attempt + 3 retries");
    assert_eq!(e.kind(), ErrorKind::Service);
    assert_eq!(e.status(), Some(500));
}

#[test]
fn never_retries_400_or_401() {
    for status in [400, 401] {
        let (p, count, _, _) = scripted(vec![
            Ok(response(
                status,
                &[],
                r#"{"error":"invalid_client","error_codes":[7000215]}"#,
            )),
            Ok(response(200, &[], OK)),
        ]);
        let e = block_on(entra::request_token(
            &p,
            "https://login.example/t/oauth2/v2.0/token",
            form,
        ))
        .unwrap_err();
        assert_eq!(count.load(Ordering::SeqCst), 1, "{status}");
        assert_eq!(e.kind(), ErrorKind::Authentication);
    }
}

#[test]
fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let (p, count, _, _) = scripted(vec![
        Ok(response(429, &[("retry-after", "3600")], "{}")),
        Ok(response(200, &[], OK)),
    ]);
    let e = block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(e.kind(), ErrorKind::Service);
}

#[test]
fn tls_failures_fail_at_once() {
    let (p, count, _, _) = scripted(vec![
        Err(TransportError::new(
            TransportErrorKind::Tls,
            "invalid peer certificate: UnknownIssuer",
        )),
        Ok(response(200, &[], OK)),
    ]);
    let e = block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap_err();
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "TLS failures are never retried"
    );
    assert_eq!(e.kind(), ErrorKind::Transport);
    assert!(e.to_string().contains("not trusted"), "{e}");
    let source = std::error::Error::source(&e).expect("the transport error is the source");
    let transport = source
        .downcast_ref::<TransportError>()
        .expect("a TransportError");
    assert_eq!(transport.kind(), TransportErrorKind::Tls);
    assert!(transport.to_string().contains("UnknownIssuer"));
}

#[test]
fn connection_failures_are_retried() {
    let (p, count, _, _) = scripted(vec![
        Err(TransportError::new(
            TransportErrorKind::Connect,
            "connection refused",
        )),
        Ok(response(200, &[], OK)),
    ]);
    block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn a_hanging_endpoint_fails_at_the_timeout() {
    // The scripted transport never answers; the timer fires (RecordingSleep completes waits
    // under 30 s at once), so every attempt times out and the retries run out.
    let (p, count, _, _) = scripted(vec![]);
    let p = p.with_timeout(Duration::from_secs(5));
    let e = block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(count.load(Ordering::SeqCst), 4);
    assert!(
        e.to_string()
            .contains("did not answer in time after 4 attempts"),
        "{e}"
    );
}

#[test]
fn redirects_are_not_followed_and_oversized_bodies_are_refused() {
    let (p, count, _, _) = scripted(vec![Ok(response(
        302,
        &[("location", "https://evil.example/")],
        "",
    ))]);
    let e = block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(e.to_string().contains("never followed"), "{e}");
    let (p, _, _, _) = scripted(vec![Ok(response(200, &[], &"x".repeat(2048)))]);
    let p = p.with_max_response_bytes(1024);
    let e = block_on(entra::request_token(
        &p,
        "https://login.example/t/oauth2/v2.0/token",
        form,
    ))
    .unwrap_err();
    assert!(
        e.to_string().contains("larger than the 1024-byte limit"),
        "{e}"
    );
}

#[test]
fn errors_from_responses_carry_no_secret() {
    let bodies = [
        (
            200,
            r#"{"access_token":"SECRET-AT","refresh_token":"SECRET-RT","expires_in":"#,
        ),
        (
            200,
            r#"{"access_token":"SECRET-AT","refresh_token":"SECRET-RT"}"#,
        ),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"AADSTS70008: expired","refresh_token":"SECRET-RT"}"#,
        ),
        (502, "<html>SECRET-AT</html>"),
    ];
    for (status, body) in bodies {
        let (p, _, _, _) = scripted((0..4).map(|_| Ok(response(status, &[], body))).collect());
        let e = block_on(entra::request_token(
            &p,
            "https://login.example/t/oauth2/v2.0/token",
            form,
        ))
        .unwrap_err();
        let shown = format!("{e} {e:?}");
        for secret in ["SECRET-AT", "SECRET-RT", "s3cr3t-value"] {
            assert!(
                !shown.contains(secret),
                "{secret} leaked from {body}: {shown}"
            );
        }
    }
}

fn get(p: &Pipeline) -> Result<HttpResponse, auth_core::Error> {
    block_on(p.send(|| {
        Ok(
            http::Request::get("http://169.254.169.254/metadata/identity/oauth2/token")
                .body(Vec::new())
                .unwrap(),
        )
    }))
}

/// Managed identity's rule: 404 and 410 are retried too (IMDS is still starting).
#[derive(Debug)]
struct ImdsLike;

impl RetryClassifier for ImdsLike {
    fn should_retry(&self, status: u16, _elapsed: Duration) -> bool {
        matches!(status, 404 | 410 | 429) || status >= 500
    }
}

#[test]
fn a_flow_decides_which_statuses_are_retried() {
    let answers = || {
        vec![
            Ok(response(404, &[], "")),
            Ok(response(410, &[], "")),
            Ok(response(200, &[], OK)),
        ]
    };
    let (p, count, _, _) = scripted(answers());
    assert_eq!(get(&p).unwrap().status(), 404, "404 is final by default");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let (p, count, _, _) = scripted(answers());
    let p = p.with_retry_classifier(Arc::new(ImdsLike));
    assert_eq!(get(&p).unwrap().status(), 200);
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[test]
fn the_call_timeout_bounds_the_whole_call() {
    // Never answers; each attempt's own timeout (30 s) never fires with RecordingSleep.
    let (p, _, sleep, _) = scripted(vec![]);
    let e = get(&p.with_call_timeout(Duration::from_secs(3))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.message().contains("within the call's 3 s limit"), "{e}");
    assert!(sleep.0.lock().unwrap().contains(&Duration::from_secs(3)));
    // An answer before the limit is the call's result.
    let (p, _, _, _) = scripted(vec![Ok(response(200, &[], OK))]);
    assert_eq!(
        get(&p.with_call_timeout(Duration::from_secs(3)))
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn endpoints_need_https_except_on_loopback_and_link_local_hosts() {
    for ok in [
        "https://login.microsoftonline.com/x",
        "http://127.0.0.1:8080/token",
        "http://localhost/x",
        "http://[::1]:9/x",
        "http://169.254.169.254/metadata/identity/oauth2/token",
        "http://[fe80::1]/x",
    ] {
        assert_eq!(check_endpoint_url("endpoint", ok).unwrap(), ok);
    }
    for bad in [
        "http://example.com/token",
        "http://169.255.0.1/x",
        "http://10.0.0.1/x",
        "ftp://127.0.0.1/x",
        "not a url",
    ] {
        let e = check_endpoint_url("managed identity endpoint", bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{bad}");
        assert!(e.message().contains("managed identity endpoint"), "{e}");
    }
}
