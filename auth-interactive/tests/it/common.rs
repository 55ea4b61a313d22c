//! What every test shares: the world, the test "browser", options pointing at the emulator.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::RetryPolicy;
use auth_core::{Env, Error, Pipeline, TokenRequest};
use auth_interactive::{Browser, InteractiveOptions};
use auth_testkit::{App, Emulator, MFA_CODE, Setup, Tenant, User};

pub(crate) const TENANT: &str = "72f988bf-0000-4000-8000-00000000d001";
pub(crate) const TENANT_2: &str = "72f988bf-0000-4000-8000-00000000d002";
pub(crate) const DOMAIN: &str = "contoso.onmicrosoft.com";
pub(crate) const USER: &str = "alice@contoso.onmicrosoft.com";
pub(crate) const USER_OID: &str = "a11ce000-0000-4000-8000-00000000e001";
pub(crate) const PASSWORD: &str = "Alice~Password_123";
pub(crate) const ARM: &str = "https://management.core.windows.net/";
pub(crate) const ML: &str = "https://ml.azure.com";

pub(crate) fn setup() -> Setup {
    Setup::new()
        .tenant(Tenant::new(TENANT).domain(DOMAIN))
        .tenant(Tenant::new(TENANT_2))
        .app(App::azure_cli())
        .user(
            User::new(TENANT, USER)
                .object_id(USER_OID)
                .password(PASSWORD),
        )
        .device_code_interval(Duration::ZERO)
}

pub(crate) async fn start() -> Arc<Emulator> {
    Arc::new(Emulator::start(setup()).await.unwrap())
}

pub(crate) fn pipeline() -> Pipeline {
    Pipeline::shared()
        .with_retry(RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            max_total: Duration::from_secs(3),
            jitter: 0.0,
        })
        .with_timeout(Duration::from_secs(5))
}

/// A desktop environment: a display, no SSH.
pub(crate) fn desktop() -> Arc<dyn Env> {
    Arc::new(HashMap::from([("DISPLAY", ":0")]))
}

/// Options pointing at the emulator, opening pages with `browser`, on a desktop.
pub(crate) fn options(e: &Emulator, browser: Arc<dyn Browser>) -> InteractiveOptions {
    InteractiveOptions::new()
        .authority_host(&e.authority_host())
        .unwrap()
        .pipeline(pipeline())
        .browser(browser)
        .env(desktop())
        .device_code_fallback(false)
        .timeout(Duration::from_secs(20))
}

pub(crate) fn arm() -> TokenRequest {
    TokenRequest::for_resource(ARM).unwrap()
}

pub(crate) fn ml() -> TokenRequest {
    TokenRequest::for_resource(ML).unwrap()
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// The claims of a JWT.
pub(crate) fn claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

/// A unique temporary directory.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("aml-it-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The value of a named input of a page.
pub(crate) fn input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

/// The `action` of the page's form.
pub(crate) fn form_action(html: &str) -> Option<String> {
    let marker = "<form method=\"POST\" action=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

pub(crate) fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// How the test browser behaves at the loopback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loopback {
    /// Follows the redirect.
    Follow,
    /// First sends the redirect with a forged state, then the real one, then the real one again.
    Tamper,
}

/// What the test browser saw.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// The authorize URLs it was asked to open.
    pub(crate) opened: Vec<String>,
    /// Status and body of each answer of the loopback listener; `None`: could not connect.
    pub(crate) loopback: Vec<Option<(u16, String)>>,
    /// Whether the sign-in page asked for an MFA code.
    pub(crate) mfa_asked: Vec<bool>,
    /// Failures of the browser itself.
    pub(crate) failures: Vec<String>,
}

/// A "browser": an HTTP client that GETs the authorize URL, submits the emulator's sign-in form
/// as the page expects (MFA code when asked), and follows the redirect to the loopback.
#[derive(Clone, Debug)]
pub(crate) struct TestBrowser {
    pub(crate) username: &'static str,
    pub(crate) password: &'static str,
    pub(crate) loopback: Loopback,
    pub(crate) seen: Arc<Mutex<Seen>>,
}

impl TestBrowser {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            username: USER,
            password: PASSWORD,
            loopback: Loopback::Follow,
            seen: Arc::default(),
        })
    }

    pub(crate) fn tampering() -> Arc<Self> {
        Arc::new(Self {
            loopback: Loopback::Tamper,
            ..(*Self::new()).clone()
        })
    }

    pub(crate) fn opened(&self) -> Vec<String> {
        self.seen.lock().unwrap().opened.clone()
    }

    async fn drive(self, url: String) -> Result<(), String> {
        let c = http();
        let html = c
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        let ctx = input(&html, "ctx").ok_or_else(|| format!("no ctx in {html}"))?;
        let base = url
            .split("/oauth2/")
            .next()
            .unwrap()
            .rsplit_once('/')
            .unwrap()
            .0
            .to_owned();
        let action = format!("{base}{}", form_action(&html).ok_or("no form")?);
        let mut fields = vec![
            ("ctx", ctx.as_str()),
            ("username", self.username),
            ("password", self.password),
            ("action", "signin"),
        ];
        let mut mfa_asked = false;
        let location = loop {
            let resp = c
                .post(&action)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(&fields))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if resp.status().as_u16() == 302 {
                break resp.headers()["location"].to_str().unwrap().to_owned();
            }
            let page = resp.text().await.map_err(|e| e.to_string())?;
            if page.contains("name=\"mfa_code\"") && !mfa_asked {
                mfa_asked = true;
                fields.push(("mfa_code", MFA_CODE));
                continue;
            }
            return Err(format!("the sign-in page did not redirect: {page}"));
        };
        self.seen.lock().unwrap().mfa_asked.push(mfa_asked);
        let get = |u: String| {
            let c = c.clone();
            async move {
                match c.get(&u).send().await {
                    Ok(r) => Some((r.status().as_u16(), r.text().await.unwrap_or_default())),
                    Err(_) => None,
                }
            }
        };
        if self.loopback == Loopback::Tamper {
            let forged = location.replace("state=", "state=forged");
            let r = get(forged).await;
            self.seen.lock().unwrap().loopback.push(r);
        }
        let r = get(location.clone()).await;
        self.seen.lock().unwrap().loopback.push(r);
        if self.loopback == Loopback::Tamper {
            let r = get(location).await;
            self.seen.lock().unwrap().loopback.push(r);
        }
        Ok(())
    }
}

impl Browser for TestBrowser {
    fn open(&self, url: &str) -> Result<(), Error> {
        self.seen.lock().unwrap().opened.push(url.to_owned());
        let me = self.clone();
        let url = url.to_owned();
        tokio::runtime::Handle::current().spawn(async move {
            if let Err(e) = me.clone().drive(url).await {
                me.seen.lock().unwrap().failures.push(e);
            }
        });
        Ok(())
    }
}

/// A browser that cannot be opened.
#[derive(Debug)]
pub(crate) struct NoBrowser;

impl Browser for NoBrowser {
    fn open(&self, _url: &str) -> Result<(), Error> {
        Err(Error::unavailable("no browser in this test"))
    }
}
