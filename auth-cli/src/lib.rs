//! The Azure CLI session credential for Azure Machine Learning: SDK v1's
//! `AzureCliAuthentication`, reusing the session of `az login` without storing any credential.
//!
//! [`AzureCliCredential`] runs `az account get-access-token --output json` (protocol reference
//! §3): found on `PATH` (`az.cmd` first on Windows), never through a shell, from `/bin`
//! (`%SYSTEMROOT%` on Windows), stdin closed, `AZURE_CORE_NO_COLOR=true`, tenant, scope and
//! subscription checked by character first, and killed when it takes longer than its timeout
//! (30 s by default). The expiry comes from `expires_on` (az 2.54+) or, for older az,
//! `expiresOn` read in the local time zone. Tokens are cached through auth-core's
//! [`TokenFlow`](auth_core::TokenFlow): az runs at most once per token lifetime per
//! (tenant, scope), however many callers ask at once.
//!
//! Errors say what to do: az missing or not logged in is [`ErrorKind::Unavailable`] (a chain
//! moves on), an `AADSTS` failure is [`ErrorKind::Authentication`] with az's own advice
//! (`az login --tenant …`) as the hint, a hung az is unavailable after the timeout ("az took
//! longer than N s"), output that is not az's JSON is [`ErrorKind::Service`]. No token is ever
//! echoed from az's output into an error or a log.
//!
//! [`AzureCliCredential::account`] runs `az account show`: the default subscription and tenant
//! (for `amlauth` and workspace defaults).
//!
//! Differences from azure-identity, on purpose: the default timeout is 30 s, not 10 s (az's cold
//! start on a busy machine takes up to 13 s); a non-JSON answer is a service error rather than
//! an authentication error.
//!
//! [`ErrorKind::Unavailable`]: auth_core::ErrorKind::Unavailable
//! [`ErrorKind::Authentication`]: auth_core::ErrorKind::Authentication
//! [`ErrorKind::Service`]: auth_core::ErrorKind::Service
#![forbid(unsafe_code)]

mod args;
mod credential;
mod output;
mod process;

pub use credential::{AzureCliCredential, AzureCliOptions, DEFAULT_AZ_TIMEOUT};
pub use output::AzAccount;
