//! The cache: a second request for the same scopes sends nothing; 1,000 concurrent first
//! requests send one.

use std::sync::Arc;

use auth_core::{Secret, TokenCredential, TokenRequest};
use auth_sp::{ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential};

use crate::common::*;

#[tokio::test]
async fn a_second_request_for_the_same_scopes_sends_nothing() {
    let emu = start().await;
    let c =
        ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options(&emu)).unwrap();
    let a = c.get_token(&arm()).await.unwrap();
    let b = c.get_token(&arm()).await.unwrap();
    assert_eq!(a.token(), b.token());
    // The same scopes in another order and with duplicates are the same key.
    let ml = TokenRequest::for_scopes(["https://ml.azure.com/.default"]).unwrap();
    c.get_token(&ml).await.unwrap();
    c.get_token(
        &TokenRequest::for_scopes([
            "https://ml.azure.com/.default",
            "https://ml.azure.com/.default",
        ])
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(token_requests(&emu).len(), 2);
}

async fn thousand_concurrent(credential: Arc<dyn TokenCredential>) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let c = credential.clone();
        tasks.spawn(async move {
            c.get_token(&arm())
                .await
                .map(|t| t.token().expose_secret().to_owned())
        });
    }
    let mut tokens = Vec::new();
    while let Some(r) = tasks.join_next().await {
        tokens.push(r.unwrap().unwrap());
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_first_calls_send_one_request() {
    let emu = start().await;
    let secret: Arc<dyn TokenCredential> = Arc::new(
        ClientSecretCredential::new(TENANT, CLIENT, Secret::new(SECRET), options(&emu)).unwrap(),
    );
    let tokens = thousand_concurrent(secret).await;
    assert_eq!(tokens.len(), 1000);
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(token_requests(&emu).len(), 1);

    let cert: Arc<dyn TokenCredential> = Arc::new(
        ClientCertificateCredential::from_file(
            TENANT,
            CLIENT,
            fixture_path("combined.pem"),
            None,
            options(&emu),
        )
        .unwrap(),
    );
    thousand_concurrent(cert).await;
    assert_eq!(token_requests(&emu).len(), 2);

    let fed: Arc<dyn TokenCredential> = Arc::new(
        ClientAssertionCredential::from_callback(
            TENANT,
            CLIENT,
            || Ok(Secret::new(federated_token(SUBJECT))),
            options(&emu),
        )
        .unwrap(),
    );
    thousand_concurrent(fed).await;
    assert_eq!(token_requests(&emu).len(), 3);
}
