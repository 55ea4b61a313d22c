//! No secret leaks: Debug of credentials and options, errors, and every log line are free of
//! `MSI_SECRET`, `IDENTITY_HEADER`, the Arc key and the tokens.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use auth_msi::{ManagedIdentityCredential, ManagedIdentitySource};
use auth_testkit::{Endpoint, Fault};

use crate::common::*;

/// A subscriber that keeps every event and span field as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(&mut self.0.lock().unwrap()));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap();
        out.push('\n');
        event.record(&mut Fields(&mut out));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn nothing_secret_is_ever_shown() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let w = start("leaks").await;
    let mut secrets = vec![MSI_SECRET.to_owned(), IDENTITY_HEADER.to_owned()];
    let mut shown = String::new();
    for source in [
        ManagedIdentitySource::Imds,
        ManagedIdentitySource::AppService,
        ManagedIdentitySource::AzureArc,
        ManagedIdentitySource::AzureMl,
        ManagedIdentitySource::CloudShell,
    ] {
        let c = ManagedIdentityCredential::from_env(&env(&w.emu, source), options(&w)).unwrap();
        let t = c.get_token(&arm()).await.unwrap();
        secrets.push(t.token().expose_secret().to_owned());
        let _ = write!(shown, "{c:?} {:?} {t:?}", options(&w));
        // A failure after a refused request.
        w.emu.inject(
            Endpoint::Any,
            [Fault::Status {
                status: 401,
                retry_after: None,
            }],
        );
        let other = auth_core::TokenRequest::for_resource("https://ml.azure.com").unwrap();
        if let Err(e) = c.get_token(&other).await {
            let _ = write!(shown, " {e} {e:?}");
        }
        w.emu.clear_faults();
    }
    // The Arc key, as the emulated agent received it.
    for r in w.emu.requests() {
        if let Some(a) = r.header("authorization") {
            secrets.push(a.trim_start_matches("Basic ").to_owned());
        }
        let _ = write!(shown, " {r:?} {r}");
    }
    assert!(secrets.len() > 7);
    let logs = capture.0.lock().unwrap().clone();
    assert!(logs.contains("managed identity source chosen"), "{logs}");
    assert!(logs.contains("source=App Service"), "{logs}");
    for s in &secrets {
        assert!(
            !shown.contains(s.as_str()),
            "a secret in Debug/Display: {shown}"
        );
        assert!(!logs.contains(s.as_str()), "a secret in the logs: {logs}");
    }
}
