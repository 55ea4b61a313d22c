//! Compact JWS helpers: HS256 access tokens and unverified decoding of assertions.

use hmac::{Hmac, Mac as _};
use serde_json::Value;
use sha2::Sha256;

use crate::util::{b64_decode_lenient, b64url};

/// A JWT split into its parts (nothing verified yet).
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    /// `header.payload` exactly as received: the signing input.
    pub(crate) signing_input: String,
    pub(crate) signature: Vec<u8>,
}

/// Splits and decodes a compact JWS. Segments may be padded or not.
pub(crate) fn decode(token: &str) -> Option<Decoded> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&b64_decode_lenient(h)?).ok()?;
    let claims: Value = serde_json::from_slice(&b64_decode_lenient(p)?).ok()?;
    if !header.is_object() || !claims.is_object() {
        return None;
    }
    Some(Decoded {
        header,
        claims,
        signing_input: format!("{h}.{p}"),
        signature: b64_decode_lenient(s)?,
    })
}

fn hs256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Signs `claims` as an HS256 JWT.
pub(crate) fn sign_hs256(key: &[u8], kid: &str, claims: &Value) -> String {
    let header = serde_json::json!({"typ": "JWT", "alg": "HS256", "kid": kid});
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = hs256(key, input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

/// Verifies an HS256 JWT and returns its claims; `None` if malformed or badly signed.
pub(crate) fn verify_hs256(key: &[u8], token: &str) -> Option<Value> {
    let d = decode(token)?;
    if d.header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return None;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(d.signing_input.as_bytes());
    mac.verify_slice(&d.signature).ok()?;
    Some(d.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = b"k".repeat(32);
        let t = sign_hs256(&key, "kid1", &serde_json::json!({"aud": "x", "n": 1}));
        let c = verify_hs256(&key, &t).unwrap();
        assert_eq!(c["aud"], "x");
        assert!(verify_hs256(b"other", &t).is_none());
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = b64url(br#"{"aud":"y","n":1}"#);
        parts[1] = &forged;
        assert!(verify_hs256(&key, &parts.join(".")).is_none());
        assert!(verify_hs256(&key, "not.a.jwt").is_none());
        assert!(decode("a.b").is_none());
    }
}
