//! The workspace handle: coordinates, ARM resource id and URLs.

use std::fmt;

use auth_core::{Cloud, TenantId};

use crate::config::{ConfigFile, WorkspaceConfig};
use crate::resource_http::encode_segment;

/// The api-version of SDK v1's workspace GET (azureml-core 1.61 hard-codes it), also used for
/// the list calls and the compute actions.
pub const ARM_API_VERSION: &str = "2022-05-01";

/// The ARM provider namespace and type of an Azure ML workspace.
pub const WORKSPACE_TYPE: &str = "Microsoft.MachineLearningServices/workspaces";

/// The parts of a workspace's ARM id, for validation messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArmSegment {
    Subscription,
    ResourceGroup,
    Workspace,
}

impl ArmSegment {
    pub(crate) fn config_key(self) -> &'static str {
        match self {
            Self::Subscription => "subscription_id",
            Self::ResourceGroup => "resource_group",
            Self::Workspace => "workspace_name",
        }
    }

    /// Checks that `v` can be one segment of an ARM path.
    pub(crate) fn check(self, v: &str) -> Result<(), &'static str> {
        if v.is_empty() {
            return Err("is empty");
        }
        if v.trim() != v {
            return Err("has leading or trailing whitespace");
        }
        if v.chars()
            .any(|c| matches!(c, '/' | '\\' | '?' | '#') || c.is_control())
        {
            return Err(
                "contains a character that cannot be in an ARM name (/ \\ ? # or a control character)",
            );
        }
        if v == "." || v == ".." {
            return Err("is a relative path segment");
        }
        Ok(())
    }

    /// [`Self::check`] as a configuration error naming the segment and the value.
    pub(crate) fn validate(self, v: &str) -> Result<(), auth_core::Error> {
        self.check(v)
            .map_err(|why| auth_core::Error::configuration(format!("the {self} {v:?} {why}")))
    }
}

