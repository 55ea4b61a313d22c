//! Throttling, outages, hangs and bad bodies: retried within the policy, or a clear error.

use std::time::{Duration, Instant};

use auth_core::http::RetryPolicy;
use auth_core::{Error, ErrorKind, Secret};
use auth_sp::ClientSecretCredential;
use auth_testkit::{Emulator, Endpoint, Fault};

use crate::common::*;

async fn with_faults(
    faults: Vec<Fault>,
    configure: impl FnOnce(auth_core::Pipeline) -> auth_core::Pipeline,
) -> (Result<auth_core::AccessToken, Error>, usize, Duration) {
    let emu = start().await;
    emu.inject(Endpoint::Token, faults);
    let options = options(&emu).pipeline(configure(pipeline()));
    let c = ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options).unwrap();
    let started = Instant::now();
    let result = c.get_token(&arm()).await;
    let elapsed = started.elapsed();
    if let Err(e) = &result {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert_eq!(e.credential(), Some(ClientSecretCredential::NAME), "{e}");
    }
    (result, token_requests(&emu).len(), elapsed)
}

fn status(status: u16, retry_after: Option<u64>) -> Fault {
    Fault::Status {
        status,
        retry_after,
    }
}

#[tokio::test]
async fn throttling_and_outages_are_retried_within_the_policy() {
    // 429 with Retry-After: 1 is waited for, then the token comes.
    let (r, n, elapsed) = with_faults(vec![status(429, Some(1))], |p| p).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(n, 2);
    assert!(
        elapsed >= Duration::from_millis(950),
        "Retry-After honoured: {elapsed:?}"
    );

    // 5xx with and without Retry-After.
    let (r, n, _) = with_faults(
        vec![status(503, Some(0)), status(500, None), status(502, None)],
        |p| p,
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(n, 4);

    // More failures than retries: a service error after 1 + 3 attempts.
    let (r, n, _) = with_faults(vec![status(500, None); 4], |p| p).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert_eq!(e.status(), Some(500));
    assert!(e.hint().unwrap().contains("retry later"), "{e}");
    assert_eq!(n, 4);

    // A Retry-After beyond the policy's longest wait is not waited for.
    let (r, n, elapsed) = with_faults(vec![status(429, Some(30))], |p| p).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert_eq!(e.status(), Some(429));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(n, 1);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn a_hanging_endpoint_fails_at_the_timeout() {
    let short = |p: auth_core::Pipeline| {
        p.with_timeout(Duration::from_millis(300))
            .with_retry(RetryPolicy::none())
    };
    let (r, n, elapsed) = with_faults(vec![Fault::Delay(Duration::from_secs(5))], short).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.hint().unwrap().contains("timeout"), "{e}");
    assert_eq!(n, 1);
    assert!(
        elapsed >= Duration::from_millis(290) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );

    // With retries, a hang once is retried and the token comes.
    let retried = |p: auth_core::Pipeline| p.with_timeout(Duration::from_millis(300));
    let (r, n, _) = with_faults(vec![Fault::Delay(Duration::from_secs(5))], retried).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(n, 2);
}

#[tokio::test]
async fn bad_bodies_are_clear_errors() {
    let (r, _, _) = with_faults(vec![Fault::MalformedJson], |p| p).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert!(
        e.message().contains("not JSON") || e.message().contains("truncated JSON"),
        "{e}"
    );

    let (r, _, _) = with_faults(vec![Fault::TruncatedBody; 4], |p| p).await;
    let e = r.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Transport | ErrorKind::Service),
        "{e}"
    );
    assert!(
        e.message().contains("error reading a body")
            && e.message().contains("end of file before message length"),
        "{e}"
    );

    let (r, n, _) = with_faults(vec![Fault::OversizedBody(2 * 1024 * 1024)], |p| p).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert!(
        e.message().contains("too large") || e.message().contains("limit"),
        "{e}"
    );
    assert_eq!(n, 1);

    let (r, n, _) = with_faults(vec![Fault::HtmlErrorPage; 4], |p| p).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert!(e.message().contains("not an Entra error (text/html"), "{e}");
    assert_eq!(n, 4);

    let (r, n, _) = with_faults(vec![Fault::ConnectionReset; 4], |p| p).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert_eq!(n, 4);

    let (r, n, _) = with_faults(vec![Fault::ConnectionReset], |p| p).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_certificate_retry_signs_a_fresh_assertion_near_expiry() {
    // The first attempt is throttled; its assertion is far from expiry, so the retry reuses it.
    let emu: Emulator = start().await;
    emu.inject(Endpoint::Token, [status(503, Some(0))]);
    let c = auth_sp::ClientCertificateCredential::from_file(
        TENANT,
        CLIENT,
        fixture_path("combined.pem"),
        None,
        options(&emu),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
    let reqs = token_requests(&emu);
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].form_field("client_assertion"),
        reqs[1].form_field("client_assertion")
    );
}
