//! Find, parse and validate an Azure ML workspace `config.json` exactly as SDK v1's
//! `Workspace.from_config()` does, and reach the workspace over Azure Resource Manager.
//!
//! This crate depends on `auth-core` only: any [`auth_core::TokenCredential`] (service
//! principal, managed identity, Azure CLI, interactive) can be handed to [`WorkspaceClient`].
//! It is SDK v1's `Workspace.from_config()`, `Workspace(subscription_id, resource_group,
//! workspace_name, auth=…)`, `Workspace.get(…)`, `Workspace.list(…)` and `write_config()`.
//!
//! # Finding the config
//!
//! [`find_config`] searches like SDK v1 (protocol reference §6.2), from a start directory you
//! pass (usually the current directory; [`find_config_from_process`] passes it for you):
//!
//! 1. If [`CONFIG_PATH_ENV`] (`AZUREML_CONFIG_PATH`) is set, its path replaces the start: a file
//!    is used as is, a directory is searched as below. A path that does not exist is an error.
//! 2. A leading `~` is the home directory (from the injected environment). An existing *file* at
//!    the start path is used as is, whatever its name.
//! 3. Otherwise the subfolders `.azureml`, `aml_config`, then the directory itself (the outer
//!    loop), the names `config.json` then `project.json` (the middle loop), and for each pair
//!    every directory from the start up to the root, each parent being `realpath(dir/..)` as in
//!    v1 ([`candidates`] lists them). The first regular file wins, so a parent's
//!    `.azureml/config.json` beats `./config.json`, and `../.azureml/project.json` beats
//!    `./aml_config/config.json`.
//!
//! One deliberate difference from v1: a candidate that cannot be checked (a directory without
//! permission, a symlink loop) stops the search with [`ConfigError::UnreadableDirectory`], where
//! v1 silently skips it and may pick a file further down the order.
//!
//! The result ([`ConfigFile`]) says which file was used and how; "not found"
//! ([`ConfigError::NotFound`]) lists every path tried. Errors name the file and say what to do.
//!
//! ```
//! use std::collections::HashMap;
//! use workspace_config::{find_config, Workspace};
//!
//! # let root = std::env::temp_dir().join(format!("wsconfig-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&root);
//! // project/.azureml/config.json, and a notebook two levels down.
//! let project = root.join("project");
//! let notebooks = project.join("notebooks").join("2024");
//! std::fs::create_dir_all(project.join(".azureml"))?;
//! std::fs::create_dir_all(&notebooks)?;
//! std::fs::write(
//!     project.join(".azureml").join("config.json"),
//!     r#"{"subscription_id": "00000000-0000-0000-0000-000000000001",
//!         "resource_group": "rg-ml", "workspace_name": "ws-dev"}"#,
//! )?;
//!
//! let env: HashMap<&'static str, &'static str> = HashMap::new(); // no AZUREML_CONFIG_PATH
//! let found = find_config(&notebooks, &env)?;
//! assert_eq!(found.path, project.join(".azureml").join("config.json"));
//!
//! let ws = Workspace::from_config(&found)?;
//! assert_eq!(
//!     ws.resource_id(),
//!     "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-dev"
//! );
//! # std::fs::remove_dir_all(&root)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Reaching the workspace
//!
//! [`WorkspaceClient::get`] is SDK v1's ARM GET (api-version [`ARM_API_VERSION`]), and
//! [`WorkspaceClient::get_by_name`] its `Workspace.get` with an optional resource group;
//! [`WorkspaceClient::list_by_resource_group`] and [`WorkspaceClient::list_by_subscription`]
//! follow `nextLink` (same host only, bounded). [`WorkspaceClient::start_compute`] and
//! [`WorkspaceClient::stop_compute`] start and stop a compute instance and follow ARM's
//! asynchronous operation (same host only, bounded). ARM errors become [`ArmError`]: 403
//! `AuthorizationFailed` with the missing action and the scope as fields, the three 404s, 401
//! (a claims challenge is answered once with a new token), throttling with `Retry-After` after
//! the pipeline's retries. Each converts into [`auth_core::Error`] with a kind and a hint.
//!
//! # Crate features
//!
//! - `reqwest` (off by default): `WorkspaceClient::shared`, over auth-core's process-wide
//!   reqwest pipeline.
//!
//! # Security
//!
//! - A config file holds no secret (names and ids only) and is written with default permissions;
//!   [`write_config`] writes a temporary file, syncs it and renames it, so a reader never sees half
//!   a file.
//! - The token goes only to the client's ARM endpoint: a workspace that names another cloud is
//!   refused, and a `nextLink` to another host is not followed.
//! - The `Authorization` header is marked sensitive; logs carry URLs without their query and
//!   never a token. Errors quote ARM's error code and message, never a request.
//! - Config discovery follows symlinks as SDK v1 does; a directory on the way that cannot be
//!   looked into stops the search with an error instead of silently picking a later file.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod arm_error;
mod client;
mod compute;
mod config;
mod error;
mod resource_http;
mod workspace;

pub use arm_error::{ArmError, ArmErrorInfo, NotFoundCode};
pub use client::{DEFAULT_MAX_PAGES, MAX_ARM_RESPONSE_BYTES, WorkspaceClient, WorkspaceInfo};
pub use compute::{
    ComputeAction, ComputeOperation, DEFAULT_MAX_POLLS, DEFAULT_POLL_INTERVAL, MAX_POLL_INTERVAL,
};
pub use config::{
    CONFIG_PATH_ENV, ConfigFile, ConfigOrigin, FILE_NAMES, MAX_CONFIG_BYTES, SUBFOLDERS,
    WorkspaceConfig, candidates, find_config, find_config_from_process, load_config, search_config,
    search_config_named, write_config,
};
pub use error::{ConfigError, Malformed};
pub use workspace::{ARM_API_VERSION, WORKSPACE_TYPE, Workspace};
