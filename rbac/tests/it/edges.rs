//! Edge cases: wildcards, NotActions across roles, data actions, deny assignments,
//! inheritance, sibling scopes with a shared prefix, case, groups, conditions.

use rbac::{AccessModel, Action, DenyAssignment, RoleAssignment, RoleDefinition};

use crate::{RG, SUB, WS, action, check, scope};

fn role(json: &str) -> Vec<RoleDefinition> {
    RoleDefinition::from_json(json).unwrap()
}

fn blob_read() -> Action {
    Action::data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read").unwrap()
}

#[test]
fn wildcards_span_segments_and_a_whole_segment_star_may_match_none() {
    let roles = role(
        r#"[{"Name":"Star","Actions":["*"],"AssignableScopes":["/"]},
            {"Name":"ReadAll","Actions":["*/read"],"AssignableScopes":["/"]},
            {"Name":"Provider","Actions":["Microsoft.MachineLearningServices/*"],"AssignableScopes":["/"]},
            {"Name":"Mid","Actions":["Microsoft.MachineLearningServices/workspaces/*/read"],"AssignableScopes":["/"]},
            {"Name":"Partial","Actions":["Microsoft.MachineLearningServices/work*/read"],"AssignableScopes":["/"]}]"#,
    );
    let model = AccessModel::builder()
        .roles(roles)
        .assign("star", "Star", SUB)
        .assign("read", "ReadAll", SUB)
        .assign("prov", "Provider", SUB)
        .assign("mid", "Mid", SUB)
        .assign("part", "Partial", SUB)
        .build()
        .unwrap();
    check(
        &model,
        "star",
        &action("Microsoft.Anything/at/all/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &model,
        "read",
        &action("ML/computes/read"),
        "WS",
        "roleAssignment",
    );
    check(
        &model,
        "read",
        &action("ML/computes/write"),
        "WS",
        "notGranted",
    );
    check(
        &model,
        "prov",
        &action("ML/computes/start/action"),
        "WS",
        "roleAssignment",
    );
    check(
        &model,
        "prov",
        &action("Microsoft.MachineLearningServicesX/workspaces/read"),
        "WS",
        "notGranted",
    );
    check(
        &model,
        "mid",
        &action("ML/computes/read"),
        "WS",
        "roleAssignment",
    );
    check(
        &model,
        "mid",
        &action("ML/onlineEndpoints/deployments/read"),
        "WS",
        "roleAssignment",
    );
    check(&model, "mid", &action("ML/read"), "WS", "roleAssignment");
    check(
        &model,
        "mid",
        &action("ML/computes/readSecrets/action"),
        "WS",
        "notGranted",
    );
    check(&model, "part", &action("ML/read"), "WS", "roleAssignment");
    check(
        &model,
        "part",
        &action("ML/computes/read"),
        "WS",
        "roleAssignment",
    );
    // Outside the embedded catalog the same rules apply (slow path).
    check(
        &model,
        "mid",
        &action("ML/widgets/gadgets/read"),
        "WS",
        "roleAssignment",
    );
    check(
        &model,
        "mid",
        &action("ML/widgets/gadgets/write"),
        "WS",
        "notGranted",
    );
}

#[test]
fn not_actions_of_one_role_do_not_stop_another_role_granting() {
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("p", "AzureML Data Scientist", WS)
        .assign("p", "AzureML Compute Operator", WS)
        .assign("q", "Contributor", SUB)
        .assign("q", "User Access Administrator", RG)
        .build()
        .unwrap();
    check(
        &model,
        "p",
        &action("ML/computes/write"),
        "WS/computes/c",
        "roleAssignment",
    );
    let e = model.explain("p", &action("ML/computes/write"), &scope("WS/computes/c"));
    assert_eq!(e.grants[0].role, "AzureML Compute Operator");
    assert_eq!(e.removals[0].role, "AzureML Data Scientist");
    let write_ra = action("Microsoft.Authorization/roleAssignments/write");
    check(&model, "q", &write_ra, "RG", "roleAssignment");
    check(&model, "q", &write_ra, "SUB", "notActions");
}

#[test]
fn not_actions_subtract_within_one_permission_entry() {
    let roles = role(
        r#"{"roleName":"Two entries","permissions":[
              {"actions":["Microsoft.MachineLearningServices/workspaces/*"],"notActions":["Microsoft.MachineLearningServices/workspaces/computes/*"]},
              {"actions":["Microsoft.MachineLearningServices/workspaces/computes/read"]}],
            "assignableScopes":["/"]}"#,
    );
    let model = AccessModel::builder()
        .roles(roles)
        .assign("p", "Two entries", WS)
        .build()
        .unwrap();
    check(
        &model,
        "p",
        &action("ML/computes/read"),
        "WS",
        "roleAssignment",
    );
    check(
        &model,
        "p",
        &action("ML/computes/write"),
        "WS",
        "notActions",
    );
    check(
        &model,
        "p",
        &action("ML/jobs/write"),
        "WS",
        "roleAssignment",
    );
}

