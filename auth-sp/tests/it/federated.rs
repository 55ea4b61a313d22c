//! federated
