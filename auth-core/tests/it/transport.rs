//! The reqwest transport against the emulator over real HTTPS on 127.0.0.1.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::{Pipeline, ReqwestClient, Sleep, TokioSleep};
use auth_core::{ErrorKind, Secret, entra};
use auth_testkit::{Emulator, Setup, sample};

/// Tokio's timer, recording every wait it is asked for.
#[derive(Debug, Default)]
struct CountingSleep(Mutex<Vec<Duration>>);

impl Sleep for CountingSleep {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.0.lock().unwrap().push(d);
        TokioSleep.sleep(d)
    }
}

fn form() -> Result<entra::Form, auth_core::Error> {
    Ok(entra::Form::new()
        .field("client_id", sample::CLIENT_ID)
        .field("grant_type", "client_credentials")
        .field("client_info", "1")
        .secret("client_secret", &Secret::new(sample::CLIENT_SECRET))
        .field("scope", "https://management.core.windows.net//.default"))
}

#[tokio::test]
async fn an_untrusted_certificate_fails_at_once_without_retries() {
    let emu = Emulator::start_tls(Setup::sample()).await.unwrap();
    let sleep = Arc::new(CountingSleep::default());
    // The platform roots do not include the emulator's CA.
    let pipeline = Pipeline::new(Arc::new(ReqwestClient::new()), sleep.clone());
    let err = entra::request_token(&pipeline, &emu.token_url(sample::TENANT_ID), form)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.to_string().contains("TLS"), "{err}");
    assert!(err.to_string().contains("not retried"), "{err}");
    let backoffs = sleep
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|d| **d != auth_core::http::DEFAULT_REQUEST_TIMEOUT)
        .count();
    assert_eq!(backoffs, 0, "a TLS failure is never retried");
    assert!(
        emu.requests().is_empty(),
        "no request got through the handshake"
    );
}

#[tokio::test]
async fn a_trusted_emulator_ca_gets_a_token_over_https() {
    let emu = Emulator::start_tls(Setup::sample()).await.unwrap();
    let ca = emu.ca_certificate_pem().unwrap();
    let client = ReqwestClient::with_root_certificate_pem(ca.as_bytes()).unwrap();
    let pipeline = Pipeline::new(Arc::new(client), Arc::new(TokioSleep));
    let r = entra::request_token(&pipeline, &emu.token_url(sample::TENANT_ID), form)
        .await
        .unwrap();
    assert!(!r.access_token.token().expose_secret().is_empty());
    let recorded = emu.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        recorded[0].form_field("client_secret"),
        Some(sample::CLIENT_SECRET)
    );
    assert!(
        !format!("{:?}", recorded[0]).contains(sample::CLIENT_SECRET),
        "recordings redact secrets"
    );
}

#[tokio::test]
async fn an_oversized_or_truncated_body_is_a_clear_error() {
    let emu = Emulator::start(Setup::sample()).await.unwrap();
    let pipeline = Pipeline::new(Arc::new(ReqwestClient::new()), Arc::new(TokioSleep))
        .with_max_response_bytes(4096);
    emu.inject(
        auth_testkit::Endpoint::Token,
        [auth_testkit::Fault::OversizedBody(64 * 1024)],
    );
    let err = entra::request_token(&pipeline, &emu.token_url(sample::TENANT_ID), form)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service, "{err}");
    assert!(
        err.to_string().contains("too large") || err.to_string().contains("larger than"),
        "{err}"
    );
    // A body cut short by a dropped connection is a transport failure: retried, then clear.
    let fast = pipeline.clone().with_retry(auth_core::http::RetryPolicy {
        initial_delay: Duration::from_millis(5),
        ..Default::default()
    });
    emu.clear_requests();
    emu.inject(
        auth_testkit::Endpoint::Token,
        [auth_testkit::Fault::TruncatedBody],
    );
    entra::request_token(&fast, &emu.token_url(sample::TENANT_ID), form)
        .await
        .unwrap();
    assert_eq!(emu.requests().len(), 2, "one truncated answer, one retry");
    emu.inject(
        auth_testkit::Endpoint::Token,
        std::iter::repeat_n(auth_testkit::Fault::TruncatedBody, 4),
    );
    let err = entra::request_token(&fast, &emu.token_url(sample::TENANT_ID), form)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Service | ErrorKind::Transport),
        "{err}"
    );
    assert!(err.to_string().contains("after 4 attempts"), "{err}");
}
