//! The ARM client: get a workspace, list workspaces (protocol reference §6.3, §6.4).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use auth_core::http::HttpResponse;
use auth_core::{Cloud, Pipeline, TokenCredential, TokenRequest};

use crate::arm_error::ArmError;
use crate::workspace::{ARM_API_VERSION, WORKSPACE_TYPE, Workspace, arm_base, encode_segment};

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
#[derive(Clone)]
pub struct WorkspaceClient {
    credential: Arc<dyn TokenCredential>,
    cloud: Cloud,
    pipeline: Pipeline,
    max_pages: usize,
}

impl fmt::Debug for WorkspaceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkspaceClient")
            .field("credential", &self.credential.name())
            .field("cloud", &self.cloud.name())
            .field("arm_endpoint", &self.cloud.arm_endpoint())
            .field("max_pages", &self.max_pages)
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
        }
    }

    /// A client over auth-core's process-wide pipeline (needs a tokio runtime).
    #[cfg(feature = "reqwest")]
    pub fn shared(credential: Arc<dyn TokenCredential>, cloud: Cloud) -> Self {
        Self::new(credential, cloud, Pipeline::shared())
    }

    /// With another bound on the pages a list call follows (at least 1).
    pub fn with_max_pages(mut self, max_pages: usize) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// The cloud the requests go to.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// SDK v1's workspace GET: `GET {arm}/subscriptions/{s}/resourceGroups/{rg}/providers/
    /// Microsoft.MachineLearningServices/workspaces/{name}?api-version=2022-05-01`.
    ///
    /// A workspace that names another cloud than the client's is refused before anything is
    /// sent, so a token never goes to the wrong cloud.
    pub async fn get(&self, workspace: &Workspace) -> Result<WorkspaceInfo, ArmError> {
        if let Some(c) = workspace.cloud()
            && arm_base(c) != arm_base(&self.cloud)
        {
            return Err(ArmError::Request(
                auth_core::Error::configuration(format!(
                    "the {workspace} is in {} ({}), but this client talks to {} ({})",
                    c.name(),
                    c.arm_endpoint(),
                    self.cloud.name(),
                    self.cloud.arm_endpoint()
                ))
                .with_hint("build the client for the workspace's cloud"),
            ));
        }
        let url = workspace.arm_url(&self.cloud);
        let resp = self.send_get(&url).await?;
        let value = json_body(&resp)?;
        WorkspaceInfo::from_value(&value).map_err(|reason| ArmError::InvalidResponse {
            status: resp.status().as_u16(),
            reason,
        })
    }

    /// SDK v1's `Workspace.list(subscription_id, resource_group=...)`: every workspace in the
    /// resource group, following `nextLink`.
    pub async fn list_by_resource_group(
        &self,
        subscription_id: &str,
        resource_group: &str,
    ) -> Result<Vec<WorkspaceInfo>, ArmError> {
        check_segment("subscription id", subscription_id)?;
        check_segment("resource group name", resource_group)?;
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
        check_segment("subscription id", subscription_id)?;
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
        for _ in 0..self.max_pages {
            let resp = self.send_get(&url).await?;
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

    /// Sends one authenticated GET; answers one claims challenge; fails on any non-2xx.
    async fn send_get(&self, url: &str) -> Result<HttpResponse, ArmError> {
        let request =
            TokenRequest::for_resource(self.cloud.arm_audience()).map_err(ArmError::Request)?;
        let resp = self.send_with_token(url, &request).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        if resp.status() == http::StatusCode::UNAUTHORIZED
            && let Some(claims) = auth_core::challenge::claims_challenge(resp.headers())
        {
            tracing::debug!(url = %strip_query(url), "answering an ARM claims challenge");
            let request = request.with_claims(claims.clone());
            let retried = self.send_with_token(url, &request).await?;
            if retried.status().is_success() {
                return Ok(retried);
            }
            return Err(ArmError::from_response(&retried, Some(claims)));
        }
        Err(ArmError::from_response(&resp, None))
    }

    async fn send_with_token(
        &self,
        url: &str,
        request: &TokenRequest,
    ) -> Result<HttpResponse, ArmError> {
        let token = self
            .credential
            .get_token(request)
            .await
            .map_err(ArmError::Request)?;
        let auth = auth_core::bearer_value(&token).map_err(ArmError::Request)?;
        drop(token);
        let uri: http::Uri = url.parse().map_err(|_| {
            ArmError::Request(auth_core::Error::configuration(format!(
                "cannot build an ARM URL from {:?}",
                strip_query(url)
            )))
        })?;
        tracing::debug!(url = %strip_query(url), "ARM GET");
        self.pipeline
            .send(|| {
                http::Request::get(uri.clone())
                    .header(http::header::AUTHORIZATION, auth.clone())
                    .header(http::header::ACCEPT, "application/json")
                    .header(http::header::USER_AGENT, USER_AGENT)
                    .body(Vec::new())
                    .map_err(|e| {
                        auth_core::Error::configuration(format!(
                            "cannot build the ARM request: {e}"
                        ))
                    })
            })
            .await
            .map_err(ArmError::Request)
    }
}

fn check_segment(what: &str, v: &str) -> Result<(), ArmError> {
    let segment = match what {
        "subscription id" => crate::workspace::ArmSegment::Subscription,
        _ => crate::workspace::ArmSegment::ResourceGroup,
    };
    segment.check(v).map_err(|why| {
        ArmError::Request(auth_core::Error::configuration(format!(
            "the {what} {v:?} {why}"
        )))
    })
}

fn json_body(resp: &HttpResponse) -> Result<serde_json::Value, ArmError> {
    serde_json::from_slice(resp.body()).map_err(|_| ArmError::InvalidResponse {
        status: resp.status().as_u16(),
        reason: format!("a body that is not JSON ({} bytes)", resp.body().len()),
    })
}

/// `scheme://authority` of a URL, lowercased, for the same-origin check and messages.
fn origin_of(url: &str) -> String {
    url.parse::<http::Uri>()
        .ok()
        .map(|u| {
            format!(
                "{}://{}",
                u.scheme_str().unwrap_or_default(),
                u.authority().map(|a| a.as_str()).unwrap_or_default()
            )
            .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn same_origin(a: &str, b: &str) -> bool {
    let (a, b) = (origin_of(a), origin_of(b));
    !a.is_empty() && a != "://" && a == b
}

/// The URL without its query (queries may carry skip tokens; never log them).
fn strip_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(p, _)| p)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod flow_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(same_origin(
            "https://management.azure.com/subscriptions/s/providers/x?api-version=1&$skiptoken=abc",
            "https://management.azure.com"
        ));
        assert!(same_origin(
            "http://127.0.0.1:8080/a",
            "http://127.0.0.1:8080"
        ));
        assert!(!same_origin(
            "https://evil.example/a",
            "https://management.azure.com"
        ));
        assert!(!same_origin(
            "http://management.azure.com/a",
            "https://management.azure.com"
        ));
        assert!(!same_origin(
            "/relative/next",
            "https://management.azure.com"
        ));
        assert!(!same_origin(
            "http://127.0.0.1:8081/a",
            "http://127.0.0.1:8080"
        ));
    }

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
