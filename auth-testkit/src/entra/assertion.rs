//! Client assertions: certificate-signed (RS256/PS256) and federated (jwt-bearer) JWTs.

use crate::setup::App;
use crate::state::State;

use super::OAuthError;

/// Verifies `client_assertion` for `app`; `token_urls` are the acceptable `aud` values.
pub(crate) fn verify_client_assertion(
    _st: &mut State,
    _app: &App,
    _assertion: &str,
    _token_urls: &[String],
) -> Result<(), OAuthError> {
    Err(OAuthError::new(
        401,
        "invalid_client",
        700_027,
        "Client assertion failed signature validation.",
    ))
}
