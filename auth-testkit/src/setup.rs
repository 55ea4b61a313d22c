//! The declarative description of what an emulator knows: tenants, apps, users, workspaces,
//! role assignments and Conditional Access policies.

use std::fmt;
use std::time::Duration;

use crate::util::uuid_v4;

/// The public Azure CLI client id: a first-party public client that every tenant knows.
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// The declarative setup an [`Emulator`](crate::Emulator) starts from.
///
/// Builder methods take `self` by value and chain:
///
/// ```
/// use auth_testkit::{App, Setup, Tenant, Workspace};
/// let setup = Setup::new()
///     .tenant(Tenant::new("11111111-1111-1111-1111-111111111111"))
///     .app(App::new("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222").secret("s3cret"))
///     .workspace(Workspace::new("33333333-3333-3333-3333-333333333333", "rg", "ws"));
/// # let _ = setup;
/// ```
#[derive(Clone)]
pub struct Setup {
    pub(crate) tenants: Vec<Tenant>,
    pub(crate) apps: Vec<App>,
    pub(crate) users: Vec<User>,
    pub(crate) workspaces: Vec<Workspace>,
    pub(crate) subscriptions: Vec<(String, Option<String>)>,
    pub(crate) resource_groups: Vec<(String, String)>,
    pub(crate) roles: Vec<RoleAssignment>,
    pub(crate) policies: Vec<Policy>,
    pub(crate) token_lifetime: Duration,
    pub(crate) cae_token_lifetime: Duration,
    pub(crate) arm_page_size: usize,
    pub(crate) assertion_replay_check: bool,
    pub(crate) device_code_interval: Duration,
    pub(crate) device_code_lifetime: Duration,
    pub(crate) managed: crate::msi::MsiSetup,
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("tenants", &self.tenants)
            .field("apps", &self.apps)
            .field("users", &self.users)
            .field("workspaces", &self.workspaces)
            .field("roles", &self.roles)
            .field("policies", &self.policies)
            .field("token_lifetime", &self.token_lifetime)
            .field("arm_page_size", &self.arm_page_size)
            .finish_non_exhaustive()
    }
}

impl Default for Setup {
    fn default() -> Self {
        Self::new()
    }
}

/// A role assignment: a principal (object id) holds a role at a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleAssignment {
    pub(crate) principal_object_id: String,
    pub(crate) role_name: String,
    pub(crate) scope: String,
}

impl Setup {
    /// An empty setup: no tenant, no app, access tokens living 3599 s, ARM pages of 100.
    pub fn new() -> Self {
        Setup {
            tenants: Vec::new(),
            apps: Vec::new(),
            users: Vec::new(),
            workspaces: Vec::new(),
            subscriptions: Vec::new(),
            resource_groups: Vec::new(),
            roles: Vec::new(),
            policies: Vec::new(),
            token_lifetime: Duration::from_secs(3599),
            cae_token_lifetime: Duration::from_secs(86_399),
            arm_page_size: 100,
            assertion_replay_check: true,
            device_code_interval: Duration::from_secs(5),
            device_code_lifetime: Duration::from_secs(900),
            managed: crate::msi::MsiSetup::default(),
        }
    }

    /// Adds a tenant (directory).
    pub fn tenant(mut self, tenant: Tenant) -> Self {
        self.tenants.push(tenant);
        self
    }

    /// Adds an app registration (with its service principal in its tenant).
    pub fn app(mut self, app: App) -> Self {
        self.apps.push(app);
        self
    }

    /// Adds a user.
    pub fn user(mut self, user: User) -> Self {
        self.users.push(user);
        self
    }

    /// Adds a workspace; its subscription and resource group then exist too.
    pub fn workspace(mut self, workspace: Workspace) -> Self {
        self.workspaces.push(workspace);
        self
    }

    /// Adds an (empty) subscription owned by `tenant_id`. Subscriptions named only by a
    /// workspace belong to the first tenant of the setup.
    pub fn subscription(mut self, subscription_id: &str, tenant_id: &str) -> Self {
        self.subscriptions
            .push((subscription_id.to_owned(), Some(tenant_id.to_owned())));
        self
    }

    /// Adds an (empty) resource group.
    pub fn resource_group(mut self, subscription_id: &str, resource_group: &str) -> Self {
        self.resource_groups
            .push((subscription_id.to_owned(), resource_group.to_owned()));
        self
    }

    /// Gives `principal_object_id` the built-in role `role_name` (e.g. `Reader`, `Contributor`,
    /// `Owner`, `AzureML Data Scientist`, `AzureML Compute Operator`) at `scope`
    /// (e.g. `/subscriptions/{s}/resourceGroups/{rg}`).
    pub fn role_assignment(
        mut self,
        principal_object_id: &str,
        role_name: &str,
        scope: &str,
    ) -> Self {
        self.roles.push(RoleAssignment {
            principal_object_id: principal_object_id.to_owned(),
            role_name: role_name.to_owned(),
            scope: scope.to_owned(),
        });
        self
    }

