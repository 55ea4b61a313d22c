//! The ARM client: get a workspace, list workspaces (protocol reference §6.3, §6.4).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use auth_core::http::HttpResponse;
use auth_core::{Cloud, Pipeline, TokenCredential, TokenRequest};

use crate::arm_error::ArmError;
use crate::compute::DEFAULT_MAX_POLLS;
use crate::resource_http::{
    encode_segment, origin_of, same_origin, send_authenticated, strip_query,
};
use crate::workspace::{ARM_API_VERSION, ArmSegment, WORKSPACE_TYPE, Workspace, arm_base};

/// The largest ARM response [`WorkspaceClient::shared`] reads (16 MiB): a page of a hundred
/// workspaces is a few hundred KiB.
pub const MAX_ARM_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The most pages a list call follows before it gives up (a guard against a `nextLink` loop).
pub const DEFAULT_MAX_PAGES: usize = 100;

/// The `User-Agent` of ARM requests.
const USER_AGENT: &str = concat!("azureml-auth-workspace-config/", env!("CARGO_PKG_VERSION"));

/// A workspace as ARM describes it (the fields of §6.4 worth having; every field but `id`,
/// `name` and `workspace_id` is optional, unknown ones are ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkspaceInfo {
    /// The ARM id.
    pub id: String,
    /// The workspace name.
    pub name: String,
    /// The region, such as `eastus2`.
    pub location: Option<String>,
    /// The tags.
    pub tags: BTreeMap<String, String>,
    /// The SKU name, such as `Basic`.
    pub sku: Option<String>,
    /// `properties.workspaceId`: the workspace GUID that data-plane APIs use.
    pub workspace_id: String,
    /// `properties.friendlyName`.
    pub friendly_name: Option<String>,
    /// `properties.description`.
    pub description: Option<String>,
    /// `properties.discoveryUrl`: where the region's data-plane endpoints are listed.
    pub discovery_url: Option<String>,
    /// `properties.mlFlowTrackingUri`.
    pub mlflow_tracking_uri: Option<String>,
    /// `properties.provisioningState`, such as `Succeeded`.
    pub provisioning_state: Option<String>,
    /// `properties.creationTime`.
    pub creation_time: Option<String>,
    /// `properties.keyVault` (an ARM id).
    pub key_vault: Option<String>,
    /// `properties.storageAccount` (an ARM id).
    pub storage_account: Option<String>,
    /// `properties.applicationInsights` (an ARM id).
    pub application_insights: Option<String>,
    /// `properties.containerRegistry` (an ARM id).
    pub container_registry: Option<String>,
    /// `properties.publicNetworkAccess`.
    pub public_network_access: Option<String>,
    /// `identity.type`, such as `SystemAssigned`.
    pub identity_type: Option<String>,
    /// `identity.principalId`: the workspace's own managed identity.
    pub identity_principal_id: Option<String>,
    /// `identity.tenantId`.
    pub identity_tenant_id: Option<String>,
}

impl WorkspaceInfo {
    /// Parses one workspace object.
    fn from_value(v: &serde_json::Value) -> Result<Self, String> {
        let s = |obj: &serde_json::Value, key: &str| {
            obj.get(key)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let empty = serde_json::Value::Null;
        let props = v.get("properties").unwrap_or(&empty);
        let identity = v.get("identity").unwrap_or(&empty);
        let id = s(v, "id").ok_or("a workspace without an id")?;
        let name = s(v, "name").ok_or("a workspace without a name")?;
        let workspace_id =
            s(props, "workspaceId").ok_or("a workspace without properties.workspaceId")?;
        let tags = v
            .get("tags")
            .and_then(serde_json::Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            location: s(v, "location"),
            tags,
            sku: v.get("sku").and_then(|sku| s(sku, "name")),
            friendly_name: s(props, "friendlyName"),
            description: s(props, "description"),
            discovery_url: s(props, "discoveryUrl"),
            mlflow_tracking_uri: s(props, "mlFlowTrackingUri"),
            provisioning_state: s(props, "provisioningState"),
            creation_time: s(props, "creationTime"),
            key_vault: s(props, "keyVault"),
            storage_account: s(props, "storageAccount"),
            application_insights: s(props, "applicationInsights"),
            container_registry: s(props, "containerRegistry"),
            public_network_access: s(props, "publicNetworkAccess"),
            identity_type: s(identity, "type"),
            identity_principal_id: s(identity, "principalId"),
            identity_tenant_id: s(identity, "tenantId"),
            id,
            name,
            workspace_id,
        })
    }

