//! The seed's example, both ways: who may create a compute instance and who may use it.

use rbac::{AccessModel, RoleDefinition};

use crate::{WS, action, check};

const CI: &str = "WS/computes/ci-1";

#[test]
fn an_admin_role_may_create_a_compute_instance_but_not_start_it() {
    let admin = RoleDefinition::from_json(
        r#"{"Name":"Compute Creator","IsCustom":true,"Description":"creates computes, cannot use them",
            "Actions":["Microsoft.MachineLearningServices/workspaces/computes/read",
                       "Microsoft.MachineLearningServices/workspaces/computes/write",
                       "Microsoft.MachineLearningServices/workspaces/computes/delete"],
            "NotActions":[],"AssignableScopes":["/"]}"#,
    )
    .unwrap();
    let model = AccessModel::builder()
        .roles(admin)
        .assign("automation", "Compute Creator", WS)
        .build()
        .unwrap();
    check(
        &model,
        "automation",
        &action("ML/computes/write"),
        CI,
        "roleAssignment",
    );
    check(
        &model,
        "automation",
        &action("ML/computes/delete"),
        CI,
        "roleAssignment",
    );
    check(
        &model,
        "automation",
        &action("ML/computes/start/action"),
        CI,
        "notGranted",
    );
    check(
        &model,
        "automation",
        &action("ML/computes/applicationaccess/action"),
        CI,
        "notGranted",
    );
}

#[test]
fn a_data_scientist_may_start_a_compute_instance_but_not_create_or_delete_it() {
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("scientist", "AzureML Data Scientist", WS)
        .build()
        .unwrap();
    for op in [
        "start/action",
        "stop/action",
        "restart/action",
        "read",
        "applicationaccess/action",
    ] {
        check(
            &model,
            "scientist",
            &action(&format!("ML/computes/{op}")),
            CI,
            "roleAssignment",
        );
    }
    check(
        &model,
        "scientist",
        &action("ML/computes/write"),
        CI,
        "notActions",
    );
    check(
        &model,
        "scientist",
        &action("ML/computes/delete"),
        CI,
        "notActions",
    );
    check(
        &model,
        "scientist",
        &action("ML/computes/listKeys/action"),
        CI,
        "notActions",
    );
}

#[test]
fn the_compute_operator_may_create_and_use_computes_but_nothing_else() {
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("operator", "AzureML Compute Operator", WS)
        .build()
        .unwrap();
    check(
        &model,
        "operator",
        &action("ML/computes/write"),
        CI,
        "roleAssignment",
    );
    check(
        &model,
        "operator",
        &action("ML/computes/start/action"),
        CI,
        "roleAssignment",
    );
    check(
        &model,
        "operator",
        &action("ML/jobs/write"),
        "WS",
        "notGranted",
    );
}
