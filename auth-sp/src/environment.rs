//! Service principal configuration from the environment and from `--sdk-auth` files.
//!
//! # Which variables, in which order
//!
//! Four sources are looked at, in this order; the first one that is *touched* (has at least one
//! of its variables set) decides, and must then be complete:
//!
//! 1. `AZURE_*` (azure-identity's `EnvironmentCredential` and workload identity):
//!    `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`, with `AZURE_CLIENT_SECRET`, else
//!    `AZURE_CLIENT_CERTIFICATE_PATH` (+ `AZURE_CLIENT_CERTIFICATE_PASSWORD`,
//!    `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`), else `AZURE_FEDERATED_TOKEN_FILE`. It is touched
//!    by a credential variable (secret, certificate path or password, token file) only:
//!    `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` alone also serve managed identity and the CLI, so
//!    alone they leave this source unavailable.
//! 2. `AZUREML_SERVICE_PRINCIPAL_TENANT_ID`, `AZUREML_SERVICE_PRINCIPAL_ID`,
//!    `AZUREML_SERVICE_PRINCIPAL_PASSWORD` (what Azure ML SDK v1 reads by itself).
//! 3. `AML_TENANT_ID`, `AML_PRINCIPAL_ID`, `AML_PRINCIPAL_PASS` (the Azure ML docs' names).
//! 4. `AZURE_AUTH_LOCATION`: the path of an `az ad sp create-for-rbac --sdk-auth` file.
//!
//! An empty variable counts as unset. When no source is touched the result is
//! [`ErrorKind::Unavailable`] (a chain moves on); a touched but incomplete source is a
//! [`ErrorKind::Configuration`] error naming the missing variables and every variable looked
//! at. A touched source wins even when a later one is complete: a half-configured `AZURE_*` set
//! is reported, not skipped.
//!
//! Why this order: `AZURE_*` is what every current Azure SDK and CI integration sets, so it
//! wins; `AZUREML_SERVICE_PRINCIPAL_*` is what SDK v1 itself reads, so it comes before the
//! `AML_*` names that only its documentation uses; the sdk-auth file is a deprecated format and
//! comes last. Within `AZURE_*` a secret wins over a certificate, and a certificate over a
//! token file, as in azure-identity. Unlike SDK v1, a secret that names an existing file is
//! never read as a certificate, and `AZUREML_PASSWORD` is not read.
//!
//! Every source also honours `AZURE_AUTHORITY_HOST` (unless the options name a cloud; for an
//! sdk-auth file, its `activeDirectoryEndpointUrl` comes first),
//! `AZURE_ADDITIONALLY_ALLOWED_TENANTS` (`;`-separated, or `*`) and
//! `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH`. Boolean variables
//! (`AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`, `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH`) are
//! parsed strictly: `true` or `1` is true, `false` or `0` is false, anything else is an error.

use std::fmt;
use std::path::{Path, PathBuf};

use auth_core::flow::named;
use auth_core::{
    AccessToken, AllowedTenants, Cloud, Env, Error, ErrorKind, ProcessEnv, Secret, TokenCredential,
    TokenFuture, TokenRequest,
};
use zeroize::Zeroizing;

#[cfg(feature = "certificate")]
use crate::ClientCertificateCredential;
use crate::shared::{ShownPath, at_path, decode_text, env_flag, read_secret_file};
use crate::{ClientAssertionCredential, ClientSecretCredential, ServicePrincipalOptions};

const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
const AZURE_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
const AZURE_CLIENT_CERTIFICATE_PASSWORD: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
const AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: &str = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN";
const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
const AZURE_AUTH_LOCATION: &str = "AZURE_AUTH_LOCATION";

/// A secret-only family of variables: tenant, client id, secret.
struct Family {
    /// The family in errors, such as `AML_*`.
    label: &'static str,
    tenant: &'static str,
    client: &'static str,
    secret: &'static str,
}

const AZUREML: Family = Family {
    label: "AZUREML_SERVICE_PRINCIPAL_*",
    tenant: "AZUREML_SERVICE_PRINCIPAL_TENANT_ID",
    client: "AZUREML_SERVICE_PRINCIPAL_ID",
    secret: "AZUREML_SERVICE_PRINCIPAL_PASSWORD",
};

const AML: Family = Family {
    label: "AML_*",
    tenant: "AML_TENANT_ID",
    client: "AML_PRINCIPAL_ID",
    secret: "AML_PRINCIPAL_PASS",
};

/// Every variable that can select a service principal, in precedence order.
pub const LOOKED_AT: &[&str] = &[
    AZURE_TENANT_ID,
    AZURE_CLIENT_ID,
    AZURE_CLIENT_SECRET,
    AZURE_CLIENT_CERTIFICATE_PATH,
    AZURE_CLIENT_CERTIFICATE_PASSWORD,
    AZURE_FEDERATED_TOKEN_FILE,
    AZUREML.tenant,
    AZUREML.client,
    AZUREML.secret,
    AML.tenant,
    AML.client,
    AML.secret,
    AZURE_AUTH_LOCATION,
];

