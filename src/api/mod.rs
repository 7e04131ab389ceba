//! The HTTP API (axum): health, cases with their calls and voice messages, the callback list,
//! and dialplan reload.
//!
//! Errors are JSON `{"error": "...", "field": "..."}` with a fitting status: 422 for a request
//! whose data is wrong (naming the field), 404 for an unknown item, 409 for a step that does not
//! fit the item's state, 500 when the store fails.

pub mod cases;
pub mod error;
pub mod voicemail;

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::store::Store;

/// Reloads the dialplan; Ok(platforms) or the problems found (the running dialplan stays).
pub type Reloader = Arc<dyn Fn() -> Result<usize, String> + Send + Sync>;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// Cases, calls, voice messages.
    pub store: Store,
    /// The data folder (voice message files).
    pub data_dir: PathBuf,
    /// Reloads the dialplan.
    pub reload: Reloader,
}

/// Builds the API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/cases", get(cases::list_cases))
        .route("/api/cases/{case_number}", get(cases::get_case))
        .route("/api/voicemails", get(voicemail::list))
        .route("/api/voicemails/{id}", get(voicemail::get_one))
        .route("/api/voicemails/{id}/audio", get(voicemail::audio))
        .route("/api/voicemails/{id}/callbacks", post(voicemail::callback))
        .route("/api/dialplan/reload", post(reload))
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// `POST /api/dialplan/reload`: 200 with the platform count, or 422 with the problems.
async fn reload(
    axum::extract::State(state): axum::extract::State<ApiState>,
) -> Result<axum::Json<serde_json::Value>, error::ApiError> {
    let reload = state.reload.clone();
    match tokio::task::spawn_blocking(move || reload()).await {
        Ok(Ok(platforms)) => Ok(axum::Json(
            serde_json::json!({ "status": "reloaded", "platforms": platforms }),
        )),
        Ok(Err(problems)) => Err(error::ApiError::invalid("dialplan", problems)),
        Err(e) => Err(error::ApiError::internal(e)),
    }
}
