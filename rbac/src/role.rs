//! Role definitions, read from and written as `az role definition` JSON or the PowerShell shape.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::action::{Action, ActionPattern, Plane};
use crate::error::{Error, Result};
use crate::json::{Owner, kind};
use crate::scope::Scope;

/// Whether a role is built into Azure or defined by a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleType {
    /// `BuiltInRole` (PowerShell: `IsCustom: false`).
    BuiltIn,
    /// `CustomRole` (PowerShell: `IsCustom: true`).
    Custom,
}

impl RoleType {
    /// The name az uses in `roleType`.
    pub fn as_az_str(self) -> &'static str {
        match self {
            RoleType::BuiltIn => "BuiltInRole",
            RoleType::Custom => "CustomRole",
        }
    }
}

impl fmt::Display for RoleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_az_str())
    }
}

/// One entry of a role definition's `permissions`: what it grants on each plane and what it
/// removes from that grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permission {
    /// Control-plane operations granted.
    pub actions: Vec<ActionPattern>,
    /// Control-plane operations removed from `actions` (not a deny).
    pub not_actions: Vec<ActionPattern>,
    /// Data operations granted.
    pub data_actions: Vec<ActionPattern>,
    /// Data operations removed from `data_actions` (not a deny).
    pub not_data_actions: Vec<ActionPattern>,
}

impl Permission {
    pub(crate) fn lists(&self, plane: Plane) -> (&[ActionPattern], &[ActionPattern]) {
        match plane {
            Plane::Control => (&self.actions, &self.not_actions),
            Plane::Data => (&self.data_actions, &self.not_data_actions),
        }
    }
}

/// How a list of permissions treats one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eval<'a> {
    /// Some entry's list grants it and that entry's exclusions do not remove it.
    Granted(&'a ActionPattern),
    /// A grant pattern matched, but the same entry's exclusion removed it; no other entry grants it.
    Removed {
        pattern: &'a ActionPattern,
        not_pattern: &'a ActionPattern,
    },
    /// Nothing matches.
    None,
}

/// Evaluates `action` against permissions: each entry's `Actions` minus that same entry's
/// `NotActions` (or the data lists for a data action); granted if any entry grants it.
pub(crate) fn eval<'a>(perms: &'a [Permission], plane: Plane, action: &[u8]) -> Eval<'a> {
    let mut removed = Eval::None;
    for p in perms {
        let (grant, not) = p.lists(plane);
        let Some(pattern) = grant.iter().find(|g| g.matches_lower(action)) else {
            continue;
        };
        match not.iter().find(|n| n.matches_lower(action)) {
            None => return Eval::Granted(pattern),
            Some(not_pattern) => {
                if removed == Eval::None {
                    removed = Eval::Removed {
                        pattern,
                        not_pattern,
                    };
                }
            }
        }
    }
    removed
}

/// A role definition: a named set of permissions and the scopes it may be assigned at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefinition {
    /// The display name (`roleName`, PowerShell `Name`), unique in a tenant.
    pub role_name: String,
    /// The role's GUID (az `name`; the last segment of `id`), when known.
    pub name: Option<String>,
    /// The full resource id (`/providers/Microsoft.Authorization/roleDefinitions/{guid}`), or the
    /// PowerShell `Id` as written, when known.
    pub id: Option<String>,
    /// Built-in or custom.
    pub role_type: RoleType,
    /// What the role is for.
    pub description: String,
    /// What the role grants.
    pub permissions: Vec<Permission>,
    /// Where the role may be assigned.
    pub assignable_scopes: Vec<Scope>,
}