    /// The workspace handle of this id.
    pub fn workspace(&self) -> Result<Workspace, auth_core::Error> {
        Workspace::from_resource_id(&self.id)
    }
}

/// Gets and lists Azure ML workspaces over Azure Resource Manager, with any credential.
///
/// Tokens are asked for the cloud's ARM audience as SDK v1 does
/// (`https://management.core.windows.net/` in the public cloud). Requests go through the
/// [`Pipeline`] (its retry policy handles 408/429/5xx and `Retry-After`). A 401 carrying a claims
/// challenge is answered once: one new token with the claims, one retry.
///
/// # Example
///
/// Any `auth_core::http::HttpClient` is a transport; here a closure answers like ARM:
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, SystemTime};
/// use auth_core::http::{HttpRequest, HttpResponse, TransportError};
/// use auth_core::{AccessToken, Cloud, Pipeline, Secret, TokenCredential, TokenFuture, TokenRequest, TokenType};
/// use workspace_config::{Workspace, WorkspaceClient};
/// # #[derive(Debug)] struct Fixed;
/// # impl TokenCredential for Fixed {
/// #     fn get_token<'a>(&'a self, _: &'a TokenRequest) -> TokenFuture<'a> {
/// #         Box::pin(async { Ok(AccessToken::from_lifetime(Secret::new("eyJ0eXAi"), TokenType::Bearer, SystemTime::now(), Duration::from_secs(3600), None)) })
/// #     }
/// #     fn name(&self) -> &'static str { "fixed credential" }
/// # }
/// # #[derive(Debug)] struct NoSleep;
/// # impl auth_core::http::Sleep for NoSleep {
/// #     fn sleep(&self, _: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
/// #         Box::pin(std::future::pending())
/// #     }
/// # }
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
/// # }
///
/// let arm = |request: HttpRequest| async move {
///     assert_eq!(
///         request.uri().to_string(),
///         "https://management.azure.com/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws?api-version=2022-05-01"
///     );
///     let body = r#"{"id": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws",
///                    "name": "ws", "location": "eastus2", "properties": {"workspaceId": "3f0c…"}}"#;
///     Ok::<HttpResponse, TransportError>(http::Response::new(body.as_bytes().to_vec()))
/// };
/// let client = WorkspaceClient::new(
///     Arc::new(Fixed), // any credential: auth-sp, auth-msi, auth-cli, auth-interactive
///     Cloud::public(),
///     Pipeline::new(Arc::new(arm), Arc::new(NoSleep)),
/// );
/// let info = block_on(client.get(&Workspace::new("sub", "rg", "ws")?))?;
/// assert_eq!(info.location.as_deref(), Some("eastus2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WorkspaceClient {
    credential: Arc<dyn TokenCredential>,
    cloud: Cloud,
    pipeline: Pipeline,
    max_pages: usize,
    max_polls: u32,
}

impl fmt::Debug for WorkspaceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkspaceClient")
            .field("credential", &self.credential.name())
            .field("cloud", &self.cloud.name())
            .field("arm_endpoint", &self.cloud.arm_endpoint())
            .field("max_pages", &self.max_pages)
            .field("max_polls", &self.max_polls)
            .finish_non_exhaustive()
    }
}

