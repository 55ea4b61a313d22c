//! `amlauth workspace show`: which config file was used, and the workspace ARM returns.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use workspace_config::{ConfigFile, ConfigOrigin, Workspace, WorkspaceClient, WorkspaceInfo};

use crate::conn::ConnArgs;
use crate::fail::Failure;

/// `amlauth workspace ...`
#[derive(Subcommand, Debug)]
pub(crate) enum WorkspaceCommand {
    /// Find the workspace config (as SDK v1's Workspace.from_config does) and read the
    /// workspace from Azure Resource Manager.
    #[command(after_help = SHOW_HELP)]
    Show(ShowArgs),
}

const SHOW_HELP: &str = "\
Without --config or the three ids, the config is searched as SDK v1 does: AZUREML_CONFIG_PATH,
then .azureml/config.json, aml_config/config.json, config.json (and project.json) in the
current directory and each parent.

Examples:
  amlauth workspace show
  amlauth workspace show --config ./.azureml/config.json --output json
  amlauth workspace show --subscription 00000000-0000-0000-0000-000000000000 \\
      --resource-group rg-ml --workspace-name ws-dev";

/// Which workspace: a config file (found or given), or its three ids.
#[derive(Args, Debug)]
pub(crate) struct WorkspaceArgs {
    /// A config file, or a directory to search from.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["subscription", "resource_group", "workspace_name"])]
    config: Option<PathBuf>,
    /// Subscription id (with --resource-group and --workspace-name: no config file).
    #[arg(long, requires_all = ["resource_group", "workspace_name"])]
    subscription: Option<String>,
    /// Resource group.
    #[arg(long, short = 'g', requires_all = ["subscription", "workspace_name"])]
    resource_group: Option<String>,
    /// Workspace name.
    #[arg(long, short = 'w', requires_all = ["subscription", "resource_group"])]
    workspace_name: Option<String>,
}

/// Flags of `workspace show`.
#[derive(Args, Debug)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
}

impl WorkspaceArgs {
    /// The workspace, and the config file it came from (none when the ids were given).
    pub(crate) fn resolve(&self) -> Result<(Option<ConfigFile>, Workspace), Failure> {
        if let (Some(s), Some(g), Some(w)) = (
            &self.subscription,
            &self.resource_group,
            &self.workspace_name,
        ) {
            return Ok((None, Workspace::new(s, g, w)?));
        }
        let found = match &self.config {
            // --config wins over AZUREML_CONFIG_PATH: SDK v1's from_config(path), where a file
            // is used as is and a directory is searched.
            Some(path) => {
                let cwd = std::env::current_dir().map_err(|e| {
                    Failure::usage(format!("cannot read the current directory: {e}"))
                })?;
                workspace_config::search_config(&cwd.join(path))?
            }
            None => workspace_config::find_config_from_process()?,
        };
        let ws = Workspace::from_config(&found)?;
        Ok((Some(found), ws))
    }

    /// The workspace, the config file it came from, and a client for its cloud signed in with
    /// the credential of `conn` (see [`ConnArgs::client_for`]).
    pub(crate) fn connect(
        &self,
        conn: &ConnArgs,
    ) -> Result<(Option<ConfigFile>, Workspace, WorkspaceClient), Failure> {
        let (config, workspace) = self.resolve()?;
        let (workspace, client) = conn.client_for(workspace)?;
        Ok((config, workspace, client))
    }
}

/// The config file that was used (none when the ids were given) and the workspace.
pub(crate) struct Shown {
    config: Option<ConfigFile>,
    info: WorkspaceInfo,
    workspace: Workspace,
}

/// Finds the config (or takes the ids), signs in and reads the workspace.
pub(crate) async fn show(args: &ShowArgs) -> Result<Shown, Failure> {
    let (config, workspace, client) = args.workspace.connect(&args.conn)?;
    let info = client.get(&workspace).await?;
    Ok(Shown {
        config,
        info,
        workspace,
    })
}

fn origin(o: &ConfigOrigin) -> &'static str {
    match o {
        ConfigOrigin::Explicit => "given",
        ConfigOrigin::Env => "AZUREML_CONFIG_PATH",
        ConfigOrigin::Search { .. } => "search",
        _ => "other",
    }
}

impl Shown {
    /// `{"config": {"path", "origin"} | null, "workspace": {...}}`.
    pub(crate) fn to_json(&self) -> String {
        let i = &self.info;
        let config = self.config.as_ref().map_or(
            Value::Null,
            |c| json!({"path": c.path.display().to_string(), "origin": origin(&c.origin)}),
        );
        let out = json!({
            "config": config,
            "workspace": {
                "id": i.id,
                "name": i.name,
                "subscriptionId": self.workspace.subscription_id(),
                "resourceGroup": self.workspace.resource_group(),
                "location": i.location,
                "workspaceId": i.workspace_id,
                "friendlyName": i.friendly_name,
                "description": i.description,
                "sku": i.sku,
                "provisioningState": i.provisioning_state,
                "discoveryUrl": i.discovery_url,
                "mlFlowTrackingUri": i.mlflow_tracking_uri,
                "tags": i.tags,
            }
        });
        serde_json::to_string_pretty(&out).unwrap_or_default()
    }

    /// Aligned `name: value` lines.
    pub(crate) fn to_table(&self) -> String {
        let i = &self.info;
        let config = match &self.config {
            Some(c) => format!("{} ({})", c.path.display(), origin(&c.origin)),
            None => "none (ids given on the command line)".to_owned(),
        };
        let rows = [
            ("config", config),
            ("workspace", i.name.clone()),
            ("resource group", self.workspace.resource_group().to_owned()),
            ("subscription", self.workspace.subscription_id().to_owned()),
            ("location", i.location.clone().unwrap_or_default()),
            ("workspace id", i.workspace_id.clone()),
            (
                "provisioning",
                i.provisioning_state.clone().unwrap_or_default(),
            ),
            ("arm id", i.id.clone()),
        ];
        rows.iter()
            .map(|(k, v)| format!("{:<15} {v}", format!("{k}:")))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