impl RoleDefinition {
    /// Reads role definitions from JSON: an array (as `az role definition list` prints it) or a
    /// single object, each in az's shape (`roleName`, `permissions`, `assignableScopes`, ...) or
    /// PowerShell's (`Name`, `IsCustom`, `Actions`, `NotActions`, ...). Unknown members are ignored.
    pub fn from_json(json: &str) -> Result<Vec<RoleDefinition>> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| Error::json("role definitions", &e))?;
        match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| RoleDefinition::from_value(v, i))
                .collect(),
            v => Ok(vec![RoleDefinition::from_value(&v, 0)?]),
        }
    }

    fn from_value(v: &Value, index: usize) -> Result<RoleDefinition> {
        let fallback = format!("#{index}");
        let Some(obj) = v.as_object() else {
            return Err(Owner::Role(&fallback).error("", "expected a json object"));
        };
        let az = obj.contains_key("roleName") || obj.contains_key("permissions");
        let ps = obj.contains_key("Name") || obj.contains_key("Actions");
        match (az, ps) {
            (true, _) => from_az(obj, &fallback),
            (false, true) => from_powershell(obj, &fallback),
            (false, false) => Err(Owner::Role(&fallback).error(
                "",
                "expected az's \"roleName\" and \"permissions\" or PowerShell's \"Name\" and \"Actions\" members",
            )),
        }
    }

    /// The role's GUID: `name`, or the last segment of `id`.
    pub fn guid(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or_else(|| self.id.as_deref().and_then(|id| id.rsplit('/').next()))
    }

    /// Whether `name_or_id` is the role's display name or GUID, case-insensitively.
    pub(crate) fn is_named(&self, name_or_id: &str) -> bool {
        self.role_name.eq_ignore_ascii_case(name_or_id)
            || self
                .guid()
                .is_some_and(|g| g.eq_ignore_ascii_case(name_or_id))
    }

    /// Whether the role may be assigned at `scope`: one of its assignable scopes covers it.
    pub fn is_assignable_at(&self, scope: &Scope) -> bool {
        self.assignable_scopes.iter().any(|s| s.covers(scope))
    }

    /// Whether the role, on its own, grants `action` (its permissions' grants minus the same
    /// entry's exclusions, on the action's plane).
    pub fn grants(&self, action: &Action) -> bool {
        matches!(
            eval(&self.permissions, action.plane(), action.lower()),
            Eval::Granted(_)
        )
    }

    /// The role in az's JSON shape (what `az role definition list` prints and
    /// `az role definition create --role-definition` accepts).
    pub fn to_az_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The role in the PowerShell shape of the Azure ML docs (`Name`, `IsCustom`, `Actions`, ...),
    /// with the permissions of every entry merged into one. A role with several entries and any
    /// exclusions is an error: merged, one entry's `NotActions` would remove another entry's
    /// grants (write it with [`Self::to_az_json`] instead).
    pub fn to_powershell_json(&self) -> Result<Value> {
        let excludes = |p: &Permission| !p.not_actions.is_empty() || !p.not_data_actions.is_empty();
        if self.permissions.len() > 1 && self.permissions.iter().any(excludes) {
            return Err(Owner::Role(&self.role_name).error(
                "permissions",
                "several entries with NotActions or NotDataActions cannot be merged into PowerShell's one entry without changing what the role grants; use the az JSON shape",
            ));
        }
        let merged = |f: fn(&Permission) -> &Vec<ActionPattern>| -> Vec<&str> {
            self.permissions
                .iter()
                .flat_map(|p| f(p).iter().map(ActionPattern::as_str))
                .collect()
        };
        let mut m = Map::new();
        m.insert("Name".into(), self.role_name.clone().into());
        if let Some(id) = self.guid() {
            m.insert("Id".into(), id.into());
        }
        m.insert(
            "IsCustom".into(),
            (self.role_type == RoleType::Custom).into(),
        );
        m.insert("Description".into(), self.description.clone().into());
        m.insert("Actions".into(), merged(|p| &p.actions).into());
        m.insert("NotActions".into(), merged(|p| &p.not_actions).into());
        m.insert("DataActions".into(), merged(|p| &p.data_actions).into());
        m.insert(
            "NotDataActions".into(),
            merged(|p| &p.not_data_actions).into(),
        );
        let scopes: Vec<&str> = self.assignable_scopes.iter().map(Scope::as_str).collect();
        m.insert("AssignableScopes".into(), scopes.into());
        Ok(Value::Object(m))
    }
}

/// The required list of assignable scopes.
fn scopes(obj: &Map<String, Value>, key: &str, role: Owner<'_>) -> Result<Vec<Scope>> {
    if obj.get(key).is_none_or(Value::is_null) {
        return Err(role.error(key, "missing"));
    }
    role.strings(obj, key, key)?
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Scope::parse(s).map_err(|e| role.error(&format!("{key}[{i}]"), e.to_string()))
        })
        .collect()
}

fn from_az(obj: &Map<String, Value>, fallback: &str) -> Result<RoleDefinition> {
    let role_name = Owner::Role(fallback).string(obj, "roleName")?;
    let r = format!("{role_name:?}");
    let role = Owner::Role(&r);
    let role_type = match role.opt_string(obj, "roleType")?.as_deref() {
        None => RoleType::Custom,
        Some(t) if t.eq_ignore_ascii_case("BuiltInRole") => RoleType::BuiltIn,
        Some(t) if t.eq_ignore_ascii_case("CustomRole") => RoleType::Custom,
        Some(t) => {
            return Err(role.error(
                "roleType",
                format!("expected \"BuiltInRole\" or \"CustomRole\", found {t:?}"),
            ));
        }
    };
    let permissions = role.permissions(obj)?;
    Ok(RoleDefinition {
        name: role.opt_string(obj, "name")?,
        id: role.opt_string(obj, "id")?,
        description: role.opt_string(obj, "description")?.unwrap_or_default(),
        assignable_scopes: scopes(obj, "assignableScopes", role)?,
        role_name,
        role_type,
        permissions,
    })
}

