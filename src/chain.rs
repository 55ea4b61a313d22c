//! A chain of credentials: the first that applies here gets the token (the rule is on
//! [`ChainedCredential`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{AccessToken, Error, ErrorKind, TokenCredential, TokenFuture, TokenRequest};

/// Tries credentials in order until one applies.
///
/// A credential that does not apply here ([`ErrorKind::Unavailable`]: not configured, no
/// managed identity endpoint, az not installed or not logged in) passes to the next at once;
/// any other error (a wrong secret, a Conditional Access block, a service that fails) stops
/// the chain, because trying another identity would hide a real problem. The credential that
/// answered is remembered and asked first from then on.
///
/// ```
/// use std::sync::Arc;
/// use azureml_auth::ChainedCredential;
/// # use azureml_auth::{TokenCredential, TokenRequest, Error, core::TokenFuture};
/// # #[derive(Debug)] struct Nothing;
/// # impl TokenCredential for Nothing {
/// #     fn get_token<'a>(&'a self, _: &'a TokenRequest) -> TokenFuture<'a> {
/// #         Box::pin(async { Err(Error::unavailable("nothing configured")) })
/// #     }
/// #     fn name(&self) -> &'static str { "nothing" }
/// # }
/// let chain = ChainedCredential::new(vec![Arc::new(Nothing), Arc::new(Nothing)])?;
/// assert_eq!(chain.names(), ["nothing", "nothing"]);
/// # Ok::<(), Error>(())
/// ```
pub struct ChainedCredential {
    credentials: Vec<Arc<dyn TokenCredential>>,
    /// The index of the credential that last got a token, plus one (0: none yet).
    chosen: AtomicUsize,
}

impl fmt::Debug for ChainedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainedCredential")
            .field("credentials", &self.names())
            .field("chosen", &self.chosen().map(|c| c.name()))
            .finish()
    }
}

impl ChainedCredential {
    /// The name errors and logs use.
    pub const NAME: &'static str = "chained credential";

    /// A chain of `credentials`, asked in this order; an empty chain is an error.
    pub fn new(credentials: Vec<Arc<dyn TokenCredential>>) -> Result<Self, Error> {
        if credentials.is_empty() {
            return Err(
                Error::configuration("a credential chain needs at least one credential")
                    .with_credential(Self::NAME),
            );
        }
        Ok(Self {
            credentials,
            chosen: AtomicUsize::new(0),
        })
    }

    /// The names of the credentials, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.credentials.iter().map(|c| c.name()).collect()
    }

    /// The credential that got the last token, once one has.
    pub fn chosen(&self) -> Option<&dyn TokenCredential> {
        match self.chosen.load(Ordering::Acquire) {
            0 => None,
            i => self.credentials.get(i - 1).map(|c| &**c),
        }
    }

    /// Gets a token from the remembered credential, or the first in order that applies.
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        if let Some(chosen) = self.chosen() {
            return chosen.get_token(request).await;
        }
        let mut unavailable = Vec::new();
        for (i, credential) in self.credentials.iter().enumerate() {
            match credential.get_token(request).await {
                Ok(token) => {
                    tracing::info!(
                        credential = credential.name(),
                        "credential chain: using {}",
                        credential.name()
                    );
                    self.chosen.store(i + 1, Ordering::Release);
                    return Ok(token);
                }
                Err(e) if e.kind() == ErrorKind::Unavailable => {
                    tracing::debug!(credential = credential.name(), error = %e, "credential chain: not available, trying the next");
                    unavailable.push(named(e, credential.name()));
                }
                Err(e) => {
                    let e = named(e, credential.name());
                    return Err(if unavailable.is_empty() {
                        e
                    } else {
                        // The earlier, unavailable credentials explain why this one was asked.
                        let mut attempts = unavailable;
                        attempts.extend(e.attempts().iter().cloned());
                        e.with_attempts(attempts)
                    });
                }
            }
        }
        Err(Error::unavailable(format!(
            "none of the {} credentials in the chain applies here ({})",
            self.credentials.len(),
            self.names().join(", ")
        ))
        .with_hint("configure one of them: the reason each gave is listed below")
        .with_credential(Self::NAME)
        .with_attempts(unavailable))
    }
}

