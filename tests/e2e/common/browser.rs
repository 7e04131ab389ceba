//! A real Chromium for the page tests: chromedriver on a free loopback port, a headless
//! session, and the few WebDriver steps the tests repeat. Screenshots go to
//! docs/screenshots/.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::server::project_dir;

/// chromedriver on a free loopback port, stopped when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Starts chromedriver, or says why not (a failure in CI, a skip elsewhere).
pub async fn driver() -> Option<Driver> {
    start_driver(
        "chromedriver",
        &["chromium"],
        "chromium and chromedriver are required in CI (Debian: chromium chromium-driver)",
        |port| vec![format!("--port={port}")],
    )
    .await
}

/// Starts geckodriver for Firefox, or says why not (a failure in CI, a skip elsewhere).
pub async fn gecko() -> Option<Driver> {
    start_driver(
        "geckodriver",
        &["firefox-esr", "firefox"],
        "firefox and geckodriver are required in CI (Debian: firefox-esr; cargo install geckodriver)",
        |port| vec!["--host".into(), "127.0.0.1".into(), "--port".into(), port.to_string()],
    )
    .await
}

/// Starts a WebDriver server `program` on a free loopback port, when it and one of
/// `browsers` are installed.
async fn start_driver(
    program: &str,
    browsers: &[&str],
    required: &str,
    args: impl Fn(u16) -> Vec<String>,
) -> Option<Driver> {
    if !have(program) || !browsers.iter().any(|b| have(b)) {
        assert!(std::env::var("CI").is_err(), "{required}");
        eprintln!("note: no {program} or {browsers:?}; skipping the browser test");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(program)
        .args(args(port))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    let status = format!("{}/status", driver.url);
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(&status).await {
            if r.status().is_success() {
                return Some(driver);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{program} did not start on port {port}");
}

/// A headless Firefox session whose microphone is Firefox's fake one (a steady tone), asked
/// for without a prompt, with loopback ICE candidates allowed and host addresses shown.
pub async fn firefox(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "moz:firefoxOptions".into(),
        json!({
            "args": ["-headless", "--width=1440", "--height=1200"],
            "prefs": {
                "media.navigator.streams.fake": true,
                "media.navigator.permission.disabled": true,
                "media.peerconnection.ice.loopback": true,
                "media.peerconnection.ice.obfuscate_host_addresses": false,
                "media.autoplay.default": 0,
                "media.autoplay.block-webaudio": false,
                "media.navigator.audio.fake_frequency": 1000,
                "intl.accept_languages": "zh-CN"
            }
        }),
    );
    session(driver, caps).await
}

/// A headless Chromium session, with `extra` flags beside the usual ones.
pub async fn browser(driver: &Driver, extra: &[&str]) -> Client {
    let args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,800",
        "--lang=zh-CN",
    ]
    .iter()
    // A flag given in `extra` replaces the usual one of the same name.
    .filter(|usual| {
        let name = usual.split('=').next().unwrap_or(usual);
        !extra.iter().any(|e| e.split('=').next() == Some(name))
    })
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({ "args": args }));
    session(driver, caps).await
}

/// A WebDriver session with `caps`.
async fn session(driver: &Driver, caps: serde_json::Map<String, serde_json::Value>) -> Client {
    // The WebDriver client speaks plain HTTP to the driver, but its TLS stack wants a
    // crypto provider chosen: the one the server uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    ClientBuilder::rustls()
        .expect("a TLS setup for the WebDriver client")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Types `text` into the element at `css`.
pub async fn type_into(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the element at `css`.
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The text of the element at `css`.
pub async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until an element at `css` is there.
pub async fn wait_for(c: &Client, css: &str) {
    c.wait().for_element(Locator::Css(css)).await.unwrap();
}

pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    let dir = project_dir("docs").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

/// Waits until the text of the element at `css` is `want` (10 s at most), and returns it.
pub async fn wait_text(c: &Client, css: &str, want: &str) -> String {
    let mut shown = String::new();
    for _ in 0..200 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            shown = el.text().await.unwrap_or_default();
            if shown == want {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shown
}

/// Waits until the text of the element at `css` contains `needle` (10 s at most), and
/// returns it.
pub async fn wait_contains(c: &Client, css: &str, needle: &str) -> String {
    let mut shown = String::new();
    for _ in 0..200 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            shown = el.text().await.unwrap_or_default();
            if shown.contains(needle) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shown
}

/// Opens `page` and signs in as the users.toml user `user` (token `dev-<user>`), waiting until
/// `ready` is there.
pub async fn sign_in_user(c: &Client, http: &str, page: &str, user: &str, ready: &str) {
    c.goto(&format!("{http}{page}")).await.unwrap();
    wait_for(c, "#user").await;
    type_into(c, "#user", user).await;
    type_into(c, "#token", &format!("dev-{user}")).await;
    click(c, "#sign-in-form button").await;
    wait_for(c, ready).await;
}

/// Waits until the attribute `attr` of the element at `css` is `want` (10 s at most), and
/// returns it.
pub async fn wait_attr(c: &Client, css: &str, attr: &str, want: &str) -> String {
    let mut shown = String::new();
    for _ in 0..200 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            shown = el.attr(attr).await.ok().flatten().unwrap_or_default();
            if shown == want {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shown
}
