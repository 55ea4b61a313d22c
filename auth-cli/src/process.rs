//! Finding and running `az`: no shell, a safe working directory, stdin closed, bounded output,
//! killed at the timeout (protocol reference §3.3).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use auth_core::{Env, Error};
use tokio::io::{AsyncRead, AsyncReadExt};
use zeroize::Zeroizing;

/// The most bytes read from az's stdout or stderr (a token answer is a few KiB).
const MAX_OUTPUT_BYTES: u64 = 1 << 20;

/// How long the pipes are still read after az has exited: a process az left behind (an
/// update check, telemetry) may hold them open, and must not turn an answer into a timeout.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// What one run of az printed.
pub(crate) struct Output {
    pub(crate) status: ExitStatus,
    /// Holds the token on success: zeroed when dropped.
    pub(crate) stdout: Zeroizing<Vec<u8>>,
    pub(crate) stderr: Zeroizing<Vec<u8>>,
}

/// Where az is: the first `az` (on Windows `az.cmd`, then `az`) in the `PATH` entries.
pub(crate) fn find_az(path: Option<&OsStr>, windows: bool) -> Option<PathBuf> {
    let names: &[&str] = if windows { &["az.cmd", "az"] } else { &["az"] };
    std::env::split_paths(path?)
        .filter(|dir| dir.is_absolute())
        .find_map(|dir| names.iter().map(|n| dir.join(n)).find(|p| is_executable(p)))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// The directory az runs in: `/bin` on POSIX, `%SYSTEMROOT%` on Windows, so that az never
/// picks up files from the program's own directory.
pub(crate) fn working_dir(env: &dyn Env) -> Result<PathBuf, Error> {
    if cfg!(windows) {
        env.var("SYSTEMROOT").map(PathBuf::from).ok_or_else(|| {
            Error::unavailable(
                "the environment variable SYSTEMROOT has no value; az is run from there",
            )
        })
    } else {
        Ok(PathBuf::from("/bin"))
    }
}

/// How a run ended when it did not exit by itself.
pub(crate) enum RunError {
    /// The process could not be started.
    Spawn(std::io::Error),
    /// It did not finish within the timeout and was killed.
    TimedOut,
}

/// Runs `az` with `args` in `dir`, with stdin closed and `AZURE_CORE_NO_COLOR=true`, in a
/// process group of its own on Unix; kills the group (and reaps az) if az has not finished
/// within `timeout`.
pub(crate) async fn run(
    az: &Path,
    args: &[String],
    dir: &Path,
    timeout: Duration,
) -> Result<Output, RunError> {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place the Azure CLI credential starts a process"
    )]
    let mut command = tokio::process::Command::new(az);
    command
        .args(args)
        .current_dir(dir)
        .env("AZURE_CORE_NO_COLOR", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // az on Linux and macOS is a shell script that runs python as its child: killing the
    // script alone would leave python running. Its own group lets the timeout kill both.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().map_err(RunError::Spawn)?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (mut out, mut err) = (Zeroizing::new(Vec::new()), Zeroizing::new(Vec::new()));
    let finish = async {
        let reads =
            async { tokio::join!(read_capped(stdout, &mut out), read_capped(stderr, &mut err)) };
        tokio::pin!(reads);
        let exited = tokio::select! {
            _ = &mut reads => None,
            status = child.wait() => Some(status),
        };
        match exited {
            Some(status) => {
                // What az printed is in the pipes; whatever still holds them open is not az.
                let _ = tokio::time::timeout(PIPE_GRACE, &mut reads).await;
                status
            }
            None => child.wait().await,
        }
    };
    match tokio::time::timeout(timeout, finish).await {
        Ok(Ok(status)) => Ok(Output {
            status,
            stdout: out,
            stderr: err,
        }),
        Ok(Err(e)) => Err(RunError::Spawn(e)),
        Err(_) => {
            kill_group(&child);
            // Kill now and reap it, rather than leaving that to the drop.
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
            Err(RunError::TimedOut)
        }
    }
}

/// Kills az's process group: az and everything it started.
#[cfg(unix)]
fn kill_group(child: &tokio::process::Child) {
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_child: &tokio::process::Child) {}

/// Reads `pipe` into `buf`, at most [`MAX_OUTPUT_BYTES`]; what was read stays in `buf` when
/// the read is cut short.
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, buf: &mut Zeroizing<Vec<u8>>) {
    if let Some(pipe) = pipe {
        // A pipe that breaks mid-way leaves what was read: the exit status tells the rest.
        let _ = pipe.take(MAX_OUTPUT_BYTES).read_to_end(buf).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(dir: &Path, name: &str, mode: u32) {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
    }

    #[test]
    fn az_is_found_on_path_and_az_cmd_first_on_windows() {
        let root = std::env::temp_dir().join(format!("auth-cli-find-{}", std::process::id()));
        let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
        for d in [&a, &b, &c] {
            std::fs::create_dir_all(d).unwrap();
        }
        make(&a, "az", 0o644); // not executable: skipped on Unix
        make(&b, "az", 0o755);
        make(&c, "az.cmd", 0o755);
        make(&c, "az", 0o755);
        let path = std::env::join_paths([&a, &b, &c]).unwrap();
        let found = find_az(Some(&path), false).unwrap();
        if cfg!(unix) {
            assert_eq!(found, b.join("az"));
        }
        // Windows looks for az.cmd before az in each entry.
        let path = std::env::join_paths([&c, &b]).unwrap();
        assert_eq!(find_az(Some(&path), true).unwrap(), c.join("az.cmd"));
        // Relative entries (the current directory) are never searched.
        let rel = std::env::join_paths([Path::new("relative"), &b]).unwrap();
        assert_eq!(find_az(Some(&rel), false).unwrap(), b.join("az"));
        assert!(find_az(Some(OsStr::new("")), false).is_none());
        assert!(find_az(None, false).is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
