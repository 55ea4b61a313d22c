//! Principals, role assignments, deny assignments and group memberships, with their az JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::json::{Owner, kind};
use crate::role::{Permission, serialize_permissions};
use crate::scope::Scope;

/// The object id of the "Everyone" principal that deny assignments use (type `SystemDefined`).
pub const EVERYONE: &str = "00000000-0000-0000-0000-000000000000";

/// The type of a security principal, as az's `principalType` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// A user.
    User,
    /// A security group; its members get its role assignments.
    Group,
    /// An application's service principal.
    ServicePrincipal,
    /// A managed identity (az reports these as `ServicePrincipal`).
    ManagedIdentity,
    /// A group from another tenant.
    ForeignGroup,
    /// A device.
    Device,
    /// "Everyone" in deny assignments.
    SystemDefined,
    /// Not given or not recognised.
    #[serde(other)]
    Unknown,
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
            PrincipalKind::ServicePrincipal => "service principal",
            PrincipalKind::ManagedIdentity => "managed identity",
            PrincipalKind::ForeignGroup => "foreign group",
            PrincipalKind::Device => "device",
            PrincipalKind::SystemDefined => "everyone",
            PrincipalKind::Unknown => "principal",
        })
    }
}

/// A security principal: an object id and its kind. Ids compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The Entra object id.
    pub id: String,
    /// What kind of principal it is.
    #[serde(rename = "type")]
    pub kind: PrincipalKind,
}

impl Principal {
    /// A principal of the given kind.
    pub fn new(id: impl Into<String>, kind: PrincipalKind) -> Principal {
        Principal {
            id: id.into(),
            kind,
        }
    }

    /// Whether this is the "Everyone" principal of deny assignments.
    pub fn is_everyone(&self) -> bool {
        self.id == EVERYONE
    }
}

/// A role assignment: a role granted to a principal at a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// The assignment's GUID (az `name`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Who gets the role.
    pub principal_id: String,
    /// What kind of principal that is.
    pub principal_type: PrincipalKind,
    /// The role's display name, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_definition_name: Option<String>,
    /// The role definition's id (full id or GUID), when given; it wins over the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_definition_id: Option<String>,
    /// Where the role applies (and everything below).
    pub scope: Scope,
    /// An ABAC condition. Conditions are not evaluated: an assignment with one grants nothing
    /// here (see the crate's "Decision rules").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl RoleAssignment {
    /// Assigns the role named `role_name` to `principal_id` at `scope`.
    pub fn new(
        principal_id: impl Into<String>,
        role_name: impl Into<String>,
        scope: Scope,
    ) -> RoleAssignment {
        RoleAssignment {
            name: None,
            principal_id: principal_id.into(),
            principal_type: PrincipalKind::Unknown,
            role_definition_name: Some(role_name.into()),
            role_definition_id: None,
            scope,
            condition: None,
        }
    }

    /// Sets the principal's kind.
    pub fn with_kind(mut self, kind: PrincipalKind) -> RoleAssignment {
        self.principal_type = kind;
        self
    }

    /// Reads `az role assignment list` output: an array (or one object) with `principalId`,
    /// `principalType`, `roleDefinitionName` and/or `roleDefinitionId`, `scope`, and optionally
    /// `name` and `condition`; other members are ignored. ARM's shape, with these members under
    /// `properties`, is accepted too.
    pub fn from_json(json: &str) -> Result<Vec<RoleAssignment>> {
        list(json, "role assignments")?
            .iter()
            .enumerate()
            .map(|(i, v)| assignment_from_value(v, i))
            .collect()
    }

    /// A short label for messages: the name if known, else principal, role and scope.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n:?}"),
            None => format!(
                "of {:?} to {} at {:?}",
                self.role_definition_name
                    .as_deref()
                    .or(self.role_definition_id.as_deref())
                    .unwrap_or("?"),
                self.principal_id,
                self.scope.as_str()
            ),
        }
    }
}

