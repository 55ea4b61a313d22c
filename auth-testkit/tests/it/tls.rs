//! HTTPS with the emulator's generated CA.

use auth_testkit::Emulator;

use crate::common::*;

#[tokio::test]
async fn https_with_the_generated_ca() {
    let e = Emulator::start_tls(setup()).await.unwrap();
    assert!(e.authority_host().starts_with("https://127.0.0.1:"));
    assert!(e.arm_endpoint().starts_with("https://127.0.0.1:"));
    let pem = e.ca_certificate_pem().unwrap();
    let path = std::env::temp_dir().join(format!("auth-testkit-ca-{}.pem", std::process::id()));
    e.write_ca_certificate(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);
    let _ = std::fs::remove_file(&path);
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let resp = client
        .get(format!(
            "{}/{TENANT}/v2.0/.well-known/openid-configuration",
            e.authority_host()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let doc: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert!(
        doc["token_endpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    // Without the CA the server is not trusted.
    assert!(
        reqwest::Client::new()
            .get(e.authority_host())
            .send()
            .await
            .is_err()
    );
    // HTTP emulators have no CA.
    let plain = start().await;
    assert!(plain.ca_certificate_pem().is_none());
    assert!(
        plain
            .write_ca_certificate(std::env::temp_dir().join("never.pem"))
            .is_err()
    );
}
