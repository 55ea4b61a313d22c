//! The custom role examples of the Azure ML docs parse, round-trip, and behave as documented.

use rbac::{AccessModel, RoleDefinition};

use crate::{WS, action, check};

const EXAMPLES: &str = include_str!("../data/custom-role-examples.json");

fn examples() -> Vec<RoleDefinition> {
    RoleDefinition::from_json(EXAMPLES).unwrap()
}

/// A model where principal "p" holds only the `index`th example role at the workspace.
fn holding(index: usize) -> AccessModel {
    let role = examples().remove(index);
    let name = role.role_name.clone();
    AccessModel::builder()
        .role(role)
        .assign("p", &name, WS)
        .build()
        .unwrap()
}

#[test]
fn every_example_parses_and_round_trips_through_az_and_powershell_json() {
    let roles = examples();
    assert_eq!(roles.len(), 11);
    for r in &roles {
        assert_eq!(r.role_type, rbac::RoleType::Custom);
        let az = serde_json::to_string(r).unwrap();
        assert_eq!(
            &RoleDefinition::from_json(&az).unwrap()[0],
            r,
            "az round trip of {}",
            r.role_name
        );
        let ps = r.to_powershell_json().unwrap().to_string();
        assert_eq!(
            &RoleDefinition::from_json(&ps).unwrap()[0],
            r,
            "powershell round trip of {}",
            r.role_name
        );
    }
    assert_eq!(
        roles[0].assignable_scopes[0].kind(),
        rbac::ScopeKind::Resource
    );
}

#[test]
fn data_scientist_custom_with_star_actions_runs_but_cannot_create_compute() {
    let m = holding(0);
    check(
        &m,
        "p",
        &action("ML/computes/start/action"),
        "WS/computes/c",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/computes/write"),
        "WS/computes/c",
        "notActions",
    );
    check(
        &m,
        "p",
        &action("ML/computes/delete"),
        "WS/computes/c",
        "notActions",
    );
    check(&m, "p", &action("ML/write"), "WS", "notActions");
    check(&m, "p", &action("ML/jobs/delete"), "WS", "notActions");
    check(
        &m,
        "p",
        &action("Microsoft.Authorization/roleAssignments/write"),
        "WS",
        "notActions",
    );
    check(
        &m,
        "p",
        &action("Microsoft.Storage/storageAccounts/read"),
        "WS",
        "roleAssignment",
    );
    let blob =
        rbac::Action::data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read")
            .unwrap();
    check(&m, "p", &blob, "WS", "notGranted");
}

#[test]
fn data_scientist_custom_cannot_deploy_to_aks_or_list_keys() {
    let m = holding(1);
    check(
        &m,
        "p",
        &action("ML/experiments/runs/submit/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/services/aks/write"),
        "WS",
        "notActions",
    );
    check(&m, "p", &action("ML/listKeys/action"), "WS", "notActions");
    check(
        &m,
        "p",
        &action("ML/endpoints/pipelines/write"),
        "WS",
        "notActions",
    );
    check(&m, "p", &action("ML/computes/write"), "WS", "notActions");
}

#[test]
fn data_scientist_restricted_custom_starts_but_does_not_create_compute() {
    let m = holding(2);
    for op in ["start/action", "stop/action", "restart/action"] {
        check(
            &m,
            "p",
            &action(&format!("ML/computes/{op}")),
            "WS/computes/c",
            "roleAssignment",
        );
    }
    check(
        &m,
        "p",
        &action("ML/computes/write"),
        "WS/computes/c",
        "notGranted",
    );
    // models/*/write also matches models/write: a whole-segment * may match no segment.
    check(&m, "p", &action("ML/models/write"), "WS", "roleAssignment");
    check(
        &m,
        "p",
        &action("ML/models/versions/write"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/datasets/registered/profile/read"),
        "WS",
        "notActions",
    );
    check(&m, "p", &action("ML/datastores/write"), "WS", "notGranted");
}

#[test]
fn mlflow_data_scientist_custom_tracks_and_registers_models() {
    let m = holding(3);
    check(
        &m,
        "p",
        &action("ML/experiments/runs/submit/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/jobs/cancel/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/models/versions/write"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/computes/start/action"),
        "WS",
        "notGranted",
    );
}

#[test]
fn mlops_custom_runs_published_pipelines_only() {
    let m = holding(4);
    check(
        &m,
        "p",
        &action("ML/experiments/runs/submit/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/endpoints/pipelines/read"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/endpoints/pipelines/write"),
        "WS",
        "notGranted",
    );
    check(&m, "p", &action("ML/computes/write"), "WS", "notGranted");
}

#[test]
fn workspace_admin_custom_assigns_roles_but_cannot_modify_the_workspace() {
    let m = holding(5);
    check(
        &m,
        "p",
        &action("Microsoft.Authorization/roleAssignments/write"),
        "WS",
        "roleAssignment",
    );
    check(&m, "p", &action("ML/write"), "WS", "notActions");
    check(
        &m,
        "p",
        &action("ML/computes/write"),
        "WS",
        "roleAssignment",
    );
    check(&m, "p", &action("ML/delete"), "WS", "roleAssignment");
}

#[test]
fn labeling_roles_split_labeling_work_as_documented() {
    // Labeling Team Lead
    let m = holding(6);
    check(
        &m,
        "p",
        &action("ML/labeling/labels/write"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/labeling/labels/reject/action"),
        "WS",
        "roleAssignment",
    );
    // NotActions that no Action matches are a no-op: the reason is "not granted".
    check(
        &m,
        "p",
        &action("ML/labeling/projects/write"),
        "WS",
        "notGranted",
    );
    check(
        &m,
        "p",
        &action("ML/labeling/export/action"),
        "WS",
        "notGranted",
    );
    // Vendor account admin
    let m = holding(7);
    check(
        &m,
        "p",
        &action("ML/labeling/export/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/labeling/labels/approve_unapprove/action"),
        "WS",
        "roleAssignment",
    );
    // Customer QA
    let m = holding(8);
    check(
        &m,
        "p",
        &action("ML/labeling/labels/write"),
        "WS",
        "notGranted",
    );
    check(
        &m,
        "p",
        &action("ML/labeling/labels/approve_unapprove/action"),
        "WS",
        "roleAssignment",
    );
    // Vendor QA
    let m = holding(9);
    check(
        &m,
        "p",
        &action("ML/labeling/export/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/datasets/registered/read"),
        "WS",
        "notGranted",
    );
    // Labeler Custom
    let m = holding(10);
    check(
        &m,
        "p",
        &action("ML/labeling/labels/write"),
        "WS",
        "roleAssignment",
    );
    check(
        &m,
        "p",
        &action("ML/labeling/projects/summary/read"),
        "WS",
        "notGranted",
    );
}

#[test]
fn two_examples_with_the_same_name_replace_each_other_in_a_model() {
    let model = AccessModel::builder().roles(examples()).build().unwrap();
    assert_eq!(model.roles().len(), 10);
    let ds = model.role("data scientist custom").unwrap();
    assert_eq!(
        ds.description,
        "Can run experiment but can't create or delete compute or deploy production endpoints."
    );
}
