//! Integration tests of workspace-config against the auth-testkit emulator over real HTTP on
//! 127.0.0.1, with auth-sp's client secret credential.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

mod arm;
mod compute;
mod from_config;

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::{ReqwestClient, RetryPolicy, TokioSleep};
use auth_core::{Cloud, Pipeline, Secret};
use auth_sp::{ClientSecretCredential, ServicePrincipalOptions};
use auth_testkit::{App, Emulator, Policy, Setup, Tenant, Workspace as EmuWorkspace};
use workspace_config::WorkspaceClient;

pub(crate) const TENANT: &str = "72f988bf-0000-4000-8000-00000000000a";
pub(crate) const OTHER_TENANT: &str = "72f988bf-0000-4000-8000-00000000000b";
pub(crate) const SUB: &str = "5ab5c000-0000-4000-8000-000000000001";
/// A subscription of the other tenant.
pub(crate) const OTHER_SUB: &str = "5ab5c000-0000-4000-8000-000000000002";

/// An app: (client id, object id, secret).
pub(crate) type AppIds = (&'static str, &'static str, &'static str);
/// Reader on the subscription.
pub(crate) const READER: AppIds = (
    "a11ce000-0000-4000-8000-000000000001",
    "0b1ec700-0000-4000-8000-000000000001",
    "reader-secret",
);
/// No role at all.
pub(crate) const NOBODY: AppIds = (
    "a11ce000-0000-4000-8000-000000000002",
    "0b1ec700-0000-4000-8000-000000000002",
    "nobody-secret",
);
/// Reader on the subscription, under an ARM claims-challenge (step-up) policy.
pub(crate) const STEP_UP: AppIds = (
    "a11ce000-0000-4000-8000-000000000003",
    "0b1ec700-0000-4000-8000-000000000003",
    "step-up-secret",
);

/// Five workspaces in `rg-ml`, one in `rg-other`, one in the other tenant's subscription; ARM
/// pages of 2.
pub(crate) async fn emulator() -> Emulator {
    let mut setup = Setup::new()
        .tenant(Tenant::new(TENANT))
        .tenant(Tenant::new(OTHER_TENANT))
        .subscription(SUB, TENANT)
        .subscription(OTHER_SUB, OTHER_TENANT)
        .arm_page_size(2)
        .conditional_access(Policy::arm_claims_challenge(STEP_UP.1));
    for (client, oid, secret) in [READER, NOBODY, STEP_UP] {
        setup = setup.app(App::new(TENANT, client).object_id(oid).secret(secret));
    }
    for name in ["ws-a", "ws-b", "ws-c", "ws-d", "ws-e"] {
        setup = setup.workspace(
            EmuWorkspace::new(SUB, "rg-ml", name)
                .location("westeurope")
                .friendly_name(&format!("Friendly {name}")),
        );
    }
    setup = setup
        .workspace(EmuWorkspace::new(SUB, "rg-other", "ws-x"))
        .workspace(EmuWorkspace::new(OTHER_SUB, "rg-far", "ws-far"))
        .role_assignment(READER.1, "Reader", &format!("/subscriptions/{SUB}"))
        .role_assignment(STEP_UP.1, "Reader", &format!("/subscriptions/{SUB}"));
    Emulator::start(setup).await.expect("the emulator starts")
}

pub(crate) fn cloud(emu: &Emulator) -> Cloud {
    Cloud::custom(
        "emulator",
        &emu.authority_host(),
        &emu.arm_endpoint(),
        "https://management.core.windows.net/",
        "https://ml.azure.com",
    )
    .expect("a loopback cloud")
}

/// A fresh transport per test (each test has its own runtime), with fast retries.
pub(crate) fn pipeline(max_retries: u32) -> Pipeline {
    Pipeline::new(Arc::new(ReqwestClient::new()), Arc::new(TokioSleep)).with_retry(RetryPolicy {
        max_retries,
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
        max_total: Duration::from_secs(20),
        jitter: 0.0,
    })
}

/// A client signing in as `app` with auth-sp's client secret credential.
pub(crate) fn client(emu: &Emulator, app: AppIds, max_retries: u32) -> WorkspaceClient {
    let cloud = cloud(emu);
    let pipeline = pipeline(max_retries);
    let credential = ClientSecretCredential::new(
        TENANT,
        app.0,
        Secret::new(app.2),
        ServicePrincipalOptions::new()
            .cloud(cloud.clone())
            .pipeline(pipeline.clone()),
    )
    .expect("a valid credential");
    WorkspaceClient::new(Arc::new(credential), cloud, pipeline)
}

pub(crate) fn ws_id(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name}"
    )
}
