//! A stand-in for the Azure CLI (`az`), for tests of the Azure CLI credential.
//!
//! [`AzStandIn::install`] makes a folder holding an executable named `az` (a link to the
//! `az` binary of this crate) and its state file; a test puts the folder first on the `PATH`
//! the credential searches. The stand-in answers `az account get-access-token` and
//! `az account show` from its login, as az 2.9x does: a service principal login whose tokens it
//! gets from the emulator's token endpoint (client credentials with the `CP1` claims az always
//! sends, §3.7), printed byte for byte as az prints them (both expiry fields, keys sorted,
//! two-space indent), and it fails as az fails: the same stderr text and exit codes (§3.4).
//! Every run is appended to a log, so a test can count spawns.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::{Emulator, sample};

/// How the stand-in behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AzMode {
    /// Logged in: answers as az 2.54 and later (`expires_on` and `expiresOn`).
    LoggedIn,
    /// Logged in, answering as az before 2.54: `expiresOn` (local time) only.
    LegacyExpiry,
    /// `az login` was never run: `ERROR: Please run 'az login' to setup account.`, exit 1.
    NotLoggedIn,
    /// Never answers (a hung az: a prompt, a stuck network call).
    Hang,
    /// Exit 0 with output that is not JSON.
    Garbage,
    /// Fails (exit 1) echoing a token on stderr, as a crashing az with debug output could.
    LeakyFailure,
}

impl AzMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::LoggedIn => "logged-in",
            Self::LegacyExpiry => "legacy-expiry",
            Self::NotLoggedIn => "not-logged-in",
            Self::Hang => "hang",
            Self::Garbage => "garbage",
            Self::LeakyFailure => "leaky-failure",
        }
    }
}

/// The token text the [`AzMode::LeakyFailure`] stand-in echoes on stderr.
pub const LEAKED_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.bGVha2VkLXRva2Vu.c2lnbmF0dXJl";

/// The stand-in binary next to the running test or bench (`target/<profile>/az`), built by
/// cargo (`cargo build -p auth-testkit --bin az`) when it is missing, and always from a
/// release profile (benchmarks), at most once per process. A workspace test run
/// (`cargo nextest run --workspace`) builds it fresh with every other binary; building it
/// again here with `-p` alone would unify features differently and rebuild its dependencies.
///
/// # Panics
/// When the test's own path cannot be read or cargo fails to build the stand-in: a test
/// cannot go on without it.
#[allow(
    clippy::disallowed_methods,
    reason = "runs cargo, as a build step of the tests"
)]
pub fn stand_in_binary() -> PathBuf {
    static BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BINARY
        .get_or_init(|| {
            // target/<profile>/deps/<test>-<hash> → target/<profile>/az
            let exe = std::env::current_exe().expect("the test's own path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("a test binary lives in target/<profile>/deps")
                .to_path_buf();
            let binary = profile_dir.join(if cfg!(windows) { "az.exe" } else { "az" });
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            if binary.exists() && !release {
                return binary;
            }
            let mut cargo = std::process::Command::new(env!("CARGO"));
            cargo.args(["build", "-q", "-p", "auth-testkit", "--bin", "az"]);
            if release {
                cargo.arg("--release");
            }
            if let Some(target) = profile_dir.parent() {
                cargo.env("CARGO_TARGET_DIR", target);
            }
            let status = cargo.status().expect("cargo runs");
            assert!(status.success(), "building the stand-in az failed");
            binary
        })
        .clone()
}

/// A folder with a stand-in `az` and its state; removed on drop.
#[derive(Debug)]
pub struct AzStandIn {
    dir: PathBuf,
    state: Value,
}

impl AzStandIn {
    /// Installs a stand-in logged in as the emulator's sample service principal (tenant
    /// [`sample::TENANT_ID`], subscription [`sample::SUBSCRIPTION_ID`]), using the `az` binary
    /// at `binary` (built from this crate: `target/<profile>/az`).
    ///
    /// # Errors
    /// When the folder, the link or the state file cannot be written.
    pub fn install(emulator: &Emulator, binary: &Path) -> std::io::Result<Self> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "auth-testkit-az-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let link = dir.join("az");
        let _ = std::fs::remove_file(&link);
        #[cfg(unix)]
        std::os::unix::fs::symlink(binary, &link)?;
        #[cfg(not(unix))]
        std::fs::copy(binary, &link).map(|_| ())?;
        let stand_in = Self {
            state: json!({
                "mode": AzMode::LoggedIn.as_str(),
                "authority": emulator.authority_host(),
                "tenant": sample::TENANT_ID,
                "client_id": sample::CLIENT_ID,
                "client_secret": sample::CLIENT_SECRET,
                "subscription_id": sample::SUBSCRIPTION_ID,
                "subscription_name": "Contoso ML (emulator)",
                "delay_ms": 0,
            }),
            dir,
        };
        stand_in.save()?;
        Ok(stand_in)
    }

    /// The folder to put first on `PATH`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sets how the stand-in behaves from its next run on.
    ///
    /// # Errors
    /// When the state file cannot be written.
    pub fn set_mode(&mut self, mode: AzMode) -> std::io::Result<()> {
        self.state["mode"] = json!(mode.as_str());
        self.save()
    }

    /// Makes every run take `ms` milliseconds more (az's cold start), so that concurrent
    /// callers overlap.
    ///
    /// # Errors
    /// When the state file cannot be written.
    pub fn set_delay_ms(&mut self, ms: u64) -> std::io::Result<()> {
        self.state["delay_ms"] = json!(ms);
        self.save()
    }

    /// The command lines of the runs so far (arguments after `az`, space-separated).
    pub fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("runs.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn save(&self) -> std::io::Result<()> {
        let tmp = self.dir.join("state.json.tmp");
        std::fs::write(&tmp, self.state.to_string())?;
        std::fs::rename(tmp, self.dir.join("state.json"))
    }
}

