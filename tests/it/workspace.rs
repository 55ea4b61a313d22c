//! `amlauth workspace show`: with a config (given, searched, named by AZUREML_CONFIG_PATH),
//! without one (the three ids; none at all), malformed, and refused by ARM.

use auth_testkit::{Emulator, sample};

use crate::support::{Amlauth, TempDir, setup_with, ws_id};

async fn reader() -> Emulator {
    Emulator::start(setup_with(&[("Reader", &ws_id())]))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_with_a_config_found_by_searching_from_a_subfolder() {
    let emu = reader().await;
    let dir = TempDir::new();
    let config = dir.sample_config(".azureml/config.json");
    std::fs::create_dir_all(dir.path().join("notebooks/2024")).unwrap();
    let run = Amlauth::against(
        &emu,
        &dir.path().join("notebooks/2024"),
        &["workspace", "show"],
    )
    .run()
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("config:         {} (search)", config.display())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("workspace id:   {}", sample::WORKSPACE_ID))
    );
    assert!(run.stdout.contains(&ws_id()));

    let run = Amlauth::against(&emu, dir.path(), &["workspace", "show", "-o", "json"])
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["config"]["path"], config.display().to_string());
    assert_eq!(v["config"]["origin"], "search");
    assert_eq!(v["workspace"]["name"], sample::WORKSPACE_NAME);
    assert_eq!(v["workspace"]["id"], ws_id());
    assert_eq!(v["workspace"]["subscriptionId"], sample::SUBSCRIPTION_ID);
    assert_eq!(v["workspace"]["resourceGroup"], sample::RESOURCE_GROUP);
    assert_eq!(v["workspace"]["workspaceId"], sample::WORKSPACE_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_with_a_given_config_or_the_environment_s() {
    let emu = reader().await;
    let dir = TempDir::new();
    let other = TempDir::new();
    let config = dir.sample_config("my-config.json");
    let run = Amlauth::against(
        &emu,
        other.path(),
        &[
            "workspace",
            "show",
            "--config",
            config.to_str().unwrap(),
            "-o",
            "json",
        ],
    )
    .run()
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["config"]["origin"], "given");
    assert_eq!(run.json()["config"]["path"], config.display().to_string());

    let run = Amlauth::against(&emu, other.path(), &["workspace", "show", "-o", "json"])
        .env("AZUREML_CONFIG_PATH", config.to_str().unwrap())
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["config"]["origin"], "AZUREML_CONFIG_PATH");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_without_a_config_from_the_three_ids() {
    let emu = reader().await;
    let dir = TempDir::new();
    let run = Amlauth::against(
        &emu,
        dir.path(),
        &[
            "workspace",
            "show",
            "--subscription",
            sample::SUBSCRIPTION_ID,
            "-g",
            sample::RESOURCE_GROUP,
            "-w",
            sample::WORKSPACE_NAME,
            "-o",
            "json",
        ],
    )
    .run()
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["config"], serde_json::Value::Null);
    assert_eq!(run.json()["workspace"]["id"], ws_id());
    // Only two of the three ids: a usage error.
    let run = Amlauth::against(
        &emu,
        dir.path(),
        &["workspace", "show", "-g", "rg", "-w", "ws"],
    )
    .run()
    .await;
    run.assert_one_line_error(2, "--subscription");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_config_anywhere_is_one_line_and_exit_code_2() {
    let emu = reader().await;
    let dir = TempDir::new();
    let run = Amlauth::against(&emu, dir.path(), &["workspace", "show"])
        .run()
        .await;
    run.assert_one_line_error(2, "config");
    assert!(
        emu.requests().is_empty(),
        "nothing is sent without a workspace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_config_is_one_line_naming_the_file_and_exit_code_2() {
    let emu = reader().await;
    let dir = TempDir::new();
    let bad = dir.write(
        ".azureml/config.json",
        r#"{"subscription_id": "s", "resource_group": "#,
    );
    let run = Amlauth::against(&emu, dir.path(), &["workspace", "show"])
        .run()
        .await;
    run.assert_one_line_error(2, &bad.display().to_string());
    let missing = dir.write(
        "missing.json",
        r#"{"subscription_id": "s", "resource_group": "rg"}"#,
    );
    let run = Amlauth::against(
        &emu,
        dir.path(),
        &["workspace", "show", "--config", missing.to_str().unwrap()],
    )
    .run()
    .await;
    run.assert_one_line_error(2, "workspace_name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_without_a_role_is_refused_with_action_and_scope() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    dir.sample_config("config.json");
    let run = Amlauth::against(&emu, dir.path(), &["workspace", "show"])
        .run()
        .await;
    run.assert_one_line_error(1, "AuthorizationFailed");
    assert!(
        run.stderr
            .contains("Microsoft.MachineLearningServices/workspaces/read"),
        "{run:?}"
    );
    // Once a role is assigned, the same command succeeds.
    emu.assign_role(sample::APP_OBJECT_ID, "Reader", &ws_id());
    let run = Amlauth::against(&emu, dir.path(), &["workspace", "show"])
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_workspace_is_exit_code_1() {
    let emu = reader().await;
    let dir = TempDir::new();
    let run = Amlauth::against(
        &emu,
        dir.path(),
        &[
            "workspace",
            "show",
            "--subscription",
            sample::SUBSCRIPTION_ID,
            "-g",
            sample::RESOURCE_GROUP,
            "-w",
            "no-such-ws",
        ],
    )
    .run()
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
}

/// A config.json of the sample workspace that names its `cloud`.
fn config_with_cloud(dir: &TempDir, cloud: &str) {
    dir.write(
        ".azureml/config.json",
        &format!(
            r#"{{"subscription_id": "{}", "resource_group": "{}", "workspace_name": "{}", "cloud": "{cloud}"}}"#,
            sample::SUBSCRIPTION_ID,
            sample::RESOURCE_GROUP,
            sample::WORKSPACE_NAME
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_naming_its_cloud_works_with_an_arm_endpoint_override() {
    let emu = reader().await;
    let dir = TempDir::new();
    config_with_cloud(&dir, "AzureCloud");
    let run = Amlauth::against(&emu, dir.path(), &["workspace", "show", "-o", "json"])
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["workspace"]["id"], ws_id());
    // The override wins over whichever cloud the config names.
    config_with_cloud(&dir, "AzureChinaCloud");
    let run = Amlauth::against(&emu, dir.path(), &["workspace", "show", "-o", "json"])
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    // compute goes the same way: past the cloud check to ARM (which refuses a Reader).
    let run = Amlauth::against(&emu, dir.path(), &["compute", "start", "ci1", "-o", "json"])
        .run()
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    let err: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "forbidden", "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_of_another_cloud_than_the_authority_host_s_is_refused() {
    let emu = reader().await;
    let dir = TempDir::new();
    config_with_cloud(&dir, "AzureChinaCloud");
    // The authority host names the cloud (the public one's audiences, the emulator's host),
    // and no ARM endpoint is given: the workspace's cloud is not the client's.
    let run = Amlauth::new(dir.path(), &["workspace", "show"])
        .env("AML_TENANT_ID", sample::TENANT_ID)
        .env("AML_PRINCIPAL_ID", sample::CLIENT_ID)
        .env("AML_PRINCIPAL_PASS", sample::CLIENT_SECRET)
        .env("AZURE_AUTHORITY_HOST", &emu.authority_host())
        .run()
        .await;
    run.assert_one_line_error(2, "AzureChinaCloud");
    assert!(emu.requests().is_empty(), "nothing is sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_auth_file_says_where_to_sign_in_even_when_the_config_names_a_cloud() {
    let emu = reader().await;
    let dir = TempDir::new();
    config_with_cloud(&dir, "AzureCloud");
    let sdk_auth = dir.write(
        "sp.json",
        &format!(
            r#"{{"clientId": "{}", "clientSecret": "{}", "tenantId": "{}", "activeDirectoryEndpointUrl": "{}"}}"#,
            sample::CLIENT_ID,
            sample::CLIENT_SECRET,
            sample::TENANT_ID,
            emu.authority_host()
        ),
    );
    // No AZURE_AUTHORITY_HOST: the config's AzureCloud must not send the secret to the public
    // authority; the file's (the emulator) is where the service principal signs in.
    let run = Amlauth::new(
        dir.path(),
        &[
            "workspace",
            "show",
            "--sdk-auth",
            sdk_auth.to_str().unwrap(),
            "-o",
            "json",
        ],
    )
    .env("AZUREML_ARM_ENDPOINT", &emu.arm_endpoint())
    .run()
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["workspace"]["id"], ws_id());
}
