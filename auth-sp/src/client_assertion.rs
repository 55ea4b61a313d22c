//! `ClientAssertionCredential`: the app signs in with an assertion issued by another identity
//! provider (workload identity federation, §3.4): read from a file that the platform rotates,
//! or given by a callback.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use auth_core::{AccessToken, Env, Error, Secret, TokenCredential, TokenFuture, TokenRequest};

use crate::ServicePrincipalOptions;
use crate::flow::{Flow, with_assertion};
use crate::shared::{ShownPath, read_secret_file};

type Callback = dyn Fn() -> Result<Secret, Error> + Send + Sync;

/// The future an asynchronous assertion callback returns.
pub type AssertionFuture = Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send>>;

type AsyncCallback = dyn Fn() -> AssertionFuture + Send + Sync;

enum Source {
    File(PathBuf),
    Callback(Arc<Callback>),
    AsyncCallback(Arc<AsyncCallback>),
}

/// The assertion in the federated token file at `path`. It is read for each token request sent
/// (its retries reuse it), as the platform rotates it; that is only when no cached token is
/// fresh (§3.4).
fn read_token_file(path: &Path) -> Result<Secret, Error> {
    let bytes = read_secret_file(path).map_err(|e| {
        Error::configuration(format!(
            "could not read the federated token file {}: {e}",
            ShownPath(path)
        ))
        .with_hint("check AZURE_FEDERATED_TOKEN_FILE or the path given to the credential")
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::configuration(format!(
            "the federated token file {} is not UTF-8 text",
            ShownPath(path)
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::configuration(format!(
            "the federated token file {} is empty",
            ShownPath(path)
        ))
        .with_hint("check that the platform projects the service account token into this file (AZURE_FEDERATED_TOKEN_FILE)"));
    }
    Ok(Secret::new(token))
}

/// A service principal (or user-assigned managed identity) signing in with a federated token:
/// a JWT from another identity provider sent as the client assertion.
///
/// From a file (`AZURE_FEDERATED_TOKEN_FILE`, Kubernetes workload identity), read again for
/// each token request that reaches the service (the platform rotates it), or from a callback
/// called for each such request.
pub struct ClientAssertionCredential {
    flow: Flow,
    source: Source,
}

impl fmt::Debug for ClientAssertionCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.flow.debug_struct(f, "ClientAssertionCredential");
        match &self.source {
            Source::File(path) => d.field("token_file", &ShownPath(path)),
            Source::Callback(_) => d.field("source", &"callback"),
            Source::AsyncCallback(_) => d.field("source", &"async callback"),
        };
        d.finish_non_exhaustive()
    }
}

impl ClientAssertionCredential {
    /// The name in errors and logs.
    pub const NAME: &'static str = "client assertion credential";

