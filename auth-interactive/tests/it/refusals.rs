//! Refusals and secrets: a token for another tenant is refused, and no token reaches Debug or
//! an error.

use std::sync::Arc;

use auth_core::http::{HttpRequest, HttpResponse, TokioSleep, TransportError};
use auth_core::{ErrorKind, Pipeline};
use auth_interactive::{
    DeviceCodeCredential, InteractiveBrowserCredential, InteractiveOptions, PersistentCache,
};
use base64::Engine as _;

use crate::common::*;

fn jwt(claims: serde_json::Value) -> String {
    let e = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.sig",
        e(br#"{"alg":"none"}"#),
        e(claims.to_string().as_bytes())
    )
}

/// A fake Entra answering the device code request and the first poll with a token of tenant
/// `tid`.
fn fake(tid: &'static str) -> Pipeline {
    let entra = move |request: HttpRequest| async move {
        let body = if request.uri().path().ends_with("/devicecode") {
            serde_json::json!({"device_code": "DC-secret-device-code", "user_code": "ABCD", "verification_uri": "https://example/devicelogin", "expires_in": 900, "interval": 0, "message": "enter ABCD"}).to_string()
        } else {
            let ci = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!(r#"{{"uid":"u1","utid":"{tid}"}}"#));
            serde_json::json!({"token_type": "Bearer", "expires_in": 3600, "access_token": jwt(serde_json::json!({"tid": tid})), "refresh_token": "RT-very-secret-refresh", "client_info": ci}).to_string()
        };
        Ok::<HttpResponse, TransportError>(http::Response::new(body.into_bytes()))
    };
    Pipeline::new(Arc::new(entra), Arc::new(TokioSleep))
}

#[tokio::test]
async fn a_token_of_another_tenant_is_refused() {
    let c = DeviceCodeCredential::new(
        InteractiveOptions::new()
            .tenant_id(TENANT)
            .unwrap()
            .pipeline(fake(TENANT_2))
            .device_code_prompt(|_| {}),
    )
    .unwrap();
    let err = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(
        err.to_string().contains(&format!(
            "issued a token for tenant {TENANT_2}, not for the requested tenant {TENANT}"
        )),
        "{err}"
    );
    assert!(c.account().await.unwrap().is_none(), "nothing is stored");
    // The right tenant passes.
    let c = DeviceCodeCredential::new(
        InteractiveOptions::new()
            .tenant_id(TENANT)
            .unwrap()
            .pipeline(fake(TENANT))
            .device_code_prompt(|_| {}),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
}

#[tokio::test]
async fn secrets_stay_out_of_debug_errors_and_other_peoples_reach() {
    let dir = temp_dir("leaks");
    let cache = PersistentCache::new(dir.join("cache.json"));
    let c = DeviceCodeCredential::new(
        InteractiveOptions::new()
            .tenant_id(TENANT)
            .unwrap()
            .pipeline(fake(TENANT))
            .persistent_cache(cache.clone())
            .device_code_prompt(|_| {}),
    )
    .unwrap();
    let t = c.get_token(&arm()).await.unwrap();
    let at = t.token().expose_secret().to_owned();
    let file = std::fs::read_to_string(cache.path()).unwrap();
    assert!(
        file.contains("RT-very-secret-refresh"),
        "the refresh token is in the cache file"
    );
    assert!(!file.contains("DC-secret-device-code"));
    assert!(!file.contains(&at), "access tokens are not persisted");
    let texts = [
        format!("{c:?}"),
        format!("{t:?}"),
        format!("{:?}", c.account().await.unwrap()),
        format!("{:?}", cache.accounts().unwrap()),
        format!("{cache:?}"),
    ];
    for text in &texts {
        for secret in [
            "RT-very-secret-refresh",
            "DC-secret-device-code",
            at.as_str(),
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
        }
    }
    // A browser credential's Debug names who signs in, nothing else.
    let b = InteractiveBrowserCredential::new(InteractiveOptions::new().pipeline(fake(TENANT)))
        .unwrap();
    assert_eq!(
        format!("{b:?}"),
        r#"InteractiveBrowserCredential { tenant_id: "organizations", client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", authority_host: "https://login.microsoftonline.com", cache: None, .. }"#
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Records every event and span field as text.
#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<String>>);

struct Fields(Arc<std::sync::Mutex<String>>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .lock()
            .unwrap()
            .push_str(&format!("{}={value:?}\n", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(self.0.clone()));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(self.0.clone()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        event.record(&mut Fields(self.0.clone()));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let dir = temp_dir("logs");
    let cache = PersistentCache::new(dir.join("cache.json"));
    let options = || {
        InteractiveOptions::new()
            .tenant_id(TENANT)
            .unwrap()
            .pipeline(fake(TENANT))
            .persistent_cache(cache.clone())
            .device_code_prompt(|_| {})
    };
    let t = DeviceCodeCredential::new(options())
        .unwrap()
        .get_token(&arm())
        .await
        .unwrap();
    // A second credential refreshes from the file.
    let t2 = DeviceCodeCredential::new(options())
        .unwrap()
        .get_token(&ml())
        .await
        .unwrap();
    // A damaged cache is logged (and ignored).
    std::fs::write(cache.path(), b"AMLAUTH-CACHE 1 00\n{}").unwrap();
    let _ = DeviceCodeCredential::new(options())
        .unwrap()
        .get_token(&ml())
        .await;
    let logs = capture.0.lock().unwrap().clone();
    assert!(logs.contains("refreshing a user token"), "{logs}");
    assert!(
        logs.contains("ignoring the persistent token cache"),
        "{logs}"
    );
    for secret in [
        "RT-very-secret-refresh",
        "DC-secret-device-code",
        t.token().expose_secret(),
        t2.token().expose_secret(),
    ] {
        assert!(!logs.contains(secret), "{logs}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
