//! `amlauth`: Azure ML authentication from the command line.
//!
//! Built with the `tool` feature (`cargo build --bin amlauth --features tool`); library users
//! never compile its dependencies.
//!
//! # Commands
//!
//! - `amlauth token [--resource R | --scope S] [--tenant T] [--subscription S]` prints exactly
//!   the JSON of `az account get-access-token` (`accessToken`, `expiresOn` as local time
//!   `YYYY-MM-DD HH:MM:SS.ffffff`, `expires_on` as integer epoch seconds, `subscription`,
//!   `tenant`, `tokenType`), so scripts that parse az's output work unchanged. The default
//!   resource is ARM's (`https://management.core.windows.net/`), as az's. `tenant` is the
//!   token's `tid` claim. `subscription` is `--subscription`, else `AZURE_SUBSCRIPTION_ID`,
//!   else the subscription of the workspace config found from the current directory; when none
//!   is known it is the tenant id, which is what az prints for a tenant-level account (one
//!   without subscriptions).
//! - `amlauth workspace show [--config PATH | --subscription S -g RG -w NAME]`: which config
//!   file was used (found as SDK v1's `Workspace.from_config` finds it) and the workspace that
//!   Azure Resource Manager returns.
//! - `amlauth compute start | stop NAME` (with the same workspace flags): a compute instance
//!   operation, the kind of ARM action one role allows and another refuses; a 403
//!   `AuthorizationFailed` names the action and the scope, and the `rbac suggest` command that
//!   names the role to ask for.
//! - `amlauth rbac check | explain | suggest`: access decisions over files in az's JSON shapes
//!   (`--roles`, `--assignments`, `--denies`, `--groups`) for `--principal`, `--action` (or
//!   `--data-action`) and `--scope`; `suggest` takes `--action` repeated and names the
//!   least-privileged built-in role and a custom role granting exactly the actions.
//!
//! `--output json|table` (`-o`) is accepted by every command. `token` prints JSON unless asked
//! for a table (az's default); the others print text unless asked for JSON.
//!
//! # Credentials
//!
//! A service principal, from `--sdk-auth FILE` or the environment: `AZURE_TENANT_ID`,
//! `AZURE_CLIENT_ID` with `AZURE_CLIENT_SECRET` (or a certificate or federated token file);
//! else `AZUREML_SERVICE_PRINCIPAL_TENANT_ID`/`_ID`/`_PASSWORD`; else `AML_TENANT_ID`,
//! `AML_PRINCIPAL_ID`, `AML_PRINCIPAL_PASS`; else `AZURE_AUTH_LOCATION` (an sdk-auth file).
//! `AZURE_AUTHORITY_HOST` (or `--authority-host`) and `AZUREML_ARM_ENDPOINT` (or
//! `--arm-endpoint`) point at another cloud or the local emulator; without an authority host,
//! `workspace show` and `compute` use the cloud the workspace config names (`cloud`), for the
//! sign-in too. Other flows (managed
//! identity, Azure CLI, interactive) come with later releases.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (`rbac check`: allowed) |
//! | 1 | the operation failed: sign-in refused, ARM refused or failed the call, network error |
//! | 2 | usage or bad input: unknown flag, missing or invalid value, no credentials configured, config or JSON file missing or malformed |
//! | 3 | `rbac check` only: the action is not allowed |
//!
//! Errors are one line on stderr, `amlauth: <what went wrong; what to do>`; with
//! `--output json` they are one line of JSON instead:
//! `{"error":{"exitCode":2,"kind":"configuration","message":"..."}}`.
//!
//! # Secrets
//!
//! No secret is ever printed, logged or put in an error, except the access token that `token`
//! exists to print (on stdout only).
#![forbid(unsafe_code)]
// Printing is this binary's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Doc comments on the clap types are the terminal help, where URLs stay plain text.
#![allow(rustdoc::bare_urls)]

mod compute;
mod conn;
mod fail;
mod rbac_cmd;
mod token;
mod workspace;

use std::process::ExitCode;

use auth_core::{ProcessEnv, TenantId, TokenRequest};
use clap::{Parser, Subcommand, ValueEnum};

