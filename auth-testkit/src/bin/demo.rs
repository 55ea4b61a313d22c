//! `cargo xtask demo`: the seed's story against the local emulator, with no Azure account.
//!
//! Azure ML SDK v1 users sign in with a service principal from environment variables and call
//! `Workspace.from_config()`. This demo runs the built `amlauth` binary (the xtask builds it
//! first) as a user would, against an emulator started in this process:
//!
//! 1. a service principal from `AML_TENANT_ID`/`AML_PRINCIPAL_ID`/`AML_PRINCIPAL_PASS` gets a
//!    token (`amlauth token`, az's JSON);
//! 2. the workspace is read from `config.json` (`amlauth workspace show`; the principal is a
//!    Reader of the workspace);
//! 3. starting a compute instance, an action Reader lacks, is refused by ARM (403
//!    `AuthorizationFailed` naming the action and the scope);
//! 4. `amlauth rbac explain` says why, over the role assignments as `az role assignment list`
//!    prints them, and `amlauth rbac suggest` names the least-privileged built-in role;
//! 5. an admin assigns that role (in the emulator, as `az role assignment create` would), and
//!    the same call succeeds; `amlauth rbac check` agrees (exit code 0).
//!
//! The `amlauth` binary is found beside this one (`target/debug/`), else under
//! `CARGO_TARGET_DIR`.
#![allow(clippy::print_stdout, clippy::print_stderr)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use auth_testkit::{App, Emulator, Setup, Tenant, User, Workspace, sample};

/// The compute instance the story starts.
const COMPUTE: &str = "ci-demo";
/// The role an admin assigns once the refusal is explained.
const START_ACTION: &str = "Microsoft.MachineLearningServices/workspaces/computes/start/action";
/// Credential variables that must not leak from the caller's shell into the story.
const CLEARED: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZUREML_SERVICE_PRINCIPAL_TENANT_ID",
    "AZUREML_SERVICE_PRINCIPAL_ID",
    "AZUREML_SERVICE_PRINCIPAL_PASSWORD",
    "AZURE_AUTH_LOCATION",
    "AZUREML_CONFIG_PATH",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_ADDITIONALLY_ALLOWED_TENANTS",
];

type Result<T> = std::result::Result<T, String>;

fn ws_scope() -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
        sample::SUBSCRIPTION_ID,
        sample::RESOURCE_GROUP,
        sample::WORKSPACE_NAME
    )
}

/// The sample world, except that the app is only a Reader of the workspace; the sample user
/// (the admin) is a Contributor of the resource group.
fn setup() -> Setup {
    let rg = format!(
        "/subscriptions/{}/resourceGroups/{}",
        sample::SUBSCRIPTION_ID,
        sample::RESOURCE_GROUP
    );
    Setup::new()
        .tenant(Tenant::new(sample::TENANT_ID).domain(sample::TENANT_DOMAIN))
        .app(
            App::new(sample::TENANT_ID, sample::CLIENT_ID)
                .object_id(sample::APP_OBJECT_ID)
                .display_name("azureml-auth sample app")
                .secret(sample::CLIENT_SECRET),
        )
        .user(
            User::new(sample::TENANT_ID, sample::USER_NAME)
                .object_id(sample::USER_OBJECT_ID)
                .password(sample::USER_PASSWORD),
        )
        .workspace(
            Workspace::new(
                sample::SUBSCRIPTION_ID,
                sample::RESOURCE_GROUP,
                sample::WORKSPACE_NAME,
            )
            .workspace_id(sample::WORKSPACE_ID),
        )
        .role_assignment(sample::USER_OBJECT_ID, "Contributor", &rg)
        .role_assignment(sample::APP_OBJECT_ID, "Reader", &ws_scope())
}

/// `az role assignment list` for the given (role, scope) pairs of the app.
fn assignments_json(roles: &[(&str, &str)]) -> String {
    let list: Vec<serde_json::Value> = roles
        .iter()
        .enumerate()
        .map(|(i, (role, scope))| {
            serde_json::json!({
                "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/0000000{i}-0000-4000-8000-000000000000"),
                "name": format!("0000000{i}-0000-4000-8000-000000000000"),
                "principalId": sample::APP_OBJECT_ID,
                "principalName": sample::CLIENT_ID,
                "principalType": "ServicePrincipal",
                "roleDefinitionName": role,
                "scope": scope,
                "type": "Microsoft.Authorization/roleAssignments",
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default()
}

/// The built `amlauth`: beside this executable, else in `CARGO_TARGET_DIR/debug`, else in the
/// workspace's `target/debug`.
fn amlauth_path() -> Result<PathBuf> {
    let name = format!("amlauth{}", std::env::consts::EXE_SUFFIX);
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        candidates.push(dir.join(&name));
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("debug").join(&name));
    }
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/debug")
            .join(&name),
    );
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        "the amlauth binary is not built: run `cargo build --bin amlauth --features tool` (cargo xtask demo does)".to_owned()
    })
}

