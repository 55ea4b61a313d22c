//! `AzureCliCredential`: tokens of the `az login` session.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{
    AccessToken, AllowedTenants, CachePartition, Clock, Env, Error, ErrorKind, ProcessEnv,
    SystemClock, TenantId, TenantPolicy, TokenCache, TokenCredential, TokenFlow, TokenFuture,
    TokenRequest,
};

use crate::args;
use crate::output::{self, AzAccount};
use crate::process::{self, RunError};

/// How long az may take by default (its cold start takes 1–13 s on a slow machine).
pub const DEFAULT_AZ_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of [`AzureCliCredential`].
#[derive(Clone)]
pub struct AzureCliOptions {
    tenant: Option<String>,
    subscription: Option<String>,
    allowed_tenants: AllowedTenants,
    ignore_requested_tenant: bool,
    timeout: Duration,
    env: Arc<dyn Env>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for AzureCliOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureCliOptions")
            .field("tenant", &self.tenant)
            .field("subscription", &self.subscription)
            .field("allowed_tenants", &self.allowed_tenants)
            .field("ignore_requested_tenant", &self.ignore_requested_tenant)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for AzureCliOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl AzureCliOptions {
    /// az's default tenant and subscription, a 30 s timeout, the process environment.
    pub fn new() -> Self {
        Self {
            tenant: None,
            subscription: None,
            allowed_tenants: AllowedTenants::default(),
            ignore_requested_tenant: false,
            timeout: DEFAULT_AZ_TIMEOUT,
            env: Arc::new(ProcessEnv),
            clock: Arc::new(SystemClock),
        }
    }

    /// Tokens for `tenant` (`--tenant`) instead of az's default; a request may name another
    /// only if [`AzureCliOptions::additionally_allowed_tenants`] allows it.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// `--subscription`: the tenant of this subscription instead of the default one's.
    pub fn subscription(mut self, subscription: impl Into<String>) -> Self {
        self.subscription = Some(subscription.into());
        self
    }

    /// Tenants (or `*`) a request may name besides [`AzureCliOptions::tenant`].
    pub fn additionally_allowed_tenants<I, S>(mut self, tenants: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.allowed_tenants = AllowedTenants::new(tenants)?;
        Ok(self)
    }

    /// Always use the configured tenant, whatever a request names (also when the environment
    /// sets `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH` to true).
    pub fn ignore_requested_tenant(mut self, ignore: bool) -> Self {
        self.ignore_requested_tenant = ignore;
        self
    }

    /// How long az may take before it is killed (default [`DEFAULT_AZ_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Where `PATH` (and on Windows `SYSTEMROOT`) are read; az itself inherits the process
    /// environment.
    pub fn env(mut self, env: Arc<dyn Env>) -> Self {
        self.env = env;
        self
    }

    /// The clock token lifetimes are measured on.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// Reuses the session of `az login`: runs `az account get-access-token` (no shell, validated
/// arguments, stdin closed, from `/bin`, killed at the timeout) and caches its token, so az
/// runs at most once per token lifetime per (tenant, scope), however many callers ask at once.
///
/// ```no_run
/// use auth_cli::{AzureCliCredential, AzureCliOptions};
/// use auth_core::TokenRequest;
/// # async fn demo() -> Result<(), auth_core::Error> {
/// let az = AzureCliCredential::new(AzureCliOptions::new())?;
/// let token = az.get_token(&TokenRequest::for_resource("https://ml.azure.com")?).await?;
/// let account = az.account().await?; // `az account show`: default subscription and tenant
/// println!("{} in {}", account.subscription_id, account.tenant_id);
/// # drop(token); Ok(()) }
/// ```
pub struct AzureCliCredential {
    flow: TokenFlow,
    subscription: Option<String>,
    timeout: Duration,
    env: Arc<dyn Env>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for AzureCliCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureCliCredential")
            .field("tenant", &self.flow.tenants().home().map(TenantId::as_str))
            .field("subscription", &self.subscription)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl AzureCliCredential {
    /// The name errors and logs use.
    pub const NAME: &'static str = "azure cli credential";

    /// A credential as `options` say; the tenant and subscription are checked here.
    pub fn new(options: AzureCliOptions) -> Result<Self, Error> {
        let named = |e: Error| e.with_credential(Self::NAME);
        let tenant = match &options.tenant {
            Some(t) => {
                args::check_tenant(t).map_err(named)?;
                Some(TenantId::new(t).map_err(named)?)
            }
            None => None,
        };
        if let Some(s) = &options.subscription {
            args::check_subscription(s).map_err(named)?;
        }
        let partition =
            CachePartition::new("azure-cli", options.subscription.as_deref().unwrap_or(""));
        let cache = TokenCache::with_clock(options.clock.clone());
        // As the other flows: AZURE_IDENTITY_DISABLE_MULTITENANTAUTH pins the tenant too.
        let pinned = auth_core::env_flag(&*options.env, "AZURE_IDENTITY_DISABLE_MULTITENANTAUTH")
            .map_err(named)?
            == Some(true);
        let tenants = TenantPolicy::new(
            tenant,
            options.allowed_tenants,
            options.ignore_requested_tenant || pinned,
        );
        Ok(Self {
            flow: TokenFlow::new(Self::NAME, partition, cache, tenants, false),
            subscription: options.subscription,
            timeout: options.timeout,
            env: options.env,
            clock: options.clock,
        })
    }

    /// Gets a token: from the cache when fresh, else from one run of az shared by every
    /// concurrent caller. A claims challenge cannot be answered by az: it is an unavailable
    /// error whose hint is the `az login --claims-challenge` to run.
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        self.flow
            .get_token(request, |context| async move {
                let tenant = context.tenant;
                if let Some(claims) = request.claims() {
                    return Err(claims_error(claims, tenant, request));
                }
                let args =
                    args::get_access_token(context.scopes, tenant, self.subscription.as_deref())?;
                let out = self.run(&args, tenant.map(TenantId::as_str)).await?;
                output::token(&out.stdout, self.clock.now(), &jiff::tz::TimeZone::system())
            })
            .await
    }

    /// `az account show`: the default subscription and tenant of the login.
    pub async fn account(&self) -> Result<AzAccount, Error> {
        let out = self
            .run(&args::account_show(), None)
            .await
            .map_err(|e| auth_core::flow::named(e, Self::NAME))?;
        output::account(&out.stdout).map_err(|e| e.with_credential(Self::NAME))
    }

    /// Runs az with `args`: the output of a zero exit, else the classified failure.
    async fn run(&self, args: &[String], tenant: Option<&str>) -> Result<process::Output, Error> {
        let path = self.env.var("PATH");
        let az = process::find_az(path.as_deref().map(std::ffi::OsStr::new), cfg!(windows))
            .ok_or_else(output::not_found)?;
        let dir: PathBuf = process::working_dir(&*self.env)?;
        tracing::debug!(credential = Self::NAME, az = %az.display(), command = %args[..2].join(" "), "running az");
        match process::run(&az, args, &dir, self.timeout).await {
            Ok(out) if out.status.success() => Ok(out),
            Ok(out) => Err(output::failure(out.status.code(), &out.stderr, tenant)),
            Err(RunError::TimedOut) => Err(Error::unavailable(format!(
                "az took longer than {} s and was stopped",
                self.timeout.as_secs_f64()
            ))
            .with_hint("az may be waiting for a prompt or a slow network: run the same `az account get-access-token` by hand, or raise the timeout (AzureCliOptions::timeout)")),
            Err(RunError::Spawn(e)) => Err(Error::unavailable(format!(
                "could not run {}: {e}",
                az.display()
            ))
            .with_hint("check that az is installed and executable")),
        }
    }
}

fn claims_error(claims: &str, tenant: Option<&TenantId>, request: &TokenRequest) -> Error {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(claims);
    let mut command = format!("az login --claims-challenge {encoded}");
    if let Some(t) = tenant {
        command.push_str(&format!(" --tenant {t}"));
    }
    if let Some(s) = request.scopes().iter().next() {
        command.push_str(&format!(" --scope {}", s.as_str()));
    }
    Error::new(
        ErrorKind::Unavailable,
        "the resource asked for more claims (a Conditional Access challenge), which az cannot answer silently",
    )
    .with_hint(format!("sign in again with them: {command} (az 2.76 or later)"))
    .with_claims(claims)
}

impl TokenCredential for AzureCliCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(self.get_token(request))
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}