impl Drop for AzStandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The stand-in's `main`: `args` are the arguments after `az`; the state is next to `argv0`.
#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line stand-in"
)]
pub fn main(argv0: &Path, args: &[String]) -> ExitCode {
    let dir = argv0.parent().unwrap_or(Path::new("."));
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("runs.log"))
        .and_then(|mut f| writeln!(f, "{}", args.join(" ")));
    let state: Value = match std::fs::read(dir.join("state.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(s) => s,
        None => {
            return fail(
                "ERROR: The command failed with an unexpected error. Here is the traceback:\nstand-in state missing",
                1,
            );
        }
    };
    let delay = state["delay_ms"].as_u64().unwrap_or(0);
    if delay > 0 {
        std::thread::sleep(std::time::Duration::from_millis(delay));
    }
    let mode = state["mode"].as_str().unwrap_or_default();
    match mode {
        "hang" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        "not-logged-in" => return fail("ERROR: Please run 'az login' to setup account.", 1),
        "garbage" => {
            println!("WARNING: this is not the JSON you asked for {{");
            return ExitCode::SUCCESS;
        }
        "leaky-failure" => {
            return fail(
                &format!(
                    "ERROR: The command failed with an unexpected error. Here is the traceback:\nKeyError: {{\"accessToken\": \"{LEAKED_TOKEN}\", \"tokenType\": \"Bearer\"}}"
                ),
                1,
            );
        }
        _ => {}
    }
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["account", "show", rest @ ..] if output_json(rest) => {
            print!("{}", account_show(&state));
            ExitCode::SUCCESS
        }
        ["account", "get-access-token", rest @ ..] => get_access_token(&state, rest, mode),
        _ => fail(
            &format!(
                "ERROR: 'az {}' is misspelled or not recognized by the system.",
                args.join(" ")
            ),
            2,
        ),
    }
}

#[allow(clippy::print_stderr, reason = "a command-line stand-in")]
fn fail(stderr: &str, code: u8) -> ExitCode {
    eprintln!("{stderr}");
    ExitCode::from(code)
}

fn output_json(rest: &[&str]) -> bool {
    rest.windows(2).any(|w| w == ["--output", "json"]) || rest.is_empty()
}

fn option<'a>(rest: &[&'a str], name: &str) -> Option<&'a str> {
    rest.iter()
        .position(|a| *a == name)
        .and_then(|i| rest.get(i + 1).copied())
}

/// `az account show --output json` for the login, as az prints it (two-space indent).
fn account_show(state: &Value) -> String {
    let account = json!({
        "environmentName": "AzureCloud",
        "homeTenantId": state["tenant"],
        "id": state["subscription_id"],
        "isDefault": true,
        "managedByTenants": [],
        "name": state["subscription_name"],
        "state": "Enabled",
        "tenantId": state["tenant"],
        "user": {"name": state["client_id"], "type": "servicePrincipal"},
    });
    pretty(&account)
}

