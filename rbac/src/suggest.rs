//! Least privilege: the narrowest built-in role for a set of actions, and a custom role that
//! grants exactly them.

use std::fmt;

use serde::Serialize;

use crate::action::{Action, ActionPattern, Plane};
use crate::builtin;
use crate::catalog::Bits;
use crate::error::Result;
use crate::model::CompiledPermissions;
use crate::role::{Permission, RoleDefinition, RoleType};
use crate::scope::Scope;

/// A role that grants every requested action, and how much more it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleChoice {
    /// The role's name.
    pub role_name: String,
    /// The role's GUID, when known.
    pub role_id: Option<String>,
    /// How many catalog operations it grants besides the requested ones.
    pub extra_permissions_count: usize,
    /// Whether it also holds wildcards that reach past the catalog (`*`, `*/read`,
    /// `Microsoft.Foo/*`), so it grants more than the count says.
    pub open_ended: bool,
}

/// The answer of [`least_privilege`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// The narrowest role of those considered that grants every action at the scope, if any.
    pub builtin: Option<RoleChoice>,
    /// Every role that would do, narrowest first.
    pub candidates: Vec<RoleChoice>,
    /// A custom role granting exactly the requested actions, assignable at the scope
    /// (serialises in az's shape; `az role definition create --role-definition @file`).
    pub custom_role: RoleDefinition,
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.builtin {
            Some(c) => writeln!(
                f,
                "built-in role: {} ({} other operations{})",
                c.role_name,
                c.extra_permissions_count,
                if c.open_ended {
                    ", plus wildcards beyond the catalog"
                } else {
                    ""
                }
            )?,
            None => writeln!(f, "built-in role: none grants all of them")?,
        }
        let n = self
            .custom_role
            .permissions
            .iter()
            .map(|p| p.actions.len() + p.data_actions.len())
            .sum::<usize>();
        writeln!(
            f,
            "custom role: {:?} with exactly {n} operations",
            self.custom_role.role_name
        )
    }
}

/// [`least_privilege_among`] over the embedded built-in roles.
pub fn least_privilege(actions: &[Action], scope: &Scope) -> Result<Suggestion> {
    least_privilege_among(builtin::roles(), actions, scope)
}

/// For `actions` at `scope`: the role of `roles`, assignable at `scope`, that grants all of
/// them with the fewest other permissions, and a custom role that grants exactly them.
///
/// "Fewest other permissions" counts the operations of the embedded catalog (the
/// `Microsoft.MachineLearningServices` operations and every literal operation in the built-in
/// roles) that the role grants besides the requested ones, each on its own plane: a data
/// operation counts when `DataActions` grant it, not when `Actions` patterns such as `*/read`
/// match its string. Ties go to the role
/// without open-ended wildcards, then to fewer patterns, then by name.
pub fn least_privilege_among(
    roles: &[RoleDefinition],
    actions: &[Action],
    scope: &Scope,
) -> Result<Suggestion> {
    let mut requested = (Bits::new(), Bits::new());
    for a in actions {
        if let Some(i) = a.known() {
            match a.plane() {
                Plane::Control => requested.0.set(i as usize),
                Plane::Data => requested.1.set(i as usize),
            }
        }
    }
    let mut candidates: Vec<(RoleChoice, usize)> = roles
        .iter()
        .filter(|r| r.is_assignable_at(scope) && actions.iter().all(|a| r.grants(a)))
        .map(|r| {
            let extra = CompiledPermissions::new(&r.permissions).granted_besides(&requested);
            let patterns = r
                .permissions
                .iter()
                .map(|p| p.actions.len() + p.data_actions.len())
                .sum();
            let open_ended = r
                .permissions
                .iter()
                .flat_map(|p| p.actions.iter().chain(&p.data_actions))
                .any(open_ended);
            let choice = RoleChoice {
                role_name: r.role_name.clone(),
                role_id: r.guid().map(str::to_owned),
                extra_permissions_count: extra,
                open_ended,
            };
            (choice, patterns)
        })
        .collect();
    candidates.sort_by(|(a, pa), (b, pb)| {
        (a.extra_permissions_count, a.open_ended, pa, &a.role_name).cmp(&(
            b.extra_permissions_count,
            b.open_ended,
            pb,
            &b.role_name,
        ))
    });
    let candidates: Vec<RoleChoice> = candidates.into_iter().map(|(c, _)| c).collect();
    Ok(Suggestion {
        builtin: candidates.first().cloned(),
        candidates,
        custom_role: custom_role(actions, scope),
    })
}

/// A wildcard that reaches operations outside any one resource type of the catalog: one in the
/// provider namespace (`*`, `*/read`) or a provider-wide `Namespace/*`.
fn open_ended(p: &ActionPattern) -> bool {
    let s = p.as_str();
    let mut segs = s.split('/');
    let first = segs.next().unwrap_or("");
    first.contains('*') || segs.next().is_some_and(|second| second.contains('*'))
}

/// A custom role that grants exactly `actions` at `scope`.
fn custom_role(actions: &[Action], scope: &Scope) -> RoleDefinition {
    let mut permission = Permission::default();
    let mut seen: Vec<&Action> = Vec::new();
    for a in actions {
        if seen.contains(&a) {
            continue;
        }
        seen.push(a);
        let p = ActionPattern::literal(a);
        match a.plane() {
            Plane::Control => permission.actions.push(p),
            Plane::Data => permission.data_actions.push(p),
        }
    }
    RoleDefinition {
        role_name: "Least privilege (generated)".to_owned(),
        name: None,
        id: None,
        role_type: RoleType::Custom,
        description: format!(
            "Grants exactly {} operations, generated by the rbac crate",
            seen.len()
        ),
        permissions: vec![permission],
        assignable_scopes: vec![scope.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn check(pattern: &str, expected: bool) {
        assert_eq!(
            open_ended(&ActionPattern::parse(pattern).unwrap()),
            expected,
            "{pattern}"
        );
    }

    #[test]
    fn operations_count_on_their_own_plane() {
        // Reader's `*/read` matches the string of the data operation
        // `Microsoft.Storage/.../containers/blobs/read`, but grants no data operation.
        let reader = builtin::role("Reader").unwrap();
        let control_reads = (0..catalog::len())
            .filter(|&i| {
                catalog::name(i).ends_with("/read")
                    && catalog::operations(Plane::Control).get(i as u32)
            })
            .count();
        let none = (Bits::new(), Bits::new());
        assert_eq!(
            CompiledPermissions::new(&reader.permissions).granted_besides(&none),
            control_reads
        );
    }

    #[test]
    fn open_ended_wildcards() {
        check("*", true);
        check("*/read", true);
        check("Microsoft.Support/*", true);
        check("Microsoft.MachineLearningServices/workspaces/*/read", false);
        check(
            "Microsoft.MachineLearningServices/workspaces/computes/*",
            false,
        );
        check("Microsoft.MachineLearningServices/workspaces/read", false);
    }
}