/// Applies the environment's cloud and tenant settings to `options` where it leaves them open.
pub(crate) fn with_env_defaults(
    env: &dyn Env,
    mut options: ServicePrincipalOptions,
) -> Result<ServicePrincipalOptions, Error> {
    if options.cloud.is_none() {
        options.cloud = Some(Cloud::from_env(env)?);
    }
    if options.allowed_tenants == AllowedTenants::default()
        && let Some(list) = env.var("AZURE_ADDITIONALLY_ALLOWED_TENANTS")
    {
        options.allowed_tenants = AllowedTenants::from_list(&list)?;
    }
    if env_flag(env, "AZURE_IDENTITY_DISABLE_MULTITENANTAUTH")? == Some(true) {
        options.ignore_requested_tenant = true;
    }
    Ok(options)
}

fn missing_error(source: &str, missing: &[&str], looked: &[&str]) -> Error {
    Error::configuration(format!(
        "the {source} service principal variables are incomplete: {} not set (looked at {})",
        missing.join(", "),
        looked.join(", ")
    ))
    .with_hint("set the missing variables, or unset the others")
    .with_credential(EnvironmentCredential::NAME)
}

/// A service principal credential of any of the three kinds, as the environment or an
/// `--sdk-auth` file selects it.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServicePrincipalCredential {
    /// Client secret.
    Secret(ClientSecretCredential),
    /// Certificate.
    #[cfg(feature = "certificate")]
    Certificate(ClientCertificateCredential),
    /// Federated token (assertion file or callback).
    Assertion(ClientAssertionCredential),
}

impl ServicePrincipalCredential {
    /// The credential the environment describes; see the [module documentation](self) for
    /// the variables and their precedence. `Unavailable` when none is set.
    pub fn from_env(env: &dyn Env, options: ServicePrincipalOptions) -> Result<Self, Error> {
        // Nothing that selects a service principal: unavailable, whatever else is set (a bad
        // AZURE_AUTHORITY_HOST is then another credential's business).
        let selects = LOOKED_AT
            .iter()
            .filter(|v| **v != AZURE_TENANT_ID && **v != AZURE_CLIENT_ID)
            .any(|v| env.var(v).is_some());
        if !selects {
            return Err(Error::unavailable(format!(
                "no service principal is configured in the environment (looked at {})",
                LOOKED_AT.join(", ")
            ))
            .with_credential(EnvironmentCredential::NAME));
        }
        let explicit_cloud = options.cloud.is_some();
        let mut options = with_env_defaults(env, options)
            .map_err(|e| e.with_credential(EnvironmentCredential::NAME))?;
        if let Some(c) = Self::from_azure_vars(env, &options)? {
            return Ok(c);
        }
        for family in [&AZUREML, &AML] {
            if let Some(c) = Self::from_family(env, family, &options)? {
                return Ok(c);
            }
        }
        if let Some(path) = env.var(AZURE_AUTH_LOCATION) {
            // The file's activeDirectoryEndpointUrl wins over AZURE_AUTHORITY_HOST.
            let ambient = if explicit_cloud {
                None
            } else {
                options.cloud.take()
            };
            return Self::sdk_auth_file(Path::new(&path), options, ambient);
        }
        Err(Error::unavailable(format!(
            "no service principal is configured in the environment (looked at {})",
            LOOKED_AT.join(", ")
        ))
        .with_credential(EnvironmentCredential::NAME))
    }

    fn from_azure_vars(
        env: &dyn Env,
        options: &ServicePrincipalOptions,
    ) -> Result<Option<Self>, Error> {
        let secret = env.var(AZURE_CLIENT_SECRET);
        let cert = env.var(AZURE_CLIENT_CERTIFICATE_PATH);
        let password = env.var(AZURE_CLIENT_CERTIFICATE_PASSWORD);
        let file = env.var(AZURE_FEDERATED_TOKEN_FILE);
        if secret.is_none() && cert.is_none() && password.is_none() && file.is_none() {
            return Ok(None);
        }
        let looked = [
            AZURE_TENANT_ID,
            AZURE_CLIENT_ID,
            AZURE_CLIENT_SECRET,
            AZURE_CLIENT_CERTIFICATE_PATH,
            AZURE_CLIENT_CERTIFICATE_PASSWORD,
            AZURE_FEDERATED_TOKEN_FILE,
        ];
        let tenant = env.var(AZURE_TENANT_ID);
        let client = env.var(AZURE_CLIENT_ID);
        let mut missing = Vec::new();
        if tenant.is_none() {
            missing.push(AZURE_TENANT_ID);
        }
        if client.is_none() {
            missing.push(AZURE_CLIENT_ID);
        }
        if secret.is_none() && cert.is_none() && file.is_none() {
            missing.push(AZURE_CLIENT_CERTIFICATE_PATH);
        }
        let (Some(tenant), Some(client)) = (tenant, client) else {
            return Err(missing_error("AZURE_*", &missing, &looked));
        };
        if !missing.is_empty() {
            return Err(missing_error("AZURE_*", &missing, &looked));
        }
        let wrap = |e| named(e, EnvironmentCredential::NAME);
        if let Some(secret) = secret {
            tracing::debug!("service principal from AZURE_* variables: client secret");
            return ClientSecretCredential::new(
                &tenant,
                &client,
                Secret::new(secret),
                options.clone(),
            )
            .map(|c| Some(Self::Secret(c)))
            .map_err(wrap);
        }
        if let Some(cert) = cert {
            tracing::debug!("service principal from AZURE_* variables: certificate");
            let send_chain = env_flag(env, AZURE_CLIENT_SEND_CERTIFICATE_CHAIN).map_err(wrap)?;
            let mut options = options.clone();
            if send_chain == Some(true) {
                options.send_certificate_chain = true;
            }
            let password = password.map(Secret::new);
            return Self::certificate(&tenant, &client, cert.into(), password.as_ref(), options)
                .map(Some)
                .map_err(wrap);
        }
        let file = file.unwrap_or_default();
        tracing::debug!("service principal from AZURE_* variables: federated token file");
        ClientAssertionCredential::from_file(&tenant, &client, file, options.clone())
            .map(|c| Some(Self::Assertion(c)))
            .map_err(wrap)
    }

