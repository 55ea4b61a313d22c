//! The emulator's access decision for ARM operations.
//!
//! **One function, [`is_authorized`], decides.** It is deliberately simple (built-in role
//! definitions below, `*` wildcards, scope prefix match, no deny assignments, no
//! conditions); the `rbac` crate replaces it by changing only this function's body.

use crate::setup::RoleAssignment;

/// (actions, not_actions) of the built-in roles the emulator knows.
fn role_definition(role_name: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    let def: (&[&str], &[&str]) = match role_name.to_ascii_lowercase().as_str() {
        "owner" => (&["*"], &[]),
        "contributor" => (
            &["*"],
            &[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
                "Microsoft.Blueprint/blueprintAssignments/write",
                "Microsoft.Blueprint/blueprintAssignments/delete",
                "Microsoft.Compute/galleries/share/action",
            ],
        ),
        "reader" => (&["*/read"], &[]),
        "azureml data scientist" => (
            &[
                "Microsoft.MachineLearningServices/workspaces/*/read",
                "Microsoft.MachineLearningServices/workspaces/*/action",
                "Microsoft.MachineLearningServices/workspaces/*/delete",
                "Microsoft.MachineLearningServices/workspaces/*/write",
            ],
            &[
                "Microsoft.MachineLearningServices/workspaces/delete",
                "Microsoft.MachineLearningServices/workspaces/write",
                "Microsoft.MachineLearningServices/workspaces/computes/*/write",
                "Microsoft.MachineLearningServices/workspaces/computes/*/delete",
                "Microsoft.Authorization/*",
                "Microsoft.MachineLearningServices/workspaces/computes/listKeys/action",
                "Microsoft.MachineLearningServices/workspaces/listKeys/action",
            ],
        ),
        "azureml compute operator" => (
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.MachineLearningServices/workspaces/computes/*",
                "Microsoft.MachineLearningServices/workspaces/read",
            ],
            &[],
        ),
        _ => return None,
    };
    Some(def)
}

/// Matches an action against a pattern, case-insensitively. `*` matches any run of
/// characters; `/*/` also matches a single `/` (so `computes/*/write` covers
/// `computes/write`), which is how the built-in AzureML roles are meant to read.
pub(crate) fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    if glob(&p, &a) {
        return true;
    }
    p.contains("/*/") && glob(&p.replace("/*/", "/"), &a)
}

fn glob(p: &str, a: &str) -> bool {
    match p.find('*') {
        None => p == a,
        Some(i) => {
            let (head, tail) = (&p[..i], &p[i + 1..]);
            if !a.starts_with(head) {
                return false;
            }
            let rest = &a[head.len()..];
            (0..=rest.len()).any(|k| rest.is_char_boundary(k) && glob(tail, &rest[k..]))
        }
    }
}

/// Whether `scope` lies at or under `assignment_scope` (segment-wise, case-insensitive).
pub(crate) fn scope_covers(assignment_scope: &str, scope: &str) -> bool {
    let a = assignment_scope.trim_end_matches('/').to_ascii_lowercase();
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    a.is_empty() || s == a || s.starts_with(&format!("{a}/"))
}

/// **The** access decision: may `principal_object_id` perform `action` at `scope`?
pub(crate) fn is_authorized(
    assignments: &[RoleAssignment],
    principal_object_id: &str,
    action: &str,
    scope: &str,
) -> bool {
    assignments.iter().any(|ra| {
        ra.principal_object_id
            .eq_ignore_ascii_case(principal_object_id)
            && scope_covers(&ra.scope, scope)
            && role_definition(&ra.role_name).is_some_and(|(actions, not_actions)| {
                actions.iter().any(|p| action_matches(p, action))
                    && !not_actions.iter().any(|p| action_matches(p, action))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";
    const READ: &str = "Microsoft.MachineLearningServices/workspaces/read";
    const COMPUTE_WRITE: &str = "Microsoft.MachineLearningServices/workspaces/computes/write";
    const COMPUTE_START: &str =
        "Microsoft.MachineLearningServices/workspaces/computes/start/action";

    fn check(role: &str, scope: &str, action: &str, expected: bool) {
        let ra = vec![RoleAssignment {
            principal_object_id: "p".into(),
            role_name: role.into(),
            scope: scope.into(),
        }];
        assert_eq!(
            is_authorized(&ra, "p", action, WS),
            expected,
            "{role} at {scope} doing {action}"
        );
    }

    #[test]
    fn built_in_roles() {
        check("Reader", "/subscriptions/s", READ, true);
        check("Reader", "/subscriptions/s", COMPUTE_WRITE, false);
        check(
            "Contributor",
            "/subscriptions/s/resourceGroups/rg",
            COMPUTE_WRITE,
            true,
        );
        check(
            "Contributor",
            "/subscriptions/s/resourceGroups/other",
            READ,
            false,
        );
        check(
            "Contributor",
            "/subscriptions/s/resourceGroups/r",
            READ,
            false,
        );
        check("Owner", "/", COMPUTE_START, true);
        check("AzureML Data Scientist", WS, READ, true);
        check("AzureML Data Scientist", WS, COMPUTE_START, true);
        check("AzureML Data Scientist", WS, COMPUTE_WRITE, false);
        check("AzureML Compute Operator", WS, COMPUTE_WRITE, true);
        check("AzureML Compute Operator", WS, READ, true);
        check("Nonexistent Role", WS, READ, false);
        check("reader", &WS.to_uppercase(), READ, true);
    }

    #[test]
    fn other_principals_get_nothing() {
        let ra = vec![RoleAssignment {
            principal_object_id: "p".into(),
            role_name: "Owner".into(),
            scope: "/".into(),
        }];
        assert!(!is_authorized(&ra, "q", READ, WS));
    }
}
