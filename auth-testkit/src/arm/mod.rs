//! Azure Resource Manager: `Microsoft.MachineLearningServices` workspaces and compute
//! targets, subscriptions, with ARM's token checks, RBAC decisions and error bodies.

mod computes;

use serde_json::{Value, json};
use sha2::Digest as _;

use crate::fault::Endpoint;
use crate::server::{Req, Resp};
use crate::setup::{PolicyKind, Workspace};
use crate::state::{Shared, State};
use crate::util;

const MLS: &str = "Microsoft.MachineLearningServices";
/// Token audiences ARM accepts (public cloud), as ARM lists them.
const ARM_AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];
/// api-versions of `Microsoft.MachineLearningServices/workspaces` the emulator accepts.
const MLS_API_VERSIONS: &[&str] = &[
    "2018-03-01-preview",
    "2018-11-19",
    "2019-05-01",
    "2019-06-01",
    "2019-11-01",
    "2020-01-01",
    "2020-03-01",
    "2020-04-01",
    "2020-06-01",
    "2020-08-01",
    "2020-09-01-preview",
    "2021-01-01",
    "2021-04-01",
    "2021-07-01",
    "2022-01-01-preview",
    "2022-02-01-preview",
    "2022-05-01",
    "2022-10-01",
    "2022-12-01-preview",
    "2023-04-01",
    "2023-10-01",
    "2024-04-01",
    "2024-10-01",
    "2025-01-01-preview",
    "2025-06-01",
];
/// The claims an `arm_claims_challenge` policy demands.
pub(crate) const STEP_UP_CLAIMS: &str =
    r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;

/// Classifies a request for recording and fault injection.
pub(crate) fn classify(req: &Req) -> Option<Endpoint> {
    let p = req.path.to_ascii_lowercase();
    if p.contains("/computes") || p.contains("/computeoperationsstatus/") {
        Some(Endpoint::ArmComputes)
    } else if p.contains("/workspaces") {
        Some(Endpoint::ArmWorkspaces)
    } else {
        None
    }
}

