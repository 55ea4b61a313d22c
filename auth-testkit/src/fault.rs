//! Fault injection: per-endpoint queues of scripted misbehaviour.

use std::time::Duration;

/// An endpoint of the emulator, for fault injection and request classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// Entra `POST /{tenant}/oauth2/v2.0/token`.
    Token,
    /// Entra `POST /{tenant}/oauth2/v2.0/devicecode`.
    DeviceCode,
    /// Entra `GET /{tenant}/oauth2/v2.0/authorize` (and the sign-in form it serves).
    Authorize,
    /// Entra `GET /{tenant}/v2.0/.well-known/openid-configuration`.
    OpenIdConfiguration,
    /// ARM workspace get and list.
    ArmWorkspaces,
    /// ARM compute targets (create, get, start, stop, delete).
    ArmComputes,
    /// Managed identity: IMDS `GET /metadata/identity/oauth2/token` (`api-version=2018-02-01`).
    Imds,
    /// Managed identity: App Service `GET /MSI/token`.
    AppService,
    /// Managed identity: Azure Arc `GET /metadata/identity/oauth2/token` (`2020-06-01`).
    AzureArc,
    /// Managed identity: Azure ML compute `GET /MSI/auth`.
    AzureMl,
    /// Managed identity: Cloud Shell `POST /oauth2/token`.
    CloudShell,
    /// Managed identity: Service Fabric `GET /metadata/identity/oauth2/token`
    /// (`2019-07-01-preview`).
    ServiceFabric,
    /// Any request to any endpoint (a fault queued here is used when the request's own
    /// endpoint has no fault queued).
    Any,
}

/// A scripted misbehaviour. Each request to an endpoint pops one fault from that endpoint's
/// queue (then from [`Endpoint::Any`]'s); an empty queue means normal behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Answer this status with the service's error body for it (Entra: `429`
    /// `temporarily_unavailable`-style OAuth error, `5xx` `server_error` /
    /// `temporarily_unavailable`; ARM: `{"error":{"code":..}}`), plus `Retry-After` when given.
    Status {
        /// HTTP status code.
        status: u16,
        /// `Retry-After` in seconds.
        retry_after: Option<u64>,
    },
    /// `200` with `Content-Type: application/json` and a body that is not valid JSON.
    MalformedJson,
    /// `200` whose `Content-Length` promises more than is sent before the connection closes.
    TruncatedBody,
    /// `200` with a syntactically valid JSON body of (at least) this many bytes.
    OversizedBody(usize),
    /// The connection is reset (TCP RST) without any response.
    ConnectionReset,
    /// `502 Bad Gateway` with an HTML page (`text/html`), as a proxy or gateway answers.
    HtmlErrorPage,
}
