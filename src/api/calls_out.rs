//! The hotline's own calls through the API: `POST /api/callbacks/{n}/call` calls a caller owed a
//! callback back (the operator's seat rings first, then the caller through the trunk),
//! `POST /api/cases/{n}/return-visit` calls the caller of a handled case back for the return
//! visit (回访: they rate the handling when the operator hangs up), and
//! `POST /api/cases/{n}/reminders` calls the liaison of the unit that has not signed the case.
//! Each answers 202 with the outbound call's id once it is placed; how it went lands on the
//! case (`GET /api/cases/{n}`: its calls, `callback_attempts`, `handling_rating`, `reminders`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::call::outbound::{self, CallbackKind, NotPlaced};
use crate::cases::Role;

/// Body of a callback.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallBody {
    /// The operator's seat that rings first; a console session's own seat, else a free seat
    /// of the case's platform.
    #[serde(default)]
    pub seat: Option<String>,
}

fn placed(
    result: Result<String, NotPlaced>,
    seat: Option<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    match result {
        Ok(call_id) => Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "call_id": call_id, "seat": seat })),
        )),
        Err(NotPlaced::NoCase(n)) => Err(ApiError::not_found(format!("no case {n}"))),
        Err(NotPlaced::Conflict(why)) => Err(ApiError::conflict(why)),
        Err(NotPlaced::Invalid(why)) => Err(ApiError::invalid("seat", why)),
        Err(NotPlaced::Store(e)) => Err(ApiError::internal(e)),
    }
}

/// The seat a callback rings: a console session's own; the one asked for (a seat of the
/// case's platform that takes calls); or None (a free seat).
fn seat_for(
    state: &ApiState,
    user: &Caller,
    asked: Option<String>,
    platform: &str,
) -> Result<Option<String>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("callbacks are the platform's"));
    }
    if let Some(own) = &user.console_seat {
        if asked.as_ref().is_some_and(|a| a != own) {
            return Err(ApiError::forbidden(
                "a console session calls back from its own seat",
            ));
        }
        return Ok(Some(own.clone()));
    }
    match asked {
        None => Ok(None),
        Some(seat) => {
            let plan = state.dialplan.current();
            if !plan
                .seats
                .iter()
                .any(|s| s.id == seat && s.platform == platform && s.takes_calls)
            {
                return Err(ApiError::invalid(
                    "seat",
                    format!("seat {seat} is not an operator seat of platform {platform}"),
                ));
            }
            Ok(Some(seat))
        }
    }
}

async fn call_back(
    state: &ApiState,
    user: &Caller,
    number: &str,
    body: CallBody,
    kind: CallbackKind,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let stored = super::workflow::visible_case(state, user, number).await?;
    let seat = seat_for(state, user, body.seat, &stored.case.platform)?;
    let result = outbound::call_back(&state.call_services, number, seat.as_deref(), kind).await;
    placed(result, seat)
}

/// `POST /api/callbacks/{case_number}/call` `{"seat": "1001"}`: calls back a caller owed a
/// callback (an abandoned wait, a voice message).
pub async fn missed(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<CallBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    call_back(&state, &user, &number, body, CallbackKind::Missed).await
}

/// `POST /api/cases/{case_number}/return-visit` `{"seat": "1001"}`: the return visit after the
/// unit replied; the caller rates the handling once the operator hangs up.
pub async fn return_visit(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<CallBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    call_back(&state, &user, &number, body, CallbackKind::ReturnVisit).await
}

/// `POST /api/cases/{case_number}/reminders`: calls the liaison of the unit that has not
/// signed the case (operators and supervisors of its platform).
pub async fn remind(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("reminders are the platform's"));
    }
    super::workflow::visible_case(&state, &user, &number).await?;
    placed(outbound::remind(&state.call_services, &number).await, None)
}

/// One other hotline, as the console lists it.
#[derive(Debug, serde::Serialize)]
pub struct HotlineView {
    pub number: String,
    pub name: String,
    pub emergency: bool,
}

/// `GET /api/hotlines`: the other hotlines of hotlines.toml a caller may be handed to
/// (the platform's staff).
pub async fn hotlines(
    State(state): State<ApiState>,
    user: Caller,
) -> Result<Json<Vec<HotlineView>>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("hand-overs are the platform's"));
    }
    let plan = state.dialplan.current();
    Ok(Json(
        plan.hotlines
            .hotlines
            .iter()
            .map(|h| HotlineView {
                number: h.number.clone(),
                name: h.name.clone(),
                emergency: h.emergency,
            })
            .collect(),
    ))
}
