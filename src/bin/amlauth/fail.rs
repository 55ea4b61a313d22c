//! Exit codes and the one-line error a script can rely on.

use std::fmt;

/// The command did what was asked (for `rbac check`: the action is allowed).
pub(crate) const EXIT_OK: u8 = 0;
/// The operation failed: Entra ID refused the credential, ARM refused or failed the call, the
/// network failed.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Usage or bad input: an unknown flag, a missing or invalid value, no credentials configured,
/// a malformed config or JSON file. (clap's own code for usage errors.)
pub(crate) const EXIT_USAGE: u8 = 2;
/// `rbac check` only: the action is not allowed.
pub(crate) const EXIT_DENIED: u8 = 3;

/// Why a command failed: an exit code, a short machine-readable kind and one line of text.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit_code: u8,
    pub(crate) kind: &'static str,
    message: String,
}

impl Failure {
    /// A usage or input error (exit code 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(EXIT_USAGE, "usage", message)
    }

    /// A failure with an explicit code and kind.
    pub(crate) fn new(exit_code: u8, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit_code,
            kind,
            message: one_line(&message.into()),
        }
    }

    /// The message, one line, without the `amlauth: ` prefix.
    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The error as one line of JSON: `{"error":{"kind":..,"message":..,"exitCode":..}}`.
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({
            "error": {
                "kind": self.kind,
                "message": self.message,
                "exitCode": self.exit_code,
            }
        })
        .to_string()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Joins the lines of a message (a chain's attempts) with `; ` so the error stays on one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(|l| l.trim().trim_start_matches("- "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<auth_core::Error> for Failure {
    fn from(e: auth_core::Error) -> Self {
        use auth_core::ErrorKind as K;
        let code = match e.kind() {
            K::Configuration | K::Unavailable => EXIT_USAGE,
            _ => EXIT_FAILED,
        };
        Self::new(code, e.kind().as_str(), e.to_string())
    }
}

impl From<workspace_config::ArmError> for Failure {
    fn from(e: workspace_config::ArmError) -> Self {
        // A refusal that names the action and the scope also names the command that finds the
        // least-privileged role for them.
        let suggest = match &e {
            workspace_config::ArmError::AuthorizationFailed {
                action: Some(action),
                scope: Some(scope),
                ..
            } => Some(format!(
                "`amlauth rbac suggest --action {action} --scope {scope}` names the least-privileged role"
            )),
            _ => None,
        };
        let mut failure = Self::from(auth_core::Error::from(e));
        if let Some(suggest) = suggest {
            failure.message = format!("{}; {suggest}", failure.message);
        }
        failure
    }
}

impl From<workspace_config::ConfigError> for Failure {
    fn from(e: workspace_config::ConfigError) -> Self {
        Self::new(EXIT_USAGE, "configuration", e.to_string())
    }
}

impl From<rbac::Error> for Failure {
    fn from(e: rbac::Error) -> Self {
        Self::usage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_on_one_line() {
        let f = Failure::usage("no credential worked\n  - a: unavailable\n  - b: refused");
        assert_eq!(
            f.message(),
            "no credential worked; a: unavailable; b: refused"
        );
        assert_eq!(
            f.to_json(),
            r#"{"error":{"exitCode":2,"kind":"usage","message":"no credential worked; a: unavailable; b: refused"}}"#
        );
    }

    #[test]
    fn kinds_map_to_exit_codes() {
        let c = Failure::from(auth_core::Error::configuration("bad"));
        assert_eq!((c.exit_code, c.kind), (EXIT_USAGE, "configuration"));
        let u = Failure::from(auth_core::Error::unavailable("none"));
        assert_eq!(u.exit_code, EXIT_USAGE);
        let a = Failure::from(auth_core::Error::new(
            auth_core::ErrorKind::Authentication,
            "no",
        ));
        assert_eq!(a.exit_code, EXIT_FAILED);
    }

    #[test]
    fn a_refusal_names_the_rbac_suggest_command() {
        let refused = workspace_config::ArmError::AuthorizationFailed {
            info: Box::default(),
            action: Some(
                "Microsoft.MachineLearningServices/workspaces/computes/start/action".into(),
            ),
            scope: Some("/subscriptions/s/c".into()),
            client: None,
            client_oid: None,
        };
        let f = Failure::from(refused);
        assert_eq!((f.exit_code, f.kind), (EXIT_FAILED, "forbidden"));
        assert!(
            f.message().ends_with(
                "; `amlauth rbac suggest --action Microsoft.MachineLearningServices/workspaces/computes/start/action --scope /subscriptions/s/c` names the least-privileged role"
            ),
            "{f}"
        );
    }
}
