//! The access model: roles, assignments, deny assignments and groups, compiled for fast checks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::action::{Action, Plane};
use crate::assignment::{DenyAssignment, GroupMemberships, Principal, RoleAssignment};
use crate::builtin;
use crate::catalog::{self, Bits};
use crate::error::{Error, Result};
use crate::role::{self, Eval, Permission, RoleDefinition};
use crate::scope::{Scope, ScopeKey, ScopeKind, covers_norm};

/// Identifies a role assignment of an [`AccessModel`] (its position in
/// [`AccessModel::assignments`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AssignmentId(pub u32);

/// Identifies a deny assignment of an [`AccessModel`] (its position in
/// [`AccessModel::deny_assignments`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DenyAssignmentId(pub u32);

/// The outcome of [`AccessModel::check`], with a cheap reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Allowed: this role assignment (to the principal or one of its groups, at the scope or
    /// above) grants the action. When several do, it is the first in the model's order.
    Allowed(AssignmentId),
    /// Not allowed: no role assignment covering the scope grants the action.
    NotGranted,
    /// Not allowed: some covering role's `Actions` (or `DataActions`) match, but that same
    /// role's `NotActions` (`NotDataActions`) remove the action, and no other role grants it.
    RemovedByNotActions,
    /// Denied: this deny assignment blocks the action, whatever roles grant.
    Denied(DenyAssignmentId),
}

impl Decision {
    /// Whether the action is allowed.
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allowed(_))
    }

    /// A short camelCase name for the reason: `roleAssignment`, `notGranted`, `notActions`,
    /// `denyAssignment`.
    pub fn reason(self) -> &'static str {
        match self {
            Decision::Allowed(_) => "roleAssignment",
            Decision::NotGranted => "notGranted",
            Decision::RemovedByNotActions => "notActions",
            Decision::Denied(_) => "denyAssignment",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allowed(a) => write!(f, "allowed by role assignment #{}", a.0),
            Decision::NotGranted => f.write_str("not allowed: no role assignment grants it"),
            Decision::RemovedByNotActions => {
                f.write_str("not allowed: NotActions remove it from the roles that match")
            }
            Decision::Denied(d) => write!(f, "denied by deny assignment #{}", d.0),
        }
    }
}

/// `{"allowed": bool, "reason": "...", "assignment"|"denyAssignment": index}`.
impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let extra = matches!(self, Decision::Allowed(_) | Decision::Denied(_));
        let mut st = s.serialize_struct("Decision", if extra { 3 } else { 2 })?;
        st.serialize_field("allowed", &self.is_allowed())?;
        st.serialize_field("reason", self.reason())?;
        match self {
            Decision::Allowed(a) => st.serialize_field("assignment", &a.0)?,
            Decision::Denied(d) => st.serialize_field("denyAssignment", &d.0)?,
            _ => {}
        }
        st.end()
    }
}

/// What a permission list does with each catalog operation, per plane.
#[derive(Debug, Clone)]
pub(crate) struct CompiledPermissions {
    control: (Bits, Bits),
    data: (Bits, Bits),
}

impl CompiledPermissions {
    pub(crate) fn new(perms: &[Permission]) -> CompiledPermissions {
        let plane = |plane: Plane| {
            let (mut granted, mut removed) = (Bits::new(), Bits::new());
            for i in 0..catalog::len() {
                match role::eval(perms, plane, catalog::name(i).as_bytes()) {
                    Eval::Granted(_) => granted.set(i),
                    Eval::Removed { .. } => removed.set(i),
                    Eval::None => {}
                }
            }
            (granted, removed)
        };
        CompiledPermissions {
            control: plane(Plane::Control),
            data: plane(Plane::Data),
        }
    }

    /// Whether `perms`, which this was compiled from, grant `action`.
    #[inline]
    fn grants(&self, perms: &[Permission], action: &Action) -> bool {
        match (action.known(), action.plane()) {
            (Some(i), Plane::Control) => self.control.0.get(i),
            (Some(i), Plane::Data) => self.data.0.get(i),
            (None, plane) => matches!(role::eval(perms, plane, action.lower()), Eval::Granted(_)),
        }
    }

    /// How many catalog operations the permissions grant, each on its own plane, besides
    /// `requested` (control, data).
    pub(crate) fn granted_besides(&self, requested: &(Bits, Bits)) -> usize {
        let (control, data) = (
            catalog::operations(Plane::Control),
            catalog::operations(Plane::Data),
        );
        self.control.0.count_within_except(control, &requested.0)
            + self.data.0.count_within_except(data, &requested.1)
    }
}

