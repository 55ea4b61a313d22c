//! The crate's error type.

use std::fmt;

/// Everything that can go wrong while reading roles, assignments and scopes or while building
/// an [`AccessModel`](crate::AccessModel).
///
/// Messages are lowercase, without a trailing period, and quote the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A scope string is not a valid ARM scope.
    InvalidScope {
        /// The scope as given.
        scope: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An action string or an action pattern is malformed.
    InvalidAction {
        /// The action as given.
        action: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A role definition is malformed; `field` names the member (for example `permissions[0].actions[2]`).
    InvalidRoleDefinition {
        /// The role's name, or its position in the list when it has none.
        role: String,
        /// The member that is wrong, empty for the whole object.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A role assignment or deny assignment is malformed or refers to something unknown.
    InvalidAssignment {
        /// Which assignment, by its name or its position in the list: `assignment "name"`,
        /// `assignment #2`, `deny assignment "name"`.
        assignment: String,
        /// What is wrong.
        reason: String,
    },
    /// A role assignment names a role that is not in the model.
    UnknownRole {
        /// The role name or role definition id as written in the assignment.
        role: String,
        /// Which assignment (its name, or its principal and scope).
        assignment: String,
    },
    /// The management-group hierarchy given to the builder is not valid.
    InvalidHierarchy {
        /// The parent scope as given.
        parent: String,
        /// The child scope as given.
        child: String,
        /// What is wrong.
        reason: String,
    },
    /// A JSON document could not be read.
    Json {
        /// What the document was expected to hold (for example `role definitions`).
        what: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An error in a named file.
    InFile {
        /// The file name as the caller gave it.
        path: String,
        /// The error inside it.
        source: Box<Error>,
    },
}

impl Error {
    /// Wraps this error with the name of the file it came from.
    pub fn in_file(self, path: impl Into<String>) -> Error {
        Error::InFile {
            path: path.into(),
            source: Box::new(self),
        }
    }

    pub(crate) fn scope(scope: &str, reason: impl Into<String>) -> Error {
        Error::InvalidScope {
            scope: scope.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn action(action: &str, reason: impl Into<String>) -> Error {
        Error::InvalidAction {
            action: action.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn json(what: &str, err: &serde_json::Error) -> Error {
        Error::Json {
            what: what.to_owned(),
            message: err.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidScope { scope, reason } => write!(f, "invalid scope {scope:?}: {reason}"),
            Error::InvalidAction { action, reason } => {
                write!(f, "invalid action {action:?}: {reason}")
            }
            Error::InvalidRoleDefinition {
                role,
                field,
                reason,
            } if field.is_empty() => {
                write!(f, "invalid role definition {role}: {reason}")
            }
            Error::InvalidRoleDefinition {
                role,
                field,
                reason,
            } => {
                write!(
                    f,
                    "invalid role definition {role}: field {field:?}: {reason}"
                )
            }
            Error::InvalidAssignment { assignment, reason } => {
                write!(f, "invalid {assignment}: {reason}")
            }
            Error::UnknownRole { role, assignment } => {
                write!(
                    f,
                    "role assignment {assignment} refers to unknown role {role:?}"
                )
            }
            Error::InvalidHierarchy {
                parent,
                child,
                reason,
            } => {
                write!(
                    f,
                    "invalid hierarchy link {parent:?} -> {child:?}: {reason}"
                )
            }
            Error::Json { what, message } => write!(f, "invalid {what} json: {message}"),
            Error::InFile { path, source } => write!(f, "{path}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InFile { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