impl fmt::Display for ArmSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Subscription => "subscription id",
            Self::ResourceGroup => "resource group name",
            Self::Workspace => "workspace name",
        })
    }
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{w}`.
pub(crate) fn resource_id(subscription: &str, resource_group: &str, workspace: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{WORKSPACE_TYPE}/{workspace}"
    )
}

/// Validates an ARM id as a workspace id (keywords case-insensitive, exactly eight segments, one
/// trailing `/` tolerated) and returns (subscription, resource group, workspace).
pub(crate) fn parse_workspace_id(id: &str) -> Result<(String, String, String), &'static str> {
    let id = id.trim();
    let Some(rest) = id.strip_prefix('/') else {
        return Err("it does not start with /subscriptions/");
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').collect();
    let keyword = |i: usize, want: &str| parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(want));
    if !keyword(0, "subscriptions") {
        return Err("it does not start with /subscriptions/");
    }
    if parts.len() >= 3 && !keyword(2, "resourceGroups") {
        return Err("the subscription is not followed by /resourceGroups/");
    }
    if parts.len() < 8 {
        return Err("it stops before the workspace name");
    }
    if !keyword(4, "providers")
        || !keyword(5, "Microsoft.MachineLearningServices")
        || !keyword(6, "workspaces")
    {
        return Err("it is not a Microsoft.MachineLearningServices/workspaces resource");
    }
    if parts.len() > 8 {
        return Err("it names a resource inside the workspace, not the workspace itself");
    }
    for (i, segment) in [
        (1, ArmSegment::Subscription),
        (3, ArmSegment::ResourceGroup),
        (7, ArmSegment::Workspace),
    ] {
        let v = parts[i];
        if v.is_empty() {
            return Err(match segment {
                ArmSegment::Subscription => "its subscription id is empty",
                ArmSegment::ResourceGroup => "its resource group name is empty",
                ArmSegment::Workspace => "its workspace name is empty",
            });
        }
        segment
            .check(v)
            .map_err(|_| "a name in it has characters that cannot be in an ARM name")?;
    }
    Ok((
        parts[1].to_owned(),
        parts[3].to_owned(),
        parts[7].to_owned(),
    ))
}

/// `{arm}` without its trailing `/`.
pub(crate) fn arm_base(cloud: &Cloud) -> &str {
    cloud.arm_endpoint().trim_end_matches('/')
}

/// An Azure ML workspace: subscription, resource group, name, and optionally the cloud and
/// tenant it lives in. SDK v1's `Workspace(subscription_id, resource_group, workspace_name)`,
/// without the service call (see [`crate::WorkspaceClient::get`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    subscription_id: String,
    resource_group: String,
    name: String,
    cloud: Option<Cloud>,
    tenant_id: Option<TenantId>,
}

impl Workspace {
    /// The workspace `name` in `resource_group` of `subscription_id`. Each part must be a valid
    /// ARM path segment.
    pub fn new(
        subscription_id: &str,
        resource_group: &str,
        name: &str,
    ) -> Result<Self, auth_core::Error> {
        let c = WorkspaceConfig::new(subscription_id, resource_group, name)?;
        Ok(Self::from_workspace_config(&c))
    }

    /// The workspace whose ARM id is `id` (validated, not split by position).
    pub fn from_resource_id(id: &str) -> Result<Self, auth_core::Error> {
        let (s, rg, w) = parse_workspace_id(id).map_err(|why| {
            auth_core::Error::configuration(format!(
                "{id:?} is not the ARM id of an Azure ML workspace: {why}"
            ))
            .with_hint("an id looks like /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.MachineLearningServices/workspaces/<name>")
        })?;
        Ok(Self {
            subscription_id: s,
            resource_group: rg,
            name: w,
            cloud: None,
            tenant_id: None,
        })
    }

    /// The workspace a config file names, with its cloud and tenant hints
    /// (SDK v1's `Workspace.from_config`, without the service call).
    pub fn from_config(file: &ConfigFile) -> Result<Self, auth_core::Error> {
        let mut ws = Self::from_workspace_config(&file.config);
        ws.cloud = file.config.resolve_cloud().map_err(|e| {
            auth_core::Error::configuration(format!(
                "the workspace config {} names an unknown cloud",
                file.path.display()
            ))
            .with_source(e)
        })?;
        Ok(ws)
    }

    /// The workspace of a parsed config, with its hints (a cloud name that is not a known cloud
    /// is dropped here; [`Self::from_config`] reports it instead).
    pub fn from_workspace_config(config: &WorkspaceConfig) -> Self {
        Self {
            subscription_id: config.subscription_id.clone(),
            resource_group: config.resource_group.clone(),
            name: config.workspace_name.clone(),
            cloud: config.resolve_cloud().ok().flatten(),
            tenant_id: config.tenant_id.clone(),
        }
    }

    /// With the cloud it lives in.
    pub fn with_cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// With the tenant of its subscription.
    pub fn with_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant_id = Some(tenant);
        self
    }

    /// The subscription id.
    pub fn subscription_id(&self) -> &str {
        &self.subscription_id
    }

    /// The resource group name.
    pub fn resource_group(&self) -> &str {
        &self.resource_group
    }

    /// The workspace name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cloud, when known (from the config file's hint or [`Self::with_cloud`]).
    pub fn cloud(&self) -> Option<&Cloud> {
        self.cloud.as_ref()
    }

    /// The tenant, when known (from the config file's hint or [`Self::with_tenant`]).
    pub fn tenant_id(&self) -> Option<&TenantId> {
        self.tenant_id.as_ref()
    }

    /// The ARM resource id (the `Scope` of SDK v1's config format).
    pub fn resource_id(&self) -> String {
        resource_id(&self.subscription_id, &self.resource_group, &self.name)
    }

    /// The ARM URL of the workspace in `cloud`, without query.
    pub fn arm_resource_url(&self, cloud: &Cloud) -> String {
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/{WORKSPACE_TYPE}/{}",
            arm_base(cloud),
            encode_segment(&self.subscription_id),
            encode_segment(&self.resource_group),
            encode_segment(&self.name)
        )
    }

    /// The URL of SDK v1's workspace GET in `cloud`, with [`ARM_API_VERSION`].
    pub fn arm_url(&self, cloud: &Cloud) -> String {
        format!(
            "{}?api-version={ARM_API_VERSION}",
            self.arm_resource_url(cloud)
        )
    }

    /// The workspace's page in Azure ML studio of `cloud` (`https://ml.azure.com/?wsid=<id>`).
    pub fn studio_url(&self, cloud: &Cloud) -> String {
        let id: String = self
            .resource_id()
            .split('/')
            .map(encode_segment)
            .collect::<Vec<_>>()
            .join("/");
        format!("{}/?wsid={id}", cloud.aml_audience().trim_end_matches('/'))
    }

    /// This workspace as a config (to [`crate::write_config`] it).
    pub fn to_config(&self) -> WorkspaceConfig {
        WorkspaceConfig {
            subscription_id: self.subscription_id.clone(),
            resource_group: self.resource_group.clone(),
            workspace_name: self.name.clone(),
            tenant_id: self.tenant_id.clone(),
            // Only a well-known cloud can be named in a file (a custom one has no name to
            // look up).
            cloud: self
                .cloud
                .as_ref()
                .filter(|c| Cloud::from_az_name(c.name()).is_ok_and(|k| k == **c))
                .map(|c| c.name().to_owned()),
        }
    }
}

