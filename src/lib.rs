//! azureml-auth: authenticate code to Azure Machine Learning workspaces.
#![forbid(unsafe_code)]
pub use auth_core as core;
