//! The command line itself: help, unknown flags, missing commands.

use crate::support::{Amlauth, TempDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_documents_exit_codes_and_examples() {
    let dir = TempDir::new();
    let run = Amlauth::new(dir.path(), &["--help"]).run().await;
    assert_eq!(run.code, 0, "{run:?}");
    for needle in [
        "Exit codes:",
        "3  rbac check: not allowed",
        "Examples:",
        "amlauth token",
        "AML_PRINCIPAL_PASS",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} missing from --help:\n{}",
            run.stdout
        );
    }
    for sub in [
        &["token", "--help"][..],
        &["workspace", "show", "--help"],
        &["rbac", "check", "--help"],
        &["rbac", "suggest", "--help"],
        &["compute", "start", "--help"],
    ] {
        let run = Amlauth::new(dir.path(), sub).run().await;
        assert_eq!(run.code, 0, "{sub:?}: {run:?}");
        assert!(
            run.stdout.contains("Examples:"),
            "{sub:?} has no examples:\n{}",
            run.stdout
        );
    }
    let run = Amlauth::new(dir.path(), &["--version"]).run().await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("amlauth "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_flag_is_one_line_and_exit_code_2() {
    let dir = TempDir::new();
    let run = Amlauth::new(dir.path(), &["token", "--bogus"]).run().await;
    run.assert_one_line_error(2, "--bogus");
    let run = Amlauth::new(dir.path(), &["frobnicate"]).run().await;
    run.assert_one_line_error(2, "frobnicate");
    let run = Amlauth::new(dir.path(), &["token", "--output", "yaml"])
        .run()
        .await;
    run.assert_one_line_error(2, "yaml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_help_and_exit_code_2() {
    let dir = TempDir::new();
    let run = Amlauth::new(dir.path(), &[]).run().await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("Usage:"), "{run:?}");
}
