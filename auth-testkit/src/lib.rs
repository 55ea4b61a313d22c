//! A faithful local emulator of Microsoft Entra ID and Azure Resource Manager, for tests and
//! demos of `azureml-auth`.
//!
//! Nothing in the project depends on reaching Azure: every flow is tested, and the demo runs,
//! against this emulator over real HTTP (or HTTPS) on `127.0.0.1`. It follows
//! `shared/docs/protocol-entra.md` and `shared/docs/protocol-msi-cli-arm.md` §6: the same
//! paths, form fields, headers, response members, error bodies and faults as the real
//! services, so a client that works against it works against Azure, and a client that sends
//! a wrong request fails against it as it would against Azure.
//!
//! A test describes a world with a [`Setup`] (tenants, app registrations with secrets,
//! certificates and federated credentials, users, workspaces, role assignments, Conditional
//! Access policies), starts an [`Emulator`] from it on port 0 (in milliseconds, so every
//! test has its own), points its client at [`Emulator::authority_host`] and
//! [`Emulator::arm_endpoint`], and asserts on the answers and on
//! [`Emulator::requests`]. Faults are scripted per endpoint with [`Emulator::inject`].
//!
//! # Example
//!
//! ```
//! use auth_testkit::{App, Emulator, Setup, Tenant, Workspace};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let tenant = "72f988bf-0000-4000-8000-000000000001";
//! let client = "a11ce000-0000-4000-8000-000000000002";
//! let emulator = Emulator::start(
//!     Setup::new()
//!         .tenant(Tenant::new(tenant))
//!         .app(App::new(tenant, client).object_id("a11ce000-0000-4000-8000-000000000003").secret("s3cret"))
//!         .workspace(Workspace::new("5ab5c000-0000-4000-8000-000000000004", "rg", "ws"))
//!         .role_assignment("a11ce000-0000-4000-8000-000000000003", "Reader", "/subscriptions/5ab5c000-0000-4000-8000-000000000004"),
//! )
//! .await?;
//! let token_url = format!("{}/{tenant}/oauth2/v2.0/token", emulator.authority_host());
//! assert!(token_url.starts_with("http://127.0.0.1:"));
//! // POST grant_type=client_credentials&client_id=..&client_secret=s3cret
//! //      &scope=https://management.core.windows.net//.default to token_url, then
//! // GET {arm_endpoint}subscriptions/../workspaces/ws?api-version=2022-05-01 with the token.
//! assert!(emulator.requests().is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # What it emulates
//!
//! - **Entra ID** (per tenant): OpenID configuration; token endpoint v2.0 with
//!   `client_credentials` (secret, certificate assertion RS256/PS256, federated assertion),
//!   `authorization_code` with PKCE, device code, `refresh_token` with rotation; the authorize
//!   endpoint with an HTML sign-in page; the device-code verification page; Conditional
//!   Access (MFA, block, ARM claims challenges). Errors carry `error`, an `error_description`
//!   beginning with the `AADSTS` code, `error_codes`, `timestamp`, `trace_id`,
//!   `correlation_id`, `error_uri` (and `suberror`/`claims` where Entra sends them).
//! - **ARM**: `Microsoft.MachineLearningServices` workspaces (get, list by resource group and
//!   subscription with `nextLink` paging) and compute targets (create, get, start, stop,
//!   delete), subscriptions; tokens checked as ARM checks them; `AuthorizationFailed`
//!   decided from the setup's role assignments.
//!
//! Access tokens are HS256 JWTs signed with a per-emulator key; they carry the claims a v1
//! Entra token carries (`aud`, `iss`, `tid`, `oid`, `appid`, `scp` or `roles`, `iat`, `nbf`,
//! `exp`, `xms_cc` when the client declared `CP1`).
//!
//! # Deliberate simplifications
//!
//! - Federated (workload identity) tokens are matched by issuer, subject, audience and
//!   lifetime, but their signatures are not verified: the emulator cannot know external
//!   issuers' keys. [`certs::federated_token`] builds one.
//! - Certificate assertions: `x5c` (subject name + issuer authentication) is ignored; the
//!   certificate must be registered. A replayed `jti` is refused by default
//!   ([`Setup::assertion_replay_check`]).
//! - Refresh tokens are single-use (rotation enforced); Entra tolerates reuse of an old one.
//! - Access (ARM) decisions come from one place (`authz::Access`) that asks the
//!   `rbac` crate with the built-in roles; the setup has no deny assignments or custom roles yet.
//! - AADSTS codes the protocol reference marks unconfirmed are used as written there; a few
//!   codes with no public reference (assertion replay 50012, invalid `claims` JSON 90007) are
//!   the emulator's choice.
//!
//! - **Managed identity** (a third listener): IMDS, App Service, Azure Arc (with its key-file
//!   challenge), Azure ML compute, Cloud Shell and Service Fabric, each checking its real
//!   request and answering its real shapes (`msi` module; [`Setup::system_identity`],
//!   [`Setup::user_assigned_identity`], [`Emulator::imds_status_for`]).
//!
//! The router dispatches per [`Service`]; the stand-in `az` of a later issue adds a service
//! and a listener beside Entra ID, ARM and managed identity.
//!
//! # Crate features
//!
//! None. This crate is test infrastructure and is never published.
//!
//! # Security notes
//!
//! The emulator listens on `127.0.0.1` only. Its sample credentials ([`sample`]) are public
//! fakes. [`RecordedRequest`]'s `Debug` and `Display` redact secrets; the emulator logs nothing.
#![forbid(unsafe_code)]

mod arm;
mod authz;
pub mod az;
pub mod certs;
mod emulator;
mod entra;
mod fault;
mod jwt;
mod msi;
mod record;
pub mod sample;
mod server;
mod setup;
mod standalone;
mod state;
mod tls;
mod util;

pub use emulator::{Emulator, StartOptions};
pub use entra::MFA_CODE;
pub use fault::{Endpoint, Fault};
pub use msi::ManagedIdentity;
pub use record::{RecordedRequest, Service};
pub use setup::{AZURE_CLI_CLIENT_ID, App, Policy, Setup, Tenant, User, Workspace};
pub use standalone::{run_standalone, run_standalone_with};
