//! Running `amlauth` against an emulator.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use auth_testkit::{App, Emulator, Setup, Tenant, Workspace, sample};

/// The sample workspace's ARM id.
pub(crate) fn ws_id() -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
        sample::SUBSCRIPTION_ID,
        sample::RESOURCE_GROUP,
        sample::WORKSPACE_NAME
    )
}

/// The sample world with the app holding `roles` (name, scope) and nothing else.
pub(crate) fn setup_with(roles: &[(&str, &str)]) -> Setup {
    let mut s = Setup::new()
        .tenant(Tenant::new(sample::TENANT_ID).domain(sample::TENANT_DOMAIN))
        .app(
            App::new(sample::TENANT_ID, sample::CLIENT_ID)
                .object_id(sample::APP_OBJECT_ID)
                .secret(sample::CLIENT_SECRET),
        )
        .workspace(
            Workspace::new(
                sample::SUBSCRIPTION_ID,
                sample::RESOURCE_GROUP,
                sample::WORKSPACE_NAME,
            )
            .workspace_id(sample::WORKSPACE_ID),
        );
    for (role, scope) in roles {
        s = s.role_assignment(sample::APP_OBJECT_ID, role, scope);
    }
    s
}

/// A fresh, empty temporary directory (removed when dropped).
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "amlauth-it-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` to `name` (creating parent folders) and returns the path.
    pub(crate) fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Writes the sample workspace's config.json at `name`.
    pub(crate) fn sample_config(&self, name: &str) -> PathBuf {
        self.write(
            name,
            &format!(
                r#"{{"subscription_id": "{}", "resource_group": "{}", "workspace_name": "{}"}}"#,
                sample::SUBSCRIPTION_ID,
                sample::RESOURCE_GROUP,
                sample::WORKSPACE_NAME
            ),
        )
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a run printed.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts the failure contract: this exit code, nothing on stdout, one line on stderr
    /// starting `amlauth: `, containing `needle`.
    pub(crate) fn assert_one_line_error(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "{self:?}");
        assert_eq!(self.stdout, "", "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "{self:?}");
        assert!(self.stderr.starts_with("amlauth: "), "{self:?}");
        assert!(self.stderr.contains(needle), "{needle:?} not in {self:?}");
    }
}

/// An `amlauth` invocation: a clean environment (no credential, config or cloud variable of
/// the machine), UTC unless a test sets `TZ`.
pub(crate) struct Amlauth {
    cmd: Command,
}

/// Variables of the machine that must not reach the tool.
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
    "AML_TENANT_ID",
    "AML_PRINCIPAL_ID",
    "AML_PRINCIPAL_PASS",
    "AZURE_AUTH_LOCATION",
    "AZURE_AUTHORITY_HOST",
    "AZUREML_ARM_ENDPOINT",
    "AZUREML_CONFIG_PATH",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_ADDITIONALLY_ALLOWED_TENANTS",
];

impl Amlauth {
    /// `amlauth args` in `dir`, with no credentials.
    pub(crate) fn new(dir: &Path, args: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_amlauth"));
        cmd.args(args).current_dir(dir).env("TZ", "UTC0");
        for v in CLEARED {
            cmd.env_remove(v);
        }
        Self { cmd }
    }

    /// With the emulator's endpoints and the sample service principal in `AML_*` variables.
    pub(crate) fn against(emu: &Emulator, dir: &Path, args: &[&str]) -> Self {
        Self::new(dir, args)
            .env("AML_TENANT_ID", sample::TENANT_ID)
            .env("AML_PRINCIPAL_ID", sample::CLIENT_ID)
            .env("AML_PRINCIPAL_PASS", sample::CLIENT_SECRET)
            .endpoints(emu)
    }

    /// Only the emulator's endpoints.
    pub(crate) fn endpoints(self, emu: &Emulator) -> Self {
        self.env("AZURE_AUTHORITY_HOST", &emu.authority_host())
            .env("AZUREML_ARM_ENDPOINT", &emu.arm_endpoint())
    }

    pub(crate) fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// Runs it (off the async runtime's threads, so the emulator keeps serving).
    pub(crate) async fn run(self) -> Run {
        let mut cmd = self.cmd;
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        assert!(
            !run.stdout.contains(sample::CLIENT_SECRET)
                && !run.stderr.contains(sample::CLIENT_SECRET),
            "the client secret was printed: {run:?}"
        );
        run
    }
}
