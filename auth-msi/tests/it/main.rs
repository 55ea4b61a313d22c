//! Integration tests of auth-msi against the auth-testkit emulator, over real HTTP on
//! 127.0.0.1. One binary, one module per area.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod common;
mod emulator;
mod imds;
mod leaks;
mod refusals;
mod sources;
