//! Principals, role assignments, deny assignments and group memberships, with their az JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::action::ActionPattern;
use crate::error::{Error, Result};
use crate::role::{Permission, kind};
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
    #[serde(serialize_with = "ser_permissions")]
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

fn ser_permissions<S: serde::Serializer>(perms: &[Permission], s: S) -> Result<S::Ok, S::Error> {
    let v: Vec<Value> = perms
        .iter()
        .map(|p| {
            let strs = |l: &[ActionPattern]| {
                l.iter()
                    .map(|a| Value::from(a.as_str()))
                    .collect::<Vec<_>>()
            };
            serde_json::json!({
                "actions": strs(&p.actions), "notActions": strs(&p.not_actions),
                "dataActions": strs(&p.data_actions), "notDataActions": strs(&p.not_data_actions),
            })
        })
        .collect();
    v.serialize(s)
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

fn bad(which: &str, reason: impl Into<String>) -> Error {
    Error::InvalidAssignment {
        assignment: which.to_owned(),
        reason: reason.into(),
    }
}

/// The object itself, or its `properties` member when it has one (ARM's shape).
fn members<'a>(v: &'a Value, which: &str) -> Result<&'a Map<String, Value>> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(which, "expected a json object"))?;
    match obj.get("properties") {
        Some(Value::Object(p)) => Ok(p),
        _ => Ok(obj),
    }
}

fn opt_str(obj: &Map<String, Value>, key: &str, which: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(
            which,
            format!("field {key:?}: expected a string, found {}", kind(other)),
        )),
    }
}

fn req_str(obj: &Map<String, Value>, key: &str, which: &str) -> Result<String> {
    match opt_str(obj, key, which)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(bad(which, format!("field {key:?}: empty"))),
        None => Err(bad(which, format!("field {key:?}: missing"))),
    }
}

fn kind_of(obj: &Map<String, Value>, key: &str, which: &str) -> Result<PrincipalKind> {
    Ok(match opt_str(obj, key, which)? {
        None => PrincipalKind::Unknown,
        Some(s) => serde_json::from_value(Value::String(s)).unwrap_or(PrincipalKind::Unknown),
    })
}

fn assignment_from_value(v: &Value, index: usize) -> Result<RoleAssignment> {
    let outer_name = v.get("name").and_then(Value::as_str).map(str::to_owned);
    let which = outer_name
        .as_ref()
        .map_or_else(|| format!("#{index}"), |n| format!("{n:?}"));
    let obj = members(v, &which)?;
    let scope_text = req_str(obj, "scope", &which)?;
    let scope =
        Scope::parse(&scope_text).map_err(|e| bad(&which, format!("field \"scope\": {e}")))?;
    let a = RoleAssignment {
        name: outer_name,
        principal_id: req_str(obj, "principalId", &which)?,
        principal_type: kind_of(obj, "principalType", &which)?,
        role_definition_name: opt_str(obj, "roleDefinitionName", &which)?,
        role_definition_id: opt_str(obj, "roleDefinitionId", &which)?,
        scope,
        condition: opt_str(obj, "condition", &which)?,
    };
    if a.role_definition_name.is_none() && a.role_definition_id.is_none() {
        return Err(bad(
            &which,
            "needs \"roleDefinitionName\" or \"roleDefinitionId\"",
        ));
    }
    Ok(a)
}

fn principals(obj: &Map<String, Value>, key: &str, which: &str) -> Result<Vec<Principal>> {
    let items = match obj.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(bad(
                which,
                format!("field {key:?}: expected an array, found {}", kind(other)),
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let f = format!("{key}[{i}]");
            let o = p.as_object().ok_or_else(|| {
                bad(
                    which,
                    format!("field {f:?}: expected an object with \"id\" and \"type\""),
                )
            })?;
            let id = req_str(o, "id", which)
                .map_err(|_| bad(which, format!("field {f:?}: missing \"id\"")))?;
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
    let outer_id = v.get("id").and_then(Value::as_str).map(str::to_owned);
    let obj = members(v, &which)?;
    let scope_text = req_str(obj, "scope", &which)?;
    let scope =
        Scope::parse(&scope_text).map_err(|e| bad(&which, format!("field \"scope\": {e}")))?;
    let perms = match obj.get("permissions") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let f = format!("permissions[{i}]");
                let o = p
                    .as_object()
                    .ok_or_else(|| bad(&which, format!("field {f:?}: expected an object")))?;
                let list = |key: &str| -> Result<Vec<ActionPattern>> {
                    match o.get(key) {
                        None | Some(Value::Null) => Ok(Vec::new()),
                        Some(Value::Array(xs)) => xs
                            .iter()
                            .enumerate()
                            .map(|(j, x)| {
                                let s = x.as_str().ok_or_else(|| {
                                    bad(
                                        &which,
                                        format!("field \"{f}.{key}[{j}]\": expected a string"),
                                    )
                                })?;
                                ActionPattern::parse(s).map_err(|e| {
                                    bad(&which, format!("field \"{f}.{key}[{j}]\": {e}"))
                                })
                            })
                            .collect(),
                        Some(other) => Err(bad(
                            &which,
                            format!(
                                "field \"{f}.{key}\": expected an array, found {}",
                                kind(other)
                            ),
                        )),
                    }
                };
                Ok(Permission {
                    actions: list("actions")?,
                    not_actions: list("notActions")?,
                    data_actions: list("dataActions")?,
                    not_data_actions: list("notDataActions")?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        None | Some(Value::Null) => return Err(bad(&which, "field \"permissions\": missing")),
        Some(other) => {
            return Err(bad(
                &which,
                format!(
                    "field \"permissions\": expected an array, found {}",
                    kind(other)
                ),
            ));
        }
    };
    let do_not = match obj.get("doNotApplyToChildScopes") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(bad(
                &which,
                format!(
                    "field \"doNotApplyToChildScopes\": expected a boolean, found {}",
                    kind(other)
                ),
            ));
        }
    };
    let principals_list = principals(obj, "principals", &which)?;
    if principals_list.is_empty() {
        return Err(bad(&which, "field \"principals\": no principal"));
    }
    Ok(DenyAssignment {
        id: opt_str(obj, "id", &which)?.or(outer_id),
        deny_assignment_name: req_str(obj, "denyAssignmentName", &which)?,
        permissions: perms,
        scope,
        principals: principals_list,
        exclude_principals: principals(obj, "excludePrincipals", &which)?,
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
            r#"invalid assignment deny assignment "d": field "permissions": missing"#
        );
        assert_eq!(
            err(
                r#"{"denyAssignmentName":"d","scope":"/","permissions":[{"actions":["x"]}],"principals":[{"id":"p"}]}"#
            ),
            r#"invalid assignment deny assignment "d": field "permissions[0].actions[0]": invalid action "x": expected {Company}.{Provider}/{resourceType}/{action}"#
        );
        assert_eq!(
            err(r#"{"denyAssignmentName":"d","scope":"/","permissions":[],"principals":[]}"#),
            r#"invalid assignment deny assignment "d": field "principals": no principal"#
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
