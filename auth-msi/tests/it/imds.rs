//! IMDS: probe mode off Azure and behind Docker Desktop, the retry policy (410 for a while,
//! 429 with Retry-After, 5xx), identity not found, malformed bodies.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use auth_core::ErrorKind;
use auth_msi::{
    ManagedIdentityCredential, ManagedIdentityOptions, ManagedIdentitySource, UserAssignedId,
};
use auth_testkit::{Endpoint, Fault};

use crate::common::*;

fn no_env() -> HashMap<String, String> {
    HashMap::new()
}

fn status(status: u16, retry_after: Option<u64>) -> Fault {
    Fault::Status {
        status,
        retry_after,
    }
}

#[tokio::test]
async fn off_azure_a_probe_is_unavailable_at_once() {
    let url = format!(
        "http://127.0.0.1:{}/metadata/identity/oauth2/token",
        closed_port()
    );
    let c = ManagedIdentityCredential::from_env(
        &no_env(),
        ManagedIdentityOptions::new().probe(true).imds_endpoint(url),
    )
    .unwrap();
    let started = Instant::now();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(
        e.message().contains("no response from the IMDS endpoint"),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // A failed probe is not remembered: the next call probes again, as fast.
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
}

#[tokio::test]
async fn a_silent_endpoint_is_unavailable_after_the_probe_timeout() {
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/metadata/identity/oauth2/token",
        silent.local_addr().unwrap()
    );
    let c = ManagedIdentityCredential::from_env(
        &no_env(),
        ManagedIdentityOptions::new().probe(true).imds_endpoint(url),
    )
    .unwrap();
    let started = Instant::now();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn docker_desktops_403_is_unavailable() {
    let w = start("docker").await;
    w.emu.inject(Endpoint::Imds, [status(403, None)]);
    let c = ManagedIdentityCredential::from_env(
        &no_env(),
        options(&w)
            .probe(true)
            .imds_endpoint(w.emu.imds_token_url()),
    )
    .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.message().contains("Docker Desktop"), "{e}");
    assert_eq!(w.emu.requests().len(), 1, "no retry");
}

#[tokio::test]
async fn once_imds_answered_the_full_policy_applies() {
    let w = start("probe-then-retry").await;
    let c = ManagedIdentityCredential::from_env(
        &no_env(),
        options(&w)
            .probe(true)
            .imds_endpoint(w.emu.imds_token_url()),
    )
    .unwrap();
    // The probe's answer is a 503: IMDS is there, so the request is retried in full.
    w.emu
        .inject(Endpoint::Imds, [status(503, None), status(500, None)]);
    c.get_token(&arm()).await.unwrap();
    assert_eq!(w.emu.requests().len(), 3);
    // Later requests are not probes: failures are retried.
    w.emu.clear_requests();
    w.emu.inject(
        Endpoint::Imds,
        [status(500, None), status(404, None), status(429, Some(0))],
    );
    let ml = auth_core::TokenRequest::for_resource("https://ml.azure.com").unwrap();
    c.get_token(&ml).await.unwrap();
    assert_eq!(w.emu.requests().len(), 4);
}

/// A credential on the IMDS default policy whose waits pass in fake time.
fn fake_time_credential(
    w: &World,
    id: Option<UserAssignedId>,
) -> (ManagedIdentityCredential, std::sync::Arc<FakeSleep>) {
    let sleep = FakeSleep::new(w.emu.clone());
    let mut o = ManagedIdentityOptions::new()
        .pipeline(sleep.pipeline())
        // Longer than any backoff, so the fake timer keeps it real.
        .timeout(Duration::from_secs(90));
    if let Some(id) = id {
        o = o.user_assigned(id);
    }
    let c =
        ManagedIdentityCredential::from_env(&env(&w.emu, ManagedIdentitySource::Imds), o).unwrap();
    (c, sleep)
}

