//! Client assertions (protocol-entra.md §3.3, §3.4): certificate-signed JWTs (RS256/PS256,
//! `x5t#S256` or `x5t`, `aud` = token URL, `iss` = `sub` = client id, `exp`/`nbf` with 5 min
//! skew, single-use `jti`) and federated tokens (jwt-bearer from a registered issuer and
//! subject).

use serde_json::Value;
use sha2::Digest as _;

use super::OAuthError;
use crate::certs::{rsa_public_key_of_certificate, sha1};
use crate::setup::App;
use crate::state::State;
use crate::util::{b64_decode_lenient, iso8601};

/// Clock skew tolerated on assertion lifetimes, seconds.
const SKEW: i64 = 300;

fn number(claims: &Value, name: &str) -> Option<i64> {
    let v = claims.get(name)?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

fn malformed() -> OAuthError {
    OAuthError::new(
        400,
        "invalid_request",
        50_027,
        "JWT token is invalid or malformed.",
    )
}

fn time_range(now: i64, nbf: Option<i64>, exp: i64) -> OAuthError {
    OAuthError::new(
        401,
        "invalid_client",
        700_024,
        format!(
            "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
            iso8601(now),
            nbf.map(iso8601).unwrap_or_else(|| "(none)".to_owned()),
            iso8601(exp)
        ),
    )
}

/// Whether `now` lies in `[nbf - SKEW, exp + SKEW]`; saturating, so extreme claims (which
/// a JSON number can carry) never overflow.
fn within_lifetime(now: i64, nbf: Option<i64>, exp: i64) -> bool {
    exp.saturating_add(SKEW) >= now && nbf.is_none_or(|n| n.saturating_sub(SKEW) <= now)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Verifies `client_assertion` for `app`; `token_urls` are the acceptable `aud` values.
pub(crate) fn verify_client_assertion(
    st: &mut State,
    app: &App,
    assertion: &str,
    token_urls: &[String],
) -> Result<(), OAuthError> {
    let jwt = crate::jwt::decode(assertion).ok_or_else(malformed)?;
    let iss = jwt
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !iss.eq_ignore_ascii_case(&app.client_id) && !app.federated.is_empty() {
        return verify_federated(st, app, &jwt.claims);
    }
    verify_certificate_assertion(st, app, &jwt, token_urls)
}

fn verify_certificate_assertion(
    st: &mut State,
    app: &App,
    jwt: &crate::jwt::Decoded,
    token_urls: &[String],
) -> Result<(), OAuthError> {
    let h = &jwt.header;
    if let Some(typ) = h.get("typ").and_then(Value::as_str)
        && !typ.eq_ignore_ascii_case("JWT")
    {
        return Err(malformed());
    }
    let alg = h.get("alg").and_then(Value::as_str).unwrap_or_default();
    let verification: &'static aws_lc_rs::signature::RsaParameters = match alg {
        "RS256" => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        "PS256" => &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
        other => {
            return Err(OAuthError::new(
                401,
                "invalid_client",
                5_002_738,
                format!(
                    "Invalid JWT token. '{other}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'"
                ),
            ));
        }
    };
    let wanted_s256 = h
        .get("x5t#S256")
        .and_then(Value::as_str)
        .and_then(b64_decode_lenient);
    let wanted_sha1 = h
        .get("x5t")
        .and_then(Value::as_str)
        .and_then(b64_decode_lenient);
    let presented = wanted_s256
        .as_ref()
        .or(wanted_sha1.as_ref())
        .map(|t| hex_upper(t))
        .unwrap_or_default();
    let cert = app.certificates.iter().find(|der| {
        wanted_s256
            .as_deref()
            .is_some_and(|t| t == sha2::Sha256::digest(der).as_slice())
            || wanted_sha1
                .as_deref()
                .is_some_and(|t| t == sha1(der).as_ref())
    });
    let Some(cert) = cert else {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            700_027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{presented}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are not using the global Azure Cloud.]",
                app.client_id
            ),
        ));
    };
    let public = rsa_public_key_of_certificate(cert).ok_or_else(malformed)?;
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(verification, public);
    if key
        .verify(jwt.signing_input.as_bytes(), &jwt.signature)
        .is_err()
    {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            700_027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{presented}', Found key 'Start=01/01/2024 00:00:00, End=01/01/2034 00:00:00']"
            ),
        ));
    }
    let c = &jwt.claims;
    let aud = c.get("aud").and_then(Value::as_str).unwrap_or_default();
    if !token_urls.iter().any(|u| u == aud) {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            700_023,
            format!(
                "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials . Presented audience: '{aud}'."
            ),
        ));
    }
    let iss = c.get("iss").and_then(Value::as_str).unwrap_or_default();
    let sub = c.get("sub").and_then(Value::as_str).unwrap_or_default();
    if !iss.eq_ignore_ascii_case(&app.client_id) || !sub.eq_ignore_ascii_case(&app.client_id) {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            700_021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
        ));
    }
    let now = st.now();
    let exp = number(c, "exp").ok_or_else(malformed)?;
    let nbf = number(c, "nbf").or_else(|| number(c, "iat"));
    if !within_lifetime(now, nbf, exp) {
        return Err(time_range(now, nbf, exp));
    }
    let jti = c.get("jti").and_then(Value::as_str).ok_or_else(malformed)?;
    if st.setup.assertion_replay_check
        && !st
            .used_jti
            .insert(format!("{}|{jti}", app.client_id.to_ascii_lowercase()))
    {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            50_012,
            "Invalid client assertion: the assertion with this 'jti' has already been used. Sign a new assertion for every request.",
        ));
    }
    Ok(())
}

fn verify_federated(st: &State, app: &App, c: &Value) -> Result<(), OAuthError> {
    let iss = c.get("iss").and_then(Value::as_str).unwrap_or_default();
    let sub = c.get("sub").and_then(Value::as_str).unwrap_or_default();
    let auds: Vec<&str> = match c.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let by_issuer: Vec<_> = app.federated.iter().filter(|f| f.issuer == iss).collect();
    if by_issuer.is_empty() {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            700_211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ));
    }
    let by_subject: Vec<_> = by_issuer.iter().filter(|f| f.subject == sub).collect();
    if by_subject.is_empty() {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            700_213,
            format!(
                "No matching federated identity record found for presented assertion subject '{sub}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ));
    }
    if !by_subject
        .iter()
        .any(|f| auds.contains(&f.audience.as_str()))
    {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            700_212,
            format!(
                "No matching federated identity record found for presented assertion audience '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                auds.join(",")
            ),
        ));
    }
    let now = st.now();
    let exp = number(c, "exp").ok_or_else(malformed)?;
    let nbf = number(c, "nbf");
    if !within_lifetime(now, nbf, exp) {
        return Err(time_range(now, nbf, exp));
    }
    Ok(())
}