#[derive(Debug, Clone)]
struct Grant {
    scope: Box<str>,
    key: ScopeKey,
    role: u32,
    assignment: u32,
}

#[derive(Debug, Clone)]
struct PrincipalEntry {
    hash: u64,
    id: Box<str>,
    groups: Vec<Box<str>>,
    grants: Vec<Grant>,
    /// For each grant, the offset of its role in `AccessModel::role_bits` (kept apart from
    /// `grants` so the scan reads one small array).
    bases: Vec<u32>,
    /// Union over `grants` of what their roles grant or remove, per plane, for a quick "no".
    touched: (Bits, Bits),
    denies: Vec<u32>,
}

#[derive(Debug, Clone)]
struct CompiledDeny {
    scopes: Vec<Box<str>>,
    exact: bool,
    perms: CompiledPermissions,
}

impl CompiledDeny {
    /// Whether the deny assignment applies at the normalised scope `target`.
    #[inline]
    fn covers(&self, target: &str) -> bool {
        if self.exact {
            self.scopes.iter().any(|s| **s == *target)
        } else {
            self.scopes.iter().any(|s| covers_norm(s, target))
        }
    }
}

/// Roles, role assignments, deny assignments and group memberships, compiled so that
/// [`check`](AccessModel::check) is a hash lookup, a few bit tests and segment comparisons.
///
/// Build one with [`AccessModel::builder`]. The model is immutable and `Sync`: share it
/// between threads behind an `Arc`.
#[derive(Debug, Clone)]
pub struct AccessModel {
    pub(crate) roles: Vec<RoleDefinition>,
    /// Every role's bits in one array, `4 * words` per role: control granted, control removed,
    /// data granted, data removed.
    role_bits: Box<[u64]>,
    words: usize,
    pub(crate) assignments: Vec<RoleAssignment>,
    pub(crate) assignment_role: Vec<u32>,
    pub(crate) denies: Vec<DenyAssignment>,
    compiled_denies: Vec<CompiledDeny>,
    everyone_denies: Vec<u32>,
    entries: Vec<PrincipalEntry>,
    slots: Box<[u32]>,
}

/// Builds an [`AccessModel`]; see [`AccessModel::builder`].
#[derive(Debug, Default)]
pub struct AccessModelBuilder {
    roles: Vec<RoleDefinition>,
    assignments: Vec<RoleAssignment>,
    denies: Vec<DenyAssignment>,
    members: Vec<(String, String)>,
    hierarchy: Vec<(String, String)>,
    errors: Vec<Error>,
}

impl AccessModelBuilder {
    /// Adds the embedded built-in roles ([`builtin::roles`]).
    pub fn builtin_roles(self) -> Self {
        self.roles(builtin::roles().iter().cloned())
    }

    /// Adds role definitions. A role with the same name or GUID as an earlier one replaces it,
    /// so an `az role definition list` file can override the embedded built-in roles.
    pub fn roles(mut self, roles: impl IntoIterator<Item = RoleDefinition>) -> Self {
        for r in roles {
            self = self.role(r);
        }
        self
    }

