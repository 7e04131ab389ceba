//! `/metrics` scraped as Prometheus would: after a caller is answered by a seat and hangs up,
//! the text parses as Prometheus' exposition format (every line a comment or a sample, each
//! sample read by prometheus-parse) and holds the call by outcome, the store's commits, RTP
//! sent, the seats by state, the queue, today's service level and the HTTP requests counted
//! by route, never by a path that names a case.

use crate::common;

use std::time::Duration;

use common::audio::tone;
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::server::{Backend, ServerOptions, TestServer};
use common::softphone::Softphone;
use prometheus_parse::{Sample, Scrape, Value};

async fn scrape(server: &TestServer) -> (String, Vec<Sample>) {
    let resp = reqwest::get(format!("{}/metrics", server.http))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text");
    (text, scrape.samples)
}

fn value(samples: &[Sample], metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(h) => h.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
}

/// Every line is a `# HELP`/`# TYPE` comment, blank, or `name{labels} value`.
fn well_formed(text: &str) {
    for line in text.lines() {
        if line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok() || value == "+Inf", "{line}");
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_scraped_as_prometheus_text() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let mut seat = Softphone::signed_in(&server, "1001").await;
            let mut caller = TestPhone::udp(server.sip).await;
            let (mut call, resp) = caller.call("087163611111", "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            let (_, leg_rtp) = seat
                .take_call(Duration::from_secs(10), "seat 1001 rings")
                .await;
            // The caller talks for 0.2 s; the seat hears it (RTP in, relayed out).
            let to_server = TestPhone::server_rtp(&call);
            // The greeting plays out before the bridge.
            caller
                .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
                .await;
            let (mut stream, said) = (PhoneStream::default(), tone(800.0, 1600));
            let (_, heard) = tokio::join!(
                caller.send_audio(to_server, &mut stream, &said),
                seat.phone.receive_rtp(10, Duration::from_secs(4)),
            );
            assert_eq!(heard.len(), 10, "the seat hears the caller");
            let _ = leg_rtp;
            let (status, _) = server.get_json("/api/queues").await;
            assert_eq!(status, 200);
            caller.bye(&mut call).await;
            let case = server.cases_of("087163611111").await[0]["case_number"]
                .as_str()
                .unwrap()
                .to_string();
            let (status, _) = server.get_json(&format!("/api/cases/{case}")).await;
            assert_eq!(status, 200);

            // The call's end and the queue log are written after the BYE: scrape until they show.
            let mut samples = Vec::new();
            let mut text = String::new();
            for _ in 0..100 {
                (text, samples) = scrape(&server).await;
                let ended = value(
                    &samples,
                    "hotline_calls_total",
                    &[("outcome", "caller-hangup")],
                );
                let sl = value(
                    &samples,
                    "hotline_service_level_today",
                    &[("platform", "530100")],
                );
                if ended == Some(1.0) && sl == Some(1.0) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            well_formed(&text);
            let samples_written = text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .count();
            assert_eq!(samples.len(), samples_written.min(samples.len()));
            assert_eq!(
                value(
                    &samples,
                    "hotline_calls_total",
                    &[("outcome", "caller-hangup")]
                ),
                Some(1.0),
                "{text}"
            );
            assert_eq!(
                value(
                    &samples,
                    "hotline_service_level_today",
                    &[("platform", "530100")]
                ),
                Some(1.0),
                "{text}"
            );
            assert_eq!(
                value(&samples, "hotline_calls_up", &[]),
                Some(0.0),
                "{text}"
            );
            assert_eq!(
                value(&samples, "hotline_queue_waiting", &[("queue", "530100")]),
                Some(0.0),
                "{text}"
            );
            assert!(value(
                &samples,
                "hotline_queue_longest_wait_seconds",
                &[("queue", "530100")]
            )
            .is_some());
            let seats: f64 = ["available", "wrap-up", "on-call", "ringing", "not-ready"]
                .iter()
                .filter_map(|s| {
                    value(
                        &samples,
                        "hotline_seats",
                        &[("platform", "530100"), ("state", s)],
                    )
                })
                .sum();
            assert_eq!(seats, 1.0, "seat 1001 is signed in: {text}");
            assert!(
                value(
                    &samples,
                    "hotline_seats",
                    &[("platform", "530100"), ("state", "logged-out")]
                )
                .unwrap()
                    >= 1.0
            );
            for direction in ["in", "out"] {
                let n = value(
                    &samples,
                    "hotline_rtp_packets_total",
                    &[("direction", direction)],
                );
                assert!(n.unwrap() >= 10.0, "RTP {direction}: {text}");
            }
            assert!(value(&samples, "hotline_rtp_packets_dropped_total", &[]).is_some());
            assert!(
                value(&samples, "hotline_store_commit_seconds", &[]).unwrap() >= 1.0,
                "{text}"
            );
            assert_eq!(
                value(
                    &samples,
                    "hotline_http_requests_total",
                    &[
                        ("route", "/api/queues"),
                        ("method", "GET"),
                        ("status", "200")
                    ]
                ),
                Some(1.0),
                "{text}"
            );
            // A case's path is counted under its route, never under its number.
            // (prometheus-parse reads no braces inside a label's value: the text tells.)
            assert!(
                text.contains(r#"route="/api/cases/{case_number}",status="200"} 1"#),
                "{text}"
            );
            assert!(!text.contains(&case), "{text}");
            dashboard_queries_what_is_exported(&text);
            assert!(value(
                &samples,
                "hotline_http_request_seconds",
                &[("route", "/api/queues")]
            )
            .is_some());
        },
    )
    .await;
}

/// Every metric the Grafana dashboard under docs/grafana/ queries is in the scrape (a
/// histogram by its `_bucket` series).
fn dashboard_queries_what_is_exported(text: &str) {
    let path = common::server::project_dir("docs").join("grafana/hotline12345.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut queried = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for (i, _) in expr.match_indices("hotline_") {
                let name: String = expr[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                queried.push(name);
            }
        }
    }
    assert!(queried.len() >= 11, "{queried:?}");
    for name in queried {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} "))),
            "the dashboard queries {name}, which /metrics does not export"
        );
    }
}
