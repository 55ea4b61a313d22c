//! Options shared by every service principal credential.

use std::fmt;

use auth_core::{Cloud, Error, Pipeline};

use auth_core::AllowedTenants;

/// Options of every service principal credential: cloud, transport, tenants, certificate
/// assertion form, CAE.
///
/// Build it by value and pass it to a constructor:
///
/// ```
/// use auth_sp::ServicePrincipalOptions;
/// let options = ServicePrincipalOptions::new()
///     .cloud(auth_core::Cloud::us_government())
///     .additionally_allowed_tenants(["contoso.onmicrosoft.com"])?;
/// # Ok::<(), auth_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ServicePrincipalOptions {
    pub(crate) cloud: Option<Cloud>,
    pub(crate) pipeline: Option<Pipeline>,
    pub(crate) allowed_tenants: AllowedTenants,
    pub(crate) ignore_requested_tenant: bool,
    pub(crate) send_certificate_chain: bool,
    pub(crate) legacy_assertion: bool,
    pub(crate) cae: bool,
}

impl fmt::Debug for ServicePrincipalOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServicePrincipalOptions")
            .field("cloud", &self.cloud.as_ref().map(Cloud::name))
            .field(
                "authority_host",
                &self.cloud.as_ref().map(Cloud::authority_host),
            )
            .field("pipeline", &self.pipeline)
            .field("additionally_allowed_tenants", &self.allowed_tenants)
            .field("ignore_requested_tenant", &self.ignore_requested_tenant)
            .field("send_certificate_chain", &self.send_certificate_chain)
            .field("legacy_assertion", &self.legacy_assertion)
            .field("cae", &self.cae)
            .finish()
    }
}

impl ServicePrincipalOptions {
    /// The defaults: the public cloud (or, for the environment constructors, the cloud of
    /// `AZURE_AUTHORITY_HOST`), the shared pipeline (feature `reqwest`), no other tenant, the
    /// current assertion form (PS256, `x5t#S256`) without the chain, CAE off.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs in to `cloud` (its authority host).
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// Signs in at another authority host (as `AZURE_AUTHORITY_HOST` gives it), keeping the
    /// cloud chosen so far (public by default).
    pub fn authority_host(mut self, host: &str) -> Result<Self, Error> {
        let cloud = self.cloud.take().unwrap_or_else(Cloud::public);
        self.cloud = Some(cloud.with_authority_host(host)?);
        Ok(self)
    }

    /// Sends requests through `pipeline` (transport, timeouts, retries, clock). Without the
    /// `reqwest` feature this is required.
    pub fn pipeline(mut self, pipeline: Pipeline) -> Self {
        self.pipeline = Some(pipeline);
        self
    }

    /// Tenants besides its own that a request may name ([`auth_core::TokenRequest::with_tenant`]);
    /// `"*"` allows any tenant. A request naming another tenant fails with a configuration
    /// error.
    pub fn additionally_allowed_tenants<I, S>(mut self, tenants: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.allowed_tenants = AllowedTenants::new(tenants)?;
        Ok(self)
    }

    /// Ignores the tenant a request names and always uses the credential's own
    /// (`AZURE_IDENTITY_DISABLE_MULTITENANTAUTH`).
    pub fn ignore_requested_tenant(mut self, ignore: bool) -> Self {
        self.ignore_requested_tenant = ignore;
        self
    }

    /// Certificate credentials: send the certificate chain (`x5c`) in the assertion header, as
    /// subject name + issuer authentication needs.
    pub fn send_certificate_chain(mut self, send: bool) -> Self {
        self.send_certificate_chain = send;
        self
    }

    /// Certificate credentials: sign the legacy assertion form (RS256 with a SHA-1 `x5t`)
    /// instead of the current one (PS256 with `x5t#S256`), for authorities that need it.
    pub fn legacy_assertion(mut self, legacy: bool) -> Self {
        self.legacy_assertion = legacy;
        self
    }

    /// Declares client capability `cp1` (continuous access evaluation) on every request, not
    /// only on those that ask for it with [`auth_core::TokenRequest::with_cae`].
    pub fn cae(mut self, enable: bool) -> Self {
        self.cae = enable;
        self
    }

    pub(crate) fn resolved_pipeline(&self) -> Result<Pipeline, Error> {
        if let Some(p) = &self.pipeline {
            return Ok(p.clone());
        }
        default_pipeline()
    }
}

#[cfg(feature = "reqwest")]
fn default_pipeline() -> Result<Pipeline, Error> {
    Ok(Pipeline::shared())
}

#[cfg(not(feature = "reqwest"))]
fn default_pipeline() -> Result<Pipeline, Error> {
    Err(Error::configuration(
        "no HTTP pipeline was given and the reqwest feature of auth-sp is off",
    )
    .with_hint("pass one with ServicePrincipalOptions::pipeline, or enable the reqwest feature"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "reqwest"))]
    #[test]
    fn without_the_reqwest_feature_a_pipeline_is_required() {
        let e = ServicePrincipalOptions::new()
            .resolved_pipeline()
            .unwrap_err();
        assert_eq!(e.kind(), auth_core::ErrorKind::Configuration);
        assert!(e.to_string().contains("reqwest feature"), "{e}");
        let e = crate::ClientSecretCredential::new(
            "t",
            "c",
            auth_core::Secret::new("s"),
            ServicePrincipalOptions::new(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("client secret credential: no HTTP pipeline"),
            "{e}"
        );
    }

    #[cfg(feature = "reqwest")]
    #[test]
    fn with_the_reqwest_feature_the_shared_pipeline_is_the_default() {
        assert!(ServicePrincipalOptions::new().resolved_pipeline().is_ok());
    }

    #[test]
    fn debug_and_builders() {
        let o = ServicePrincipalOptions::new()
            .authority_host("login.microsoftonline.us/")
            .unwrap()
            .additionally_allowed_tenants(["t2", "*"])
            .unwrap()
            .send_certificate_chain(true)
            .legacy_assertion(true)
            .cae(true);
        assert_eq!(
            format!("{o:?}"),
            r#"ServicePrincipalOptions { cloud: Some("AzureCloud"), authority_host: Some("https://login.microsoftonline.us"), pipeline: None, additionally_allowed_tenants: ["*"], ignore_requested_tenant: false, send_certificate_chain: true, legacy_assertion: true, cae: true }"#
        );
        assert!(
            ServicePrincipalOptions::new()
                .authority_host("http://login.example")
                .is_err()
        );
        assert!(
            ServicePrincipalOptions::new()
                .additionally_allowed_tenants(["a b"])
                .is_err()
        );
    }
}
