//! The core of azureml-auth: what every sign-in flow shares.
//!
//! Every flow crate (`auth-sp`, `auth-msi`, `auth-cli`, `auth-interactive`) and the ARM client in
//! `workspace-config` build on this crate, and on nothing else of the workspace. It holds:
//!
//! - [`Secret`], the one type for secret text, and [`AccessToken`] with its refresh rules;
//! - [`Scope`] / [`Scopes`] with the v1 resource ↔ v2 scope rules, [`TenantId`] validation, and
//!   the per-request options of [`TokenRequest`] (tenant, claims, CAE);
//! - [`TokenCredential`], the object-safe trait every credential implements, and
//!   [`authorization_header`] (SDK v1's `get_authentication_header`);
//! - [`Error`] and [`ErrorKind`]: one error type whose kind says what to do;
//! - [`Cloud`]: authority host, ARM endpoint and audiences of each Azure cloud;
//! - [`http`]: the transport trait, the shared [`Pipeline`] with its one retry policy, and, with
//!   the `reqwest` feature, the default transport sharing one connection pool per process;
//! - [`entra`]: token-endpoint plumbing (form POST, response and error parsing, client
//!   capabilities) and [`challenge`]: `WWW-Authenticate` claims challenges;
//! - [`TokenCache`]: lock-free hits, single flight per key with a load timeout, early refresh,
//!   a bound on its keys; and [`TokenFlow`], what every flow does around its one request
//!   (tenant policy, cache key, CAE, claims challenges);
//! - [`blocking::run`]: blocking work (files, locks) off the async runtime.
//!
//! `auth-core` depends on no async runtime, no HTTP client and no TLS unless the `reqwest`
//! feature is on.
//!
//! # Example
//!
//! A credential is any type that implements [`TokenCredential`]. This one serves a fixed token,
//! and the example asks it for SDK v1's ARM scope and builds the `Authorization` header:
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use auth_core::{AccessToken, Secret, TokenCredential, TokenFuture, TokenRequest, TokenType};
//!
//! #[derive(Debug)]
//! struct Fixed;
//!
//! impl TokenCredential for Fixed {
//!     fn get_token<'a>(&'a self, _request: &'a TokenRequest) -> TokenFuture<'a> {
//!         Box::pin(async {
//!             let now = SystemTime::now();
//!             Ok(AccessToken::from_lifetime(Secret::new("eyJ0eXAi"), TokenType::Bearer, now, Duration::from_secs(3600), None))
//!         })
//!     }
//!     fn name(&self) -> &'static str { "fixed credential" }
//! }
//!
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let waker = std::task::Waker::noop();
//! #     let mut cx = std::task::Context::from_waker(&waker);
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
//! # }
//! let request = TokenRequest::for_resource("https://management.core.windows.net/")?;
//! assert_eq!(request.scopes().to_form_value(), "https://management.core.windows.net//.default");
//! let (name, value) = block_on(auth_core::authorization_header(&Fixed, &request))?;
//! assert_eq!(name, "authorization");
//! assert!(value.is_sensitive());
//! assert_eq!(value.to_str().unwrap(), "Bearer eyJ0eXAi");
//! # Ok::<(), auth_core::Error>(())
//! ```
//!
//! # Crate features
//!
//! - `reqwest` (off by default): [`http::ReqwestClient`], [`http::TokioSleep`] and
//!   [`http::Pipeline::shared`], the process-wide pipeline over one connection pool.
//!
//! # Security
//!
//! Secrets live in [`Secret`] (zeroed on drop, `Debug` redacted, no `Display`); every type that
//! holds one writes its `Debug` by hand; errors are built from parsed, documented fields and never
//! quote a request or response body. Token endpoints never follow redirects, and a TLS failure is
//! never retried.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod blocking;
mod cache;
pub mod challenge;
mod clock;
mod cloud;
mod credential;
pub mod entra;
mod env;
mod error;
pub mod flow;
pub mod fs;
pub mod http;
mod request;
mod scope;
mod secret;
mod tenant;
mod token;

pub use cache::{
    CacheKey, CacheOptions, CachePartition, DEFAULT_CACHE_CAPACITY, DEFAULT_LOAD_TIMEOUT,
    REFRESH_RETRY_INTERVAL_SECS, TokenCache,
};
pub use clock::{Clock, SystemClock, utc_time};
pub use cloud::Cloud;
pub use credential::{TokenCredential, TokenFuture, authorization_header, bearer_value};
pub use env::{Env, ProcessEnv, env_flag};
pub use error::{EntraError, Error, ErrorKind};
pub use flow::{AllowedTenants, FetchContext, TenantPolicy, TokenFlow};
pub use http::Pipeline;
pub use request::TokenRequest;
pub use scope::{Scope, Scopes};
pub use secret::Secret;
pub use tenant::TenantId;
pub use token::{AccessToken, HALF_LIFE_THRESHOLD, REFRESH_BEFORE_EXPIRY, TokenType, refresh_on};
