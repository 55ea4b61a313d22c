//! `amlauth rbac check | explain | suggest`: access decisions over files in az's JSON shapes.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rbac::{
    AccessModel, Action, DenyAssignment, Explanation, GroupMemberships, RoleAssignment,
    RoleDefinition, Scope, Suggestion,
};

use crate::fail::Failure;

/// `amlauth rbac ...`
#[derive(Subcommand, Debug)]
pub(crate) enum RbacCommand {
    /// May the principal perform the action at the scope? Exit code 0 allowed, 3 not allowed.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Why the principal may or may not perform the action: which assignment, role and pattern
    /// decide. Exit code 0 whatever the decision.
    #[command(after_help = EXPLAIN_HELP)]
    Explain(CheckArgs),
    /// The least-privileged built-in role granting every action at the scope, and a custom role
    /// granting exactly them (az's role definition JSON).
    #[command(after_help = SUGGEST_HELP)]
    Suggest(SuggestArgs),
}

/// The input files, for `amlauth rbac --help`.
pub(crate) const FILES_HELP: &str = "\
Files are what az prints: --roles `az role definition list --custom-role-only true`
(built-in roles are always known), --assignments `az role assignment list --all`,
--denies the deny assignments (ARM's denyAssignments list or its value array), --groups
{\"<group object id>\": [\"<member object id>\", ...]}.";

const CHECK_HELP: &str = "\
Examples:
  amlauth rbac check --principal $OID --assignments assignments.json \\
      --action Microsoft.MachineLearningServices/workspaces/computes/start/action \\
      --scope /subscriptions/$SUB/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws
  amlauth rbac check ... --output json   # {\"allowed\": false, \"reason\": \"notGranted\", ...}";
const EXPLAIN_HELP: &str = "\
Examples:
  amlauth rbac explain --principal $OID --assignments assignments.json --roles custom.json \\
      --data-action Microsoft.MachineLearningServices/workspaces/jobs/read --scope $WS_ID";
const SUGGEST_HELP: &str = "\
Examples:
  amlauth rbac suggest --scope $WS_ID \\
      --action Microsoft.MachineLearningServices/workspaces/read \\
      --action Microsoft.MachineLearningServices/workspaces/computes/start/action
  amlauth rbac suggest --scope $WS_ID --action ... --output json > suggestion.json";

/// The model's inputs: az JSON files.
#[derive(Args, Debug, Clone)]
pub(crate) struct ModelArgs {
    /// Custom role definitions (az role definition list JSON); built-in roles need no file.
    #[arg(long, value_name = "FILE")]
    roles: Option<PathBuf>,
    /// Role assignments (az role assignment list JSON).
    #[arg(long, value_name = "FILE")]
    assignments: Option<PathBuf>,
    /// Deny assignments (JSON list).
    #[arg(long, value_name = "FILE")]
    denies: Option<PathBuf>,
    /// Group memberships: {"group id": ["member id", ...]}.
    #[arg(long, value_name = "FILE")]
    groups: Option<PathBuf>,
}

/// Flags of `check` and `explain`.
#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The principal's object id (user, group, service principal or managed identity).
    #[arg(long, value_name = "ID")]
    principal: String,
    /// A control-plane operation, e.g. Microsoft.MachineLearningServices/workspaces/read.
    #[arg(
        long,
        value_name = "OP",
        required_unless_present = "data_action",
        conflicts_with = "data_action"
    )]
    action: Option<String>,
    /// A data-plane operation, e.g. Microsoft.MachineLearningServices/workspaces/jobs/read.
    #[arg(long, value_name = "OP")]
    data_action: Option<String>,
    /// The ARM scope: /, a management group, subscription, resource group or resource id.
    #[arg(long, value_name = "ARM_ID")]
    scope: String,
    #[command(flatten)]
    model: ModelArgs,
}

/// Flags of `suggest`.
#[derive(Args, Debug)]
pub(crate) struct SuggestArgs {
    /// A control-plane operation (repeat for several).
    #[arg(long, value_name = "OP", required_unless_present = "data_action")]
    action: Vec<String>,
    /// A data-plane operation (repeat for several).
    #[arg(long, value_name = "OP")]
    data_action: Vec<String>,
    /// The scope the role would be assigned at.
    #[arg(long, value_name = "ARM_ID")]
    scope: String,
    /// Custom role definitions to consider besides the built-in roles (az JSON).
    #[arg(long, value_name = "FILE")]
    roles: Option<PathBuf>,
}

/// The largest role or assignment file read (az's output for a large tenant is a few MiB; the
/// built-in roles are about 1 MiB): a wrong path such as `/dev/zero` fails instead of filling
/// memory.
const MAX_RBAC_FILE_BYTES: u64 = 64 << 20;

