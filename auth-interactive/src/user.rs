//! What both user credentials share: silent refresh from the store, the interactive sign-in
//! (browser or device code), accepting a token response (tenant check, account record, refresh
//! token rotation), Conditional Access errors.

use std::fmt;

use auth_core::entra::{Form, TokenResponse, merge_client_capabilities, request_token};
use auth_core::{
    AccessToken, CachePartition, Cloud, EntraError, Error, ErrorKind, FetchContext, Pipeline,
    TenantId, TenantPolicy, TokenCache, TokenFlow, TokenRequest,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::InteractiveOptions;
use crate::cache::{self, AuthenticationRecord, Store, Wanted};
use crate::device::{self, DeviceFlow};
use crate::loopback::{Listener, Outcome};
use crate::random::{self, Pkce};

/// Which interactive flow a credential runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Browser,
    DeviceCode,
}

/// The reserved scopes added to every user request (MSAL).
const RESERVED_SCOPES: &str = "offline_access openid profile";

pub(crate) struct UserFlow {
    pub(crate) mode: Mode,
    pub(crate) options: InteractiveOptions,
    pub(crate) cloud: Cloud,
    pipeline: Pipeline,
    flow: TokenFlow,
    store: Store,
    gate: Gate,
}

impl fmt::Debug for UserFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserFlow")
            .field("mode", &self.mode)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl UserFlow {
    pub(crate) fn new(
        name: &'static str,
        mode: Mode,
        options: InteractiveOptions,
    ) -> Result<Self, Error> {
        let cloud = options.cloud.clone().unwrap_or_else(Cloud::public);
        let pipeline = options
            .resolved_pipeline()
            .map_err(|e| e.with_credential(name))?;
        // A multi-tenant authority signs in wherever a request says (as azure-identity).
        let home = (!options.tenant.is_multi_tenant_alias()).then(|| options.tenant.clone());
        let flow = TokenFlow::new(
            name,
            CachePartition::new(cloud.authority_host(), &options.client_id),
            TokenCache::for_pipeline(&pipeline),
            TenantPolicy::new(home, options.allowed_tenants.clone(), false),
            options.cae,
        );
        let store = match &options.cache {
            Some(c) => Store::File(c.clone()),
            None => Store::Memory(Default::default()),
        };
        Ok(Self {
            mode,
            options,
            cloud,
            pipeline,
            flow,
            store,
            gate: Gate::default(),
        })
    }

    pub(crate) fn name(&self) -> &'static str {
        self.flow.name()
    }

    fn wanted(&self) -> Wanted<'_> {
        Wanted {
            authority_host: self.cloud.authority_host(),
            client_id: &self.options.client_id,
            record: self.options.record.as_ref(),
            username: self.options.login_hint.as_deref(),
        }
    }

    /// A token: cached, else by refresh token, else (unless disabled) interactively.
    pub(crate) async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        self.flow
            .get_token(request, |ctx| async move { self.fetch(ctx).await })
            .await
    }

    async fn fetch(&self, ctx: FetchContext<'_>) -> Result<AccessToken, Error> {
        // One fetch at a time per credential: Entra rotates the refresh token, so two refreshes
        // with the same one would spend it twice; and a second caller waiting on a sign-in in
        // progress then gets its token silently instead of opening a second browser window.
        // (Across processes, the cache file's lock does the same for refreshes.)
        let _gate = self.gate.lock().await;
        let tenant = ctx.tenant.unwrap_or(&self.options.tenant).clone();
        let scope = user_scope(&ctx.scopes.to_form_value());
        let claims = match self.silent(&tenant, &scope, ctx.claims.as_deref()).await {
            Ok(Some(token)) => return Ok(token),
            Ok(None) => ctx.claims.clone(),
            Err(e) if needs_interaction(&e) => {
                tracing::debug!(credential = self.name(), "silent sign-in needs interaction");
                match e.claims() {
                    Some(c) => {
                        merge_client_capabilities(Some(c), if ctx.cae { &["CP1"] } else { &[] })?
                    }
                    None => ctx.claims.clone(),
                }
            }
            Err(e) => return Err(conditional_access_error(e)),
        };
        if self.options.disable_automatic_authentication {
            return Err(Error::new(
                ErrorKind::InteractionRequired,
                "no signed-in account can get this token silently, and automatic interactive sign-in is disabled",
            )
            .with_hint("call authenticate() to sign in interactively first"));
        }
        // One interactive sign-in, with the claims asked for; whatever it yields is final (no loop).
        let (token, _) = self.interactive(&tenant, &scope, claims.as_deref()).await?;
        Ok(token)
    }

    /// Refreshes with the stored refresh token; `Ok(None)` when there is no account.
    async fn silent(
        &self,
        tenant: &TenantId,
        scope: &str,
        claims: Option<&str>,
    ) -> Result<Option<AccessToken>, Error> {
        let wanted = self.wanted();
        let locked = self.store.lock().await?;
        let found = match &locked {
            Some((c, _)) => cache::locked_refresh_token(c, &wanted),
            None => self.store.find(&wanted).await?,
        };
        let Some((record, Some(rt))) = found else {
            return Ok(None);
        };
        // With a multi-tenant authority, refresh at the account's home tenant.
        let tenant = if tenant.is_multi_tenant_alias() {
            TenantId::new(&record.tenant_id).unwrap_or_else(|_| tenant.clone())
        } else {
            tenant.clone()
        };
        let url = self.cloud.token_endpoint(&tenant);
        tracing::debug!(credential = self.name(), tenant = %tenant, client_id = %self.options.client_id, "refreshing a user token");
        let response = request_token(&self.pipeline, &url, || {
            Ok(Form::new()
                .field("client_id", self.options.client_id.as_str())
                .field("grant_type", "refresh_token")
                .field("client_info", "1")
                .secret("refresh_token", &rt)
                .field("scope", scope)
                .optional("claims", claims))
        })
        .await?;
        let (token, _) = self.accept(response, &tenant, Some(record), locked).await?;
        Ok(Some(token))
    }

    /// An interactive sign-in (browser, or device code); the token and the account.
    pub(crate) async fn interactive(
        &self,
        tenant: &TenantId,
        scope: &str,
        claims: Option<&str>,
    ) -> Result<(AccessToken, AuthenticationRecord), Error> {
        let response = match self.mode {
            Mode::DeviceCode => self.device_code(tenant, scope, claims).await?,
            Mode::Browser if self.options.device_code_fallback && self.options.headless() => {
                tracing::info!(
                    credential = self.name(),
                    "no browser here (no display, or SSH): using the device code flow"
                );
                self.device_code(tenant, scope, claims).await?
            }
            Mode::Browser => self.browser(tenant, scope, claims).await?,
        };
        let locked = self.store.lock().await?;
        self.accept(response, tenant, None, locked).await
    }

    async fn device_code(
        &self,
        tenant: &TenantId,
        scope: &str,
        claims: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        device::sign_in(DeviceFlow {
            pipeline: &self.pipeline,
            device_code_url: self.cloud.device_code_endpoint(tenant),
            token_url: self.cloud.token_endpoint(tenant),
            client_id: &self.options.client_id,
            scope,
            claims,
            prompt: &self.options.prompt_callback,
        })
        .await
        .map_err(conditional_access_error)
    }

    async fn browser(
        &self,
        tenant: &TenantId,
        scope: &str,
        claims: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let pkce = Pkce::new()?;
        let state = random::state()?;
        let nonce = random::nonce()?;
        let listener = Listener::bind(self.options.redirect_port)?;
        let redirect_uri = listener.redirect_uri();
        let o = &self.options;
        let query = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("client_id", &o.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("scope", scope)
                .append_pair("state", &state)
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("nonce", &nonce)
                .append_pair("client_info", "1");
            if let Some(p) = &o.prompt {
                query.append_pair("prompt", p);
            }
            if let Some(h) = &o.login_hint {
                query.append_pair("login_hint", h);
            }
            if let Some(h) = &o.domain_hint {
                query.append_pair("domain_hint", h);
            }
            if let Some(c) = claims {
                query.append_pair("claims", c);
            }
            query.finish()
        };
        let url = format!("{}?{}", self.cloud.authorize_endpoint(tenant), query);
        if let Err(e) = o.browser.open(&url) {
            if o.device_code_fallback {
                tracing::info!(credential = self.name(), error = %e, "no browser could be opened: using the device code flow");
                drop(listener);
                return self.device_code(tenant, scope, claims).await;
            }
            return Err(e);
        }
        let code = match listener.wait(state, o.timeout).await? {
            Outcome::Code { code } => code,
            Outcome::Error(entra) => {
                return Err(conditional_access_error(Error::from_entra(400, entra)));
            }
        };
        request_token(&self.pipeline, &self.cloud.token_endpoint(tenant), || {
            Ok(Form::new()
                .field("client_id", o.client_id.as_str())
                .field("grant_type", "authorization_code")
                .field("client_info", "1")
                .secret("code_verifier", &pkce.verifier)
                .secret("code", &code)
                .field("redirect_uri", redirect_uri.as_str())
                .field("scope", scope)
                .optional("claims", claims))
        })
        .await
        .map_err(conditional_access_error)
    }

    /// Checks the token's tenant, records the account and stores the new refresh token.
    async fn accept(
        &self,
        response: TokenResponse,
        tenant: &TenantId,
        known: Option<AuthenticationRecord>,
        locked: Option<(crate::PersistentCache, cache::FileLock)>,
    ) -> Result<(AccessToken, AuthenticationRecord), Error> {
        let id = response
            .id_token
            .as_ref()
            .and_then(|t| jwt_claims(t.expose_secret()))
            .unwrap_or(serde_json::Value::Null);
        let at = jwt_claims(response.access_token.token().expose_secret())
            .unwrap_or(serde_json::Value::Null);
        let tid = at["tid"].as_str().or(id["tid"].as_str());
        if is_guid(tenant.as_str())
            && let Some(tid) = tid
            && !tid.eq_ignore_ascii_case(tenant.as_str())
        {
            return Err(Error::new(
                ErrorKind::Authentication,
                format!("the identity service issued a token for tenant {tid}, not for the requested tenant {tenant}"),
            )
            .with_hint("sign in with an account of the requested tenant (or a guest account in it), or ask for that tenant's token"));
        }
        let info = response
            .client_info
            .as_deref()
            .and_then(|c| URL_SAFE_NO_PAD.decode(c.trim_end_matches('=')).ok())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        let uid = info["uid"].as_str().or(id["oid"].as_str());
        let utid = info["utid"].as_str().or(id["tid"].as_str());
        let record = match (uid, utid, known) {
            (Some(uid), Some(utid), known) => AuthenticationRecord {
                authority_host: self.cloud.authority_host().to_owned(),
                tenant_id: utid.to_owned(),
                client_id: self.options.client_id.clone(),
                home_account_id: format!("{uid}.{utid}"),
                username: id["preferred_username"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| known.map(|k| k.username))
                    .unwrap_or_default(),
            },
            (_, _, Some(known)) => known,
            _ => {
                return Err(Error::new(
                    ErrorKind::Service,
                    "the token response names no account (no client_info and no ID token)",
                ));
            }
        };
        let rt = response.refresh_token.clone();
        match locked {
            Some((c, lock)) => {
                let r = record.clone();
                auth_core::blocking::run(move || cache::locked_save(&c, &lock, &r, rt.as_ref()))
                    .await?;
            }
            None => self.store.save(record.clone(), rt).await?,
        }
        Ok((response.access_token, record))
    }

    /// Signs in interactively for `request`'s scopes and tenant and returns the account.
    pub(crate) async fn authenticate(
        &self,
        request: &TokenRequest,
    ) -> Result<AuthenticationRecord, Error> {
        let tenant = self
            .flow
            .tenants()
            .resolve(request.tenant())
            .map_err(|e| e.with_credential(self.name()))?
            .unwrap_or(&self.options.tenant)
            .clone();
        let scope = user_scope(&request.scopes().to_form_value());
        let claims = merge_client_capabilities(
            request.claims(),
            if self.options.cae || request.cae() {
                &["CP1"]
            } else {
                &[]
            },
        )?;
        self.interactive(&tenant, &scope, claims.as_deref())
            .await
            .map(|(_, r)| r)
            .map_err(|e| auth_core::flow::named(e, self.name()))
    }

    /// The account the credential signs in as, if the store has one.
    pub(crate) async fn account(&self) -> Result<Option<AuthenticationRecord>, Error> {
        Ok(self.store.find(&self.wanted()).await?.map(|(a, _)| a))
    }

    /// Forgets the account and its tokens (store and memory).
    pub(crate) async fn sign_out(&self) -> Result<(), Error> {
        self.flow.cache().clear();
        if let Some((a, _)) = self.store.find(&self.wanted()).await? {
            self.store.remove(a).await?;
        }
        Ok(())
    }
}

