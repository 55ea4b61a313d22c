//! Options of both user credentials, the browser seam and the device code prompt.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{AllowedTenants, Cloud, Env, Error, Pipeline, ProcessEnv, TenantId};

use crate::{AuthenticationRecord, PersistentCache};

/// The Azure CLI's public client id: what Azure ML SDK v1 (and azure-identity) sign in with.
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// How long the browser flow waits for the redirect by default (azure-identity: 300 s).
pub const DEFAULT_BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// Opens the sign-in page. The default, [`SystemBrowser`], asks the desktop; tests and
/// embedders supply their own (a headless browser, a URL printed for the user, …).
pub trait Browser: Send + Sync + fmt::Debug {
    /// Opens `url` and returns at once; the sign-in comes back on the loopback redirect. An
    /// error means no browser could be opened (the credential may fall back to device code).
    fn open(&self, url: &str) -> Result<(), Error>;
}

/// The system browser: `xdg-open` (Linux, BSD), `open` (macOS) or
/// `rundll32 url.dll,FileProtocolHandler` (Windows), each given the URL as one argument,
/// never through a shell.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    #[allow(
        clippy::disallowed_methods,
        reason = "the system browser adapter starts the opener"
    )]
    fn open(&self, url: &str) -> Result<(), Error> {
        let (program, args): (&str, &[&str]) = if cfg!(target_os = "macos") {
            ("open", &[])
        } else if cfg!(windows) {
            ("rundll32", &["url.dll,FileProtocolHandler"])
        } else {
            ("xdg-open", &[])
        };
        let status = std::process::Command::new(program)
            .args(args)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| {
                Error::unavailable(format!("could not start {program} to open a browser: {e}"))
            })?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::unavailable(format!(
                "{program} could not open a browser ({status})"
            )))
        }
    }
}

/// What the user needs to finish a device code sign-in. `message` is Entra's ready-made text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceCodeInfo {
    /// The short code to type on the verification page (not a secret: it is useless without
    /// the user's own sign-in).
    pub user_code: String,
    /// The page to visit.
    pub verification_uri: String,
    /// Entra's instruction text ("To sign in, use a web browser to open the page …").
    pub message: String,
    /// How long the code is valid.
    pub expires_in: Duration,
}

/// Shows the device code to the user.
pub type DeviceCodePrompt = Arc<dyn Fn(&DeviceCodeInfo) + Send + Sync>;

/// Options of [`InteractiveBrowserCredential`](crate::InteractiveBrowserCredential) and
/// [`DeviceCodeCredential`](crate::DeviceCodeCredential).
///
/// ```
/// use auth_interactive::InteractiveOptions;
/// let options = InteractiveOptions::new()
///     .tenant_id("contoso.onmicrosoft.com")?
///     .login_hint("alice@contoso.com")
///     .timeout(std::time::Duration::from_secs(120));
/// # Ok::<(), auth_core::Error>(())
/// ```
#[derive(Clone)]
pub struct InteractiveOptions {
    pub(crate) cloud: Option<Cloud>,
    pub(crate) pipeline: Option<Pipeline>,
    pub(crate) tenant: TenantId,
    pub(crate) client_id: String,
    pub(crate) allowed_tenants: AllowedTenants,
    pub(crate) cae: bool,
    pub(crate) login_hint: Option<String>,
    pub(crate) domain_hint: Option<String>,
    pub(crate) prompt: Option<String>,
    pub(crate) redirect_port: u16,
    pub(crate) timeout: Duration,
    pub(crate) browser: Arc<dyn Browser>,
    pub(crate) prompt_callback: DeviceCodePrompt,
    pub(crate) device_code_fallback: bool,
    pub(crate) cache: Option<PersistentCache>,
    pub(crate) record: Option<AuthenticationRecord>,
    pub(crate) disable_automatic_authentication: bool,
    pub(crate) env: Arc<dyn Env>,
}

impl fmt::Debug for InteractiveOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractiveOptions")
            .field(
                "authority_host",
                &self.cloud.as_ref().map(Cloud::authority_host),
            )
            .field("tenant_id", &self.tenant.as_str())
            .field("client_id", &self.client_id)
            .field("additionally_allowed_tenants", &self.allowed_tenants)
            .field("cae", &self.cae)
            .field("login_hint", &self.login_hint)
            .field("domain_hint", &self.domain_hint)
            .field("prompt", &self.prompt)
            .field("redirect_port", &self.redirect_port)
            .field("timeout", &self.timeout)
            .field("browser", &self.browser)
            .field("device_code_fallback", &self.device_code_fallback)
            .field("cache", &self.cache.as_ref().map(PersistentCache::path))
            .field(
                "authentication_record",
                &self.record.as_ref().map(|r| &r.username),
            )
            .field(
                "disable_automatic_authentication",
                &self.disable_automatic_authentication,
            )
            .finish_non_exhaustive()
    }
}

