//! Voice messages awaiting callback: `GET /api/voicemails?platform=530100&status=…` (oldest
//! first; `status` defaults to `awaiting-callback`, `all` lists every status),
//! `GET /api/voicemails/{id}`, `GET /api/voicemails/{id}/audio` (the WAV), and
//! `POST /api/voicemails/{id}/callbacks` with `{"reached": bool, "operator": "…", "note": "…"}`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::cases::Role;
use crate::store::{StoreError, VoicemailView};

/// Filters of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// A division code.
    pub platform: Option<String>,
    /// `recording`, `awaiting-callback` (default), `called-back` or `all`.
    pub status: Option<String>,
}

const STATUSES: [&str; 3] = ["recording", "awaiting-callback", "called-back"];

/// The list, oldest first.
pub async fn list(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<VoicemailView>>, ApiError> {
    let status = q.status.unwrap_or_else(|| "awaiting-callback".into());
    let status = match status.as_str() {
        "all" => None,
        s if STATUSES.contains(&s) => Some(s),
        other => {
            return Err(ApiError::invalid(
                "status",
                format!("{other:?} is not one of recording, awaiting-callback, called-back, all"),
            ))
        }
    };
    if let Some(p) = &q.platform {
        if p.len() != 6 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid(
                "platform",
                "a 6-digit division code, e.g. 530100",
            ));
        }
    }
    let platform = scoped_platform(&user, q.platform)?;
    state
        .store
        .voicemails(platform.as_deref(), status)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// Voice messages are the platform's: units have no part in them, and operators and
/// supervisors see their platform's (the provincial supervisor all).
fn scoped_platform(user: &Caller, asked: Option<String>) -> Result<Option<String>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden(
            "voice messages are handled by the platform",
        ));
    }
    user.narrow_platform(asked)
}

async fn find(state: &ApiState, user: &Caller, id: i64) -> Result<VoicemailView, ApiError> {
    let scope = scoped_platform(user, None)?;
    state
        .store
        .voicemail(id)
        .await
        .map_err(ApiError::internal)?
        .filter(|v| scope.as_ref().is_none_or(|p| *p == v.platform))
        .ok_or_else(|| ApiError::not_found(format!("no voice message {id}")))
}

/// One message.
pub async fn get_one(
    State(state): State<ApiState>,
    user: Caller,
    Path(id): Path<i64>,
) -> Result<Json<VoicemailView>, ApiError> {
    find(&state, &user, id).await.map(Json)
}

/// The message's audio, as WAV.
pub async fn audio(
    State(state): State<ApiState>,
    user: Caller,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let vm = find(&state, &user, id).await?;
    if vm.status == "recording" {
        return Err(ApiError::conflict(format!(
            "voice message {id} is still being recorded"
        )));
    }
    let bytes = tokio::fs::read(state.data_dir.join(&vm.file))
        .await
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes))
}

/// A callback attempt.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    /// Whether the caller was reached.
    pub reached: bool,
    /// Who called back.
    pub operator: String,
    /// What was said or why it failed.
    #[serde(default)]
    pub note: String,
}

/// Records a callback attempt.
pub async fn callback(
    State(state): State<ApiState>,
    user: Caller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<CallbackBody>,
) -> Result<Json<VoicemailView>, ApiError> {
    find(&state, &user, id).await?;
    if body.operator.trim().is_empty() {
        return Err(ApiError::invalid("operator", "who called back is required"));
    }
    match state
        .store
        .record_callback(
            id,
            body.reached,
            body.operator.trim(),
            &body.note,
            Utc::now(),
        )
        .await
    {
        Ok(v) => Ok(Json(v)),
        Err(StoreError::NotFound(m)) => Err(ApiError::not_found(m)),
        Err(StoreError::Conflict(m)) => Err(ApiError::conflict(m)),
        Err(e) => Err(ApiError::internal(e)),
    }
}
