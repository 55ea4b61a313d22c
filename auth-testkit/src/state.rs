//! The emulator's shared state: the setup, what it has issued, what it has recorded.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::authz::Access;
use crate::fault::{Endpoint, Fault};
use crate::record::RecordedRequest;
use crate::setup::{App, RoleAssignment, Setup, Tenant, User};

/// Base URLs, known once the listeners are bound.
#[derive(Debug)]
pub(crate) struct Urls {
    /// `http(s)://127.0.0.1:PORT` (no trailing slash).
    pub(crate) entra: String,
    /// `http(s)://127.0.0.1:PORT2` (no trailing slash).
    pub(crate) arm: String,
    /// `http(s)://127.0.0.1:PORT3`, the managed-identity endpoints (no trailing slash).
    pub(crate) msi: String,
}

/// Everything the listeners share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// HS256 key of this emulator's access tokens.
    pub(crate) key: Vec<u8>,
    /// `kid` of the HS256 key.
    pub(crate) kid: String,
    pub(crate) urls: OnceLock<Urls>,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: Option<String>,
    pub(crate) code_challenge_method: Option<String>,
    pub(crate) scope: String,
    pub(crate) user_object_id: String,
    pub(crate) nonce: Option<String>,
    pub(crate) claims: Option<String>,
    pub(crate) mfa: bool,
    pub(crate) expires_at: i64,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) user_object_id: String,
    pub(crate) mfa: bool,
    pub(crate) expires_at: i64,
}

/// State of a device-code flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceState {
    Pending,
    Approved { user_object_id: String, mfa: bool },
    Declined,
    Redeemed,
}

/// A device-code flow.
#[derive(Debug, Clone)]
pub(crate) struct DeviceFlow {
    pub(crate) device_code: String,
    pub(crate) user_code: String,
    pub(crate) client_id: String,
    pub(crate) tenant_segment: String,
    pub(crate) scope: String,
    pub(crate) claims: Option<String>,
    pub(crate) expires_at: i64,
    pub(crate) interval: i64,
    pub(crate) last_poll: Option<i64>,
    pub(crate) state: DeviceState,
}

/// The mutable part.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) setup: Setup,
    /// The access model of `setup.roles`, built at the first ARM decision (so that starting an
    /// emulator stays cheap); change the roles with [`State::update_roles`].
    access: std::sync::OnceLock<Access>,
    pub(crate) records: Vec<RecordedRequest>,
    pub(crate) faults: HashMap<Endpoint, VecDeque<Fault>>,
    pub(crate) clock_offset: i64,
    pub(crate) used_jti: HashSet<String>,
    pub(crate) auth_codes: HashMap<String, AuthCode>,
    /// Codes already redeemed (a second redemption gets `AADSTS54005`).
    pub(crate) redeemed_codes: HashSet<String>,
    pub(crate) refresh_tokens: HashMap<String, RefreshGrant>,
    pub(crate) device_flows: Vec<DeviceFlow>,
    /// Compute targets by lower-cased ARM id.
    pub(crate) computes: BTreeMap<String, Value>,
    /// Browser sessions: cookie value → (user object id, MFA done).
    pub(crate) sessions: HashMap<String, (String, bool)>,
    /// (user object id, client id) pairs that consented on the sign-in page.
    pub(crate) consents: HashSet<(String, String)>,
}

impl State {
    pub(crate) fn new(setup: Setup) -> Self {
        State {
            access: std::sync::OnceLock::new(),
            setup,
            records: Vec::new(),
            faults: HashMap::new(),
            clock_offset: 0,
            used_jti: HashSet::new(),
            auth_codes: HashMap::new(),
            redeemed_codes: HashSet::new(),
            refresh_tokens: HashMap::new(),
            device_flows: Vec::new(),
            computes: BTreeMap::new(),
            consents: HashSet::new(),
            sessions: HashMap::new(),
        }
    }

