//! Service principal credentials for Azure Machine Learning: an app (a CI pipeline, a service)
//! signs in to Microsoft Entra ID with a client secret, a certificate or a federated token,
//! over `auth-core`'s token-endpoint plumbing and cache.
//!
//! It is one of the flow crates of azureml-auth: it depends on `auth-core` only, and the
//! facade crate will put [`EnvironmentCredential`] into its credential chain.
//!
//! - [`ClientSecretCredential`]: `client_secret` (protocol reference §3.2).
//! - [`ClientCertificateCredential`]: a JWT client assertion signed with the certificate's RSA
//!   key (§3.3), from PEM (the key possibly encrypted PKCS#8) or PKCS#12 ([`ClientCertificate`]).
//! - [`ClientAssertionCredential`]: a federated token from a file (workload identity) or a
//!   callback, synchronous or asynchronous (§3.4).
//! - [`ServicePrincipalCredential::from_env`], [`EnvironmentCredential`] and
//!   [`ServicePrincipalCredential::from_sdk_auth_file`]: the credential the environment or an
//!   `--sdk-auth` file describes; the [`environment`] module documents the variables and their
//!   precedence.
//! - [`ServicePrincipalOptions`]: cloud, pipeline, additionally allowed tenants, certificate
//!   chain, legacy assertion form, CAE.
//!
//! Each credential keeps its tokens in its own [`auth_core::TokenCache`]: a second request for
//! the same scopes sends nothing, and concurrent first requests send one. A request with claims
//! (a claims challenge) bypasses the lookup and replaces the cached token. A request may name
//! another tenant only if the credential allows it.
//!
//! # Example
//!
//! The transport is any `auth_core::http::HttpClient`; here a closure answers like Entra ID
//! (with the `reqwest` feature, leave the pipeline out to use the shared one):
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::{Secret, TokenRequest, Pipeline};
//! use auth_core::http::{HttpRequest, HttpResponse, TransportError};
//! use auth_sp::{ClientSecretCredential, ServicePrincipalOptions};
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
//!
//! let entra = |request: HttpRequest| async move {
//!     assert_eq!(request.uri().path(), "/contoso.onmicrosoft.com/oauth2/v2.0/token");
//!     let body = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAi"}"#;
//!     Ok::<HttpResponse, TransportError>(http::Response::new(body.as_bytes().to_vec()))
//! };
//! let pipeline = Pipeline::new(Arc::new(entra), Arc::new(NoSleep));
//! let credential = ClientSecretCredential::new(
//!     "contoso.onmicrosoft.com",
//!     "00000000-0000-0000-0000-000000000001",
//!     Secret::new("client-secret-value"),
//!     ServicePrincipalOptions::new().pipeline(pipeline),
//! )?;
//! let request = TokenRequest::for_resource("https://management.core.windows.net/")?;
//! let token = block_on(credential.get_token(&request))?;
//! assert_eq!(token.token().expose_secret(), "eyJ0eXAi");
//! // Debug shows who signs in, never the secret.
//! assert!(!format!("{credential:?}").contains("client-secret-value"));
//! # Ok::<(), auth_core::Error>(())
//! ```
//!
//! From the environment, for a chain (the variables are listed in [`environment`]):
//!
//! ```no_run
//! # async fn run() -> Result<(), auth_core::Error> {
//! use auth_core::{ProcessEnv, TokenRequest};
//! use auth_sp::{ServicePrincipalCredential, ServicePrincipalOptions};
//! let credential = ServicePrincipalCredential::from_env(&ProcessEnv, ServicePrincipalOptions::new())?;
//! let token = credential.get_token(&TokenRequest::for_resource("https://ml.azure.com")?).await?;
//! # Ok(()) }
//! ```
//!
//! # Crate features
//!
//! - `reqwest` (off by default): credentials built without
//!   [`ServicePrincipalOptions::pipeline`] use `auth_core::Pipeline::shared()`, the
//!   process-wide reqwest client (one connection pool for every credential; needs a tokio
//!   runtime). Without it, a pipeline must be given.
//!
//! # Security
//!
//! - Secrets, passwords and signed assertions live in `auth_core::Secret`; the private key lives
//!   in aws-lc-rs's key object, and its DER bytes only pass through zeroizing buffers while it
//!   is loaded. `Debug` of every credential shows the tenant, the client id, the authority host
//!   and, for a certificate, its thumbprint; never a secret, key or assertion. Errors never
//!   quote a request, a response body or a file's content.
//! - The secret goes only into the `client_secret` field; the assertion only into
//!   `client_assertion`. A secret is never read as a file path (SDK v1 did this).
//! - Crypto is aws-lc-rs (already used by rustls) and RustCrypto's pure-Rust `pkcs8`/`pkcs5`
//!   (through `p12-keystore` for PKCS#12); no OpenSSL.
//! - A client assertion lives [`ASSERTION_LIFETIME_SECS`] and carries a random `jti`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "certificate")]
mod certificate;
mod client_assertion;
#[cfg(feature = "certificate")]
mod client_certificate;
mod client_secret;
pub mod environment;
mod flow;
mod options;
mod shared;
#[cfg(test)]
mod testutil;

#[cfg(feature = "certificate")]
pub use certificate::ClientCertificate;
pub use client_assertion::{AssertionFuture, ClientAssertionCredential};
#[cfg(feature = "certificate")]
pub use client_certificate::{
    ASSERTION_LIFETIME_SECS, ASSERTION_REUSE_MARGIN_SECS, ClientCertificateCredential,
};
pub use client_secret::ClientSecretCredential;
pub use environment::{EnvironmentCredential, ServicePrincipalCredential};
pub use options::ServicePrincipalOptions;