impl Default for InteractiveOptions {
    fn default() -> Self {
        Self::new()
    }
}

#[allow(
    clippy::print_stderr,
    reason = "the default device code prompt talks to the user"
)]
fn print_message(info: &DeviceCodeInfo) {
    eprintln!("{}", info.message);
}

impl InteractiveOptions {
    /// The defaults, as SDK v1's `InteractiveLoginAuthentication`: tenant `organizations`, the
    /// Azure CLI client id, `prompt=select_account`, a free loopback port, 300 s, the system
    /// browser with device code as the fallback, the message printed on stderr, no persistent
    /// cache (tokens live as long as the credential), the public cloud, the shared pipeline.
    pub fn new() -> Self {
        Self {
            cloud: None,
            pipeline: None,
            tenant: TenantId::new("organizations").expect("organizations is a valid tenant"),
            client_id: AZURE_CLI_CLIENT_ID.to_owned(),
            allowed_tenants: AllowedTenants::default(),
            cae: false,
            login_hint: None,
            domain_hint: None,
            prompt: Some("select_account".to_owned()),
            redirect_port: 0,
            timeout: DEFAULT_BROWSER_TIMEOUT,
            browser: Arc::new(SystemBrowser),
            prompt_callback: Arc::new(print_message),
            device_code_fallback: true,
            cache: None,
            record: None,
            disable_automatic_authentication: false,
            env: Arc::new(ProcessEnv),
        }
    }

    /// Signs in to `tenant`: a GUID, a domain (`contoso.onmicrosoft.com`), or `organizations`
    /// (the default; any work or school account) — SDK v1's `tenant_id`.
    pub fn tenant_id(mut self, tenant: &str) -> Result<Self, Error> {
        self.tenant = TenantId::new(tenant)?;
        Ok(self)
    }

