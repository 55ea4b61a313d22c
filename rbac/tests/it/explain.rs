//! Explanations say which assignment, role and pattern decide, and agree with `check`.

use rbac::{AccessModel, Action, Decision, DenyAssignment};

use crate::{RG, SUB, WS, action, scope};

fn model() -> AccessModel {
    let deny = DenyAssignment::from_json(&format!(
        r#"{{"denyAssignmentName":"keep compute","scope":"{WS}/computes/prod","permissions":[{{"actions":["*/delete"]}}],
            "principals":[{{"id":"00000000-0000-0000-0000-000000000000","type":"SystemDefined"}}]}}"#
    ))
    .unwrap();
    AccessModel::builder()
        .builtin_roles()
        .assign("team", "AzureML Data Scientist", WS)
        .assign("alice", "Reader", SUB)
        .assign("ops", "AzureML Compute Operator", WS)
        .group_member("team", "alice")
        .denies(deny)
        .build()
        .unwrap()
}

#[test]
fn an_allowed_action_names_the_assignment_role_pattern_and_group() {
    let m = model();
    let e = m.explain(
        "alice",
        &action("ML/computes/start/action"),
        &scope("WS/computes/dev"),
    );
    assert_eq!(e.decision, Decision::Allowed(rbac::AssignmentId(0)));
    assert_eq!(
        e.to_string(),
        format!(
            "allowed: control-plane action Microsoft.MachineLearningServices/workspaces/computes/start/action by alice at {WS}/computes/dev\n  member of groups: team\n  granted by role \"AzureML Data Scientist\" at {WS} via group team (pattern Microsoft.MachineLearningServices/workspaces/*/action)\n"
        )
    );
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["decision"]["allowed"], true);
    assert_eq!(json["grants"][0]["role"], "AzureML Data Scientist");
    assert_eq!(json["grants"][0]["viaGroup"], true);
    assert_eq!(
        json["grants"][0]["pattern"],
        "Microsoft.MachineLearningServices/workspaces/*/action"
    );
}

#[test]
fn a_refusal_by_not_actions_names_the_roles_and_both_patterns() {
    let m = model();
    let e = m.explain(
        "alice",
        &action("ML/computes/write"),
        &scope("WS/computes/dev"),
    );
    assert_eq!(e.decision, Decision::RemovedByNotActions);
    assert_eq!(e.removals.len(), 1);
    assert_eq!(
        e.removals[0].pattern,
        "Microsoft.MachineLearningServices/workspaces/*/write"
    );
    assert_eq!(
        e.removals[0].not_pattern,
        "Microsoft.MachineLearningServices/workspaces/computes/*/write"
    );
    assert!(
        e.to_string()
            .contains("role \"AzureML Data Scientist\" at "),
        "{e}"
    );
}

#[test]
fn a_refusal_without_assignment_says_none_covers_the_scope() {
    let m = model();
    let e = m.explain("ops", &action("ML/computes/read"), &scope(RG));
    assert_eq!(e.decision, Decision::NotGranted);
    assert_eq!(e.covering_assignments, 0);
    assert!(
        e.to_string()
            .ends_with("  no role assignment to the principal or its groups covers this scope\n"),
        "{e}"
    );
    let e = m.explain(
        "alice",
        &action("Microsoft.Storage/storageAccounts/write"),
        &scope("WS"),
    );
    assert!(
        e.to_string()
            .ends_with("  none of the 2 covering role assignments grants it\n"),
        "{e}"
    );
}

#[test]
fn a_denial_names_the_deny_assignment() {
    let m = model();
    let e = m.explain(
        "ops",
        &action("ML/computes/delete"),
        &scope("WS/computes/prod"),
    );
    assert_eq!(e.decision, Decision::Denied(rbac::DenyAssignmentId(0)));
    assert_eq!(e.denies[0].name, "keep compute");
    assert_eq!(e.denies[0].pattern, "*/delete");
    assert!(
        e.to_string()
            .contains("denied by deny assignment \"keep compute\""),
        "{e}"
    );
    assert_eq!(
        serde_json::to_value(e.decision).unwrap()["reason"],
        "denyAssignment"
    );
}

#[test]
fn explain_agrees_with_check_over_a_grid() {
    let m = model();
    let actions = [
        "ML/read",
        "ML/write",
        "ML/delete",
        "ML/computes/read",
        "ML/computes/write",
        "ML/computes/delete",
        "ML/computes/start/action",
        "ML/jobs/write",
        "ML/listKeys/action",
        "ML/unknownThing/read",
        "Microsoft.Storage/storageAccounts/read",
    ];
    let scopes = [
        "SUB",
        "RG",
        "WS",
        "WS/computes/prod",
        "WS/computes/dev",
        "/",
    ];
    for who in ["alice", "team", "ops", "nobody"] {
        for a in actions {
            for s in scopes {
                for act in [
                    action(a),
                    Action::data(&a.replace("ML/", &format!("{}/", crate::ML))).unwrap(),
                ] {
                    let sc = scope(s);
                    assert_eq!(
                        m.explain(who, &act, &sc).decision,
                        m.check(who, &act, &sc),
                        "{who} {act:?} {s}"
                    );
                }
            }
        }
    }
}
