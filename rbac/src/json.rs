//! Reading the members of az's JSON objects, with errors that name the object and the member.

use serde_json::{Map, Value};

use crate::action::ActionPattern;
use crate::error::{Error, Result};
use crate::role::Permission;

/// The object whose members are read, as error messages name it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner<'a> {
    /// A role definition: its quoted name, or `#index`.
    Role(&'a str),
    /// A role or deny assignment: `assignment "name"`, `deny assignment #2`, ...
    Assignment(&'a str),
}

impl Owner<'_> {
    /// An error about the member `field`, or about the whole object when `field` is empty.
    pub(crate) fn error(self, field: &str, reason: impl Into<String>) -> Error {
        let reason = reason.into();
        match self {
            Owner::Role(role) => Error::InvalidRoleDefinition {
                role: role.to_owned(),
                field: field.to_owned(),
                reason,
            },
            Owner::Assignment(assignment) => Error::InvalidAssignment {
                assignment: assignment.to_owned(),
                reason: if field.is_empty() {
                    reason
                } else {
                    format!("field {field:?}: {reason}")
                },
            },
        }
    }

    /// An optional string member.
    pub(crate) fn opt_string(self, obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(self.error(key, format!("expected a string, found {}", kind(other))))
            }
        }
    }

    /// A required, non-blank string member.
    pub(crate) fn string(self, obj: &Map<String, Value>, key: &str) -> Result<String> {
        match self.opt_string(obj, key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(self.error(key, "empty")),
            None => Err(self.error(key, "missing")),
        }
    }

    /// An optional array of strings (missing: empty); `field` names it in errors.
    pub(crate) fn strings<'v>(
        self,
        obj: &'v Map<String, Value>,
        key: &str,
        field: &str,
    ) -> Result<Vec<&'v str>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_str().ok_or_else(|| {
                        self.error(
                            &format!("{field}[{i}]"),
                            format!("expected a string, found {}", kind(v)),
                        )
                    })
                })
                .collect(),
            Some(other) => Err(self.error(
                field,
                format!("expected an array of strings, found {}", kind(other)),
            )),
        }
    }

    /// An optional array of action patterns (missing: empty); `field` names it in errors.
    pub(crate) fn patterns(
        self,
        obj: &Map<String, Value>,
        key: &str,
        field: &str,
    ) -> Result<Vec<ActionPattern>> {
        self.strings(obj, key, field)?
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                ActionPattern::parse(s)
                    .map_err(|e| self.error(&format!("{field}[{i}]"), e.to_string()))
            })
            .collect()
    }

    /// The required `permissions` array of az's shape: objects with `actions`, `notActions`,
    /// `dataActions` and `notDataActions`.
    pub(crate) fn permissions(self, obj: &Map<String, Value>) -> Result<Vec<Permission>> {
        let items = match obj.get("permissions") {
            None | Some(Value::Null) => return Err(self.error("permissions", "missing")),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self.error(
                    "permissions",
                    format!("expected an array, found {}", kind(other)),
                ));
            }
        };
        items
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let f = format!("permissions[{i}]");
                let Some(p) = p.as_object() else {
                    return Err(self.error(&f, format!("expected an object, found {}", kind(p))));
                };
                let list = |key: &str| self.patterns(p, key, &format!("{f}.{key}"));
                Ok(Permission {
                    actions: list("actions")?,
                    not_actions: list("notActions")?,
                    data_actions: list("dataActions")?,
                    not_data_actions: list("notDataActions")?,
                })
            })
            .collect()
    }
}

/// What a JSON value is, for messages: `a string`, `an array`, ...
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