use crate::compute::ComputeCommand;
use crate::conn::ConnArgs;
use crate::fail::{EXIT_DENIED, EXIT_OK, EXIT_USAGE, Failure};
use crate::rbac_cmd::RbacCommand;
use crate::workspace::WorkspaceCommand;

const AFTER_HELP: &str = "\
Credentials: a service principal from --sdk-auth FILE or the environment (AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET; or AZUREML_SERVICE_PRINCIPAL_TENANT_ID/_ID/_PASSWORD;
or AML_TENANT_ID, AML_PRINCIPAL_ID, AML_PRINCIPAL_PASS; or AZURE_AUTH_LOCATION).
AZURE_AUTHORITY_HOST and AZUREML_ARM_ENDPOINT select another cloud or the local emulator.

Exit codes:
  0  success (rbac check: allowed)
  1  the operation failed (sign-in refused, ARM refused or failed the call, network)
  2  usage or bad input (unknown flag, bad value, no credentials, malformed config or JSON)
  3  rbac check: not allowed
Errors are one line on stderr: `amlauth: <error>` (JSON with --output json).

Examples:
  amlauth token | jq -r .accessToken
  amlauth token --resource https://ml.azure.com --output table
  amlauth workspace show --config .azureml/config.json
  amlauth compute start ci-alice
  amlauth rbac explain --principal $OID --assignments assignments.json \\
      --action Microsoft.MachineLearningServices/workspaces/computes/start/action --scope $WS_ID
  amlauth rbac suggest --scope $WS_ID --action Microsoft.MachineLearningServices/workspaces/read";

/// Azure ML authentication from the command line: tokens as az prints them, the workspace
/// from its config file, and Azure RBAC decisions explained.
#[derive(Parser, Debug)]
#[command(name = "amlauth", version, after_help = AFTER_HELP)]
struct Cli {
    /// Output format (default: json for `token`, as az; table/text otherwise).
    #[arg(long, short = 'o', global = true, value_enum)]
    output: Option<Format>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Table,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Get an access token; prints the JSON of `az account get-access-token`.
    #[command(after_help = TOKEN_HELP)]
    Token(TokenArgs),
    /// Azure ML workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Compute instances: start, stop.
    #[command(subcommand)]
    Compute(ComputeCommand),
    /// Azure RBAC decisions over az's JSON: check, explain, suggest.
    #[command(subcommand, after_help = rbac_cmd::FILES_HELP)]
    Rbac(RbacCommand),
}

const TOKEN_HELP: &str = "\
Prints accessToken, expiresOn (local time), expires_on (epoch seconds), subscription, tenant
and tokenType, as `az account get-access-token` does. subscription is --subscription, else
AZURE_SUBSCRIPTION_ID, else the workspace config's; with none known it is the tenant id (what
az prints for an account without subscriptions).

Examples:
  export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...
  amlauth token
  amlauth token --resource https://ml.azure.com
  amlauth token --scope https://storage.azure.com/.default --tenant contoso.onmicrosoft.com
  curl -H \"Authorization: Bearer $(amlauth token | jq -r .accessToken)\" ...";

#[derive(clap::Args, Debug)]
struct TokenArgs {
    /// The resource (v1 audience) [default: the cloud's ARM audience].
    #[arg(long, value_name = "R", conflicts_with = "scope")]
    resource: Option<String>,
    /// A scope (v2), such as https://ml.azure.com/.default; repeat for several.
    #[arg(long, value_name = "S")]
    scope: Vec<String>,
    /// Get the token from this tenant instead of the credential's.
    #[arg(long, value_name = "T")]
    tenant: Option<String>,
    /// The subscription to report in the output.
    #[arg(long, value_name = "ID")]
    subscription: Option<String>,
    #[command(flatten)]
    conn: ConnArgs,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let json_errors = cli.output == Some(Format::Json);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if json_errors {
                eprintln!("{}", f.to_json());
            } else {
                eprintln!("amlauth: {f}");
            }
            ExitCode::from(f.exit_code)
        }
    }
}

