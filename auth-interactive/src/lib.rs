//! Interactive sign-in for Azure Machine Learning: a person signs in through the browser
//! (authorization code with PKCE and a loopback redirect) or with a device code, and is
//! remembered, as with SDK v1's `InteractiveLoginAuthentication`.
//!
//! It is one of the flow crates of azureml-auth and depends on `auth-core` only.
//!
//! - [`InteractiveBrowserCredential`]: the system browser (or any [`Browser`]) opens the
//!   authorize page; a listener on `127.0.0.1` (a free port, written `http://localhost:{port}`
//!   in the redirect URI) takes the one code that comes back with the right `state`, shows a
//!   "you can close this window" page and closes. PKCE S256, `prompt=select_account`,
//!   `login_hint`, `domain_hint`, any tenant (GUID, domain, `organizations`), the Azure CLI
//!   public client id by default (SDK v1 uses it), any client id on request. With no display,
//!   in an SSH session, or when no browser starts, it falls back to the device code flow.
//! - [`DeviceCodeCredential`]: the device code flow; the message goes to a callback
//!   ([`InteractiveOptions::device_code_prompt`]), polling follows the spec (interval,
//!   `slow_down`, `expired_token`, `authorization_declined`).
//! - [`PersistentCache`]: accounts and refresh tokens in a file only its owner can read,
//!   written atomically, locked across processes, HMAC-checked; a refresh token gets tokens
//!   silently for any scope, in any process sharing the file. [`AuthenticationRecord`] names
//!   the account for a later silent sign-in; `sign_out` forgets it.
//! - Conditional Access: an `interaction_required` answer with claims (MFA, device compliance)
//!   leads to one interactive sign-in with those claims, never a loop; a block (AADSTS53003 and
//!   the device policies) is a clear error naming the policy kind; a token whose `tid` is not
//!   the requested tenant (a GUID) is refused, as SDK v1 refuses it.
//!
//! Access and refresh tokens, codes, verifiers and device codes stay in
//! [`auth_core::Secret`]s: never in `Debug`, errors or logs.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), auth_core::Error> {
//! use auth_core::{ProcessEnv, TokenRequest};
//! use auth_interactive::{InteractiveBrowserCredential, InteractiveOptions, PersistentCache};
//! let credential = InteractiveBrowserCredential::new(
//!     InteractiveOptions::new()
//!         .tenant_id("contoso.onmicrosoft.com")?
//!         .persistent_cache(PersistentCache::default_location(&ProcessEnv)?),
//! )?;
//! let token = credential.get_token(&TokenRequest::for_resource("https://management.core.windows.net/")?).await?;
//! # Ok(()) }
//! ```
//!
//! # Crate features
//!
//! - `reqwest` (off by default): credentials built without a pipeline use
//!   `auth_core::Pipeline::shared()`.
#![forbid(unsafe_code)]

mod cache;
mod device;
mod loopback;
mod options;
mod random;
mod user;

use std::fmt;

use auth_core::{AccessToken, Error, TokenCredential, TokenFuture, TokenRequest};

pub use cache::{AuthenticationRecord, PersistentCache};
pub use options::{
    AZURE_CLI_CLIENT_ID, Browser, DEFAULT_BROWSER_TIMEOUT, DeviceCodeInfo, DeviceCodePrompt,
    InteractiveOptions, SystemBrowser,
};

use user::{Mode, UserFlow};

macro_rules! user_credential {
    ($name:ident, $mode:expr, $display:literal, $doc:literal) => {
        #[doc = $doc]
        pub struct $name {
            flow: UserFlow,
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let o = &self.flow.options;
                f.debug_struct(stringify!($name))
                    .field("tenant_id", &o.tenant.as_str())
                    .field("client_id", &o.client_id)
                    .field("authority_host", &self.flow.cloud.authority_host())
                    .field("cache", &o.cache.as_ref().map(PersistentCache::path))
                    .finish_non_exhaustive()
            }
        }

        impl $name {
            /// The name in errors and logs.
            pub const NAME: &'static str = $display;

            /// A credential with `options`.
            pub fn new(options: InteractiveOptions) -> Result<Self, Error> {
                Ok(Self {
                    flow: UserFlow::new(Self::NAME, $mode, options)?,
                })
            }

            /// Gets a token: from memory when fresh, else silently with the account's refresh
            /// token, else (unless disabled) by an interactive sign-in.
            pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
                self.flow.get_token(request).await
            }

            /// Signs in interactively now (for `request`'s scopes and tenant) and returns the
            /// account, for [`InteractiveOptions::authentication_record`] later.
            pub async fn authenticate(
                &self,
                request: &TokenRequest,
            ) -> Result<AuthenticationRecord, Error> {
                self.flow.authenticate(request).await
            }

            /// The account this credential signs in as silently, if one is stored.
            pub async fn account(&self) -> Result<Option<AuthenticationRecord>, Error> {
                self.flow.account().await
            }

            /// Signs out: forgets the account, its refresh token and the cached tokens.
            pub async fn sign_out(&self) -> Result<(), Error> {
                self.flow.sign_out().await
            }
        }

        impl TokenCredential for $name {
            fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
                Box::pin($name::get_token(self, request))
            }

            fn name(&self) -> &'static str {
                Self::NAME
            }
        }
    };
}

user_credential!(
    InteractiveBrowserCredential,
    Mode::Browser,
    "interactive browser credential",
    "A person signing in through a browser (authorization code + PKCE, loopback redirect), with the device code flow as the fallback where no browser can be opened."
);

user_credential!(
    DeviceCodeCredential,
    Mode::DeviceCode,
    "device code credential",
    "A person signing in with a device code on another device's browser."
);