/// A deny assignment: actions that principals may not perform at a scope, whatever roles grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DenyAssignment {
    /// The deny assignment's id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `denyAssignmentName`.
    pub deny_assignment_name: String,
    /// What is denied: each entry's actions minus its not-actions, per plane.
    #[serde(serialize_with = "serialize_permissions")]
    pub permissions: Vec<Permission>,
    /// Where it applies.
    pub scope: Scope,
    /// Who is denied; [`EVERYONE`] means all principals.
    pub principals: Vec<Principal>,
    /// Who is exempt.
    pub exclude_principals: Vec<Principal>,
    /// When true, it applies at `scope` only, not below.
    pub do_not_apply_to_child_scopes: bool,
}

/// Reads one assignment in az's or ARM's shape (see [`RoleAssignment::from_json`]).
impl<'de> Deserialize<'de> for RoleAssignment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RoleAssignment, D::Error> {
        let v = Value::deserialize(d)?;
        assignment_from_value(&v, 0).map_err(serde::de::Error::custom)
    }
}

/// Reads one deny assignment in az's or ARM's shape (see [`DenyAssignment::from_json`]).
impl<'de> Deserialize<'de> for DenyAssignment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DenyAssignment, D::Error> {
        let v = Value::deserialize(d)?;
        deny_from_value(&v, 0).map_err(serde::de::Error::custom)
    }
}

impl DenyAssignment {
    /// Reads deny assignments: an array (or one object) in az's flat shape
    /// (`denyAssignmentName`, `permissions`, `principals`, `excludePrincipals`,
    /// `doNotApplyToChildScopes`, `scope`) or ARM's, with those members under `properties`.
    pub fn from_json(json: &str) -> Result<Vec<DenyAssignment>> {
        list(json, "deny assignments")?
            .iter()
            .enumerate()
            .map(|(i, v)| deny_from_value(v, i))
            .collect()
    }
}

/// Group memberships: group object id → ids of its direct members (users, service principals,
/// managed identities or other groups). Membership is transitive: a member of a member group
/// is a member too.
///
/// JSON shape: `{"<group id>": ["<member id>", ...], ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupMemberships(pub BTreeMap<String, Vec<String>>);

impl GroupMemberships {
    /// Reads the JSON map `{"<group id>": ["<member id>", ...]}`.
    pub fn from_json(json: &str) -> Result<GroupMemberships> {
        serde_json::from_str(json).map_err(|e| {
            Error::json(
                "group memberships (expected {\"<group id>\": [\"<member id>\", ...]})",
                &e,
            )
        })
    }
}

fn list(json: &str, what: &str) -> Result<Vec<Value>> {
    match serde_json::from_str(json).map_err(|e| Error::json(what, &e))? {
        Value::Array(items) => Ok(items),
        v => Ok(vec![v]),
    }
}

/// The object itself, or its `properties` member when it has one (ARM's shape).
fn members<'a>(v: &'a Value, which: Owner<'_>) -> Result<&'a Map<String, Value>> {
    let obj = v
        .as_object()
        .ok_or_else(|| which.error("", "expected a json object"))?;
    match obj.get("properties") {
        Some(Value::Object(p)) => Ok(p),
        _ => Ok(obj),
    }
}

fn kind_of(obj: &Map<String, Value>, key: &str, which: Owner<'_>) -> Result<PrincipalKind> {
    Ok(match which.opt_string(obj, key)? {
        None => PrincipalKind::Unknown,
        Some(s) => serde_json::from_value(Value::String(s)).unwrap_or(PrincipalKind::Unknown),
    })
}

fn scope(obj: &Map<String, Value>, which: Owner<'_>) -> Result<Scope> {
    Scope::parse(&which.string(obj, "scope")?).map_err(|e| which.error("scope", e.to_string()))
}

