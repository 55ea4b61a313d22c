//! What every test shares: the world, environments per source, fast pipelines, fake time.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use auth_core::http::{RetryPolicy, Sleep, TokioSleep};
use auth_core::{Clock, Pipeline, TokenRequest};
use auth_msi::{ManagedIdentityOptions, ManagedIdentitySource};
use auth_testkit::{Emulator, ManagedIdentity, RecordedRequest, Setup, Tenant, User};

pub(crate) const TENANT: &str = "72f988bf-0000-4000-8000-00000000d001";
pub(crate) const SYSTEM_CLIENT: &str = "5y57e000-0000-4000-8000-00000000c001";
pub(crate) const SYSTEM_OBJECT: &str = "5y57e000-0000-4000-8000-00000000o001";
pub(crate) const USER_CLIENT: &str = "u5e40000-0000-4000-8000-00000000c002";
pub(crate) const USER_OBJECT: &str = "u5e40000-0000-4000-8000-00000000o002";
pub(crate) const USER_RESOURCE: &str = "/subscriptions/5ab5c000-0000-4000-8000-000000000004/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/trainer";
pub(crate) const SHELL_USER: &str = "a11ce000-0000-4000-8000-00000000e001";
pub(crate) const MSI_SECRET: &str = "Msi~Secret.Value_0123456789-abcdef";
pub(crate) const IDENTITY_HEADER: &str = "Identity~Header.Value_0123456789-abc";
pub(crate) const ARM: &str = "https://management.azure.com/.default";
pub(crate) const ARM_RESOURCE: &str = "https://management.azure.com";

/// A resource with a system-assigned and one user-assigned identity, a Cloud Shell user, and
/// an Arc key directory.
pub(crate) fn setup(arc_dir: &std::path::Path) -> Setup {
    Setup::new()
        .tenant(Tenant::new(TENANT))
        .user(User::new(TENANT, "alice@contoso.example").object_id(SHELL_USER))
        .system_identity(ManagedIdentity::new(SYSTEM_CLIENT, SYSTEM_OBJECT, ""))
        .user_assigned_identity(ManagedIdentity::new(
            USER_CLIENT,
            USER_OBJECT,
            USER_RESOURCE,
        ))
        .msi_secret(MSI_SECRET)
        .identity_header(IDENTITY_HEADER)
        .cloud_shell_user(SHELL_USER)
        .arc_key_directory(arc_dir)
}

/// A unique temporary directory for one test.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auth-msi-it-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) struct World {
    pub(crate) emu: Arc<Emulator>,
    pub(crate) arc_dir: PathBuf,
}

pub(crate) async fn start(name: &str) -> World {
    start_with(name, |s| s).await
}

pub(crate) async fn start_with(name: &str, change: impl FnOnce(Setup) -> Setup) -> World {
    let arc_dir = temp_dir(name);
    let emu = Emulator::start(change(setup(&arc_dir))).await.unwrap();
    World {
        emu: Arc::new(emu),
        arc_dir,
    }
}

/// The environment each source's host sets, pointing at the emulator.
pub(crate) fn env(emu: &Emulator, source: ManagedIdentitySource) -> HashMap<String, String> {
    let pairs: Vec<(&str, String)> = match source {
        ManagedIdentitySource::AppService => vec![
            ("IDENTITY_ENDPOINT", emu.app_service_endpoint()),
            ("IDENTITY_HEADER", emu.identity_header()),
        ],
        ManagedIdentitySource::AzureArc => vec![
            ("IDENTITY_ENDPOINT", emu.imds_token_url()),
            ("IMDS_ENDPOINT", emu.msi_base()),
        ],
        ManagedIdentitySource::AzureMl => vec![
            ("MSI_ENDPOINT", emu.azure_ml_endpoint()),
            ("MSI_SECRET", emu.msi_secret()),
        ],
        ManagedIdentitySource::CloudShell => vec![("MSI_ENDPOINT", emu.cloud_shell_endpoint())],
        _ => vec![("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.msi_base())],
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A fast retry policy: 10 ms backoff, 5 retries.
pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 5,
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        max_total: Duration::from_secs(5),
        jitter: 0.0,
    }
}

/// Options with the shared pipeline, a 2 s timeout, fast IMDS retries, the test's Arc key
/// directory.
pub(crate) fn options(w: &World) -> ManagedIdentityOptions {
    ManagedIdentityOptions::new()
        .pipeline(Pipeline::shared())
        .timeout(Duration::from_secs(2))
        .imds_retry(fast_retry())
        .arc_key_directory(&w.arc_dir)
}

pub(crate) fn arm() -> TokenRequest {
    TokenRequest::for_scopes([ARM]).unwrap()
}

/// Headers the transport adds by itself.
const TRANSPORT_HEADERS: &[&str] = &[
    "host",
    "accept",
    "user-agent",
    "content-length",
    "accept-encoding",
];

/// The request's headers besides the transport's own, sorted.
pub(crate) fn own_headers(r: &RecordedRequest) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(k, _)| !TRANSPORT_HEADERS.contains(&k.as_str()))
        .cloned()
        .collect();
    h.sort();
    h
}

pub(crate) fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A clock that moves only when [`FakeSleep`] sleeps.
#[derive(Debug)]
pub(crate) struct FakeClock(pub(crate) Mutex<SystemTime>);

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Backoff waits (up to 60 s) pass at once, moving the fake clock and the emulator's clock on
/// (every wait is recorded); longer ones (attempt and load timeouts) are real.
#[derive(Debug)]
pub(crate) struct FakeSleep {
    pub(crate) clock: Arc<FakeClock>,
    pub(crate) emu: Arc<Emulator>,
    pub(crate) waits: Mutex<Vec<Duration>>,
    /// Fractions of a second not yet passed on to the emulator's whole-second clock.
    carry: Mutex<Duration>,
}

impl FakeSleep {
    pub(crate) fn new(emu: Arc<Emulator>) -> Arc<Self> {
        Arc::new(Self {
            clock: Arc::new(FakeClock(Mutex::new(SystemTime::now()))),
            emu,
            waits: Mutex::new(Vec::new()),
            carry: Mutex::new(Duration::ZERO),
        })
    }

    pub(crate) fn waited(&self) -> Duration {
        self.waits.lock().unwrap().iter().sum()
    }

    /// A pipeline over the shared transport with this timer and clock.
    pub(crate) fn pipeline(self: &Arc<Self>) -> Pipeline {
        Pipeline::new(Arc::new(reqwest_transport()), self.clone()).with_clock(self.clock.clone())
    }
}

impl Sleep for FakeSleep {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        if d > Duration::from_secs(60) {
            return TokioSleep.sleep(d);
        }
        self.waits.lock().unwrap().push(d);
        *self.clock.0.lock().unwrap() += d;
        let mut carry = self.carry.lock().unwrap();
        *carry += d;
        let whole = Duration::from_secs(carry.as_secs());
        *carry -= whole;
        self.emu.advance_clock(whole);
        Box::pin(std::future::ready(()))
    }
}

fn reqwest_transport() -> auth_core::http::ReqwestClient {
    auth_core::http::ReqwestClient::new()
}

/// A port on 127.0.0.1 where nothing listens.
pub(crate) fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
