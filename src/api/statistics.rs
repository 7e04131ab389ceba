//! `GET /api/statistics?from=YYYY-MM-DD&to=YYYY-MM-DD&platform=530100` (JSON) and
//! `GET /api/statistics.csv` (the same as `dimension,key,value` rows). Supervisors only; a
//! prefecture's supervisor sees its platform.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::state::ApiState;
use super::workflow::local_day_start;
use crate::cases::statistics::{compute, to_csv, Statistics};
use crate::cases::Role;

/// The period and platform.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    pub from: String,
    pub to: String,
    pub platform: Option<String>,
}

async fn statistics(
    state: &ApiState,
    user: &Caller,
    q: StatsQuery,
) -> Result<Statistics, ApiError> {
    if user.user.role != Role::Supervisor {
        return Err(ApiError::forbidden("statistics are for supervisors"));
    }
    let platform = user.narrow_platform(q.platform)?;
    let from = local_day_start(state, "from", &q.from)?;
    let to = local_day_start(state, "to", &q.to)? + chrono::Duration::days(1);
    if to <= from {
        return Err(ApiError::invalid("to", "must not be before from"));
    }
    let zone = state.dialplan.current().time_zone;
    let facts = state
        .store
        .case_facts(from, to, platform.as_deref(), zone)
        .await
        .map_err(ApiError::internal)?;
    Ok(compute(&facts, 10))
}

/// As JSON.
pub async fn json(
    State(state): State<ApiState>,
    user: Caller,
    query: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Statistics>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    statistics(&state, &user, q).await.map(Json)
}

/// As CSV.
pub async fn csv(
    State(state): State<ApiState>,
    user: Caller,
    query: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let s = statistics(&state, &user, q).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        to_csv(&s),
    ))
}
