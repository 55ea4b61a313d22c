//! Least privilege: the narrowest built-in role, and a custom role with exactly the actions.

use rbac::{AccessModel, Action, RoleDefinition, least_privilege};

use crate::{WS, action, scope};

fn suggest(actions: &[&str]) -> rbac::Suggestion {
    let actions: Vec<Action> = actions.iter().map(|a| action(a)).collect();
    least_privilege(&actions, &scope("WS")).unwrap()
}

#[test]
fn running_computes_suggests_the_compute_operator() {
    let s = suggest(&[
        "ML/computes/start/action",
        "ML/computes/stop/action",
        "ML/computes/restart/action",
    ]);
    let b = s.builtin.as_ref().unwrap();
    assert_eq!(b.role_name, "AzureML Compute Operator");
    // 14 computes operations and 3 notebooks/vm operations, less the 3 asked for.
    assert_eq!(b.extra_permissions_count, 14);
    assert!(!b.open_ended);
    let names: Vec<&str> = s.candidates.iter().map(|c| c.role_name.as_str()).collect();
    assert_eq!(names.last(), Some(&"Owner"));
    assert!(names.contains(&"AzureML Data Scientist") && names.contains(&"Contributor"));
}

#[test]
fn submitting_runs_suggests_the_data_scientist_over_broader_roles() {
    let s = suggest(&[
        "ML/environments/write",
        "ML/experiments/runs/write",
        "ML/metadata/artifacts/write",
        "ML/experiments/runs/submit/action",
        "ML/environments/build/action",
    ]);
    assert_eq!(s.builtin.unwrap().role_name, "AzureML Data Scientist");
}

#[test]
fn registry_assets_suggest_the_registry_user() {
    let reg = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/registries/r";
    let actions = [
        "registries/read",
        "registries/assets/read",
        "registries/assets/write",
    ]
    .map(|a| Action::parse(&format!("Microsoft.MachineLearningServices/{a}")).unwrap());
    let s = least_privilege(&actions, &scope(reg)).unwrap();
    let b = s.builtin.unwrap();
    assert_eq!(
        (b.role_name.as_str(), b.extra_permissions_count),
        ("AzureML Registry User", 2)
    );
}

#[test]
fn owner_and_contributor_tie_on_ml_operations_but_contributor_grants_less() {
    let s = suggest(&["ML/write", "ML/delete"]);
    let names: Vec<&str> = s.candidates.iter().map(|c| c.role_name.as_str()).collect();
    assert_eq!(names[names.len() - 2..], ["Contributor", "Owner"]);
    assert!(
        s.candidates
            .iter()
            .all(|c| c.role_name != "AzureML Data Scientist")
    );
}

#[test]
fn a_data_action_no_builtin_grants_yields_only_a_custom_role() {
    let write =
        Action::data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write")
            .unwrap();
    let s = least_privilege(std::slice::from_ref(&write), &scope("WS")).unwrap();
    assert!(s.builtin.is_none() && s.candidates.is_empty());
    assert_eq!(
        s.custom_role.permissions[0].data_actions[0].as_str(),
        write.as_str()
    );
    assert!(s.custom_role.permissions[0].actions.is_empty());
    assert_eq!(
        s.to_string(),
        "built-in role: none grants all of them\ncustom role: \"Least privilege (generated)\" with exactly 1 operations\n"
    );
}

#[test]
fn the_custom_role_is_az_json_that_grants_exactly_the_actions() {
    let asked = [
        "ML/computes/start/action",
        "ML/computes/stop/action",
        "ML/computes/start/action",
    ];
    let s = suggest(&asked);
    let json = serde_json::to_value(&s.custom_role).unwrap();
    assert_eq!(json["roleType"], "CustomRole");
    assert_eq!(json["assignableScopes"][0], WS);
    assert_eq!(
        json["permissions"][0]["actions"].as_array().unwrap().len(),
        2,
        "duplicates are dropped"
    );
    let role = RoleDefinition::from_json(&json.to_string())
        .unwrap()
        .remove(0);
    let model = AccessModel::builder()
        .role(role)
        .assign("p", "Least privilege (generated)", WS)
        .build()
        .unwrap();
    let at = scope("WS/computes/c");
    for a in asked {
        assert!(model.check("p", &action(a), &at).is_allowed(), "{a}");
    }
    for other in rbac::builtin::ml_operations() {
        let a = Action::parse(&other.name).unwrap();
        let wanted = asked.iter().any(|x| action(x) == a);
        assert_eq!(
            model.check("p", &a, &at).is_allowed(),
            wanted,
            "{}",
            other.name
        );
    }
}
