//! Managed identity credential for Azure Machine Learning.
//!
//! This crate will hold `ManagedIdentityCredential`: tokens from the managed-identity endpoints of
//! Azure VMs (IMDS), App Service, Azure ML compute clusters and instances, Azure Arc and Cloud
//! Shell, for system- and user-assigned identities. It depends on `auth-core` only.
//!
//! Status: not built yet; its issue comes after the service principal flow. The crate exists so
//! that the workspace layout, the facade's `managed-identity` feature and the dependency rules
//! are fixed from the start.
#![forbid(unsafe_code)]
