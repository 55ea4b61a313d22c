//! Explanations: which assignments, roles and patterns decide a check, and why.

use std::fmt;

use serde::Serialize;

use crate::action::{Action, Plane};
use crate::model::{AccessModel, AssignmentId, Decision, DenyAssignmentId};
use crate::role::{self, Eval};
use crate::scope::Scope;

/// A role assignment that grants the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantDetail {
    /// Which assignment.
    pub assignment: AssignmentId,
    /// Its name, when known.
    pub assignment_name: Option<String>,
    /// The principal it is assigned to (the principal itself or one of its groups).
    pub assigned_to: String,
    /// True when `assigned_to` is a group the principal belongs to.
    pub via_group: bool,
    /// The role's name.
    pub role: String,
    /// The assignment's scope.
    pub scope: String,
    /// The `Actions`/`DataActions` pattern that matches.
    pub pattern: String,
}

/// A covering role assignment whose role matches the action but removes it with `NotActions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovalDetail {
    /// Which assignment.
    pub assignment: AssignmentId,
    /// The principal it is assigned to.
    pub assigned_to: String,
    /// True when `assigned_to` is a group the principal belongs to.
    pub via_group: bool,
    /// The role's name.
    pub role: String,
    /// The assignment's scope.
    pub scope: String,
    /// The `Actions` pattern that matches.
    pub pattern: String,
    /// The `NotActions` pattern of the same role that removes it.
    pub not_pattern: String,
}

/// A deny assignment that blocks the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DenyDetail {
    /// Which deny assignment.
    pub deny_assignment: DenyAssignmentId,
    /// Its `denyAssignmentName`.
    pub name: String,
    /// Its id, when known.
    pub id: Option<String>,
    /// Its scope.
    pub scope: String,
    /// The pattern of its permissions that matches.
    pub pattern: String,
}

/// Why a check came out as it did: everything [`AccessModel::check`] looked at, by name.
///
/// `Display` prints it as text; `Serialize` gives JSON fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The principal checked.
    pub principal_id: String,
    /// The groups it belongs to (transitively).
    pub groups: Vec<String>,
    /// The action checked.
    pub action: String,
    /// Its plane.
    pub plane: Plane,
    /// The scope checked.
    pub scope: String,
    /// The decision, the same as [`AccessModel::check`]'s.
    pub decision: Decision,
    /// Every covering assignment that grants the action (the first decides).
    pub grants: Vec<GrantDetail>,
    /// Covering assignments whose role's `NotActions` remove the action.
    pub removals: Vec<RemovalDetail>,
    /// Deny assignments that block the action (the first decides).
    pub denies: Vec<DenyDetail>,
    /// How many role assignments to the principal or its groups cover the scope.
    pub covering_assignments: usize,
}

