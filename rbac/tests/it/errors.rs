//! Malformed role JSON, action strings and scopes give clear errors.

use rbac::{
    AccessModel, Action, ActionPattern, DenyAssignment, Error, GroupMemberships, RoleAssignment,
    RoleDefinition, Scope,
};

#[track_caller]
fn assert_error<T: std::fmt::Debug>(r: Result<T, Error>, expected: &str) {
    assert_eq!(r.unwrap_err().to_string(), expected);
}

#[test]
fn malformed_role_json_names_the_role_and_field() {
    assert_error(
        RoleDefinition::from_json("[{\"roleName\": \"A\", ").map_err(|e| e.in_file("roles.json")),
        "roles.json: invalid role definitions json: EOF while parsing a value at line 1 column 19",
    );
    assert_error(
        RoleDefinition::from_json(
            r#"[{"roleName":"Ok","permissions":[],"assignableScopes":["/"]},
            {"roleName":"Bad","permissions":[{"actions":["Microsoft.Compute/virtualMachines/*","Microsoft.Compute//read"]}],"assignableScopes":["/"]}]"#,
        ),
        r#"invalid role definition "Bad": field "permissions[0].actions[1]": invalid action "Microsoft.Compute//read": empty segment (leading, trailing or doubled "/")"#,
    );
    assert_error(
        RoleDefinition::from_json(
            r#"{"Name":"Ps","Actions":["*"],"NotActions":["Microsoft.Authorization/* /write"],"AssignableScopes":["/"]}"#,
        ),
        r#"invalid role definition "Ps": field "NotActions[0]": invalid action "Microsoft.Authorization/* /write": unexpected character ' '"#,
    );
    assert_error(
        RoleDefinition::from_json(
            r#"{"Name":"Ps","Actions":["*"],"AssignableScopes":["/subscriptions/s/resourcegroup/rg"]}"#,
        ),
        r#"invalid role definition "Ps": field "AssignableScopes[0]": invalid scope "/subscriptions/s/resourcegroup/rg": expected "resourceGroups" after a subscription id (or "providers" for a subscription-level resource)"#,
    );
    assert_error(
        RoleDefinition::from_json(r#"[{"Name":""}]"#),
        r##"invalid role definition #0: field "Name": empty"##,
    );
}

#[test]
fn malformed_actions_say_what_is_wrong() {
    assert_error(Action::parse(""), r#"invalid action "": empty action"#);
    assert_error(
        Action::parse("workspaces/read"),
        r#"invalid action "workspaces/read": "workspaces" is not a resource provider namespace (like "Microsoft.MachineLearningServices")"#,
    );
    assert_error(
        Action::parse("Microsoft.MachineLearningServices"),
        r#"invalid action "Microsoft.MachineLearningServices": expected {Company}.{Provider}/{resourceType}/{action}"#,
    );
    assert_error(
        Action::parse("Microsoft.X/a?b"),
        r#"invalid action "Microsoft.X/a?b": unexpected character '?'"#,
    );
    assert_error(
        Action::data("Microsoft.X/*/read"),
        r#"invalid action "Microsoft.X/*/read": a wildcard "*" is allowed in a role's permissions, not in an action to check"#,
    );
    assert_error(
        ActionPattern::parse("/Microsoft.X/read"),
        r#"invalid action "/Microsoft.X/read": empty segment (leading, trailing or doubled "/")"#,
    );
}

#[test]
fn malformed_scopes_say_what_is_wrong() {
    assert_error(
        Scope::parse("/subscriptions/x/resourceGroup/rg"),
        r#"invalid scope "/subscriptions/x/resourceGroup/rg": expected "resourceGroups" after a subscription id (or "providers" for a subscription-level resource)"#,
    );
    assert_error(
        Scope::parse("subscriptions/x"),
        r#"invalid scope "subscriptions/x": a scope starts with "/""#,
    );
    assert_error(
        Scope::parse("/providers/Microsoft.Management/managementGroup/x"),
        r#"invalid scope "/providers/Microsoft.Management/managementGroup/x": expected "/providers/Microsoft.Management/managementGroups/{id}" or "/subscriptions/{id}""#,
    );
    assert_error(
        Scope::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes",
        ),
        r#"invalid scope "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes": resource type "computes" has no name"#,
    );
}

#[test]
fn malformed_assignments_and_models_say_what_is_wrong() {
    assert_error(
        RoleAssignment::from_json(
            r#"[{"name":"a1","principalId":"p","roleDefinitionName":"Reader"}]"#,
        ),
        r#"invalid assignment "a1": field "scope": missing"#,
    );
    assert_error(
        DenyAssignment::from_json(
            r#"[{"denyAssignmentName":"d","scope":"/","permissions":[],"principals":[{"type":"User"}]}]"#,
        ),
        r#"invalid deny assignment "d": field "principals[0]": missing "id""#,
    );
    assert_error(
        GroupMemberships::from_json(r#"{"g": [1]}"#),
        r#"invalid group memberships (expected {"<group id>": ["<member id>", ...]}) json: invalid type: integer `1`, expected a string at line 1 column 8"#,
    );
    assert_error(
        AccessModel::builder()
            .builtin_roles()
            .assign("p", "AzureML Data Scientists", "/")
            .build(),
        r#"role assignment of "AzureML Data Scientists" to p at "/" refers to unknown role "AzureML Data Scientists""#,
    );
    let a = RoleAssignment::from_json(
        r#"{"name":"a2","principalId":"p","roleDefinitionId":"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000001","scope":"/"}"#,
    )
    .unwrap();
    assert_error(
        AccessModel::builder()
            .builtin_roles()
            .assignments(a)
            .build(),
        r#"role assignment "a2" refers to unknown role "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000001""#,
    );
}
