//! Randomness and the PKCE pieces (protocol-entra.md §4.3).

use auth_core::{Error, ErrorKind, Secret};
use aws_lc_rs::rand::SecureRandom as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` bytes from the operating system's CSPRNG.
pub(crate) fn bytes<const N: usize>() -> Result<zeroize::Zeroizing<[u8; N]>, Error> {
    let mut out = zeroize::Zeroizing::new([0u8; N]);
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut out[..])
        .map_err(|_| {
            Error::new(
                ErrorKind::Configuration,
                "the system random generator failed",
            )
        })?;
    Ok(out)
}

/// The PKCE verifier alphabet (RFC 7636 unreserved characters).
const VERIFIER_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// A PKCE pair: the secret verifier (43 characters of the whole unreserved alphabet, as MSAL
/// makes it) and its S256 challenge.
pub(crate) struct Pkce {
    pub(crate) verifier: Secret,
    pub(crate) challenge: String,
}

impl Pkce {
    pub(crate) fn new() -> Result<Self, Error> {
        // 66 symbols: reject bytes >= 198 (3 × 66) so every symbol is equally likely.
        let mut verifier = String::with_capacity(43);
        while verifier.len() < 43 {
            for b in bytes::<64>()?.iter() {
                if *b < 198 && verifier.len() < 43 {
                    verifier.push(char::from(VERIFIER_ALPHABET[usize::from(*b) % 66]));
                }
            }
        }
        let challenge = challenge(&verifier);
        Ok(Self {
            verifier: Secret::new(verifier),
            challenge,
        })
    }
}

/// `base64url-no-pad(SHA-256(verifier))`.
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// An unguessable `state` (16 random bytes, base64url: 22 characters, as MSAL).
pub(crate) fn state() -> Result<String, Error> {
    Ok(URL_SAFE_NO_PAD.encode(&bytes::<16>()?[..]))
}

/// A nonce: 64 lower-case hex digits of SHA-256 of random bytes (as MSAL sends it).
pub(crate) fn nonce() -> Result<String, Error> {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes::<32>()?[..]);
    Ok(d.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_example_challenge() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_states_and_nonces() {
        let p = Pkce::new().unwrap();
        let v = p.verifier.expose_secret();
        assert_eq!(v.len(), 43);
        assert!(v.bytes().all(|b| VERIFIER_ALPHABET.contains(&b)));
        assert_eq!(p.challenge, challenge(v));
        assert_eq!(p.challenge.len(), 43);
        assert_ne!(Pkce::new().unwrap().verifier, p.verifier);
        assert_eq!(state().unwrap().len(), 22);
        let n = nonce().unwrap();
        assert_eq!(n.len(), 64);
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}
