//! Where to sign in and with which credential: flags first, then the environment.

use std::path::PathBuf;
use std::sync::Arc;

use auth_core::{Cloud, Env, ProcessEnv};
use auth_sp::{ServicePrincipalCredential, ServicePrincipalOptions};
use clap::Args;

use crate::fail::{EXIT_USAGE, Failure};

/// The variable that overrides the ARM endpoint (an emulator, Azure Stack).
pub(crate) const ARM_ENDPOINT_ENV: &str = "AZUREML_ARM_ENDPOINT";

/// Credential and endpoint flags shared by the commands that sign in.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct ConnArgs {
    /// Read the service principal from an `az ad sp create-for-rbac --sdk-auth` file (else
    /// from the environment, see CREDENTIALS below).
    #[arg(long, value_name = "FILE")]
    pub(crate) sdk_auth: Option<PathBuf>,
    /// Entra ID authority host [env: AZURE_AUTHORITY_HOST] (default https://login.microsoftonline.com).
    #[arg(long, value_name = "URL")]
    pub(crate) authority_host: Option<String>,
    /// Azure Resource Manager endpoint [env: AZUREML_ARM_ENDPOINT] (default https://management.azure.com/).
    #[arg(long, value_name = "URL")]
    pub(crate) arm_endpoint: Option<String>,
}

impl ConnArgs {
    /// The cloud: `AZURE_AUTHORITY_HOST` (or `--authority-host`) picks the authority host,
    /// `AZUREML_ARM_ENDPOINT` (or `--arm-endpoint`) the ARM endpoint.
    pub(crate) fn cloud(&self) -> Result<Cloud, Failure> {
        let mut cloud = Cloud::from_env(&ProcessEnv)?;
        if let Some(host) = &self.authority_host {
            cloud = cloud.with_authority_host(host)?;
        }
        let arm = self
            .arm_endpoint
            .clone()
            .or_else(|| ProcessEnv.var(ARM_ENDPOINT_ENV));
        if let Some(arm) = arm {
            cloud = cloud.with_arm_endpoint(&arm)?;
        }
        Ok(cloud)
    }

    /// The service principal from `--sdk-auth` or the environment. `--authority-host` or
    /// `AZURE_AUTHORITY_HOST` decides where it signs in; without either, an sdk-auth file's
    /// `activeDirectoryEndpointUrl` does (else the public cloud).
    pub(crate) fn credential(
        &self,
        cloud: &Cloud,
    ) -> Result<Arc<ServicePrincipalCredential>, Failure> {
        let mut options = ServicePrincipalOptions::new();
        if self.authority_host.is_some() || ProcessEnv.var("AZURE_AUTHORITY_HOST").is_some() {
            options = options.cloud(cloud.clone());
        }
        let credential = match &self.sdk_auth {
            Some(path) => ServicePrincipalCredential::from_sdk_auth_file(path, options),
            None => ServicePrincipalCredential::from_env(&ProcessEnv, options),
        };
        match credential {
            Ok(c) => Ok(Arc::new(c)),
            Err(e) if e.kind() == auth_core::ErrorKind::Unavailable => Err(Failure::new(
                EXIT_USAGE,
                "no_credentials",
                "no credentials: no service principal in the environment; set AZURE_TENANT_ID, \
                 AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AML_TENANT_ID, AML_PRINCIPAL_ID and \
                 AML_PRINCIPAL_PASS), or pass --sdk-auth FILE",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
