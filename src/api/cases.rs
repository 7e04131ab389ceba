//! `GET /api/cases?caller=NUMBER` and `GET /api/cases/{case_number}`.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::state::ApiState;
use crate::routing::normalize_number;
use crate::store::CaseView;

/// Query of the case list.
#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    /// The caller's number in any written form (`+86…`, `0086…`, `0…`).
    pub caller: Option<String>,
}

/// A unit never learns the number of a caller who asked for confidentiality (GB/T 33358).
fn for_reader(user: &Caller, case: &crate::cases::Case, view: CaseView) -> CaseView {
    if user.user.role == crate::cases::Role::Unit && case.order.confidential {
        view.without_caller()
    } else {
        view
    }
}

/// Lists the cases of one caller, newest first.
pub async fn list_cases(
    State(state): State<ApiState>,
    caller_user: Caller,
    Query(query): Query<CaseQuery>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let raw = query
        .caller
        .ok_or_else(|| ApiError::invalid("caller", "the caller's number is required"))?;
    let caller = normalize_number(&raw)
        .ok_or_else(|| ApiError::invalid("caller", format!("{raw:?} is not a phone number")))?;
    let cases = state
        .store
        .cases_by_caller(&caller)
        .await
        .map_err(ApiError::internal)?;
    // A caller's cases, as far as this user may see them.
    let mut visible = Vec::new();
    for case in cases {
        let Some(stored) = state
            .store
            .load_case(&case.case_number)
            .await
            .map_err(ApiError::internal)?
        else {
            continue;
        };
        if caller_user.may_see(&case.platform, stored.case.unit.as_deref()) {
            visible.push(for_reader(&caller_user, &stored.case, case));
        }
    }
    Ok(Json(visible))
}

/// One case with its calls.
pub async fn get_case(
    State(state): State<ApiState>,
    caller_user: Caller,
    Path(case_number): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    // 404 for a case outside the user's reach, as for one that does not exist.
    let stored = super::workflow::visible_case(&state, &caller_user, &case_number).await?;
    state
        .store
        .case_by_number(&case_number)
        .await
        .map_err(ApiError::internal)?
        .map(|view| Json(for_reader(&caller_user, &stored.case, view)))
        .ok_or_else(|| ApiError::not_found(format!("no case {case_number}")))
}