#[test]
fn control_and_data_actions_are_checked_apart() {
    let custom = role(
        r#"{"Name":"Blob editor","Actions":[],"DataActions":["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"],
            "NotDataActions":["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"],"AssignableScopes":["/"]}"#,
    );
    let storage =
        "RG/providers/Microsoft.Storage/storageAccounts/st/blobServices/default/containers/c";
    let model = AccessModel::builder()
        .builtin_roles()
        .roles(custom)
        .assign("owner", "Owner", SUB)
        .assign("reader", "Storage Blob Data Reader", RG)
        .assign("editor", "Blob editor", RG)
        .build()
        .unwrap();
    // `*` in Actions grants no data action.
    check(&model, "owner", &blob_read(), storage, "notGranted");
    check(&model, "reader", &blob_read(), storage, "roleAssignment");
    // The same string as a control action is not granted by DataActions.
    check(
        &model,
        "reader",
        &action("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"),
        storage,
        "notGranted",
    );
    let del =
        Action::data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete")
            .unwrap();
    check(&model, "editor", &del, storage, "notActions");
    check(
        &model,
        "editor",
        &Action::data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write")
            .unwrap(),
        storage,
        "roleAssignment",
    );
    // A data action outside the catalog takes the slow path with the same rules.
    check(
        &model,
        "editor",
        &Action::data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/write")
            .unwrap(),
        storage,
        "roleAssignment",
    );
}

fn deny(json: &str) -> DenyAssignment {
    DenyAssignment::from_json(json).unwrap().remove(0)
}

#[test]
fn a_deny_assignment_wins_over_owner_unless_the_principal_is_excluded() {
    let d = deny(&format!(
        r#"{{"denyAssignmentName":"no deletes","id":"/deny/1","scope":"{RG}","permissions":[{{"actions":["*/delete"],"notActions":["Microsoft.MachineLearningServices/workspaces/jobs/delete"]}}],
            "principals":[{{"id":"00000000-0000-0000-0000-000000000000","type":"SystemDefined"}}],
            "excludePrincipals":[{{"id":"admins","type":"Group"}}]}}"#
    ));
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("owner", "Owner", SUB)
        .assign("boss", "Owner", SUB)
        .group_member("admins", "boss")
        .deny(d)
        .build()
        .unwrap();
    check(
        &model,
        "owner",
        &action("ML/delete"),
        "WS",
        "denyAssignment",
    );
    check(&model, "owner", &action("ML/write"), "WS", "roleAssignment");
    // The deny's own notActions carve out of it.
    check(
        &model,
        "owner",
        &action("ML/jobs/delete"),
        "WS",
        "roleAssignment",
    );
    // Excluded through a group.
    check(&model, "boss", &action("ML/delete"), "WS", "roleAssignment");
    // Everyone includes principals the model has never seen.
    check(
        &model,
        "stranger",
        &action("ML/delete"),
        "WS",
        "denyAssignment",
    );
    // Not above its scope.
    check(
        &model,
        "owner",
        &action("Microsoft.Resources/subscriptions/resourceGroups/delete"),
        "SUB",
        "roleAssignment",
    );
    let message = model
        .authorization_failed_message(
            "owner@contoso",
            "owner",
            &action("ML/delete"),
            &scope("WS"),
            model.check("owner", &action("ML/delete"), &scope("WS")),
        )
        .unwrap();
    assert!(message.ends_with(&format!("The access is denied because of the deny assignment with name 'no deletes' and Id '/deny/1' at scope '{RG}'.")), "{message}");
}

#[test]
fn a_deny_assignment_not_applying_to_child_scopes_binds_only_its_own_scope() {
    let d = deny(&format!(
        r#"{{"denyAssignmentName":"rg only","scope":"{RG}","permissions":[{{"actions":["*"]}}],
            "principals":[{{"id":"p","type":"User"}}],"doNotApplyToChildScopes":true}}"#
    ));
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("p", "Owner", SUB)
        .deny(d)
        .build()
        .unwrap();
    check(
        &model,
        "p",
        &action("Microsoft.Resources/subscriptions/resourceGroups/write"),
        "RG",
        "denyAssignment",
    );
    check(&model, "p", &action("ML/write"), "WS", "roleAssignment");
}