/// Percent-decodes a path segment.
pub(crate) fn decode_segment(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Headers of every ARM response.
pub(crate) fn arm_headers(mut resp: Resp, req: &Req) -> Resp {
    let request_id = util::uuid_v4();
    let correlation = req
        .header("x-ms-correlation-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());
    resp = resp
        .header("x-ms-request-id", &request_id)
        .header("x-ms-correlation-request-id", &correlation)
        .header(
            "x-ms-routing-request-id",
            &format!("EASTUS2:{}", request_id.replace('-', "")),
        )
        .header("cache-control", "no-cache")
        .header("pragma", "no-cache")
        .header("expires", "-1");
    if let Some(id) = req.header("x-ms-client-request-id") {
        resp = resp.header("x-ms-client-request-id", id);
    }
    resp
}

/// An ARM error response: `{"error":{"code":..,"message":..}}`.
pub(crate) fn arm_error(req: &Req, status: u16, code: &str, message: &str) -> Resp {
    let resp = Resp::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    );
    let resp = if matches!(status, 401 | 403 | 404) && !code.is_empty() {
        resp.header("x-ms-failure-cause", "gateway")
    } else {
        resp
    };
    arm_headers(resp, req)
}

/// The body of an injected status fault.
pub(crate) fn status_fault(shared: &Shared, req: &Req, status: u16) -> Resp {
    let (code, message) = match status {
        429 => (
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, refer to - https://aka.ms/armthrottling",
        ),
        500 => (
            "InternalServerError",
            "Encountered internal server error. Diagnostic information: timestamp, subscription id, tracking id, request correlation id.",
        ),
        502 => (
            "BadGateway",
            "The gateway did not receive a response from 'Microsoft.MachineLearningServices' within the specified time period.",
        ),
        503 => (
            "ServiceUnavailable",
            "The server (leased) is currently unable to handle the request. Please try again later.",
        ),
        504 => (
            "GatewayTimeout",
            "The gateway did not receive a response from 'Microsoft.MachineLearningServices' within the specified time period.",
        ),
        401 => ("AuthenticationFailed", "Authentication failed."),
        403 => (
            "AuthorizationFailed",
            "The client does not have authorization to perform this action (injected fault).",
        ),
        404 => (
            "ResourceNotFound",
            "The Resource was not found (injected fault). For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        ),
        409 => (
            "Conflict",
            "The request conflicts with the current state of the resource (injected fault).",
        ),
        _ => ("BadRequest", "The request was rejected (injected fault)."),
    };
    let resp = arm_error(req, status, code, message);
    if status == 401 {
        let tenant = shared
            .lock()
            .default_tenant()
            .unwrap_or("common")
            .to_owned();
        return resp.header(
            "www-authenticate",
            &challenge(
                shared,
                &tenant,
                "The authentication failed (injected fault).",
            ),
        );
    }
    resp
}

/// The authenticated caller of an ARM request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) object_id: String,
    /// UPN for users, object id for service principals (as ARM names the client).
    pub(crate) client_name: String,
    pub(crate) tenant_id: String,
}

fn challenge(shared: &Shared, tenant: &str, description: &str) -> String {
    format!(
        "Bearer authorization_uri=\"{}/{tenant}\", error=\"invalid_token\", error_description=\"{description}\"",
        shared.entra_base()
    )
}

fn unauthorized(
    shared: &Shared,
    req: &Req,
    tenant: &str,
    code: &str,
    message: &str,
    description: &str,
) -> Resp {
    arm_error(req, 401, code, message)
        .header("www-authenticate", &challenge(shared, tenant, description))
}

/// Checks the bearer token as ARM does: presence, signature, audience, lifetime; then
/// Conditional Access step-up policies.
pub(crate) fn authenticate(
    shared: &Shared,
    st: &State,
    req: &Req,
    tenant_hint: &str,
) -> Result<Caller, Resp> {
    let Some(auth) = req.header("authorization") else {
        return Err(unauthorized(
            shared,
            req,
            tenant_hint,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let token = match auth.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ => {
            return Err(unauthorized(
                shared,
                req,
                tenant_hint,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                "The authentication failed because of invalid 'Authorization' header format.",
            ));
        }
    };
    let invalid = || {
        unauthorized(
            shared,
            req,
            tenant_hint,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            "The access token is invalid.",
        )
    };
    let Some(claims) = crate::jwt::verify_hs256(&shared.key, token) else {
        return Err(invalid());
    };
    let tid = claims
        .get("tid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ARM_AUDIENCES.contains(&aud) {
        let allowed: Vec<String> = ARM_AUDIENCES.iter().map(|a| format!("'{a}'")).collect();
        return Err(unauthorized(
            shared,
            req,
            if tid.is_empty() { tenant_hint } else { &tid },
            "InvalidAuthenticationToken",
            &format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences {}.",
                allowed.join(",")
            ),
            "The access token has been obtained for wrong audience or resource.",
        ));
    }
    let now = st.now();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return Err(unauthorized(
            shared,
            req,
            &tid,
            "ExpiredAuthenticationToken",
            &format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                util::arm_us_time(exp),
                util::arm_us_time(now)
            ),
            "The access token expiry UTC time is earlier than current UTC time.",
        ));
    }
    if nbf > now + 300 {
        return Err(unauthorized(
            shared,
            req,
            &tid,
            "InvalidAuthenticationToken",
            &format!(
                "The access token is not yet valid: its 'not before' UTC time '{}' is later than current UTC time '{}'.",
                util::arm_us_time(nbf),
                util::arm_us_time(now)
            ),
            "The access token is not yet valid.",
        ));
    }
    let oid = claims
        .get("oid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let upn = claims.get("upn").and_then(Value::as_str).map(str::to_owned);
    let appid = claims
        .get("appid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // Conditional Access authentication-context step-up.
    let has_c1 = claims
        .get("acrs")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("c1")));
    let challenged = st.setup.policies.iter().any(|p| {
        p.kind == PolicyKind::ArmClaimsChallenge
            && p.applies_to(&[&oid, &appid, upn.as_deref().unwrap_or("")])
    });
    if challenged && !has_c1 {
        let header = format!(
            "Bearer authorization_uri=\"{}/{tid}/oauth2/authorize\", error=\"insufficient_claims\", claims=\"{}\"",
            shared.entra_base(),
            util::b64std(STEP_UP_CLAIMS.as_bytes())
        );
        return Err(arm_error(
            req,
            401,
            "InvalidAuthenticationToken",
            "The access token requires additional claims. Acquire a new token with the claims in the WWW-Authenticate header.",
        )
        .header("www-authenticate", &header));
    }
    Ok(Caller {
        client_name: upn.unwrap_or_else(|| oid.clone()),
        object_id: oid,
        tenant_id: tid,
    })
}

fn authorization_failed(req: &Req, caller: &Caller, action: &str, scope: &str) -> Resp {
    arm_error(
        req,
        403,
        "AuthorizationFailed",
        &format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.client_name, caller.object_id
        ),
    )
}

