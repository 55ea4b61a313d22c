//! Integration tests of auth-interactive against the auth-testkit emulator, over real HTTP on
//! 127.0.0.1. One binary, one module per area. Child processes re-run this binary (see
//! `cache::child_process`).
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod browser;
mod cache;
mod chromium;
mod common;
mod device;
mod refusals;