    /// Adds a Conditional Access policy.
    pub fn conditional_access(mut self, policy: Policy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Lifetime of ordinary access tokens (`expires_in`); default 3599 s. Use a short one to
    /// test refresh logic.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Lifetime of access tokens issued to clients that declared the `CP1` capability
    /// (CAE, `xms_cc`) for ARM; default 86399 s (Entra issues long-lived CAE tokens).
    pub fn cae_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.cae_token_lifetime = lifetime;
        self
    }

    /// Number of workspaces per page in ARM list responses (default 100, minimum 1).
    pub fn arm_page_size(mut self, page_size: usize) -> Self {
        self.arm_page_size = page_size.max(1);
        self
    }

    /// Whether a certificate client assertion's `jti` is single-use (default `true`: a
    /// replayed assertion is refused). Note: MSAL reuses one assertion for up to 540 s
    /// (protocol-entra.md §3.3), which Entra accepts; turn this off to emulate that
    /// leniency. Federated tokens are never single-use (platforms reuse them).
    pub fn assertion_replay_check(mut self, enabled: bool) -> Self {
        self.assertion_replay_check = enabled;
        self
    }

    /// The device-code polling `interval` (default 5 s). Polling faster answers `slow_down`.
    /// Tests may use `Duration::ZERO` to poll freely.
    pub fn device_code_interval(mut self, interval: Duration) -> Self {
        self.device_code_interval = interval;
        self
    }

    /// The device-code lifetime `expires_in` (default 900 s).
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.device_code_lifetime = lifetime;
        self
    }

    /// The standalone/demo setup: one tenant, one app with a secret, one user, one
    /// workspace, with the app and the user both `Contributor` on the workspace's resource
    /// group, plus the Azure CLI public client so that the user can sign in interactively
    /// (auth code + PKCE or device code). See the constants in [`sample`](crate::sample).
    pub fn sample() -> Self {
        use crate::sample as s;
        Setup::new()
            .tenant(
                Tenant::new(s::TENANT_ID)
                    .domain(s::TENANT_DOMAIN)
                    .display_name("Contoso (emulated)"),
            )
            .app(
                App::new(s::TENANT_ID, s::CLIENT_ID)
                    .object_id(s::APP_OBJECT_ID)
                    .display_name("azureml-auth sample app")
                    .secret(s::CLIENT_SECRET),
            )
            .app(App::azure_cli())
            .user(
                User::new(s::TENANT_ID, s::USER_NAME)
                    .object_id(s::USER_OBJECT_ID)
                    .password(s::USER_PASSWORD)
                    .display_name("Sample User"),
            )
            .workspace(
                Workspace::new(s::SUBSCRIPTION_ID, s::RESOURCE_GROUP, s::WORKSPACE_NAME)
                    .workspace_id(s::WORKSPACE_ID),
            )
            .role_assignment(
                s::APP_OBJECT_ID,
                "Contributor",
                &format!(
                    "/subscriptions/{}/resourceGroups/{}",
                    s::SUBSCRIPTION_ID,
                    s::RESOURCE_GROUP
                ),
            )
            .role_assignment(
                s::USER_OBJECT_ID,
                "Contributor",
                &format!(
                    "/subscriptions/{}/resourceGroups/{}",
                    s::SUBSCRIPTION_ID,
                    s::RESOURCE_GROUP
                ),
            )
    }
}

/// A tenant (directory), known by its GUID and optionally by verified domains.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub(crate) id: String,
    pub(crate) domains: Vec<String>,
    pub(crate) display_name: Option<String>,
}

impl Tenant {
    /// A tenant with this id (a GUID).
    pub fn new(tenant_id: &str) -> Self {
        Tenant {
            id: tenant_id.to_owned(),
            domains: Vec::new(),
            display_name: None,
        }
    }

    /// A verified domain, usable as the tenant segment (e.g. `contoso.onmicrosoft.com`).
    pub fn domain(mut self, domain: &str) -> Self {
        self.domains.push(domain.to_owned());
        self
    }

    /// The directory's display name, used in some error texts.
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = Some(name.to_owned());
        self
    }
}

/// A client secret registered on an app.
#[derive(Clone)]
pub(crate) struct AppSecret {
    pub(crate) value: String,
    pub(crate) expired: bool,
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppSecret")
            .field("value", &"[redacted]")
            .field("expired", &self.expired)
            .finish()
    }
}

/// A federated identity credential: tokens from `issuer` for `subject` (and `audience`).
#[derive(Debug, Clone)]
pub(crate) struct FederatedCredential {
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) audience: String,
}