#[test]
fn a_deny_assignment_on_data_actions_does_not_block_control_actions() {
    let d = deny(
        r#"{"denyAssignmentName":"no blob data","scope":"/","permissions":[{"dataActions":["*"]}],
            "principals":[{"id":"g","type":"Group"}]}"#,
    );
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("p", "Storage Blob Data Reader", SUB)
        .group_member("g", "p")
        .deny(d)
        .build()
        .unwrap();
    check(&model, "p", &blob_read(), "RG", "denyAssignment");
    check(
        &model,
        "p",
        &action("Microsoft.Storage/storageAccounts/blobServices/containers/read"),
        "RG",
        "roleAssignment",
    );
}

#[test]
fn assignments_inherit_down_the_hierarchy_and_never_up_or_sideways() {
    let mg = "/providers/Microsoft.Management/managementGroups/contoso";
    let child_mg = "/providers/Microsoft.Management/managementGroups/ml";
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("root", "Reader", "/")
        .assign("mg", "Reader", mg)
        .assign("sub", "Reader", SUB)
        .assign("ws", "Reader", WS)
        .management_group_child(mg, child_mg)
        .management_group_child(child_mg, SUB)
        .build()
        .unwrap();
    let read = action("ML/computes/read");
    for who in ["root", "mg", "sub", "ws"] {
        check(&model, who, &read, "WS/computes/c", "roleAssignment");
    }
    check(&model, "ws", &read, "RG", "notGranted");
    check(&model, "sub", &read, mg, "notGranted");
    check(
        &model,
        "mg",
        &read,
        "/subscriptions/99999999-2222-3333-4444-555555555555",
        "notGranted",
    );
    check(
        &model,
        "root",
        &read,
        "/subscriptions/99999999-2222-3333-4444-555555555555",
        "roleAssignment",
    );
}

#[test]
fn sibling_scopes_with_a_shared_prefix_are_not_covered() {
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("p", "Owner", RG)
        .assign("q", "Owner", WS)
        .assign("r", "Owner", "/subscriptions/1")
        .build()
        .unwrap();
    let write = action("ML/write");
    check(
        &model,
        "p",
        &write,
        &format!("{RG}2/providers/Microsoft.MachineLearningServices/workspaces/ws"),
        "notGranted",
    );
    check(
        &model,
        "p",
        &write,
        &format!("{RG}X/providers/Microsoft.MachineLearningServices/workspaces/ws"),
        "notGranted",
    );
    check(&model, "q", &write, &format!("{WS}2"), "notGranted");
    check(
        &model,
        "q",
        &write,
        &format!("{WS}-dev/computes/c"),
        "notGranted",
    );
    check(&model, "r", &write, "/subscriptions/10", "notGranted");
    check(
        &model,
        "r",
        &write,
        "/subscriptions/1/resourceGroups/x",
        "roleAssignment",
    );
}

#[test]
fn principals_scopes_and_actions_compare_case_insensitively() {
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("AbCd-EF01", "azureml data scientist", &WS.to_uppercase())
        .build()
        .unwrap();
    let a = Action::parse("MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/START/ACTION")
        .unwrap();
    check(
        &model,
        "abcd-ef01",
        &a,
        &WS.to_lowercase(),
        "roleAssignment",
    );
    check(
        &model,
        "ABCD-EF01",
        &action("ML/computes/write"),
        "WS",
        "notActions",
    );
}

#[test]
fn group_membership_is_transitive_and_cycles_are_harmless() {
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("outer", "AzureML Data Scientist", WS)
        .group_member("outer", "inner")
        .group_member("inner", "alice")
        .group_member("inner", "outer")
        .build()
        .unwrap();
    check(
        &model,
        "alice",
        &action("ML/jobs/write"),
        "WS",
        "roleAssignment",
    );
    assert_eq!(model.groups_of("alice"), ["inner", "outer"]);
    check(&model, "bob", &action("ML/jobs/write"), "WS", "notGranted");
}

#[test]
fn an_assignment_with_a_condition_grants_nothing() {
    let mut a = RoleAssignment::new("p", "Owner", scope("WS"));
    a.condition = Some("@Resource[...] StringEquals 'x'".to_owned());
    let model = AccessModel::builder()
        .builtin_roles()
        .assignment(a)
        .build()
        .unwrap();
    check(&model, "p", &action("ML/read"), "WS", "notGranted");
}

#[test]
fn assignable_scopes_are_not_enforced_at_check_time() {
    let narrow = role(&format!(
        r#"{{"Name":"Narrow","Actions":["*/read"],"AssignableScopes":["{RG}"]}}"#
    ));
    let model = AccessModel::builder()
        .roles(narrow)
        .assign("p", "Narrow", SUB)
        .build()
        .unwrap();
    check(
        &model,
        "p",
        &action("Microsoft.Resources/subscriptions/read"),
        "SUB",
        "roleAssignment",
    );
}