    /// A credential whose assertion `callback` gives (called once per request sent).
    pub fn from_callback<F>(
        tenant_id: &str,
        client_id: &str,
        callback: F,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error>
    where
        F: Fn() -> Result<Secret, Error> + Send + Sync + 'static,
    {
        Ok(Self {
            flow: Flow::new(Self::NAME, tenant_id, client_id, &options)?,
            source: Source::Callback(Arc::new(callback)),
        })
    }

    /// A credential whose assertion an asynchronous `callback` gives (such as a CI system's
    /// OIDC endpoint), called once per token request that reaches the service; the retries of
    /// one request reuse its assertion.
    pub fn from_async_callback<F>(
        tenant_id: &str,
        client_id: &str,
        callback: F,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error>
    where
        F: Fn() -> AssertionFuture + Send + Sync + 'static,
    {
        Ok(Self {
            flow: Flow::new(Self::NAME, tenant_id, client_id, &options)?,
            source: Source::AsyncCallback(Arc::new(callback)),
        })
    }

    /// A credential reading its assertion from `path` (see the type's documentation). The
    /// file is first read when a token is needed, not here.
    pub fn from_file(
        tenant_id: &str,
        client_id: &str,
        path: impl AsRef<Path>,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        if path.as_os_str().is_empty() {
            return Err(
                Error::configuration("the federated token file path is empty")
                    .with_credential(Self::NAME),
            );
        }
        Ok(Self {
            flow: Flow::new(Self::NAME, tenant_id, client_id, &options)?,
            source: Source::File(path.to_owned()),
        })
    }

    /// Workload identity: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_FEDERATED_TOKEN_FILE`
    /// (and `AZURE_AUTHORITY_HOST` unless `options` names a cloud). `Unavailable` when
    /// `AZURE_FEDERATED_TOKEN_FILE` is not set (the other two also serve other credentials); a
    /// configuration error naming what is missing when it is set without them.
    pub fn workload_identity(
        env: &dyn Env,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        const VARS: [&str; 3] = [
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_FEDERATED_TOKEN_FILE",
        ];
        let [tenant, client, file] = VARS.map(|v| env.var(v));
        let Some(file) = file else {
            // AZURE_TENANT_ID and AZURE_CLIENT_ID alone also serve other credentials.
            return Err(Error::unavailable(
                "workload identity is not configured: AZURE_FEDERATED_TOKEN_FILE is not set",
            )
            .with_credential(Self::NAME));
        };
        let (Some(tenant), Some(client)) = (tenant.as_ref(), client.as_ref()) else {
            let missing: Vec<&str> = [(VARS[0], &tenant), (VARS[1], &client)]
                .into_iter()
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| n)
                .collect();
            return Err(Error::configuration(format!(
                "workload identity is partly configured: {} not set (looked at {})",
                missing.join(", "),
                VARS.join(", ")
            ))
            .with_credential(Self::NAME));
        };
        let options = crate::environment::with_env_defaults(env, options)
            .map_err(|e| e.with_credential(Self::NAME))?;
        Self::from_file(tenant, client, file, options)
    }

    /// The tenant the credential signs in to.
    pub fn tenant_id(&self) -> &str {
        self.flow.tenant.as_str()
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &str {
        &self.flow.client_id
    }

    /// How the attempts of one token request get their assertion: a callback is called for
    /// each; a file is read once, here, off the async runtime (a slow or network file system
    /// must not stall its worker), and an asynchronous callback awaited once, and reused.
    async fn assertions(
        &self,
    ) -> Result<Box<dyn Fn() -> Result<Secret, Error> + Send + Sync + '_>, Error> {
        Ok(match &self.source {
            Source::File(path) => {
                let path = path.clone();
                let assertion = auth_core::blocking::run(move || read_token_file(&path)).await?;
                Box::new(move || Ok(assertion.clone()))
            }
            Source::Callback(cb) => Box::new(|| non_empty(cb()?)),
            Source::AsyncCallback(cb) => {
                let assertion = non_empty(cb().await?)?;
                Box::new(move || Ok(assertion.clone()))
            }
        })
    }

    /// Gets a token (from the cache when fresh).
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        self.flow
            .get_token(
                request,
                || self.assertions(),
                |form, _, assertion| Ok(with_assertion(form, &assertion()?)),
            )
            .await
    }
}

fn non_empty(assertion: Secret) -> Result<Secret, Error> {
    if assertion.expose_secret().trim().is_empty() {
        return Err(Error::configuration(
            "the assertion callback returned an empty assertion",
        ));
    }
    Ok(assertion)
}

