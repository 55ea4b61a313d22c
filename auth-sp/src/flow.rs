//! What the three credentials share: their identity and the client credentials POST, around
//! auth-core's [`TokenFlow`] (tenant policy, cache, CAE and claims).

use std::fmt;
use std::future::Future;

use auth_core::entra::{Form, JWT_BEARER_ASSERTION_TYPE, request_token};
use auth_core::{
    AccessToken, CachePartition, Cloud, Error, Pipeline, Secret, TenantId, TenantPolicy,
    TokenCache, TokenFlow, TokenRequest,
};

use crate::ServicePrincipalOptions;

/// The shared state of a service principal credential.
pub(crate) struct Flow {
    pub(crate) tenant: TenantId,
    pub(crate) client_id: String,
    cloud: Cloud,
    pub(crate) pipeline: Pipeline,
    flow: TokenFlow,
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
        let flow = TokenFlow::new(
            name,
            CachePartition::new(cloud.authority_host(), client_id),
            TokenCache::for_pipeline(&pipeline),
            TenantPolicy::new(
                Some(tenant.clone()),
                options.allowed_tenants.clone(),
                options.ignore_requested_tenant,
            ),
            options.cae,
        );
        Ok(Self {
            tenant,
            client_id: client_id.to_owned(),
            cloud,
            pipeline,
            flow,
        })
    }

    /// The start of a credential's `Debug`: tenant, client id and authority host.
    pub(crate) fn debug_struct<'a, 'b>(
        &self,
        f: &'a mut fmt::Formatter<'b>,
        name: &str,
    ) -> fmt::DebugStruct<'a, 'b> {
        let mut d = f.debug_struct(name);
        d.field("tenant_id", &self.tenant.as_str())
            .field("client_id", &self.client_id)
            .field("authority_host", &self.cloud.authority_host());
        d
    }

    /// The base form: `client_id`, `grant_type`, `scope`, and `claims` when there are any.
    fn base_form(&self, scope: &str, claims: Option<&str>) -> Form {
        Form::new()
            .field("client_id", self.client_id.as_str())
            .field("grant_type", "client_credentials")
            .field("scope", scope)
            .optional("claims", claims)
    }

    /// Gets a token for `request`: from the cache unless the request carries claims, else from
    /// the token endpoint, once for all concurrent callers of the same key.
    ///
    /// The credential gives its part of the request: `prepare` runs once per request sent (an
    /// asynchronous assertion callback), and `add` adds the credential's fields to the base form
    /// of every attempt, given the token URL and what `prepare` returned.
    pub(crate) async fn get_token<P, Fut, F>(
        &self,
        request: &TokenRequest,
        prepare: impl FnOnce() -> Fut,
        add: F,
    ) -> Result<AccessToken, Error>
    where
        Fut: Future<Output = Result<P, Error>>,
        F: Fn(Form, &str, &P) -> Result<Form, Error>,
    {
        self.flow
            .get_token(request, |context| async move {
                // Client credentials always name a tenant: the policy has a home tenant.
                let tenant = context.tenant.unwrap_or(&self.tenant);
                let url = self.cloud.token_endpoint(tenant);
                let scope = context.scopes.to_form_value();
                let prepared = prepare().await?;
                tracing::debug!(credential = self.flow.name(), tenant = %tenant, client_id = %self.client_id, "requesting a token");
                let make_form = || add(self.base_form(&scope, context.claims.as_deref()), &url, &prepared);
                Ok(request_token(&self.pipeline, &url, make_form)
                    .await?
                    .access_token)
            })
            .await
    }
}

/// Adds the client assertion fields (certificate and federated credentials).
pub(crate) fn with_assertion(form: Form, assertion: &Secret) -> Form {
    form.field("client_assertion_type", JWT_BEARER_ASSERTION_TYPE)
        .secret("client_assertion", assertion)
}