/// What the [default chain](ChainedCredential::from_env) is built from: each flow's options,
/// for the flows whose features are on. `Default` gives each flow's defaults.
#[cfg(any(
    feature = "service-principal",
    feature = "managed-identity",
    feature = "azure-cli"
))]
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct DefaultChainOptions {
    /// Options of the environment's service principal (feature `service-principal`).
    #[cfg(feature = "service-principal")]
    pub service_principal: auth_sp::ServicePrincipalOptions,
    /// Options of the managed identity (feature `managed-identity`); the chain turns probe
    /// mode on.
    #[cfg(feature = "managed-identity")]
    pub managed_identity: auth_msi::ManagedIdentityOptions,
    /// Options of the Azure CLI session (feature `azure-cli`); the chain gives it its
    /// environment.
    #[cfg(feature = "azure-cli")]
    pub azure_cli: auth_cli::AzureCliOptions,
}

#[cfg(any(
    feature = "service-principal",
    feature = "managed-identity",
    feature = "azure-cli"
))]
impl ChainedCredential {
    /// The chain for code that runs both on a laptop and on Azure, in SDK v1's spirit: the
    /// service principal `env` names (`AZURE_*`, `AML_*`, `AZURE_AUTH_LOCATION`), then the
    /// managed identity of the host (in probe mode, so off Azure it passes on within about a
    /// second), then the session of `az login`. Each is included when its feature is on.
    /// Interactive sign-in is never part of it: a chain must not open a browser by surprise.
    ///
    /// Fails only for a configuration that is wrong rather than absent, such as a managed
    /// identity endpoint that is neither https nor local.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use azureml_auth::{ChainedCredential, DefaultChainOptions, ProcessEnv, TokenRequest};
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), azureml_auth::Error> {
    /// let chain = ChainedCredential::from_env(Arc::new(ProcessEnv), DefaultChainOptions::default())?;
    /// let token = chain.get_token(&TokenRequest::for_resource("https://ml.azure.com")?).await?;
    /// println!("{} answered; the token lasts until {:?}", chain.chosen().map_or("none", |c| c.name()), token.expires_on());
    /// # Ok(()) }
    /// ```
    pub fn from_env(
        env: Arc<dyn auth_core::Env>,
        options: DefaultChainOptions,
    ) -> Result<Self, Error> {
        let mut chain: Vec<Arc<dyn TokenCredential>> = Vec::new();
        #[cfg(feature = "service-principal")]
        chain.push(Arc::new(auth_sp::EnvironmentCredential::from_env(
            &*env,
            options.service_principal,
        )));
        #[cfg(feature = "managed-identity")]
        {
            let name = auth_msi::ManagedIdentityCredential::NAME;
            match auth_msi::ManagedIdentityCredential::from_env(
                &*env,
                options.managed_identity.probe(true),
            ) {
                Ok(c) => chain.push(Arc::new(c)),
                // An incomplete source (IDENTITY_ENDPOINT alone) is absent, not wrong.
                Err(e) if e.kind() == ErrorKind::Unavailable => {
                    chain.push(Arc::new(Unusable { name, error: e }));
                }
                Err(e) => return Err(e),
            }
        }
        #[cfg(feature = "azure-cli")]
        chain.push(Arc::new(auth_cli::AzureCliCredential::new(
            options.azure_cli.env(env.clone()),
        )?));
        Self::new(chain)
    }
}

/// A credential that could not be built because it does not apply here: every request fails
/// with the reason.
#[cfg(feature = "managed-identity")]
#[derive(Debug)]
struct Unusable {
    name: &'static str,
    error: Error,
}

#[cfg(feature = "managed-identity")]
impl TokenCredential for Unusable {
    fn get_token<'a>(&'a self, _: &'a TokenRequest) -> TokenFuture<'a> {
        let e = self.error.clone();
        Box::pin(async move { Err(e) })
    }

