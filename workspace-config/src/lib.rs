//! Find, parse and validate an Azure ML workspace `config.json` exactly as SDK v1's
//! `Workspace.from_config()` does, and reach the workspace over Azure Resource Manager.
#![forbid(unsafe_code)]