/// A small async mutex (no runtime needed): waiters are woken when the holder is done.
#[derive(Default)]
struct Gate {
    state: std::sync::Mutex<(bool, Vec<std::task::Waker>)>,
}

struct GateGuard<'a>(&'a Gate);

impl Gate {
    fn lock(&self) -> impl std::future::Future<Output = GateGuard<'_>> {
        std::future::poll_fn(move |cx| {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if s.0 {
                s.1.push(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                s.0 = true;
                std::task::Poll::Ready(GateGuard(self))
            }
        })
    }
}

impl Drop for GateGuard<'_> {
    fn drop(&mut self) {
        let waiters = {
            let mut s = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
            s.0 = false;
            std::mem::take(&mut s.1)
        };
        for w in waiters {
            w.wake();
        }
    }
}

/// The scope of a user request: the caller's plus the reserved scopes.
fn user_scope(scopes: &str) -> String {
    format!("{scopes} {RESERVED_SCOPES}")
}

/// Whether a silent failure calls for an interactive sign-in (§6.1: `invalid_grant` means the
/// refresh token is unusable; `interaction_required` / claims: MFA, consent, step-up).
fn needs_interaction(e: &Error) -> bool {
    if is_ca_block(e.entra()) {
        return false;
    }
    e.kind() == ErrorKind::InteractionRequired
        || e.entra().is_some_and(|x| x.error == "invalid_grant")
}