impl WorkspaceClient {
    /// A client for `cloud`'s ARM, with `credential`, sending through `pipeline`.
    pub fn new(credential: Arc<dyn TokenCredential>, cloud: Cloud, pipeline: Pipeline) -> Self {
        Self {
            credential,
            cloud,
            pipeline,
            max_pages: DEFAULT_MAX_PAGES,
            max_polls: DEFAULT_MAX_POLLS,
        }
    }

    /// A client over auth-core's process-wide pipeline (needs a tokio runtime), its response
    /// cap raised to [`MAX_ARM_RESPONSE_BYTES`] (the pipeline's default is sized for token
    /// responses; a page of workspaces is larger).
    #[cfg(feature = "reqwest")]
    pub fn shared(credential: Arc<dyn TokenCredential>, cloud: Cloud) -> Self {
        Self::new(
            credential,
            cloud,
            Pipeline::shared().with_max_response_bytes(MAX_ARM_RESPONSE_BYTES),
        )
    }

    /// With another bound on the pages a list call follows (at least 1).
    pub fn with_max_pages(mut self, max_pages: usize) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// With another bound on the polls of a compute action's asynchronous operation (at
    /// least 1; [`DEFAULT_MAX_POLLS`] by default).
    pub fn with_max_polls(mut self, max_polls: u32) -> Self {
        self.max_polls = max_polls.max(1);
        self
    }

