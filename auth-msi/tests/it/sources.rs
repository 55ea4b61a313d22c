//! Each source, system- and user-assigned with every id kind it accepts: a token, and the
//! request has exactly the reference's path, api-version, parameters and headers.

use auth_core::ErrorKind;
use auth_msi::{ManagedIdentityCredential, ManagedIdentitySource, UserAssignedId};
use auth_testkit::{Endpoint, RecordedRequest};

use crate::common::*;

fn client() -> UserAssignedId {
    UserAssignedId::ClientId(USER_CLIENT.into())
}
fn object() -> UserAssignedId {
    UserAssignedId::ObjectId(USER_OBJECT.into())
}
fn resource() -> UserAssignedId {
    UserAssignedId::ResourceId(USER_RESOURCE.into())
}

/// Gets a token from `source` for `id`; returns the requests the emulator saw.
async fn token(
    w: &World,
    source: ManagedIdentitySource,
    id: Option<UserAssignedId>,
    extra_env: &[(&str, &str)],
) -> Vec<RecordedRequest> {
    w.emu.clear_requests();
    let mut env = env(&w.emu, source);
    for (k, v) in extra_env {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let mut o = options(w);
    if let Some(id) = id.clone() {
        o = o.user_assigned(id);
    }
    let c = ManagedIdentityCredential::from_env(&env, o).unwrap();
    assert_eq!(c.source(), source);
    let t = c.get_token(&arm()).await.unwrap();
    // The token is the emulator's, for the identity asked for.
    let claims = jwt_claims(t.token().expose_secret());
    let expected_oid = match (&id, source) {
        (_, ManagedIdentitySource::CloudShell) => SHELL_USER,
        (None, _) => SYSTEM_OBJECT,
        (Some(_), _) => USER_OBJECT,
    };
    assert_eq!(claims["oid"], expected_oid, "{source} {id:?}");
    assert_eq!(claims["aud"], ARM_RESOURCE);
    assert!(t.refresh_on() < t.expires_on());
    // A second call is a cache hit.
    c.get_token(&arm()).await.unwrap();
    w.emu.requests()
}

fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn query(api: &str, extra: Option<(&str, &str)>) -> Vec<(String, String)> {
    let mut q = vec![("api-version", api), ("resource", ARM_RESOURCE)];
    q.extend(extra);
    pairs(&q)
}

#[tokio::test]
async fn imds_every_id_kind() {
    let w = start("imds").await;
    for (id, selector) in [
        (None, None),
        (Some(client()), Some(("client_id", USER_CLIENT))),
        (Some(object()), Some(("object_id", USER_OBJECT))),
        (Some(resource()), Some(("msi_res_id", USER_RESOURCE))),
    ] {
        let seen = token(&w, ManagedIdentitySource::Imds, id, &[]).await;
        assert_eq!(seen.len(), 1, "one request, then the cache");
        let r = &seen[0];
        assert_eq!(r.endpoint, Some(Endpoint::Imds));
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("GET", "/metadata/identity/oauth2/token")
        );
        assert_eq!(r.query, query("2018-02-01", selector));
        assert_eq!(own_headers(r), pairs(&[("metadata", "true")]));
    }
}

#[tokio::test]
async fn app_service_every_id_kind() {
    let w = start("app").await;
    for (id, selector) in [
        (None, None),
        (Some(client()), Some(("client_id", USER_CLIENT))),
        (Some(object()), Some(("object_id", USER_OBJECT))),
        (Some(resource()), Some(("mi_res_id", USER_RESOURCE))),
    ] {
        let seen = token(&w, ManagedIdentitySource::AppService, id, &[]).await;
        assert_eq!(seen.len(), 1);
        let r = &seen[0];
        assert_eq!(r.endpoint, Some(Endpoint::AppService));
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/MSI/token"));
        assert_eq!(r.query, query("2019-08-01", selector));
        assert_eq!(
            own_headers(r),
            pairs(&[("metadata", "true"), ("x-identity-header", IDENTITY_HEADER)])
        );
    }
}

