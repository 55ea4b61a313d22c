//! The running emulator.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::entra::{DeviceDecision, IssueRequest, decide_device_code, issue_access_token};
use crate::fault::{Endpoint, Fault};
use crate::record::{RecordedRequest, Service};
use crate::setup::{AZURE_CLI_CLIENT_ID, Policy, RoleAssignment, Setup};
use crate::state::{Shared, Urls};

/// How to start an [`Emulator`]: TLS and ports (0, the default, picks a free port).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartOptions {
    /// Serve HTTPS with a generated CA.
    pub tls: bool,
    /// Port of the Entra ID listener on 127.0.0.1.
    pub entra_port: u16,
    /// Port of the ARM listener on 127.0.0.1.
    pub arm_port: u16,
}

impl StartOptions {
    /// HTTP on free ports.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serve HTTPS (see [`Emulator::start_tls`]).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// The Entra ID listener's port.
    pub fn entra_port(mut self, port: u16) -> Self {
        self.entra_port = port;
        self
    }

    /// The ARM listener's port.
    pub fn arm_port(mut self, port: u16) -> Self {
        self.arm_port = port;
        self
    }
}

/// A running emulator: an Entra ID listener and an ARM listener on 127.0.0.1 (different
/// ports, as they are different hosts in Azure). It stops when dropped.
///
/// Must be started and dropped inside a tokio runtime.
pub struct Emulator {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    ca_pem: Option<String>,
    server_pem: Option<String>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("authority_host", &self.authority_host())
            .field("arm_endpoint", &self.arm_endpoint())
            .field("tls", &self.ca_pem.is_some())
            .finish()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Emulator {
    /// Starts an emulator serving plain HTTP.
    ///
    /// # Errors
    /// When a listener cannot be bound.
    pub async fn start(setup: Setup) -> std::io::Result<Emulator> {
        Self::start_with_options(setup, StartOptions::new()).await
    }

    /// Starts an emulator serving HTTPS with a certificate (for `127.0.0.1` and `localhost`)
    /// from a CA generated for this emulator; see [`Emulator::ca_certificate_pem`].
    ///
    /// # Errors
    /// When a listener cannot be bound or the certificates cannot be generated.
    pub async fn start_tls(setup: Setup) -> std::io::Result<Emulator> {
        Self::start_with_options(setup, StartOptions::new().tls(true)).await
    }

    /// Starts an emulator with explicit options (fixed ports, TLS).
    ///
    /// # Errors
    /// When a listener cannot be bound (e.g. the port is taken) or the certificates cannot
    /// be generated.
    pub async fn start_with_options(
        setup: Setup,
        options: StartOptions,
    ) -> std::io::Result<Emulator> {
        let tls = if options.tls {
            Some(crate::tls::generate()?)
        } else {
            None
        };
        let shared = Arc::new(Shared::new(setup));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (entra_listener, entra_addr) = crate::server::bind(options.entra_port).await?;
        let (arm_listener, arm_addr) = crate::server::bind(options.arm_port).await?;
        let (msi_listener, msi_addr) = crate::server::bind(0).await?;
        let _ = shared.urls.set(Urls {
            entra: format!("{scheme}://{entra_addr}"),
            arm: format!("{scheme}://{arm_addr}"),
            msi: format!("{scheme}://{msi_addr}"),
        });
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let tasks = vec![
            tokio::spawn(crate::server::serve(
                entra_listener,
                Service::Entra,
                shared.clone(),
                acceptor.clone(),
            )),
            tokio::spawn(crate::server::serve(
                arm_listener,
                Service::Arm,
                shared.clone(),
                acceptor.clone(),
            )),
            tokio::spawn(crate::server::serve(
                msi_listener,
                Service::ManagedIdentity,
                shared.clone(),
                acceptor,
            )),
        ];
        let server_pem = tls.as_ref().map(|t| t.server_pem.clone());
        Ok(Emulator {
            shared,
            tasks,
            ca_pem: tls.map(|t| t.ca_pem),
            server_pem,
        })
    }

    /// The Entra ID base URL (authority host), e.g. `http://127.0.0.1:PORT`, without a
    /// trailing slash. The token URL is `{authority_host}/{tenant}/oauth2/v2.0/token`.
    pub fn authority_host(&self) -> String {
        self.shared.entra_base().to_owned()
    }

    /// The ARM base URL with a trailing slash, e.g. `http://127.0.0.1:PORT2/`.
    pub fn arm_endpoint(&self) -> String {
        format!("{}/", self.shared.arm_base())
    }

    /// The managed-identity listener's base URL, e.g. `http://127.0.0.1:PORT3` (no trailing
    /// slash): the IMDS authority (`AZURE_POD_IDENTITY_AUTHORITY_HOST`) and Arc's
    /// `IMDS_ENDPOINT`.
    pub fn msi_base(&self) -> String {
        self.shared.msi_base().to_owned()
    }

    /// IMDS's (and Azure Arc's and Service Fabric's) token URL:
    /// `{msi_base}/metadata/identity/oauth2/token`.
    pub fn imds_token_url(&self) -> String {
        format!("{}/metadata/identity/oauth2/token", self.shared.msi_base())
    }

    /// App Service's `IDENTITY_ENDPOINT`: `{msi_base}/MSI/token`.
    pub fn app_service_endpoint(&self) -> String {
        format!("{}/MSI/token", self.shared.msi_base())
    }

    /// Azure ML compute's `MSI_ENDPOINT`: `{msi_base}/MSI/auth`.
    pub fn azure_ml_endpoint(&self) -> String {
        format!("{}/MSI/auth", self.shared.msi_base())
    }

    /// Cloud Shell's `MSI_ENDPOINT`: `{msi_base}/oauth2/token`.
    pub fn cloud_shell_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.shared.msi_base())
    }

    /// The `MSI_SECRET` Azure ML compute expects ([`Setup::msi_secret`](crate::Setup::msi_secret)).
    pub fn msi_secret(&self) -> String {
        crate::msi::secrets(&self.shared).0
    }

    /// The `IDENTITY_HEADER` App Service and Service Fabric expect
    /// ([`Setup::identity_header`](crate::Setup::identity_header)).
    pub fn identity_header(&self) -> String {
        crate::msi::secrets(&self.shared).1
    }

    /// Makes IMDS answer `status` (e.g. 410 while "updating") for `duration` of emulator time
    /// ([`Emulator::advance_clock`] moves it on), then answer normally.
    pub fn imds_status_for(&self, status: u16, duration: Duration) {
        crate::msi::imds_status_for(&self.shared, status, duration.as_secs());
    }

    /// `{authority_host}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.shared.entra_base())
    }

    /// The emulator CA's certificate (PEM) when started with [`Emulator::start_tls`].
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The server certificate (PEM) of every listener when started with
    /// [`Emulator::start_tls`], for clients that pin it (Service Fabric's
    /// `IDENTITY_SERVER_THUMBPRINT` is its SHA-1).
    pub fn server_certificate_pem(&self) -> Option<String> {
        self.server_pem.clone()
    }

    /// Writes the CA certificate (PEM) to `path`, for clients' CA-bundle settings
    /// (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, ...).
    ///
    /// # Errors
    /// When the emulator does not serve TLS, or the file cannot be written.
    pub fn write_ca_certificate(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let pem = self.ca_pem.as_deref().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "emulator started without TLS")
        })?;
        std::fs::write(path, pem)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().records.clone()
    }

    /// The recorded requests classified as `endpoint`, oldest first.
    pub fn requests_to(&self, endpoint: Endpoint) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .records
            .iter()
            .filter(|r| r.endpoint == Some(endpoint))
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().records.clear();
    }

    /// Queues faults for an endpoint: each request to it pops one; an empty queue means
    /// normal behaviour. [`Fault::Delay`] delays the request, which is then handled
    /// normally (it consumes its slot: to delay and then fail, queue the failure for the
    /// next request). Faults queued for [`Endpoint::Any`] apply to a request whose own
    /// endpoint has none queued.
    pub fn inject(&self, endpoint: Endpoint, faults: impl IntoIterator<Item = Fault>) {
        self.shared
            .lock()
            .faults
            .entry(endpoint)
            .or_default()
            .extend(faults);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Adds a role assignment while running (the demo grants access mid-run).
    pub fn assign_role(&self, principal_object_id: &str, role_name: &str, scope: &str) {
        self.shared.lock().update_roles(|roles| {
            roles.push(RoleAssignment {
                principal_object_id: principal_object_id.to_owned(),
                role_name: role_name.to_owned(),
                scope: scope.to_owned(),
            });
        });
    }

    /// Removes every role assignment of a principal at exactly this scope.
    pub fn remove_role(&self, principal_object_id: &str, role_name: &str, scope: &str) {
        self.shared.lock().update_roles(|roles| {
            roles.retain(|r| {
                !(r.principal_object_id
                    .eq_ignore_ascii_case(principal_object_id)
                    && r.role_name.eq_ignore_ascii_case(role_name)
                    && r.scope.eq_ignore_ascii_case(scope))
            });
        });
    }

    /// Adds a Conditional Access policy while running (e.g. to make a later refresh need MFA).
    pub fn add_policy(&self, policy: Policy) {
        self.shared.lock().setup.policies.push(policy);
    }

    /// Approves a pending device code (as if `username` entered it on the verification page
    /// and passed any MFA and consent prompts). Returns `false` if no pending, unexpired
    /// flow has this user code or there is no such user.
    pub fn approve_device_code(&self, user_code: &str, username: &str) -> bool {
        let mut st = self.shared.lock();
        matches!(
            decide_device_code(&mut st, user_code, true, username, None, None, true),
            DeviceDecision::Approved(_)
        )
    }

    /// Declines a pending device code (as if the user pressed Cancel). Returns `false` if no
    /// pending, unexpired flow has this user code.
    pub fn decline_device_code(&self, user_code: &str) -> bool {
        let mut st = self.shared.lock();
        matches!(
            decide_device_code(&mut st, user_code, false, "", None, None, false),
            DeviceDecision::Declined
        )
    }

    /// The emulator's current time in epoch seconds (the real clock plus any
    /// [`advance_clock`](Emulator::advance_clock)), for building assertions in tests.
    pub fn now(&self) -> i64 {
        self.shared.lock().now()
    }

    /// Moves the emulator's clock forward (token, code and assertion expiry), so tests
    /// need not sleep.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.lock().clock_offset += by.as_secs() as i64;
    }

    /// Issues a valid access token for `audience` (e.g. `https://management.azure.com/`)
    /// without going through the token endpoint.
    ///
    /// `principal_object_id` names a user of the setup (a delegated token, as if issued to
    /// the Azure CLI client), an app's service principal (an app-only token, as if from a
    /// client secret), or anything else (an app-only token for an unknown principal in the
    /// first tenant). Its lifetime is the setup's token lifetime.
    pub fn mint_token(&self, principal_object_id: &str, audience: &str) -> String {
        let st = self.shared.lock();
        let first_tenant = st.default_tenant().unwrap_or_default().to_owned();
        let user = st.user_by_oid(principal_object_id).cloned();
        let app = st
            .setup
            .apps
            .iter()
            .find(|a| a.object_id.eq_ignore_ascii_case(principal_object_id))
            .cloned();
        let req = match (user, app) {
            (Some(u), _) => IssueRequest {
                tenant_id: u.tenant_id.clone(),
                client_id: AZURE_CLI_CLIENT_ID.to_owned(),
                app_object_id: String::new(),
                app_roles: Vec::new(),
                user: Some(u),
                resource: audience.to_owned(),
                claims_request: None,
                appidacr: "0",
                mfa: true,
            },
            (None, Some(a)) => IssueRequest {
                tenant_id: if a.tenant_id.is_empty() {
                    first_tenant
                } else {
                    a.tenant_id.clone()
                },
                client_id: a.client_id.clone(),
                app_object_id: a.object_id.clone(),
                app_roles: a.roles.clone(),
                user: None,
                resource: audience.to_owned(),
                claims_request: None,
                appidacr: "1",
                mfa: false,
            },
            (None, None) => IssueRequest {
                tenant_id: first_tenant,
                client_id: principal_object_id.to_owned(),
                app_object_id: principal_object_id.to_owned(),
                app_roles: Vec::new(),
                user: None,
                resource: audience.to_owned(),
                claims_request: None,
                appidacr: "1",
                mfa: false,
            },
        };
        issue_access_token(&self.shared, &st, &req).access_token
    }
}