impl TokenCredential for ClientAssertionCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(ClientAssertionCredential::get_token(self, request))
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use auth_core::ErrorKind;
    use auth_core::entra::JWT_BEARER_ASSERTION_TYPE;

    use super::*;
    use crate::testutil::{OK, env, fake};

    fn arm() -> TokenRequest {
        TokenRequest::for_resource("https://management.core.windows.net/").unwrap()
    }

    #[tokio::test]
    async fn file_is_read_again_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("auth-sp-fed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "eyJ.first.jwt\n").unwrap();
        let (pipeline, seen) = fake(200, OK);
        let c = ClientAssertionCredential::from_file(
            "t",
            "c",
            &path,
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        c.get_token(&arm()).await.unwrap();
        // Same file, same assertion (and a cached token sends nothing).
        c.get_token(&arm().with_claims("{}")).await.unwrap();
        std::fs::write(&path, "eyJ.second-rotated.jwt").unwrap();
        c.get_token(&arm().with_claims("{}")).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        assert_eq!(
            seen[0].names(),
            [
                "client_id",
                "grant_type",
                "scope",
                "client_assertion_type",
                "client_assertion"
            ]
        );
        assert_eq!(
            seen[0].field("client_assertion_type"),
            Some(JWT_BEARER_ASSERTION_TYPE)
        );
        assert_eq!(seen[0].field("client_assertion"), Some("eyJ.first.jwt"));
        assert_eq!(seen[1].field("client_assertion"), Some("eyJ.first.jwt"));
        assert_eq!(
            seen[2].field("client_assertion"),
            Some("eyJ.second-rotated.jwt")
        );

        std::fs::write(&path, "  \n").unwrap();
        let e = c.get_token(&arm().with_claims("{}")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration);
        assert!(
            e.to_string()
                .starts_with("client assertion credential: the federated token file"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let e = c.get_token(&arm().with_claims("{}")).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("could not read the federated token file"),
            "{e}"
        );
        assert!(format!("{c:?}").contains("token_file"));
    }

    #[tokio::test]
    async fn a_rewrite_with_the_same_length_and_time_is_read() {
        let dir = std::env::temp_dir().join(format!("auth-sp-fed-same-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "eyJ.first.jwt").unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let (pipeline, seen) = fake(200, OK);
        let c = ClientAssertionCredential::from_file(
            "t",
            "c",
            &path,
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        c.get_token(&arm()).await.unwrap();
        std::fs::write(&path, "eyJ.other.jwt").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        c.get_token(&arm().with_claims("{}")).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[1].field("client_assertion"), Some("eyJ.other.jwt"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn callback_is_called_per_request_sent() {
        let calls = Arc::new(AtomicUsize::new(0));
        let n = calls.clone();
        let (pipeline, seen) = fake(200, OK);
        let c = ClientAssertionCredential::from_callback(
            "t",
            "c",
            move || {
                Ok(Secret::new(format!(
                    "assertion-{}",
                    n.fetch_add(1, Ordering::SeqCst)
                )))
            },
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        c.get_token(&arm()).await.unwrap();
        c.get_token(&arm()).await.unwrap();
        c.get_token(&arm().with_claims("{}")).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[1].field("client_assertion"), Some("assertion-1"));
        assert_eq!(
            format!("{c:?}"),
            r#"ClientAssertionCredential { tenant_id: "t", client_id: "c", authority_host: "https://login.microsoftonline.com", source: "callback", .. }"#
        );
        let (pipeline, _) = fake(200, OK);
        let failing = ClientAssertionCredential::from_callback(
            "t",
            "c",
            || Err(Error::unavailable("no OIDC token here")),
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        let e = failing.get_token(&arm()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert_eq!(
            e.to_string(),
            "client assertion credential: no OIDC token here"
        );
    }

    #[tokio::test]
    async fn async_callback_is_awaited_once_per_request() {
        let calls = Arc::new(AtomicUsize::new(0));
        let n = calls.clone();
        let (pipeline, seen) = fake(200, OK);
        let c = ClientAssertionCredential::from_async_callback(
            "t",
            "c",
            move || {
                let i = n.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move { Ok(Secret::new(format!("oidc-{i}"))) })
            },
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        c.get_token(&arm()).await.unwrap();
        c.get_token(&arm()).await.unwrap();
        c.get_token(&arm().with_claims("{}")).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[0].field("client_assertion"), Some("oidc-0"));
        assert_eq!(seen[1].field("client_assertion"), Some("oidc-1"));
        assert!(format!("{c:?}").contains("async callback"));

        let (pipeline, seen) = fake(200, OK);
        let empty = ClientAssertionCredential::from_async_callback(
            "t",
            "c",
            || Box::pin(async { Ok(Secret::new(" ")) }),
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        let e = empty.get_token(&arm()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration);
        assert!(e.to_string().contains("empty assertion"), "{e}");
        assert!(seen.lock().unwrap().is_empty());
    }

    fn check_workload(pairs: &[(&str, &str)], expected: &str) {
        let (pipeline, _) = fake(200, OK);
        let got = ClientAssertionCredential::workload_identity(
            &env(pairs),
            ServicePrincipalOptions::new().pipeline(pipeline),
        );
        let shown = match got {
            Ok(c) => format!("{c:?}"),
            Err(e) => format!("{}: {e}", e.kind()),
        };
        assert!(shown.contains(expected), "{pairs:?}: {shown}");
    }

    #[test]
    fn workload_identity_from_env() {
        let f = (
            "AZURE_FEDERATED_TOKEN_FILE",
            "/var/run/secrets/azure/tokens/azure-identity-token",
        );
        let t = ("AZURE_TENANT_ID", "t");
        let c = ("AZURE_CLIENT_ID", "c");
        check_workload(
            &[],
            "unavailable: client assertion credential: workload identity is not configured",
        );
        check_workload(
            &[t, c],
            "unavailable: client assertion credential: workload identity is not configured: AZURE_FEDERATED_TOKEN_FILE is not set",
        );
        check_workload(
            &[f],
            "configuration: client assertion credential: workload identity is partly configured: AZURE_TENANT_ID, AZURE_CLIENT_ID not set (looked at AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE)",
        );
        check_workload(
            &[t, f],
            "configuration: client assertion credential: workload identity is partly configured: AZURE_CLIENT_ID not set",
        );
        check_workload(&[t, c, f], "azure-identity-token");
        check_workload(
            &[
                t,
                c,
                f,
                ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
            ],
            "authority_host: \"https://login.microsoftonline.us\"",
        );
    }
}
