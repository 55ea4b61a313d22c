//! `amlauth token`: az's JSON, field for field, and its failures.

use auth_testkit::{Emulator, sample};

use crate::support::{Amlauth, TempDir, setup_with};

const AZ_FIELDS: [&str; 6] = [
    "accessToken",
    "expiresOn",
    "expires_on",
    "subscription",
    "tenant",
    "tokenType",
];

/// `YYYY-MM-DD HH:MM:SS.000000` of `epoch` shifted by `offset` seconds (civil-from-days).
fn civil(epoch: i64, offset: i64) -> String {
    let t = epoch + offset;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.000000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[test]
fn civil_dates() {
    assert_eq!(civil(0, 0), "1970-01-01 00:00:00.000000");
    assert_eq!(civil(1_752_569_137, 0), "2025-07-15 08:45:37.000000");
    assert_eq!(civil(1_709_164_800, 0), "2024-02-29 00:00:00.000000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_prints_az_json_with_az_field_names_and_types() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    let run = Amlauth::against(&emu, dir.path(), &["token"]).run().await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
    // az's layout: two-space pretty JSON, the six fields in az's order.
    let keys: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split('"').next())
        .collect();
    assert_eq!(keys, AZ_FIELDS);
    let v = run.json();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 6);
    let token = obj["accessToken"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT");
    assert!(obj["expiresOn"].is_string());
    let expires_on = obj["expires_on"]
        .as_i64()
        .expect("expires_on is an integer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        expires_on > now + 60 && expires_on < now + 2 * 86_400,
        "{expires_on}"
    );
    // TZ is UTC0 here: expiresOn is the same instant.
    assert_eq!(obj["expiresOn"], civil(expires_on, 0));
    assert_eq!(obj["tenant"], sample::TENANT_ID);
    assert_eq!(obj["tokenType"], "Bearer");
    // No subscription known anywhere: the tenant id, as az prints for a tenant-level account.
    assert_eq!(obj["subscription"], sample::TENANT_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expires_on_is_local_time() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    for (tz, offset) in [("IST-5:30", 19_800), ("HST10", -36_000)] {
        let run = Amlauth::against(&emu, dir.path(), &["token"])
            .env("TZ", tz)
            .run()
            .await;
        assert_eq!(run.code, 0, "{run:?}");
        let v = run.json();
        let epoch = v["expires_on"].as_i64().unwrap();
        assert_eq!(v["expiresOn"], civil(epoch, offset), "TZ={tz}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_comes_from_the_flag_the_environment_or_the_config() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    let flag = "11111111-0000-4000-8000-000000000001";
    let env = "22222222-0000-4000-8000-000000000002";
    let run = Amlauth::against(&emu, dir.path(), &["token", "--subscription", flag])
        .env("AZURE_SUBSCRIPTION_ID", env)
        .run()
        .await;
    assert_eq!(run.json()["subscription"], flag);
    let run = Amlauth::against(&emu, dir.path(), &["token"])
        .env("AZURE_SUBSCRIPTION_ID", env)
        .run()
        .await;
    assert_eq!(run.json()["subscription"], env);
    dir.sample_config(".azureml/config.json");
    let run = Amlauth::against(&emu, dir.path(), &["token"]).run().await;
    assert_eq!(run.json()["subscription"], sample::SUBSCRIPTION_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_scope_tenant_and_table() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    for args in [
        &["token", "--resource", "https://ml.azure.com"][..],
        &["token", "--scope", "https://ml.azure.com/.default"],
        &["token", "--tenant", sample::TENANT_ID],
    ] {
        let run = Amlauth::against(&emu, dir.path(), args).run().await;
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert_eq!(run.json()["tokenType"], "Bearer");
    }
    let run = Amlauth::against(&emu, dir.path(), &["token", "-o", "table"])
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("AccessToken"));
    let run = Amlauth::against(
        &emu,
        dir.path(),
        &[
            "token",
            "--resource",
            "https://ml.azure.com",
            "--scope",
            "x",
        ],
    )
    .run()
    .await;
    run.assert_one_line_error(2, "cannot be used with");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_environment_family_works() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    let run = Amlauth::new(dir.path(), &["token"])
        .endpoints(&emu)
        .env("AZURE_TENANT_ID", sample::TENANT_ID)
        .env("AZURE_CLIENT_ID", sample::CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", sample::CLIENT_SECRET)
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let run = Amlauth::new(dir.path(), &["token"])
        .endpoints(&emu)
        .env("AZUREML_SERVICE_PRINCIPAL_TENANT_ID", sample::TENANT_ID)
        .env("AZUREML_SERVICE_PRINCIPAL_ID", sample::CLIENT_ID)
        .env("AZUREML_SERVICE_PRINCIPAL_PASSWORD", sample::CLIENT_SECRET)
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let sdk_auth = dir.write(
        "sp.json",
        &format!(
            r#"{{"clientId": "{}", "clientSecret": "{}", "tenantId": "{}", "subscriptionId": "{}"}}"#,
            sample::CLIENT_ID,
            sample::CLIENT_SECRET,
            sample::TENANT_ID,
            sample::SUBSCRIPTION_ID
        ),
    );
    let run = Amlauth::new(
        dir.path(),
        &["token", "--sdk-auth", sdk_auth.to_str().unwrap()],
    )
    .endpoints(&emu)
    .run()
    .await;
    assert_eq!(run.code, 0, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_auth_files_authority_host_is_used_when_nothing_overrides_it() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    let sdk_auth = dir.write(
        "sp.json",
        &format!(
            r#"{{"clientId": "{}", "clientSecret": "{}", "tenantId": "{}", "activeDirectoryEndpointUrl": "{}"}}"#,
            sample::CLIENT_ID,
            sample::CLIENT_SECRET,
            sample::TENANT_ID,
            emu.authority_host()
        ),
    );
    // No AZURE_AUTHORITY_HOST and no --authority-host: the file says where to sign in.
    let run = Amlauth::new(
        dir.path(),
        &["token", "--sdk-auth", sdk_auth.to_str().unwrap()],
    )
    .env("AZUREML_ARM_ENDPOINT", &emu.arm_endpoint())
    .run()
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        emu.requests().len(),
        1,
        "the token came from the emulator the file names"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_is_one_line_and_exit_code_2() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    let run = Amlauth::new(dir.path(), &["token"])
        .endpoints(&emu)
        .run()
        .await;
    run.assert_one_line_error(2, "no credentials");
    assert!(run.stderr.contains("AML_PRINCIPAL_PASS"), "{run:?}");
    assert!(
        emu.requests().is_empty(),
        "nothing is sent without credentials"
    );
    // Half a configuration names what is missing.
    let run = Amlauth::new(dir.path(), &["token"])
        .endpoints(&emu)
        .env("AML_TENANT_ID", sample::TENANT_ID)
        .run()
        .await;
    run.assert_one_line_error(2, "AML_PRINCIPAL_ID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_secret_is_one_line_exit_code_1_and_never_printed() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    let wrong = "wrong-secret-value-0123456789";
    let run = Amlauth::against(&emu, dir.path(), &["token"])
        .env("AML_PRINCIPAL_PASS", wrong)
        .run()
        .await;
    run.assert_one_line_error(1, "AADSTS7000215");
    assert!(!run.stderr.contains(wrong));
    // --output json: the error is one line of JSON on stderr.
    let run = Amlauth::against(&emu, dir.path(), &["token", "--output", "json"])
        .env("AML_PRINCIPAL_PASS", wrong)
        .run()
        .await;
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.lines().count(), 1);
    let err: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(err["error"]["exitCode"], 1);
    assert_eq!(err["error"]["kind"], "authentication");
    assert!(!run.stderr.contains(wrong));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_authority_host_is_one_line_and_exit_code_2() {
    let emu = Emulator::start(setup_with(&[])).await.unwrap();
    let dir = TempDir::new();
    let run = Amlauth::against(&emu, dir.path(), &["token"])
        .env("AZURE_AUTHORITY_HOST", "http://login.example.com")
        .run()
        .await;
    run.assert_one_line_error(2, "https");
}
