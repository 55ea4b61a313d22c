//! Operation strings (`{Company}.{Provider}/{resourceType}/{action}`) and wildcard patterns.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalog;
use crate::error::{Error, Result};

/// Which list of a role definition an action is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Plane {
    /// Management operations, granted by `Actions` and removed by `NotActions`.
    Control,
    /// Data operations, granted by `DataActions` and removed by `NotDataActions`.
    Data,
}

impl fmt::Display for Plane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Plane::Control => "control-plane action",
            Plane::Data => "data action",
        })
    }
}

/// A concrete operation to check, such as
/// `Microsoft.MachineLearningServices/workspaces/computes/start/action`, on one [`Plane`].
///
/// Parsing validates and lowercases it once, and looks it up in the embedded operation
/// catalog, so that [`AccessModel::check`](crate::AccessModel::check) does no work on the string.
#[derive(Clone)]
pub struct Action {
    text: Box<str>,
    lower: Box<str>,
    plane: Plane,
    known: Option<u32>,
}

impl Action {
    /// Parses a control-plane action (checked against `Actions`/`NotActions`).
    pub fn parse(s: &str) -> Result<Action> {
        Action::new(s, Plane::Control)
    }

    /// Parses a data action (checked against `DataActions`/`NotDataActions`).
    pub fn data(s: &str) -> Result<Action> {
        Action::new(s, Plane::Data)
    }

    /// Parses an action on the given plane.
    ///
    /// An action has at least two `/`-separated segments, the first being a provider
    /// namespace with a `.` (`Microsoft.Storage`); segments hold ASCII letters, digits, `.`,
    /// `_` and `-`; `*` is not allowed (it belongs in an [`ActionPattern`]).
    pub fn new(s: &str, plane: Plane) -> Result<Action> {
        if s.contains('*') {
            return Err(Error::action(
                s,
                "a wildcard \"*\" is allowed in a role's permissions, not in an action to check",
            ));
        }
        validate(s)?;
        let lower = s.to_ascii_lowercase();
        let known = catalog::index_of(&lower);
        Ok(Action {
            text: s.into(),
            lower: lower.into(),
            plane,
            known,
        })
    }

    /// The action as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The plane this action is checked on.
    pub fn plane(&self) -> Plane {
        self.plane
    }

    pub(crate) fn lower(&self) -> &[u8] {
        self.lower.as_bytes()
    }

    pub(crate) fn known(&self) -> Option<u32> {
        self.known
    }
}

impl PartialEq for Action {
    fn eq(&self, other: &Self) -> bool {
        self.lower == other.lower && self.plane == other.plane
    }
}

impl Eq for Action {}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.plane {
            Plane::Control => write!(f, "Action({:?})", self.text),
            Plane::Data => write!(f, "DataAction({:?})", self.text),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The most segments a pattern may hold as a whole-segment `*` between two others; each one
/// doubles the matcher's work (see [`ActionPattern`]).
const MAX_INNER_WILDCARD_SEGMENTS: usize = 6;

/// An entry of `Actions`, `NotActions`, `DataActions` or `NotDataActions`: an operation string
/// in which `*` matches any run of characters, `/` included.
///
/// Matching is case-insensitive. A `*` that is a whole segment between two others
/// (`workspaces/*/read`) also matches no segment at all, so `workspaces/*/read` matches
/// `workspaces/read` (see the crate's "Decision rules").
#[derive(Clone)]
pub struct ActionPattern {
    text: Box<str>,
    /// Lowercased alternatives: the pattern itself, then with inner `*` segments dropped.
    variants: Box<[Box<[u8]>]>,
}

impl ActionPattern {
    /// Parses and validates a pattern: `*`, `*/read`, `Microsoft.Network/*/read`,
    /// `Microsoft.MachineLearningServices/workspaces/computes/*`.
    pub fn parse(s: &str) -> Result<ActionPattern> {
        validate(s)?;
        let lower = s.to_ascii_lowercase();
        let segs: Vec<&str> = lower.split('/').collect();
        let inner: Vec<usize> = (1..segs.len().saturating_sub(1))
            .filter(|&i| segs[i] == "*")
            .collect();
        if inner.len() > MAX_INNER_WILDCARD_SEGMENTS {
            return Err(Error::action(
                s,
                format!("more than {MAX_INNER_WILDCARD_SEGMENTS} \"*\" segments"),
            ));
        }
        let mut variants = Vec::with_capacity(1 << inner.len());
        for mask in 0u32..(1 << inner.len()) {
            let kept: Vec<&str> = segs
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    inner
                        .iter()
                        .position(|x| x == i)
                        .is_none_or(|bit| mask & (1 << bit) == 0)
                })
                .map(|(_, s)| *s)
                .collect();
            variants.push(kept.join("/").into_bytes().into_boxed_slice());
        }
        Ok(ActionPattern {
            text: s.into(),
            variants: variants.into(),
        })
    }

    /// The pattern that matches exactly `action` (an action holds no `*`).
    pub(crate) fn literal(action: &Action) -> ActionPattern {
        ActionPattern {
            text: action.text.clone(),
            variants: Box::new([action.lower.as_bytes().into()]),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern holds a `*`.
    pub fn is_wildcard(&self) -> bool {
        self.text.contains('*')
    }

    /// Whether the pattern matches an action string (case-insensitively).
    pub fn matches_str(&self, action: &str) -> bool {
        self.matches_lower(action.to_ascii_lowercase().as_bytes())
    }

    /// Whether the pattern matches the action's string (the plane is not considered here).
    pub fn matches(&self, action: &Action) -> bool {
        self.matches_lower(action.lower())
    }

    #[inline]
    pub(crate) fn matches_lower(&self, action: &[u8]) -> bool {
        self.variants.iter().any(|p| glob(p, action))
    }
}

/// `*` matches any run of bytes; everything else matches itself. Linear backtracking on the
/// last star, so at most O(len(p) * len(s)).
#[inline]
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn validate(s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::action(s, "empty action"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '*')))
    {
        return Err(Error::action(s, format!("unexpected character {c:?}")));
    }
    let segs: Vec<&str> = s.split('/').collect();
    if segs.iter().any(|x| x.is_empty()) {
        return Err(Error::action(
            s,
            "empty segment (leading, trailing or doubled \"/\")",
        ));
    }
    if s == "*" {
        return Ok(());
    }
    if segs.len() < 2 {
        return Err(Error::action(
            s,
            "expected {Company}.{Provider}/{resourceType}/{action}",
        ));
    }
    if !segs[0].contains('.') && !segs[0].contains('*') {
        return Err(Error::action(
            s,
            format!(
                "{:?} is not a resource provider namespace (like \"Microsoft.MachineLearningServices\")",
                segs[0]
            ),
        ));
    }
    Ok(())
}

