//! Interactive sign-in for Azure Machine Learning.
//!
//! This crate will hold the user flows: authorization code with PKCE through the system browser
//! and a loopback redirect, device code when no browser is at hand, tenant selection and a
//! persistent token cache. It depends on `auth-core` only.
//!
//! Status: not built yet; its issue comes after the service principal flow.
#![forbid(unsafe_code)]