    /// The cloud the requests go to.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub(crate) fn max_polls(&self) -> u32 {
        self.max_polls
    }

    /// Refuses a workspace that names another cloud than the client's, so a token never goes
    /// to the wrong cloud.
    pub(crate) fn check_cloud(&self, workspace: &Workspace) -> Result<(), ArmError> {
        match workspace.cloud() {
            Some(c) if arm_base(c) != arm_base(&self.cloud) => Err(ArmError::Request(
                auth_core::Error::configuration(format!(
                    "the {workspace} is in {} ({}), but this client talks to {} ({})",
                    c.name(),
                    c.arm_endpoint(),
                    self.cloud.name(),
                    self.cloud.arm_endpoint()
                ))
                .with_hint("build the client for the workspace's cloud"),
            )),
            _ => Ok(()),
        }
    }

    /// SDK v1's workspace GET: `GET {arm}/subscriptions/{s}/resourceGroups/{rg}/providers/
    /// Microsoft.MachineLearningServices/workspaces/{name}?api-version=2022-05-01`.
    ///
    /// A workspace that names another cloud than the client's is refused before anything is
    /// sent, so a token never goes to the wrong cloud.
    pub async fn get(&self, workspace: &Workspace) -> Result<WorkspaceInfo, ArmError> {
        self.check_cloud(workspace)?;
        let url = workspace.arm_url(&self.cloud);
        let correlation = auth_core::entra::new_request_id();
        let resp = self.send(http::Method::GET, &url, &correlation).await?;
        let value = json_body(&resp)?;
        WorkspaceInfo::from_value(&value).map_err(|reason| ArmError::InvalidResponse {
            status: resp.status().as_u16(),
            reason,
        })
    }

    /// SDK v1's `Workspace.get(name, subscription_id=..., resource_group=...)`: with a resource
    /// group, the workspace GET; without one, the workspace of that name (case-insensitive) among
    /// the subscription's, which must be unique.
    ///
    /// No match is [`ArmError::NotFound`] (`ResourceNotFound`); a name found in several resource
    /// groups is a configuration error that lists them.
    pub async fn get_by_name(
        &self,
        subscription_id: &str,
        resource_group: Option<&str>,
        name: &str,
    ) -> Result<WorkspaceInfo, ArmError> {
        if let Some(rg) = resource_group {
            let ws = Workspace::new(subscription_id, rg, name).map_err(ArmError::Request)?;
            return self.get(&ws).await;
        }
        ArmSegment::Workspace
            .validate(name)
            .map_err(ArmError::Request)?;
        let mut matches: Vec<WorkspaceInfo> = self
            .list_by_subscription(subscription_id)
            .await?
            .into_iter()
            .filter(|w| w.name.eq_ignore_ascii_case(name))
            .collect();
        match matches.len() {
            1 => Ok(matches.remove(0)),
            0 => Err(ArmError::NotFound {
                info: Box::new(crate::arm_error::ArmErrorInfo {
                    status: 404,
                    code: "ResourceNotFound".into(),
                    message: format!(
                        "no workspace named '{name}' is visible in subscription '{subscription_id}'"
                    ),
                    ..Default::default()
                }),
                code: crate::NotFoundCode::ResourceNotFound,
            }),
            _ => {
                let groups: Vec<String> = matches
                    .iter()
                    .filter_map(|w| w.workspace().ok())
                    .map(|w| w.resource_group().to_owned())
                    .collect();
                Err(ArmError::Request(
                    auth_core::Error::configuration(format!(
                        "several workspaces are named {name:?} in subscription {subscription_id} (resource groups {})",
                        groups.join(", ")
                    ))
                    .with_hint("name the resource group too"),
                ))
            }
        }
    }

    /// SDK v1's `Workspace.list(subscription_id, resource_group=...)`: every workspace in the
    /// resource group, following `nextLink`.
    pub async fn list_by_resource_group(
        &self,
        subscription_id: &str,
        resource_group: &str,
    ) -> Result<Vec<WorkspaceInfo>, ArmError> {
        ArmSegment::Subscription
            .validate(subscription_id)
            .map_err(ArmError::Request)?;
        ArmSegment::ResourceGroup
            .validate(resource_group)
            .map_err(ArmError::Request)?;
        let url = format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/{WORKSPACE_TYPE}?api-version={ARM_API_VERSION}",
            arm_base(&self.cloud),
            encode_segment(subscription_id),
            encode_segment(resource_group),
        );
        self.list(url).await
    }

    /// SDK v1's `Workspace.list(subscription_id)`: every workspace in the subscription,
    /// following `nextLink`.
    pub async fn list_by_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<Vec<WorkspaceInfo>, ArmError> {
        ArmSegment::Subscription
            .validate(subscription_id)
            .map_err(ArmError::Request)?;
        let url = format!(
            "{}/subscriptions/{}/providers/{WORKSPACE_TYPE}?api-version={ARM_API_VERSION}",
            arm_base(&self.cloud),
            encode_segment(subscription_id),
        );
        self.list(url).await
    }

    async fn list(&self, first: String) -> Result<Vec<WorkspaceInfo>, ArmError> {
        let mut out = Vec::new();
        let mut seen = vec![first.clone()];
        let mut url = first;
        // One correlation id for every page of the operation, as ARM clients do.
        let correlation = auth_core::entra::new_request_id();
        for _ in 0..self.max_pages {
            let resp = self.send(http::Method::GET, &url, &correlation).await?;
            let status = resp.status().as_u16();
            let page = json_body(&resp)?;
            let invalid = |reason: String| ArmError::InvalidResponse { status, reason };
            let items = match page.get("value") {
                Some(serde_json::Value::Array(items)) => items.as_slice(),
                None | Some(serde_json::Value::Null) => &[],
                Some(_) => return Err(invalid("a list whose value is not an array".into())),
            };
            for item in items {
                out.push(WorkspaceInfo::from_value(item).map_err(invalid)?);
            }
            let next = page
                .get("nextLink")
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|n| !n.is_empty());
            let Some(next) = next else {
                return Ok(out);
            };
            if !same_origin(next, arm_base(&self.cloud)) {
                return Err(invalid(format!(
                    "a nextLink to another host ({}), which is not followed so that the token stays with ARM",
                    origin_of(next)
                )));
            }
            if seen.iter().any(|s| s == next) {
                return Err(invalid("a nextLink that repeats an earlier page".into()));
            }
            seen.push(next.to_owned());
            url = next.to_owned();
        }
        Err(ArmError::InvalidResponse {
            status: 200,
            reason: format!(
                "more than {} pages; raise the bound with WorkspaceClient::with_max_pages",
                self.max_pages
            ),
        })
    }

    /// Sends one authenticated request without a body (a GET, or a POST action); answers one
    /// claims challenge; fails on any non-2xx.
    ///
    /// `correlation` goes in `x-ms-correlation-request-id` (ARM echoes it and logs it: quote it
    /// to support); each request also gets its own `x-ms-client-request-id`.
    pub(crate) async fn send(
        &self,
        method: http::Method,
        url: &str,
        correlation: &str,
    ) -> Result<HttpResponse, ArmError> {
        let request =
            TokenRequest::for_resource(self.cloud.arm_audience()).map_err(ArmError::Request)?;
        let uri: http::Uri = url.parse().map_err(|_| {
            ArmError::Request(auth_core::Error::configuration(format!(
                "cannot build an ARM URL from {:?}",
                strip_query(url)
            )))
        })?;
        let make = |auth: &http::HeaderValue| {
            let client_request_id = auth_core::entra::new_request_id();
            tracing::debug!(%method, url = %strip_query(url), correlation, client_request_id, "ARM request");
            let mut builder = http::Request::builder()
                .method(method.clone())
                .uri(uri.clone());
            if method != http::Method::GET {
                builder = builder.header(http::header::CONTENT_LENGTH, "0");
            }
            builder
                .header(http::header::AUTHORIZATION, auth.clone())
                .header(http::header::ACCEPT, "application/json")
                .header(http::header::USER_AGENT, USER_AGENT)
                .header("x-ms-client-request-id", client_request_id.as_str())
                .header("x-ms-correlation-request-id", correlation)
                .body(Vec::new())
                .map_err(|e| {
                    auth_core::Error::configuration(format!("cannot build the ARM request: {e}"))
                })
        };
        let (resp, answered) =
            send_authenticated(&self.pipeline, self.credential.as_ref(), &request, make)
                .await
                .map_err(ArmError::Request)?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(ArmError::from_response(
                &resp,
                answered,
                self.pipeline.clock().now(),
            ))
        }
    }
}

