//! Integration tests: a plain HTTP client against a running emulator, checking each
//! endpoint's success and failure shapes field by field against the protocol references.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod arm;
mod assertions;
mod client_credentials;
mod common;
mod computes;
mod device_code;
mod discovery;
mod emulator_bin;
mod faults;
mod interactive;
mod recording;
mod sample;
mod tls;
