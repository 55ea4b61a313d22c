//! `ClientCertificateCredential`: the app signs a JWT client assertion with its certificate's
//! key (§3.3).

use std::collections::HashMap;
use std::fmt;
use std::future::ready;
use std::path::Path;
use std::sync::Mutex;

use auth_core::{AccessToken, Error, Secret, TokenCredential, TokenFuture, TokenRequest};
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RSA_PSS_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use crate::flow::{Flow, with_assertion};
use crate::{ClientCertificate, ServicePrincipalOptions};

/// Lifetime of a signed client assertion (`exp` − `iat`), as MSAL uses.
pub const ASSERTION_LIFETIME_SECS: u64 = 600;
/// An assertion is reused until this long before its `exp`, then a new one is signed (§6.3).
pub const ASSERTION_REUSE_MARGIN_SECS: u64 = 60;
/// At most this many audiences (tenants) keep a reusable assertion.
const MAX_CACHED_ASSERTIONS: usize = 16;

#[derive(serde::Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5c: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<&'a str>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    x5t_s256: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: &'a str,
    nbf: u64,
    iat: u64,
    exp: u64,
}

/// Signs client assertions for one certificate, reusing each until shortly before it expires.
pub(crate) struct AssertionSigner {
    certificate: ClientCertificate,
    legacy: bool,
    send_chain: bool,
    /// Token URL (`aud`) → (assertion, `exp`).
    issued: Mutex<HashMap<String, (Secret, u64)>>,
}

impl AssertionSigner {
    pub(crate) fn new(certificate: ClientCertificate, legacy: bool, send_chain: bool) -> Self {
        Self {
            certificate,
            legacy,
            send_chain,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// The assertion for `aud` at `now` (seconds since the epoch): the last one signed for
    /// `aud` while it has more than [`ASSERTION_REUSE_MARGIN_SECS`] left, else a new one.
    pub(crate) fn assertion(&self, client_id: &str, aud: &str, now: u64) -> Result<Secret, Error> {
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((a, exp)) = issued.get(aud)
            && now + ASSERTION_REUSE_MARGIN_SECS < *exp
        {
            return Ok(a.clone());
        }
        let (assertion, exp) = self.sign(client_id, aud, now)?;
        if issued.len() >= MAX_CACHED_ASSERTIONS {
            issued.clear();
        }
        issued.insert(aud.to_owned(), (assertion.clone(), exp));
        Ok(assertion)
    }

    /// Signs a new assertion: header, claims, RSA signature, each base64url without padding.
    pub(crate) fn sign(
        &self,
        client_id: &str,
        aud: &str,
        now: u64,
    ) -> Result<(Secret, u64), Error> {
        let c = &self.certificate;
        let header = Header {
            alg: if self.legacy { "RS256" } else { "PS256" },
            typ: "JWT",
            x5c: self.send_chain.then(|| c.x5c()),
            x5t: self.legacy.then(|| c.x5t()),
            x5t_s256: (!self.legacy).then(|| c.x5t_s256()),
        };
        let jti = crate::shared::random_uuid()?;
        let exp = now + ASSERTION_LIFETIME_SECS;
        let claims = Claims {
            aud,
            iss: client_id,
            sub: client_id,
            jti: &jti,
            nbf: now,
            iat: now,
            exp,
        };
        let mut out = Zeroizing::new(String::with_capacity(1024));
        out.push_str(&URL_SAFE_NO_PAD.encode(to_json(&header)?));
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(to_json(&claims)?));
        let key = c.key();
        let mut signature = Zeroizing::new(vec![0u8; key.public_modulus_len()]);
        let alg = if self.legacy {
            &RSA_PKCS1_SHA256
        } else {
            &RSA_PSS_SHA256
        };
        key.sign(
            alg,
            &aws_lc_rs::rand::SystemRandom::new(),
            out.as_bytes(),
            &mut signature,
        )
        .map_err(|_| Error::configuration("signing the client assertion failed"))?;
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(&*signature));
        Ok((Secret::new(std::mem::take(&mut *out)), exp))
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value)
        .map_err(|_| Error::configuration("could not encode the client assertion"))
}

/// A service principal signing in with a certificate: each request carries a JWT client
/// assertion signed with the certificate's RSA key.
///
/// By default the assertion has the current form (`PS256`, `x5t#S256`) without the chain;
/// [`ServicePrincipalOptions::legacy_assertion`] selects `RS256` with `x5t`, and
/// [`ServicePrincipalOptions::send_certificate_chain`] adds `x5c` (subject name + issuer
/// authentication). One assertion is reused until [`ASSERTION_REUSE_MARGIN_SECS`] before it
/// expires; a retry near that point signs a new one.
pub struct ClientCertificateCredential {
    flow: Flow,
    signer: AssertionSigner,
}