    /// Adds one role definition (replacing one with the same name or GUID).
    pub fn role(mut self, role: RoleDefinition) -> Self {
        let same = |o: &RoleDefinition| {
            o.role_name.eq_ignore_ascii_case(&role.role_name)
                || matches!((o.guid(), role.guid()), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
        };
        self.roles.retain(|o| !same(o));
        self.roles.push(role);
        self
    }

    /// Adds a role assignment.
    pub fn assignment(mut self, a: RoleAssignment) -> Self {
        self.assignments.push(a);
        self
    }

    /// Adds role assignments.
    pub fn assignments(mut self, a: impl IntoIterator<Item = RoleAssignment>) -> Self {
        self.assignments.extend(a);
        self
    }

    /// Assigns the role named `role_name` to `principal_id` at `scope` (parsed here; an invalid
    /// scope makes [`build`](Self::build) fail).
    pub fn assign(mut self, principal_id: &str, role_name: &str, scope: &str) -> Self {
        match Scope::parse(scope) {
            Ok(s) => self
                .assignments
                .push(RoleAssignment::new(principal_id, role_name, s)),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds a deny assignment.
    pub fn deny(mut self, d: DenyAssignment) -> Self {
        self.denies.push(d);
        self
    }

    /// Adds deny assignments.
    pub fn denies(mut self, d: impl IntoIterator<Item = DenyAssignment>) -> Self {
        self.denies.extend(d);
        self
    }

    /// Makes `member` (a principal or another group) a member of `group`.
    pub fn group_member(mut self, group: &str, member: &str) -> Self {
        self.members.push((group.to_owned(), member.to_owned()));
        self
    }

    /// Adds every membership of a [`GroupMemberships`] map.
    pub fn groups(mut self, groups: &GroupMemberships) -> Self {
        for (g, ms) in &groups.0 {
            for m in ms {
                self.members.push((g.clone(), m.clone()));
            }
        }
        self
    }

    /// Places a management group or subscription (`child`) under a management group
    /// (`parent`), so that assignments at the parent reach it. Scopes are ARM ids:
    /// `/providers/Microsoft.Management/managementGroups/{id}` and `/subscriptions/{id}`.
    pub fn management_group_child(mut self, parent: &str, child: &str) -> Self {
        self.hierarchy.push((parent.to_owned(), child.to_owned()));
        self
    }

    /// Validates and compiles the model.
    ///
    /// Fails on the first invalid scope given to [`assign`](Self::assign), on an assignment
    /// whose role is not among the roles, and on an invalid hierarchy link.
    pub fn build(self) -> Result<AccessModel> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let roles = self.roles;
        let mut by_name = HashMap::new();
        let mut by_guid = HashMap::new();
        for (i, r) in roles.iter().enumerate() {
            by_name.insert(r.role_name.to_ascii_lowercase(), i as u32);
            if let Some(g) = r.guid() {
                by_guid.insert(g.to_ascii_lowercase(), i as u32);
            }
        }
        let assignment_role = self
            .assignments
            .iter()
            .map(|a| {
                let by_id = a
                    .role_definition_id
                    .as_deref()
                    .and_then(|id| id.rsplit('/').next())
                    .and_then(|g| by_guid.get(&g.to_ascii_lowercase()));
                let by_nm = a
                    .role_definition_name
                    .as_deref()
                    .and_then(|n| by_name.get(&n.to_ascii_lowercase()));
                by_id.or(by_nm).copied().ok_or_else(|| Error::UnknownRole {
                    role: a
                        .role_definition_id
                        .clone()
                        .or_else(|| a.role_definition_name.clone())
                        .unwrap_or_default(),
                    assignment: a.label(),
                })
            })
            .collect::<Result<Vec<u32>>>()?;
        let words = catalog::len().div_ceil(64);
        let compiled: Vec<CompiledPermissions> = roles
            .iter()
            .map(|r| CompiledPermissions::new(&r.permissions))
            .collect();

        // Management-group hierarchy.
        let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (p, c) in &self.hierarchy {
            let err = |reason: &str| Error::InvalidHierarchy {
                parent: p.clone(),
                child: c.clone(),
                reason: reason.to_owned(),
            };
            let ps = Scope::parse(p).map_err(|e| err(&e.to_string()))?;
            let cs = Scope::parse(c).map_err(|e| err(&e.to_string()))?;
            if ps.kind() != ScopeKind::ManagementGroup {
                return Err(err("the parent must be a management group"));
            }
            if !matches!(
                cs.kind(),
                ScopeKind::ManagementGroup | ScopeKind::Subscription
            ) {
                return Err(err(
                    "the child must be a management group or a subscription",
                ));
            }
            children
                .entry(ps.norm().to_owned())
                .or_default()
                .push(cs.norm().to_owned());
        }
        let effective = |scope: &Scope| -> Vec<Box<str>> {
            let mut seen = BTreeSet::new();
            let mut stack = vec![scope.norm().to_owned()];
            while let Some(s) = stack.pop() {
                if seen.insert(s.clone()) {
                    stack.extend(children.get(&s).into_iter().flatten().cloned());
                }
            }
            // Drop scopes already covered by another in the set.
            let all: Vec<String> = seen.into_iter().collect();
            all.iter()
                .filter(|s| !all.iter().any(|o| o != *s && covers_norm(o, s)))
                .map(|s| s.as_str().into())
                .collect()
        };

        let compiled_denies: Vec<CompiledDeny> = self
            .denies
            .iter()
            .map(|d| CompiledDeny {
                scopes: if d.do_not_apply_to_child_scopes {
                    vec![d.scope.norm().into()]
                } else {
                    effective(&d.scope)
                },
                exact: d.do_not_apply_to_child_scopes,
                perms: CompiledPermissions::new(&d.permissions),
            })
            .collect();
        let everyone_denies: Vec<u32> = (0..self.denies.len() as u32)
            .filter(|&i| {
                self.denies[i as usize]
                    .principals
                    .iter()
                    .any(Principal::is_everyone)
            })
            .collect();

        // Groups: member → groups it belongs to directly.
        let mut parents: HashMap<String, Vec<String>> = HashMap::new();
        for (g, m) in &self.members {
            parents
                .entry(m.to_ascii_lowercase())
                .or_default()
                .push(g.to_ascii_lowercase());
        }
        let groups_of = |p: &str| -> Vec<String> {
            let mut seen = BTreeSet::new();
            let mut stack = parents.get(p).cloned().unwrap_or_default();
            while let Some(g) = stack.pop() {
                if g != p && seen.insert(g.clone()) {
                    stack.extend(parents.get(&g).into_iter().flatten().cloned());
                }
            }
            seen.into_iter().collect()
        };

        // Every principal the model knows.
        let mut ids: BTreeSet<String> = BTreeSet::new();
        ids.extend(
            self.assignments
                .iter()
                .map(|a| a.principal_id.to_ascii_lowercase()),
        );
        for (g, m) in &self.members {
            ids.insert(g.to_ascii_lowercase());
            ids.insert(m.to_ascii_lowercase());
        }
        for d in &self.denies {
            ids.extend(
                d.principals
                    .iter()
                    .chain(&d.exclude_principals)
                    .filter(|p| !p.is_everyone())
                    .map(|p| p.id.to_ascii_lowercase()),
            );
        }
        let scopes_of_assignment: Vec<Vec<Box<str>>> = self
            .assignments
            .iter()
            .map(|a| effective(&a.scope))
            .collect();
        let mut entries = Vec::with_capacity(ids.len());
        for id in ids {
            let groups = groups_of(&id);
            let is_self = |p: &str| {
                p.eq_ignore_ascii_case(&id) || groups.iter().any(|g| g.eq_ignore_ascii_case(p))
            };
            let mut grants = Vec::new();
            for (i, a) in self.assignments.iter().enumerate() {
                if a.condition.is_some() || !is_self(&a.principal_id) {
                    continue;
                }
                for s in &scopes_of_assignment[i] {
                    grants.push(Grant {
                        key: ScopeKey::of(s),
                        scope: s.clone(),
                        role: assignment_role[i],
                        assignment: i as u32,
                    });
                }
            }
            let denies = (0..self.denies.len() as u32)
                .filter(|&i| {
                    let d = &self.denies[i as usize];
                    d.principals
                        .iter()
                        .any(|p| p.is_everyone() || is_self(&p.id))
                        && !d.exclude_principals.iter().any(|p| is_self(&p.id))
                })
                .collect();
            let mut touched = (Bits::new(), Bits::new());
            for g in &grants {
                let c = &compiled[g.role as usize];
                touched.0.union_with(&c.control.0);
                touched.0.union_with(&c.control.1);
                touched.1.union_with(&c.data.0);
                touched.1.union_with(&c.data.1);
            }
            let bases = grants.iter().map(|g| g.role * 4 * words as u32).collect();
            entries.push(PrincipalEntry {
                bases,
                touched,
                hash: fold_hash(&id),
                groups: groups.into_iter().map(Into::into).collect(),
                id: id.into(),
                grants,
                denies,
            });
        }
        let cap = (entries.len() * 2).next_power_of_two().max(4);
        let mut slots = vec![u32::MAX; cap].into_boxed_slice();
        for (i, e) in entries.iter().enumerate() {
            let mut s = e.hash as usize & (cap - 1);
            while slots[s] != u32::MAX {
                s = (s + 1) & (cap - 1);
            }
            slots[s] = i as u32;
        }
        let role_bits = compiled
            .iter()
            .flat_map(|c| [&c.control.0, &c.control.1, &c.data.0, &c.data.1])
            .flat_map(|b| b.words().iter().copied())
            .collect();
        Ok(AccessModel {
            roles,
            role_bits,
            words,
            assignments: self.assignments,
            assignment_role,
            denies: self.denies,
            compiled_denies,
            everyone_denies,
            entries,
            slots,
        })
    }
}

/// A case-insensitive hash of an id, 8 bytes at a time (`| 0x20` folds ASCII case; other
/// collisions it adds are resolved by comparing the ids).
#[inline]
fn fold_hash(s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = s.len() as u64;
    let chunks = s.as_bytes().chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ (u64::from_le_bytes(w) | 0x2020_2020_2020_2020)).wrapping_mul(K);
    }
    for &c in tail {
        h = (h.rotate_left(5) ^ u64::from(c | 0x20)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

impl AccessModel {
    /// Starts an empty model (add [`AccessModelBuilder::builtin_roles`] for Azure's roles).
    pub fn builder() -> AccessModelBuilder {
        AccessModelBuilder::default()
    }

    #[inline]
    fn entry(&self, principal_id: &str) -> Option<&PrincipalEntry> {
        let h = fold_hash(principal_id);
        let mask = self.slots.len() - 1;
        let mut s = h as usize & mask;
        loop {
            let slot = self.slots[s];
            if slot == u32::MAX {
                return None;
            }
            let e = &self.entries[slot as usize];
            if e.hash == h && (*e.id == *principal_id || e.id.eq_ignore_ascii_case(principal_id)) {
                return Some(e);
            }
            s = (s + 1) & mask;
        }
    }

    #[inline]
    fn deny_hits(&self, d: u32, action: &Action, target: &str) -> bool {
        let cd = &self.compiled_denies[d as usize];
        cd.perms
            .grants(&self.denies[d as usize].permissions, action)
            && cd.covers(target)
    }

    /// The role assignments that [`check`](Self::check) considers for `principal_id` at
    /// `scope`, in order: those to the principal or its groups, without a condition, at the
    /// scope or above it (through the management-group hierarchy too).
    pub(crate) fn covering_assignments(&self, principal_id: &str, scope: &Scope) -> Vec<u32> {
        let mut ids: Vec<u32> = (self.entry(principal_id).into_iter())
            .flat_map(|e| &e.grants)
            .filter(|g| scope.is_covered_by(&g.scope, g.key))
            .map(|g| g.assignment)
            .collect();
        // Grants are in assignment order, one per scope an assignment reaches.
        ids.dedup();
        ids
    }

    /// Whether deny assignment `d` applies at the normalised scope `target`.
    pub(crate) fn deny_reaches(&self, d: usize, target: &str) -> bool {
        self.compiled_denies[d].covers(target)
    }

    /// Decides whether `principal_id` may perform `action` at `scope`, as Azure does:
    ///
    /// 1. a deny assignment that applies to the principal (directly, through a group, or to
    ///    everyone; unless it excludes the principal or one of its groups), at the scope or above
    ///    (only at the scope when `doNotApplyToChildScopes`), and whose permissions cover the
    ///    action, denies it;
    /// 2. otherwise it is allowed when a role assignment to the principal or one of its groups,
    ///    at the scope or above, has a role whose `Actions` minus that role's `NotActions` (for a
    ///    data action: `DataActions` minus `NotDataActions`) match the action;
    /// 3. otherwise it is not allowed.
    ///
    /// Allocation-free. Unknown principals are simply granted nothing.
    pub fn check(&self, principal_id: &str, action: &Action, scope: &Scope) -> Decision {
        let target = scope.norm();
        let entry = self.entry(principal_id);
        match entry {
            Some(e) => {
                for &d in &e.denies {
                    if self.deny_hits(d, action, target) {
                        return Decision::Denied(DenyAssignmentId(d));
                    }
                }
            }
            None => {
                for &d in &self.everyone_denies {
                    let excluded = self.denies[d as usize]
                        .exclude_principals
                        .iter()
                        .any(|p| p.id.eq_ignore_ascii_case(principal_id));
                    if !excluded && self.deny_hits(d, action, target) {
                        return Decision::Denied(DenyAssignmentId(d));
                    }
                }
            }
        }
        let Some(e) = entry else {
            return Decision::NotGranted;
        };
        if let Some(i) = action.known() {
            let touched = match action.plane() {
                Plane::Control => &e.touched.0,
                Plane::Data => &e.touched.1,
            };
            if !touched.get(i) {
                return Decision::NotGranted;
            }
        }
        let mut removed = false;
        if let Some(i) = action.known() {
            let w = self.words;
            let plane = if action.plane() == Plane::Data {
                2 * w
            } else {
                0
            };
            let (word, mask) = (plane + i as usize / 64, 1u64 << (i % 64));
            for (k, &base) in e.bases.iter().enumerate() {
                let b = base as usize + word;
                let granted = self.role_bits[b] & mask != 0;
                if !granted && self.role_bits[b + w] & mask == 0 {
                    continue;
                }
                let g = &e.grants[k];
                if !scope.is_covered_by(&g.scope, g.key) {
                    continue;
                }
                if granted {
                    return Decision::Allowed(AssignmentId(g.assignment));
                }
                removed = true;
            }
            return if removed {
                Decision::RemovedByNotActions
            } else {
                Decision::NotGranted
            };
        }
        // Outside the catalog: match patterns, but only for roles assigned at a covering scope.
        for g in &e.grants {
            if !scope.is_covered_by(&g.scope, g.key) {
                continue;
            }
            let perms = &self.roles[g.role as usize].permissions;
            match role::eval(perms, action.plane(), action.lower()) {
                Eval::Granted(_) => return Decision::Allowed(AssignmentId(g.assignment)),
                Eval::Removed { .. } => removed = true,
                Eval::None => {}
            }
        }
        if removed {
            Decision::RemovedByNotActions
        } else {
            Decision::NotGranted
        }
    }

    /// [`check`](Self::check) on strings, for callers holding an action and a scope as text
    /// (such as an emulated ARM endpoint); fails if either is malformed.
    pub fn check_str(&self, principal_id: &str, action: &str, scope: &str) -> Result<Decision> {
        Ok(self.check(principal_id, &Action::parse(action)?, &Scope::parse(scope)?))
    }

    /// The role definitions of the model.
    pub fn roles(&self) -> &[RoleDefinition] {
        &self.roles
    }

    /// A role of the model by name or GUID, case-insensitively.
    pub fn role(&self, name_or_id: &str) -> Option<&RoleDefinition> {
        self.roles.iter().find(|r| r.is_named(name_or_id))
    }

    /// The role assignments, in the order they were added.
    pub fn assignments(&self) -> &[RoleAssignment] {
        &self.assignments
    }

    /// The deny assignments, in the order they were added.
    pub fn deny_assignments(&self) -> &[DenyAssignment] {
        &self.denies
    }

    /// A role assignment by id (`None` if the id is not from this model).
    pub fn assignment(&self, id: AssignmentId) -> Option<&RoleAssignment> {
        self.assignments.get(id.0 as usize)
    }

    /// The role of a role assignment.
    pub fn assignment_role(&self, id: AssignmentId) -> Option<&RoleDefinition> {
        self.assignment_role
            .get(id.0 as usize)
            .map(|&r| &self.roles[r as usize])
    }

    /// A deny assignment by id.
    pub fn deny_assignment(&self, id: DenyAssignmentId) -> Option<&DenyAssignment> {
        self.denies.get(id.0 as usize)
    }

    /// The groups `principal_id` belongs to, directly or through other groups (lowercase ids).
    pub fn groups_of(&self, principal_id: &str) -> Vec<&str> {
        self.entry(principal_id)
            .map(|e| e.groups.iter().map(|g| &**g).collect())
            .unwrap_or_default()
    }

    /// ARM's `AuthorizationFailed` message for a decision that is not allowed, `None` when it is.
    /// `client` is the UPN or application id ARM names, `object_id` the principal's object id.
    pub fn authorization_failed_message(
        &self,
        client: &str,
        object_id: &str,
        action: &Action,
        scope: &Scope,
        decision: Decision,
    ) -> Option<String> {
        let base = format!(
            "The client '{client}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
        );
        match decision {
            Decision::Allowed(_) => None,
            Decision::Denied(d) => {
                let d = self.deny_assignment(d)?;
                Some(format!(
                    "{base} The access is denied because of the deny assignment with name '{}' and Id '{}' at scope '{}'.",
                    d.deny_assignment_name,
                    d.id.as_deref().unwrap_or(""),
                    d.scope
                ))
            }
            _ => Some(base),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";
    const ML: &str = "Microsoft.MachineLearningServices/workspaces";

    fn model() -> AccessModel {
        AccessModel::builder()
            .builtin_roles()
            .assign("ds", "AzureML Data Scientist", WS)
            .assign("op", "AzureML Compute Operator", WS)
            .assign("grp", "Reader", "/subscriptions/s")
            .assign("c", "Contributor", "/subscriptions/s/resourceGroups/rg")
            .group_member("grp", "ds")
            .build()
            .unwrap()
    }

    fn check(m: &AccessModel, who: &str, action: &str, scope: &str, expected: &str) {
        let action = action.replace("ML", ML);
        let a = Action::parse(&action).unwrap();
        let s = Scope::parse(&scope.replace("WS", WS)).unwrap();
        assert_eq!(
            m.check(who, &a, &s).reason(),
            expected,
            "{who} {action} at {scope}"
        );
    }

    #[test]
    fn decisions() {
        let m = model();
        check(
            &m,
            "ds",
            "ML/computes/start/action",
            "WS/computes/ci",
            "roleAssignment",
        );
        check(
            &m,
            "ds",
            "ML/computes/write",
            "WS/computes/ci",
            "notActions",
        );
        check(
            &m,
            "DS",
            "microsoft.machinelearningservices/WORKSPACES/COMPUTES/write",
            "WS",
            "notActions",
        );
        check(&m, "ds", "ML/read", "WS", "roleAssignment");
        check(
            &m,
            "ds",
            "Microsoft.Storage/storageAccounts/read",
            "/subscriptions/s",
            "roleAssignment",
        );
        check(
            &m,
            "ds",
            "Microsoft.Storage/storageAccounts/write",
            "/subscriptions/s",
            "notGranted",
        );
        check(
            &m,
            "op",
            "ML/computes/write",
            "WS/computes/ci",
            "roleAssignment",
        );
        check(&m, "op", "ML/jobs/write", "WS", "notGranted");
        check(
            &m,
            "c",
            "ML/computes/write",
            "WS/computes/ci",
            "roleAssignment",
        );
        check(
            &m,
            "c",
            "Microsoft.Authorization/roleAssignments/write",
            "WS",
            "notActions",
        );
        check(&m, "nobody", "ML/read", "WS", "notGranted");
        check(
            &m,
            "ds",
            "ML/read",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws2",
            "roleAssignment",
        );
        check(
            &m,
            "op",
            "ML/computes/read",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws2",
            "notGranted",
        );
    }

    #[test]
    fn unknown_role_and_bad_scope_fail_the_build() {
        let e = AccessModel::builder()
            .assign("p", "Nope", "/")
            .build()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"role assignment of "Nope" to p at "/" refers to unknown role "Nope""#
        );
        let e = AccessModel::builder()
            .builtin_roles()
            .assign("p", "Reader", "/subscriptions/")
            .build()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid scope "/subscriptions/": trailing "/""#
        );
        let e = AccessModel::builder()
            .management_group_child("/subscriptions/s", "/subscriptions/t")
            .build()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid hierarchy link "/subscriptions/s" -> "/subscriptions/t": the parent must be a management group"#
        );
    }

    #[test]
    fn check_str_parses_then_checks() {
        let m = model();
        let d = m.check_str(
            "ds",
            &format!("{ML}/computes/start/action"),
            &format!("{WS}/computes/c"),
        );
        assert_eq!(d, Ok(Decision::Allowed(AssignmentId(0))));
        let e = m.check_str("ds", "nope", WS).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid action "nope": expected {Company}.{Provider}/{resourceType}/{action}"#
        );
    }

    #[test]
    fn the_model_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<AccessModel>();
    }

    #[test]
    fn hash_folds_case() {
        assert_eq!(fold_hash("AbC-123-def"), fold_hash("aBc-123-DEF"));
        assert_ne!(fold_hash("abc"), fold_hash("abd"));
    }

    #[test]
    fn decision_json_and_text() {
        let j = |d: Decision| serde_json::to_string(&d).unwrap();
        assert_eq!(
            j(Decision::Allowed(AssignmentId(2))),
            r#"{"allowed":true,"reason":"roleAssignment","assignment":2}"#
        );
        assert_eq!(
            j(Decision::NotGranted),
            r#"{"allowed":false,"reason":"notGranted"}"#
        );
        assert_eq!(
            j(Decision::Denied(DenyAssignmentId(0))),
            r#"{"allowed":false,"reason":"denyAssignment","denyAssignment":0}"#
        );
        assert_eq!(
            Decision::RemovedByNotActions.to_string(),
            "not allowed: NotActions remove it from the roles that match"
        );
    }
}
