//! `amlauth rbac check | explain | suggest` over az's JSON files.

use crate::support::{Amlauth, Run, TempDir, ws_id};

const OID: &str = "a11ce000-0000-4000-8000-00000000b001";
const START: &str = "Microsoft.MachineLearningServices/workspaces/computes/start/action";
const CREATE: &str = "Microsoft.MachineLearningServices/workspaces/computes/write";
const READ: &str = "Microsoft.MachineLearningServices/workspaces/read";

/// `az role assignment list` output: the principal is an AzureML Data Scientist of the
/// workspace, and its group a Reader of the subscription.
fn assignments(dir: &TempDir) -> String {
    let ws = ws_id();
    let json = format!(
        r#"[
  {{"id": "{ws}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-000000000001",
    "name": "00000000-0000-4000-8000-000000000001", "principalId": "{OID}",
    "principalType": "ServicePrincipal", "roleDefinitionName": "AzureML Data Scientist",
    "roleDefinitionId": "/subscriptions/5ab5c000-0000-4000-8000-00000000d001/providers/Microsoft.Authorization/roleDefinitions/f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "scope": "{ws}", "type": "Microsoft.Authorization/roleAssignments"}},
  {{"id": "/subscriptions/5ab5c000-0000-4000-8000-00000000d001/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-000000000002",
    "name": "00000000-0000-4000-8000-000000000002", "principalId": "99999999-0000-4000-8000-000000000009",
    "principalType": "Group", "roleDefinitionName": "Reader",
    "scope": "/subscriptions/5ab5c000-0000-4000-8000-00000000d001", "type": "Microsoft.Authorization/roleAssignments"}}
]"#
    );
    dir.write("assignments.json", &json).display().to_string()
}

async fn rbac(dir: &TempDir, args: &[&str]) -> Run {
    let mut all = vec!["rbac"];
    all.extend_from_slice(args);
    Amlauth::new(dir.path(), &all).run().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_exit_codes_and_json_fields() {
    let dir = TempDir::new();
    let a = assignments(&dir);
    let compute = format!("{}/computes/ci1", ws_id());
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            START,
            "--scope",
            &compute,
            "--assignments",
            &a,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("allowed"), "{run:?}");
    assert!(
        run.stdout
            .contains("granted by role \"AzureML Data Scientist\""),
        "check names the deciding role: {run:?}"
    );

    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            CREATE,
            "--scope",
            &compute,
            "--assignments",
            &a,
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 3, "not allowed is exit code 3: {run:?}");
    let v = run.json();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["reason"], "notActions");
    assert_eq!(v["action"], CREATE);
    assert_eq!(v["principalId"], OID);
    assert_eq!(v["scope"], compute);

    // Nobody holds anything without assignments.
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            READ,
            "--scope",
            &ws_id(),
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 3);
    assert_eq!(run.json()["reason"], "notGranted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_denies_are_read_from_files() {
    let dir = TempDir::new();
    let a = assignments(&dir);
    let other = "77777777-0000-4000-8000-000000000007";
    let groups = dir.write(
        "groups.json",
        &format!(r#"{{"99999999-0000-4000-8000-000000000009": ["{other}"]}}"#),
    );
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            other,
            "--action",
            READ,
            "--scope",
            &ws_id(),
            "--assignments",
            &a,
            "--groups",
            groups.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        run.code, 0,
        "a group member gets the group's Reader: {run:?}"
    );

    let denies = dir.write(
        "denies.json",
        &format!(
            r#"[{{"id": "{ws}/providers/Microsoft.Authorization/denyAssignments/d1", "name": "d1",
                 "denyAssignmentName": "no compute starts", "scope": "{ws}",
                 "permissions": [{{"actions": ["Microsoft.MachineLearningServices/workspaces/computes/*"], "notActions": [], "dataActions": [], "notDataActions": []}}],
                 "principals": [{{"id": "{OID}", "type": "ServicePrincipal"}}], "excludePrincipals": [], "doNotApplyToChildScopes": false}}]"#,
            ws = ws_id()
        ),
    );
    let compute = format!("{}/computes/ci1", ws_id());
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            START,
            "--scope",
            &compute,
            "--assignments",
            &a,
            "--denies",
            denies.to_str().unwrap(),
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.json()["reason"], "denyAssignment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_names_role_and_pattern() {
    let dir = TempDir::new();
    let a = assignments(&dir);
    let compute = format!("{}/computes/ci1", ws_id());
    let run = rbac(
        &dir,
        &[
            "explain",
            "--principal",
            OID,
            "--action",
            CREATE,
            "--scope",
            &compute,
            "--assignments",
            &a,
        ],
    )
    .await;
    assert_eq!(
        run.code, 0,
        "explain succeeds whatever the decision: {run:?}"
    );
    assert!(run.stdout.contains("not allowed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("AzureML Data Scientist"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Microsoft.MachineLearningServices/workspaces/computes/*/write"),
        "{}",
        run.stdout
    );

    let run = rbac(
        &dir,
        &[
            "explain",
            "--principal",
            OID,
            "--action",
            START,
            "--scope",
            &compute,
            "--assignments",
            &a,
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["decision"]["allowed"], true);
    assert_eq!(v["decision"]["reason"], "roleAssignment");
    assert_eq!(v["grants"][0]["role"], "AzureML Data Scientist");
    assert_eq!(v["action"], START);

    // Data plane: Data Scientist's DataActions.
    let run = rbac(
        &dir,
        &[
            "explain",
            "--principal",
            OID,
            "--data-action",
            "Microsoft.MachineLearningServices/workspaces/jobs/read",
            "--scope",
            &ws_id(),
            "--assignments",
            &a,
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["plane"], "data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggest_names_the_least_privileged_role_and_a_custom_role() {
    let dir = TempDir::new();
    let run = rbac(&dir, &["suggest", "--action", START, "--scope", &ws_id()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("least-privileged built-in role: AzureML Compute Operator"),
        "{}",
        run.stdout
    );
    let json_start = run.stdout.find('{').unwrap();
    let custom: serde_json::Value = serde_json::from_str(&run.stdout[json_start..]).unwrap();
    assert_eq!(custom["permissions"][0]["actions"][0], START);
    assert_eq!(custom["assignableScopes"][0], ws_id());

    let run = rbac(
        &dir,
        &[
            "suggest",
            "--action",
            START,
            "--action",
            READ,
            "--scope",
            &ws_id(),
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert!(v["builtin"]["roleName"].is_string(), "{v}");
    assert_eq!(
        v["customRole"]["permissions"][0]["actions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A custom role from a file that fits better wins.
    let roles = dir.write(
        "roles.json",
        &format!(
            r#"[{{"roleName": "Compute Starter", "name": "c0c0c0c0-0000-4000-8000-000000000001", "roleType": "CustomRole",
                 "type": "Microsoft.Authorization/roleDefinitions", "description": "starts computes",
                 "assignableScopes": ["{}"],
                 "permissions": [{{"actions": ["{START}"], "notActions": [], "dataActions": [], "notDataActions": []}}]}}]"#,
            ws_id()
        ),
    );
    let run = rbac(
        &dir,
        &[
            "suggest",
            "--action",
            START,
            "--scope",
            &ws_id(),
            "--roles",
            roles.to_str().unwrap(),
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["builtin"]["roleName"], "Compute Starter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_and_exit_code_2() {
    let dir = TempDir::new();
    let broken = dir.write("broken.json", "[{\"principalId\": ");
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            READ,
            "--scope",
            &ws_id(),
            "--assignments",
            broken.to_str().unwrap(),
        ],
    )
    .await;
    run.assert_one_line_error(2, &broken.display().to_string());
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            READ,
            "--scope",
            "not-a-scope",
        ],
    )
    .await;
    run.assert_one_line_error(2, "not-a-scope");
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            READ,
            "--scope",
            &ws_id(),
            "--assignments",
            "/no/such/file.json",
        ],
    )
    .await;
    run.assert_one_line_error(2, "/no/such/file.json");
    let run = rbac(&dir, &["check", "--principal", OID, "--scope", &ws_id()]).await;
    run.assert_one_line_error(2, "--action");
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            READ,
            "--data-action",
            READ,
            "--scope",
            &ws_id(),
        ],
    )
    .await;
    run.assert_one_line_error(2, "cannot be used with");
    // --output json: the error as one JSON line.
    let run = rbac(
        &dir,
        &[
            "check",
            "--principal",
            OID,
            "--action",
            READ,
            "--scope",
            "not-a-scope",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 2);
    let err: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(err["error"]["exitCode"], 2);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_or_binary_file_is_refused_not_read_whole() {
    let dir = TempDir::new();
    let compute = format!("{}/computes/ci1", ws_id());
    let check = |file: String| {
        let dir = &dir;
        let compute = compute.clone();
        async move {
            rbac(
                dir,
                &[
                    "check",
                    "--principal",
                    OID,
                    "--action",
                    START,
                    "--scope",
                    &compute,
                    "--assignments",
                    &file,
                ],
            )
            .await
        }
    };
    let run = check("/dev/zero".to_owned()).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("cannot read the role assignments file /dev/zero: it is larger than"),
        "{run:?}"
    );
    let binary = dir.write("binary.json", "\u{0}");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    let run = check(binary.display().to_string()).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("it is not UTF-8 text"), "{run:?}");
}
