//! Developer commands of azureml-auth, run as `cargo xtask <command>`.
//!
//! - `ci`: everything CI runs, in order: rustfmt check, clippy with warnings denied, the tests of
//!   every crate (nextest when installed, plus doctests), the feature matrix of the root package,
//!   the dependency rules of `auth-core`, and docs with warnings denied.
//! - `bench`: runs the benchmarks (release) and prints their figures.
//! - `emulator [flags]`: runs the local Entra ID + ARM emulator until interrupted; the flags go
//!   to the emulator (`cargo xtask emulator --help` lists them).
//! - `demo`: the seed's story against the emulator, through the `amlauth` tool.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod ci;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::ci(),
        Some("bench") => ci::bench(&args[1..]),
        Some("emulator") => ci::emulator(&args[1..]),
        Some("demo") => ci::demo(),
        _ => {
            eprintln!("usage: cargo xtask <ci | bench [filter] | emulator [flags] | demo>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
