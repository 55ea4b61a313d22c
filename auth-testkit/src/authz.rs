//! The emulator's access decision for ARM operations.
//!
//! **One decision, [`Access::allows`]**, made with the `rbac` crate: the built-in role
//! definitions, Actions minus the same role's NotActions, scope inheritance segment by segment,
//! case-insensitive matching. The emulator answers 403 `AuthorizationFailed` exactly when Azure
//! RBAC (as `rbac` models it) would refuse. The model is built once per change of the role
//! assignments, not per request.

use crate::setup::RoleAssignment;

/// The `rbac` model of the setup's role assignments.
#[derive(Debug, Clone)]
pub(crate) struct Access(Option<rbac::AccessModel>);

impl Access {
    /// Builds the model. An assignment whose role or scope `rbac` cannot parse grants nothing
    /// (Azure would not have accepted it).
    pub(crate) fn new(assignments: &[RoleAssignment]) -> Self {
        let mut builder = rbac::AccessModel::builder().builtin_roles();
        for ra in assignments.iter().filter(|ra| {
            rbac::builtin::role(&ra.role_name).is_some() && rbac::Scope::parse(&ra.scope).is_ok()
        }) {
            builder = builder.assign(&ra.principal_object_id, &ra.role_name, &ra.scope);
        }
        Access(builder.build().ok())
    }

    /// **The** access decision: may `principal_object_id` perform `action` at `scope`?
    /// An unparsable action or scope is refused.
    pub(crate) fn allows(&self, principal_object_id: &str, action: &str, scope: &str) -> bool {
        self.0.as_ref().is_some_and(|model| {
            model
                .check_str(principal_object_id, action, scope)
                .is_ok_and(|d| d.is_allowed())
        })
    }
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
            Access::new(&ra).allows("p", action, WS),
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
        // The real role (builtin-roles.json) grants computes/* only, not the workspace read.
        check("AzureML Compute Operator", WS, READ, false);
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
        assert!(!Access::new(&ra).allows("q", READ, WS));
    }
}