/// clap's errors as one line (help and version print as clap prints them).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion => {
            let _ = e.print();
            ExitCode::from(EXIT_OK)
        }
        K::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(EXIT_USAGE)
        }
        _ => {
            let f = Failure::usage(format!(
                "{} (see amlauth --help)",
                first_lines(&e.render().to_string())
            ));
            if asks_for_json(std::env::args().skip(1)) {
                eprintln!("{}", f.to_json());
            } else {
                eprintln!("amlauth: {f}");
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Whether the raw arguments ask for JSON output (for errors found before parsing finished).
fn asks_for_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--output=json"
            || a == "-ojson"
            || ((a == "--output" || a == "-o") && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

/// clap's message up to its usage block, on one line: `error: ` dropped, the lines of a list
/// joined with spaces, tips after `; `.
fn first_lines(rendered: &str) -> String {
    let mut out = String::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        let line = line.trim_start_matches("error: ");
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    if out.is_empty() {
        out.push_str("invalid usage");
    }
    out
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                fail::EXIT_FAILED,
                "runtime",
                format!("cannot start the async runtime: {e}"),
            )
        })
}

fn run(cli: Cli) -> Result<u8, Failure> {
    let format = cli.output;
    match cli.command {
        Command::Token(args) => {
            let out = runtime()?.block_on(token_command(&args))?;
            match format {
                Some(Format::Table) => println!("{}", out.1),
                _ => println!("{}", out.0),
            }
            Ok(EXIT_OK)
        }
        Command::Workspace(WorkspaceCommand::Show(args)) => {
            let shown = runtime()?.block_on(workspace::show(&args))?;
            match format {
                Some(Format::Json) => println!("{}", shown.to_json()),
                _ => println!("{}", shown.to_table()),
            }
            Ok(EXIT_OK)
        }
        Command::Compute(cmd) => {
            let done = runtime()?.block_on(compute::run(&cmd))?;
            match format {
                Some(Format::Json) => println!("{}", done.to_json()),
                _ => println!("{}", done.to_text()),
            }
            Ok(EXIT_OK)
        }
        Command::Rbac(RbacCommand::Check(args)) => {
            let e = rbac_cmd::explain(&args)?;
            match format {
                Some(Format::Json) => println!("{}", rbac_cmd::check_json(&e)),
                _ => println!("{}", rbac_cmd::check_text(&e)),
            }
            Ok(if e.decision.is_allowed() {
                EXIT_OK
            } else {
                EXIT_DENIED
            })
        }
        Command::Rbac(RbacCommand::Explain(args)) => {
            let e = rbac_cmd::explain(&args)?;
            match format {
                Some(Format::Json) => {
                    println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default())
                }
                _ => println!("{}", e.to_string().trim_end()),
            }
            Ok(EXIT_OK)
        }
        Command::Rbac(RbacCommand::Suggest(args)) => {
            let s = rbac_cmd::suggest(&args)?;
            match format {
                Some(Format::Json) => {
                    println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default())
                }
                _ => println!("{}", rbac_cmd::suggest_text(&s)),
            }
            Ok(EXIT_OK)
        }
    }
}

/// Gets the token; returns its JSON and table renderings.
async fn token_command(args: &TokenArgs) -> Result<(String, String), Failure> {
    let cloud = args.conn.cloud()?;
    let credential = args.conn.credential(&cloud)?;
    let mut request = if !args.scope.is_empty() {
        TokenRequest::for_scopes(args.scope.iter().map(String::as_str))?
    } else {
        TokenRequest::for_resource(args.resource.as_deref().unwrap_or(cloud.arm_audience()))?
    };
    if let Some(t) = &args.tenant {
        request = request.with_tenant(TenantId::new(t)?);
    }
    let token = credential.get_token(&request).await?;
    let tenant = args.tenant.as_deref().unwrap_or(credential.tenant_id());
    let subscription = subscription(args.subscription.as_deref());
    let az = token::AzToken::new(&token, tenant, subscription.as_deref())
        .map_err(|e| Failure::new(fail::EXIT_FAILED, "output", e))?;
    Ok((az.to_json(), az.to_table()))
}

/// `--subscription`, else `AZURE_SUBSCRIPTION_ID`, else the workspace config's (if one is found
/// from the current directory and parses; otherwise none).
fn subscription(flag: Option<&str>) -> Option<String> {
    use auth_core::Env;
    flag.map(str::to_owned)
        .or_else(|| ProcessEnv.var("AZURE_SUBSCRIPTION_ID"))
        .or_else(|| {
            workspace_config::find_config_from_process()
                .ok()
                .map(|c| c.config.subscription_id)
        })
}