    /// Current time in epoch seconds, as the emulator sees it (real clock plus the offset a
    /// test may have added with `Emulator::advance_clock`).
    #[allow(
        clippy::disallowed_methods,
        reason = "the emulator is the service: it keeps real time"
    )]
    pub(crate) fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real + self.clock_offset
    }

    /// A tenant by GUID or verified domain (case-insensitive).
    pub(crate) fn tenant(&self, segment: &str) -> Option<&Tenant> {
        self.setup.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(segment)
                || t.domains.iter().any(|d| d.eq_ignore_ascii_case(segment))
        })
    }

    /// Changes the role assignments and rebuilds the access model.
    pub(crate) fn update_roles(&mut self, change: impl FnOnce(&mut Vec<RoleAssignment>)) {
        change(&mut self.setup.roles);
        self.access = std::sync::OnceLock::new();
    }

    /// The access model of the current role assignments.
    pub(crate) fn access(&self) -> &Access {
        self.access.get_or_init(|| Access::new(&self.setup.roles))
    }

    /// The tenant of principals that name none: the setup's first.
    pub(crate) fn default_tenant(&self) -> Option<&str> {
        self.setup.tenants.first().map(|t| t.id.as_str())
    }

    /// An app with this client id usable in `tenant_id` (in any tenant when `None`).
    pub(crate) fn app(&self, tenant_id: Option<&str>, client_id: &str) -> Option<&App> {
        self.setup.apps.iter().find(|a| {
            a.client_id.eq_ignore_ascii_case(client_id)
                && tenant_id.is_none_or(|t| a.multi_tenant || a.tenant_id.eq_ignore_ascii_case(t))
        })
    }

    /// Whether `user` may use `app` without a consent prompt (granted for every user, or
    /// given on a sign-in page).
    pub(crate) fn consented(&self, app: &App, user: &User) -> bool {
        app.consent_granted || self.consents.contains(&consent_key(app, user))
    }

    /// Records the consent `user` gave to `app` on a sign-in page.
    pub(crate) fn record_consent(&mut self, app: &App, user: &User) {
        self.consents.insert(consent_key(app, user));
    }

    /// A user by object id.
    pub(crate) fn user_by_oid(&self, oid: &str) -> Option<&User> {
        self.setup
            .users
            .iter()
            .find(|u| u.object_id.eq_ignore_ascii_case(oid))
    }

    /// A user by UPN (case-insensitive).
    pub(crate) fn user_by_name(&self, name: &str) -> Option<&User> {
        self.setup
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(name))
    }

    /// The tenant owning a subscription, if the subscription exists.
    pub(crate) fn subscription_tenant(&self, sub: &str) -> Option<String> {
        let default = self.default_tenant().unwrap_or_default().to_owned();
        if let Some((_, t)) = self
            .setup
            .subscriptions
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(sub))
        {
            return Some(t.clone().unwrap_or(default));
        }
        let known = self
            .setup
            .workspaces
            .iter()
            .any(|w| w.subscription_id.eq_ignore_ascii_case(sub))
            || self
                .setup
                .resource_groups
                .iter()
                .any(|(s, _)| s.eq_ignore_ascii_case(sub));
        known.then_some(default)
    }

    /// Every subscription id of the setup.
    pub(crate) fn subscription_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let all = self
            .setup
            .subscriptions
            .iter()
            .map(|(s, _)| s)
            .chain(self.setup.workspaces.iter().map(|w| &w.subscription_id))
            .chain(self.setup.resource_groups.iter().map(|(s, _)| s));
        for s in all {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
                out.push(s.clone());
            }
        }
        out
    }

    /// Whether a resource group exists.
    pub(crate) fn resource_group_exists(&self, sub: &str, rg: &str) -> bool {
        self.setup.workspaces.iter().any(|w| {
            w.subscription_id.eq_ignore_ascii_case(sub) && w.resource_group.eq_ignore_ascii_case(rg)
        }) || self
            .setup
            .resource_groups
            .iter()
            .any(|(s, r)| s.eq_ignore_ascii_case(sub) && r.eq_ignore_ascii_case(rg))
    }
}

fn consent_key(app: &App, user: &User) -> (String, String) {
    (user.object_id.clone(), app.client_id.to_ascii_lowercase())
}

impl Shared {
    pub(crate) fn new(setup: Setup) -> Self {
        Shared {
            state: Mutex::new(State::new(setup)),
            key: crate::util::random_bytes(32),
            kid: crate::util::random_token(12),
            urls: OnceLock::new(),
        }
    }

    /// Locks the state. A panic while locked (a bug) must not wedge every later test
    /// assertion, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn entra_base(&self) -> &str {
        self.urls.get().map(|u| u.entra.as_str()).unwrap_or("")
    }

    pub(crate) fn msi_base(&self) -> &str {
        self.urls.get().map(|u| u.msi.as_str()).unwrap_or("")
    }

    pub(crate) fn arm_base(&self) -> &str {
        self.urls.get().map(|u| u.arm.as_str()).unwrap_or("")
    }

    /// Records a request and pops the fault to apply to it, if any.
    pub(crate) fn record_and_take_fault(&self, rec: RecordedRequest) -> Option<Fault> {
        let mut st = self.lock();
        let endpoint = rec.endpoint;
        st.records.push(rec);
        if let Some(ep) = endpoint
            && let Some(f) = st.faults.get_mut(&ep).and_then(VecDeque::pop_front)
        {
            return Some(f);
        }
        st.faults
            .get_mut(&Endpoint::Any)
            .and_then(VecDeque::pop_front)
    }
}
