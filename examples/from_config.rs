//! SDK v1's `Workspace.from_config(auth=ServicePrincipalAuthentication(...))` in Rust.
//!
//! ```text
//! export AML_TENANT_ID=... AML_PRINCIPAL_ID=... AML_PRINCIPAL_PASS=...
//! cargo run --example from_config        # in a directory with .azureml/config.json
//! ```
//!
//! `AZURE_AUTHORITY_HOST` and `AZUREML_ARM_ENDPOINT` point it at another cloud or the local
//! emulator (`cargo xtask emulator` prints the values).
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use azureml_auth::service_principal::{ServicePrincipalCredential, ServicePrincipalOptions};
use azureml_auth::workspace::{Workspace, WorkspaceClient, find_config_from_process};
use azureml_auth::{Cloud, Env, ProcessEnv};

#[tokio::main]
async fn main() -> Result<(), azureml_auth::Error> {
    // ws = Workspace.from_config(auth=ServicePrincipalAuthentication(tenant_id, sp_id, sp_password))
    let config = find_config_from_process()?;
    let auth = ServicePrincipalCredential::from_env(&ProcessEnv, ServicePrincipalOptions::new())?;
    let mut cloud = Cloud::from_env(&ProcessEnv)?;
    if let Some(arm) = ProcessEnv.var("AZUREML_ARM_ENDPOINT") {
        cloud = cloud.with_arm_endpoint(&arm)?;
    }
    let ws = WorkspaceClient::shared(Arc::new(auth), cloud)
        .get(&Workspace::from_config(&config)?)
        .await?;

    println!("config:    {}", config.path.display());
    println!("workspace: {} ({})", ws.name, ws.id);
    println!("location:  {}", ws.location.unwrap_or_default());
    Ok(())
}
