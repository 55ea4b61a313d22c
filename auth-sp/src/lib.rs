//! Service principal credentials for Azure Machine Learning: client secret, certificate and
//! federated token, over `auth-core`'s token-endpoint plumbing and cache.
#![forbid(unsafe_code)]
