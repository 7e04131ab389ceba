//! `GET /api/published?q=&page=`: the published results, for everyone (no token): the cases a
//! supervisor marked published, with their category, district, summary and reply, and never
//! the caller (see [`crate::cases::publish`]). Twenty a page, newest first; `q` searches the
//! summaries, keywords and replies.

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::state::ApiState;
use crate::store::board::PublishedCase;

/// Cases on a page.
const PER_PAGE: u32 = 20;

/// The search and page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedQuery {
    #[serde(default)]
    pub q: String,
    pub page: Option<u32>,
}

/// A published case as the public sees it.
#[derive(Debug, Serialize)]
pub struct PublicCase {
    #[serde(flatten)]
    pub case: PublishedCase,
    pub platform_name: String,
    pub district_name: Option<String>,
}

/// One page.
#[derive(Debug, Serialize)]
pub struct PublishedPage {
    pub items: Vec<PublicCase>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// The page asked for.
pub async fn list(
    State(state): State<ApiState>,
    query: Result<Query<PublishedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PublishedPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    if q.q.chars().count() > 50 {
        return Err(ApiError::invalid("q", "at most 50 characters"));
    }
    let page = q.page.unwrap_or(1);
    if !(1..=10_000).contains(&page) {
        return Err(ApiError::invalid("page", "1 to 10000"));
    }
    let (items, total) = state
        .store
        .published_cases(&q.q, page, PER_PAGE)
        .await
        .map_err(ApiError::internal)?;
    let plan = state.dialplan.current();
    let items = items
        .into_iter()
        .map(|case| PublicCase {
            platform_name: plan.platform_name(&case.platform),
            district_name: case
                .district
                .as_deref()
                .and_then(|code| plan.district(code))
                .map(|d| d.name.clone()),
            case,
        })
        .collect();
    Ok(Json(PublishedPage {
        items,
        total,
        page,
        per_page: PER_PAGE,
    }))
}
