//! End to end in real headless Chromium, driven over WebDriver (chromedriver's HTTP API, with
//! reqwest): it opens the authorize URL, types the user name and password into the emulator's
//! sign-in page, submits it, follows the redirect to the loopback listener, and the credential
//! yields a token. Skips with a notice when Chromium or chromedriver is missing, unless
//! `AML_REQUIRE_CHROMIUM=1` (then it fails).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::Error;
use auth_interactive::{Browser, InteractiveBrowserCredential};
use serde_json::{Value, json};

use crate::common::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if let Ok(r) = http().get(format!("{base}/status")).send().await
            && r.status().is_success()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver {
        child,
        base,
        profile: temp_dir("chromium-profile"),
    }
}

async fn wd(method: reqwest::Method, url: String, body: Value) -> Result<Value, String> {
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut r = c.request(method, &url);
    if !body.is_null() {
        r = r
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = r.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    let v: Value = serde_json::from_str(&resp.text().await.map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{url}: {status} {v}"));
    }
    Ok(v["value"].clone())
}

/// Signs in on the page in Chromium; returns the final page's text.
async fn sign_in(base: String, profile: PathBuf, url: String) -> Result<String, String> {
    use reqwest::Method;
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server", format!("--user-data-dir={}", profile.display())]
    }}}});
    let session = wd(Method::POST, format!("{base}/session"), caps).await?;
    let id = session["sessionId"]
        .as_str()
        .ok_or("no session id")?
        .to_owned();
    let s = format!("{base}/session/{id}");
    let result = async {
        wd(Method::POST, format!("{s}/url"), json!({"url": url})).await?;
        let find = |css: &'static str| {
            let s = s.clone();
            async move {
                let e = wd(
                    Method::POST,
                    format!("{s}/element"),
                    json!({"using": "css selector", "value": css}),
                )
                .await?;
                e[ELEMENT]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("no {css}"))
            }
        };
        let user = find("input[name=username]").await?;
        wd(
            Method::POST,
            format!("{s}/element/{user}/value"),
            json!({"text": USER}),
        )
        .await?;
        let pw = find("input[name=password]").await?;
        wd(
            Method::POST,
            format!("{s}/element/{pw}/value"),
            json!({"text": PASSWORD}),
        )
        .await?;
        let button = find("button[value=signin]").await?;
        wd(
            Method::POST,
            format!("{s}/element/{button}/click"),
            json!({}),
        )
        .await?;
        // The form posts, Entra redirects to the loopback, the listener answers its page.
        for _ in 0..200 {
            let text = wd(Method::GET, format!("{s}/source"), Value::Null).await?;
            let text = text.as_str().unwrap_or_default().to_owned();
            if text.contains("id=\"result\"") {
                return Ok(text);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("the loopback page never showed".to_owned())
    }
    .await;
    let _ = wd(Method::DELETE, s, Value::Null).await;
    result
}

#[derive(Debug)]
struct Chromium {
    base: String,
    profile: PathBuf,
    outcome: Arc<Mutex<Option<Result<String, String>>>>,
}

impl Browser for Chromium {
    fn open(&self, url: &str) -> Result<(), Error> {
        let (base, profile, url, outcome) = (
            self.base.clone(),
            self.profile.clone(),
            url.to_owned(),
            self.outcome.clone(),
        );
        tokio::runtime::Handle::current().spawn(async move {
            let r = sign_in(base, profile, url).await;
            *outcome.lock().unwrap() = Some(r);
        });
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_signs_in_on_the_emulator_page() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        let required = std::env::var("AML_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "AML_REQUIRE_CHROMIUM=1 but {missing:?} missing (apt-get install -y chromium chromium-driver)"
        );
        println!(
            "SKIPPED headless Chromium test: {missing:?} not installed (apt-get install -y chromium chromium-driver)"
        );
        return;
    }
    let e = start().await;
    let driver = start_driver().await;
    let outcome = Arc::new(Mutex::new(None));
    let browser = Arc::new(Chromium {
        base: driver.base.clone(),
        profile: driver.profile.clone(),
        outcome: outcome.clone(),
    });
    let c =
        InteractiveBrowserCredential::new(options(&e, browser).timeout(Duration::from_secs(90)))
            .unwrap();
    let t = c
        .get_token(&arm())
        .await
        .unwrap_or_else(|err| panic!("{err}; browser: {:?}", outcome.lock().unwrap()));
    let at = claims(t.token().expose_secret());
    assert_eq!(at["oid"], USER_OID);
    assert_eq!(at["aud"], ARM);
    for _ in 0..200 {
        if outcome.lock().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = outcome.lock().unwrap().clone().unwrap().unwrap();
    assert!(page.contains("You can close this window"), "{page}");
    drop(driver);
}
