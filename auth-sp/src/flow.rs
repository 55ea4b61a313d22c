//! What the three credentials share: tenant resolution, the cache, CAE, claims and the POST.

use std::fmt;
use std::future::Future;

use auth_core::entra::{Form, merge_client_capabilities, request_token};
use auth_core::{
    AccessToken, CacheKey, CachePartition, Cloud, Error, Pipeline, TenantId, TokenCache,
    TokenRequest,
};

use crate::ServicePrincipalOptions;
use crate::shared::AllowedTenants;

/// Where one token request goes.
pub(crate) struct Target {
    /// The tenant the token is for.
    pub(crate) tenant: TenantId,
    /// `https://{host}/{tenant}/oauth2/v2.0/token`.
    pub(crate) url: String,
}

/// The shared state of a service principal credential.
pub(crate) struct Flow {
    pub(crate) name: &'static str,
    pub(crate) tenant: TenantId,
    pub(crate) client_id: String,
    pub(crate) cloud: Cloud,
    pub(crate) pipeline: Pipeline,
    allowed: AllowedTenants,
    ignore_requested_tenant: bool,
    cae: bool,
    partition: CachePartition,
    cache: TokenCache,
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("tenant", &self.tenant.as_str())
            .field("client_id", &self.client_id)
            .field("authority_host", &self.cloud.authority_host())
            .finish()
    }
}

impl Flow {
    pub(crate) fn new(
        name: &'static str,
        tenant: &str,
        client_id: &str,
        options: &ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        let tenant = TenantId::new(tenant).map_err(|e| e.with_credential(name))?;
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(Error::configuration(
                "the client id is empty; set it to the application (client) id of the app registration",
            )
            .with_credential(name));
        }
        if client_id.chars().any(|c| c.is_control()) {
            return Err(
                Error::configuration("the client id has control characters").with_credential(name)
            );
        }
        if tenant.is_multi_tenant_alias() {
            tracing::warn!(credential = name, tenant = %tenant, "client credentials need a concrete tenant; a multi-tenant alias is unreliable");
        }
        let cloud = options.cloud.clone().unwrap_or_else(Cloud::public);
        let pipeline = options
            .resolved_pipeline()
            .map_err(|e| e.with_credential(name))?;
        Ok(Self {
            name,
            partition: CachePartition::new(cloud.authority_host(), client_id),
            cache: TokenCache::with_clock(pipeline.clock().clone()),
            tenant,
            client_id: client_id.to_owned(),
            cloud,
            pipeline,
            allowed: options.allowed_tenants.clone(),
            ignore_requested_tenant: options.ignore_requested_tenant,
            cae: options.cae,
        })
    }

    /// The base form: `client_id`, `grant_type`, `scope`, and `claims` when there are any.
    pub(crate) fn base_form(&self, scope: &str, claims: Option<&str>) -> Form {
        Form::new()
            .field("client_id", self.client_id.as_str())
            .field("grant_type", "client_credentials")
            .field("scope", scope)
            .optional("claims", claims)
    }

    /// Gets a token for `request`: from the cache unless the request carries claims, else by
    /// `fetch` (which receives the target, the scope value and the claims to send), once for
    /// all concurrent callers of the same key.
    pub(crate) async fn get_token<F, Fut>(
        &self,
        request: &TokenRequest,
        fetch: F,
    ) -> Result<AccessToken, Error>
    where
        F: FnOnce(Target, String, Option<String>) -> Fut,
        Fut: Future<Output = Result<AccessToken, Error>>,
    {
        let tenant = self
            .allowed
            .resolve(&self.tenant, request.tenant(), self.ignore_requested_tenant)
            .map_err(|e| e.with_credential(self.name))?;
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
        let target = Target {
            tenant: tenant.clone(),
            url: self.cloud.token_endpoint(tenant),
        };
        let scope = request.scopes().to_form_value();
        let claims = merge_client_capabilities(request.claims(), if cae { &["CP1"] } else { &[] })
            .map_err(|e| e.with_credential(self.name))?;
        let result = if request.claims().is_some() {
            // A claims challenge: bypass the lookup, then replace the rejected token.
            let token = fetch(target, scope, claims).await;
            if let Ok(t) = &token {
                self.cache.insert(&key, t);
            }
            token
        } else {
            self.cache
                .get_or_fetch(&key, || fetch(target, scope, claims))
                .await
        };
        result.map_err(|e| {
            if e.credential().is_some() {
                e
            } else {
                e.with_credential(self.name)
            }
        })
    }

    /// POSTs the form `make_form` builds (once per attempt) to the target's token endpoint.
    pub(crate) async fn post<F>(&self, target: &Target, make_form: F) -> Result<AccessToken, Error>
    where
        F: FnMut() -> Result<Form, Error>,
    {
        tracing::debug!(credential = self.name, tenant = %target.tenant, client_id = %self.client_id, "requesting a token");
        let response = request_token(&self.pipeline, &target.url, make_form).await?;
        Ok(response.access_token)
    }
}
