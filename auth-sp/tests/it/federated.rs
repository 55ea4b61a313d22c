//! Federated tokens: from a file (workload identity) and from a callback (§3.4).

use std::collections::HashMap;

use auth_core::{ErrorKind, Secret};
use auth_sp::{ClientAssertionCredential, ServicePrincipalCredential, ServicePrincipalOptions};

use crate::common::*;

#[tokio::test]
async fn federated_file_gets_a_token_and_is_read_again_after_rotation() {
    let emu = start().await;
    let dir = temp_dir("federated");
    let file = dir.join("azure-identity-token");
    let first = federated_token(SUBJECT);
    std::fs::write(&file, format!("{first}\n")).unwrap();
    let c = ClientAssertionCredential::from_file(TENANT, CLIENT, &file, options(&emu)).unwrap();
    let t = c.get_token(&arm()).await.unwrap();
    let (_, claims) = jwt_parts(t.token().expose_secret());
    assert_eq!(claims["appid"], CLIENT);
    let reqs = token_requests(&emu);
    let r = &reqs[0];
    assert_eq!(
        r.form_names(),
        [
            "client_id",
            "grant_type",
            "scope",
            "client_assertion_type",
            "client_assertion"
        ]
    );
    assert_eq!(
        r.form_field("client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(r.form_field("client_assertion"), Some(first.as_str()));
    assert_secret_only_in(&reqs, &first, "client_assertion");

    // The platform rotates the file: the next request that reaches the service sends the new
    // token.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = federated_token(SUBJECT);
    assert_ne!(first, second);
    std::fs::write(&file, &second).unwrap();
    c.get_token(&arm()).await.unwrap();
    assert_eq!(token_requests(&emu).len(), 1, "cached");
    c.get_token(&arm().with_claims(r#"{"access_token":{"nbf":{"essential":true,"value":"1"}}}"#))
        .await
        .unwrap();
    let reqs = token_requests(&emu);
    assert_eq!(
        reqs[1].form_field("client_assertion"),
        Some(second.as_str())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn workload_identity_from_the_environment() {
    let emu = start().await;
    let dir = temp_dir("workload");
    let file = dir.join("token");
    std::fs::write(&file, federated_token(SUBJECT)).unwrap();
    let env: HashMap<String, String> = [
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT),
        ("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap()),
        ("AZURE_AUTHORITY_HOST", &emu.authority_host()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let options = ServicePrincipalOptions::new().pipeline(pipeline());
    let c = ClientAssertionCredential::workload_identity(&env, options.clone()).unwrap();
    c.get_token(&arm()).await.unwrap();
    let c = ServicePrincipalCredential::from_env(&env, options).unwrap();
    assert!(matches!(c, ServicePrincipalCredential::Assertion(_)));
    c.get_token(&arm()).await.unwrap();
    assert_eq!(token_requests(&emu).len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn callback_and_unregistered_subject() {
    let emu = start().await;
    let c = ClientAssertionCredential::from_callback(
        TENANT,
        CLIENT,
        || Ok(Secret::new(federated_token(SUBJECT))),
        options(&emu),
    )
    .unwrap();
    c.get_token(&arm()).await.unwrap();
    let c = ClientAssertionCredential::from_callback(
        TENANT,
        CLIENT,
        || {
            Ok(Secret::new(federated_token(
                "system:serviceaccount:other:sa",
            )))
        },
        options(&emu),
    )
    .unwrap();
    let e = c.get_token(&arm()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(e.message().contains("AADSTS700213"), "{e}");
    assert!(e.hint().unwrap().contains("subject"), "{e}");
}

/// A federated token file on a slow file system (here a FIFO that has no writer yet) is read
/// off the async runtime: on a single-threaded runtime, other tasks keep running meanwhile.
#[cfg(unix)]
#[tokio::test(flavor = "current_thread")]
async fn a_slow_token_file_does_not_block_the_runtime() {
    let emu = start().await;
    let dir = temp_dir("federated-fifo");
    let fifo = dir.join("azure-identity-token");
    #[allow(
        clippy::disallowed_methods,
        reason = "the test makes a FIFO with mkfifo"
    )]
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let c = ClientAssertionCredential::from_file(TENANT, CLIENT, &fifo, options(&emu)).unwrap();
    let (ticked, tick) = std::sync::mpsc::channel::<()>();
    let token = federated_token(SUBJECT);
    let writer = {
        let (fifo, token) = (fifo.clone(), token.clone());
        std::thread::spawn(move || {
            // Writes when the runtime has run another task, or after 5 s regardless (so that a
            // blocked runtime fails this test instead of hanging it).
            let ran = tick.recv_timeout(std::time::Duration::from_secs(5)).is_ok();
            std::fs::write(&fifo, &token).unwrap();
            ran
        })
    };
    let other = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        ticked.send(()).unwrap();
    });
    let t = c.get_token(&arm()).await.unwrap();
    assert!(!t.token().expose_secret().is_empty());
    other.await.unwrap();
    assert!(
        writer.join().unwrap(),
        "another task ran while the token file was being read"
    );
    assert_eq!(
        token_requests(&emu)[0].form_field("client_assertion"),
        Some(token.as_str())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
