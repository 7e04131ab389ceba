//! The operator console's steps that its browser tests share, in any browser: sign seat 1001
//! in, turn the page's phone on and go available, answer the call that rings in the page, and
//! read the meter on the caller's audio.

use std::time::Duration;

use fantoccini::{Client, Locator};

use super::browser::{click, text_of, type_into, wait_for, wait_text};
use super::server::TestServer;

/// Opens the console and signs seat 1001 in.
pub async fn sign_in_seat(c: &Client, server: &TestServer) {
    c.goto(&format!("{}/console", server.http)).await.unwrap();
    wait_for(c, "#seat").await;
    type_into(c, "#seat", "1001").await;
    type_into(c, "#password", "dev-1001").await;
    click(c, "#sign-in-form button").await;
    wait_for(c, "#seat-state:not([hidden]) #phone-on").await;
}

/// Turns the page's phone on (which signs the seat in) and goes available.
pub async fn phone_on_and_available(c: &Client) {
    click(c, "#phone-on").await;
    assert_eq!(
        wait_text(c, "#phone-state", "电话：浏览器（本页面）").await,
        "电话：浏览器（本页面）"
    );
    click(c, "#go-available").await;
    assert_eq!(wait_text(c, "#state-now", "空闲").await, "空闲");
}

/// Answers the call ringing in the page and waits until it is up (else fails with what the
/// page and the server said).
pub async fn answer_in_page(c: &Client, server: &TestServer) {
    click(c, "#answer").await;
    let status = wait_text(c, "#call-status", "通话中").await;
    assert_eq!(
        status,
        "通话中",
        "the page says {:?}; the server's log:\n{}",
        text_of(c, "#call-error").await,
        server.log()
    );
}

/// The meter's `attr` (data-hz or data-level) once `done` holds for it, or its last reading
/// after 10 s.
pub async fn meter_reading(c: &Client, attr: &str, done: impl Fn(f64) -> bool) -> f64 {
    let mut last = 0.0;
    for _ in 0..100 {
        let meter = c.find(Locator::Css("#meter")).await.unwrap();
        if let Ok(Some(v)) = meter.attr(attr).await {
            last = v.parse().unwrap_or(0.0);
            if done(last) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// A WAV of a steady `hz` tone, for Chromium's fake microphone (it loops the file).
pub fn microphone(dir: &std::path::Path, hz: f64) -> std::path::PathBuf {
    let path = dir.join(format!("mic-{hz}.wav"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..48_000 * 4 {
        let t = i as f64 / 48_000.0;
        let s = (2.0 * std::f64::consts::PI * hz * t).sin() * 9000.0;
        w.write_sample(s as i16).unwrap();
    }
    w.finalize().unwrap();
    path
}

/// Chromium's flags for a page phone: `mic` as the microphone, granted without asking, audio
/// played without a gesture, WebRTC on loopback with plain host candidates.
pub fn media_flags(mic: &std::path::Path) -> Vec<String> {
    vec![
        "--use-fake-ui-for-media-stream".into(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-audio-capture={}", mic.display()),
        "--autoplay-policy=no-user-gesture-required".into(),
        "--allow-loopback-in-peer-connection".into(),
        "--disable-features=WebRtcHideLocalIpsWithMdns".into(),
    ]
}
