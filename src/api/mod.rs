//! The HTTP API (axum): health, and cases with their calls.
//!
//! Errors are JSON `{"error": "...", "field": "..."}` with a fitting status: 422 for a request
//! whose data is wrong (naming the field), 404 for an unknown case, 500 when the store fails.

pub mod cases;
pub mod error;

use axum::routing::get;
use axum::Router;

use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// Cases and calls.
    pub store: Store,
}

/// Builds the API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/cases", get(cases::list_cases))
        .route("/api/cases/{case_number}", get(cases::get_case))
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