/// Asks the [`crate::authz`] decision function.
pub(crate) fn authorize(
    st: &State,
    req: &Req,
    caller: &Caller,
    action: &str,
    scope: &str,
) -> Result<(), Resp> {
    if st.access().allows(&caller.object_id, action, scope) {
        Ok(())
    } else {
        Err(authorization_failed(req, caller, action, scope))
    }
}

fn api_version<'a>(
    req: &'a Req,
    mls: bool,
    type_name: &str,
    location: &str,
) -> Result<&'a str, Resp> {
    let Some(v) = req.query("api-version") else {
        return Err(arm_error(
            req,
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let b = v.as_bytes();
    let well_formed = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && (b.len() == 10 || b[10] == b'-');
    if !well_formed {
        return Err(arm_error(
            req,
            400,
            "InvalidApiVersionParameter",
            &format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                MLS_API_VERSIONS.join(",")
            ),
        ));
    }
    if mls && !MLS_API_VERSIONS.contains(&v) {
        return Err(arm_error(
            req,
            400,
            "NoRegisteredProviderFound",
            &format!(
                "No registered resource provider found for location '{location}' and API version '{v}' for type '{type_name}'. The supported api-versions are '{}'. The supported locations are 'eastus, eastus2, westus2, westeurope, northeurope, southeastasia'.",
                MLS_API_VERSIONS.join(", ")
            ),
        ));
    }
    Ok(v)
}

/// Routes an ARM request.
pub(crate) fn route(shared: &Shared, req: &Req) -> Resp {
    let raw = req.segments();
    let segs: Vec<String> = raw.iter().map(|s| decode_segment(s)).collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let st = shared.lock();

    match l.as_slice() {
        ["subscriptions"] => list_subscriptions(shared, &st, req),
        ["subscriptions", _] => get_subscription(shared, &st, req, &segs[1]),
        [
            "subscriptions",
            _,
            "providers",
            "microsoft.machinelearningservices",
            "workspaces",
        ] => list_workspaces(shared, &st, req, &segs[1], None),
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.machinelearningservices",
            "workspaces",
        ] => list_workspaces(shared, &st, req, &segs[1], Some(&segs[3])),
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.machinelearningservices",
            "workspaces",
            _,
        ] => get_workspace(shared, &st, req, &segs[1], &segs[3], &segs[7]),
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.machinelearningservices",
            "workspaces",
            _,
            "computes",
            ..,
        ] => {
            drop(st);
            computes::route(shared, req, &segs)
        }
        [
            "subscriptions",
            _,
            "providers",
            "microsoft.machinelearningservices",
            "locations",
            _,
            "computeoperationsstatus",
            _,
        ] => {
            drop(st);
            computes::operation_status(shared, req, &segs)
        }
        _ => arm_error(
            req,
            404,
            "InvalidResourceType",
            &format!(
                "The resource type could not be found in the namespace for api version '{}'.",
                req.query("api-version").unwrap_or("")
            ),
        ),
    }
}

/// Common gate of a subscription-scoped request: token, api-version, subscription, tenant.
pub(crate) fn gate(
    shared: &Shared,
    st: &State,
    req: &Req,
    sub: &str,
    type_name: &str,
) -> Result<Caller, Resp> {
    let sub_tenant = st.subscription_tenant(sub);
    let hint = sub_tenant.clone().unwrap_or_else(|| "common".to_owned());
    let caller = authenticate(shared, st, req, &hint)?;
    api_version(req, true, type_name, "eastus2")?;
    let Some(sub_tenant) = sub_tenant else {
        return Err(arm_error(
            req,
            404,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        ));
    };
    if !sub_tenant.eq_ignore_ascii_case(&caller.tenant_id) {
        let base = shared.entra_base();
        return Err(unauthorized(
            shared,
            req,
            &sub_tenant,
            "InvalidAuthenticationTokenTenant",
            &format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{sub_tenant}/' associated with this subscription. Please use the authority (URL) '{base}/{sub_tenant}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
                caller.tenant_id
            ),
            "The access token is from the wrong issuer.",
        ));
    }
    Ok(caller)
}

