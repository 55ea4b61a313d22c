//! The device code flow: approved, declined, expired; the request and polls as MSAL sends them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::ErrorKind;
use auth_interactive::{DeviceCodeCredential, DeviceCodeInfo};
use auth_testkit::{Emulator, Endpoint};

use crate::common::*;

fn credential(
    e: &Arc<Emulator>,
    on_code: impl Fn(&Emulator, &DeviceCodeInfo) + Send + Sync + 'static,
) -> (DeviceCodeCredential, Arc<Mutex<Vec<DeviceCodeInfo>>>) {
    let shown = Arc::new(Mutex::new(Vec::new()));
    let (s, e2) = (shown.clone(), e.clone());
    let c = DeviceCodeCredential::new(
        options(e, Arc::new(NoBrowser))
            .tenant_id(TENANT)
            .unwrap()
            .device_code_prompt(move |info| {
                s.lock().unwrap().push(info.clone());
                on_code(&e2, info);
            }),
    )
    .unwrap();
    (c, shown)
}

#[tokio::test]
async fn approved_after_a_few_polls() {
    let e = start().await;
    // The user approves a moment later, while the credential polls.
    let (c, shown) = credential(&e, |_, _| {});
    let e2 = e.clone();
    let s2 = shown.clone();
    let approver = tokio::spawn(async move {
        loop {
            let code = s2.lock().unwrap().first().map(|i| i.user_code.clone());
            if let Some(code) = code {
                tokio::time::sleep(Duration::from_millis(300)).await;
                assert!(e2.approve_device_code(&code, USER));
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let t = c.get_token(&arm()).await.unwrap();
    approver.await.unwrap();
    assert_eq!(claims(t.token().expose_secret())["oid"], USER_OID);
    let info = shown.lock().unwrap()[0].clone();
    assert!(info.message.contains(&info.user_code));
    assert!(info.verification_uri.ends_with("/devicelogin"));
    assert_eq!(info.expires_in, Duration::from_secs(900));
    let dc = e.requests_to(Endpoint::DeviceCode);
    assert_eq!(dc.len(), 1);
    let names: Vec<&str> = dc[0].form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["client_id", "scope"]);
    let polls = e.requests_to(Endpoint::Token);
    assert!(polls.len() >= 2, "pending at least once: {}", polls.len());
    let names: Vec<&str> = polls[0].form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "grant_type",
            "client_info",
            "code",
            "device_code"
        ]
    );
    // Then silent.
    c.get_token(&ml()).await.unwrap();
    assert_eq!(e.requests_to(Endpoint::DeviceCode).len(), 1);
}

#[tokio::test]
async fn declined() {
    let e = start().await;
    let (c, _) = credential(&e, |e, info| {
        assert!(e.decline_device_code(&info.user_code))
    });
    let err = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(err.to_string().contains("declined by the user"), "{err}");
    assert!(
        err.to_string().starts_with("device code credential: "),
        "{err}"
    );
}

#[tokio::test]
async fn expired() {
    let e = start().await;
    let (c, _) = credential(&e, |e, _| e.advance_clock(Duration::from_secs(901)));
    let err = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("device code expired"), "{err}");
    assert_eq!(
        e.requests_to(Endpoint::Token).len(),
        1,
        "stops at expired_token"
    );
}

/// Records the waits and returns at once.
#[derive(Debug, Default)]
struct RecordingSleep(Mutex<Vec<Duration>>);

impl auth_core::http::Sleep for RecordingSleep {
    fn sleep(
        &self,
        duration: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
        self.0.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

#[tokio::test]
async fn slow_down_adds_five_seconds_for_good() {
    use auth_core::http::{HttpRequest, HttpResponse, TransportError};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let polls = Arc::new(AtomicUsize::new(0));
    let p2 = polls.clone();
    let entra = move |request: HttpRequest| {
        let polls = p2.clone();
        async move {
            let err = |e: &str| {
                let body = serde_json::json!({"error": e, "error_description": format!("AADSTS70016: {e}"), "error_codes": [70016]}).to_string();
                http::Response::builder()
                    .status(400)
                    .body(body.into_bytes())
                    .unwrap()
            };
            let resp = if request.uri().path().ends_with("/devicecode") {
                http::Response::new(serde_json::json!({"device_code": "dc", "user_code": "UC", "verification_uri": "https://example/devicelogin", "expires_in": "900", "interval": "1", "message": "go"}).to_string().into_bytes())
            } else {
                match polls.fetch_add(1, Ordering::SeqCst) {
                    0 => err("slow_down"),
                    1 => err("authorization_pending"),
                    _ => http::Response::new(br#"{"token_type":"Bearer","expires_in":3600,"access_token":"at","refresh_token":"rt","client_info":"eyJ1aWQiOiJ1IiwidXRpZCI6InQifQ"}"#.to_vec()),
                }
            };
            Ok::<HttpResponse, TransportError>(resp)
        }
    };
    let sleep = Arc::new(RecordingSleep::default());
    let pipeline = auth_core::Pipeline::new(Arc::new(entra), sleep.clone());
    let c = DeviceCodeCredential::new(
        auth_interactive::InteractiveOptions::new()
            .pipeline(pipeline)
            .device_code_prompt(|_| {}),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    // The sleeper also times requests (30 s) and the cache's load (180 s): keep the polls' waits.
    let waits: Vec<Duration> = sleep
        .0
        .lock()
        .unwrap()
        .iter()
        .copied()
        .filter(|d| *d < Duration::from_secs(30))
        .collect();
    assert_eq!(
        waits,
        [
            Duration::from_secs(1),
            Duration::from_secs(6),
            Duration::from_secs(6)
        ],
        "interval, then +5 s for good"
    );
}