#[tokio::test]
async fn imds_updating_for_20_s_then_a_token() {
    let w = start("410").await;
    w.emu.imds_status_for(410, Duration::from_secs(20));
    let (c, sleep) = fake_time_credential(&w, None);
    let started = Instant::now();
    c.get_token(&arm()).await.unwrap();
    let seen = w.emu.requests();
    assert!(seen.len() >= 4, "{} requests", seen.len());
    assert!(
        sleep.waited() >= Duration::from_secs(20),
        "{:?}",
        sleep.waited()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fake time: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn imds_410_is_retried_for_at_least_70_s_then_fails() {
    let w = start("410-long").await;
    w.emu.imds_status_for(410, Duration::from_secs(600));
    let (c, sleep) = fake_time_credential(&w, None);
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert_eq!(e.status(), Some(410));
    assert!(
        sleep.waited() >= Duration::from_secs(70),
        "{:?}",
        sleep.waited()
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let w = start("429").await;
    w.emu.inject(Endpoint::Imds, [status(429, Some(7))]);
    let (c, sleep) = fake_time_credential(&w, None);
    c.get_token(&arm()).await.unwrap();
    assert_eq!(*sleep.waits.lock().unwrap(), [Duration::from_secs(7)]);
    assert_eq!(w.emu.requests().len(), 2);
}

#[tokio::test]
async fn retry_after_really_waits() {
    let w = start("429-real").await;
    w.emu.inject(Endpoint::Imds, [status(429, Some(1))]);
    let c =
        ManagedIdentityCredential::from_env(&env(&w.emu, ManagedIdentitySource::Imds), options(&w))
            .unwrap();
    let started = Instant::now();
    c.get_token(&arm()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let w = start("5xx").await;
    // Pod identity (the test's IMDS host): no first contact, 1 + 5 retries.
    w.emu.inject(Endpoint::Imds, vec![status(500, None); 6]);
    let c =
        ManagedIdentityCredential::from_env(&env(&w.emu, ManagedIdentitySource::Imds), options(&w))
            .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert_eq!(e.status(), Some(500));
    assert!(e.to_string().contains("kept failing after retries"), "{e}");
    assert_eq!(w.emu.requests().len(), 6);
}

#[tokio::test]
async fn identity_not_found_names_the_id() {
    let w = start("400").await;
    let unknown = "0dd10000-0000-4000-8000-00000000dead";
    let c = ManagedIdentityCredential::from_env(
        &env(&w.emu, ManagedIdentitySource::Imds),
        options(&w).user_assigned(UserAssignedId::ClientId(unknown.into())),
    )
    .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert_eq!(e.status(), Some(400));
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "the user-assigned identity with client id {unknown} is not assigned"
        )),
        "{text}"
    );
    assert!(text.contains("Identity not found"), "{text}");
    assert_eq!(w.emu.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn a_malformed_body_is_a_clear_error() {
    let w = start("malformed").await;
    w.emu.inject(Endpoint::Imds, [Fault::MalformedJson]);
    let c =
        ManagedIdentityCredential::from_env(&env(&w.emu, ManagedIdentitySource::Imds), options(&w))
            .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service, "{e}");
    assert!(
        e.message()
            .contains("the IMDS endpoint answered 200 but the body is not valid JSON"),
        "{e}"
    );
    assert_eq!(e.credential(), Some(ManagedIdentityCredential::NAME));
    // The next call works.
    c.get_token(&arm()).await.unwrap();
}

#[tokio::test]
async fn off_azure_a_standalone_credential_is_unavailable_within_the_retry_budget() {
    let w = start("standalone-off-azure").await;
    let sleep = FakeSleep::new(w.emu.clone());
    let url = format!(
        "http://127.0.0.1:{}/metadata/identity/oauth2/token",
        closed_port()
    );
    let c = ManagedIdentityCredential::from_env(
        &no_env(),
        ManagedIdentityOptions::new()
            .pipeline(sleep.pipeline())
            .timeout(Duration::from_secs(90))
            .imds_endpoint(url),
    )
    .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(
        e.message()
            .contains("no response from the IMDS endpoint after retries"),
        "{e}"
    );
    let waited = sleep.waited();
    assert!(
        waited > Duration::ZERO && waited <= Duration::from_secs(30),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_standalone_first_contact_hands_a_busy_answer_to_the_full_policy() {
    let w = start("first-contact").await;
    let c = ManagedIdentityCredential::from_env(
        &no_env(),
        options(&w).imds_endpoint(w.emu.imds_token_url()),
    )
    .unwrap();
    // The first contact ends at the first answer (410); the full policy retries it.
    w.emu.inject(
        Endpoint::Imds,
        [status(410, None), status(410, None), status(500, None)],
    );
    c.get_token(&arm()).await.unwrap();
    assert_eq!(w.emu.requests().len(), 4);
}
