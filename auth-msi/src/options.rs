//! Options of [`crate::ManagedIdentityCredential`]: identity, transport, timeouts, retries,
//! probe mode.

use std::path::PathBuf;
use std::time::Duration;

use auth_core::http::RetryPolicy;
use auth_core::{Error, Pipeline};

use crate::UserAssignedId;

/// Per-attempt timeout of token requests.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of the probe (the first IMDS request in probe mode).
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long IMDS answering 410 ("updating") is retried: the guidance says it is back within
/// 70 s.
pub const IMDS_410_WINDOW: Duration = Duration::from_secs(80);
/// How long 404, 429 and 5xx from IMDS are retried (about the guidance's 5 retries).
pub const IMDS_RETRY_WINDOW: Duration = Duration::from_secs(30);

/// The IMDS retry policy: backoff from 1 s doubling (±20 %), waits up to 60 s (`Retry-After`
/// included), enough retries to outlast a 70 s 410 window. Which statuses are retried, and for
/// how long, is the [`crate::ImdsRetryClassifier`]'s decision.
pub fn imds_retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 8,
        initial_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
        max_total: Duration::from_secs(150),
        jitter: 0.2,
    }
}

/// Options of a managed identity credential. Build by value:
///
/// ```
/// use auth_msi::{ManagedIdentityOptions, UserAssignedId};
/// let options = ManagedIdentityOptions::new()
///     .user_assigned(UserAssignedId::ClientId("00000000-0000-0000-0000-000000000001".into()))
///     .probe(true);
/// ```
#[derive(Clone, Debug)]
pub struct ManagedIdentityOptions {
    pub(crate) id: Option<UserAssignedId>,
    pub(crate) pipeline: Option<Pipeline>,
    pub(crate) timeout: Duration,
    pub(crate) probe: bool,
    pub(crate) probe_timeout: Duration,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) imds_retry: RetryPolicy,
    pub(crate) arc_key_directory: Option<PathBuf>,
    pub(crate) imds_endpoint: Option<String>,
}

impl Default for ManagedIdentityOptions {
    fn default() -> Self {
        Self {
            id: None,
            pipeline: None,
            timeout: DEFAULT_TIMEOUT,
            probe: false,
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            call_timeout: None,
            imds_retry: imds_retry_policy(),
            arc_key_directory: None,
            imds_endpoint: None,
        }
    }
}

impl ManagedIdentityOptions {
    /// The system-assigned identity, the shared pipeline (feature `reqwest`), a 10 s timeout
    /// per attempt, the IMDS retry policy, no probe.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for a user-assigned identity.
    pub fn user_assigned(mut self, id: UserAssignedId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sends requests through `pipeline` (transport, clock, timer). Its timeout and, for IMDS,
    /// its retry policy and classifier are replaced by this credential's.
    pub fn pipeline(mut self, pipeline: Pipeline) -> Self {
        self.pipeline = Some(pipeline);
        self
    }

    /// The timeout of each attempt (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A bound on one whole token request, retries and waits included (none by default: the
    /// retry policy bounds it).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// Probe mode, for credential chains: until IMDS has answered once, a request is one
    /// attempt of [`probe_timeout`](Self::probe_timeout) with no retry, and no answer (or
    /// Docker Desktop's 403) is [`auth_core::ErrorKind::Unavailable`] so that a chain moves on
    /// at once. After IMDS has answered, the full retry policy applies. Other sources are
    /// configured by the environment and are never probed, nor is the pod-identity host
    /// (`AZURE_POD_IDENTITY_AUTHORITY_HOST`).
    ///
    /// The probe is the token request itself (with `Metadata: true`), not azure-identity's
    /// separate header-less request: an answer is a token at once, one round trip sooner.
    pub fn probe(mut self, probe: bool) -> Self {
        self.probe = probe;
        self
    }

    /// The probe's timeout (default [`DEFAULT_PROBE_TIMEOUT`], 1 s).
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// The IMDS retry policy (default [`imds_retry_policy`]).
    pub fn imds_retry(mut self, retry: RetryPolicy) -> Self {
        self.imds_retry = retry;
        self
    }

    /// The directory Azure Arc key files must be in (default: the agent's,
    /// `/var/opt/azcmagent/tokens` on Linux, `%ProgramData%\AzureConnectedMachineAgent\Tokens`
    /// on Windows). A key file the server names elsewhere is refused.
    pub fn arc_key_directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.arc_key_directory = Some(dir.into());
        self
    }

    /// When the environment chooses IMDS, sends to this token URL instead of
    /// `http://169.254.169.254/metadata/identity/oauth2/token` (a proxy, a test). Unlike
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST`, probe mode still applies. Must be https, or http
    /// on a loopback or link-local address.
    pub fn imds_endpoint(mut self, url: impl Into<String>) -> Self {
        self.imds_endpoint = Some(url.into());
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
        "no HTTP pipeline was given and the reqwest feature of auth-msi is off",
    )
    .with_hint("pass one with ManagedIdentityOptions::pipeline, or enable the reqwest feature"))
}
