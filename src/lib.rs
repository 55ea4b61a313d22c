//! Authenticate to Azure Machine Learning from Rust, the way Azure ML Python SDK v1 does.
//!
//! This is the facade of the azureml-auth workspace: it re-exports the member crates, each
//! behind a feature, so an application depends on one crate and picks the flows it needs.
//! The member crates stay usable on their own:
//!
//! | feature | crate | what |
//! |---|---|---|
//! | (always) | [`core`] (`auth-core`) | tokens, [`Secret`], [`Error`]/[`ErrorKind`], [`TokenCredential`], clouds, HTTP seam, cache |
//! | `service-principal` | [`service_principal`] (`auth-sp`) | client secret, certificate, federated token; from the environment |
//! | `workspace` | [`workspace`] (`workspace-config`) | find and parse `config.json`, reach the workspace over ARM |
//! | `rbac` | [`rbac`] | role definitions, assignments, access decisions, least privilege |
//! | `managed-identity` | [`managed_identity`] (`auth-msi`) | managed identity: IMDS, App Service, Azure ML compute, Arc, Cloud Shell, Service Fabric |
//! | `azure-cli` | [`azure_cli`] (`auth-cli`) | the session of `az login`: `az account get-access-token`, timed out, cached; `az account show` |
//! | `interactive` | [`interactive`] (`auth-interactive`) | browser (PKCE, loopback) and device code sign-in, persistent cache |
//!
//! # Example: SDK v1's `Workspace.from_config` with a service principal
//!
//! In Python (Azure ML SDK v1):
//!
//! ```python
//! from azureml.core import Workspace
//! from azureml.core.authentication import ServicePrincipalAuthentication
//! auth = ServicePrincipalAuthentication(
//!     tenant_id=os.environ["AML_TENANT_ID"],
//!     service_principal_id=os.environ["AML_PRINCIPAL_ID"],
//!     service_principal_password=os.environ["AML_PRINCIPAL_PASS"])
//! ws = Workspace.from_config(auth=auth)
//! ```
//!
//! In Rust, the same few lines (needs the default features and a tokio runtime):
//!
//! ```no_run
//! use std::sync::Arc;
//! use azureml_auth::{Cloud, ProcessEnv};
//! use azureml_auth::service_principal::{ServicePrincipalCredential, ServicePrincipalOptions};
//! use azureml_auth::workspace::{Workspace, WorkspaceClient, find_config_from_process};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), azureml_auth::Error> {
//! let config = find_config_from_process()?; // ./.azureml/config.json, ./config.json, parents
//! let auth = ServicePrincipalCredential::from_env(&ProcessEnv, ServicePrincipalOptions::new())?;
//! let ws = WorkspaceClient::shared(Arc::new(auth), Cloud::from_env(&ProcessEnv)?)
//!     .get(&Workspace::from_config(&config)?)
//!     .await?;
//! println!("{} in {}", ws.name, ws.location.unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! `examples/from_config.rs` is the same program; `cargo xtask demo` runs the whole story
//! against the local emulator, with no Azure account.
//!
//! # A chain for code that runs on a laptop and on Azure
//!
//! [`ChainedCredential::from_env`] asks the environment's service principal, then the managed
//! identity of the host (probed: off Azure it passes on within about a second), then the
//! session of `az login`, each when its feature is on, and remembers the one that answered.
//! A credential that does not apply is passed over; a real failure (a wrong secret, a
//! Conditional Access block) stops the chain with the reasons of the ones before it.
//!
//! # Crate features
//!
//! - `reqwest` (default): the default HTTP transport (reqwest with rustls). Without it, bring
//!   your own `auth_core::http::HttpClient`.
//! - `service-principal` (default), `workspace` (default), `rbac`, `managed-identity`,
//!   `azure-cli`, `interactive`: the member crates above.
//! - `certificate` (default): client certificates for service principals. Without it a
//!   client-secret or federated-token build compiles no RSA, PKCS#8 or PKCS#12 code, and a
//!   configured certificate is a clear configuration error.
//! - `tool`: the `amlauth` command-line tool (`cargo install azureml-auth --features tool`).
//!   Its dependencies (clap, tokio, jiff) are compiled only with this feature.
//!
//! With `default-features = false` the crate builds with no async runtime, no HTTP client and
//! no TLS.
//!
//! # Security
//!
//! Secrets live in [`Secret`]: zeroed on drop, redacted in `Debug`, never `Display`ed or
//! serialized. Every credential's `Debug` shows who signs in, never what proves it. Errors
//! never quote a secret, a request or a response body. The `amlauth` tool prints no secret
//! except the access token its `token` command exists to print.
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod chain;

pub use auth_core as core;
pub use auth_core::{
    AccessToken, Cloud, Env, Error, ErrorKind, ProcessEnv, Secret, TenantId, TokenCredential,
    TokenRequest, authorization_header,
};
pub use chain::ChainedCredential;
#[cfg(any(
    feature = "service-principal",
    feature = "managed-identity",
    feature = "azure-cli"
))]
pub use chain::DefaultChainOptions;

/// Service principal credentials (`auth-sp`): client secret, certificate, federated token,
/// and the environment's.
#[cfg(feature = "service-principal")]
pub use auth_sp as service_principal;

/// Managed identity (`auth-msi`): IMDS, App Service, Azure ML compute, Azure Arc, Cloud Shell
/// and Service Fabric.
#[cfg(feature = "managed-identity")]
pub use auth_msi as managed_identity;

/// The Azure CLI's token (`auth-cli`).
#[cfg(feature = "azure-cli")]
pub use auth_cli as azure_cli;

/// Interactive sign-in (`auth-interactive`).
#[cfg(feature = "interactive")]
pub use auth_interactive as interactive;

/// Workspace config discovery and the ARM client (`workspace-config`).
#[cfg(feature = "workspace")]
pub use workspace_config as workspace;

/// Azure RBAC decisions and least privilege (`rbac`).
#[cfg(feature = "rbac")]
pub use rbac;
