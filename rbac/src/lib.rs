//! Azure role-based access control, modelled exactly: scopes, role definitions, role and deny
//! assignments; access decisions with explanations; least-privilege role suggestions.
#![forbid(unsafe_code)]