fn from_powershell(obj: &Map<String, Value>, fallback: &str) -> Result<RoleDefinition> {
    let role_name = Owner::Role(fallback).string(obj, "Name")?;
    let r = format!("{role_name:?}");
    let role = Owner::Role(&r);
    let role_type = match obj.get("IsCustom") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => RoleType::Custom,
        Some(Value::Bool(false)) => RoleType::BuiltIn,
        Some(other) => {
            return Err(role.error(
                "IsCustom",
                format!("expected a boolean, found {}", kind(other)),
            ));
        }
    };
    if obj.get("Actions").is_none_or(Value::is_null)
        && obj.get("DataActions").is_none_or(Value::is_null)
    {
        return Err(role.error("Actions", "missing (a role needs Actions or DataActions)"));
    }
    let list = |key: &str| role.patterns(obj, key, key);
    let permission = Permission {
        actions: list("Actions")?,
        not_actions: list("NotActions")?,
        data_actions: list("DataActions")?,
        not_data_actions: list("NotDataActions")?,
    };
    let id = role.opt_string(obj, "Id")?;
    Ok(RoleDefinition {
        name: id
            .as_deref()
            .and_then(|i| i.rsplit('/').next())
            .map(str::to_owned),
        id,
        description: role.opt_string(obj, "Description")?.unwrap_or_default(),
        assignable_scopes: scopes(obj, "AssignableScopes", role)?,
        role_name,
        role_type,
        permissions: vec![permission],
    })
}

/// Serialises permission entries in az's shape (`actions`, `notActions`, `dataActions`,
/// `notDataActions`), for role definitions and deny assignments.
pub(crate) fn serialize_permissions<S: Serializer>(
    perms: &[Permission],
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct AzPermission<'a> {
        actions: &'a [ActionPattern],
        not_actions: &'a [ActionPattern],
        data_actions: &'a [ActionPattern],
        not_data_actions: &'a [ActionPattern],
    }
    s.collect_seq(perms.iter().map(|p| AzPermission {
        actions: &p.actions,
        not_actions: &p.not_actions,
        data_actions: &p.data_actions,
        not_data_actions: &p.not_data_actions,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AzRole<'a> {
    assignable_scopes: &'a [Scope],
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(serialize_with = "serialize_permissions")]
    permissions: &'a [Permission],
    role_name: &'a str,
    role_type: &'static str,
    #[serde(rename = "type")]
    ty: &'static str,
}

/// Serialises in az's shape (`roleName`, `permissions`, `assignableScopes`, ...).
impl Serialize for RoleDefinition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AzRole {
            assignable_scopes: &self.assignable_scopes,
            description: &self.description,
            id: self.id.as_deref(),
            name: self.name.as_deref(),
            permissions: &self.permissions,
            role_name: &self.role_name,
            role_type: self.role_type.as_az_str(),
            ty: "Microsoft.Authorization/roleDefinitions",
        }
        .serialize(s)
    }
}