    fn name(&self) -> &'static str {
        self.name
    }
}

fn named(e: Error, name: &'static str) -> Error {
    auth_core::flow::named(e, name)
}

impl TokenCredential for ChainedCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(self.get_token(request))
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;
    use std::time::{Duration, SystemTime};

    use auth_core::{Secret, TokenType};

    use super::*;

    /// A credential that answers with `kind` (or a token when `None`) and counts its calls.
    #[derive(Debug)]
    struct Fixed {
        name: &'static str,
        kind: Option<ErrorKind>,
        calls: AtomicU32,
    }

    fn fixed(name: &'static str, kind: Option<ErrorKind>) -> Arc<Fixed> {
        Arc::new(Fixed {
            name,
            kind,
            calls: AtomicU32::new(0),
        })
    }

    impl TokenCredential for Fixed {
        fn get_token<'a>(&'a self, _: &'a TokenRequest) -> TokenFuture<'a> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let answer = match self.kind {
                None => Ok(AccessToken::from_lifetime(
                    Secret::new(format!("token-of-{}", self.name)),
                    TokenType::Bearer,
                    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                    Duration::from_secs(3600),
                    None,
                )),
                Some(kind) => Err(Error::new(kind, format!("{} says {kind}", self.name))),
            };
            Box::pin(async move { answer })
        }
        fn name(&self) -> &'static str {
            self.name
        }
    }

    fn request() -> TokenRequest {
        TokenRequest::for_resource("https://ml.azure.com").unwrap()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn unavailable_passes_on_and_the_one_that_answers_is_remembered() {
        let (env, msi, cli) = (
            fixed("env", Some(ErrorKind::Unavailable)),
            fixed("msi", None),
            fixed("cli", None),
        );
        let chain = ChainedCredential::new(vec![env.clone(), msi.clone(), cli.clone()]).unwrap();
        let t = block_on(chain.get_token(&request())).unwrap();
        assert_eq!(t.token().expose_secret(), "token-of-msi");
        assert_eq!(chain.chosen().unwrap().name(), "msi");
        block_on(chain.get_token(&request())).unwrap();
        assert_eq!(env.calls.load(Ordering::SeqCst), 1, "not probed again");
        assert_eq!(msi.calls.load(Ordering::SeqCst), 2);
        assert_eq!(cli.calls.load(Ordering::SeqCst), 0);
        assert!(format!("{chain:?}").contains("chosen: Some(\"msi\")"));
    }

    #[test]
    fn any_other_error_stops_the_chain_with_the_reasons_before_it() {
        let cli = fixed("cli", None);
        let chain = ChainedCredential::new(vec![
            fixed("env", Some(ErrorKind::Unavailable)),
            fixed("msi", Some(ErrorKind::Authentication)),
            cli.clone(),
        ])
        .unwrap();
        let e = block_on(chain.get_token(&request())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(e.credential(), Some("msi"));
        assert_eq!(e.attempts().len(), 1);
        assert_eq!(e.attempts()[0].credential(), Some("env"));
        assert_eq!(
            cli.calls.load(Ordering::SeqCst),
            0,
            "a real failure is not hidden"
        );
        assert!(chain.chosen().is_none());
    }

    #[test]
    fn all_unavailable_is_one_error_listing_each_reason() {
        let chain = ChainedCredential::new(vec![
            fixed("env", Some(ErrorKind::Unavailable)),
            fixed("msi", Some(ErrorKind::Unavailable)),
        ])
        .unwrap();
        let e = block_on(chain.get_token(&request())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "chained credential: none of the 2 credentials in the chain applies here (env, msi)"
            ),
            "{shown}"
        );
        assert!(shown.contains("\n  - env: env says unavailable"), "{shown}");
        assert!(shown.contains("\n  - msi: msi says unavailable"), "{shown}");
        assert!(ChainedCredential::new(Vec::new()).is_err());
    }
}
