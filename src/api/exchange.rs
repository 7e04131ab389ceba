//! Case exchange between platforms (see [`crate::store::exchange`] for the format):
//! `GET /api/exchange/cases/{n}` exports, `POST /api/exchange/cases` imports (201 created,
//! 200 unchanged, 422 malformed with the field, 409 conflicting). Supervisors only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::cases::Role;
use crate::store::exchange::{CaseRecord, Imported};
use crate::store::StoreError;

fn supervisor(user: &Caller) -> Result<(), ApiError> {
    if user.user.role == Role::Supervisor {
        Ok(())
    } else {
        Err(ApiError::forbidden("only supervisors exchange cases"))
    }
}

/// Exports one case.
pub async fn export(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
) -> Result<Json<CaseRecord>, ApiError> {
    supervisor(&user)?;
    super::workflow::visible_case(&state, &user, &number).await?;
    state
        .store
        .export_case(&number)
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no case {number}")))
}

/// Imports one case, idempotently.
pub async fn import(
    State(state): State<ApiState>,
    user: Caller,
    JsonBody(record): JsonBody<CaseRecord>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    supervisor(&user)?;
    if !user.may_see(&record.case.platform, None) {
        return Err(ApiError::forbidden(format!(
            "you may not import cases of platform {}",
            record.case.platform
        )));
    }
    let number = record.case.case_number.clone();
    match state.store.import_case(record).await {
        Ok(Imported::Created) => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({ "case_number": number, "result": "created" })),
        )),
        Ok(Imported::Unchanged) => Ok((
            StatusCode::OK,
            Json(serde_json::json!({ "case_number": number, "result": "unchanged" })),
        )),
        Err(StoreError::Invalid { field, why }) => Err(ApiError::invalid(field, why)),
        Err(StoreError::Conflict(m)) | Err(StoreError::Duplicate(m)) => Err(ApiError::conflict(m)),
        Err(e) => Err(ApiError::internal(e)),
    }
}
