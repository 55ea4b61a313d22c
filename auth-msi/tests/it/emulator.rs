//! The emulator refuses what the real sources refuse: a client that spells a request wrong
//! fails against it as it would on Azure (bare reqwest requests, no auth-msi code).

use auth_testkit::Emulator;

use crate::common::*;

async fn status(request: reqwest::RequestBuilder) -> (u16, String) {
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn q(emu_url: String, api: &str, extra: &str) -> String {
    format!("{emu_url}?api-version={api}&resource=https://management.azure.com{extra}")
}

#[tokio::test]
async fn each_source_checks_its_request() {
    let w = start("emulator-checks").await;
    let emu: &Emulator = &w.emu;
    let c = client();
    // IMDS: the Metadata header is required, user-assigned ids must exist, one selector at most.
    let imds = |extra: &str| q(emu.imds_token_url(), "2018-02-01", extra);
    let (s, body) = status(c.get(imds(""))).await;
    assert_eq!(s, 400);
    assert!(
        body.contains("Required metadata header not specified"),
        "{body}"
    );
    let (s, body) = status(c.get(imds("&client_id=nope")).header("Metadata", "true")).await;
    assert_eq!(
        (s, body.contains("Identity not found")),
        (400, true),
        "{body}"
    );
    let (s, _) = status(
        c.get(imds(&format!(
            "&client_id={USER_CLIENT}&object_id={USER_OBJECT}"
        )))
        .header("Metadata", "true"),
    )
    .await;
    assert_eq!(s, 400);
    // Both spellings of the resource are accepted.
    let (s, _) = status(
        c.get(format!(
            "{}?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com",
            emu.imds_token_url()
        ))
        .header("Metadata", "true"),
    )
    .await;
    assert_eq!(s, 200);
    // App Service: the header secret; mi_res_id, not msi_res_id.
    let app = |extra: &str| q(emu.app_service_endpoint(), "2019-08-01", extra);
    let (s, _) = status(c.get(app("")).header("X-IDENTITY-HEADER", "wrong")).await;
    assert_eq!(s, 401);
    let (s, body) = status(
        c.get(app(&format!("&msi_res_id={USER_RESOURCE}")))
            .header("X-IDENTITY-HEADER", IDENTITY_HEADER),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains(SYSTEM_CLIENT),
        "msi_res_id is ignored: the system identity answers: {body}"
    );
    // Azure ML: the lower-case secret header, `clientid` only.
    let aml = |extra: &str| q(emu.azure_ml_endpoint(), "2017-09-01", extra);
    let (s, _) = status(c.get(aml("")).header("secret", "wrong")).await;
    assert_eq!(s, 401);
    let (s, body) = status(
        c.get(aml(&format!("&client_id={USER_CLIENT}")))
            .header("secret", MSI_SECRET),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, _) = status(
        c.get(q(emu.azure_ml_endpoint(), "2019-08-01", ""))
            .header("secret", MSI_SECRET),
    )
    .await;
    assert_eq!(s, 400);
    // Cloud Shell: a form POST with Metadata.
    let (s, _) = status(c.get(emu.cloud_shell_endpoint()).header("Metadata", "true")).await;
    assert_eq!(s, 405);
    let (s, _) = status(
        c.post(emu.cloud_shell_endpoint())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("resource=https%3A%2F%2Fmanagement.azure.com"),
    )
    .await;
    assert_eq!(s, 400);
    // Arc: a wrong key is refused.
    let arc = q(emu.imds_token_url(), "2020-06-01", "");
    let r = c.get(&arc).header("Metadata", "true").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let realm = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        realm.starts_with("Basic realm=") && realm.ends_with(".key"),
        "{realm}"
    );
    let (s, _) = status(
        c.get(&arc)
            .header("Metadata", "true")
            .header("Authorization", "Basic guess"),
    )
    .await;
    assert_eq!(s, 401);
}