impl fmt::Debug for ClientCertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.flow
            .debug_struct(f, "ClientCertificateCredential")
            .field("thumbprint", &self.signer.certificate.thumbprint())
            .field("legacy_assertion", &self.signer.legacy)
            .field("send_certificate_chain", &self.signer.send_chain)
            .finish_non_exhaustive()
    }
}

impl ClientCertificateCredential {
    /// The name in errors and logs.
    pub const NAME: &'static str = "client certificate credential";

    /// A credential for app `client_id` in `tenant_id` with a loaded certificate.
    pub fn new(
        tenant_id: &str,
        client_id: &str,
        certificate: ClientCertificate,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        Ok(Self {
            flow: Flow::new(Self::NAME, tenant_id, client_id, &options)?,
            signer: AssertionSigner::new(
                certificate,
                options.legacy_assertion,
                options.send_certificate_chain,
            ),
        })
    }

    /// A credential reading a PEM or PKCS#12 file (see [`ClientCertificate::from_file`]).
    pub fn from_file(
        tenant_id: &str,
        client_id: &str,
        path: impl AsRef<Path>,
        password: Option<&Secret>,
        options: ServicePrincipalOptions,
    ) -> Result<Self, Error> {
        let certificate = ClientCertificate::from_file(path, password)
            .map_err(|e| e.with_credential(Self::NAME))?;
        Self::new(tenant_id, client_id, certificate, options)
    }

    /// The tenant the credential signs in to.
    pub fn tenant_id(&self) -> &str {
        self.flow.tenant.as_str()
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &str {
        &self.flow.client_id
    }

    /// The certificate.
    pub fn certificate(&self) -> &ClientCertificate {
        &self.signer.certificate
    }

    /// Gets a token (from the cache when fresh).
    pub async fn get_token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        self.flow
            .get_token(
                request,
                || ready(Ok(())),
                |form, url, ()| {
                    let now = self.flow.pipeline.clock().now_unix_secs();
                    let assertion = self.signer.assertion(&self.flow.client_id, url, now)?;
                    Ok(with_assertion(form, &assertion))
                },
            )
            .await
    }
}

impl TokenCredential for ClientCertificateCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(ClientCertificateCredential::get_token(self, request))
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{
        KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey,
    };
    use serde_json::{Value, json};

    use super::*;
    use crate::certificate::tests::fixture;

    const AUD: &str = "https://login.example/tenant/oauth2/v2.0/token";
    const NOW: u64 = 1_800_000_000;

    fn signer(legacy: bool, chain: bool) -> AssertionSigner {
        let cert = ClientCertificate::from_bytes(&fixture("chain-ca-first.pem"), None).unwrap();
        AssertionSigner::new(cert, legacy, chain)
    }

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    /// Signs an assertion and checks its header, claims and signature.
    fn check(legacy: bool, chain: bool, expected_header: Value) {
        let s = signer(legacy, chain);
        let (assertion, exp) = s.sign("client-1", AUD, NOW).unwrap();
        let parts: Vec<&str> = assertion.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| !p.contains('=')), "unpadded segments");
        assert_eq!(decode(parts[0]), expected_header);
        let claims = decode(parts[1]);
        let jti = claims["jti"].as_str().unwrap().to_owned();
        assert_eq!(jti.len(), 36);
        assert_eq!(
            claims,
            json!({"aud": AUD, "iss": "client-1", "sub": "client-1", "jti": jti,
                   "nbf": NOW, "iat": NOW, "exp": NOW + 600})
        );
        assert_eq!(exp, NOW + ASSERTION_LIFETIME_SECS);
        let alg: &dyn aws_lc_rs::signature::VerificationAlgorithm = if legacy {
            &RSA_PKCS1_2048_8192_SHA256
        } else {
            &RSA_PSS_2048_8192_SHA256
        };
        let public = s.certificate.key().public_key().as_ref().to_vec();
        let signed = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(alg, &public)
            .verify(
                signed.as_bytes(),
                &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            )
            .expect("valid signature");
        // The header's members come in MSAL's order.
        let header = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert!(header.starts_with(r#"{"alg":"#), "{header}");
    }

    #[test]
    fn assertion_forms() {
        let c = signer(false, false).certificate;
        let x5c: Vec<String> = c.x5c();
        assert_eq!(x5c.len(), 2);
        check(
            false,
            false,
            json!({"alg": "PS256", "typ": "JWT", "x5t#S256": c.x5t_s256()}),
        );
        check(
            true,
            false,
            json!({"alg": "RS256", "typ": "JWT", "x5t": c.x5t()}),
        );
        check(
            false,
            true,
            json!({"alg": "PS256", "typ": "JWT", "x5c": x5c, "x5t#S256": c.x5t_s256()}),
        );
        check(
            true,
            true,
            json!({"alg": "RS256", "typ": "JWT", "x5c": x5c, "x5t": c.x5t()}),
        );
    }

    #[test]
    fn assertion_reuse() {
        let s = signer(false, false);
        let a = s.assertion("c", AUD, NOW).unwrap();
        // Reused while more than 60 s are left …
        assert_eq!(s.assertion("c", AUD, NOW + 100).unwrap(), a);
        assert_eq!(s.assertion("c", AUD, NOW + 539).unwrap(), a);
        // … then a new one (new jti) is signed.
        let b = s.assertion("c", AUD, NOW + 540).unwrap();
        assert_ne!(b, a);
        assert_eq!(s.assertion("c", AUD, NOW + 541).unwrap(), b);
        // Another audience (tenant) gets its own.
        let other = s
            .assertion(
                "c",
                "https://login.example/other/oauth2/v2.0/token",
                NOW + 541,
            )
            .unwrap();
        assert_ne!(other, b);
        assert_eq!(s.assertion("c", AUD, NOW + 542).unwrap(), b);
    }
}