fn derived_guid(seed: &str) -> String {
    let h = sha2::Sha256::digest(seed.as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The workspace resource body (protocol-msi-cli-arm.md §6.4).
pub(crate) fn workspace_json(st: &State, ws: &Workspace) -> Value {
    let id = ws.arm_id();
    let rg_id = format!(
        "/subscriptions/{}/resourceGroups/{}",
        ws.subscription_id, ws.resource_group
    );
    let short: String = ws
        .name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    let suffix = &derived_guid(&id)[..8];
    let tenant = st
        .subscription_tenant(&ws.subscription_id)
        .unwrap_or_default();
    let created = util::iso8601(1_700_000_000);
    let tags: serde_json::Map<String, Value> =
        ws.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "id": id,
        "name": ws.name,
        "type": "Microsoft.MachineLearningServices/workspaces",
        "location": ws.location,
        "tags": tags,
        "etag": null,
        "kind": "Default",
        "sku": {"name": "Basic", "tier": "Basic"},
        "identity": {"type": "SystemAssigned", "principalId": derived_guid(&format!("{id}/identity")), "tenantId": tenant},
        "systemData": {
            "createdAt": created, "createdBy": "emulator@contoso.com", "createdByType": "User",
            "lastModifiedAt": created, "lastModifiedBy": "emulator@contoso.com", "lastModifiedByType": "User"
        },
        "properties": {
            "friendlyName": ws.friendly_name.clone().unwrap_or_else(|| ws.name.clone()),
            "description": "",
            "workspaceId": ws.workspace_id,
            "discoveryUrl": format!("https://{}.api.azureml.ms/discovery", ws.location),
            "keyVault": format!("{rg_id}/providers/Microsoft.KeyVault/vaults/kv{short}{suffix}"),
            "storageAccount": format!("{rg_id}/providers/Microsoft.Storage/storageAccounts/st{short}{suffix}"),
            "applicationInsights": format!("{rg_id}/providers/Microsoft.insights/components/ai{short}{suffix}"),
            "containerRegistry": null,
            "provisioningState": "Succeeded",
            "creationTime": created,
            "hbiWorkspace": false,
            "allowPublicAccessWhenBehindVnet": false,
            "publicNetworkAccess": "Enabled",
            "imageBuildCompute": null,
            "privateLinkCount": 0,
            "privateEndpointConnections": [],
            "sharedPrivateLinkResources": [],
            "notebookInfo": null,
            "storageHnsEnabled": false,
            "v1LegacyMode": false,
            "systemDatastoresAuthMode": "accessKey",
            "mlFlowTrackingUri": format!("azureml://{}.api.azureml.ms/mlflow/v1.0{id}", ws.location)
        }
    })
}

fn find_workspace<'a>(st: &'a State, sub: &str, rg: &str, name: &str) -> Option<&'a Workspace> {
    st.setup.workspaces.iter().find(|w| {
        w.subscription_id.eq_ignore_ascii_case(sub)
            && w.resource_group.eq_ignore_ascii_case(rg)
            && w.name.eq_ignore_ascii_case(name)
    })
}

