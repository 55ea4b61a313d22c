//! Integration tests of the facade: the built `amlauth` binary against the local emulator.
//!
//! Every test starts its own emulator (port 0) and runs `amlauth` as a subprocess with a clean
//! environment, so nothing depends on the machine's Azure setup, network or time zone. Every
//! run also checks that the client secret appears in no output.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod cli;
mod compute;
mod rbac;
mod support;
mod token;
mod workspace;