fn pretty(value: &Value) -> String {
    let mut out = serde_json::to_string_pretty(value).unwrap_or_default();
    out.push('\n');
    out
}

#[allow(clippy::print_stdout, reason = "a command-line stand-in")]
fn get_access_token(state: &Value, rest: &[&str], mode: &str) -> ExitCode {
    if !output_json(rest) {
        return fail("ERROR: the stand-in az answers --output json only", 2);
    }
    let scope = match (option(rest, "--resource"), option(rest, "--scope")) {
        // az appends /.default to the resource unchanged (§3.7).
        (Some(r), None) => format!("{r}/.default"),
        (None, Some(s)) => s.to_owned(),
        (None, None) => "https://management.core.windows.net//.default".to_owned(),
        (Some(_), Some(_)) => {
            return fail(
                "ERROR: usage error: --resource and --scope are mutually exclusive",
                2,
            );
        }
    };
    let tenant = option(rest, "--tenant").unwrap_or(state["tenant"].as_str().unwrap_or_default());
    if let Some(sub) = option(rest, "--subscription")
        && sub != state["subscription_id"].as_str().unwrap_or_default()
    {
        return fail(
            &format!(
                "ERROR: Subscription '{sub}' not found. Check the spelling and casing and try again."
            ),
            1,
        );
    }
    let authority = state["authority"].as_str().unwrap_or_default();
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", state["client_id"].as_str().unwrap_or_default())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_info", "1")
        .append_pair(
            "client_secret",
            state["client_secret"].as_str().unwrap_or_default(),
        )
        .append_pair("scope", &scope)
        .append_pair(
            "claims",
            r#"{"access_token": {"xms_cc": {"values": ["CP1"]}}}"#,
        )
        .finish();
    let (status, body) = match post(authority, &format!("/{tenant}/oauth2/v2.0/token"), &form) {
        Ok(r) => r,
        Err(e) => {
            return fail(
                &format!("ERROR: HTTPSConnectionPool: Max retries exceeded ({e})"),
                1,
            );
        }
    };
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status != 200 {
        let description = answer["error_description"]
            .as_str()
            .unwrap_or("the token request failed")
            .replace("\r\n", " ");
        let hint = if option(rest, "--tenant").is_some() {
            format!("az login --tenant {tenant}")
        } else {
            format!("az login --scope {scope}")
        };
        return fail(
            &format!(
                "ERROR: {description}\nInteractive authentication is needed. Please run:\n{hint}"
            ),
            1,
        );
    }
    let token = answer["access_token"].as_str().unwrap_or_default();
    let expires_in = answer["expires_in"].as_u64().unwrap_or(3599);
    let expires_on = now_unix() + expires_in;
    let mut fields = serde_json::Map::new();
    fields.insert("accessToken".into(), json!(token));
    fields.insert("expiresOn".into(), json!(local_time(expires_on)));
    if mode != "legacy-expiry" {
        fields.insert("expires_on".into(), json!(expires_on));
    }
    fields.insert("subscription".into(), state["subscription_id"].clone());
    fields.insert("tenant".into(), json!(tenant));
    fields.insert("tokenType".into(), json!("Bearer"));
    print!("{}", pretty(&Value::Object(fields)));
    ExitCode::SUCCESS
}

#[allow(
    clippy::disallowed_methods,
    reason = "the stand-in tells the time as az does"
)]
fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `secs` as az prints `expiresOn`: the machine's local time, `YYYY-MM-DD HH:MM:SS.ffffff`.
fn local_time(secs: u64) -> String {
    let Ok(t) = jiff::Timestamp::from_second(i64::try_from(secs).unwrap_or(i64::MAX)) else {
        return String::new();
    };
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M:%S.%6f")
        .to_string()
}

/// A plain-http POST of a form to `base` (`http://127.0.0.1:port`) + `path`.
fn post(base: &str, path: &str, form: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("the stand-in az talks plain http to the emulator"))?;
    // Bounded, so that a stuck emulator fails the run instead of hanging it.
    let mut conn = std::net::TcpStream::connect(host)?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    conn.set_write_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nUser-Agent: AZURECLI/2.91.0 (stand-in)\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )?;
    let mut response = Vec::new();
    conn.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_on_is_printed_as_az_prints_it() {
        let shown = local_time(1_752_576_337);
        assert_eq!(shown.len(), "2025-07-15 10:45:37.000000".len(), "{shown}");
        assert!(shown.ends_with(":37.000000"), "{shown}");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
