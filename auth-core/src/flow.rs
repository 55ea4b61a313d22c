//! What every flow does around its one request: which tenant a request goes to, the cache key,
//! CAE (client capability `CP1`), claims challenges, and naming errors after the credential.
//!
//! A flow crate builds one [`TokenFlow`] per credential and hands [`TokenFlow::get_token`] a
//! closure that fetches a token for a [`FetchContext`]; everything else is here.

use std::fmt;
use std::future::Future;

use crate::entra::merge_client_capabilities;
use crate::{
    AccessToken, CacheKey, CachePartition, Error, Scopes, TenantId, TokenCache, TokenRequest,
};

/// Which tenants, besides its own, a credential may get tokens for when a request names one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AllowedTenants {
    any: bool,
    tenants: Vec<TenantId>,
}

impl AllowedTenants {
    /// From tenant ids; `*` allows every tenant; blank entries are skipped. Invalid ids are
    /// rejected.
    pub fn new<I, S>(tenants: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Self::default();
        for t in tenants {
            let t = t.as_ref().trim();
            if t.is_empty() {
                continue;
            }
            if t == "*" {
                out.any = true;
            } else {
                out.tenants.push(TenantId::new(t)?);
            }
        }
        Ok(out)
    }

    /// Every tenant.
    pub fn any() -> Self {
        Self {
            any: true,
            tenants: Vec::new(),
        }
    }

    /// The `;`-separated list of `AZURE_ADDITIONALLY_ALLOWED_TENANTS` (as .NET and JS read it).
    pub fn from_list(list: &str) -> Result<Self, Error> {
        Self::new(list.split(';'))
    }

    fn allows(&self, tenant: &TenantId) -> bool {
        self.any
            || self
                .tenants
                .iter()
                .any(|t| t.as_str().eq_ignore_ascii_case(tenant.as_str()))
    }
}

impl fmt::Debug for AllowedTenants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.any {
            return f.write_str("[\"*\"]");
        }
        f.debug_list()
            .entries(self.tenants.iter().map(TenantId::as_str))
            .finish()
    }
}

/// Which tenant a request goes to.
#[derive(Clone, Debug, Default)]
pub struct TenantPolicy {
    home: Option<TenantId>,
    allowed: AllowedTenants,
    ignore_requested: bool,
    tenantless: bool,
}

impl TenantPolicy {
    /// Requests go to `home` (`None`: the tool's own default, such as az's default tenant)
    /// unless the request names a tenant that `allowed` allows; `ignore_requested`
    /// (`AZURE_IDENTITY_DISABLE_MULTITENANTAUTH`) always keeps `home`.
    pub fn new(home: Option<TenantId>, allowed: AllowedTenants, ignore_requested: bool) -> Self {
        Self {
            home,
            allowed,
            ignore_requested,
            tenantless: false,
        }
    }

    /// No tenant at all (managed identity): a requested tenant is ignored.
    pub fn none() -> Self {
        Self {
            tenantless: true,
            ..Self::default()
        }
    }

    /// The credential's own tenant, if it has one.
    pub fn home(&self) -> Option<&TenantId> {
        self.home.as_ref()
    }

    /// The tenant a request naming `requested` goes to, or an error when it may not.
    pub fn resolve<'a>(
        &'a self,
        requested: Option<&'a TenantId>,
    ) -> Result<Option<&'a TenantId>, Error> {
        let home = self.home.as_ref();
        match (requested, home) {
            _ if self.tenantless => Ok(None),
            (None, _) => Ok(home),
            (Some(_), _) if self.ignore_requested => Ok(home),
            (Some(t), Some(own)) if t.as_str().eq_ignore_ascii_case(own.as_str()) => Ok(home),
            // Without a home tenant, the tool signs in wherever the request says.
            (Some(t), None) => Ok(Some(t)),
            (Some(t), Some(_)) if self.allowed.allows(t) => Ok(Some(t)),
            (Some(t), Some(own)) => Err(Error::configuration(format!(
                "the credential is configured for tenant {own} and may not get tokens for tenant {t}"
            ))
            .with_hint(format!(
                "add {t} to the credential's additionally allowed tenants (or \"*\" for any tenant), or ask for a token without a tenant"
            ))),
        }
    }
}

/// What a fetch is for: the resolved tenant, the scopes, and the claims to send.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FetchContext<'a> {
    /// The resolved tenant (`None`: no tenant, or the tool's default).
    pub tenant: Option<&'a TenantId>,
    /// The scopes asked for.
    pub scopes: &'a Scopes,
    /// The request's claims merged with `{"access_token":{"xms_cc":{"values":["CP1"]}}}` when
    /// CAE is on; `None` when there is nothing to send.
    pub claims: Option<String>,
    /// Whether the token is a CAE token.
    pub cae: bool,
}