impl PartialEq for ActionPattern {
    fn eq(&self, other: &Self) -> bool {
        self.variants[0] == other.variants[0]
    }
}

impl Eq for ActionPattern {}

impl fmt::Debug for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActionPattern({:?})", self.text)
    }
}

impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for ActionPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ActionPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ActionPattern, D::Error> {
        let s = String::deserialize(d)?;
        ActionPattern::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ML: &str = "Microsoft.MachineLearningServices";

    fn check(pattern: &str, action: &str, expected: bool) {
        let p = ActionPattern::parse(&pattern.replace("ML", ML)).unwrap();
        let a = Action::parse(&action.replace("ML", ML)).unwrap();
        assert_eq!(p.matches(&a), expected, "{pattern} ~ {action}");
    }

    #[test]
    fn wildcards() {
        check("*", "ML/workspaces/read", true);
        check("*/read", "ML/workspaces/read", true);
        check("*/read", "ML/workspaces/write", false);
        check("ML/*", "ML/workspaces/computes/write", true);
        check(
            "ML/*",
            "Microsoft.MachineLearningServicesX/workspaces/read",
            false,
        );
        check("ML/workspaces/*/read", "ML/workspaces/computes/read", true);
        check(
            "ML/workspaces/*/read",
            "ML/workspaces/computes/x/y/read",
            true,
        );
        check("ML/workspaces/*/read", "ML/workspaces/read", true);
        check(
            "ML/workspaces/computes/*/write",
            "ML/workspaces/computes/write",
            true,
        );
        check("ML/workspaces/*/read", "ML/workspacesX/read", false);
        check(
            "ML/workspaces/*/read",
            "ML/workspaces/computes/readX",
            false,
        );
        check("ML/work*/read", "ML/workspaces/read", true);
        check(
            "ML/*/computes/*",
            "ML/workspaces/computes/start/action",
            true,
        );
        check(
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/roleAssignments/delete",
            true,
        );
        check(
            "microsoft.machinelearningservices/WORKSPACES/READ",
            "ML/workspaces/read",
            true,
        );
        check(
            "ML/workspaces/read",
            "MICROSOFT.machinelearningservices/Workspaces/Read",
            true,
        );
        check("ML/workspaces/read", "ML/workspaces/read/x", false);
    }

    fn check_err(input: &str, expected: &str) {
        let got = ActionPattern::parse(input)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(got, Err(expected.to_owned()), "{input}");
    }

    #[test]
    fn malformed() {
        check_err("", r#"invalid action "": empty action"#);
        check_err(
            "read",
            r#"invalid action "read": expected {Company}.{Provider}/{resourceType}/{action}"#,
        );
        check_err(
            "Microsoft/read",
            r#"invalid action "Microsoft/read": "Microsoft" is not a resource provider namespace (like "Microsoft.MachineLearningServices")"#,
        );
        check_err(
            "Microsoft.X//read",
            r#"invalid action "Microsoft.X//read": empty segment (leading, trailing or doubled "/")"#,
        );
        check_err(
            "Microsoft.X/a/",
            r#"invalid action "Microsoft.X/a/": empty segment (leading, trailing or doubled "/")"#,
        );
        check_err(
            "Microsoft.X/a b",
            r#"invalid action "Microsoft.X/a b": unexpected character ' '"#,
        );
        check_err(
            "M.X/*/*/*/*/*/*/*/read",
            r#"invalid action "M.X/*/*/*/*/*/*/*/read": more than 6 "*" segments"#,
        );
        assert_eq!(
            Action::parse("Microsoft.X/*").unwrap_err().to_string(),
            r#"invalid action "Microsoft.X/*": a wildcard "*" is allowed in a role's permissions, not in an action to check"#
        );
    }
}