    /// Signs in as another public client (its registration needs the `http://localhost`
    /// redirect for the browser flow).
    pub fn client_id(mut self, client_id: &str) -> Result<Self, Error> {
        let c = client_id.trim();
        if c.is_empty() || c.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::configuration(
                "the client id is empty or has spaces or control characters",
            ));
        }
        self.client_id = c.to_owned();
        Ok(self)
    }

    /// Signs in to `cloud`.
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// Signs in at another authority host, keeping the cloud chosen so far.
    pub fn authority_host(mut self, host: &str) -> Result<Self, Error> {
        let cloud = self.cloud.take().unwrap_or_else(Cloud::public);
        self.cloud = Some(cloud.with_authority_host(host)?);
        Ok(self)
    }

    /// Sends requests through `pipeline`. Without the `reqwest` feature this is required.
    pub fn pipeline(mut self, pipeline: Pipeline) -> Self {
        self.pipeline = Some(pipeline);
        self
    }

    /// Tenants besides its own that a request may name (`"*"`: any). With tenant
    /// `organizations` any tenant may be named.
    pub fn additionally_allowed_tenants<I, S>(mut self, tenants: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.allowed_tenants = AllowedTenants::new(tenants)?;
        Ok(self)
    }

    /// Declares client capability `CP1` (CAE) on every request.
    pub fn cae(mut self, enable: bool) -> Self {
        self.cae = enable;
        self
    }

    /// Pre-fills the user name on the sign-in page, and picks that account from the cache.
    pub fn login_hint(mut self, username: &str) -> Self {
        self.login_hint = Some(username.to_owned());
        self
    }

    /// `domain_hint`: `organizations`, `consumers` or a tenant's domain (skips home realm
    /// discovery).
    pub fn domain_hint(mut self, domain: &str) -> Self {
        self.domain_hint = Some(domain.to_owned());
        self
    }

    /// The `prompt` of the authorize request (`select_account` by default; `login`,
    /// `consent`, `none`), or `None` for no prompt parameter.
    pub fn prompt(mut self, prompt: Option<&str>) -> Self {
        self.prompt = prompt.map(str::to_owned);
        self
    }

    /// Listens for the redirect on this port of 127.0.0.1 (0, the default: any free port).
    pub fn redirect_port(mut self, port: u16) -> Self {
        self.redirect_port = port;
        self
    }

    /// How long an interactive sign-in may take (browser: until the redirect arrives).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Opens the sign-in page with `browser` instead of the system browser.
    pub fn browser(mut self, browser: Arc<dyn Browser>) -> Self {
        self.browser = browser;
        self
    }

    /// Shows the device code with `prompt` instead of printing Entra's message on stderr.
    pub fn device_code_prompt(
        mut self,
        prompt: impl Fn(&DeviceCodeInfo) + Send + Sync + 'static,
    ) -> Self {
        self.prompt_callback = Arc::new(prompt);
        self
    }

    /// Browser credential: whether to use the device code flow when no browser can be opened
    /// (no `DISPLAY`/`WAYLAND_DISPLAY` on Linux, an SSH session, or the browser failing to
    /// start). On by default, as SDK v1.
    pub fn device_code_fallback(mut self, enable: bool) -> Self {
        self.device_code_fallback = enable;
        self
    }

    /// Keeps accounts and refresh tokens in `cache`, so other credentials and processes
    /// sharing it sign in silently.
    pub fn persistent_cache(mut self, cache: PersistentCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Signs in silently as this account (from an earlier
    /// [`authenticate`](crate::InteractiveBrowserCredential::authenticate)).
    pub fn authentication_record(mut self, record: AuthenticationRecord) -> Self {
        self.record = Some(record);
        self
    }

    /// Never starts an interactive sign-in from `get_token`: without a usable account it fails
    /// with [`auth_core::ErrorKind::InteractionRequired`] (call `authenticate` first).
    pub fn disable_automatic_authentication(mut self, disable: bool) -> Self {
        self.disable_automatic_authentication = disable;
        self
    }

    /// Reads `DISPLAY`, `WAYLAND_DISPLAY`, `SSH_CONNECTION`, `SSH_TTY` from `env` (tests).
    pub fn env(mut self, env: Arc<dyn Env>) -> Self {
        self.env = env;
        self
    }

    pub(crate) fn resolved_pipeline(&self) -> Result<Pipeline, Error> {
        if let Some(p) = &self.pipeline {
            return Ok(p.clone());
        }
        default_pipeline()
    }

    /// Whether a browser can be opened here at all.
    pub(crate) fn headless(&self) -> bool {
        let env = &*self.env;
        let ssh = env.var("SSH_CONNECTION").is_some() || env.var("SSH_TTY").is_some();
        let no_display = cfg!(all(unix, not(target_os = "macos")))
            && env.var("DISPLAY").is_none()
            && env.var("WAYLAND_DISPLAY").is_none();
        ssh || no_display
    }
}

#[cfg(feature = "reqwest")]
fn default_pipeline() -> Result<Pipeline, Error> {
    Ok(Pipeline::shared())
}

#[cfg(not(feature = "reqwest"))]
fn default_pipeline() -> Result<Pipeline, Error> {
    Err(Error::configuration(
        "no HTTP pipeline was given and the reqwest feature of auth-interactive is off",
    )
    .with_hint("pass one with InteractiveOptions::pipeline, or enable the reqwest feature"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn headless_detection() {
        let env = |pairs: &[(&'static str, &'static str)]| -> Arc<dyn Env> {
            Arc::new(
                pairs
                    .iter()
                    .copied()
                    .collect::<HashMap<&'static str, &'static str>>(),
            )
        };
        let o = InteractiveOptions::new();
        assert!(
            o.clone()
                .env(env(&[("DISPLAY", ":0"), ("SSH_TTY", "/dev/pts/1")]))
                .headless()
        );
        if cfg!(target_os = "linux") {
            assert!(o.clone().env(env(&[])).headless());
            assert!(!o.clone().env(env(&[("DISPLAY", ":0")])).headless());
            assert!(!o.env(env(&[("WAYLAND_DISPLAY", "wayland-0")])).headless());
        }
    }

    #[test]
    fn defaults_and_debug() {
        let o = InteractiveOptions::new().login_hint("alice@contoso.com");
        assert_eq!(o.client_id, AZURE_CLI_CLIENT_ID);
        assert_eq!(o.tenant.as_str(), "organizations");
        assert_eq!(o.prompt.as_deref(), Some("select_account"));
        let d = format!("{o:?}");
        assert!(
            d.contains("client_id: \"04b07795-8ddb-461a-bbee-02f9e1bf7b46\""),
            "{d}"
        );
        assert!(InteractiveOptions::new().client_id(" ").is_err());
        assert!(InteractiveOptions::new().tenant_id("a b").is_err());
    }
}
