//! AzureCliCredential against the stand-in `az` of auth-testkit, first (and alone) on the PATH
//! the credential searches; the stand-in gets its tokens from the emulator over real HTTP.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod credential;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use auth_cli::AzureCliOptions;
use auth_testkit::az::AzStandIn;
use auth_testkit::{Emulator, Setup};

/// The stand-in binary (`target/<profile>/az`), built once if this run has not built it.
pub fn stand_in_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            // target/<profile>/deps/it-<hash> → target/<profile>/az
            let exe = std::env::current_exe().unwrap();
            let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
            let binary = profile_dir.join(if cfg!(windows) { "az.exe" } else { "az" });
            if !binary.exists() {
                let target = profile_dir.parent().unwrap();
                let status = std::process::Command::new(env!("CARGO"))
                    .args(["build", "-q", "-p", "auth-testkit", "--bin", "az"])
                    .env("CARGO_TARGET_DIR", target)
                    .status()
                    .unwrap();
                assert!(status.success(), "building the stand-in az failed");
            }
            binary
        })
        .clone()
}

/// An emulator with the sample setup and a stand-in az logged in to it.
pub async fn logged_in() -> (Emulator, AzStandIn) {
    let emu = Emulator::start(Setup::sample()).await.unwrap();
    let az = AzStandIn::install(&emu, &stand_in_binary()).unwrap();
    (emu, az)
}

/// Options whose PATH holds only the stand-in.
pub fn options(az: &AzStandIn) -> AzureCliOptions {
    let env: HashMap<String, String> = [("PATH".to_owned(), az.dir().display().to_string())].into();
    AzureCliOptions::new().env(Arc::new(env))
}
