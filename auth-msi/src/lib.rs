//! Managed identity for Azure Machine Learning: tokens for the identity of the Azure resource
//! a program runs on, from whichever endpoint that resource offers.
//!
//! It is one of the flow crates of azureml-auth: it depends on `auth-core` only. SDK v1's
//! `MsiAuthentication` knew two sources; [`ManagedIdentityCredential`] knows every one the
//! protocol reference (`shared/docs/protocol-msi-cli-arm.md` §1–§2) describes, chosen from the
//! environment in azure-identity's order:
//!
//! | # | environment | [`ManagedIdentitySource`] | request |
//! |---|---|---|---|
//! | 1 | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT` | Service Fabric | GET, `api-version=2019-07-01-preview`, `Secret` header |
//! | 2 | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` | App Service | GET, `2019-08-01`, `X-IDENTITY-HEADER` + `Metadata: true` |
//! | 3 | `IDENTITY_ENDPOINT` + `IMDS_ENDPOINT` | Azure Arc | GET `2020-06-01`, 401 challenge, `Authorization: Basic <key file>` |
//! | 4 | `MSI_ENDPOINT` + `MSI_SECRET` | Azure ML compute | GET `2017-09-01`, `secret` header, `clientid` (default `DEFAULT_IDENTITY_CLIENT_ID`) |
//! | 5 | `MSI_ENDPOINT` | Cloud Shell | form POST `resource=…`, `Metadata: true` |
//! | 6 | otherwise | IMDS | GET `169.254.169.254` (or `AZURE_POD_IDENTITY_AUTHORITY_HOST`), `2018-02-01`, `Metadata: true` |
//!
//! [`ManagedIdentityCredential::source`] says which was chosen and
//! [`ManagedIdentityCredential::source_reason`] why; an `info` tracing event says both when the
//! credential is built.
//!
//! A user-assigned identity is chosen by [`UserAssignedId`] (client id, object id or resource
//! id) and spelled as each source wants (`client_id`/`object_id`/`msi_res_id` for IMDS and Arc,
//! `mi_res_id` for App Service, `clientid` for Azure ML). A source that cannot select that kind
//! of id is a configuration error, never a silent system-assigned token.
//!
//! IMDS answers 404, 410, 429 and 5xx are retried ([`ImdsRetryClassifier`],
//! [`imds_retry_policy`]): exponential backoff from 1 s, `Retry-After` honoured, 410 for at
//! least 70 s. A 400 ("identity not found", from any source) is
//! [`auth_core::ErrorKind::Unavailable`] and names the identity. Until IMDS has answered once,
//! no answer at all is unavailable too: in probe mode ([`ManagedIdentityOptions::probe`], for
//! credential chains) after one 1 s attempt, otherwise after the guidance's 5 retries (about
//! 30 s); Docker Desktop's 403 is unavailable at once. Once IMDS has answered, the full policy
//! applies, and a failure is a real error.
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use auth_core::{Pipeline, TokenRequest};
//! use auth_core::http::{HttpRequest, HttpResponse, TransportError};
//! use auth_msi::{ManagedIdentityCredential, ManagedIdentityOptions, ManagedIdentitySource, UserAssignedId};
//! # #[derive(Debug)] struct NoSleep;
//! # impl auth_core::http::Sleep for NoSleep {
//! #     fn sleep(&self, _: std::time::Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
//! #         Box::pin(std::future::pending())
//! #     }
//! # }
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let waker = std::task::Waker::noop();
//! #     let mut cx = std::task::Context::from_waker(&waker);
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
//! # }
//! // An Azure ML compute instance: MSI_ENDPOINT and MSI_SECRET are set.
//! let env: HashMap<&'static str, &'static str> = HashMap::from([
//!     ("MSI_ENDPOINT", "http://127.0.0.1:46808/MSI/auth"),
//!     ("MSI_SECRET", "msi-secret-value"),
//! ]);
//! let aml = |request: HttpRequest| async move {
//!     assert_eq!(request.uri().query(), Some("api-version=2017-09-01&resource=https%3A%2F%2Fml.azure.com&clientid=0000-client"));
//!     assert_eq!(request.headers()["secret"], "msi-secret-value");
//!     let body = r#"{"access_token":"eyJ0eXAi","expires_on":4102444800,"token_type":"Bearer"}"#;
//!     Ok::<HttpResponse, TransportError>(http::Response::new(body.as_bytes().to_vec()))
//! };
//! let options = ManagedIdentityOptions::new()
//!     .user_assigned(UserAssignedId::ClientId("0000-client".into()))
//!     .pipeline(Pipeline::new(Arc::new(aml), Arc::new(NoSleep)));
//! let credential = ManagedIdentityCredential::from_env(&env, options)?;
//! assert_eq!(credential.source(), ManagedIdentitySource::AzureMl);
//! let token = block_on(credential.get_token(&TokenRequest::for_resource("https://ml.azure.com")?))?;
//! assert_eq!(token.token().expose_secret(), "eyJ0eXAi");
//! assert!(!format!("{credential:?}").contains("msi-secret-value"));
//! # Ok::<(), auth_core::Error>(())
//! ```
//!
//! # Crate features
//!
//! - `reqwest` (off by default): credentials built without
//!   [`ManagedIdentityOptions::pipeline`] use `auth_core::Pipeline::shared()` (needs a tokio
//!   runtime). Without it, a pipeline must be given. It also brings the Service Fabric
//!   transport that pins the cluster certificate (rustls with aws-lc-rs, as reqwest uses).
//!
//! # Security
//!
//! - `MSI_SECRET`, `IDENTITY_HEADER` and the Arc key file's content live in
//!   `auth_core::Secret` and go only into their header, marked sensitive. `Debug` of the
//!   credential shows the source, the endpoint and the identity id; errors and logs never show
//!   a secret, a token or a response body (only the documented `error` members).
//! - Endpoints must be https, or plain http on a loopback or link-local address.
//! - The Arc key file is read only from the agent's token directory, only if its name ends in
//!   `.key`, and only up to 4096 bytes; a path the server names elsewhere is refused.
//! - Service Fabric: with the `reqwest` feature and no pipeline given, the cluster certificate
//!   is pinned as MSAL pins it: the SHA-1 of the server's certificate must equal
//!   `IDENTITY_SERVER_THUMBPRINT` (no CA validation, no proxy). A pipeline given in the options
//!   is used as it is: its transport must check the cluster's certificate itself.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod arc;
mod credential;
mod id;
mod options;
mod parse;
#[cfg(feature = "reqwest")]
mod pinned;
mod source;

pub use arc::ARC_KEY_MAX_BYTES;
pub use credential::{ImdsRetryClassifier, ManagedIdentityCredential};
pub use id::UserAssignedId;
pub use options::{
    DEFAULT_PROBE_TIMEOUT, DEFAULT_TIMEOUT, IMDS_410_WINDOW, IMDS_RETRY_WINDOW,
    ManagedIdentityOptions, imds_retry_policy,
};
pub use source::{
    APP_SERVICE_API_VERSION, ARC_API_VERSION, AZURE_ML_API_VERSION, IMDS_API_VERSION,
    IMDS_AUTHORITY, IMDS_TOKEN_PATH, ManagedIdentitySource, SERVICE_FABRIC_API_VERSION,
};
