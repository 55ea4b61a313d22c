//! The device code flow (protocol-entra.md §5): the device authorization request, the prompt,
//! and polling per the spec (interval, `slow_down` +5 s, `authorization_declined`,
//! `expired_token`, the code's own expiry).

use std::time::Duration;

use auth_core::entra::{Form, TokenResponse, error_from_response, request_token};
use auth_core::{Error, ErrorKind, Pipeline, Secret};

use crate::options::{DeviceCodeInfo, DeviceCodePrompt};

/// `grant_type` of the polls.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Defaults when the answer lacks them (as MSAL).
const DEFAULT_INTERVAL: u64 = 5;
const DEFAULT_EXPIRES_IN: u64 = 1800;
/// The shortest wait between polls, whatever the server says (an `interval` of 0 is legal).
pub(crate) const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// What `slow_down` adds to the interval, for good (RFC 8628, MSAL).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

#[derive(serde::Deserialize)]
struct RawDeviceCode {
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    interval: Option<serde_json::Value>,
    message: Option<String>,
}

impl Drop for RawDeviceCode {
    fn drop(&mut self) {
        if let Some(d) = &mut self.device_code {
            zeroize::Zeroize::zeroize(d);
        }
    }
}

fn seconds(v: Option<&serde_json::Value>, default: u64) -> u64 {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(default),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

/// The device flow's parameters.
pub(crate) struct DeviceFlow<'a> {
    pub(crate) pipeline: &'a Pipeline,
    pub(crate) device_code_url: String,
    pub(crate) token_url: String,
    pub(crate) client_id: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) claims: Option<&'a str>,
    pub(crate) prompt: &'a DeviceCodePrompt,
}

/// Runs the device code flow to its end: a token response or the reason it has none.
pub(crate) async fn sign_in(f: DeviceFlow<'_>) -> Result<TokenResponse, Error> {
    let uri: http::Uri = f
        .device_code_url
        .parse()
        .map_err(|_| Error::configuration("invalid device code endpoint URL"))?;
    let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let form = Form::new()
        .field("client_id", f.client_id)
        .field("scope", f.scope)
        .optional("claims", f.claims);
    let response = f
        .pipeline
        .send(|| {
            let mut body = form.encode();
            http::Request::post(uri.clone())
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header(http::header::ACCEPT, "application/json")
                .header("client-request-id", auth_core::entra::new_request_id())
                .header("x-client-sku", "azureml-auth")
                .header("x-client-ver", env!("CARGO_PKG_VERSION"))
                .body(std::mem::take(&mut *body))
                .map_err(|e| {
                    Error::configuration(format!("could not build the device code request: {e}"))
                })
        })
        .await?;
    let (parts, body) = response.into_parts();
    let body = zeroize::Zeroizing::new(body);
    if !parts.status.is_success() {
        return Err(error_from_response(
            parts.status.as_u16(),
            &parts.headers,
            &body,
            f.pipeline.clock().now(),
            &host,
        ));
    }
    let raw: RawDeviceCode = serde_json::from_slice(&body).map_err(|_| {
        Error::new(
            ErrorKind::Service,
            format!("the device code answer of {host} is not JSON"),
        )
    })?;
    let (Some(device_code), Some(user_code)) = (raw.device_code.clone(), raw.user_code.clone())
    else {
        return Err(Error::new(
            ErrorKind::Service,
            format!("the device code answer of {host} has no device_code or user_code"),
        ));
    };
    let device_code = Secret::new(device_code);
    let expires_in = Duration::from_secs(seconds(raw.expires_in.as_ref(), DEFAULT_EXPIRES_IN));
    let mut interval = Duration::from_secs(seconds(raw.interval.as_ref(), DEFAULT_INTERVAL));
    let verification_uri = raw.verification_uri.clone().unwrap_or_default();
    let info = DeviceCodeInfo {
        message: raw.message.clone().unwrap_or_else(|| {
            format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate.")
        }),
        user_code,
        verification_uri,
        expires_in,
    };
    let clock = f.pipeline.clock().clone();
    let expires_at = clock.now() + expires_in;
    (f.prompt)(&info);
    tracing::debug!(
        client_id = f.client_id,
        "waiting for the device code sign-in"
    );
    loop {
        f.pipeline
            .sleeper()
            .sleep(interval.max(MIN_POLL_INTERVAL))
            .await;
        if clock.now() >= expires_at {
            return Err(expired());
        }
        let poll = || {
            Ok(Form::new()
                .field("client_id", f.client_id)
                .field("grant_type", DEVICE_CODE_GRANT)
                .field("client_info", "1")
                .secret("code", &device_code)
                .secret("device_code", &device_code)
                .optional("claims", f.claims))
        };
        match request_token(f.pipeline, &f.token_url, poll).await {
            Ok(r) => return Ok(r),
            Err(e) => match e.entra().map(|x| x.error.as_str()) {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += SLOW_DOWN_STEP,
                Some("authorization_declined" | "access_denied") => {
                    return Err(Error::new(
                        ErrorKind::Authentication,
                        "the device code sign-in was declined by the user",
                    )
                    .with_status(400)
                    .with_hint("sign in again and approve the request on the verification page"));
                }
                Some("expired_token") => return Err(expired()),
                Some("bad_verification_code") => {
                    return Err(Error::new(
                        ErrorKind::Authentication,
                        "the identity service does not recognise the device code",
                    )
                    .with_hint("start a new sign-in"));
                }
                _ => return Err(e),
            },
        }
    }
}

fn expired() -> Error {
    Error::new(
        ErrorKind::Timeout,
        "the device code expired before the sign-in was completed",
    )
    .with_hint("start a new sign-in and finish it on the verification page before the code expires")
}