#[tokio::test]
async fn azure_arc_challenge_every_id_kind() {
    let w = start("arc").await;
    for (id, selector) in [
        (None, None),
        (Some(client()), Some(("client_id", USER_CLIENT))),
        (Some(object()), Some(("object_id", USER_OBJECT))),
        (Some(resource()), Some(("msi_res_id", USER_RESOURCE))),
    ] {
        let seen = token(&w, ManagedIdentitySource::AzureArc, id, &[]).await;
        assert_eq!(seen.len(), 2, "the challenge, then the token request");
        for r in &seen {
            assert_eq!(r.endpoint, Some(Endpoint::AzureArc));
            assert_eq!(
                (r.method.as_str(), r.path.as_str()),
                ("GET", "/metadata/identity/oauth2/token")
            );
            assert_eq!(r.query, query("2020-06-01", selector));
        }
        assert_eq!(own_headers(&seen[0]), pairs(&[("metadata", "true")]));
        let h = own_headers(&seen[1]);
        assert_eq!(h.len(), 2, "{h:?}");
        assert!(h[0].0 == "authorization" && h[0].1.starts_with("Basic ") && h[0].1.len() > 20);
        assert_eq!(h[1], ("metadata".to_owned(), "true".to_owned()));
    }
    // The emulated agent removed the key files it handed out.
    assert_eq!(std::fs::read_dir(&w.arc_dir).unwrap().count(), 0);
}

#[tokio::test]
async fn azure_ml_system_and_client_id() {
    let w = start("aml").await;
    for (id, selector) in [
        (None, None),
        (Some(client()), Some(("clientid", USER_CLIENT))),
    ] {
        let seen = token(&w, ManagedIdentitySource::AzureMl, id, &[]).await;
        assert_eq!(seen.len(), 1);
        let r = &seen[0];
        assert_eq!(r.endpoint, Some(Endpoint::AzureMl));
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/MSI/auth"));
        assert_eq!(r.query, query("2017-09-01", selector));
        assert_eq!(own_headers(r), pairs(&[("secret", MSI_SECRET)]));
    }
}

#[tokio::test]
async fn azure_ml_default_identity_client_id() {
    let w = start("aml-default").await;
    let mut env = env(&w.emu, ManagedIdentitySource::AzureMl);
    env.insert("DEFAULT_IDENTITY_CLIENT_ID".into(), USER_CLIENT.into());
    let c = ManagedIdentityCredential::from_env(&env, options(&w)).unwrap();
    let t = c.get_token(&arm()).await.unwrap();
    assert_eq!(jwt_claims(t.token().expose_secret())["oid"], USER_OBJECT);
    let r = &w.emu.requests()[0];
    assert_eq!(
        r.query,
        query("2017-09-01", Some(("clientid", USER_CLIENT)))
    );
}

#[tokio::test]
async fn azure_ml_legacy_date_expiry() {
    let w = start_with("aml-date", |s| s.azure_ml_date_expiry(true)).await;
    let env = env(&w.emu, ManagedIdentitySource::AzureMl);
    let c = ManagedIdentityCredential::from_env(&env, options(&w)).unwrap();
    let t = c.get_token(&arm()).await.unwrap();
    let left = t
        .expires_on()
        .duration_since(std::time::SystemTime::now())
        .unwrap()
        .as_secs();
    assert!((3500..=3600).contains(&left), "{left}");
}

#[tokio::test]
async fn cloud_shell_form_post() {
    let w = start("shell").await;
    let seen = token(&w, ManagedIdentitySource::CloudShell, None, &[]).await;
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.endpoint, Some(Endpoint::CloudShell));
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/oauth2/token")
    );
    assert!(r.query.is_empty());
    assert_eq!(r.form, pairs(&[("resource", ARM_RESOURCE)]));
    assert_eq!(r.body, b"resource=https%3A%2F%2Fmanagement.azure.com");
    assert_eq!(
        own_headers(r),
        pairs(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("metadata", "true")
        ])
    );
}

