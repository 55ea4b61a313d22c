//! Where to sign in and with which credential: flags first, then the environment.

use std::path::PathBuf;
use std::sync::Arc;

use auth_core::{Cloud, Env, ProcessEnv};
use auth_sp::{ServicePrincipalCredential, ServicePrincipalOptions};
use clap::Args;
use workspace_config::{Workspace, WorkspaceClient};

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
        self.cloud_in(&ProcessEnv, None)
    }

    /// The service principal from `--sdk-auth` or the environment. `--authority-host` or
    /// `AZURE_AUTHORITY_HOST` decides where it signs in; without either, an sdk-auth file's
    /// `activeDirectoryEndpointUrl` does (else the public cloud).
    pub(crate) fn credential(
        &self,
        cloud: &Cloud,
    ) -> Result<Arc<ServicePrincipalCredential>, Failure> {
        self.credential_in(cloud, self.picks_cloud(&ProcessEnv))
    }

    /// A client for `workspace`'s cloud, signed in there. The flags and the environment pick
    /// the cloud as for [`Self::cloud`]; when they name no authority host, the workspace's own
    /// cloud (its config's `cloud`) does, for the credential too. An ARM endpoint given by flag
    /// or environment (an emulator, Azure Stack) wins over the workspace's: the returned
    /// workspace is taken to be there.
    pub(crate) fn client_for(
        &self,
        workspace: Workspace,
    ) -> Result<(Workspace, WorkspaceClient), Failure> {
        // An sdk-auth file names where its service principal signs in: the config's cloud does
        // not override it (only --authority-host or AZURE_AUTHORITY_HOST do, as for `token`).
        let sign_in_there = self.picks_cloud(&ProcessEnv)
            || (workspace.cloud().is_some() && !self.uses_sdk_auth(&ProcessEnv));
        let cloud = self.cloud_in(&ProcessEnv, workspace.cloud())?;
        let workspace = if self.arm_endpoint(&ProcessEnv).is_some() {
            workspace.with_cloud(cloud.clone())
        } else {
            workspace
        };
        let credential = self.credential_in(&cloud, sign_in_there)?;
        Ok((workspace, WorkspaceClient::shared(credential, cloud)))
    }

    /// Whether the credential may come from an sdk-auth file (`--sdk-auth` or
    /// `AZURE_AUTH_LOCATION`).
    fn uses_sdk_auth(&self, env: &dyn Env) -> bool {
        self.sdk_auth.is_some() || env.var("AZURE_AUTH_LOCATION").is_some()
    }

    /// Whether `--authority-host` or `AZURE_AUTHORITY_HOST` names the cloud.
    fn picks_cloud(&self, env: &dyn Env) -> bool {
        self.authority_host.is_some() || env.var("AZURE_AUTHORITY_HOST").is_some()
    }

    /// `--arm-endpoint`, else `AZUREML_ARM_ENDPOINT`.
    fn arm_endpoint(&self, env: &dyn Env) -> Option<String> {
        self.arm_endpoint
            .clone()
            .or_else(|| env.var(ARM_ENDPOINT_ENV))
    }

    /// The cloud of the flags and `env`; when they name no authority host, `fallback` (else
    /// the public cloud). The ARM endpoint of the flags or `env` applies to either.
    fn cloud_in(&self, env: &dyn Env, fallback: Option<&Cloud>) -> Result<Cloud, Failure> {
        let mut cloud = match fallback {
            Some(c) if !self.picks_cloud(env) => c.clone(),
            _ => Cloud::from_env(env)?,
        };
        if let Some(host) = &self.authority_host {
            cloud = cloud.with_authority_host(host)?;
        }
        if let Some(arm) = self.arm_endpoint(env) {
            cloud = cloud.with_arm_endpoint(&arm)?;
        }
        Ok(cloud)
    }

    /// The service principal, signing in to `cloud` when `sign_in_there` (else where the
    /// environment or the sdk-auth file says).
    fn credential_in(
        &self,
        cloud: &Cloud,
        sign_in_there: bool,
    ) -> Result<Arc<ServicePrincipalCredential>, Failure> {
        let mut options = ServicePrincipalOptions::new();
        if sign_in_there {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cloud(env: &[(&'static str, &'static str)], fallback: Option<&Cloud>) -> Cloud {
        let env: HashMap<&'static str, &'static str> = env.iter().copied().collect();
        ConnArgs::default().cloud_in(&env, fallback).unwrap()
    }

    #[test]
    fn a_workspace_s_cloud_is_used_unless_an_authority_host_is_named() {
        let china = Cloud::china();
        assert_eq!(cloud(&[], Some(&china)), china);
        assert_eq!(cloud(&[], None), Cloud::public());
        let emu = cloud(&[(ARM_ENDPOINT_ENV, "http://127.0.0.1:9/")], Some(&china));
        assert_eq!(
            (emu.name(), emu.authority_host(), emu.arm_endpoint()),
            (
                "AzureChinaCloud",
                "https://login.chinacloudapi.cn",
                "http://127.0.0.1:9/"
            )
        );
        let gov = cloud(
            &[("AZURE_AUTHORITY_HOST", "login.microsoftonline.us")],
            Some(&china),
        );
        assert_eq!(gov.name(), "AzureUSGovernment");
    }
}
