//! Every scenario of `scenarios.json` (the Azure ML docs' "Common scenarios") resolves as
//! documented with the built-in roles.

use rbac::{AccessModel, Action, ActionPattern, builtin};
use serde_json::Value;

use crate::{RG, SUB, WS, scope};

const SCENARIOS: &str = include_str!("../data/scenarios.json");

const ROLES: [&str; 5] = [
    "Owner",
    "Contributor",
    "Reader",
    "AzureML Data Scientist",
    "AzureML Compute Operator",
];

/// Where each role is assigned, where the operations are checked, and which of [`ROLES`] the
/// docs say suffice. Keyed by activity; every activity of the file must be here.
fn expected(activity: &str) -> Option<(&'static str, String, &'static [&'static str])> {
    let ws = WS.to_owned();
    let location =
        format!("{SUB}/providers/Microsoft.MachineLearningServices/locations/westeurope");
    let vnet = format!("{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default");
    let (at, target, roles): (&str, String, &[&str]) = match activity {
        "Create new workspace" => (RG, ws, &["Owner", "Contributor"]),
        "Request subscription level Amlcompute quota or set workspace level quota" => {
            (SUB, location, &["Owner", "Contributor"])
        }
        "Create new compute cluster" | "Create new compute instance" => (
            WS,
            format!("{WS}/computes/c1"),
            &["Owner", "Contributor", "AzureML Compute Operator"],
        ),
        "Start/stop/restart compute instance" => (
            WS,
            format!("{WS}/computes/c1"),
            &[
                "Owner",
                "Contributor",
                "AzureML Data Scientist",
                "AzureML Compute Operator",
            ],
        ),
        "Submitting any type of run (V1)"
        | "Submitting any type of run (V2)"
        | "Publishing pipelines and endpoints (V1)"
        | "Publishing pipelines and endpoints (V2)"
        | "Deploying a registered model on an AKS/ACI resource"
        | "Accessing storage using interactive notebooks"
        | "Create/manage online endpoints and deployments"
        | "Retrieve authentication credentials for online endpoints"
        | "MLflow (V1): list, read, create, update, delete experiments"
        | "MLflow (V2): list, read, create, update, delete jobs"
        | "MLflow: create/update/rename registered model, new version, transition stage"
        | "MLflow: delete registered model or versions" => {
            (WS, ws, &["Owner", "Contributor", "AzureML Data Scientist"])
        }
        // Token-auth scoring needs only workspaces/read, which Reader has.
        "Scoring against a deployed AKS endpoint" => (
            WS,
            ws,
            &["Owner", "Contributor", "Reader", "AzureML Data Scientist"],
        ),
        "MLflow: read registered models / versions / search" => (
            WS,
            ws,
            &["Owner", "Contributor", "Reader", "AzureML Data Scientist"],
        ),
        // The docs' row says "Owner, contributor"; Contributor's NotActions remove
        // Microsoft.Authorization/*/Write, as the file's note says.
        "Create new custom role" => (SUB, SUB.to_owned(), &["Owner"]),
        "Deploy into a virtual network or subnet" => (RG, vnet, &["Owner", "Contributor"]),
        "Attach an AKS resource" => (RG, RG.to_owned(), &[]),
        _ => return None,
    };
    Some((at, target, roles))
}

/// The concrete actions an entry stands for: itself, or the embedded operations a pattern
/// matches (a pattern outside the catalog stands for one example operation).
fn concrete(op: &str) -> Vec<Action> {
    if !op.contains('*') {
        return vec![Action::parse(op).unwrap()];
    }
    let p = ActionPattern::parse(op).unwrap();
    let ops = builtin::operations_matching(&p);
    if ops.is_empty() {
        return vec![Action::parse(&op.replace('*', "exampleType")).unwrap()];
    }
    ops.iter()
        .map(|o| Action::parse(&o.name).unwrap())
        .collect()
}

fn all_allowed(model: &AccessModel, who: &str, ops: &[Value], target: &str) -> bool {
    let s = scope(target);
    ops.iter()
        .flat_map(|o| concrete(o.as_str().unwrap()))
        .all(|a| model.check(who, &a, &s).is_allowed())
}

#[test]
fn every_scenario_resolves_as_documented_with_the_builtin_roles() {
    let doc: Value = serde_json::from_str(SCENARIOS).unwrap();
    let scenarios = doc["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 22);
    for sc in scenarios {
        let activity = sc["activity"].as_str().unwrap();
        let (at, target, allowed_roles) =
            expected(activity).unwrap_or_else(|| panic!("no expectation for {activity:?}"));
        let ops = sc["operations"].as_array().unwrap();
        let any_of: Vec<&Vec<Value>> = sc
            .get("anyOf")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|x| x.as_array().unwrap()).collect())
            .unwrap_or_default();
        if ops.is_empty() && any_of.is_empty() {
            // "Attach an AKS resource" names roles on another resource, no operation.
            assert_eq!(activity, "Attach an AKS resource");
            continue;
        }
        let mut b = AccessModel::builder().builtin_roles();
        for role in ROLES {
            b = b.assign(role, role, at);
        }
        let model = b.build().unwrap();
        for role in ROLES {
            let ok = all_allowed(&model, role, ops, &target)
                && (any_of.is_empty()
                    || any_of
                        .iter()
                        .any(|alt| all_allowed(&model, role, alt, &target)));
            assert_eq!(
                ok,
                allowed_roles.contains(&role),
                "{activity}: {role} at {at}"
            );
        }
    }
}

#[test]
fn quota_must_be_granted_at_subscription_scope() {
    let model = AccessModel::builder()
        .builtin_roles()
        .assign("rg-owner", "Owner", RG)
        .assign("ws-owner", "Owner", WS)
        .assign("sub-contributor", "Contributor", SUB)
        .build()
        .unwrap();
    let quota =
        Action::parse("Microsoft.MachineLearningServices/locations/updateQuotas/action").unwrap();
    let location = "SUB/providers/Microsoft.MachineLearningServices/locations/westeurope";
    crate::check(&model, "rg-owner", &quota, location, "notGranted");
    crate::check(&model, "ws-owner", &quota, location, "notGranted");
    crate::check(
        &model,
        "sub-contributor",
        &quota,
        location,
        "roleAssignment",
    );
}
