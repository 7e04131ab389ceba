//! The HTTP API (axum): cases with their calls and voice messages, the callback list, the case
//! workflow with roles, supervision, exchange between platforms, statistics, dialplan reload,
//! and its OpenAPI description at `/api/openapi.json`.
//!
//! Every endpoint but `/healthz` and `/api/openapi.json` needs `Authorization: Bearer <token>`
//! ([`auth`]). Errors are JSON `{"error": "...", "field": "..."}` with a fitting status: 401
//! without a known token, 403 for a role that may not, 422 for wrong data (naming the field),
//! 404 for an unknown item or one outside the user's reach, 409 for a step that does not fit
//! the item's state, 500 when the store fails.

pub mod agents;
pub mod auth;
pub mod boards;
pub mod body;
pub mod calls;
pub mod calls_out;
pub mod cases;
pub mod error;
pub mod exchange;
pub mod intake;
pub mod knowledge;
pub mod metrics;
pub mod phone;
pub mod published;
pub mod queues;
pub mod report;
pub mod requests;
pub mod session;
pub mod sessions;
pub mod state;
pub mod statistics;
pub mod voicemail;
pub mod wallboard;
pub mod workflow;

use axum::routing::{get, post};
use axum::Router;

pub use state::{ApiState, Reloader};

/// The OpenAPI description.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Builds the API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi))
        .route("/api/cases", get(cases::list_cases))
        .route("/api/cases/{case_number}", get(cases::get_case))
        .route("/api/cases/{case_number}/history", get(workflow::history))
        .route("/api/cases/{case_number}/events", post(workflow::apply))
        .route("/api/cases/{case_number}/related", get(workflow::related))
        .route("/api/cases/{case_number}/link", post(workflow::link))
        .route("/api/calendar", get(workflow::calendar))
        .route("/api/cases/{case_number}/messages", post(requests::send))
        .route(
            "/api/cases/{case_number}/attachments/{sha256}",
            get(requests::attachment),
        )
        .route("/api/outbox", get(requests::outbox))
        .route("/api/requests/awaiting", get(requests::awaiting))
        .route("/api/statistics/answers", get(requests::answers))
        .route("/api/public/platforms", get(intake::platforms))
        .route("/api/public/codes", post(intake::send_code))
        .route(
            "/api/public/requests",
            post(intake::submit).layer(axum::extract::DefaultBodyLimit::max(intake::MAX_BODY)),
        )
        .route(
            "/api/app/requests",
            post(intake::submit_app).layer(axum::extract::DefaultBodyLimit::max(intake::MAX_BODY)),
        )
        .route("/api/public/progress", get(intake::progress))
        .route(
            "/api/wechat",
            get(intake::wechat_verify).post(intake::wechat_message),
        )
        .route("/api/workflow/cases", get(workflow::list))
        .route("/api/supervision", get(workflow::supervision))
        .route("/api/units", get(workflow::units))
        .route("/api/districts", get(workflow::districts))
        .route("/api/phone", get(phone::socket))
        .route("/api/agents", get(agents::list))
        .route("/api/agents/{id}/state", post(agents::set_state))
        .route("/api/agents/{id}/states", get(agents::states))
        .route("/api/agents/{id}/cases", get(agents::cases))
        .route("/api/queues", get(queues::live))
        .route("/api/queue-log", get(queues::log))
        .route("/api/kpis", get(queues::kpis))
        .route("/api/calls/{call_id}", get(calls::describe))
        .route("/api/calls/{call_id}/transfer", post(calls::transfer))
        .route("/api/calls/{call_id}/hold", post(calls::hold))
        .route("/api/calls/{call_id}/handover", post(calls::hand_over))
        .route("/api/calls/{call_id}/leave", post(calls::leave))
        .route("/api/calls/{call_id}/consult", post(calls::consult))
        .route(
            "/api/calls/{call_id}/consult/complete",
            post(calls::consult_complete),
        )
        .route(
            "/api/calls/{call_id}/consult/cancel",
            post(calls::consult_cancel),
        )
        .route(
            "/api/calls/{call_id}/monitor",
            post(calls::monitor).delete(calls::stop_monitor),
        )
        .route("/api/callbacks", get(queues::callbacks))
        .route(
            "/api/callbacks/{case_number}/attempts",
            post(queues::attempt),
        )
        .route("/api/callbacks/{case_number}/call", post(calls_out::missed))
        .route("/api/hotlines", get(calls_out::hotlines))
        .route(
            "/api/cases/{case_number}/return-visit",
            post(calls_out::return_visit),
        )
        .route(
            "/api/cases/{case_number}/reminders",
            post(calls_out::remind),
        )
        .route(
            "/api/cases/{case_number}/recordings",
            get(queues::recordings),
        )
        .route(
            "/api/recordings/{case_number}/{id}/audio",
            get(queues::audio),
        )
        .route("/api/voicemails", get(voicemail::list))
        .route("/api/voicemails/{id}", get(voicemail::get_one))
        .route("/api/voicemails/{id}/audio", get(voicemail::audio))
        .route("/api/voicemails/{id}/callbacks", post(voicemail::callback))
        .route("/api/exchange/cases", post(exchange::import))
        .route("/api/exchange/cases/{case_number}", get(exchange::export))
        .route("/api/statistics", get(statistics::json))
        .route("/api/statistics.csv", get(statistics::csv))
        .route("/api/statistics/report", get(report::json))
        .route("/api/statistics/charts/{chart}", get(report::svg))
        .route("/api/statistics/tables/{table}", get(report::download))
        .route("/api/wallboard", get(wallboard::now))
        .route("/api/wallboard/events", get(wallboard::events))
        .route("/api/published", get(published::list))
        .route("/metrics", get(metrics::render))
        .route(
            "/api/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route(
            "/api/knowledge",
            get(knowledge::list).post(knowledge::create),
        )
        .route("/api/knowledge/search", get(knowledge::search))
        .route("/api/knowledge/export", get(knowledge::export))
        .route("/api/knowledge/import", post(knowledge::import))
        .route(
            "/api/knowledge/{id}",
            get(knowledge::get_one).put(knowledge::update),
        )
        .route("/api/knowledge/{id}/history", get(knowledge::history))
        .route("/api/dialplan/reload", post(reload))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state)
}

