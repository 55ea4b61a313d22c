//! Integration tests of the rbac crate, one module per acceptance point of the issue.

mod custom_roles;
mod edges;
mod errors;
mod explain;
mod files;
mod scenarios;
mod seed;
mod suggest;

use rbac::{AccessModel, Action, Scope};

pub(crate) const SUB: &str = "/subscriptions/11111111-2222-3333-4444-555555555555";
pub(crate) const RG: &str =
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ml-rg";
pub(crate) const WS: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws";
pub(crate) const ML: &str = "Microsoft.MachineLearningServices/workspaces";

/// `ML/...` expands to the workspaces operation prefix.
pub(crate) fn action(s: &str) -> Action {
    Action::parse(&s.replace("ML/", &format!("{ML}/"))).unwrap()
}

/// `WS`, `RG` and `SUB` at the start expand to the fixtures' scopes.
pub(crate) fn scope(s: &str) -> Scope {
    let s = if let Some(rest) = s.strip_prefix("WS") {
        format!("{WS}{rest}")
    } else if let Some(rest) = s.strip_prefix("RG") {
        format!("{RG}{rest}")
    } else if let Some(rest) = s.strip_prefix("SUB") {
        format!("{SUB}{rest}")
    } else {
        s.to_owned()
    };
    Scope::parse(&s).unwrap()
}

/// Asserts the reason of a check: `roleAssignment`, `notGranted`, `notActions` or `denyAssignment`.
#[track_caller]
pub(crate) fn check(model: &AccessModel, who: &str, act: &Action, at: &str, expected: &str) {
    let s = scope(at);
    let got = model.check(who, act, &s);
    assert_eq!(got.reason(), expected, "{who} {act} at {at}");
    assert_eq!(
        model.explain(who, act, &s).decision,
        got,
        "explain agrees with check: {who} {act} at {at}"
    );
}