impl AccessModel {
    /// Explains [`check`](Self::check): which assignment, role and pattern allow the action, or
    /// why nothing does (no assignment covers it, `NotActions` removed it from these roles, this
    /// deny assignment blocks it). Slower than `check`; it allocates.
    pub fn explain(&self, principal_id: &str, action: &Action, scope: &Scope) -> Explanation {
        let groups: Vec<String> = self
            .groups_of(principal_id)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let is_self = |p: &str| {
            p.eq_ignore_ascii_case(principal_id) || groups.iter().any(|g| g.eq_ignore_ascii_case(p))
        };
        let target = scope.norm();
        let eval = |perms| role::eval(perms, action.plane(), action.lower());

        let mut denies = Vec::new();
        for (i, d) in self.denies.iter().enumerate() {
            let applies = d
                .principals
                .iter()
                .any(|p| p.is_everyone() || is_self(&p.id))
                && !d.exclude_principals.iter().any(|p| is_self(&p.id));
            if !(applies && self.deny_reaches(i, target)) {
                continue;
            }
            if let Eval::Granted(p) = eval(&d.permissions) {
                denies.push(DenyDetail {
                    deny_assignment: DenyAssignmentId(i as u32),
                    name: d.deny_assignment_name.clone(),
                    id: d.id.clone(),
                    scope: d.scope.to_string(),
                    pattern: p.to_string(),
                });
            }
        }
        let covering = self.covering_assignments(principal_id, scope);
        let (mut grants, mut removals) = (Vec::new(), Vec::new());
        for &i in &covering {
            let a = &self.assignments[i as usize];
            let role = &self.roles[self.assignment_role[i as usize] as usize];
            let via_group = !a.principal_id.eq_ignore_ascii_case(principal_id);
            match eval(&role.permissions) {
                Eval::Granted(p) => grants.push(GrantDetail {
                    assignment: AssignmentId(i),
                    assignment_name: a.name.clone(),
                    assigned_to: a.principal_id.clone(),
                    via_group,
                    role: role.role_name.clone(),
                    scope: a.scope.to_string(),
                    pattern: p.to_string(),
                }),
                Eval::Removed {
                    pattern,
                    not_pattern,
                } => removals.push(RemovalDetail {
                    assignment: AssignmentId(i),
                    assigned_to: a.principal_id.clone(),
                    via_group,
                    role: role.role_name.clone(),
                    scope: a.scope.to_string(),
                    pattern: pattern.to_string(),
                    not_pattern: not_pattern.to_string(),
                }),
                Eval::None => {}
            }
        }
        let decision = match (denies.first(), grants.first(), removals.is_empty()) {
            (Some(d), _, _) => Decision::Denied(d.deny_assignment),
            (None, Some(g), _) => Decision::Allowed(g.assignment),
            (None, None, false) => Decision::RemovedByNotActions,
            (None, None, true) => Decision::NotGranted,
        };
        Explanation {
            principal_id: principal_id.to_owned(),
            groups,
            action: action.to_string(),
            plane: action.plane(),
            scope: scope.to_string(),
            decision,
            grants,
            removals,
            denies,
            covering_assignments: covering.len(),
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.decision.is_allowed() {
            "allowed"
        } else {
            "not allowed"
        };
        writeln!(
            f,
            "{verdict}: {} {} by {} at {}",
            self.plane, self.action, self.principal_id, self.scope
        )?;
        if !self.groups.is_empty() {
            writeln!(f, "  member of groups: {}", self.groups.join(", "))?;
        }
        for d in &self.denies {
            writeln!(
                f,
                "  denied by deny assignment {:?} at {} (pattern {})",
                d.name, d.scope, d.pattern
            )?;
        }
        for g in &self.grants {
            let via = if g.via_group {
                format!(" via group {}", g.assigned_to)
            } else {
                String::new()
            };
            writeln!(
                f,
                "  granted by role {:?} at {}{via} (pattern {})",
                g.role, g.scope, g.pattern
            )?;
        }
        for r in &self.removals {
            let via = if r.via_group {
                format!(" via group {}", r.assigned_to)
            } else {
                String::new()
            };
            writeln!(
                f,
                "  role {:?} at {}{via} matches {} but its NotActions {} remove it",
                r.role, r.scope, r.pattern, r.not_pattern
            )?;
        }
        if self.grants.is_empty() && self.removals.is_empty() {
            if self.covering_assignments == 0 {
                writeln!(
                    f,
                    "  no role assignment to the principal or its groups covers this scope"
                )?;
            } else {
                writeln!(
                    f,
                    "  none of the {} covering role assignments grants it",
                    self.covering_assignments
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{AccessModel, Action, Scope};

    const WS: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

    fn check(who: &str, action: &str, scope: &str, expected: &str) {
        let m = AccessModel::builder()
            .builtin_roles()
            .assign("ds", "AzureML Data Scientist", WS)
            .assign("g", "Reader", "/subscriptions/s")
            .group_member("g", "ds")
            .build()
            .unwrap();
        let a = Action::parse(&format!(
            "Microsoft.MachineLearningServices/workspaces/{action}"
        ))
        .unwrap();
        let e = m.explain(who, &a, &Scope::parse(scope).unwrap());
        assert_eq!(e.to_string(), expected.replace("WS", WS), "{who} {action}");
    }

    #[test]
    fn text() {
        check(
            "ds",
            "computes/read",
            WS,
            "allowed: control-plane action Microsoft.MachineLearningServices/workspaces/computes/read by ds at WS
  member of groups: g
  granted by role \"AzureML Data Scientist\" at WS (pattern Microsoft.MachineLearningServices/workspaces/*/read)
  granted by role \"Reader\" at /subscriptions/s via group g (pattern */read)
",
        );
        check(
            "ds",
            "write",
            WS,
            "not allowed: control-plane action Microsoft.MachineLearningServices/workspaces/write by ds at WS
  member of groups: g
  role \"AzureML Data Scientist\" at WS matches Microsoft.MachineLearningServices/workspaces/*/write but its NotActions Microsoft.MachineLearningServices/workspaces/write remove it
",
        );
        check(
            "x",
            "read",
            WS,
            "not allowed: control-plane action Microsoft.MachineLearningServices/workspaces/read by x at WS
  no role assignment to the principal or its groups covers this scope
",
        );
    }
}