/// A credential's cache, tenant policy and CAE setting, around the fetch its flow supplies.
pub struct TokenFlow {
    name: &'static str,
    partition: CachePartition,
    cache: TokenCache,
    tenants: TenantPolicy,
    cae: bool,
}

impl fmt::Debug for TokenFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFlow")
            .field("name", &self.name)
            .field("partition", &self.partition)
            .field("tenants", &self.tenants)
            .field("cae", &self.cae)
            .finish_non_exhaustive()
    }
}

impl TokenFlow {
    /// A flow named `name` (errors and logs say it), caching under `partition` in `cache`.
    /// `cae` asks every token with client capability `CP1`.
    pub fn new(
        name: &'static str,
        partition: CachePartition,
        cache: TokenCache,
        tenants: TenantPolicy,
        cae: bool,
    ) -> Self {
        Self {
            name,
            partition,
            cache,
            tenants,
            cae,
        }
    }

    /// The credential's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The tenant policy.
    pub fn tenants(&self) -> &TenantPolicy {
        &self.tenants
    }

    /// Gets a token for `request`: a fresh cached one unless the request carries claims;
    /// otherwise `fetch` runs once for all concurrent callers of the same key. A request with
    /// claims (a claims challenge) bypasses the lookup and its token replaces the cached one.
    /// Errors come back naming the credential.
    pub async fn get_token<'a, F, Fut>(
        &'a self,
        request: &'a TokenRequest,
        fetch: F,
    ) -> Result<AccessToken, Error>
    where
        F: FnOnce(FetchContext<'a>) -> Fut,
        Fut: Future<Output = Result<AccessToken, Error>>,
    {
        let tenant = self
            .tenants
            .resolve(request.tenant())
            .map_err(|e| named(e, self.name))?;
        let cae = self.cae || request.cae();
        let key = CacheKey {
            partition: &self.partition,
            tenant,
            scopes: request.scopes(),
            cae,
        };
        if request.claims().is_none() {
            // The hot path: a fresh cached token, before anything is allocated.
            if let Some(token) = self.cache.get(&key) {
                return Ok(token);
            }
        }
        let claims = merge_client_capabilities(request.claims(), if cae { &["CP1"] } else { &[] })
            .map_err(|e| named(e, self.name))?;
        let context = FetchContext {
            tenant,
            scopes: request.scopes(),
            claims,
            cae,
        };
        let result = if request.claims().is_some() {
            let token = fetch(context).await;
            if let Ok(t) = &token {
                self.cache.insert(&key, t);
            }
            token
        } else {
            self.cache.get_or_fetch(&key, || fetch(context)).await
        };
        result.map_err(|e| named(e, self.name))
    }
}

/// `e`, naming credential `name` unless it already names one.
pub fn named(e: Error, name: &'static str) -> Error {
    if e.credential().is_some() {
        e
    } else {
        e.with_credential(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TenantId {
        TenantId::new(s).unwrap()
    }

    #[test]
    fn home_tenant_unless_allowed() {
        let home = t("contoso.onmicrosoft.com");
        let other = t("fabrikam.onmicrosoft.com");
        let strict = TenantPolicy::new(Some(home.clone()), AllowedTenants::default(), false);
        assert_eq!(strict.resolve(None).unwrap(), Some(&home));
        assert_eq!(
            strict.resolve(Some(&t("CONTOSO.onmicrosoft.com"))).unwrap(),
            Some(&home)
        );
        let e = strict.resolve(Some(&other)).unwrap_err();
        assert!(
            e.message()
                .contains("may not get tokens for tenant fabrikam"),
            "{e}"
        );
        let open = TenantPolicy::new(Some(home.clone()), AllowedTenants::any(), false);
        assert_eq!(open.resolve(Some(&other)).unwrap(), Some(&other));
        let listed = TenantPolicy::new(
            Some(home.clone()),
            AllowedTenants::from_list(" ;fabrikam.onmicrosoft.com").unwrap(),
            false,
        );
        assert_eq!(listed.resolve(Some(&other)).unwrap(), Some(&other));
        let ignoring = TenantPolicy::new(Some(home.clone()), AllowedTenants::default(), true);
        assert_eq!(ignoring.resolve(Some(&other)).unwrap(), Some(&home));
    }

    #[test]
    fn without_home_the_request_decides_and_tenantless_ignores_it() {
        let other = t("fabrikam.onmicrosoft.com");
        let tool = TenantPolicy::new(None, AllowedTenants::default(), false);
        assert_eq!(tool.resolve(None).unwrap(), None);
        assert_eq!(tool.resolve(Some(&other)).unwrap(), Some(&other));
        assert_eq!(TenantPolicy::none().resolve(Some(&other)).unwrap(), None);
    }
}
