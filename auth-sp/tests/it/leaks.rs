//! No secret leaks: Debug/Display of every credential and option type, of every error from a
//! response or a bad configuration, and every log line, are free of secrets, keys, assertions
//! and tokens; the emulator saw each secret only in its own field.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use auth_core::{Secret, TokenCredential};
use auth_sp::{
    ClientAssertionCredential, ClientCertificate, ClientCertificateCredential,
    ClientSecretCredential, EnvironmentCredential, ServicePrincipalCredential,
};
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
        let mut out = self.0.lock().unwrap();
        span.record(&mut Fields(&mut out));
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

#[tokio::test]
async fn nothing_secret_is_ever_shown() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let emu = start().await;
    let key_line = String::from_utf8(fixture("key.pem"))
        .unwrap()
        .lines()
        .nth(3)
        .unwrap()
        .to_owned();
    let mut shown = String::new();
    let mut secrets = vec![SECRET.to_owned(), PASSWORD.to_owned(), key_line];

    // Credentials of every kind, working.
    let secret =
        ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options(&emu)).unwrap();
    let cert = ClientCertificateCredential::from_file(
        TENANT,
        CLIENT,
        fixture_path("combined-encrypted.pem"),
        Some(&Secret::new(PASSWORD)),
        options(&emu).send_certificate_chain(true),
    )
    .unwrap();
    let fed_token = federated_token(SUBJECT);
    let token_for_callback = fed_token.clone();
    let fed = ClientAssertionCredential::from_callback(
        TENANT,
        CLIENT,
        move || Ok(Secret::new(token_for_callback.clone())),
        options(&emu),
    )
    .unwrap();
    secrets.push(fed_token.clone());
    let creds: [&dyn TokenCredential; 3] = [&secret, &cert, &fed];
    for c in creds {
        let t = c.get_token(&arm()).await.unwrap();
        secrets.push(t.token().expose_secret().to_owned());
        let _ = write!(shown, "{c:?} {c:#?} {t:?}");
    }
    let reqs = token_requests(&emu);
    assert_secret_only_in(&reqs[..1], SECRET, "client_secret");
    let assertion = reqs[1].form_field("client_assertion").unwrap().to_owned();
    assert_secret_only_in(&reqs[1..2], &assertion, "client_assertion");
    assert_secret_only_in(&reqs[2..3], &fed_token, "client_assertion");
    secrets.push(assertion);
    let _ = write!(
        shown,
        "{:?}",
        ClientCertificate::from_file(fixture_path("cert.p12"), Some(&Secret::new(PASSWORD)))
            .unwrap()
    );
    let _ = write!(shown, "{:?}", options(&emu));

    // Errors from responses: refusals, throttling, bad bodies.
    let wrong = ClientSecretCredential::new(
        TENANT,
        CLIENT,
        Secret::new(format!("{SECRET}-wrong")),
        options(&emu),
    )
    .unwrap();
    secrets.push(format!("{SECRET}-wrong"));
    let faults = [
        vec![],
        vec![Fault::Status {
            status: 429,
            retry_after: Some(30),
        }],
        vec![Fault::MalformedJson],
        vec![Fault::HtmlErrorPage; 4],
        vec![Fault::OversizedBody(2 << 20)],
        vec![Fault::TruncatedBody; 4],
    ];
    for f in faults {
        emu.inject(Endpoint::Token, f);
        let e = wrong.get_token(&arm().with_claims("{}")).await.unwrap_err();
        let _ = write!(shown, "\n{e} {e:?}");
        emu.clear_faults();
    }
    // Errors from configuration.
    let env: HashMap<String, String> = [
        ("AZURE_CLIENT_SECRET", SECRET),
        ("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let e = ServicePrincipalCredential::from_env(&env, options(&emu)).unwrap_err();
    let _ = write!(
        shown,
        "\n{e} {e:?} {:?}",
        EnvironmentCredential::from_env(&env, options(&emu))
    );
    let e =
        ClientCertificate::from_file(fixture_path("cert.p12"), Some(&Secret::new("n0t-the-pass")))
            .unwrap_err();
    let _ = write!(shown, "\n{e} {e:?}");
    secrets.push("n0t-the-pass".into());

    let logs = capture.0.lock().unwrap().clone();
    assert!(
        logs.contains("requesting a token"),
        "logs were captured: {logs}"
    );
    for s in &secrets {
        assert!(
            !shown.contains(s.as_str()),
            "shown text contains a secret: {s}\n{shown}"
        );
        assert!(!logs.contains(s.as_str()), "logs contain a secret: {s}");
    }
    assert!(
        shown.contains("AADSTS7000215")
            && shown.contains("4836FA6D9E0D1A7078DE009B55E24BA04BBE31FB")
    );
}
