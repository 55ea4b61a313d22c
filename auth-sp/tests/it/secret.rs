//! Client secret: the exact form of §3.1/§3.2, tenants, clouds, TLS.

use auth_core::http::ReqwestClient;
use auth_core::http::TokioSleep;
use auth_core::{ErrorKind, Pipeline, Secret, TenantId, TokenCredential};
use auth_sp::{ClientSecretCredential, ServicePrincipalOptions};
use auth_testkit::Emulator;
use std::sync::Arc;

use crate::common::*;

#[tokio::test]
async fn secret_gets_a_token_with_exactly_the_documented_form() {
    let emu = start().await;
    let c =
        ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options(&emu)).unwrap();
    let token = c.get_token(&arm()).await.unwrap();
    let (_, claims) = jwt_parts(token.token().expose_secret());
    assert_eq!(claims["aud"], ARM);
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["appid"], CLIENT);

    let reqs = token_requests(&emu);
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert!(r.query.is_empty());
    assert_eq!(
        r.form_names(),
        ["client_id", "grant_type", "scope", "client_secret"]
    );
    assert_eq!(r.form_field("client_id"), Some(CLIENT));
    assert_eq!(r.form_field("grant_type"), Some("client_credentials"));
    assert_eq!(
        r.form_field("scope"),
        Some("https://management.core.windows.net//.default")
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.header("accept"), Some("application/json"));
    assert!(r.header("client-request-id").is_some());
    assert_secret_only_in(&emu.requests(), SECRET, "client_secret");
}

#[tokio::test]
async fn tenant_domain_and_additionally_allowed_tenants() {
    let emu = start().await;
    let c = ClientSecretCredential::new(
        "contoso.onmicrosoft.com",
        CLIENT,
        Secret::new(SECRET),
        options(&emu),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
    assert_eq!(
        token_requests(&emu)[0].path,
        "/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );

    let other = TenantId::new(TENANT_2).unwrap();
    let e = c
        .get_token(&arm().with_tenant(other.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(
        e.hint().unwrap().contains("additionally allowed tenants"),
        "{e}"
    );
    assert_eq!(
        token_requests(&emu).len(),
        1,
        "a refused tenant sends nothing"
    );

    let c = ClientSecretCredential::new(
        TENANT,
        CLIENT,
        Secret::new(SECRET),
        options(&emu)
            .additionally_allowed_tenants([TENANT_2])
            .unwrap(),
    )
    .unwrap();
    let t = c
        .get_token(&arm().with_tenant(other.clone()))
        .await
        .unwrap();
    let (_, claims) = jwt_parts(t.token().expose_secret());
    assert_eq!(claims["tid"], TENANT_2);
    let c = ClientSecretCredential::new(
        TENANT,
        CLIENT,
        Secret::new(SECRET),
        options(&emu).additionally_allowed_tenants(["*"]).unwrap(),
    )
    .unwrap();
    c.get_token(&arm().with_tenant(other)).await.unwrap();
    assert_eq!(
        token_requests(&emu).last().unwrap().path,
        format!("/{TENANT_2}/oauth2/v2.0/token")
    );
}

#[tokio::test]
async fn claims_challenge_and_cae_reach_the_service() {
    let emu = start().await;
    let c =
        ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options(&emu)).unwrap();
    let t = c.get_token(&arm().with_cae(true)).await.unwrap();
    let (_, claims) = jwt_parts(t.token().expose_secret());
    assert_eq!(claims["xms_cc"], serde_json::json!(["CP1"]));
    let reqs = token_requests(&emu);
    assert_eq!(
        reqs[0].form_field("claims"),
        Some(r#"{"access_token":{"xms_cc":{"values":["CP1"]}}}"#)
    );
    assert_eq!(
        reqs[0].form_names(),
        [
            "client_id",
            "grant_type",
            "scope",
            "claims",
            "client_secret"
        ]
    );
}

#[tokio::test]
async fn every_cloud_builds_its_token_url() {
    // The authority host of each cloud goes into the token URL (and the assertion's aud);
    // the emulator stands in for each by host override, so only the path is checked here.
    for cloud in [
        auth_core::Cloud::public(),
        auth_core::Cloud::china(),
        auth_core::Cloud::us_government(),
    ] {
        let host = cloud.authority_host().to_owned();
        let c = ClientSecretCredential::new(
            TENANT,
            CLIENT,
            Secret::new(SECRET),
            ServicePrincipalOptions::new()
                .cloud(cloud)
                .pipeline(pipeline()),
        )
        .unwrap();
        assert!(format!("{c:?}").contains(&host), "{c:?}");
    }
    let emu = start().await;
    let cloud = auth_core::Cloud::us_government()
        .with_authority_host(&emu.authority_host())
        .unwrap();
    let c = ClientSecretCredential::new(
        TENANT,
        CLIENT,
        Secret::new(SECRET),
        ServicePrincipalOptions::new()
            .cloud(cloud)
            .pipeline(pipeline()),
    )
    .unwrap();
    // The emulator knows the public cloud's resources only (it answers AADSTS500011 for
    // the US Government ARM audience), so the public ARM scope is asked for here.
    c.get_token(&arm()).await.unwrap();
    assert_eq!(
        token_requests(&emu)[0].path,
        format!("/{TENANT}/oauth2/v2.0/token")
    );
}

#[tokio::test]
async fn over_tls_with_the_emulators_ca() {
    let emu = Emulator::start_tls(setup()).await.unwrap();
    assert!(emu.authority_host().starts_with("https://"));
    let ca = emu.ca_certificate_pem().unwrap();
    let client = ReqwestClient::with_root_certificate_pem(ca.as_bytes()).unwrap();
    let pipeline = Pipeline::new(Arc::new(client), Arc::new(TokioSleep)).with_retry(fast_retry());
    let tls_options = ServicePrincipalOptions::new()
        .authority_host(&emu.authority_host())
        .unwrap()
        .pipeline(pipeline);
    let c = ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), tls_options).unwrap();
    let dyn_c: &dyn TokenCredential = &c;
    dyn_c.get_token(&arm()).await.unwrap();
    assert_eq!(dyn_c.name(), "client secret credential");
    // Without the CA the TLS failure is a transport error, not retried.
    let c =
        ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options(&emu)).unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
}

#[tokio::test]
async fn the_default_pipeline_is_the_shared_one() {
    // auth-sp's tests enable its `reqwest` feature (a dev-dependency on itself).
    let emu = start().await;
    let options = ServicePrincipalOptions::new()
        .authority_host(&emu.authority_host())
        .unwrap();
    let c = ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options).unwrap();
    c.get_token(&arm()).await.unwrap();
    assert_eq!(token_requests(&emu).len(), 1);
}
