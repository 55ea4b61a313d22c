//! Integration tests of auth-sp against the auth-testkit emulator, over real HTTP on
//! 127.0.0.1. One binary, one module per area.

mod cache;
mod certificate;
mod common;
mod environment;
mod faults;
mod federated;
mod leaks;
mod refusals;
mod secret;
