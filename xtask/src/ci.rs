//! The commands: each step is a cargo invocation, printed before it runs.

use std::process::Command;
use std::time::Instant;

type Result = std::result::Result<(), String>;

/// Runs `cargo` with `args` (and extra environment), failing on a non-zero exit.
fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result {
    eprintln!("$ cargo {}", args.join(" "));
    let started = Instant::now();
    let status = Command::new(env!("CARGO"))
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    eprintln!("  ({:.1} s)", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn cargo_output(args: &[&str]) -> std::result::Result<String, String> {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn has_nextest() -> bool {
    Command::new(env!("CARGO"))
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The fixed feature matrix of the root package.
const FEATURE_MATRIX: &[&[&str]] = &[
    &["--no-default-features"],
    &["--no-default-features", "--features", "service-principal"],
    &["--no-default-features", "--features", "certificate"],
    &["--no-default-features", "--features", "managed-identity"],
    &["--no-default-features", "--features", "azure-cli"],
    &["--no-default-features", "--features", "interactive"],
    &["--no-default-features", "--features", "workspace"],
    &["--no-default-features", "--features", "rbac"],
    &["--all-features"],
];

pub(crate) fn ci() -> Result {
    let started = Instant::now();
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    if has_nextest() {
        cargo(
            &[
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--no-fail-fast",
            ],
            &[],
        )?;
    } else {
        cargo(
            &["test", "--workspace", "--all-features", "--no-fail-fast"],
            &[],
        )?;
    }
    cargo(&["test", "--workspace", "--all-features", "--doc"], &[])?;
    for features in FEATURE_MATRIX {
        let mut args = vec!["check", "-p", "azureml-auth", "--lib"];
        args.extend_from_slice(features);
        cargo(&args, &[])?;
    }
    core_has_no_runtime()?;
    // A client-secret build compiles no certificate code, and says so clearly when asked for one.
    cargo(
        &["test", "-p", "auth-sp", "--no-default-features", "--lib"],
        &[],
    )?;
    lacks(
        &["-p", "auth-sp", "--no-default-features"],
        &["aws-lc-rs ", "pkcs8 ", "pkcs5 ", "p12-keystore "],
        "auth-sp without the certificate feature",
        "no certificate crates",
    )?;
    cargo(
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    // The README's story, end to end: it fails on any step that does not turn out as told.
    demo()?;
    eprintln!(
        "xtask ci: all steps passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `auth-core` without features must not pull an async runtime, HTTP client or TLS.
fn core_has_no_runtime() -> Result {
    lacks(
        &["-p", "auth-core", "--no-default-features"],
        &["tokio ", "reqwest ", "hyper ", "rustls ", "aws-lc-rs "],
        "auth-core (no default features)",
        "no runtime, HTTP client or TLS",
    )
}

/// Fails if the normal dependency tree that `select` picks has any of the `banned` crates.
fn lacks(select: &[&str], banned: &[&str], what: &str, claim: &str) -> Result {
    let mut args = vec!["tree"];
    args.extend_from_slice(select);
    args.extend_from_slice(&["-e", "normal", "--prefix", "none"]);
    let tree = cargo_output(&args)?;
    let found: Vec<&str> = tree
        .lines()
        .filter(|l| banned.iter().any(|b| l.starts_with(b)))
        .collect();
    if found.is_empty() {
        eprintln!("{what} depends on {claim}");
        Ok(())
    } else {
        Err(format!("{what} depends on {found:?}"))
    }
}

/// The benchmarks: each is a `harness = false` bench printing its own figures.
const BENCHES: &[(&str, &str)] = &[
    ("auth-core", "cache_hit"),
    ("auth-core", "cache_insert"),
    ("auth-testkit", "startup"),
    ("auth-sp", "cold_token"),
    ("auth-msi", "cold_token"),
    ("auth-cli", "get_token"),
    ("auth-interactive", "silent"),
    ("rbac", "check"),
];

pub(crate) fn bench(filter: &[String]) -> Result {
    for (package, bench) in BENCHES {
        if filter
            .iter()
            .all(|f| !package.contains(f.as_str()) && !bench.contains(f.as_str()))
            && !filter.is_empty()
        {
            continue;
        }
        cargo(&["bench", "-q", "-p", package, "--bench", bench], &[])?;
    }
    Ok(())
}

/// Runs the standalone emulator with `args` (`--help`, `--tls`, `--entra-port N`, ...).
pub(crate) fn emulator(args: &[String]) -> Result {
    let mut all = vec!["run", "-q", "-p", "auth-testkit", "--bin", "emulator", "--"];
    all.extend(args.iter().map(String::as_str));
    cargo(&all, &[])
}

pub(crate) fn demo() -> Result {
    cargo(
        &[
            "build",
            "-q",
            "-p",
            "azureml-auth",
            "--bin",
            "amlauth",
            "--features",
            "tool",
        ],
        &[],
    )?;
    cargo(&["run", "-q", "-p", "auth-testkit", "--bin", "demo"], &[])
}
