//! Azure role-based access control, modelled exactly: scopes, role definitions, role and deny
//! assignments; access decisions with explanations; least-privilege role suggestions.
//!
//! Azure RBAC decides what an authenticated principal may do, whichever way it signed in: an
//! admin may be allowed to create a compute instance but not use it, a data scientist to use
//! it but not create or delete it. This crate answers "may principal P perform action A at
//! scope S?" the way Azure Resource Manager does, explains the answer, and suggests the
//! narrowest role for a set of actions.
//!
//! # How it fits
//!
//! `rbac` depends on no other workspace crate and on no authentication flow: it is pure data
//! and decisions. The emulator in `auth-testkit` builds an [`AccessModel`] from its setup and
//! makes its ARM `403 AuthorizationFailed` decisions with [`AccessModel::check`]; the
//! `amlauth rbac check|explain|suggest` tool reads az's JSON files with
//! [`RoleDefinition::from_json`], [`RoleAssignment::from_json`], [`DenyAssignment::from_json`]
//! and [`GroupMemberships::from_json`], and prints [`Explanation`]s and [`Suggestion`]s as
//! text or JSON.
//!
//! The built-in role definitions and the `Microsoft.MachineLearningServices` operations are
//! embedded ([`builtin`]).
//!
//! # Example
//!
//! ```
//! use rbac::{AccessModel, Action, Scope};
//!
//! let ws = "/subscriptions/0000/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/ws";
//! let model = AccessModel::builder()
//!     .builtin_roles()
//!     .assign("alice", "AzureML Data Scientist", ws)
//!     .build()?;
//!
//! let compute = Scope::parse(&format!("{ws}/computes/ci1"))?;
//! let start = Action::parse("Microsoft.MachineLearningServices/workspaces/computes/start/action")?;
//! let create = Action::parse("Microsoft.MachineLearningServices/workspaces/computes/write")?;
//!
//! assert!(model.check("alice", &start, &compute).is_allowed());
//! assert!(!model.check("alice", &create, &compute).is_allowed());
//!
//! let why = model.explain("alice", &create, &compute);
//! assert!(why.to_string().contains("its NotActions Microsoft.MachineLearningServices/workspaces/computes/*/write remove it"));
//! # Ok::<(), rbac::Error>(())
//! ```
//!
//! # Decision rules
//!
//! What Azure documents, implemented as such:
//!
//! - A deny assignment that applies wins over every role assignment.
//! - Otherwise an action is allowed when some role assignment to the principal, or to a group
//!   it belongs to, at the scope or an ancestor scope, has a role whose `Actions` minus that
//!   same role's `NotActions` match it. `NotActions` is not a deny: another role can still
//!   grant the action.
//! - Control-plane and data actions are checked apart: `Actions`/`NotActions` for control
//!   actions, `DataActions`/`NotDataActions` for data actions (so `*` in `Actions` grants no
//!   data action). Deny assignments' permissions work the same way.
//! - Operation strings and scopes compare case-insensitively; `*` matches any run of
//!   characters, `/` included. Scopes compare segment by segment, so
//!   `/subscriptions/S/resourceGroups/RG` covers neither `.../RG2` nor `.../RGX`.
//! - A deny assignment with `doNotApplyToChildScopes` applies at its own scope only;
//!   `excludePrincipals` exempts principals.
//!
//! Where Azure's docs are silent, this crate chooses (each choice is tested):
//!
//! - **A whole-segment `*` may match no segment.** `workspaces/*/read` matches
//!   `workspaces/read`, and `workspaces/computes/*/write` matches `workspaces/computes/write`.
//!   Otherwise the built-in AzureML Data Scientist role (whose `NotActions` list
//!   `workspaces/computes/*/write`) could create computes, contrary to its description, and
//!   its `NotActions` `workspaces/write` would be pointless. A `*` inside a segment
//!   (`work*`) or at either end (`*/read`, `Microsoft.Foo/*`) has no such extra meaning.
//! - **`NotActions` subtract within one permission entry.** A role with several `permissions`
//!   entries grants the union of each entry's `Actions` minus that entry's `NotActions`.
//! - **Group membership is transitive** (a member of a group that is a member of a group gets
//!   both groups' assignments), and cycles are harmless. A deny assignment's
//!   `excludePrincipals` exempts a principal when it lists the principal or any of its groups;
//!   exclusion beats inclusion.
//! - **"Everyone"** in a deny assignment is the principal id
//!   `00000000-0000-0000-0000-000000000000` ([`EVERYONE`]); it covers unknown principals too.
//! - **Management groups** reach subscriptions only through links given to
//!   [`AccessModelBuilder::management_group_child`]; the root scope `/` covers everything.
//! - **Assignable scopes are not enforced at check time.** Azure enforces them when an
//!   assignment is created; an existing assignment is honoured as is. Least-privilege
//!   suggestions only consider roles assignable at the requested scope.
//! - **Conditions (ABAC) are not evaluated**: an assignment with a `condition` grants nothing.
//! - **Role name clashes**: a role added with the name or GUID of an earlier one replaces it.
//! - **Unknown principals** are granted nothing; unknown actions (outside the embedded
//!   catalog) are matched against the patterns directly, with the same result, only slower.
//!
//! # Crate features
//!
//! None. The crate does no I/O: callers read files and pass their contents.
//!
//! # Security notes
//!
//! This is a model of Azure's decisions for tests, emulation and planning; Azure Resource
//! Manager stays the authority, and the embedded built-in roles are a snapshot of the docs
//! (their `_source` members say which). The crate handles no secrets: ids, role names and
//! scopes only. Checks on input from files never panic; malformed input is an [`Error`].
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod action;
mod assignment;
pub mod builtin;
mod catalog;
mod error;
mod explain;
mod json;
mod model;
mod role;
mod scope;
mod suggest;

pub use action::{Action, ActionPattern, Plane};
pub use assignment::{
    DenyAssignment, EVERYONE, GroupMemberships, Principal, PrincipalKind, RoleAssignment,
};
pub use error::{Error, Result};
pub use explain::{DenyDetail, Explanation, GrantDetail, RemovalDetail};
pub use model::{AccessModel, AccessModelBuilder, AssignmentId, Decision, DenyAssignmentId};
pub use role::{Permission, RoleDefinition, RoleType};
pub use scope::{Scope, ScopeKind};
pub use suggest::{RoleChoice, Suggestion, least_privilege, least_privilege_among};