    fn from_family(
        env: &dyn Env,
        family: &Family,
        options: &ServicePrincipalOptions,
    ) -> Result<Option<Self>, Error> {
        let names = [family.tenant, family.client, family.secret];
        let values = names.map(|n| env.var(n));
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = names
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        let [Some(tenant), Some(client), Some(secret)] = values else {
            return Err(missing_error(family.label, &missing, &names));
        };
        tracing::debug!(
            variable = family.secret,
            "service principal from Azure ML variables: client secret"
        );
        ClientSecretCredential::new(&tenant, &client, Secret::new(secret), options.clone())
            .map(|c| Some(Self::Secret(c)))
            .map_err(|e| e.with_credential(EnvironmentCredential::NAME))
    }

    /// The credential an `az ad sp create-for-rbac --sdk-auth` file describes (UTF-8 with or
    /// without a byte-order mark, or UTF-16). `clientId` and `tenantId` with `clientSecret`, or
    /// with `clientCertificate` (a path; relative to the file's folder) and
    /// `clientCertificatePassword`; `activeDirectoryEndpointUrl` sets the authority host unless
    /// the options name a cloud.
    pub fn from_sdk_auth_file(
        path: impl AsRef<Path>,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        Self::sdk_auth_file(path.as_ref(), options, None)
    }

    /// [`Self::from_sdk_auth_file`], with the cloud to use when neither the options nor the
    /// file name one.
    fn sdk_auth_file(
        path: &Path,
        options: ServicePrincipalOptions,
        ambient_cloud: Option<Cloud>,
    ) -> Result<Self, Error> {
        let bytes = read_secret_file(path).map_err(|e| {
            Error::configuration(format!(
                "could not read the sdk-auth file {}: {e}",
                ShownPath(path)
            ))
            .with_hint("check AZURE_AUTH_LOCATION or the path given")
            .with_credential(EnvironmentCredential::NAME)
        })?;
        Self::sdk_auth_json(&bytes, path.parent(), options, ambient_cloud)
            .map_err(|e| at_path(e, path).with_credential(EnvironmentCredential::NAME))
    }

    /// The credential described by the bytes of an sdk-auth file; a relative
    /// `clientCertificate` path is taken relative to `base`.
    pub fn from_sdk_auth_json(
        bytes: &[u8],
        base: Option<&Path>,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        Self::sdk_auth_json(bytes, base, options, None)
    }

    /// The cloud: the options' when they name one, else the file's
    /// `activeDirectoryEndpointUrl` (China and US Government recognised), else `ambient_cloud`.
    fn sdk_auth_json(
        bytes: &[u8],
        base: Option<&Path>,
        mut options: ServicePrincipalOptions,
        ambient_cloud: Option<Cloud>,
    ) -> Result<Self, Error> {
        let sdk = SdkAuth::parse(bytes)?;
        if options.cloud.is_none() {
            options.cloud = match &sdk.active_directory_endpoint_url {
                Some(host) => Some(Cloud::from_authority_host(host)?),
                None => ambient_cloud,
            };
        }
        let mut missing = Vec::new();
        if sdk.tenant_id.is_none() {
            missing.push("tenantId");
        }
        if sdk.client_id.is_none() {
            missing.push("clientId");
        }
        if sdk.client_secret.is_none() && sdk.client_certificate.is_none() {
            missing.push("clientSecret");
        }
        let (Some(tenant), Some(client)) = (&sdk.tenant_id, &sdk.client_id) else {
            return Err(sdk_missing(&missing));
        };
        if !missing.is_empty() {
            return Err(sdk_missing(&missing));
        }
        if let Some(secret) = sdk.client_secret {
            return ClientSecretCredential::new(tenant, client, secret, options).map(Self::Secret);
        }
        let cert = sdk.client_certificate.unwrap_or_default();
        let cert = match base {
            Some(b) if Path::new(&cert).is_relative() => b.join(&cert),
            _ => PathBuf::from(cert),
        };
        Self::certificate(
            tenant,
            client,
            cert,
            sdk.client_certificate_password.as_ref(),
            options,
        )
    }

