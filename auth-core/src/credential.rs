//! The credential trait every flow implements.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use crate::{AccessToken, Error, TokenRequest};

/// The future a credential returns: boxed and named, so the trait stays object-safe.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// Something that gets access tokens.
///
/// Object-safe, `Send + Sync`: chains and adapters hold any credential as
/// `Arc<dyn TokenCredential>`. Implementers write an inherent `async fn` and box it here.
pub trait TokenCredential: Send + Sync + Debug {
    /// Gets a token for `request`, from the cache when one is fresh.
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a>;

    /// A short name for errors and logs, such as `client secret credential`.
    fn name(&self) -> &'static str;
}

impl<T: TokenCredential + ?Sized> TokenCredential for std::sync::Arc<T> {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        (**self).get_token(request)
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
}

/// The `Authorization` header for `request`, as SDK v1's `get_authentication_header` gives it:
/// `Authorization: Bearer <token>`. The header value is marked sensitive, so `http`'s `Debug`
/// does not print it.
pub async fn authorization_header(
    credential: &(dyn TokenCredential + '_),
    request: &TokenRequest,
) -> Result<(http::HeaderName, http::HeaderValue), Error> {
    let token = credential.get_token(request).await?;
    Ok((http::header::AUTHORIZATION, bearer_value(&token)?))
}

/// The `Authorization` header value of `token` (`Bearer <token>`), marked sensitive.
pub fn bearer_value(token: &AccessToken) -> Result<http::HeaderValue, Error> {
    let mut text = zeroize::Zeroizing::new(String::with_capacity(
        token.token().expose_secret().len() + 8,
    ));
    text.push_str(token.token_type().as_str());
    text.push(' ');
    text.push_str(token.token().expose_secret());
    let mut value = http::HeaderValue::from_str(&text).map_err(|_| {
        Error::new(
            crate::ErrorKind::Service,
            "the access token has characters that cannot go in a header",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}
