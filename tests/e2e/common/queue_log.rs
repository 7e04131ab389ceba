//! Reading the queue log through the API, as it is written during a call.

use std::time::{Duration, Instant};

use super::server::TestServer;

/// The queue log of `query` (e.g. `platform=532900`), oldest first.
pub async fn queue_log(server: &TestServer, query: &str) -> Vec<serde_json::Value> {
    let (status, body) = server
        .get_json(&format!("/api/queue-log?{query}&limit=1000"))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut entries = body.as_array().cloned().unwrap_or_default();
    entries.reverse();
    entries
}

/// The queue events of one call, as `event queue agent` lines.
pub async fn story_of(server: &TestServer, platform: &str, call_id: &str) -> Vec<String> {
    queue_log(server, &format!("platform={platform}"))
        .await
        .iter()
        .filter(|e| e["call_id"] == call_id)
        .map(|e| {
            format!(
                "{} {} {}",
                e["event"].as_str().unwrap_or("?"),
                e["queue"].as_str().unwrap_or("?"),
                e["agent"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

/// Reads `read` until it gives `expected` (the queue log and seat states are written as the
/// call goes: up to 5 s); returns what it read last.
pub async fn eventually<T, F, Fut>(expected: &T, read: F) -> T
where
    T: PartialEq,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    eventually_within(expected, read, Duration::from_secs(5)).await
}

/// [`eventually`], for something due `within` (a queue's timers).
pub async fn eventually_within<T, F, Fut>(expected: &T, mut read: F, within: Duration) -> T
where
    T: PartialEq,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = Instant::now() + within;
    loop {
        let value = read().await;
        if value == *expected || Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The story of a call once it reads `expected`.
pub async fn story_once(
    server: &TestServer,
    platform: &str,
    call_id: &str,
    expected: &[&str],
) -> Vec<String> {
    let expected: Vec<String> = expected.iter().map(|e| e.to_string()).collect();
    eventually(&expected, || story_of(server, platform, call_id)).await
}