fn assignment_from_value(v: &Value, index: usize) -> Result<RoleAssignment> {
    let outer_name = v.get("name").and_then(Value::as_str).map(str::to_owned);
    let which = outer_name.as_ref().map_or_else(
        || format!("assignment #{index}"),
        |n| format!("assignment {n:?}"),
    );
    let which = Owner::Assignment(&which);
    let obj = members(v, which)?;
    let a = RoleAssignment {
        scope: scope(obj, which)?,
        name: outer_name,
        principal_id: which.string(obj, "principalId")?,
        principal_type: kind_of(obj, "principalType", which)?,
        role_definition_name: which.opt_string(obj, "roleDefinitionName")?,
        role_definition_id: which.opt_string(obj, "roleDefinitionId")?,
        condition: which.opt_string(obj, "condition")?,
    };
    if a.role_definition_name.is_none() && a.role_definition_id.is_none() {
        return Err(which.error("", "needs \"roleDefinitionName\" or \"roleDefinitionId\""));
    }
    Ok(a)
}

fn principals(obj: &Map<String, Value>, key: &str, which: Owner<'_>) -> Result<Vec<Principal>> {
    let items = match obj.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(which.error(key, format!("expected an array, found {}", kind(other))));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let f = format!("{key}[{i}]");
            let o = p
                .as_object()
                .ok_or_else(|| which.error(&f, "expected an object with \"id\" and \"type\""))?;
            let id = which
                .string(o, "id")
                .map_err(|_| which.error(&f, "missing \"id\""))?;
            Ok(Principal {
                id,
                kind: kind_of(o, "type", which)?,
            })
        })
        .collect()
}