fn is_ca_block(e: Option<&EntraError>) -> bool {
    e.is_some_and(|e| [53003, 53000, 53001, 530003].iter().any(|c| e.has_code(*c)))
}

/// A Conditional Access refusal as a clear error naming the policy kind; others unchanged.
pub(crate) fn conditional_access_error(e: Error) -> Error {
    let Some(entra) = e.entra() else { return e };
    let (code, kind) = if entra.has_code(53003) {
        (
            53003,
            "a Conditional Access policy blocks this sign-in (access blocked for this user, app, location or risk)",
        )
    } else if entra.has_code(53000) {
        (
            53000,
            "a Conditional Access policy requires a compliant device",
        )
    } else if entra.has_code(53001) {
        (
            53001,
            "a Conditional Access policy requires a domain-joined (hybrid Azure AD joined) device",
        )
    } else if entra.has_code(530003) {
        (
            530003,
            "a Conditional Access policy requires a managed device",
        )
    } else {
        return e;
    };
    let policies = entra
        .claims
        .as_deref()
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| {
            v["access_token"]["capolids"]["values"].as_array().map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        })
        .filter(|s| !s.is_empty());
    let message = match policies {
        Some(p) => format!("sign-in refused: {kind} (AADSTS{code}; policy {p})"),
        None => format!("sign-in refused: {kind} (AADSTS{code})"),
    };
    let mut out = Error::new(ErrorKind::Authentication, message)
        .with_hint("signing in again will not help: ask your administrator about the policy, or use a device and location it allows");
    if let Some(s) = e.status() {
        out = out.with_status(s);
    }
    out.with_source(e)
}

