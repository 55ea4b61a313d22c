//! Compute targets: `.../workspaces/{ws}/computes[/{name}[/start|/stop]]`.

use serde_json::{Value, json};

use super::{MLS, arm_error, arm_headers, authorize, gate, workspace_or_404};
use crate::server::{Req, Resp};
use crate::state::Shared;
use crate::util;

const COMPUTE_TYPES: &[&str] = &[
    "AmlCompute",
    "ComputeInstance",
    "Kubernetes",
    "AKS",
    "VirtualMachine",
    "HDInsight",
    "DataFactory",
    "Databricks",
    "DataLakeAnalytics",
    "SynapseSpark",
];

fn operation_headers(shared: &Shared, req: &Req, sub: &str, location: &str, resp: Resp) -> Resp {
    let version = req.query("api-version").unwrap_or_default();
    let url = format!(
        "{}/subscriptions/{sub}/providers/{MLS}/locations/{location}/computeOperationsStatus/{}?api-version={version}",
        shared.arm_base(),
        util::uuid_v4()
    );
    resp.header("azure-asyncoperation", &url)
        .header("location", &url)
        .header("retry-after", "0")
}

/// Routes a compute request. `segs` are the decoded path segments.
pub(crate) fn route(shared: &Shared, req: &Req, segs: &[String]) -> Resp {
    let (sub, rg, ws_name) = (&segs[1], &segs[3], &segs[7]);
    let rest: Vec<String> = segs[9..].iter().map(|s| s.to_ascii_lowercase()).collect();
    let mut st = shared.lock();
    let mut run = || -> Result<Resp, Resp> {
        let caller = gate(shared, &st, req, sub, "workspaces/computes")?;
        let ws_scope = format!(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/{MLS}/workspaces/{ws_name}"
        );
        let (name, op): (Option<&String>, Option<&str>) = match rest.as_slice() {
            [] => (None, None),
            [_] => (Some(&segs[9]), None),
            [_, op] if op == "start" || op == "stop" || op == "restart" => {
                (Some(&segs[9]), Some(op.as_str()))
            }
            _ => {
                return Err(arm_error(
                    req,
                    404,
                    "InvalidResourceType",
                    "The resource type could not be found in the namespace.",
                ));
            }
        };
        let action_of = |verb: &str| format!("{MLS}/workspaces/computes/{verb}");
        let Some(name) = name else {
            if req.method != http::Method::GET {
                return Err(super::method_not_allowed(req));
            }
            authorize(
                &st,
                req,
                &caller,
                &action_of("read"),
                &format!("{ws_scope}/computes"),
            )?;
            let ws = workspace_or_404(&st, req, sub, rg, ws_name)?;
            let prefix = format!("{}/computes/", ws.arm_id()).to_ascii_lowercase();
            let values: Vec<Value> = st
                .computes
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, v)| v.clone())
                .collect();
            return Ok(arm_headers(Resp::json(200, &json!({"value": values})), req));
        };
        let scope = format!("{ws_scope}/computes/{name}");
        let key = scope.to_ascii_lowercase();
        let action = match (req.method.as_str(), op) {
            ("GET", None) => action_of("read"),
            ("PUT", None) | ("PATCH", None) => action_of("write"),
            ("DELETE", None) => action_of("delete"),
            ("POST", Some(op)) => action_of(&format!("{op}/action")),
            _ => return Err(super::method_not_allowed(req)),
        };
        authorize(&st, req, &caller, &action, &scope)?;
        let ws = workspace_or_404(&st, req, sub, rg, ws_name)?.clone();
        let not_found = || {
            arm_error(
                req,
                404,
                "ResourceNotFound",
                &format!(
                    "The Resource '{MLS}/workspaces/{ws_name}/computes/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                ),
            )
        };
        match (req.method.as_str(), op) {
            ("GET", None) => {
                let c = st.computes.get(&key).ok_or_else(not_found)?;
                Ok(arm_headers(Resp::json(200, c), req))
            }
            ("PUT", None) => {
                let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
                    arm_error(
                        req,
                        400,
                        "InvalidRequestContent",
                        "The request content was invalid and could not be deserialized.",
                    )
                })?;
                if body
                    .pointer("/properties/properties")
                    .is_some_and(|p| !p.is_object() && !p.is_null())
                {
                    return Err(arm_error(
                        req,
                        400,
                        "InvalidRequestContent",
                        "The request content was invalid and could not be deserialized: 'properties.properties' must be an object.",
                    ));
                }
                let compute_type = body
                    .pointer("/properties/computeType")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let Some(compute_type) = COMPUTE_TYPES
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(compute_type))
                else {
                    return Err(arm_error(
                        req,
                        400,
                        "ValidationError",
                        &format!(
                            "Compute type '{compute_type}' is not supported. Set properties.computeType to one of: {}.",
                            COMPUTE_TYPES.join(", ")
                        ),
                    ));
                };
                let now = util::iso8601(st.now());
                let existed = st.computes.get(&key).cloned();
                let mut inner = body
                    .pointer("/properties/properties")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                if *compute_type == "ComputeInstance" {
                    inner["state"] = json!("Running");
                } else if *compute_type == "AmlCompute" {
                    inner["allocationState"] = json!("Steady");
                    inner["currentNodeCount"] = json!(0);
                }
                let mut resource = json!({
                    "id": format!("{}/computes/{name}", ws.arm_id()),
                    "name": name,
                    "type": "Microsoft.MachineLearningServices/workspaces/computes",
                    "location": body.get("location").and_then(Value::as_str).unwrap_or(&ws.location),
                    "tags": body.get("tags").cloned().unwrap_or_else(|| json!({})),
                    "properties": {
                        "computeType": compute_type,
                        "computeLocation": body.get("location").and_then(Value::as_str).unwrap_or(&ws.location),
                        "description": body.pointer("/properties/description").cloned().unwrap_or(Value::Null),
                        "provisioningState": "Succeeded",
                        "provisioningErrors": null,
                        "createdOn": existed.as_ref().and_then(|e| e.pointer("/properties/createdOn").cloned()).unwrap_or_else(|| json!(now)),
                        "modifiedOn": now,
                        "isAttachedCompute": false,
                        "disableLocalAuth": true,
                        "properties": inner
                    }
                });
                st.computes.insert(key.clone(), resource.clone());
                let status = if existed.is_some() { 200 } else { 201 };
                resource["properties"]["provisioningState"] = json!(if existed.is_some() {
                    "Updating"
                } else {
                    "Creating"
                });
                let resp = arm_headers(Resp::json(status, &resource), req);
                Ok(operation_headers(shared, req, sub, &ws.location, resp))
            }
            ("DELETE", None) => {
                match req.query("underlyingResourceAction") {
                    Some(a)
                        if a.eq_ignore_ascii_case("delete") || a.eq_ignore_ascii_case("detach") => {
                    }
                    _ => {
                        return Err(arm_error(
                            req,
                            400,
                            "ValidationError",
                            "The query parameter 'underlyingResourceAction' is required and must be 'Delete' or 'Detach'.",
                        ));
                    }
                }
                if st.computes.remove(&key).is_none() {
                    return Ok(arm_headers(Resp::new(204), req));
                }
                Ok(operation_headers(
                    shared,
                    req,
                    sub,
                    &ws.location,
                    arm_headers(Resp::new(202), req),
                ))
            }
            ("POST", Some(op)) => {
                let c = st.computes.get_mut(&key).ok_or_else(not_found)?;
                if c.pointer("/properties/computeType").and_then(Value::as_str)
                    != Some("ComputeInstance")
                {
                    return Err(arm_error(
                        req,
                        400,
                        "BadRequest",
                        &format!(
                            "Operation '{op}' is only supported for compute instances; '{name}' is not a ComputeInstance."
                        ),
                    ));
                }
                let state = if op == "stop" { "Stopped" } else { "Running" };
                c["properties"]["properties"]["state"] = json!(state);
                Ok(operation_headers(
                    shared,
                    req,
                    sub,
                    &ws.location,
                    arm_headers(Resp::new(202), req),
                ))
            }
            _ => Err(super::method_not_allowed(req)),
        }
    };
    let resp = run().unwrap_or_else(|e| e);
    drop(st);
    resp
}

/// `GET .../locations/{loc}/computeOperationsStatus/{id}`: operations complete at once.
pub(crate) fn operation_status(shared: &Shared, req: &Req, segs: &[String]) -> Resp {
    let st = shared.lock();
    let run = || -> Result<Resp, Resp> {
        gate(
            shared,
            &st,
            req,
            &segs[1],
            "locations/computeOperationsStatus",
        )?;
        Ok(arm_headers(
            Resp::json(200, &json!({"name": segs[7], "status": "Succeeded"})),
            req,
        ))
    };
    run().unwrap_or_else(|e| e)
}