fn deny_from_value(v: &Value, index: usize) -> Result<DenyAssignment> {
    let label = v
        .get("properties")
        .and_then(|p| p.get("denyAssignmentName"))
        .or_else(|| v.get("denyAssignmentName"))
        .and_then(Value::as_str)
        .map_or_else(|| format!("#{index}"), |n| format!("{n:?}"));
    let which = format!("deny assignment {label}");
    let which = Owner::Assignment(&which);
    let outer_id = v.get("id").and_then(Value::as_str).map(str::to_owned);
    let obj = members(v, which)?;
    let scope = scope(obj, which)?;
    let permissions = which.permissions(obj)?;
    let do_not = match obj.get("doNotApplyToChildScopes") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(which.error(
                "doNotApplyToChildScopes",
                format!("expected a boolean, found {}", kind(other)),
            ));
        }
    };
    let principals_list = principals(obj, "principals", which)?;
    if principals_list.is_empty() {
        return Err(which.error("principals", "no principal"));
    }
    Ok(DenyAssignment {
        id: which.opt_string(obj, "id")?.or(outer_id),
        deny_assignment_name: which.string(obj, "denyAssignmentName")?,
        permissions,
        scope,
        principals: principals_list,
        exclude_principals: principals(obj, "excludePrincipals", which)?,
        do_not_apply_to_child_scopes: do_not,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_assignments(json: &str, expected: std::result::Result<&str, &str>) {
        let got = RoleAssignment::from_json(json)
            .map(|v| {
                v.iter()
                    .map(|a| {
                        format!(
                            "{}:{:?}:{}:{}",
                            a.principal_id,
                            a.principal_type,
                            a.role_definition_name
                                .as_deref()
                                .or(a.role_definition_id.as_deref())
                                .unwrap_or(""),
                            a.scope
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .map_err(|e| e.to_string());
        assert_eq!(
            got,
            expected.map(str::to_owned).map_err(str::to_owned),
            "{json}"
        );
    }

    #[test]
    fn role_assignments() {
        check_assignments(
            r#"[{"principalId":"p1","principalType":"ServicePrincipal","roleDefinitionName":"Reader","scope":"/subscriptions/s","name":"a1","condition":null}]"#,
            Ok("p1:ServicePrincipal:Reader:/subscriptions/s"),
        );
        check_assignments(
            r#"{"name":"a","properties":{"principalId":"p","principalType":"Weird","roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","scope":"/"}}"#,
            Ok(
                "p:Unknown:/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7:/",
            ),
        );
        check_assignments(
            r#"[{"principalId":"p","roleDefinitionName":"Reader"}]"#,
            Err(r##"invalid assignment #0: field "scope": missing"##),
        );
        check_assignments(
            r#"[{"principalId":"p","scope":"/"}]"#,
            Err(r##"invalid assignment #0: needs "roleDefinitionName" or "roleDefinitionId""##),
        );
        check_assignments(
            r#"[{"name":"x","principalId":"p","roleDefinitionName":"Reader","scope":"/subscriptions/s/resourcegroup/r"}]"#,
            Err(
                r#"invalid assignment "x": field "scope": invalid scope "/subscriptions/s/resourcegroup/r": expected "resourceGroups" after a subscription id (or "providers" for a subscription-level resource)"#,
            ),
        );
        check_assignments(
            r#"[{"principalId":5,"roleDefinitionName":"Reader","scope":"/"}]"#,
            Err(
                r##"invalid assignment #0: field "principalId": expected a string, found a number"##,
            ),
        );
        check_assignments(
            "{",
            Err("invalid role assignments json: EOF while parsing an object at line 1 column 1"),
        );
    }

    #[test]
    fn deny_assignments() {
        let json = r#"{"id":"/d/1","name":"1","properties":{"denyAssignmentName":"no delete","permissions":[{"actions":["*/delete"],"notActions":[]}],
            "scope":"/subscriptions/s","principals":[{"id":"00000000-0000-0000-0000-000000000000","type":"SystemDefined"}],
            "excludePrincipals":[{"id":"p1","type":"User"}],"doNotApplyToChildScopes":true}}"#;
        let d = DenyAssignment::from_json(json).unwrap().remove(0);
        assert_eq!(d.deny_assignment_name, "no delete");
        assert_eq!(d.id.as_deref(), Some("/d/1"));
        assert!(d.principals[0].is_everyone());
        assert_eq!(
            d.exclude_principals,
            vec![Principal::new("p1", PrincipalKind::User)]
        );
        assert!(d.do_not_apply_to_child_scopes);
        let err = |j: &str| DenyAssignment::from_json(j).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"denyAssignmentName":"d","scope":"/","principals":[{"id":"p"}]}"#),
            r#"invalid deny assignment "d": field "permissions": missing"#
        );
        assert_eq!(
            err(
                r#"{"denyAssignmentName":"d","scope":"/","permissions":[{"actions":["x"]}],"principals":[{"id":"p"}]}"#
            ),
            r#"invalid deny assignment "d": field "permissions[0].actions[0]": invalid action "x": expected {Company}.{Provider}/{resourceType}/{action}"#
        );
        assert_eq!(
            err(
                r#"{"denyAssignmentName":"d","scope":"/","permissions":[{"notActions":[1]}],"principals":[{"id":"p"}]}"#
            ),
            r#"invalid deny assignment "d": field "permissions[0].notActions[0]": expected a string, found a number"#
        );
        assert_eq!(
            err(r#"{"denyAssignmentName":"d","scope":"/","permissions":[],"principals":[]}"#),
            r#"invalid deny assignment "d": field "principals": no principal"#
        );
    }

    #[test]
    fn serde_deserialize_matches_from_json() {
        let a: RoleAssignment = serde_json::from_str(
            r#"{"principalId":"p","roleDefinitionName":"Reader","scope":"/"}"#,
        )
        .unwrap();
        assert_eq!(a, RoleAssignment::new("p", "Reader", Scope::root()));
        let e = serde_json::from_str::<RoleAssignment>(r#"{"principalId":"p","scope":"/"}"#)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid assignment #0: needs "roleDefinitionName" or "roleDefinitionId""#
        );
        let d: DenyAssignment = serde_json::from_str(
            r#"{"denyAssignmentName":"d","scope":"/","permissions":[],"principals":[{"id":"p"}]}"#,
        )
        .unwrap();
        assert_eq!(d.principals[0].kind, PrincipalKind::Unknown);
    }

    #[test]
    fn groups() {
        let g = GroupMemberships::from_json(r#"{"g1":["u1","g2"],"g2":["u2"]}"#).unwrap();
        assert_eq!(g.0["g1"], vec!["u1", "g2"]);
        assert!(
            GroupMemberships::from_json(r#"{"g1":"u1"}"#)
                .unwrap_err()
                .to_string()
                .starts_with("invalid group memberships")
        );
    }
}
