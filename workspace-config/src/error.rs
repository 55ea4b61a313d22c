//! Errors of config discovery and parsing, with the path they concern.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use auth_core::ErrorKind;

use crate::config::CONFIG_PATH_ENV;

/// Why a workspace config could not be found, read, parsed or written.
///
/// Every variant names the path it concerns. Converts into [`auth_core::Error`] (kind
/// [`ErrorKind::Configuration`]) with this error as its `source()`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// No config file in the start directory or any parent; `tried` lists every path checked,
    /// in search order.
    NotFound {
        /// Where the search started.
        start: PathBuf,
        /// Every path checked, in order.
        tried: Vec<PathBuf>,
    },
    /// [`CONFIG_PATH_ENV`] names a path that does not exist.
    EnvPathMissing {
        /// The variable.
        variable: &'static str,
        /// The path it names (made absolute).
        path: PathBuf,
    },
    /// A file was found but its content is not a valid workspace config.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: Malformed,
    },
    /// A directory on the search path could not be looked into (permissions, a symlink loop):
    /// the search stops rather than silently skip a file that may be the right one.
    UnreadableDirectory {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// A file could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done: `read`, `write`, `create`, `resolve`.
        action: &'static str,
        /// The underlying error.
        source: Arc<io::Error>,
    },
}

/// What is wrong with a config file's content.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The file starts with a byte-order mark (Python's `json.load`, so SDK v1, fails on it).
    ByteOrderMark {
        /// `UTF-8` or `UTF-16`.
        encoding: &'static str,
    },
    /// The file is not UTF-8 text.
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The file is empty or holds only whitespace.
    Empty,
    /// The file is larger than [`crate::MAX_CONFIG_BYTES`].
    TooLarge {
        /// Its size.
        bytes: u64,
    },
    /// The file is not JSON.
    NotJson {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// The parser's description.
        detail: String,
    },
    /// The JSON is not an object.
    NotAnObject {
        /// What it is instead.
        found: &'static str,
    },
    /// A required field is absent (or `null`).
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A required field is an empty string.
    EmptyField {
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    WrongType {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// A field's value is not valid.
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// `Scope` is not the ARM id of an Azure ML workspace.
    InvalidScope {
        /// The value.
        scope: String,
        /// Why.
        why: &'static str,
    },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ByteOrderMark { encoding: "UTF-8" } => f.write_str(
                "it starts with a UTF-8 byte-order mark, which SDK v1 cannot read either; save it as UTF-8 without BOM",
            ),
            Self::ByteOrderMark { encoding } => write!(
                f,
                "it is saved as {encoding} (it starts with a byte-order mark); save it as UTF-8 without BOM"
            ),
            Self::NotUtf8 { offset } => write!(
                f,
                "it is not UTF-8 text (invalid bytes at offset {offset}); save it as UTF-8 without BOM"
            ),
            Self::Empty => f.write_str(
                "it is empty; download the workspace's config.json again from ml.azure.com",
            ),
            Self::TooLarge { bytes } => write!(
                f,
                "it is {bytes} bytes long, too large to be a workspace config; check that the path names config.json"
            ),
            Self::NotJson {
                line,
                column,
                detail,
            } => write!(
                f,
                "it is not valid JSON (line {line}, column {column}: {detail}); fix the syntax or download config.json again"
            ),
            Self::NotAnObject { found } => write!(
                f,
                "it holds {found}, not a JSON object; a workspace config is an object with subscription_id, resource_group and workspace_name"
            ),
            Self::MissingField { field } => write!(
                f,
                "it has no {field}; a workspace config needs subscription_id, resource_group and workspace_name (or a Scope holding the workspace's ARM id)"
            ),
            Self::EmptyField { field } => {
                write!(f, "its {field} is empty; set it to the workspace's {}", human(field))
            }
            Self::WrongType {
                field,
                expected,
                found,
            } => write!(f, "its {field} is {found}; it must be {expected}"),
            Self::InvalidValue {
                field,
                value,
                expected,
            } => write!(f, "its {field} {value:?} is not valid: {expected}"),
            Self::InvalidScope { scope, why } => write!(
                f,
                "its Scope {scope:?} is not the ARM id of an Azure ML workspace ({why}); it must look like /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.MachineLearningServices/workspaces/<name>"
            ),
        }
    }
}

fn human(field: &str) -> &str {
    match field {
        "subscription_id" => "subscription id",
        "resource_group" => "resource group name",
        "workspace_name" => "name",
        other => other,
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { start, tried } => {
                write!(
                    f,
                    "no workspace config (config.json) in {} or its parent directories; download config.json from ml.azure.com (workspace menu at the top right) into the project's .azureml directory, or name the file with {CONFIG_PATH_ENV}; tried {} paths:",
                    start.display(),
                    tried.len()
                )?;
                for p in tried {
                    write!(f, "\n  {}", p.display())?;
                }
                Ok(())
            }
            Self::EnvPathMissing { variable, path } => write!(
                f,
                "{variable} names {}, which does not exist; point it at the workspace's config.json or at a directory to search from, or unset it",
                path.display()
            ),
            Self::Malformed { path, reason } => {
                write!(
                    f,
                    "the workspace config {} is not valid: {reason}",
                    path.display()
                )
            }
            Self::UnreadableDirectory { path, source } => write!(
                f,
                "cannot look into {} while searching for the workspace config: {}; fix its permissions, or name the config file with {CONFIG_PATH_ENV}",
                path.display(),
                lower_io(source)
            ),
            Self::Io {
                path,
                action,
                source,
            } => write!(
                f,
                "cannot {action} {}: {}; check that the path exists and is accessible",
                path.display(),
                lower_io(source)
            ),
        }
    }
}

/// The io error's text without the OS error number, lowercased first letter.
fn lower_io(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::UnreadableDirectory { source, .. } | Self::Io { source, .. } => {
                Some(source.as_ref())
            }
            _ => None,
        }
    }
}

impl ConfigError {
    /// The file or directory the error concerns (the start directory for `NotFound`).
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::NotFound { start, .. } => start,
            Self::EnvPathMissing { path, .. }
            | Self::Malformed { path, .. }
            | Self::UnreadableDirectory { path, .. }
            | Self::Io { path, .. } => path,
        }
    }
}

impl From<ConfigError> for auth_core::Error {
    fn from(e: ConfigError) -> Self {
        auth_core::Error::new(ErrorKind::Configuration, e.to_string()).with_source(e)
    }
}