fn read(path: &Path, what: &str) -> Result<String, Failure> {
    let cannot = |e: &dyn std::fmt::Display| {
        Failure::usage(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    };
    let bytes = auth_core::fs::read_capped(path, MAX_RBAC_FILE_BYTES).map_err(|e| cannot(&e))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| cannot(&"it is not UTF-8 text"))
}

/// Wraps a parse error with the file it came from.
fn in_file(path: &Path) -> impl Fn(rbac::Error) -> Failure + '_ {
    move |e| Failure::usage(format!("{}: {e}", path.display()))
}

fn custom_roles(path: Option<&Path>) -> Result<Vec<RoleDefinition>, Failure> {
    match path {
        Some(p) => RoleDefinition::from_json(&read(p, "role definitions")?).map_err(in_file(p)),
        None => Ok(Vec::new()),
    }
}

impl ModelArgs {
    fn model(&self) -> Result<AccessModel, Failure> {
        let mut b = AccessModel::builder()
            .builtin_roles()
            .roles(custom_roles(self.roles.as_deref())?);
        if let Some(p) = &self.assignments {
            b = b.assignments(
                RoleAssignment::from_json(&read(p, "role assignments")?).map_err(in_file(p))?,
            );
        }
        if let Some(p) = &self.denies {
            b = b.denies(
                DenyAssignment::from_json(&read(p, "deny assignments")?).map_err(in_file(p))?,
            );
        }
        if let Some(p) = &self.groups {
            let groups =
                GroupMemberships::from_json(&read(p, "group memberships")?).map_err(in_file(p))?;
            b = b.groups(&groups);
        }
        Ok(b.build()?)
    }
}

/// Builds the model and explains the check (a check's decision is the explanation's).
pub(crate) fn explain(args: &CheckArgs) -> Result<Explanation, Failure> {
    let action = match (&args.action, &args.data_action) {
        (Some(a), _) => Action::parse(a)?,
        (None, Some(d)) => Action::data(d)?,
        (None, None) => return Err(Failure::usage("give --action or --data-action")),
    };
    let scope = Scope::parse(&args.scope)?;
    let model = args.model.model()?;
    Ok(model.explain(&args.principal, &action, &scope))
}

/// The check's JSON: the decision's fields (`allowed`, `reason`, the deciding assignment) with
/// the principal, action and scope.
pub(crate) fn check_json(e: &Explanation) -> String {
    let mut v = serde_json::to_value(e.decision).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("principalId".into(), e.principal_id.clone().into());
        m.insert("action".into(), e.action.clone().into());
        m.insert(
            "plane".into(),
            serde_json::to_value(e.plane).unwrap_or_default(),
        );
        m.insert("scope".into(), e.scope.clone().into());
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// The check as text: the verdict line of the explanation and the line that decides it
/// (`rbac explain` prints every line).
pub(crate) fn check_text(e: &Explanation) -> String {
    let text = e.to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let verdict = lines.next().unwrap_or_default();
    match lines.find(|l| !l.trim_start().starts_with("member of groups")) {
        Some(reason) => format!("{verdict}\n{reason}"),
        None => verdict.to_owned(),
    }
}

/// The least-privilege suggestion.
pub(crate) fn suggest(args: &SuggestArgs) -> Result<Suggestion, Failure> {
    let mut actions = Vec::new();
    for a in &args.action {
        actions.push(Action::parse(a)?);
    }
    for d in &args.data_action {
        actions.push(Action::data(d)?);
    }
    let scope = Scope::parse(&args.scope)?;
    let mut roles = rbac::builtin::roles().to_vec();
    roles.extend(custom_roles(args.roles.as_deref())?);
    Ok(rbac::least_privilege_among(&roles, &actions, &scope)?)
}

/// The suggestion as text: the role to assign, the runners-up, then the custom role's JSON.
pub(crate) fn suggest_text(s: &Suggestion) -> String {
    let mut out = match &s.builtin {
        Some(c) => format!(
            "least-privileged built-in role: {} ({} other operations{})\n",
            c.role_name,
            c.extra_permissions_count,
            if c.open_ended {
                ", plus wildcards beyond the catalog"
            } else {
                ""
            }
        ),
        None => "least-privileged built-in role: none grants all of them\n".to_owned(),
    };
    if s.candidates.len() > 1 {
        let others: Vec<&str> = s
            .candidates
            .iter()
            .skip(1)
            .take(4)
            .map(|c| c.role_name.as_str())
            .collect();
        out.push_str(&format!("also granting them: {}\n", others.join(", ")));
    }
    out.push_str("custom role granting exactly these operations (az role definition create --role-definition @role.json):\n");
    out.push_str(&serde_json::to_string_pretty(&s.custom_role.to_az_json()).unwrap_or_default());
    out
}
