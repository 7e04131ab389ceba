//! The knowledge base over HTTP.
//!
//! - `GET /api/knowledge/search?q=…&platform=…&on=YYYY-MM-DD&limit=…`: entries that answer `q`,
//!   best first, with highlights; `platform` defaults to the user's (a provincial supervisor:
//!   every platform), `on` to today in China Standard Time.
//! - `GET /api/knowledge?platform=…&on=…`: every entry (in force on `on` when given), by id.
//! - `GET /api/knowledge/{id}`, `GET /api/knowledge/{id}/history`.
//! - `POST /api/knowledge` (a draft), `PUT /api/knowledge/{id}` (a draft with the `version` it
//!   was made from; 409 when the entry has moved on): knowledge editors only
//!   (`knowledge_editor = true` in users.toml), for their platform's entries; entries for every
//!   platform are written by editors of the provincial platform.
//! - `GET /api/knowledge/export?format=json|csv`, `POST /api/knowledge/import` (a JSON array or
//!   `text/csv`): all rows or none, each checked as a draft; the answer counts what was created,
//!   updated and left unchanged.
//!
//! Every user may read and search; what changes goes to the store first and then to the index.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::body::{parse, JsonBody};
use super::error::ApiError;
use super::state::ApiState;
use crate::knowledge::table::{self, Row};
use crate::knowledge::{Draft, Entry, FieldError, Hit, Version};
use crate::store::knowledge::{ImportCounts, ImportRow};
use crate::store::StoreError;

/// The largest import, in rows.
const MAX_IMPORT: usize = 10_000;

/// A search.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub q: String,
    pub platform: Option<String>,
    pub on: Option<NaiveDate>,
    pub limit: Option<usize>,
}

/// Filters of the list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub platform: Option<String>,
    pub on: Option<NaiveDate>,
}

/// The answer to a search.
#[derive(Debug, Serialize)]
pub struct SearchAnswer {
    pub query: String,
    pub platform: Option<String>,
    pub on: NaiveDate,
    pub hits: Vec<Hit>,
}

/// A change: the draft and the version it was made from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub version: i64,
    #[serde(flatten)]
    pub fields: Draft,
}

/// `format` of an export.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub format: Option<String>,
}

fn today(state: &ApiState) -> NaiveDate {
    Utc::now()
        .with_timezone(&state.dialplan.current().time_zone)
        .date_naive()
}

fn platforms(state: &ApiState) -> Vec<String> {
    state
        .dialplan
        .current()
        .router
        .platforms()
        .iter()
        .map(|p| p.code.clone())
        .collect()
}

fn field_error(e: FieldError) -> ApiError {
    ApiError::invalid(e.field, e.why)
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(m) => ApiError::conflict(m),
        StoreError::NotFound(m) => ApiError::not_found(m),
        other => ApiError::internal(other),
    }
}

/// Checks that `user` may write an entry for `platform` (None: every platform).
fn may_write(state: &ApiState, user: &Caller, platform: Option<&str>) -> Result<(), ApiError> {
    if !user.user.knowledge_editor {
        return Err(ApiError::forbidden(
            "only knowledge editors change the knowledge base",
        ));
    }
    let provincial = state.dialplan.current().router.provincial().code.clone();
    match platform {
        _ if user.user.platform == provincial => Ok(()),
        Some(p) if p == user.user.platform => Ok(()),
        Some(p) => Err(ApiError::forbidden(format!(
            "you write the entries of platform {} only, not {p}",
            user.user.platform
        ))),
        None => Err(ApiError::forbidden(
            "entries for every platform are written by the provincial platform's editors",
        )),
    }
}

/// Tells the index of entries just written; the store has them, so a failure here is logged
/// and mended at the next start, when the index is built again.
fn index(state: &ApiState, entries: &[Entry]) {
    if let Err(e) = state.knowledge.upsert(entries.iter()) {
        tracing::error!(error = %e, "knowledge entries stored but not indexed");
    }
}

/// `GET /api/knowledge/search`.
pub async fn search(
    State(state): State<ApiState>,
    user: Caller,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    if q.q.chars().count() > 500 {
        return Err(ApiError::invalid("q", "at most 500 characters"));
    }
    let platform = match q.platform {
        Some(p) => user.narrow_platform(Some(p))?,
        None => user.platform_scope(),
    };
    let on = q.on.unwrap_or_else(|| today(&state));
    let limit = q.limit.unwrap_or(10);
    if limit == 0 || limit > crate::knowledge::search::MAX_HITS {
        return Err(ApiError::invalid("limit", "1 to 50"));
    }
    let hits = state
        .knowledge
        .search(&q.q, platform.as_deref(), on, limit)
        .map_err(ApiError::internal)?;
    Ok(Json(SearchAnswer {
        query: q.q,
        platform,
        on,
        hits,
    }))
}

