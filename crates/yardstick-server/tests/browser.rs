//! The dashboard in headless Chromium, driven over WebDriver (chromedriver) by
//! plain HTTP: load the leaderboard, click through to a model, one of its
//! runs and the run's roundup article, take a screenshot, and check that a response carrying `<script>`
//! renders as text and never runs. Fails — does not skip — when Chromium or
//! chromedriver is missing (`apt-get install chromium chromium-driver`).

mod common;

use base64::Engine;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver as a child process, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
    session: Option<String>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_binary(names: &[&str]) -> String {
    for name in names {
        if let Ok(out) = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
        {
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).trim().to_string();
            }
        }
    }
    panic!(
        "none of {names:?} is installed; the browser test needs Chromium and chromedriver \
         (Debian: apt-get install chromium chromium-driver)"
    );
}

impl Driver {
    async fn start() -> Driver {
        let chromedriver = find_binary(&["chromedriver"]);
        find_binary(&["chromium", "chromium-browser", "google-chrome"]);
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            session: None,
        };
        let started = Instant::now();
        loop {
            if let Ok(r) = driver
                .http
                .get(format!("{}/status", driver.url))
                .send()
                .await
            {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("yardstick-chromium-{port}"));
        let created = driver
            .call(
                "POST",
                "/session",
                json!({ "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,1600", format!("--user-data-dir={}", profile.display())
                    ] }
                } } }),
            )
            .await;
        driver.session = Some(
            created["sessionId"]
                .as_str()
                .expect("a session id")
                .to_string(),
        );
        driver
    }

    /// One WebDriver command; panics with the driver's message on an error.
    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let path = match &self.session {
            Some(s) => format!("/session/{s}{path}"),
            None => path.to_string(),
        };
        let url = format!("{}{path}", self.url);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let r = request.send().await.expect("chromedriver answers");
        let status = r.status();
        let v: Value = r.json().await.expect("JSON from chromedriver");
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let e = self
            .call(
                "POST",
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        e["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element id for `{css}`: {e}"))
            .to_string()
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/click"), json!({}))
            .await;
    }

    async fn script(&self, source: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({ "script": source, "args": [] }),
        )
        .await
    }

    async fn path(&self) -> String {
        self.script("return location.pathname")
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[tokio::test]
async fn click_through_the_dashboard_in_chromium() {
    let server = common::start(None).await;
    let driver = Driver::start().await;

    driver.go(&format!("{}/", server.base)).await;
    let heading = driver
        .script("return document.querySelector('h1').textContent")
        .await;
    assert_eq!(heading, "Leaderboard");
    let rows = driver
        .script("return document.querySelectorAll('#board tbody tr').length")
        .await;
    assert_eq!(rows, 4);
    // Sorting without JavaScript: the Model header link reorders the table.
    driver.click("#board thead th:nth-child(2) a").await;
    let first = driver
        .script("return document.querySelector('#board tbody tr a.model').textContent")
        .await;
    assert_eq!(first, "model-04", "model names descending after one click");

    driver.click("#board tbody tr:first-child a.model").await;
    assert_eq!(driver.path().await, "/models/model-04");
    let name = driver
        .script("return document.getElementById('model-name').textContent")
        .await;
    assert_eq!(name, "model-04");
    let history = driver
        .script("return document.querySelectorAll('#history tr').length")
        .await;
    assert_eq!(history, 9, "header + 8 runs");

    driver.click("#history a.run").await;
    assert_eq!(driver.path().await, "/runs/8");
    let title = driver
        .script("return document.getElementById('run-title').textContent")
        .await;
    assert_eq!(title, "Run #8");

    // The planted response is on this page as text, and nothing of it ran.
    let shown = driver
        .script(
            "return Array.from(document.querySelectorAll('pre.response'))\
             .map(e => e.textContent).filter(t => t.includes('<script>'))",
        )
        .await;
    assert_eq!(shown, json!([common::PAYLOAD]));
    assert_eq!(
        driver
            .script(
                "return document.querySelectorAll('pre.response script, pre.response img').length"
            )
            .await,
        0
    );
    assert_eq!(
        driver.script("return document.title").await,
        "yardstick — Run #8"
    );

    // From the run to its articles, and the roundup written from the database.
    driver.click("#run-articles").await;
    assert_eq!(driver.path().await, "/runs/8/articles");
    driver.click("#articles a.article.roundup").await;
    assert_eq!(driver.path().await, "/runs/8/articles/run-8-roundup.html");
    let listed: Value = reqwest::get(format!("{}/api/runs/8/articles", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        driver
            .script("return document.querySelector('h1').textContent")
            .await,
        listed["articles"][0]["headline"]
    );
    assert!(
        driver
            .script("return document.querySelectorAll('article svg').length")
            .await
            .as_u64()
            .unwrap()
            >= 1,
        "the article's charts are inline"
    );
    driver.go(&format!("{}/runs/8", server.base)).await;

    let png = driver.call("GET", "/screenshot", Value::Null).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().expect("base64 screenshot"))
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 10_000,
        "a real page, not a blank: {} bytes",
        png.len()
    );
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-run.png");
    std::fs::write(&out, &png).unwrap();
    eprintln!("screenshot: {}", out.display());

    driver.call("DELETE", "", Value::Null).await;
}