/// The claims of a JWT (no signature check: the token came over TLS from the token endpoint).
fn jwt_claims(jwt: &str) -> Option<serde_json::Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes =
        zeroize::Zeroizing::new(URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?);
    serde_json::from_slice(&bytes).ok()
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_scopes() {
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert!(!is_guid("organizations"));
        assert_eq!(
            user_scope("https://management.core.windows.net//.default"),
            "https://management.core.windows.net//.default offline_access openid profile"
        );
    }

    #[test]
    fn blocked_by_conditional_access_names_the_policy() {
        let body = br#"{"error":"access_denied","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies.","error_codes":[53003],"claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"pol-1\"]}}}"}"#;
        let e = Error::from_entra(400, EntraError::from_json(body).unwrap());
        assert!(!needs_interaction(&e));
        let e = conditional_access_error(e);
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(e.message().contains("blocks this sign-in"), "{e}");
        assert!(e.message().contains("AADSTS53003; policy pol-1"), "{e}");
        let mfa = br#"{"error":"interaction_required","error_description":"AADSTS50076: MFA","error_codes":[50076],"claims":"{}"}"#;
        let e = Error::from_entra(400, EntraError::from_json(mfa).unwrap());
        assert!(needs_interaction(&e));
        assert_eq!(
            conditional_access_error(e).message(),
            "the identity service refused the request (HTTP 400): AADSTS50076: MFA"
        );
    }

    #[test]
    fn jwt_payloads() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"tid":"t1"}"#);
        assert_eq!(jwt_claims(&format!("h.{payload}.s")).unwrap()["tid"], "t1");
        assert!(jwt_claims("opaque").is_none());
    }
}
