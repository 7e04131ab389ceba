//! `GET /metrics`: Prometheus' text format, from the metrics facade's Prometheus recorder
//! (installed once at start-up by [`install`]). Counted where they happen: calls by outcome
//! (`hotline_calls_total{outcome}`), HTTP requests (`hotline_http_requests_total{method,
//! route, status}` and their duration), the store's commit latency
//! (`hotline_store_commit_seconds`). Read at each scrape: calls up, each queue's callers
//! waiting and longest wait, seats by platform and state, today's service level and
//! connection rate per platform, RTP packets in, out and dropped.
//!
//! No token: a scraper has none, and nothing here names a caller or a case. Expose the HTTP
//! port to the monitoring network only (README).

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::error::ApiError;
use super::state::ApiState;

/// Installs the process's recorder; None when one is installed already (the figures then go
/// to that one).
pub fn install() -> Option<PrometheusHandle> {
    const SECONDS: [f64; 12] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ];
    match PrometheusBuilder::new()
        .set_buckets(&SECONDS)
        .and_then(PrometheusBuilder::install_recorder)
    {
        Ok(handle) => Some(handle),
        Err(e) => {
            tracing::warn!(error = %e, "metrics recorder not installed");
            None
        }
    }
}

/// Counts each request by method, route (the path pattern, never the path: a case number is
/// no label) and status, and its duration.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("hotline_http_requests_total", "method" => method.clone(),
        "route" => route.clone(), "status" => status)
    .increment(1);
    metrics::histogram!("hotline_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Reads the figures of this moment into gauges.
async fn refresh(state: &ApiState) {
    use metrics::gauge;
    gauge!("hotline_calls_up").set(state.calls.len() as f64);
    let (rtp_in, rtp_out, rtp_dropped) = crate::media::stats::read();
    metrics::counter!("hotline_rtp_packets_total", "direction" => "in").absolute(rtp_in);
    metrics::counter!("hotline_rtp_packets_total", "direction" => "out").absolute(rtp_out);
    metrics::counter!("hotline_rtp_packets_dropped_total").absolute(rtp_dropped);
    let plan = state.dialplan.current();
    if let Some(snap) = state.queue.snapshot().await {
        for q in &plan.queues.queues {
            let waits = snap.waiting.iter().filter(|w| w.queue == q.name);
            let (n, longest) = waits.fold((0u64, 0i64), |(n, m), w| (n + 1, m.max(w.waiting_ms)));
            gauge!("hotline_queue_waiting", "queue" => q.name.clone()).set(n as f64);
            gauge!("hotline_queue_longest_wait_seconds", "queue" => q.name.clone())
                .set(longest as f64 / 1000.0);
        }
        let mut seats: std::collections::BTreeMap<(String, &'static str), u64> = Default::default();
        for s in &plan.seats {
            for state in [
                "logged-out",
                "available",
                "ringing",
                "on-call",
                "wrap-up",
                "not-ready",
            ] {
                seats.entry((s.platform.clone(), state)).or_default();
            }
        }
        for a in &snap.agents {
            *seats
                .entry((a.platform.clone(), a.state.as_str()))
                .or_default() += 1;
        }
        for ((platform, s), n) in seats {
            gauge!("hotline_seats", "platform" => platform, "state" => s).set(n as f64);
        }
    }
    let (from, now) = (state.start_of_today(), chrono::Utc::now());
    let mut window = state.metrics_log.lock().await;
    if let Ok(log) = window.read(&state.store, |_| true, from, now).await {
        let report = crate::kpi::report(log, from, now, &plan.kpi.rules, |queue| {
            Some(crate::dialplan::queues::platform_of_queue(queue).to_string())
        });
        for (platform, k) in report.platforms {
            if let Some(sl) = k.service_level {
                gauge!("hotline_service_level_today", "platform" => platform.clone()).set(sl);
            }
            if let Some(c) = k.connection_rate {
                gauge!("hotline_connection_rate_today", "platform" => platform).set(c);
            }
        }
    }
}

/// `GET /metrics`.
pub async fn render(State(state): State<ApiState>) -> Result<impl IntoResponse, ApiError> {
    let handle = state
        .metrics
        .clone()
        .ok_or_else(|| ApiError::not_found("metrics are not recorded by this process"))?;
    refresh(&state).await;
    handle.run_upkeep();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    ))
}
