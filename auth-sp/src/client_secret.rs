//! `ClientSecretCredential`: the app signs in with a client secret (§3.2).

use std::fmt;

use auth_core::{AccessToken, Error, Secret, TokenCredential, TokenFuture, TokenRequest};

use crate::ServicePrincipalOptions;
use crate::flow::Flow;

/// A service principal signing in with a client secret.
///
/// The secret goes only into the `client_secret` form field. It is never read as a file path
/// (SDK v1 treated a secret that named an existing file as a certificate; this crate does not).
pub struct ClientSecretCredential {
    flow: Flow,
    secret: Secret,
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("tenant_id", &self.flow.tenant.as_str())
            .field("client_id", &self.flow.client_id)
            .field("authority_host", &self.flow.cloud.authority_host())
            .finish_non_exhaustive()
    }
}

impl ClientSecretCredential {
    /// The name in errors and logs.
    pub const NAME: &'static str = "client secret credential";

    /// A credential for app `client_id` in `tenant_id` with `secret` (the secret's value, not
    /// its id).
    pub fn new(
        tenant_id: &str,
        client_id: &str,
        secret: Secret,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        if secret.expose_secret().trim().is_empty() {
            return Err(Error::configuration("the client secret is empty").with_credential(Self::NAME));
        }
        Ok(Self {
            flow: Flow::new(Self::NAME, tenant_id, client_id, &options)?,
            secret,
        })
    }

    /// The tenant the credential signs in to.
    pub fn tenant_id(&self) -> &str {
        self.flow.tenant.as_str()
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &str {
        &self.flow.client_id
    }

    /// Gets a token (from the cache when fresh).
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        self.flow
            .get_token(request, |target, scope, claims| async move {
                self.flow
                    .post(&target, || {
                        Ok(self
                            .flow
                            .base_form(&scope, claims.as_deref())
                            .secret("client_secret", &self.secret))
                    })
                    .await
            })
            .await
    }
}

impl TokenCredential for ClientSecretCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(ClientSecretCredential::get_token(self, request))
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}
