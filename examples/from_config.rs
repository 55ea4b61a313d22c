//! SDK v1's `Workspace.from_config(auth=ServicePrincipalAuthentication(...))` in Rust.
//!
//! ```text
//! export AML_TENANT_ID=... AML_PRINCIPAL_ID=... AML_PRINCIPAL_PASS=...
//! cargo run --example from_config        # in a directory with .azureml/config.json
//! ```
//!
//! `AZURE_AUTHORITY_HOST` and `AZUREML_ARM_ENDPOINT` point it at another cloud or the local
//! emulator (`cargo xtask emulator` prints the values). Without `AZURE_AUTHORITY_HOST`, the
//! cloud the config names (`"cloud": "AzureChinaCloud"`) is used.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use azureml_auth::service_principal::{ServicePrincipalCredential, ServicePrincipalOptions};
use azureml_auth::workspace::{Workspace, WorkspaceClient, find_config_from_process};
use azureml_auth::{Cloud, Env, ProcessEnv};

#[tokio::main]
async fn main() -> Result<(), azureml_auth::Error> {
    // ws = Workspace.from_config(auth=ServicePrincipalAuthentication(tenant_id, sp_id, sp_password))
    let config = find_config_from_process()?;
    let mut workspace = Workspace::from_config(&config)?;
    // The cloud: AZURE_AUTHORITY_HOST's, else the one the config names (where the service
    // principal signs in too), else the public cloud.
    let mut options = ServicePrincipalOptions::new();
    let mut cloud = match workspace.cloud() {
        Some(c) if ProcessEnv.var("AZURE_AUTHORITY_HOST").is_none() => {
            options = options.cloud(c.clone());
            c.clone()
        }
        _ => Cloud::from_env(&ProcessEnv)?,
    };
    // An ARM endpoint override (the emulator, Azure Stack) is where the workspace is.
    if let Some(arm) = ProcessEnv.var("AZUREML_ARM_ENDPOINT") {
        cloud = cloud.with_arm_endpoint(&arm)?;
        workspace = workspace.with_cloud(cloud.clone());
    }
    let auth = ServicePrincipalCredential::from_env(&ProcessEnv, options)?;
    let ws = WorkspaceClient::shared(Arc::new(auth), cloud)
        .get(&workspace)
        .await?;

    println!("config:    {}", config.path.display());
    println!("workspace: {} ({})", ws.name, ws.id);
    println!("location:  {}", ws.location.unwrap_or_default());
    Ok(())
}
