//! The standalone emulator binary's command line: help and bad flags never start a server.

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    #[allow(clippy::disallowed_methods, reason = "the test runs the built binary")]
    let mut command = Command::new(env!("CARGO_BIN_EXE_emulator"));
    command.args(args).output().unwrap()
}

#[test]
fn help_prints_usage_and_exits() {
    for flag in ["--help", "-h"] {
        let out = run(&[flag]);
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("usage: emulator [--tls]"), "{stdout}");
        assert!(
            !stdout.contains("Ctrl-C to stop"),
            "no server was started: {stdout}"
        );
    }
}

#[test]
fn unknown_or_malformed_flags_are_errors() {
    for (args, message) in [
        (&["--bogus"][..], "emulator: unknown argument \"--bogus\""),
        (
            &["--entra-port", "x"][..],
            "--entra-port needs a port number",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
        assert!(stderr.contains("usage: emulator"), "{stderr}");
        assert!(out.stdout.is_empty(), "no server was started");
    }
}
