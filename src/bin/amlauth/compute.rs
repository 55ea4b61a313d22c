//! `amlauth compute start | stop NAME`: a compute instance operation over ARM, the kind of call
//! Azure RBAC allows one role and refuses another (`.../computes/start/action`). The ARM call
//! is workspace-config's; this module parses the flags and prints the result.

use clap::{Args, Subcommand};
use workspace_config::ComputeOperation;

use crate::conn::ConnArgs;
use crate::fail::Failure;
use crate::workspace::WorkspaceArgs;

/// `amlauth compute ...`
#[derive(Subcommand, Debug)]
pub(crate) enum ComputeCommand {
    /// Start a compute instance (needs Microsoft.MachineLearningServices/workspaces/computes/start/action).
    #[command(
        after_help = "Examples:\n  amlauth compute start ci-alice\n  amlauth compute start ci-alice --config .azureml/config.json --output json"
    )]
    Start(ComputeArgs),
    /// Stop a compute instance (needs .../computes/stop/action).
    Stop(ComputeArgs),
}

/// Flags of `compute start|stop`.
#[derive(Args, Debug)]
pub(crate) struct ComputeArgs {
    /// The compute instance's name.
    name: String,
    #[command(flatten)]
    workspace: WorkspaceArgs,
    #[command(flatten)]
    conn: ConnArgs,
}

/// What was done.
pub(crate) struct Done(ComputeOperation);

impl Done {
    /// One line of text.
    pub(crate) fn to_text(&self) -> String {
        format!("{} {}: {}", self.0.action, self.0.compute_id, self.0.status)
    }

    /// `{"operation", "id", "status"}`.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(&serde_json::json!({
            "operation": self.0.action.as_str(),
            "id": self.0.compute_id,
            "status": self.0.status,
        }))
        .unwrap_or_default()
    }
}

/// Runs `start` or `stop` (workspace-config posts the action and follows the operation).
pub(crate) async fn run(command: &ComputeCommand) -> Result<Done, Failure> {
    let args = match command {
        ComputeCommand::Start(a) | ComputeCommand::Stop(a) => a,
    };
    let (_, workspace, client) = args.workspace.connect(&args.conn)?;
    let op = match command {
        ComputeCommand::Start(_) => client.start_compute(&workspace, &args.name).await?,
        ComputeCommand::Stop(_) => client.stop_compute(&workspace, &args.name).await?,
    };
    Ok(Done(op))
}
