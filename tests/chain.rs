//! The default chain (`ChainedCredential::from_env`) against the emulator and the stand-in
//! `az`: the environment's service principal, then the managed identity, then the Azure CLI
//! session; the first that applies gets the token, a real failure stops the chain.
#![allow(
    clippy::disallowed_methods,
    reason = "tests may use the real clock and the network"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_testkit::az::{AzStandIn, stand_in_binary};
use auth_testkit::{Emulator, Endpoint, ManagedIdentity, Setup, sample};
use azureml_auth::azure_cli::AzureCliCredential;
use azureml_auth::managed_identity::{ManagedIdentityCredential, ManagedIdentityOptions};
use azureml_auth::service_principal::{ClientSecretCredential, EnvironmentCredential};
use azureml_auth::{ChainedCredential, DefaultChainOptions, ErrorKind, TokenRequest};

const MI_CLIENT: &str = "5y57e000-0000-4000-8000-00000000c001";
const MI_OBJECT: &str = "5y57e000-0000-4000-8000-00000000o001";

/// An IMDS URL where nothing listens (this is not an Azure VM): port 9 (discard) is outside
/// the ephemeral range the emulators bind, so never taken.
const NO_IMDS: &str = "http://127.0.0.1:9/metadata/identity/oauth2/token";

struct World {
    emu: Emulator,
    az: AzStandIn,
}

async fn world() -> World {
    let emu = Emulator::start(
        Setup::sample().system_identity(ManagedIdentity::new(MI_CLIENT, MI_OBJECT, "")),
    )
    .await
    .unwrap();
    let az = AzStandIn::install(&emu, &stand_in_binary()).unwrap();
    World { emu, az }
}

impl World {
    /// The chain over `vars`, with the stand-in az alone on PATH.
    fn chain(&self, vars: &[(&str, String)]) -> ChainedCredential {
        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        env.insert("PATH".to_owned(), self.az.dir().display().to_string());
        let mut options = DefaultChainOptions::default();
        options.managed_identity = ManagedIdentityOptions::new().imds_endpoint(NO_IMDS);
        ChainedCredential::from_env(Arc::new(env), options).unwrap()
    }

    fn service_principal(&self, secret: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_TENANT_ID", sample::TENANT_ID.to_owned()),
            ("AZURE_CLIENT_ID", sample::CLIENT_ID.to_owned()),
            ("AZURE_CLIENT_SECRET", secret.to_owned()),
            ("AZURE_AUTHORITY_HOST", self.emu.authority_host()),
        ]
    }

    fn app_service(&self) -> Vec<(&'static str, String)> {
        vec![
            ("IDENTITY_ENDPOINT", self.emu.app_service_endpoint()),
            ("IDENTITY_HEADER", self.emu.identity_header()),
        ]
    }
}

fn ml() -> TokenRequest {
    TokenRequest::for_resource("https://ml.azure.com").unwrap()
}

#[tokio::test]
async fn the_order_is_service_principal_managed_identity_azure_cli() {
    let w = world().await;
    let chain = w.chain(&[]);
    assert_eq!(
        chain.names(),
        [
            EnvironmentCredential::NAME,
            ManagedIdentityCredential::NAME,
            AzureCliCredential::NAME
        ]
    );
    assert!(chain.chosen().is_none());
}

#[tokio::test]
async fn a_service_principal_in_the_environment_wins_over_the_others() {
    let w = world().await;
    let mut vars = w.service_principal(sample::CLIENT_SECRET);
    vars.extend(w.app_service());
    let chain = w.chain(&vars);
    chain.get_token(&ml()).await.unwrap();
    assert_eq!(chain.chosen().unwrap().name(), EnvironmentCredential::NAME);
    assert_eq!(w.emu.requests_to(Endpoint::Token).len(), 1);
    assert!(w.emu.requests_to(Endpoint::AppService).is_empty());
    assert!(w.az.runs().is_empty(), "az was not run");
}

#[tokio::test]
async fn on_an_azure_host_the_managed_identity_answers() {
    let w = world().await;
    let chain = w.chain(&w.app_service());
    chain.get_token(&ml()).await.unwrap();
    assert_eq!(
        chain.chosen().unwrap().name(),
        ManagedIdentityCredential::NAME
    );
    assert_eq!(w.emu.requests_to(Endpoint::AppService).len(), 1);
    assert!(w.az.runs().is_empty(), "az was not run");
}

#[tokio::test]
async fn off_azure_with_nothing_configured_the_az_session_answers_at_once() {
    let w = world().await;
    let chain = w.chain(&[]);
    let started = Instant::now();
    chain.get_token(&ml()).await.unwrap();
    // The managed identity probe finds no IMDS and passes on; az answers.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(chain.chosen().unwrap().name(), AzureCliCredential::NAME);
    assert_eq!(w.az.runs().len(), 1);
    // Remembered: the next scope goes to az directly (one more run, no probe).
    chain
        .get_token(&TokenRequest::for_resource("https://management.azure.com/").unwrap())
        .await
        .unwrap();
    assert_eq!(w.az.runs().len(), 2);
}

#[tokio::test]
async fn when_nothing_applies_the_error_lists_each_reason() {
    let mut w = world().await;
    w.az.set_mode(auth_testkit::az::AzMode::NotLoggedIn)
        .unwrap();
    let chain = w.chain(&[]);
    let e = chain.get_token(&ml()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let reasons: Vec<_> = e.attempts().iter().map(|a| a.credential()).collect();
    assert_eq!(
        reasons,
        [
            Some(EnvironmentCredential::NAME),
            Some(ManagedIdentityCredential::NAME),
            Some(AzureCliCredential::NAME)
        ]
    );
    assert_eq!(e.attempts()[2].hint(), Some("run `az login`"), "{e}");
}

#[tokio::test]
async fn a_wrong_secret_stops_the_chain_instead_of_trying_another_identity() {
    let w = world().await;
    let chain = w.chain(&w.service_principal("not-the-secret"));
    let e = chain.get_token(&ml()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(e.credential(), Some(ClientSecretCredential::NAME));
    assert!(w.emu.requests_to(Endpoint::AppService).is_empty());
    assert!(w.az.runs().is_empty(), "az was not run");
    assert!(!e.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn an_incomplete_managed_identity_source_is_passed_over() {
    // IDENTITY_ENDPOINT without IDENTITY_HEADER or IMDS_ENDPOINT is no source at all.
    let w = world().await;
    let chain = w.chain(&[("IDENTITY_ENDPOINT", w.emu.app_service_endpoint())]);
    chain.get_token(&ml()).await.unwrap();
    assert_eq!(chain.chosen().unwrap().name(), AzureCliCredential::NAME);
}