#[tokio::test]
async fn imds_default_authority_and_source_reason() {
    let c = ManagedIdentityCredential::from_env(
        &std::collections::HashMap::<String, String>::new(),
        auth_msi::ManagedIdentityOptions::new(),
    )
    .unwrap();
    assert_eq!(c.source(), ManagedIdentitySource::Imds);
    assert_eq!(c.source().to_string(), "IMDS");
    assert_eq!(
        c.endpoint(),
        "http://169.254.169.254/metadata/identity/oauth2/token"
    );
    assert!(
        c.source_reason().contains("no App Service"),
        "{}",
        c.source_reason()
    );
    let e = ManagedIdentityCredential::from_env(
        &std::collections::HashMap::from([(
            "IDENTITY_ENDPOINT".to_owned(),
            "http://localhost:1/".to_owned(),
        )]),
        auth_msi::ManagedIdentityOptions::new(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn service_fabric_over_tls() {
    let dir = temp_dir("sf");
    let emu = auth_testkit::Emulator::start_tls(setup(&dir))
        .await
        .unwrap();
    let ca = emu.ca_certificate_pem().unwrap();
    let transport =
        auth_core::http::ReqwestClient::with_root_certificate_pem(ca.as_bytes()).unwrap();
    let pipeline = auth_core::Pipeline::new(
        std::sync::Arc::new(transport),
        std::sync::Arc::new(auth_core::http::TokioSleep),
    );
    let env = std::collections::HashMap::from([
        ("IDENTITY_ENDPOINT".to_owned(), emu.imds_token_url()),
        ("IDENTITY_HEADER".to_owned(), emu.identity_header()),
        (
            "IDENTITY_SERVER_THUMBPRINT".to_owned(),
            "0123456789abcdef0123456789abcdef01234567".to_owned(),
        ),
    ]);
    assert!(emu.imds_token_url().starts_with("https://127.0.0.1:"));
    let c = ManagedIdentityCredential::from_env(
        &env,
        auth_msi::ManagedIdentityOptions::new().pipeline(pipeline),
    )
    .unwrap();
    assert_eq!(c.source(), ManagedIdentitySource::ServiceFabric);
    let t = c.get_token(&arm()).await.unwrap();
    assert_eq!(jwt_claims(t.token().expose_secret())["oid"], SYSTEM_OBJECT);
    let seen = emu.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.endpoint, Some(Endpoint::ServiceFabric));
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/metadata/identity/oauth2/token")
    );
    assert_eq!(r.query, query("2019-07-01-preview", None));
    assert_eq!(own_headers(r), pairs(&[("secret", IDENTITY_HEADER)]));
}

#[tokio::test]
async fn concurrent_first_requests_send_one() {
    let w = start("single-flight").await;
    let c = ManagedIdentityCredential::from_env(
        &env(&w.emu, ManagedIdentitySource::AzureMl),
        options(&w),
    )
    .unwrap();
    let request = arm();
    let calls = (0..8).map(|_| c.get_token(&request));
    let tokens: Vec<_> = futures_join(calls).await;
    assert!(tokens.iter().all(Result::is_ok));
    assert_eq!(w.emu.requests().len(), 1);
}

/// Polls every future together (no futures crate needed).
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (f, o) in pinned.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[test]
fn pod_identity_turns_the_probe_off() {
    let env = std::collections::HashMap::from([(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(),
        "http://127.0.0.1:2579/".to_owned(),
    )]);
    let c = ManagedIdentityCredential::from_env(
        &env,
        auth_msi::ManagedIdentityOptions::new().probe(true),
    )
    .unwrap();
    assert_eq!(
        c.endpoint(),
        "http://127.0.0.1:2579/metadata/identity/oauth2/token"
    );
    assert_eq!(
        format!("{c:?}"),
        r#"ManagedIdentityCredential { source: Imds, endpoint: "http://127.0.0.1:2579/metadata/identity/oauth2/token", user_assigned_id: None, probe: false, .. }"#
    );
    let c = ManagedIdentityCredential::from_env(
        &std::collections::HashMap::<String, String>::new(),
        auth_msi::ManagedIdentityOptions::new().probe(true),
    )
    .unwrap();
    assert!(format!("{c:?}").contains("probe: true"));
}

/// SHA-1 of the emulator's server certificate, as `IDENTITY_SERVER_THUMBPRINT` carries it.
fn thumbprint(pem: &str) -> String {
    use base64::Engine as _;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}:"))
        .collect::<String>()
        .trim_end_matches(':')
        .to_owned()
}

#[tokio::test]
async fn service_fabric_pins_the_cluster_certificate() {
    let dir = temp_dir("sf-pinned");
    let emu = auth_testkit::Emulator::start_tls(setup(&dir))
        .await
        .unwrap();
    let pin = thumbprint(&emu.server_certificate_pem().unwrap());
    let env = |thumb: &str| {
        std::collections::HashMap::from([
            ("IDENTITY_ENDPOINT".to_owned(), emu.imds_token_url()),
            ("IDENTITY_HEADER".to_owned(), emu.identity_header()),
            ("IDENTITY_SERVER_THUMBPRINT".to_owned(), thumb.to_owned()),
        ])
    };
    // No pipeline given: the pinned transport, which trusts no CA, only the thumbprint.
    let c =
        ManagedIdentityCredential::from_env(&env(&pin), auth_msi::ManagedIdentityOptions::new())
            .unwrap();
    let t = c.get_token(&arm()).await.unwrap();
    assert_eq!(jwt_claims(t.token().expose_secret())["oid"], SYSTEM_OBJECT);
    // Another thumbprint: the TLS handshake fails and nothing is sent.
    emu.clear_requests();
    let wrong = "00".repeat(20);
    let c =
        ManagedIdentityCredential::from_env(&env(&wrong), auth_msi::ManagedIdentityOptions::new())
            .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(e.to_string().contains("TLS"), "{e}");
    assert!(emu.requests().is_empty());
}
