//! Fakes at the injected boundaries for unit tests: a recording HTTP closure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use auth_core::Pipeline;
use auth_core::http::{HttpRequest, HttpResponse, RetryPolicy, TokioSleep, TransportError};

/// A request as the fake transport saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) path: String,
    pub(crate) form: Vec<(String, String)>,
}

impl Seen {
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn names(&self) -> Vec<&str> {
        self.form.iter().map(|(k, _)| k.as_str()).collect()
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A pipeline whose transport records every request and answers `status` with `body`.
pub(crate) fn fake(status: u16, body: &str) -> (Pipeline, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let body = body.to_owned();
    let client = move |req: HttpRequest| {
        let form = String::from_utf8(req.body().clone()).unwrap();
        let form = form
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (decode(k), decode(v))
            })
            .collect();
        log.lock().unwrap().push(Seen {
            path: req.uri().path().to_owned(),
            form,
        });
        let resp = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.clone().into_bytes())
            .unwrap();
        async move { Ok::<HttpResponse, TransportError>(resp) }
    };
    let pipeline =
        Pipeline::new(Arc::new(client), Arc::new(TokioSleep)).with_retry(RetryPolicy::none());
    (pipeline, seen)
}

/// A token response.
pub(crate) const OK: &str = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"at-1"}"#;

/// An environment from pairs.
pub(crate) fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