    /// A certificate credential, or with no `certificate` feature an error saying so.
    fn certificate(
        tenant: &str,
        client: &str,
        path: PathBuf,
        password: Option<&Secret>,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        #[cfg(feature = "certificate")]
        {
            ClientCertificateCredential::from_file(tenant, client, path, password, options)
                .map(Self::Certificate)
        }
        #[cfg(not(feature = "certificate"))]
        {
            let _ = (tenant, client, password, options);
            Err(Error::configuration(format!(
                "a client certificate is configured ({}), but this build has no certificate support",
                ShownPath(&path)
            ))
            .with_hint("enable the `certificate` feature of azureml-auth (or auth-sp), or use a client secret or federated token"))
        }
    }

    /// The credential's name, such as `client secret credential`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Secret(_) => ClientSecretCredential::NAME,
            #[cfg(feature = "certificate")]
            Self::Certificate(_) => ClientCertificateCredential::NAME,
            Self::Assertion(_) => ClientAssertionCredential::NAME,
        }
    }

    /// The tenant the credential signs in to.
    pub fn tenant_id(&self) -> &str {
        match self {
            Self::Secret(c) => c.tenant_id(),
            #[cfg(feature = "certificate")]
            Self::Certificate(c) => c.tenant_id(),
            Self::Assertion(c) => c.tenant_id(),
        }
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Secret(c) => c.client_id(),
            #[cfg(feature = "certificate")]
            Self::Certificate(c) => c.client_id(),
            Self::Assertion(c) => c.client_id(),
        }
    }

    /// Gets a token (from the cache when fresh).
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        match self {
            Self::Secret(c) => c.get_token(request).await,
            #[cfg(feature = "certificate")]
            Self::Certificate(c) => c.get_token(request).await,
            Self::Assertion(c) => c.get_token(request).await,
        }
    }
}

impl TokenCredential for ServicePrincipalCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(ServicePrincipalCredential::get_token(self, request))
    }

    fn name(&self) -> &'static str {
        ServicePrincipalCredential::name(self)
    }
}

fn sdk_missing(missing: &[&str]) -> Error {
    Error::configuration(format!(
        "the sdk-auth file lacks {} (looked at clientId, tenantId, clientSecret, clientCertificate, clientCertificatePassword, activeDirectoryEndpointUrl)",
        missing.join(", ")
    ))
}

/// The members of an sdk-auth file that sign in (the others are ignored).
struct SdkAuth {
    client_id: Option<String>,
    tenant_id: Option<String>,
    client_secret: Option<Secret>,
    client_certificate: Option<String>,
    client_certificate_password: Option<Secret>,
    active_directory_endpoint_url: Option<String>,
}

impl SdkAuth {
    fn parse(bytes: &[u8]) -> Result<Self, Error> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            client_id: Option<String>,
            tenant_id: Option<String>,
            client_secret: Option<String>,
            client_certificate: Option<String>,
            client_certificate_password: Option<String>,
            active_directory_endpoint_url: Option<String>,
        }
        let text = Zeroizing::new(decode_text(bytes).ok_or_else(|| {
            Error::configuration("the sdk-auth file is neither UTF-8 nor UTF-16 text")
        })?);
        let raw: Raw = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
            // The line and column only: serde's message could quote a value.
            Error::configuration(format!(
                "the sdk-auth file is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
            .with_hint("use the JSON that `az ad sp create-for-rbac --sdk-auth` prints")
        })?;
        let some = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        Ok(Self {
            client_id: some(raw.client_id),
            tenant_id: some(raw.tenant_id),
            client_secret: some(raw.client_secret).map(Secret::new),
            client_certificate: some(raw.client_certificate),
            client_certificate_password: some(raw.client_certificate_password).map(Secret::new),
            active_directory_endpoint_url: some(raw.active_directory_endpoint_url),
        })
    }
}

/// The service principal of the process environment, for a credential chain.
///
/// Construction never fails: when the environment names no service principal, every
/// `get_token` fails with [`ErrorKind::Unavailable`] (a chain moves on); when it names one
/// incompletely or wrongly, with the configuration error (a chain stops). See the
/// [module documentation](self) for the variables and their precedence.
pub struct EnvironmentCredential {
    inner: Result<ServicePrincipalCredential, Error>,
}

impl fmt::Debug for EnvironmentCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Ok(c) => f.debug_tuple("EnvironmentCredential").field(c).finish(),
            Err(e) => f
                .debug_struct("EnvironmentCredential")
                .field("unusable", &e.kind())
                .finish(),
        }
    }
}

impl EnvironmentCredential {
    /// The name in errors and logs.
    pub const NAME: &'static str = "environment credential";

    /// From the process environment.
    pub fn new(options: ServicePrincipalOptions) -> Self {
        Self::from_env(&ProcessEnv, options)
    }

