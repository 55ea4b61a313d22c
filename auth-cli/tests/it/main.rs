//! AzureCliCredential against the stand-in `az` of auth-testkit, first (and alone) on the PATH
//! the credential searches; the stand-in gets its tokens from the emulator over real HTTP.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod credential;

use std::collections::HashMap;
use std::sync::Arc;

use auth_cli::AzureCliOptions;
use auth_testkit::az::{AzStandIn, stand_in_binary};
use auth_testkit::{Emulator, Setup};

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