/// Reads either shape (see [`RoleDefinition::from_json`]).
impl<'de> Deserialize<'de> for RoleDefinition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RoleDefinition, D::Error> {
        let v = Value::deserialize(d)?;
        RoleDefinition::from_value(&v, 0).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, expected: std::result::Result<&str, &str>) {
        let got = RoleDefinition::from_json(json)
            .map(|roles| {
                roles
                    .iter()
                    .map(|r| format!("{}:{}", r.role_name, r.role_type))
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
    fn parse() {
        check(
            r#"{"roleName":"R","roleType":"BuiltInRole","permissions":[{"actions":["*"]}],"assignableScopes":["/"]}"#,
            Ok("R:BuiltInRole"),
        );
        check(
            r#"[{"Name":"P","Actions":["*/read"],"AssignableScopes":["/subscriptions/s"]}]"#,
            Ok("P:CustomRole"),
        );
        check(
            r#"{"Name":"P","IsCustom":false,"Actions":[],"AssignableScopes":[]}"#,
            Ok("P:BuiltInRole"),
        );
        check(
            "[",
            Err("invalid role definitions json: EOF while parsing a list at line 1 column 1"),
        );
        check(
            "[1]",
            Err("invalid role definition #0: expected a json object"),
        );
        check(
            "[{}]",
            Err(
                r#"invalid role definition #0: expected az's "roleName" and "permissions" or PowerShell's "Name" and "Actions" members"#,
            ),
        );
        check(
            r#"{"permissions":[]}"#,
            Err(r##"invalid role definition #0: field "roleName": missing"##),
        );
        check(
            r#"{"roleName":"R","assignableScopes":["/"]}"#,
            Err(r#"invalid role definition "R": field "permissions": missing"#),
        );
        check(
            r#"{"roleName":"R","permissions":[{"actions":["Microsoft.X/a","nope"]}],"assignableScopes":["/"]}"#,
            Err(
                r#"invalid role definition "R": field "permissions[0].actions[1]": invalid action "nope": expected {Company}.{Provider}/{resourceType}/{action}"#,
            ),
        );
        check(
            r#"{"roleName":"R","permissions":[{"notActions":"Microsoft.X/a"}],"assignableScopes":["/"]}"#,
            Err(
                r#"invalid role definition "R": field "permissions[0].notActions": expected an array of strings, found a string"#,
            ),
        );
        check(
            r#"{"roleName":"R","permissions":[{"dataActions":[3]}],"assignableScopes":["/"]}"#,
            Err(
                r#"invalid role definition "R": field "permissions[0].dataActions[0]": expected a string, found a number"#,
            ),
        );
        check(
            r#"{"roleName":"R","permissions":[],"assignableScopes":["/subscriptions"]}"#,
            Err(
                r#"invalid role definition "R": field "assignableScopes[0]": invalid scope "/subscriptions": expected a subscription id after "subscriptions""#,
            ),
        );
        check(
            r#"{"roleName":"R","permissions":[]}"#,
            Err(r#"invalid role definition "R": field "assignableScopes": missing"#),
        );
        check(
            r#"{"roleName":"R","roleType":"Other","permissions":[],"assignableScopes":["/"]}"#,
            Err(
                r#"invalid role definition "R": field "roleType": expected "BuiltInRole" or "CustomRole", found "Other""#,
            ),
        );
        check(
            r#"{"Name":"P","IsCustom":"yes","Actions":[],"AssignableScopes":["/"]}"#,
            Err(
                r#"invalid role definition "P": field "IsCustom": expected a boolean, found a string"#,
            ),
        );
        check(
            r#"{"Name":"P","AssignableScopes":["/"]}"#,
            Err(
                r#"invalid role definition "P": field "Actions": missing (a role needs Actions or DataActions)"#,
            ),
        );
    }

    #[test]
    fn round_trip_az_and_powershell() {
        let json = r#"{"Name":"P","Id":"abc","Description":"d","Actions":["Microsoft.X/*"],"NotActions":["Microsoft.X/a/write"],"DataActions":["Microsoft.X/b/read"],"NotDataActions":[],"AssignableScopes":["/subscriptions/s"]}"#;
        let role = RoleDefinition::from_json(json).unwrap().remove(0);
        let az = serde_json::to_string(&role).unwrap();
        assert_eq!(
            az,
            r#"{"assignableScopes":["/subscriptions/s"],"description":"d","id":"abc","name":"abc","permissions":[{"actions":["Microsoft.X/*"],"notActions":["Microsoft.X/a/write"],"dataActions":["Microsoft.X/b/read"],"notDataActions":[]}],"roleName":"P","roleType":"CustomRole","type":"Microsoft.Authorization/roleDefinitions"}"#
        );
        assert_eq!(RoleDefinition::from_json(&az).unwrap().remove(0), role);
        let ps = role.to_powershell_json().unwrap();
        assert_eq!(
            RoleDefinition::from_json(&ps.to_string())
                .unwrap()
                .remove(0),
            role
        );
        // Two entries: merged, the first's NotActions would remove the second's grant.
        let two = r#"{"roleName":"T","permissions":[{"actions":["Microsoft.X/*"],"notActions":["Microsoft.X/c/*"]},{"actions":["Microsoft.X/c/read"]}],"assignableScopes":["/subscriptions/s"]}"#;
        let role = RoleDefinition::from_json(two).unwrap().remove(0);
        assert!(role.grants(&Action::parse("Microsoft.X/c/read").unwrap()));
        let e = role.to_powershell_json().unwrap_err();
        assert!(e.to_string().contains("use the az JSON shape"), "{e}");
    }
}
