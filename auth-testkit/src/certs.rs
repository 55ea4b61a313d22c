//! Test certificates for apps: an RSA 2048 key pair with a self-signed certificate, ready to
//! register with [`App::certificate_der`](crate::App::certificate_der) or
//! [`App::certificate_pem`](crate::App::certificate_pem) and to sign client assertions with.

use std::fmt;

use crate::util::b64_decode_lenient;

/// A generated app certificate and its private key.
#[derive(Clone)]
pub struct TestCertificate {
    /// The private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_key_pem: String,
    /// The private key, PKCS#8 DER.
    pub private_key_der: Vec<u8>,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The certificate, DER.
    pub certificate_der: Vec<u8>,
}

impl fmt::Debug for TestCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCertificate")
            .field("private_key", &"[redacted]")
            .field("certificate_der_len", &self.certificate_der.len())
            .finish()
    }
}

impl TestCertificate {
    /// base64url (unpadded) SHA-256 of the certificate DER: the `x5t#S256` header value.
    pub fn x5t_s256(&self) -> String {
        use sha2::Digest as _;
        crate::util::b64url(&sha2::Sha256::digest(&self.certificate_der))
    }

    /// base64url (unpadded) SHA-1 of the certificate DER: the legacy `x5t` header value.
    pub fn x5t_sha1(&self) -> String {
        crate::util::b64url(sha1(&self.certificate_der).as_ref())
    }
}

/// The signature algorithm of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertionAlg {
    /// RSASSA-PSS with SHA-256 and an `x5t#S256` header (MSAL's current form).
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a SHA-1 `x5t` header (the legacy form the Azure
    /// CLI and azure-identity send).
    Rs256,
}

impl TestCertificate {
    /// A reference client assertion (protocol-entra.md §3.3) for `client_id`, audience
    /// `token_url`, valid from `now` (epoch seconds) for 600 s, with a fresh `jti`.
    ///
    /// # Panics
    /// If the key cannot sign (it always can).
    pub fn client_assertion(
        &self,
        client_id: &str,
        token_url: &str,
        now: i64,
        alg: AssertionAlg,
    ) -> String {
        let header = match alg {
            AssertionAlg::Ps256 => {
                serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256()})
            }
            AssertionAlg::Rs256 => {
                serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t_sha1()})
            }
        };
        let claims = serde_json::json!({
            "aud": token_url, "iss": client_id, "sub": client_id,
            "jti": crate::util::uuid_v4(), "nbf": now, "iat": now, "exp": now + 600
        });
        self.sign_jwt(&header, &claims)
    }

    /// Signs `header.claims` (compact JWS) with the private key as the header's `alg` says:
    /// RSASSA-PSS for `PS256`, RSASSA-PKCS1-v1_5 for anything else, both with SHA-256. Tests
    /// use it to build assertions with chosen headers and claims.
    ///
    /// # Panics
    /// If the key cannot sign (it always can).
    pub fn sign_jwt(&self, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        use crate::util::b64url;
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let key = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&self.private_key_der)
            .expect("PKCS#8 RSA key");
        let encoding: &'static dyn aws_lc_rs::signature::RsaEncoding = match header["alg"].as_str()
        {
            Some("PS256") => &aws_lc_rs::signature::RSA_PSS_SHA256,
            _ => &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        };
        let mut sig = vec![0u8; key.public_modulus_len()];
        key.sign(
            encoding,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .expect("RSA signing");
        format!("{input}.{}", b64url(&sig))
    }
}

/// An external identity provider's token for workload identity federation tests
/// (protocol-entra.md §3.4): `iss`, `sub`, `aud`, `iat`/`nbf` = `now`, `exp` = `now + lifetime`.
/// The emulator does not verify federated tokens' signatures (it cannot know external
/// issuers' keys), so this one carries a placeholder signature.
pub fn federated_token(
    issuer: &str,
    subject: &str,
    audience: &str,
    now: i64,
    lifetime_secs: i64,
) -> String {
    use crate::util::b64url;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "auth-testkit-external"});
    let claims = serde_json::json!({
        "iss": issuer, "sub": subject, "aud": audience,
        "iat": now, "nbf": now, "exp": now + lifetime_secs, "jti": crate::util::uuid_v4()
    });
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        b64url(b"unverified-external-signature")
    )
}

/// SHA-1 of `data` (for `x5t`), computed by aws-lc-rs.
pub(crate) fn sha1(data: &[u8]) -> aws_lc_rs::digest::Digest {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
}

/// Generates an RSA 2048 key pair and a self-signed certificate with common name `subject`.
///
/// # Panics
/// If the crypto library cannot generate a key (it does not in practice).
pub fn generate(subject: &str) -> TestCertificate {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key generation");
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).expect("certificate params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, subject);
    let cert = params.self_signed(&key).expect("self-signed certificate");
    TestCertificate {
        private_key_pem: key.serialize_pem(),
        private_key_der: key.serialize_der(),
        certificate_pem: cert.pem(),
        certificate_der: cert.der().to_vec(),
    }
}

/// The DER contents of every PEM block with this label.
pub(crate) fn pem_blocks(pem: &str, label: &str) -> Vec<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let Some(stop) = after.find(&end) else { break };
        if let Some(der) = b64_decode_lenient(&after[..stop]) {
            out.push(der);
        }
        rest = &after[stop + end.len()..];
    }
    out
}

/// Minimal DER reader: returns (tag, content, rest).
fn der_next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The RSA public key (PKCS#1 `RSAPublicKey` DER) of an X.509 certificate.
pub(crate) fn rsa_public_key_of_certificate(cert_der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert, _) = der_next(cert_der)?; // Certificate SEQUENCE
    let (_, tbs, _) = der_next(cert)?; // tbsCertificate SEQUENCE
    let mut rest = tbs;
    let (tag, _, r) = der_next(rest)?;
    if tag == 0xa0 {
        rest = r; // [0] version
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        let (_, _, r) = der_next(rest)?;
        rest = r;
    }
    let (_, spki, _) = der_next(rest)?; // SubjectPublicKeyInfo
    let (_, _alg, r) = der_next(spki)?;
    let (tag, bits, _) = der_next(r)?;
    if tag != 0x03 || bits.first() != Some(&0) {
        return None;
    }
    Some(bits[1..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_is_usable() {
        let c = generate("test-app");
        assert!(c.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(
            pem_blocks(&c.certificate_pem, "CERTIFICATE"),
            vec![c.certificate_der.clone()]
        );
        let public = rsa_public_key_of_certificate(&c.certificate_der).unwrap();
        let key = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&c.private_key_der).unwrap();
        use aws_lc_rs::signature::KeyPair as _;
        assert_eq!(key.public_key().as_ref(), public.as_slice());
        assert_eq!(c.x5t_s256().len(), 43);
        assert_eq!(c.x5t_sha1().len(), 27);
        assert!(!format!("{c:?}").contains("PRIVATE"));
    }
}
