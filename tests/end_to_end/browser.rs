//! A real headless Chromium for browser tests, driven over WebDriver (chromedriver) with
//! fantoccini. Debian's `chromium` and `chromium-driver` packages (`.ci/run` installs them);
//! `CHROMEDRIVER` and `CHROME_BIN` name others. Without them a test is skipped with a notice,
//! except under CI, where their absence fails it.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const DESKTOP: (u32, u32) = (1280, 800);
pub const PHONE: (u32, u32) = (390, 844);

pub struct Browser {
    pub client: Client,
    driver: Child,
    driver_url: String,
}

fn installed(variable: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var(variable).map_or_else(|_| PathBuf::from(default), PathBuf::from);
    path.is_file().then_some(path)
}

impl Browser {
    /// A fresh browser session, or `None` (with a printed notice) when Chromium or
    /// chromedriver is not installed outside CI.
    pub async fn start() -> Option<Browser> {
        let driver = installed("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chrome = installed("CHROME_BIN", "/usr/bin/chromium");
        let (Some(driver), Some(chrome)) = (driver, chrome) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs Chromium and chromedriver (apt-get install -y chromium chromium-driver)"
            );
            println!(
                "SKIPPED: no chromium/chromedriver (apt-get install -y chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        // Its own process group, so that dropping the browser stops Chromium too.
        let driver = Command::new(driver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        let client = connect(&driver_url, &chrome).await;
        Some(Browser {
            client,
            driver,
            driver_url,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Waits until the script's value is truthy, returning it (JSON).
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self
                .client
                .execute(script, vec![])
                .await
                .expect("script runs");
            let falsy = matches!(&value, Value::Null | Value::Bool(false))
                || value == json!(0)
                || value == json!("");
            if !falsy {
                return value;
            }
            if Instant::now() > deadline {
                let page = self
                    .client
                    .execute("return document.body.innerText", vec![])
                    .await
                    .unwrap_or_default();
                panic!(
                    "waited 30 s for {what}; the page shows:\n{}",
                    page.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until page `id` has rendered (`#page[data-page=id][data-state=ready]`).
    pub async fn wait_page(&self, id: &str) {
        let script = format!(
            "const p = document.getElementById('page'); \
             if (p && p.dataset.page === '{id}' && p.dataset.state === 'error') \
               return 'error: ' + p.innerText; \
             return p && p.dataset.page === '{id}' && p.dataset.state === 'ready';"
        );
        let state = self.wait_for(&format!("page {id}"), &script).await;
        assert_eq!(state, json!(true), "page {id} failed to render");
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .len()
    }

    pub async fn click(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css}: {error}"))
            .click()
            .await
            .unwrap_or_else(|error| panic!("click {css}: {error}"));
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self
            .client
            .wait()
            .for_element(Locator::Css(css))
            .await
            .expect("field");
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn resize(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize");
    }

    /// Saves a screenshot as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// The console errors logged since the last call (Chrome's browser log: script errors,
    /// failed requests, CSP violations).
    pub async fn console_errors(&self) -> Vec<String> {
        let url = format!(
            "{}/session/{}/se/log",
            self.driver_url,
            self.client
                .session_id()
                .await
                .ok()
                .flatten()
                .expect("session id")
        );
        let answer: Value = reqwest::Client::new()
            .post(url)
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .expect("log request")
            .json()
            .await
            .expect("log JSON");
        let entries = answer["value"].as_array().cloned().expect("log entries");
        entries
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Even when a test fails midway: chromedriver and the Chromium it started, as a group.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn connect(driver_url: &str, chrome: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chrome, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--window-size=1280,800"]}),
    );
    capabilities.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let attempt = ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(driver_url)
            .await;
        match attempt {
            Ok(client) => return client,
            Err(error) if Instant::now() > deadline => panic!("chromedriver: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// `target/screenshots` (of the target folder this test was built in).
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("screenshots")
}
