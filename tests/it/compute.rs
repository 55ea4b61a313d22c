//! `amlauth compute start`: refused without the role, allowed once it is assigned.

use auth_testkit::{Emulator, sample};

use crate::support::{Amlauth, TempDir, setup_with, ws_id};

const START: &str = "Microsoft.MachineLearningServices/workspaces/computes/start/action";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_then_allowed_after_the_suggested_role_is_assigned() {
    let emu = Emulator::start(setup_with(&[("Reader", &ws_id())]))
        .await
        .unwrap();
    let dir = TempDir::new();
    dir.sample_config(".azureml/config.json");
    let run = Amlauth::against(&emu, dir.path(), &["compute", "start", "ci1"])
        .run()
        .await;
    run.assert_one_line_error(1, "AuthorizationFailed");
    assert!(run.stderr.contains(START), "{run:?}");
    assert!(
        run.stderr.contains(&format!("{}/computes/ci1", ws_id())),
        "{run:?}"
    );
    assert!(run.stderr.contains("amlauth rbac suggest"), "{run:?}");

    // The role `rbac suggest` names, assigned in the emulator, lets the call through to the
    // compute (which does not exist: 404, still exit code 1, but no longer a refusal).
    emu.assign_role(sample::APP_OBJECT_ID, "AzureML Compute Operator", &ws_id());
    let run = Amlauth::against(&emu, dir.path(), &["compute", "start", "ci1", "-o", "json"])
        .run()
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    let err: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "not_found", "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_compute_name_is_a_usage_error() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    dir.sample_config("config.json");
    let run = Amlauth::against(&emu, dir.path(), &["compute", "start", "../x"])
        .run()
        .await;
    run.assert_one_line_error(2, "invalid compute name");
    assert!(emu.requests().is_empty());
}
