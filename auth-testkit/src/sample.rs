//! The identifiers and **emulator-only sample credentials** of [`Setup::sample`](crate::Setup::sample).
//!
//! These values are public fakes: they only work against the emulator.

/// Sample tenant id.
pub const TENANT_ID: &str = "72f988bf-0000-4000-8000-00000000e001";
/// Sample tenant's verified domain.
pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
/// Sample app (client) id.
pub const CLIENT_ID: &str = "a11ce000-0000-4000-8000-00000000a001";
/// Sample app's service principal object id.
pub const APP_OBJECT_ID: &str = "a11ce000-0000-4000-8000-00000000b001";
/// Sample client secret — an emulator sample credential, not a real secret.
pub const CLIENT_SECRET: &str = "emulator-sample-secret~not-a-real-credential";
/// Sample user name.
pub const USER_NAME: &str = "alice@contoso.onmicrosoft.com";
/// Sample user's password — an emulator sample credential.
pub const USER_PASSWORD: &str = "emulator-sample-password";
/// Sample user's object id.
pub const USER_OBJECT_ID: &str = "a11ce000-0000-4000-8000-00000000c001";
/// Sample subscription id.
pub const SUBSCRIPTION_ID: &str = "5ab5c000-0000-4000-8000-00000000d001";
/// Sample resource group.
pub const RESOURCE_GROUP: &str = "rg-ml";
/// Sample workspace name.
pub const WORKSPACE_NAME: &str = "ws-demo";
/// Sample workspace id (`properties.workspaceId`).
pub const WORKSPACE_ID: &str = "0f0f0f0f-0000-4000-8000-00000000f001";
