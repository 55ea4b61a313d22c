//! Client credentials with a client secret (protocol-entra.md §3.1, §3.2, §3.5, §7).

use crate::common::*;

#[tokio::test]
async fn secret_gives_an_arm_token_with_the_real_response_members() {
    let e = start().await;
    let (status, headers, body) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_info", "1"),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert!(
        body.get("refresh_in").is_none(),
        "no refresh_in for a 1 h token"
    );
    assert!(
        body.get("refresh_token").is_none()
            && body.get("id_token").is_none()
            && body.get("scope").is_none()
    );
    let members: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(members.len(), 4, "{members:?}");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], "https://management.core.windows.net/");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(c["tid"], TENANT);
    assert_eq!(c["oid"], APP_OID);
    assert_eq!(c["sub"], APP_OID);
    assert_eq!(c["appid"], CLIENT);
    assert_eq!(c["appidacr"], "1");
    assert_eq!(c["idtyp"], "app");
    assert!(c.get("scp").is_none() && c.get("xms_cc").is_none());
    let (iat, nbf, exp) = (
        c["iat"].as_i64().unwrap(),
        c["nbf"].as_i64().unwrap(),
        c["exp"].as_i64().unwrap(),
    );
    assert!(iat <= nbf && nbf < exp && exp - nbf >= 3599);
}

#[tokio::test]
async fn the_tenant_can_be_named_by_domain_and_aud_follows_the_scope_text() {
    let e = start().await;
    for (scope, aud) in [
        (
            "https://management.azure.com/.default",
            "https://management.azure.com",
        ),
        (
            "https://management.azure.com//.default",
            "https://management.azure.com/",
        ),
        ("https://ml.azure.com/.default", "https://ml.azure.com"),
    ] {
        let (status, _, body) = post_form(
            &e.token_url("contoso.onmicrosoft.com"),
            &[
                ("client_id", CLIENT),
                ("grant_type", "client_credentials"),
                ("client_secret", SECRET),
                ("scope", scope),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], aud);
    }
}

#[tokio::test]
async fn cp1_capability_gives_a_long_lived_cae_token_with_xms_cc_and_refresh_in() {
    let e = start().await;
    let (status, _, body) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
            (
                "claims",
                r#"{"access_token": {"xms_cc": {"values": ["CP1"]}}}"#,
            ),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 86399);
    assert_eq!(body["refresh_in"], 43199);
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["xms_cc"],
        serde_json::json!(["CP1"])
    );
}

#[tokio::test]
async fn token_lifetime_is_configurable() {
    let e =
        auth_testkit::Emulator::start(setup().token_lifetime(std::time::Duration::from_secs(120)))
            .await
            .unwrap();
    let (_, _, body) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["ext_expires_in"], 120);
}

#[tokio::test]
async fn wrong_secret_is_7000215() {
    let e = start().await;
    let (status, _, body) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", "nope"),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, status, &body, 401, "invalid_client", 7_000_215);
    assert_eq!(
        body["correlation_id"], "0f8fad5b-d9cb-469f-a165-70867728950e",
        "echoes client-request-id"
    );
    assert!(body["error_description"].as_str().unwrap().contains(CLIENT));
}

#[tokio::test]
async fn expired_secret_is_7000222() {
    let e = start().await;
    let (status, _, body) = post_form(
        &e.token_url(TENANT),
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", OLD_SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, status, &body, 401, "invalid_client", 7_000_222);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("for app '{CLIENT}' are expired"))
    );
}

#[tokio::test]
async fn unknown_app_is_700016_and_an_app_of_another_tenant_is_unknown() {
    let e = start().await;
    for (tenant, client) in [
        (TENANT, "77777777-7777-4777-8777-777777777777"),
        (OTHER_TENANT, CLIENT),
    ] {
        let (status, _, body) = post_form(
            &e.token_url(tenant),
            &[
                ("client_id", client),
                ("grant_type", "client_credentials"),
                ("client_secret", SECRET),
                ("scope", ARM_SCOPE),
            ],
        )
        .await;
        assert_entra_error(&e, status, &body, 400, "unauthorized_client", 700_016);
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains(&format!(
                    "Application with identifier '{client}' was not found in the directory"
                ))
        );
    }
}

#[tokio::test]
async fn unknown_tenant_is_90002_and_a_malformed_one_900023() {
    let e = start().await;
    let pairs = [
        ("client_id", CLIENT),
        ("grant_type", "client_credentials"),
        ("client_secret", SECRET),
        ("scope", ARM_SCOPE),
    ];
    let (status, _, body) =
        post_form(&e.token_url("88888888-8888-4888-8888-888888888888"), &pairs).await;
    assert_entra_error(&e, status, &body, 400, "invalid_request", 90_002);
    let (status, _, body) = post_form(&e.token_url("not_a_tenant"), &pairs).await;
    assert_entra_error(&e, status, &body, 400, "invalid_request", 900_023);
    let (status, _, body) = post_form(&e.token_url("organizations"), &pairs).await;
    assert_entra_error(&e, status, &body, 400, "invalid_request", 50_059);
}

#[tokio::test]
async fn missing_fields_and_bad_scopes_fail_as_entra_does() {
    let e = start().await;
    let url = e.token_url(TENANT);
    let (s, _, b) = post_form(
        &url,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_request", 900_144);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains("'grant_type'")
    );
    let (s, _, b) = post_form(
        &url,
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 401, "invalid_client", 7_000_218);
    let (s, _, b) = post_form(
        &url,
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_request", 900_144);
    let (s, _, b) = post_form(
        &url,
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", "https://management.azure.com/user_impersonation"),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_scope", 1_002_012);
    let (s, _, b) = post_form(
        &url,
        &[
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
            ("scope", "https://nothing.example/.default"),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "invalid_resource", 500_011);
    let (s, _, b) = post_form(
        &url,
        &[
            ("client_id", CLIENT),
            ("grant_type", "password"),
            ("client_secret", SECRET),
            ("scope", ARM_SCOPE),
        ],
    )
    .await;
    assert_entra_error(&e, s, &b, 400, "unsupported_grant_type", 70_003);
    // Secret in a JSON body instead of a form: nothing is read.
    let resp = client()
        .post(&url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // GET is refused.
    let (s, _, b) = get(&url, None).await;
    assert_entra_error(&e, s, &b, 400, "invalid_request", 900_561);
}