/// An app registration and its service principal.
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    pub(crate) object_id: String,
    pub(crate) display_name: String,
    pub(crate) secrets: Vec<AppSecret>,
    pub(crate) certificates: Vec<Vec<u8>>,
    pub(crate) federated: Vec<FederatedCredential>,
    pub(crate) public_client: bool,
    pub(crate) multi_tenant: bool,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) consent_granted: bool,
    pub(crate) roles: Vec<String>,
}

impl App {
    /// An app registered in `tenant_id` with application (client) id `client_id`. Its
    /// service principal's object id is random unless set with [`App::object_id`].
    pub fn new(tenant_id: &str, client_id: &str) -> Self {
        App {
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            object_id: uuid_v4(),
            display_name: "emulated app".to_owned(),
            secrets: Vec::new(),
            certificates: Vec::new(),
            federated: Vec::new(),
            public_client: false,
            multi_tenant: false,
            redirect_uris: Vec::new(),
            consent_granted: true,
            roles: Vec::new(),
        }
    }

    /// A public client (no secret; user flows such as device code and auth code + PKCE),
    /// like the Azure CLI. Loopback redirect `http://localhost` is registered.
    pub fn public(tenant_id: &str, client_id: &str) -> Self {
        let mut app = App::new(tenant_id, client_id);
        app.public_client = true;
        app.redirect_uris.push("http://localhost".to_owned());
        app
    }

    /// The Azure CLI's first-party public client ([`AZURE_CLI_CLIENT_ID`]), usable from
    /// every tenant of the setup.
    pub fn azure_cli() -> Self {
        let mut app = App::public("", AZURE_CLI_CLIENT_ID);
        app.multi_tenant = true;
        app.display_name = "Microsoft Azure CLI".to_owned();
        app
    }

    /// The service principal's object id (what role assignments and `oid` use).
    pub fn object_id(mut self, object_id: &str) -> Self {
        self.object_id = object_id.to_owned();
        self
    }

    /// The display name.
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = name.to_owned();
        self
    }

    /// Registers a valid client secret (its value).
    pub fn secret(mut self, value: &str) -> Self {
        self.secrets.push(AppSecret {
            value: value.to_owned(),
            expired: false,
        });
        self
    }

    /// Registers a client secret whose end date has passed (answers `AADSTS7000222`).
    pub fn expired_secret(mut self, value: &str) -> Self {
        self.secrets.push(AppSecret {
            value: value.to_owned(),
            expired: true,
        });
        self
    }

    /// Registers a certificate (DER) for client assertions.
    pub fn certificate_der(mut self, der: &[u8]) -> Self {
        self.certificates.push(der.to_vec());
        self
    }

    /// Registers a certificate given as PEM text (every `CERTIFICATE` block in it).
    pub fn certificate_pem(mut self, pem: &str) -> Self {
        self.certificates
            .extend(crate::certs::pem_blocks(pem, "CERTIFICATE"));
        self
    }

    /// Registers a federated identity credential for tokens from `issuer` about `subject`,
    /// with the default audience `api://AzureADTokenExchange`.
    pub fn federated(self, issuer: &str, subject: &str) -> Self {
        self.federated_with_audience(issuer, subject, "api://AzureADTokenExchange")
    }

    /// Registers a federated identity credential with an explicit audience.
    pub fn federated_with_audience(mut self, issuer: &str, subject: &str, audience: &str) -> Self {
        self.federated.push(FederatedCredential {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            audience: audience.to_owned(),
        });
        self
    }

    /// Makes the app a public client (see [`App::public`]).
    pub fn public_client(mut self) -> Self {
        self.public_client = true;
        self
    }

    /// Adds a registered redirect URI (e.g. `http://localhost`; for `http://localhost` the
    /// port is ignored when matching, as Entra does for loopback redirects).
    pub fn redirect_uri(mut self, uri: &str) -> Self {
        self.redirect_uris.push(uri.to_owned());
        self
    }

    /// Makes the app usable from every tenant of the setup (multi-tenant, provisioned).
    pub fn multi_tenant(mut self) -> Self {
        self.multi_tenant = true;
        self
    }

    /// No user or admin has consented to the app: user flows answer `AADSTS65001` until a
    /// user accepts the consent prompt on the sign-in page.
    pub fn without_consent(mut self) -> Self {
        self.consent_granted = false;
        self
    }

    /// An application role granted to this app, carried in `roles` of its app-only tokens.
    pub fn role(mut self, role: &str) -> Self {
        self.roles.push(role.to_owned());
        self
    }
}

