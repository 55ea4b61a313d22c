//! What a caller asks a credential for.

use crate::{Error, Scopes, TenantId};

/// A token request: the scopes, and per-request options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    scopes: Scopes,
    tenant: Option<TenantId>,
    claims: Option<String>,
    enable_cae: bool,
}

impl TokenRequest {
    /// A request for `scopes`.
    pub fn new(scopes: Scopes) -> Self {
        Self {
            scopes,
            tenant: None,
            claims: None,
            enable_cae: false,
        }
    }

    /// A request for the `/.default` scope of a v1 resource, such as
    /// `https://management.core.windows.net/`.
    pub fn for_resource(resource: &str) -> Result<Self, Error> {
        Ok(Self::new(Scopes::for_resource(resource)?))
    }

    /// A request for scope strings.
    pub fn for_scopes<I, S>(scopes: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ok(Self::new(Scopes::new(scopes)?))
    }

    /// Asks for a token from another tenant (allowed only where the credential permits it).
    pub fn with_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Answers a claims challenge: the decoded JSON claims request. The cache is bypassed.
    pub fn with_claims(mut self, claims: impl Into<String>) -> Self {
        self.claims = Some(claims.into()).filter(|c: &String| !c.is_empty());
        self
    }

    /// Declares that the caller handles claims challenges (continuous access evaluation, `cp1`).
    pub fn with_cae(mut self, enable: bool) -> Self {
        self.enable_cae = enable;
        self
    }

    /// The scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// The tenant asked for, if any.
    pub fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    /// The claims of a challenge, if any.
    pub fn claims(&self) -> Option<&str> {
        self.claims.as_deref()
    }

    /// Whether CAE was asked for.
    pub fn cae(&self) -> bool {
        self.enable_cae
    }
}
