//! Azure CLI session credential for Azure Machine Learning.
//!
//! This crate will hold `AzureCliCredential`: it reuses an `az login` session by running
//! `az account get-access-token` safely (no shell, validated arguments, a timeout) and parsing its
//! JSON. It depends on `auth-core` only.
//!
//! Status: not built yet; its issue comes after the service principal flow.
#![forbid(unsafe_code)]
