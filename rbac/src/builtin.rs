//! The embedded data: Azure's built-in role definitions and the
//! `Microsoft.MachineLearningServices` operations.
//!
//! Both files are copies of the docs pages named in their `_source` members (see
//! `data/builtin-roles.json` and `data/ml-operations.json` in the crate).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::action::ActionPattern;
use crate::role::RoleDefinition;

const BUILTIN_ROLES_JSON: &str = include_str!("../data/builtin-roles.json");
const ML_OPERATIONS_JSON: &str = include_str!("../data/ml-operations.json");

/// One operation of a resource provider, as `az provider operation show` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The operation string, such as `Microsoft.MachineLearningServices/workspaces/read`.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Whether it is a data action (checked against `DataActions`).
    pub is_data_action: bool,
}

#[derive(Deserialize)]
struct OperationsFile {
    operations: Vec<Operation>,
}

/// The built-in role definitions embedded in the crate (Owner, Contributor, Reader,
/// User Access Administrator, AzureML Data Scientist, AzureML Compute Operator, ...).
pub fn roles() -> &'static [RoleDefinition] {
    static ROLES: OnceLock<Vec<RoleDefinition>> = OnceLock::new();
    ROLES.get_or_init(|| {
        // The embedded file is part of the crate and checked by its tests; it is not input.
        RoleDefinition::from_json(BUILTIN_ROLES_JSON).unwrap_or_default()
    })
}

/// A built-in role by display name or GUID, case-insensitively.
pub fn role(name_or_id: &str) -> Option<&'static RoleDefinition> {
    roles().iter().find(|r| r.is_named(name_or_id))
}

/// The `Microsoft.MachineLearningServices` operations embedded in the crate.
pub fn ml_operations() -> &'static [Operation] {
    static OPS: OnceLock<Vec<Operation>> = OnceLock::new();
    OPS.get_or_init(|| {
        serde_json::from_str::<OperationsFile>(ML_OPERATIONS_JSON)
            .map(|f| f.operations)
            .unwrap_or_default()
    })
}

/// The embedded operations a pattern matches (for example every operation under
/// `Microsoft.MachineLearningServices/workspaces/jobs/*`).
pub fn operations_matching(pattern: &ActionPattern) -> Vec<&'static Operation> {
    ml_operations()
        .iter()
        .filter(|op| pattern.matches_str(&op.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses() {
        assert_eq!(
            RoleDefinition::from_json(BUILTIN_ROLES_JSON).unwrap().len(),
            roles().len()
        );
        assert_eq!(roles().len(), 15);
        assert_eq!(ml_operations().len(), 289);
        for name in [
            "Owner",
            "Contributor",
            "Reader",
            "AzureML Data Scientist",
            "AzureML Compute Operator",
        ] {
            assert!(role(name).is_some(), "{name}");
        }
        assert_eq!(
            role("acdd72a7-3385-48ef-bd42-f606fba81ae7").map(|r| r.role_name.as_str()),
            Some("Reader")
        );
        assert_eq!(
            role("azureml data scientist").map(|r| r.role_name.as_str()),
            Some("AzureML Data Scientist")
        );
        assert!(role("Nope").is_none());
    }

    #[test]
    fn matching_operations() {
        let p =
            ActionPattern::parse("Microsoft.MachineLearningServices/workspaces/jobs/*").unwrap();
        let names: Vec<&str> = operations_matching(&p)
            .iter()
            .map(|o| &o.name[34..])
            .collect();
        assert_eq!(
            names,
            [
                "workspaces/jobs/read",
                "workspaces/jobs/write",
                "workspaces/jobs/delete",
                "workspaces/jobs/cancel/action",
                "workspaces/jobs/operationresults/read"
            ]
        );
    }
}
