//! `ClientSecretCredential`: the app signs in with a client secret (§3.2).

use std::fmt;
use std::future::ready;

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
        self.flow
            .debug_struct(f, "ClientSecretCredential")
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
            return Err(
                Error::configuration("the client secret is empty").with_credential(Self::NAME)
            );
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
            .get_token(
                request,
                || ready(Ok(())),
                |form, _, ()| Ok(form.secret("client_secret", &self.secret)),
            )
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

#[cfg(test)]
mod tests {
    use auth_core::{ErrorKind, TenantId};

    use super::*;
    use crate::testutil::{OK, fake};

    const SECRET: &str = "s3cret-Value~with+symbols";

    fn credential(
        options: ServicePrincipalOptions,
        status: u16,
        body: &str,
    ) -> (
        ClientSecretCredential,
        std::sync::Arc<std::sync::Mutex<Vec<crate::testutil::Seen>>>,
    ) {
        let (pipeline, seen) = fake(status, body);
        let c = ClientSecretCredential::new(
            "tenant-1",
            "client-1",
            Secret::new(SECRET),
            options.pipeline(pipeline),
        )
        .unwrap();
        (c, seen)
    }

    fn arm() -> TokenRequest {
        TokenRequest::for_resource("https://management.core.windows.net/").unwrap()
    }

    #[tokio::test]
    async fn form_fields_and_cache() {
        let (c, seen) = credential(ServicePrincipalOptions::new(), 200, OK);
        let t = c.get_token(&arm()).await.unwrap();
        assert_eq!(t.token().expose_secret(), "at-1");
        c.get_token(&arm()).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "the second call is a cache hit");
        let r = &seen[0];
        assert_eq!(r.path, "/tenant-1/oauth2/v2.0/token");
        assert_eq!(
            r.names(),
            ["client_id", "grant_type", "scope", "client_secret"]
        );
        assert_eq!(r.field("client_id"), Some("client-1"));
        assert_eq!(r.field("grant_type"), Some("client_credentials"));
        assert_eq!(
            r.field("scope"),
            Some("https://management.core.windows.net//.default")
        );
        assert_eq!(r.field("client_secret"), Some(SECRET));
    }

    #[tokio::test]
    async fn claims_bypass_the_cache_and_cae_declares_cp1() {
        let (c, seen) = credential(ServicePrincipalOptions::new(), 200, OK);
        c.get_token(&arm()).await.unwrap();
        let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;
        c.get_token(&arm().with_claims(challenge)).await.unwrap();
        c.get_token(&arm()).await.unwrap();
        c.get_token(&arm().with_cae(true)).await.unwrap();
        c.get_token(&arm().with_cae(true)).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert_eq!(seen[0].field("claims"), None);
        assert_eq!(seen[1].field("claims"), Some(challenge));
        assert_eq!(
            seen[1].names(),
            [
                "client_id",
                "grant_type",
                "scope",
                "claims",
                "client_secret"
            ]
        );
        assert_eq!(
            seen[2].field("claims"),
            Some(r#"{"access_token":{"xms_cc":{"values":["CP1"]}}}"#)
        );

        let (c, seen) = credential(ServicePrincipalOptions::new().cae(true), 200, OK);
        c.get_token(&arm()).await.unwrap();
        assert!(
            seen.lock().unwrap()[0]
                .field("claims")
                .unwrap()
                .contains("CP1")
        );
    }

    #[tokio::test]
    async fn tenants() {
        let other = TenantId::new("tenant-2").unwrap();
        let (c, seen) = credential(ServicePrincipalOptions::new(), 200, OK);
        let e = c
            .get_token(&arm().with_tenant(other.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration);
        assert_eq!(e.credential(), Some(ClientSecretCredential::NAME));
        assert!(
            e.to_string().contains("additionally allowed tenants"),
            "{e}"
        );
        assert!(seen.lock().unwrap().is_empty());

        let options = ServicePrincipalOptions::new()
            .additionally_allowed_tenants(["tenant-2"])
            .unwrap();
        let (c, seen) = credential(options, 200, OK);
        c.get_token(&arm().with_tenant(other.clone()))
            .await
            .unwrap();
        c.get_token(&arm()).await.unwrap();
        c.get_token(&arm().with_tenant(other)).await.unwrap();
        let paths: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.path.clone())
            .collect();
        assert_eq!(
            paths,
            ["/tenant-2/oauth2/v2.0/token", "/tenant-1/oauth2/v2.0/token"]
        );
    }

    #[tokio::test]
    async fn refusal_names_the_credential_and_hides_the_secret() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t1\r\nCorrelation ID: c1","error_codes":[7000215],"trace_id":"t1","correlation_id":"c1"}"#;
        let (c, _) = credential(ServicePrincipalOptions::new(), 401, body);
        let e = c.get_token(&arm()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(e.hint().unwrap().contains("secret's value"), "{e}");
        let shown = format!("{e} {e:?} {c:?}");
        assert!(shown.starts_with("client secret credential: "), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
    }

    #[test]
    fn construction_and_debug() {
        let (pipeline, _) = fake(200, OK);
        let options = ServicePrincipalOptions::new().pipeline(pipeline);
        let c = ClientSecretCredential::new(
            "tenant-1",
            "client-1",
            Secret::new(SECRET),
            options.clone(),
        )
        .unwrap();
        assert_eq!(
            format!("{c:?}"),
            r#"ClientSecretCredential { tenant_id: "tenant-1", client_id: "client-1", authority_host: "https://login.microsoftonline.com", .. }"#
        );
        let check = |tenant: &str, client: &str, secret: &str, text: &str| {
            let e =
                ClientSecretCredential::new(tenant, client, Secret::new(secret), options.clone())
                    .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Configuration);
            assert!(e.to_string().contains(text), "{e}");
        };
        check("", "c", "s", "tenant id is empty");
        check("a/b", "c", "s", "invalid tenant id");
        check("t", " ", "s", "client id is empty");
        check("t", "c", " ", "client secret is empty");
    }

    #[tokio::test]
    async fn a_secret_that_names_a_file_is_still_a_secret() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/combined.pem");
        let (pipeline, seen) = fake(200, OK);
        let c = ClientSecretCredential::new(
            "t",
            "c",
            Secret::new(path),
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        c.get_token(&arm()).await.unwrap();
        let r = seen.lock().unwrap()[0].clone();
        assert_eq!(r.field("client_secret"), Some(path));
        assert_eq!(r.field("client_assertion"), None);
    }
}