pub(crate) fn json_body(resp: &HttpResponse) -> Result<serde_json::Value, ArmError> {
    serde_json::from_slice(resp.body()).map_err(|_| ArmError::InvalidResponse {
        status: resp.status().as_u16(),
        reason: format!("a body that is not JSON ({} bytes)", resp.body().len()),
    })
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod flow_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_info_is_lenient() {
        let v = serde_json::json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws",
            "name": "ws", "type": "Microsoft.MachineLearningServices/workspaces", "location": "eastus2",
            "tags": {"team": "ml", "n": 3}, "sku": {"name": "Basic", "tier": "Basic"},
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            "properties": {"workspaceId": "w-guid", "discoveryUrl": "https://eastus2.api.azureml.ms/discovery",
                "friendlyName": "WS", "unknown": {"a": 1}, "description": null}
        });
        let info = WorkspaceInfo::from_value(&v).unwrap();
        assert_eq!(info.workspace_id, "w-guid");
        assert_eq!(info.location.as_deref(), Some("eastus2"));
        assert_eq!(info.tags.len(), 1);
        assert_eq!(info.sku.as_deref(), Some("Basic"));
        assert_eq!(info.identity_principal_id.as_deref(), Some("p"));
        assert_eq!(info.description, None);
        assert_eq!(info.workspace().unwrap().name(), "ws");
        let missing = serde_json::json!({"id": "x", "name": "ws", "properties": {}});
        assert_eq!(
            WorkspaceInfo::from_value(&missing).unwrap_err(),
            "a workspace without properties.workspaceId"
        );
    }
}