#[cfg(test)]
mod credential_tests {
    use super::*;
    use crate::certificate::tests::{THUMBPRINT, fixture};
    use crate::testutil::{OK, fake};

    #[tokio::test]
    async fn form_and_debug() {
        let cert = ClientCertificate::from_bytes(&fixture("combined.pem"), None).unwrap();
        let (pipeline, seen) = fake(200, OK);
        let c = ClientCertificateCredential::new(
            "t",
            "c",
            cert,
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        let request = TokenRequest::for_resource("https://ml.azure.com").unwrap();
        c.get_token(&request).await.unwrap();
        c.get_token(&request.clone().with_claims("{}"))
            .await
            .unwrap();
        let seen = seen.lock().unwrap().clone();
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
            seen[0].field("scope"),
            Some("https://ml.azure.com/.default")
        );
        // One assertion serves both requests (it is far from expiry).
        assert_eq!(
            seen[0].field("client_assertion"),
            seen[1].field("client_assertion")
        );
        let assertion = seen[0].field("client_assertion").unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(assertion.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "PS256");
        assert_eq!(
            format!("{c:?}"),
            format!(
                "ClientCertificateCredential {{ tenant_id: \"t\", client_id: \"c\", authority_host: \"https://login.microsoftonline.com\", thumbprint: \"{THUMBPRINT}\", legacy_assertion: false, send_certificate_chain: false, .. }}"
            )
        );
        assert!(!format!("{c:?}").contains(&assertion[..20]));
    }
}

#[cfg(test)]
mod retry_tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use auth_core::http::{HttpRequest, HttpResponse, RetryPolicy, TokioSleep, TransportError};
    use auth_core::{Clock, Pipeline};

    use super::*;
    use crate::certificate::tests::fixture;

    #[derive(Debug)]
    struct FakeClock(AtomicU64);

    impl Clock for FakeClock {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
        }
    }

    /// The first attempt is answered 503 while the clock jumps `jump` seconds; the second
    /// succeeds. Returns the two assertions sent.
    async fn two_attempts(jump: u64) -> (String, String) {
        let clock = Arc::new(FakeClock(AtomicU64::new(1_800_000_000)));
        let sent = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let (c2, s2) = (clock.clone(), sent.clone());
        let transport = move |req: HttpRequest| {
            let body = String::from_utf8(req.body().clone()).unwrap();
            let assertion = body
                .split('&')
                .find_map(|p| p.strip_prefix("client_assertion="))
                .unwrap()
                .to_owned();
            let mut sent = s2.lock().unwrap();
            sent.push(assertion);
            let resp = if sent.len() == 1 {
                c2.0.fetch_add(jump, Ordering::SeqCst);
                http::Response::builder()
                    .status(503)
                    .header("retry-after", "0")
                    .body(Vec::new())
                    .unwrap()
            } else {
                http::Response::new(crate::testutil::OK.as_bytes().to_vec())
            };
            async move { Ok::<HttpResponse, TransportError>(resp) }
        };
        let retry = RetryPolicy {
            max_retries: 1,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(1),
            max_total: Duration::from_secs(3600),
            jitter: 0.0,
        };
        let pipeline = Pipeline::new(Arc::new(transport), Arc::new(TokioSleep))
            .with_retry(retry)
            .with_clock(clock);
        let cert = ClientCertificate::from_bytes(&fixture("combined.pem"), None).unwrap();
        let c = ClientCertificateCredential::new(
            "t",
            "c",
            cert,
            ServicePrincipalOptions::new().pipeline(pipeline),
        )
        .unwrap();
        c.get_token(&TokenRequest::for_resource("https://ml.azure.com").unwrap())
            .await
            .unwrap();
        let sent = sent.lock().unwrap();
        (sent[0].clone(), sent[1].clone())
    }

    #[tokio::test]
    async fn a_retry_near_expiry_signs_a_fresh_assertion() {
        let (a, b) = two_attempts(10).await;
        assert_eq!(a, b, "far from expiry: reused");
        let (a, b) = two_attempts(ASSERTION_LIFETIME_SECS - ASSERTION_REUSE_MARGIN_SECS).await;
        assert_ne!(a, b, "near expiry: a new assertion");
    }
}