struct Story {
    amlauth: PathBuf,
    dir: PathBuf,
    authority: String,
    arm: String,
    started: Instant,
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Story {
    fn say(&self, text: &str) {
        use std::io::IsTerminal;
        let (bold, plain) = if std::io::stdout().is_terminal() {
            ("\x1b[1m", "\x1b[0m")
        } else {
            ("", "")
        };
        println!(
            "\n{bold}[{:>4.1} s] {text}{plain}",
            self.started.elapsed().as_secs_f64()
        );
    }

    /// Runs `amlauth args` as a user would in the project directory, printing the command and
    /// its output. The access token is shortened on screen (it is an emulator token).
    async fn amlauth(&self, args: &[&str]) -> Result<Outcome> {
        println!("$ amlauth {}", args.join(" "));
        let mut cmd = Command::new(&self.amlauth);
        cmd.args(args).current_dir(&self.dir);
        for v in CLEARED {
            cmd.env_remove(v);
        }
        cmd.env("AML_TENANT_ID", sample::TENANT_ID)
            .env("AML_PRINCIPAL_ID", sample::CLIENT_ID)
            .env("AML_PRINCIPAL_PASS", sample::CLIENT_SECRET)
            .env("AZURE_AUTHORITY_HOST", &self.authority)
            .env("AZUREML_ARM_ENDPOINT", &self.arm);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .map_err(|e| format!("could not wait for amlauth: {e}"))?
            .map_err(|e| format!("could not run amlauth: {e}"))?;
        let o = Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        for line in o.stdout.lines() {
            println!("  {}", shorten_token(line));
        }
        for line in o.stderr.lines() {
            println!("  {line}");
        }
        println!("  (exit code {})", o.code);
        Ok(o)
    }
}

/// `"accessToken": "eyJ...xyz"` → `"accessToken": "eyJ0eXAiOi…(812 characters)"`.
fn shorten_token(line: &str) -> String {
    let key = "\"accessToken\": \"";
    match line.find(key) {
        Some(i) => {
            let value = line[i + key.len()..].trim_end_matches(['"', ',']);
            let head: String = value.chars().take(12).collect();
            format!(
                "{}{head}…({} characters)\",",
                &line[..i + key.len()],
                value.len()
            )
        }
        None => line.to_owned(),
    }
}

fn expect(what: &str, o: &Outcome, code: i32) -> Result<()> {
    if o.code == code {
        Ok(())
    } else {
        Err(format!("{what}: expected exit code {code}, got {}", o.code))
    }
}

/// Creates the compute instance as the admin would (a raw PUT with the admin's token), so the
/// story has something to start.
fn create_compute(emu: &Emulator) -> Result<()> {
    let token = emu.mint_token(
        sample::USER_OBJECT_ID,
        "https://management.core.windows.net/",
    );
    let arm = emu.arm_endpoint();
    let authority = arm
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let path = format!("{}/computes/{COMPUTE}?api-version=2022-05-01", ws_scope());
    let body = r#"{"location":"eastus2","properties":{"computeType":"ComputeInstance","properties":{"vmSize":"STANDARD_DS3_V2"}}}"#;
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(&authority)
        .map_err(|e| format!("could not reach the emulator's ARM: {e}"))?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("could not send to the emulator: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("could not read the emulator's answer: {e}"))?;
    let status = response.split(' ').nth(1).unwrap_or("");
    if status.starts_with('2') {
        Ok(())
    } else {
        Err(format!(
            "creating the compute instance failed: {}",
            response.lines().next().unwrap_or("")
        ))
    }
}

async fn story() -> Result<()> {
    let started = Instant::now();
    let amlauth = amlauth_path()?;
    let emu = Emulator::start(setup())
        .await
        .map_err(|e| format!("could not start the emulator: {e}"))?;
    let dir = std::env::temp_dir().join(format!("amlauth-demo-{}", std::process::id()));
    std::fs::create_dir_all(dir.join(".azureml")).map_err(|e| e.to_string())?;
    let config = serde_json::json!({
        "subscription_id": sample::SUBSCRIPTION_ID,
        "resource_group": sample::RESOURCE_GROUP,
        "workspace_name": sample::WORKSPACE_NAME,
    });
    std::fs::write(
        dir.join(".azureml").join("config.json"),
        serde_json::to_string_pretty(&config).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    let ws = ws_scope();
    let compute_scope = format!("{ws}/computes/{COMPUTE}");
    let assignments = dir.join("assignments.json");
    std::fs::write(&assignments, assignments_json(&[("Reader", &ws)]))
        .map_err(|e| e.to_string())?;
    create_compute(&emu)?;

    let s = Story {
        amlauth,
        dir: dir.clone(),
        authority: emu.authority_host(),
        arm: emu.arm_endpoint(),
        started,
    };
    println!(
        "azureml-auth demo: Azure ML SDK v1's service principal story, against a local emulator"
    );
    println!("  Entra ID (emulated): {}", s.authority);
    println!("  ARM (emulated):      {}", s.arm);
    println!("  project directory:   {}", dir.display());
    println!(
        "  environment:         AML_TENANT_ID, AML_PRINCIPAL_ID, AML_PRINCIPAL_PASS (emulator sample credentials),"
    );
    println!(
        "                       AZURE_AUTHORITY_HOST and AZUREML_ARM_ENDPOINT pointing at the emulator"
    );

    s.say("1. The service principal from the environment gets a token, printed as `az account get-access-token` prints it");
    let o = s.amlauth(&["token"]).await?;
    expect("amlauth token", &o, 0)?;

    s.say("2. The workspace is read, from .azureml/config.json as Workspace.from_config() finds it (the principal is a Reader)");
    let o = s.amlauth(&["workspace", "show"]).await?;
    expect("amlauth workspace show", &o, 0)?;

    s.say("3. Starting a compute instance is an action a Reader lacks: ARM refuses it, naming the action and the scope");
    let o = s.amlauth(&["compute", "start", COMPUTE]).await?;
    expect("amlauth compute start (before)", &o, 1)?;
    if !o.stderr.contains("AuthorizationFailed") || !o.stderr.contains(START_ACTION) {
        return Err("ARM's refusal did not name the action".into());
    }

    s.say("4. Why? The role assignments, as `az role assignment list` prints them, explain it");
    let o = s
        .amlauth(&[
            "rbac",
            "explain",
            "--principal",
            sample::APP_OBJECT_ID,
            "--action",
            START_ACTION,
            "--scope",
            &compute_scope,
            "--assignments",
            "assignments.json",
        ])
        .await?;
    expect("amlauth rbac explain", &o, 0)?;

    s.say("5. Which role would do, and nothing more?");
    let o = s
        .amlauth(&["rbac", "suggest", "--action", START_ACTION, "--scope", &ws])
        .await?;
    expect("amlauth rbac suggest", &o, 0)?;
    let role = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("least-privileged built-in role: "))
        .and_then(|l| l.split(" (").next())
        .ok_or("rbac suggest named no role")?
        .to_owned();

    s.say(&format!(
        "6. An admin assigns it: az role assignment create --assignee {} --role \"{role}\" --scope <workspace>",
        sample::CLIENT_ID
    ));
    emu.assign_role(sample::APP_OBJECT_ID, &role, &ws);
    std::fs::write(
        &assignments,
        assignments_json(&[("Reader", &ws), (&role, &ws)]),
    )
    .map_err(|e| e.to_string())?;
    let o = s
        .amlauth(&[
            "rbac",
            "check",
            "--principal",
            sample::APP_OBJECT_ID,
            "--action",
            START_ACTION,
            "--scope",
            &compute_scope,
            "--assignments",
            "assignments.json",
        ])
        .await?;
    expect("amlauth rbac check", &o, 0)?;

    s.say("7. The same call now succeeds");
    let o = s.amlauth(&["compute", "start", COMPUTE]).await?;
    expect("amlauth compute start (after)", &o, 0)?;

    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\nDone in {:.1} s: token, workspace, refusal explained, least privilege named and granted, success.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    match story().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