/// Unknown paths answer a JSON 404 like every other error.
async fn no_route(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::not_found(format!("no endpoint {}", uri.path()))
}

/// A known path with a method it does not take: a JSON 405.
async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::status(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method}", uri.path()),
    )
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// `POST /api/dialplan/reload` (supervisors): 200 with the platform count, or 422 with the
/// problems.
async fn reload(
    axum::extract::State(state): axum::extract::State<ApiState>,
    user: auth::Caller,
) -> Result<axum::Json<serde_json::Value>, error::ApiError> {
    if user.user.role != crate::cases::Role::Supervisor {
        return Err(error::ApiError::forbidden(
            "only supervisors reload the dialplan",
        ));
    }
    let reload = state.reload.clone();
    match tokio::task::spawn_blocking(move || reload()).await {
        Ok(Ok(platforms)) => Ok(axum::Json(
            serde_json::json!({ "status": "reloaded", "platforms": platforms }),
        )),
        Ok(Err(problems)) => Err(error::ApiError::invalid("dialplan", problems)),
        Err(e) => Err(error::ApiError::internal(e)),
    }
}

#[cfg(test)]
mod tests {
    /// Every route of [`super::router`] (read from this file) is described in openapi.json.
    #[test]
    fn every_route_is_in_the_openapi_description() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let source = include_str!("mod.rs");
        let mut routes = Vec::new();
        for part in source.split(".route(").skip(1) {
            let Some(start) = part.find('"') else {
                continue;
            };
            let rest = &part[start + 1..];
            let path = &rest[..rest.find('"').unwrap()];
            if path.starts_with('/') {
                routes.push(path.to_string());
            }
        }
        assert!(routes.len() >= 20, "routes read: {routes:?}");
        let missing: Vec<&String> = routes.iter().filter(|r| !paths.contains_key(*r)).collect();
        assert!(missing.is_empty(), "not described: {missing:?}");
    }
}