    /// From `env`.
    pub fn from_env(env: &dyn Env, options: ServicePrincipalOptions) -> Self {
        Self {
            inner: ServicePrincipalCredential::from_env(env, options),
        }
    }

    /// The credential selected, or why there is none.
    pub fn credential(&self) -> Result<&ServicePrincipalCredential, &Error> {
        self.inner.as_ref()
    }

    /// Whether the environment configures a service principal at all.
    pub fn is_available(&self) -> bool {
        !matches!(&self.inner, Err(e) if e.kind() == ErrorKind::Unavailable)
    }

    /// Gets a token from the selected credential, or fails with why there is none.
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        match &self.inner {
            Ok(c) => c.get_token(request).await,
            Err(e) => Err(e.clone()),
        }
    }
}

impl TokenCredential for EnvironmentCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(EnvironmentCredential::get_token(self, request))
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The password of the encrypted test fixtures.
    const PASSWORD: &str = "fixture-password";
    use crate::testutil::{OK, env, fake};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn options() -> ServicePrincipalOptions {
        ServicePrincipalOptions::new().pipeline(fake(200, OK).0)
    }

    fn describe(r: Result<ServicePrincipalCredential, Error>) -> String {
        match r {
            Ok(c) => format!("{} {} {} | {c:?}", c.name(), c.tenant_id(), c.client_id()),
            Err(e) => format!("{}: {e}", e.kind()),
        }
    }

    /// The credential `pairs` select, described, contains every one of `expected`.
    fn check(pairs: &[(&str, &str)], expected: &[&str]) {
        let shown = describe(ServicePrincipalCredential::from_env(&env(pairs), options()));
        for text in expected {
            assert!(shown.contains(text), "{pairs:?}:\n{shown}\nlacks {text:?}");
        }
        for (k, v) in pairs {
            if (k.contains("SECRET") || k.contains("PASS")) && !v.is_empty() {
                assert!(!shown.contains(v), "{shown} shows {k}");
            }
        }
    }

    #[cfg(feature = "certificate")]
    #[test]
    fn environment_matrix() {
        let cert = format!("{FIXTURES}/combined.pem");
        let p12 = format!("{FIXTURES}/cert.p12");
        let token_file = format!("{FIXTURES}/README.md");
        // Nothing set, or only variables other credentials share: unavailable.
        check(
            &[],
            &[
                "unavailable: environment credential: no service principal is configured",
                "AZURE_TENANT_ID",
                "AML_PRINCIPAL_PASS",
                "AZURE_AUTH_LOCATION",
            ],
        );
        check(&[("AZURE_CLIENT_ID", "c")], &["unavailable"]);
        check(
            &[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c")],
            &["unavailable"],
        );
        check(&[("AZURE_CLIENT_SECRET", "")], &["unavailable"]);
        check(
            &[("AZURE_AUTHORITY_HOST", "http://evil.example")],
            &["unavailable"],
        );
        check(
            &[("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "maybe")],
            &["unavailable"],
        );
        check(
            &[("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true")],
            &["unavailable"],
        );
        // AZURE_*: secret, then certificate, then token file.
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", "sek"),
            ],
            &["client secret credential t c", "login.microsoftonline.com"],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", "sek"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", &cert),
            ],
            &["client secret credential"],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", &cert),
            ],
            &[
                "client certificate credential t c",
                "thumbprint: \"4836FA6D",
                "send_certificate_chain: false",
            ],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", &p12),
                ("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD),
                ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "1"),
            ],
            &[
                "client certificate credential",
                "send_certificate_chain: true",
            ],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", &cert),
                ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "false"),
            ],
            &["send_certificate_chain: false"],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", &cert),
                ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "yes"),
            ],
            &[
                "configuration: environment credential: AZURE_CLIENT_SEND_CERTIFICATE_CHAIN is \"yes\"",
            ],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", &p12),
                ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "wr0ng-pass"),
            ],
            &[
                "configuration: client certificate credential: could not read the PKCS#12 file",
                "cert.p12",
            ],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent.pem"),
            ],
            &["configuration", "/nonexistent.pem"],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_FEDERATED_TOKEN_FILE", &token_file),
            ],
            &["client assertion credential t c", "README.md"],
        );
        // AZURE_* partial: a configuration error naming what is missing and what was looked at.
        check(
            &[("AZURE_CLIENT_SECRET", "sek")],
            &[
                "configuration: environment credential: the AZURE_* service principal variables are incomplete: AZURE_TENANT_ID, AZURE_CLIENT_ID not set (looked at AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_FEDERATED_TOKEN_FILE)",
            ],
        );
        check(
            &[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_SECRET", "sek")],
            &["configuration", "AZURE_CLIENT_ID not set"],
        );
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw"),
            ],
            &["configuration", "AZURE_CLIENT_CERTIFICATE_PATH not set"],
        );
        check(
            &[
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_FEDERATED_TOKEN_FILE", &token_file),
            ],
            &["configuration", "AZURE_TENANT_ID not set"],
        );
        // Azure ML forms.
        check(
            &[
                ("AZUREML_SERVICE_PRINCIPAL_TENANT_ID", "t2"),
                ("AZUREML_SERVICE_PRINCIPAL_ID", "c2"),
                ("AZUREML_SERVICE_PRINCIPAL_PASSWORD", "sek2"),
            ],
            &["client secret credential t2 c2"],
        );
        check(
            &[
                ("AML_TENANT_ID", "t3"),
                ("AML_PRINCIPAL_ID", "c3"),
                ("AML_PRINCIPAL_PASS", "sek3"),
            ],
            &["client secret credential t3 c3"],
        );
        check(
            &[("AZUREML_SERVICE_PRINCIPAL_ID", "c2")],
            &[
                "configuration: environment credential: the AZUREML_SERVICE_PRINCIPAL_* service principal variables are incomplete: AZUREML_SERVICE_PRINCIPAL_TENANT_ID, AZUREML_SERVICE_PRINCIPAL_PASSWORD not set (looked at AZUREML_SERVICE_PRINCIPAL_TENANT_ID, AZUREML_SERVICE_PRINCIPAL_ID, AZUREML_SERVICE_PRINCIPAL_PASSWORD)",
            ],
        );
        check(
            &[("AML_PRINCIPAL_PASS", "sek3")],
            &["configuration", "AML_TENANT_ID, AML_PRINCIPAL_ID not set"],
        );
        // Precedence: AZURE_* > AZUREML_SERVICE_PRINCIPAL_* > AML_* > AZURE_AUTH_LOCATION.
        let all = [
            ("AZURE_TENANT_ID", "t1"),
            ("AZURE_CLIENT_ID", "c1"),
            ("AZURE_CLIENT_SECRET", "sek1"),
            ("AZUREML_SERVICE_PRINCIPAL_TENANT_ID", "t2"),
            ("AZUREML_SERVICE_PRINCIPAL_ID", "c2"),
            ("AZUREML_SERVICE_PRINCIPAL_PASSWORD", "sek2"),
            ("AML_TENANT_ID", "t3"),
            ("AML_PRINCIPAL_ID", "c3"),
            ("AML_PRINCIPAL_PASS", "sek3"),
            ("AZURE_AUTH_LOCATION", "/nonexistent.json"),
        ];
        check(&all, &["client secret credential t1 c1"]);
        check(&all[3..], &["client secret credential t2 c2"]);
        check(&all[6..], &["client secret credential t3 c3"]);
        check(
            &all[9..],
            &[
                "configuration",
                "could not read the sdk-auth file /nonexistent.json",
            ],
        );
        // A touched source wins over a complete later one.
        check(
            &[("AZURE_CLIENT_SECRET", "sek1"), all[3], all[4], all[5]],
            &[
                "configuration",
                "AZURE_* service principal variables are incomplete",
            ],
        );
        // AZURE_TENANT_ID/AZURE_CLIENT_ID alone do not hide the Azure ML forms.
        check(
            &[all[0], all[1], all[6], all[7], all[8]],
            &["client secret credential t3 c3"],
        );
        // Cloud and tenant settings.
        check(
            &[
                all[6],
                all[7],
                all[8],
                ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
            ],
            &["https://login.microsoftonline.us"],
        );
        check(
            &[
                all[6],
                all[7],
                all[8],
                ("AZURE_AUTHORITY_HOST", "http://evil.example"),
            ],
            &["configuration"],
        );
        check(
            &[
                all[6],
                all[7],
                all[8],
                ("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "maybe"),
            ],
            &["configuration", "AZURE_IDENTITY_DISABLE_MULTITENANTAUTH"],
        );
    }

    fn utf16le_bom(s: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    fn check_sdk(bytes: &[u8], expected: &[&str]) {
        let base = Path::new(FIXTURES);
        let shown = describe(ServicePrincipalCredential::from_sdk_auth_json(
            bytes,
            Some(base),
            options(),
        ));
        for text in expected {
            assert!(shown.contains(text), "{shown}\nlacks {text:?}");
        }
        assert!(!shown.contains("sdk-sekrit"), "{shown}");
        assert!(!shown.contains(PASSWORD), "{shown}");
    }

    const SDK_AUTH: &str = r#"{
  "clientId": "c-sdk",
  "clientSecret": "sdk-sekrit",
  "subscriptionId": "00000000-0000-0000-0000-000000000000",
  "tenantId": "t-sdk",
  "activeDirectoryEndpointUrl": "https://login.chinacloudapi.cn",
  "resourceManagerEndpointUrl": "https://management.chinacloudapi.cn/",
  "activeDirectoryGraphResourceId": "https://graph.chinacloudapi.cn/",
  "sqlManagementEndpointUrl": "https://management.core.chinacloudapi.cn:8443/",
  "galleryEndpointUrl": "https://gallery.chinacloudapi.cn/",
  "managementEndpointUrl": "https://management.core.chinacloudapi.cn/"
}"#;

    #[cfg(not(feature = "certificate"))]
    #[test]
    fn without_the_certificate_feature_a_certificate_is_a_clear_error() {
        let cert = format!("{FIXTURES}/combined.pem");
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", &cert),
            ],
            &[
                "configuration: environment credential: a client certificate is configured (",
                "combined.pem), but this build has no certificate support; enable the `certificate` feature",
            ],
        );
        check_sdk(
            br#"{"clientId":"c","tenantId":"t","clientCertificate":"cert.p12"}"#,
            &["this build has no certificate support"],
        );
        // A secret needs no certificate code.
        check(
            &[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", "a-long-secret"),
            ],
            &["client secret credential t c"],
        );
    }

    #[cfg(feature = "certificate")]
    #[test]
    fn sdk_auth_files() {
        check_sdk(
            SDK_AUTH.as_bytes(),
            &[
                "client secret credential t-sdk c-sdk",
                "https://login.chinacloudapi.cn",
            ],
        );
        check_sdk(
            &[&[0xEF, 0xBB, 0xBF][..], SDK_AUTH.as_bytes()].concat(),
            &["client secret credential t-sdk"],
        );
        check_sdk(
            &utf16le_bom(SDK_AUTH),
            &["client secret credential t-sdk c-sdk"],
        );
        check_sdk(br#"{"clientId":"c","tenantId":"t","clientCertificate":"cert.p12","clientCertificatePassword":"fixture-password"}"#, &["client certificate credential t c", "4836FA6D"]);
        check_sdk(
            br#"{"clientId":"c","clientSecret":"sdk-sekrit"}"#,
            &["configuration: the sdk-auth file lacks tenantId"],
        );
        check_sdk(
            br#"{"clientId":"c","tenantId":""}"#,
            &["configuration: the sdk-auth file lacks tenantId, clientSecret"],
        );
        check_sdk(
            br#"{"clientId":"c","clientSecret":"sdk-sekrit""#,
            &["configuration: the sdk-auth file is not valid JSON (line 1"],
        );
        check_sdk(
            br#"{"clientId":1,"clientSecret":"sdk-sekrit"}"#,
            &["not valid JSON"],
        );
        check_sdk(&[0xFF, 0xFE, 0x41], &["neither UTF-8 nor UTF-16"]);
        check_sdk(br#"{"clientId":"c","tenantId":"t","clientSecret":"sdk-sekrit","activeDirectoryEndpointUrl":"http://example"}"#, &["configuration"]);
    }

    #[test]
    fn sdk_auth_from_file_and_auth_location() {
        let dir = std::env::temp_dir().join(format!("auth-sp-sdk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("azure.json");
        std::fs::write(&path, utf16le_bom(SDK_AUTH)).unwrap();
        let p = path.to_str().unwrap();
        check(
            &[("AZURE_AUTH_LOCATION", p)],
            &[
                "client secret credential t-sdk c-sdk",
                "https://login.chinacloudapi.cn",
            ],
        );
        // The file's authority host wins over AZURE_AUTHORITY_HOST.
        check(
            &[
                ("AZURE_AUTH_LOCATION", p),
                ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
            ],
            &["https://login.chinacloudapi.cn"],
        );
        // Without an endpoint in the file, AZURE_AUTHORITY_HOST decides.
        std::fs::write(
            &path,
            br#"{"clientId":"c","tenantId":"t","clientSecret":"sdk-sekrit"}"#,
        )
        .unwrap();
        check(
            &[
                ("AZURE_AUTH_LOCATION", p),
                ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
            ],
            &["https://login.microsoftonline.us"],
        );
        // A bad endpoint in the file is the same error as through from_sdk_auth_file.
        std::fs::write(&path, br#"{"clientId":"c","tenantId":"t","clientSecret":"sdk-sekrit","activeDirectoryEndpointUrl":"http://example"}"#).unwrap();
        check(
            &[("AZURE_AUTH_LOCATION", p)],
            &["configuration", "azure.json"],
        );
        std::fs::write(&path, b"{").unwrap();
        check(
            &[("AZURE_AUTH_LOCATION", p)],
            &[
                "configuration: environment credential: the sdk-auth file is not valid JSON",
                "azure.json",
            ],
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn environment_credential_for_a_chain() {
        let request = TokenRequest::for_resource("https://ml.azure.com").unwrap();
        let c = EnvironmentCredential::from_env(&env(&[]), options());
        assert!(!c.is_available());
        assert_eq!(
            c.get_token(&request).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(
            format!("{c:?}"),
            "EnvironmentCredential { unusable: Unavailable }"
        );
        let c = EnvironmentCredential::from_env(&env(&[("AML_TENANT_ID", "t")]), options());
        assert!(c.is_available());
        assert_eq!(
            c.get_token(&request).await.unwrap_err().kind(),
            ErrorKind::Configuration
        );
        let c = EnvironmentCredential::from_env(
            &env(&[
                ("AML_TENANT_ID", "t"),
                ("AML_PRINCIPAL_ID", "c"),
                ("AML_PRINCIPAL_PASS", "sek"),
            ]),
            options(),
        );
        assert_eq!(
            c.get_token(&request).await.unwrap().token().expose_secret(),
            "at-1"
        );
        assert_eq!(
            format!("{c:?}"),
            r#"EnvironmentCredential(Secret(ClientSecretCredential { tenant_id: "t", client_id: "c", authority_host: "https://login.microsoftonline.com", .. }))"#
        );
        assert_eq!(TokenCredential::name(&c), "environment credential");
    }
}

#[cfg(test)]
mod content_in_path_tests {
    use super::*;
    use crate::testutil::{env, fake};

    const KEY_BODY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    const SECRET: &str = "sdk-auth-Secret~Value";
    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJl";

    fn options() -> ServicePrincipalOptions {
        ServicePrincipalOptions::new().pipeline(fake(200, crate::testutil::OK).0)
    }

    /// A variable meant to hold a path that holds the file's content instead (a CI secret
    /// pasted into the wrong variable) must not be quoted in errors or `Debug`.
    #[tokio::test]
    async fn file_content_in_a_path_variable_is_not_shown() {
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n");
        let sdk_auth =
            format!(r#"{{"clientId": "c", "clientSecret": "{SECRET}", "tenantId": "t"}}"#);
        let cases: [(&str, &str, &str); 4] = [
            ("AZURE_CLIENT_CERTIFICATE_PATH", &pem, KEY_BODY),
            (
                "AZURE_CLIENT_CERTIFICATE_PATH",
                "MIIKYQIBAzCCCicGCSqGSIb3DQEHAaCCChgEggoUMIIKEDCC",
                "MIIKYQIBAzCCCicG",
            ),
            ("AZURE_AUTH_LOCATION", &sdk_auth, SECRET),
            ("AZURE_FEDERATED_TOKEN_FILE", JWT, JWT),
        ];
        for (var, value, secret) in cases {
            let mut pairs = vec![(var, value)];
            if var != "AZURE_AUTH_LOCATION" {
                pairs.extend([("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c")]);
            }
            let shown = match ServicePrincipalCredential::from_env(&env(&pairs), options()) {
                Err(e) => format!("{e} {e:?}"),
                Ok(c) => {
                    let request = TokenRequest::for_resource("https://ml.azure.com").unwrap();
                    let e = c.get_token(&request).await.unwrap_err();
                    format!("{c:?} {e} {e:?}")
                }
            };
            assert!(!shown.contains(secret), "{var}: {shown}");
            assert!(
                shown.contains("not its path") || shown.contains("not a path"),
                "{var}: {shown}"
            );
        }
    }

    /// A path variable naming a device that never ends fails at once instead of reading
    /// forever (the token file is read on every request that reaches the service).
    #[cfg(unix)]
    #[tokio::test]
    async fn endless_files_fail_fast() {
        for var in [
            #[cfg(feature = "certificate")]
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_FEDERATED_TOKEN_FILE",
            "AZURE_AUTH_LOCATION",
        ] {
            let pairs = [
                (var, "/dev/zero"),
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
            ];
            let e = match ServicePrincipalCredential::from_env(&env(&pairs), options()) {
                Err(e) => e,
                Ok(c) => {
                    let request = TokenRequest::for_resource("https://ml.azure.com").unwrap();
                    c.get_token(&request).await.unwrap_err()
                }
            };
            assert_eq!(e.kind(), ErrorKind::Configuration, "{var}: {e}");
            assert!(e.to_string().contains("larger than"), "{var}: {e}");
        }
    }
}

#[cfg(test)]
mod tenant_env_tests {
    use auth_core::TenantId;

    use super::*;
    use crate::testutil::{OK, env, fake};

    /// With `pairs` (plus an AML_* service principal in tenant `home`), a request for tenant
    /// `other` goes to `expected` (a tenant, or `refused`).
    async fn check(pairs: &[(&str, &str)], expected: &str) {
        let mut all = vec![
            ("AML_TENANT_ID", "home"),
            ("AML_PRINCIPAL_ID", "c"),
            ("AML_PRINCIPAL_PASS", "s"),
        ];
        all.extend_from_slice(pairs);
        let (pipeline, seen) = fake(200, OK);
        let c = ServicePrincipalCredential::from_env(
            &env(&all),
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        let request = TokenRequest::for_resource("https://ml.azure.com")
            .unwrap()
            .with_tenant(TenantId::new("other").unwrap());
        let got = match c.get_token(&request).await {
            Ok(_) => seen.lock().unwrap()[0]
                .path
                .split('/')
                .nth(1)
                .unwrap()
                .to_owned(),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Configuration);
                "refused".to_owned()
            }
        };
        assert_eq!(got, expected, "{pairs:?}");
    }

    #[tokio::test]
    async fn additionally_allowed_tenants_from_env() {
        check(&[], "refused").await;
        check(
            &[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "x;other")],
            "other",
        )
        .await;
        check(&[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "*")], "other").await;
        check(&[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "x")], "refused").await;
        check(
            &[
                ("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "*"),
                ("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "true"),
            ],
            "home",
        )
        .await;
        check(&[("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "1")], "home").await;
        check(
            &[("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "0")],
            "refused",
        )
        .await;
    }
}