/// 404 for a workspace: resource group first, then the workspace.
pub(crate) fn workspace_or_404<'a>(
    st: &'a State,
    req: &Req,
    sub: &str,
    rg: &str,
    name: &str,
) -> Result<&'a Workspace, Resp> {
    if !st.resource_group_exists(sub, rg) {
        return Err(arm_error(
            req,
            404,
            "ResourceGroupNotFound",
            &format!("Resource group '{rg}' could not be found."),
        ));
    }
    find_workspace(st, sub, rg, name).ok_or_else(|| {
        arm_error(
            req,
            404,
            "ResourceNotFound",
            &format!(
                "The Resource '{MLS}/workspaces/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    })
}

fn get_workspace(shared: &Shared, st: &State, req: &Req, sub: &str, rg: &str, name: &str) -> Resp {
    let run = || -> Result<Resp, Resp> {
        if req.method != http::Method::GET {
            return Err(method_not_allowed(req));
        }
        let caller = gate(shared, st, req, sub, "workspaces")?;
        let scope =
            format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{MLS}/workspaces/{name}");
        authorize(st, req, &caller, &format!("{MLS}/workspaces/read"), &scope)?;
        let ws = workspace_or_404(st, req, sub, rg, name)?;
        Ok(arm_headers(Resp::json(200, &workspace_json(st, ws)), req))
    };
    run().unwrap_or_else(|e| e)
}

fn method_not_allowed(req: &Req) -> Resp {
    arm_error(
        req,
        405,
        "MethodNotAllowed",
        &format!(
            "The requested resource does not support http method '{}'.",
            req.method
        ),
    )
}

fn list_workspaces(shared: &Shared, st: &State, req: &Req, sub: &str, rg: Option<&str>) -> Resp {
    let run = || -> Result<Resp, Resp> {
        if req.method != http::Method::GET {
            return Err(method_not_allowed(req));
        }
        let caller = gate(shared, st, req, sub, "workspaces")?;
        let scope = match rg {
            Some(rg) => format!("/subscriptions/{sub}/resourceGroups/{rg}"),
            None => format!("/subscriptions/{sub}"),
        };
        let action = format!("{MLS}/workspaces/read");
        let all_visible = st.access().allows(&caller.object_id, &action, &scope);
        let items: Vec<&Workspace> = st
            .setup
            .workspaces
            .iter()
            .filter(|w| w.subscription_id.eq_ignore_ascii_case(sub))
            .filter(|w| rg.is_none_or(|rg| w.resource_group.eq_ignore_ascii_case(rg)))
            .filter(|w| all_visible || st.access().allows(&caller.object_id, &action, &w.arm_id()))
            .collect();
        if !all_visible && items.is_empty() {
            return Err(authorization_failed(req, &caller, &action, &scope));
        }
        if let Some(rg) = rg
            && !st.resource_group_exists(sub, rg)
        {
            return Err(arm_error(
                req,
                404,
                "ResourceGroupNotFound",
                &format!("Resource group '{rg}' could not be found."),
            ));
        }
        let skip: usize = req
            .query("$skipToken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let page = st.setup.arm_page_size;
        let values: Vec<Value> = items
            .iter()
            .skip(skip)
            .take(page)
            .map(|w| workspace_json(st, w))
            .collect();
        let mut body = json!({"value": values});
        let next = skip.saturating_add(page);
        if next < items.len() {
            let version = req.query("api-version").unwrap_or_default();
            body["nextLink"] = json!(format!(
                "{}{}?api-version={}&$skipToken={next}",
                shared.arm_base(),
                req.path,
                version,
            ));
        }
        Ok(arm_headers(Resp::json(200, &body), req))
    };
    run().unwrap_or_else(|e| e)
}

fn subscription_json(st: &State, sub: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub,
        "tenantId": st.subscription_tenant(sub).unwrap_or_default(),
        "displayName": format!("Emulated subscription {}", sub.chars().take(8).collect::<String>()),
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}
    })
}

fn has_any_role_in(st: &State, oid: &str, sub: &str) -> bool {
    let prefix = format!("/subscriptions/{sub}").to_ascii_lowercase();
    st.setup.roles.iter().any(|ra| {
        let s = ra.scope.to_ascii_lowercase();
        ra.principal_object_id.eq_ignore_ascii_case(oid)
            && (s == "/" || s == prefix || s.starts_with(&format!("{prefix}/")))
    })
}

fn list_subscriptions(shared: &Shared, st: &State, req: &Req) -> Resp {
    let run = || -> Result<Resp, Resp> {
        let caller = authenticate(shared, st, req, "common")?;
        api_version(req, false, "subscriptions", "")?;
        let values: Vec<Value> = st
            .subscription_ids()
            .iter()
            .filter(|s| {
                st.subscription_tenant(s)
                    .is_some_and(|t| t.eq_ignore_ascii_case(&caller.tenant_id))
            })
            .filter(|s| has_any_role_in(st, &caller.object_id, s))
            .map(|s| subscription_json(st, s))
            .collect();
        Ok(arm_headers(
            Resp::json(
                200,
                &json!({"count": {"type": "Total", "value": values.len()}, "value": values}),
            ),
            req,
        ))
    };
    run().unwrap_or_else(|e| e)
}

fn get_subscription(shared: &Shared, st: &State, req: &Req, sub: &str) -> Resp {
    let run = || -> Result<Resp, Resp> {
        let hint = st
            .subscription_tenant(sub)
            .unwrap_or_else(|| "common".to_owned());
        let caller = authenticate(shared, st, req, &hint)?;
        api_version(req, false, "subscriptions", "")?;
        if st.subscription_tenant(sub).is_none() || !has_any_role_in(st, &caller.object_id, sub) {
            return Err(arm_error(
                req,
                404,
                "SubscriptionNotFound",
                &format!("The subscription '{sub}' could not be found."),
            ));
        }
        Ok(arm_headers(
            Resp::json(200, &subscription_json(st, sub)),
            req,
        ))
    };
    run().unwrap_or_else(|e| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_decoded() {
        assert_eq!(decode_segment("my%20ws"), "my ws");
        assert_eq!(decode_segment("a%2"), "a%2");
        assert_eq!(decode_segment("plain"), "plain");
        assert_eq!(decode_segment("%aé"), "%aé");
        assert_eq!(decode_segment("%"), "%");
        assert_eq!(decode_segment("a%41"), "aA");
    }

    #[test]
    fn derived_guids_are_stable() {
        assert_eq!(derived_guid("x"), derived_guid("x"));
        assert!(util::is_guid(&derived_guid("x")));
    }
}
