//! The merchant's dashboard in a real headless Chromium, driven through chromedriver's W3C
//! WebDriver HTTP API: sign in, find an order by its Commerce number, see a listing error with its
//! fix, pause and resume inventory-sync, retry an order. Each page's screenshot is saved under
//! `docs/dashboard/` (the README shows them).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`tests/run.sh` installs them). Without them the
//! test says SKIPPED and passes, except in CI (`CI` set), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use dashboard::fixture;
use domain::{ChannelSettings, Timestamp};
use operations::testkit::Sandboxes;
use ports::{Clock, ManualClock};
use serde_json::{Value, json};

const NOW: Timestamp = Timestamp::from_millis(1_796_000_000_000);
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(var) {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    let paths = std::env::var("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.exists())
    })
}

struct WebDriver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl WebDriver {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if let Some(error) = answer["value"].get("error") {
            panic!("WebDriver {path}: {error} {}", answer["value"]["message"]);
        }
        answer["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The element, waiting up to 10 s for it to appear (the page may still be loading).
    async fn find(&self, css: &str) -> String {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let mut last = Value::Null;
        for _ in 0..100 {
            last = self
                .http
                .post(&url)
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = last["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} did not appear: {last}");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks a button that asks for confirmation, and confirms.
    async fn click_and_confirm(&self, css: &str) {
        self.click(css).await;
        self.call(reqwest::Method::POST, "/alert/accept", Some(json!({})))
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn screenshot(&self, dir: &Path, name: &str) {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_works_the_dashboard_in_headless_chromium() {
    let driver = find_program("CHROMEDRIVER", &["chromedriver"]);
    let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        let message =
            "chromium and chromium-driver are not installed (tests/run.sh installs them with apt-get)";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: {message}"
        );
        eprintln!("SKIPPED the dashboard's browser test: {message}");
        return;
    };

    // The fixture world, served on loopback as the local runner serves it.
    let clock = Arc::new(ManualClock::at(NOW));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    let settings: ChannelSettings = serde_json::from_str(r#"{"id":"main"}"#).unwrap();
    let (channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
    let channel = Arc::new(channel);
    let seeded = fixture::seed(&channel, 250, 24, NOW).await;
    let server = local_runner::serve::start(channel.clone(), 0, Some(fixture::PASSWORD.into()))
        .await
        .unwrap();
    let site = server.url();

    // chromedriver on a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut chromedriver = tokio::process::Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{base}/status")).send().await
            && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "chromedriver did not start");
    let session: Value = http
        .post(format!("{base}/session"))
        .json(&json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1440,1000", "--lang=en-US", "--hide-scrollbars"],
            },
        }}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {session}"))
        .to_owned();
    let b = WebDriver { http, base, session };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/dashboard");
    std::fs::create_dir_all(&shots).unwrap();

    // Sign in.
    b.go(&format!("{site}/orders")).await;
    assert!(
        b.current_url().await.ends_with("/login"),
        "anonymous goes to the login"
    );
    b.screenshot(&shots, "login").await;
    b.type_into("input[name=user]", fixture::USER).await;
    b.type_into("input[name=password]", fixture::PASSWORD).await;
    b.click("form.login button").await;
    assert!(b.text("#attention").await.contains("Needs your attention"));
    b.screenshot(&shots, "overview").await;

    // Find an order by its Commerce number.
    b.go(&format!("{site}/orders")).await;
    b.screenshot(&shots, "orders").await;
    b.type_into("#order-search", &seeded.commerce_number).await;
    b.click("form.search button").await;
    assert_eq!(b.text("#commerce-number").await, seeded.commerce_number);
    assert!(
        b.current_url()
            .await
            .ends_with(&format!("/orders/{}", seeded.created_po))
    );
    b.screenshot(&shots, "order").await;

    // A listing error with its fix.
    b.go(&format!("{site}/listings")).await;
    b.screenshot(&shots, "listings").await;
    b.click("#listing-cards a.status-error").await;
    b.find("#listing-cards a.status-error.current").await;
    let row = format!("tr[data-sku=\"{}\"]", seeded.error_sku);
    assert!(
        b.text(&format!("{row} td.reason"))
            .await
            .contains("Item not found")
    );
    assert!(
        b.text(&format!("{row} td.fix"))
            .await
            .contains("Check the identifier in Commerce")
    );
    b.screenshot(&shots, "listing-errors").await;

    // Pause and resume inventory-sync.
    b.go(&format!("{site}/")).await;
    b.click_and_confirm("#op-inventory-sync form[action=\"/actions/pause\"] button")
        .await;
    b.find("#op-inventory-sync form[action=\"/actions/resume\"]")
        .await;
    assert!(b.text("#op-inventory-sync").await.contains("Paused"));
    assert!(b.text("#attention").await.contains("paused"));
    b.screenshot(&shots, "paused").await;
    b.click_and_confirm("#op-inventory-sync form[action=\"/actions/resume\"] button")
        .await;
    b.find("#op-inventory-sync form[action=\"/actions/pause\"]").await;
    assert!(b.text("#op-inventory-sync").await.contains("Running"));

    // Retry an order in Error.
    b.go(&format!("{site}/orders/{}", seeded.failed_po)).await;
    assert!(b.text("#order-status").await.contains("Error"));
    b.click_and_confirm("form[action=\"/actions/retry-order\"] button")
        .await;
    assert!(b.text("p.notice").await.contains("Done"));
    b.screenshot(&shots, "order-retried").await;

    b.go(&format!("{site}/returns")).await;
    b.screenshot(&shots, "returns").await;
    b.go(&format!("{site}/audit")).await;
    let activity = b.text("#audit").await;
    for said in ["paused inventory-sync", "resumed inventory-sync", "retried order"] {
        assert!(activity.contains(said), "activity lacks {said:?}: {activity}");
    }
    b.screenshot(&shots, "activity").await;

    let _ = b
        .http
        .delete(format!("{}/session/{}", b.base, b.session))
        .send()
        .await;
    let _ = chromedriver.kill().await;
    server.stop();
    sandboxes.shutdown().await;
}