/// `GET /api/knowledge`.
pub async fn list(
    State(state): State<ApiState>,
    _user: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let entries = state.store.knowledge_entries().await.map_err(store_error)?;
    Ok(Json(
        entries
            .into_iter()
            .filter(|e| {
                (q.platform.is_none() && q.on.is_none())
                    || e.fields
                        .applies(q.platform.as_deref(), q.on.unwrap_or_else(|| today(&state)))
            })
            .collect(),
    ))
}

async fn find(state: &ApiState, id: i64) -> Result<Entry, ApiError> {
    state
        .store
        .knowledge_entry(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found(format!("no knowledge entry {id}")))
}

/// `GET /api/knowledge/{id}`.
pub async fn get_one(
    State(state): State<ApiState>,
    _user: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Entry>, ApiError> {
    find(&state, id).await.map(Json)
}

/// `GET /api/knowledge/{id}/history`.
pub async fn history(
    State(state): State<ApiState>,
    _user: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Version>>, ApiError> {
    find(&state, id).await?;
    state
        .store
        .knowledge_history(id)
        .await
        .map(Json)
        .map_err(store_error)
}

/// `POST /api/knowledge`.
pub async fn create(
    State(state): State<ApiState>,
    user: Caller,
    JsonBody(draft): JsonBody<Draft>,
) -> Result<impl IntoResponse, ApiError> {
    let codes = platforms(&state);
    let draft = draft.validated(&codes).map_err(field_error)?;
    may_write(&state, &user, draft.platform.as_deref())?;
    let entry = state
        .store
        .add_knowledge(draft, &user.user.id, Utc::now())
        .await
        .map_err(store_error)?;
    index(&state, std::slice::from_ref(&entry));
    Ok((StatusCode::CREATED, Json(entry)))
}

/// `PUT /api/knowledge/{id}`.
pub async fn update(
    State(state): State<ApiState>,
    user: Caller,
    Path(id): Path<i64>,
    JsonBody(change): JsonBody<Change>,
) -> Result<Json<Entry>, ApiError> {
    let codes = platforms(&state);
    let draft = change.fields.validated(&codes).map_err(field_error)?;
    // Both the entry as it is and as it would be must be the editor's to write.
    let before = find(&state, id).await?;
    may_write(&state, &user, before.fields.platform.as_deref())?;
    may_write(&state, &user, draft.platform.as_deref())?;
    let entry = state
        .store
        .update_knowledge(id, change.version, draft, &user.user.id, Utc::now())
        .await
        .map_err(store_error)?;
    index(&state, std::slice::from_ref(&entry));
    Ok(Json(entry))
}

/// `GET /api/knowledge/export`.
pub async fn export(
    State(state): State<ApiState>,
    _user: Caller,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let entries = state.store.knowledge_entries().await.map_err(store_error)?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(entries.iter().map(Row::from).collect::<Vec<_>>()).into_response()),
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"knowledge.csv\"",
                ),
            ],
            table::to_csv(&entries),
        )
            .into_response()),
        other => Err(ApiError::invalid(
            "format",
            format!("{other:?} is not json or csv"),
        )),
    }
}

/// `POST /api/knowledge/import`.
pub async fn import(
    State(state): State<ApiState>,
    user: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ImportCounts>, ApiError> {
    let codes = platforms(&state);
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid("body", "the file must be UTF-8"))?;
    let rows = if kind.starts_with("application/json") {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ApiError::invalid("body", format!("not JSON: {e}")))?;
        let rows: Vec<Row> = parse(value)?;
        table::checked(rows, &codes)
    } else if kind.starts_with("text/csv") {
        table::from_csv(text, &codes)
    } else {
        return Err(ApiError::status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "import JSON (application/json) or CSV (text/csv)",
        ));
    }
    .map_err(|e| ApiError::invalid(format!("row {}: {}", e.row, e.field), e.why))?;
    if rows.len() > MAX_IMPORT {
        return Err(ApiError::invalid(
            "body",
            format!("at most {MAX_IMPORT} rows at once"),
        ));
    }
    // Each row, and each entry a row replaces, must be the editor's to write.
    let existing: std::collections::HashMap<i64, Entry> = state
        .store
        .knowledge_entries()
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    for (id, draft) in &rows {
        may_write(&state, &user, draft.platform.as_deref())?;
        if let Some(before) = id.and_then(|id| existing.get(&id)) {
            may_write(&state, &user, before.fields.platform.as_deref())?;
        }
    }
    let rows: Vec<ImportRow> = rows
        .into_iter()
        .map(|(id, fields)| ImportRow { id, fields })
        .collect();
    let counts = state
        .store
        .import_knowledge(rows, &user.user.id, Utc::now())
        .await
        .map_err(store_error)?;
    let entries = state.store.knowledge_entries().await.map_err(store_error)?;
    index(&state, &entries);
    Ok(Json(counts))
}