/// A user who can sign in on the authorize and device-code pages.
#[derive(Clone)]
pub struct User {
    pub(crate) tenant_id: String,
    pub(crate) username: String,
    pub(crate) object_id: String,
    pub(crate) password: String,
    pub(crate) display_name: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("tenant_id", &self.tenant_id)
            .field("username", &self.username)
            .field("object_id", &self.object_id)
            .field("password", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl User {
    /// A user of `tenant_id` signing in as `username` (UPN, e.g. `alice@contoso.com`), with
    /// password `password` unless set.
    pub fn new(tenant_id: &str, username: &str) -> Self {
        User {
            tenant_id: tenant_id.to_owned(),
            username: username.to_owned(),
            object_id: uuid_v4(),
            password: "password".to_owned(),
            display_name: username.split('@').next().unwrap_or(username).to_owned(),
        }
    }

    /// The user's object id (`oid`, role assignments).
    pub fn object_id(mut self, object_id: &str) -> Self {
        self.object_id = object_id.to_owned();
        self
    }

    /// The password the sign-in page expects.
    pub fn password(mut self, password: &str) -> Self {
        self.password = password.to_owned();
        self
    }

    /// Display name (`name` claim).
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = name.to_owned();
        self
    }
}

/// An Azure Machine Learning workspace (`Microsoft.MachineLearningServices/workspaces`).
#[derive(Debug, Clone)]
pub struct Workspace {
    pub(crate) subscription_id: String,
    pub(crate) resource_group: String,
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) workspace_id: String,
    pub(crate) friendly_name: Option<String>,
    pub(crate) tags: Vec<(String, String)>,
}

impl Workspace {
    /// A workspace `name` in resource group `resource_group` of `subscription_id`,
    /// location `eastus2` and a random workspace id unless set.
    pub fn new(subscription_id: &str, resource_group: &str, name: &str) -> Self {
        Workspace {
            subscription_id: subscription_id.to_owned(),
            resource_group: resource_group.to_owned(),
            name: name.to_owned(),
            location: "eastus2".to_owned(),
            workspace_id: uuid_v4(),
            friendly_name: None,
            tags: Vec::new(),
        }
    }

    /// The Azure region.
    pub fn location(mut self, location: &str) -> Self {
        self.location = location.to_owned();
        self
    }

    /// `properties.workspaceId` (a GUID).
    pub fn workspace_id(mut self, id: &str) -> Self {
        self.workspace_id = id.to_owned();
        self
    }

    /// `properties.friendlyName`.
    pub fn friendly_name(mut self, name: &str) -> Self {
        self.friendly_name = Some(name.to_owned());
        self
    }

    /// A tag.
    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The full ARM id.
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
            self.subscription_id, self.resource_group, self.name
        )
    }
}

/// What a Conditional Access policy does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PolicyKind {
    RequireMfa,
    Block,
    ArmClaimsChallenge,
}

/// A Conditional Access policy applying to one principal (a user's UPN or object id, or an
/// app's client id or object id).
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) id: String,
    pub(crate) kind: PolicyKind,
    pub(crate) principal: String,
}

impl Policy {
    fn new(kind: PolicyKind, principal: &str) -> Self {
        Policy {
            id: uuid_v4(),
            kind,
            principal: principal.to_owned(),
        }
    }

    /// Multi-factor authentication required: non-interactive grants for this principal
    /// (refresh token; client credentials for an app) answer `400 interaction_required`
    /// `AADSTS50076` with a `claims` challenge. The sign-in pages ask for a second factor.
    pub fn require_mfa(principal: &str) -> Self {
        Self::new(PolicyKind::RequireMfa, principal)
    }

    /// Access blocked: every token request for this principal answers `AADSTS53003`
    /// (`access_denied`).
    pub fn block(principal: &str) -> Self {
        Self::new(PolicyKind::Block, principal)
    }

    /// Authentication-context step-up at ARM: ARM answers `401` with a
    /// `WWW-Authenticate: Bearer ..., error="insufficient_claims", claims="..."` challenge
    /// to this principal's tokens until it presents a token whose token request carried the
    /// challenge's claims (`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`).
    pub fn arm_claims_challenge(principal: &str) -> Self {
        Self::new(PolicyKind::ArmClaimsChallenge, principal)
    }

    /// Sets the policy id (reported in `capolids` claims challenges).
    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_owned();
        self
    }

    /// Whether the policy names one of a principal's ids (UPN, object id, client id).
    pub(crate) fn applies_to(&self, ids: &[&str]) -> bool {
        ids.iter()
            .any(|id| !id.is_empty() && self.principal.eq_ignore_ascii_case(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets_and_passwords() {
        let shown = format!(
            "{:?}",
            Setup::sample().app(App::new("t", "c").expired_secret("old-SECRET"))
        );
        assert!(!shown.contains(crate::sample::CLIENT_SECRET), "{shown}");
        assert!(!shown.contains(crate::sample::USER_PASSWORD), "{shown}");
        assert!(!shown.contains("old-SECRET"), "{shown}");
        assert!(shown.contains(crate::sample::CLIENT_ID));
    }
}
