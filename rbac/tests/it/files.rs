//! The az JSON shapes the `amlauth rbac` tool reads, end to end.

use rbac::{
    AccessModel, DenyAssignment, GroupMemberships, PrincipalKind, RoleAssignment, RoleDefinition,
};

use crate::{WS, action, check};

/// `az role definition list --custom-role-only false` output (trimmed).
const ROLE_LIST: &str = r#"[
  {
    "assignableScopes": ["/"],
    "description": "Can perform all actions within an Azure Machine Learning workspace, except for creating or deleting compute resources and modifying the workspace itself.",
    "id": "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleDefinitions/f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "name": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "permissions": [{"actions": ["Microsoft.MachineLearningServices/workspaces/*/read", "Microsoft.MachineLearningServices/workspaces/*/action"],
                     "notActions": ["Microsoft.MachineLearningServices/workspaces/computes/*/write"], "dataActions": [], "notDataActions": [], "condition": null, "conditionVersion": null}],
    "roleName": "AzureML Data Scientist",
    "roleType": "BuiltInRole",
    "type": "Microsoft.Authorization/roleDefinitions",
    "createdOn": "2020-01-01T00:00:00Z", "updatedOn": "2024-01-01T00:00:00Z", "createdBy": null, "updatedBy": null
  }
]"#;

/// `az role assignment list --all` output.
const ASSIGNMENTS: &str = r#"[
  {
    "condition": null, "conditionVersion": null, "createdBy": "x", "createdOn": "2024-05-01T00:00:00Z", "delegatedManagedIdentityResourceId": null,
    "description": null,
    "id": "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleAssignments/aaaa",
    "name": "aaaa",
    "principalId": "9f1e-group", "principalName": "ml-team", "principalType": "Group",
    "roleDefinitionId": "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleDefinitions/f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "roleDefinitionName": "AzureML Data Scientist",
    "scope": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws",
    "type": "Microsoft.Authorization/roleAssignments"
  },
  {
    "name": "bbbb", "principalId": "mi-1", "principalType": "ServicePrincipal",
    "roleDefinitionName": "Reader", "scope": "/subscriptions/11111111-2222-3333-4444-555555555555"
  }
]"#;

const DENIES: &str = r#"[{
  "id": "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/denyAssignments/dddd",
  "name": "dddd", "type": "Microsoft.Authorization/denyAssignments",
  "properties": {
    "denyAssignmentName": "Deny by managed application", "description": "", "isSystemProtected": true,
    "permissions": [{"actions": ["*"], "notActions": ["*/read"], "dataActions": [], "notDataActions": []}],
    "scope": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/locked",
    "doNotApplyToChildScopes": false,
    "principals": [{"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}],
    "excludePrincipals": [{"id": "mi-1", "type": "ServicePrincipal"}]
  }
}]"#;

const GROUPS: &str = r#"{"9f1e-group": ["alice", "bob"]}"#;

fn model() -> AccessModel {
    AccessModel::builder()
        .builtin_roles()
        .roles(RoleDefinition::from_json(ROLE_LIST).unwrap())
        .assignments(RoleAssignment::from_json(ASSIGNMENTS).unwrap())
        .denies(DenyAssignment::from_json(DENIES).unwrap())
        .groups(&GroupMemberships::from_json(GROUPS).unwrap())
        .build()
        .unwrap()
}

#[test]
fn az_list_outputs_build_a_model_that_decides_like_azure() {
    let m = model();
    // The file's Data Scientist (without */write) replaced the embedded one.
    assert_eq!(
        m.role("AzureML Data Scientist").unwrap().permissions[0]
            .actions
            .len(),
        2
    );
    assert_eq!(m.assignments()[0].principal_type, PrincipalKind::Group);
    check(
        &m,
        "alice",
        &action("ML/computes/start/action"),
        "WS/computes/dev",
        "roleAssignment",
    );
    check(&m, "alice", &action("ML/jobs/write"), "WS", "notGranted");
    check(
        &m,
        "bob",
        &action("ML/computes/stop/action"),
        "WS/computes/locked",
        "denyAssignment",
    );
    check(
        &m,
        "bob",
        &action("ML/computes/read"),
        "WS/computes/locked",
        "roleAssignment",
    );
    check(
        &m,
        "mi-1",
        &action("ML/computes/read"),
        "WS/computes/locked",
        "roleAssignment",
    );
    assert!(WS.starts_with("/subscriptions/11111111"));
}

#[test]
fn assignments_and_deny_assignments_serialise_in_az_field_names() {
    let a = &RoleAssignment::from_json(ASSIGNMENTS).unwrap()[1];
    assert_eq!(
        serde_json::to_string(a).unwrap(),
        r#"{"name":"bbbb","principalId":"mi-1","principalType":"ServicePrincipal","roleDefinitionName":"Reader","scope":"/subscriptions/11111111-2222-3333-4444-555555555555"}"#
    );
    let d = serde_json::to_value(&DenyAssignment::from_json(DENIES).unwrap()[0]).unwrap();
    assert_eq!(d["denyAssignmentName"], "Deny by managed application");
    assert_eq!(d["permissions"][0]["notActions"][0], "*/read");
    assert_eq!(d["excludePrincipals"][0]["type"], "ServicePrincipal");
    assert_eq!(d["doNotApplyToChildScopes"], false);
}