impl fmt::Display for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "workspace {} (resource group {}, subscription {})",
            self.name, self.resource_group, self.subscription_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_id(id: &str, want: Result<(&str, &str, &str), &str>) {
        let got = parse_workspace_id(id);
        match (&got, want) {
            (Ok((s, rg, w)), Ok(want)) => {
                assert_eq!((s.as_str(), rg.as_str(), w.as_str()), want, "{id}")
            }
            (Err(why), Err(want)) => assert!(why.contains(want), "{id}: {why}"),
            _ => panic!("{id}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn workspace_ids() {
        let p = "providers/Microsoft.MachineLearningServices/workspaces";
        check_id(
            &format!("/subscriptions/s/resourceGroups/rg/{p}/ws"),
            Ok(("s", "rg", "ws")),
        );
        check_id(
            &format!(" /subscriptions/s/resourceGroups/rg/{p}/ws/ "),
            Ok(("s", "rg", "ws")),
        );
        check_id(
            "/subscriptions/s/resourcegroups/rg/providers/microsoft.machinelearningservices/WORKSPACES/ws",
            Ok(("s", "rg", "ws")),
        );
        // v1 would split these by position and take garbage; they are rejected.
        check_id(
            &format!("subscriptions/s/resourceGroups/rg/{p}/ws"),
            Err("does not start with /subscriptions/"),
        );
        check_id(
            &format!("/tenants/s/resourceGroups/rg/{p}/ws"),
            Err("does not start with /subscriptions/"),
        );
        check_id(
            &format!("/subscriptions/s/groups/rg/{p}/ws"),
            Err("not followed by /resourceGroups/"),
        );
        check_id(
            "/subscriptions/s/resourceGroups/rg",
            Err("stops before the workspace name"),
        );
        check_id(
            &format!("/subscriptions/s/resourceGroups/rg/{p}"),
            Err("stops before the workspace name"),
        );
        check_id(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/r",
            Err("not a Microsoft.MachineLearningServices/workspaces resource"),
        );
        check_id(
            &format!("/subscriptions/s/resourceGroups/rg/{p}/ws/computes/c"),
            Err("inside the workspace"),
        );
        check_id(
            &format!("/subscriptions/s/resourceGroups//{p}/ws"),
            Err("resource group name is empty"),
        );
        check_id(
            &format!("/subscriptions/s/resourceGroups/rg/{p}//"),
            Err("workspace name is empty"),
        );
        check_id(
            &format!("/subscriptions/s/resourceGroups/rg/{p}/w?x"),
            Err("characters that cannot be"),
        );
    }

    #[test]
    fn urls() {
        let ws = Workspace::new("0000-1", "my rg", "ws").unwrap();
        assert_eq!(
            ws.resource_id(),
            "/subscriptions/0000-1/resourceGroups/my rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
        );
        assert_eq!(
            ws.arm_url(&Cloud::public()),
            "https://management.azure.com/subscriptions/0000-1/resourceGroups/my%20rg/providers/Microsoft.MachineLearningServices/workspaces/ws?api-version=2022-05-01"
        );
        assert_eq!(
            ws.arm_resource_url(&Cloud::china()),
            "https://management.chinacloudapi.cn/subscriptions/0000-1/resourceGroups/my%20rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
        );
        assert_eq!(
            ws.studio_url(&Cloud::public()),
            "https://ml.azure.com/?wsid=/subscriptions/0000-1/resourceGroups/my%20rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
        );
        assert_eq!(
            ws.to_string(),
            "workspace ws (resource group my rg, subscription 0000-1)"
        );
        let back = Workspace::from_resource_id(&ws.resource_id()).unwrap();
        assert_eq!(back, ws);
        let e = Workspace::from_resource_id("/subscriptions/s").unwrap_err();
        assert_eq!(e.kind(), auth_core::ErrorKind::Configuration);
        assert!(
            e.to_string()
                .contains("is not the ARM id of an Azure ML workspace"),
            "{e}"
        );
    }

    #[test]
    fn to_config_names_only_known_clouds() {
        let ws = Workspace::new("s", "rg", "ws").unwrap();
        assert_eq!(
            ws.clone()
                .with_cloud(Cloud::china())
                .to_config()
                .cloud
                .as_deref(),
            Some("AzureChinaCloud")
        );
        let emu = Cloud::custom(
            "emulator",
            "http://127.0.0.1:1",
            "http://127.0.0.1:1/",
            "a",
            "b",
        )
        .unwrap();
        assert_eq!(ws.with_cloud(emu).to_config().cloud, None);
    }
}
