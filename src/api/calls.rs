//! Calls in progress: `POST /api/calls/{call_id}/transfer` `{"to": "530000"}` hands a caller
//! who is talking with an operator on to another queue (a queue name, or a number with an area
//! code such as `087212345`), by the same rule as an operator's SIP REFER: a prefecture hands
//! calls up to the province, only the province passes them on to another prefecture. The
//! operator's leg is hung up and the caller waits in the new queue; a call handed to the
//! province takes its case along. Find a call's id in `GET /api/queues` (`connected`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::call::directory::{HoldFailed, TransferFailed};
use crate::call::signal::CallRequest;
use crate::cases::Role;
use crate::routing::TransferRefused;

/// Body of a transfer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// A queue name (`530000`, `532900-bai`) or a number with an area code (`087212345`).
    pub to: String,
}

/// The call `call_id` talking with an operator, as far as `user` may act on it: a call of the
/// user's platform, and for a console session a call of its own seat.
async fn connected_call(
    state: &ApiState,
    user: &Caller,
    call_id: &str,
) -> Result<crate::acd::engine::ConnectedView, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden(
            "calls are handled by the platform's operators",
        ));
    }
    let snap = state
        .queue
        .snapshot()
        .await
        .ok_or_else(|| ApiError::internal("the ACD is not running"))?;
    let not_found = || ApiError::not_found(format!("no call {call_id} with an operator"));
    match snap.connected.into_iter().find(|c| c.call == call_id) {
        Some(c) if !user.may_see(&c.platform, None) => Err(not_found()),
        Some(c)
            if user
                .console_seat
                .as_ref()
                .is_some_and(|own| *own != c.agent) =>
        {
            Err(ApiError::forbidden(
                "a console session acts on its own seat's call only",
            ))
        }
        Some(c) => Ok(c),
        None => {
            let waiting = snap
                .waiting
                .iter()
                .any(|w| w.call == call_id && user.may_see(&w.platform, None));
            Err(if waiting {
                ApiError::conflict("the caller is waiting, not talking with an operator")
            } else {
                not_found()
            })
        }
    }
}

/// Body of a hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// True to hold the caller, false to take them back.
    pub on: bool,
}

/// `POST /api/calls/{call_id}/hold`: the caller hears hold music and neither side hears the
/// other (`{"on": true}`), or they talk again (`{"on": false}`); 200 with `held`.
pub async fn hold(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
    JsonBody(body): JsonBody<HoldBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    connected_call(&state, &user, &call_id).await?;
    match state.calls.hold(&call_id, body.on).await {
        Ok(held) => Ok(Json(
            serde_json::json!({ "call_id": call_id, "held": held }),
        )),
        Err(HoldFailed::NoCall) => Err(ApiError::not_found(format!("no call {call_id}"))),
        Err(HoldFailed::NotTaken) => Err(ApiError::conflict("the call has ended")),
        Err(HoldFailed::Refused(why)) => Err(ApiError::conflict(why)),
        Err(HoldFailed::NoAnswer) => Err(ApiError::conflict(
            "the caller is no longer talking with an operator",
        )),
    }
}

/// `POST /api/calls/{call_id}/transfer`: 202 with where the caller went.
pub async fn transfer(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
    JsonBody(body): JsonBody<TransferBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let to = body.to.trim().to_string();
    if to.is_empty() {
        return Err(ApiError::invalid(
            "to",
            "a queue (530000) or a number with an area code (087212345)",
        ));
    }
    connected_call(&state, &user, &call_id).await?;
    match state.calls.transfer(&call_id, &to, user.actor()).await {
        Ok(target) => Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({
                "call_id": call_id,
                "queue": target.queue,
                "platform": target.platform,
            })),
        )),
        Err(TransferFailed::NoCall) => Err(ApiError::not_found(format!("no call {call_id}"))),
        Err(TransferFailed::NotTaken) => Err(ApiError::conflict("the call has ended")),
        Err(TransferFailed::Refused(refused @ TransferRefused::UnknownTarget(_))) => {
            Err(ApiError::invalid("to", refused.to_string()))
        }
        Err(TransferFailed::Refused(refused @ TransferRefused::AcrossPrefectures { .. })) => {
            Err(ApiError::forbidden(refused.to_string()))
        }
        Err(TransferFailed::Refused(refused)) => Err(ApiError::conflict(refused.to_string())),
        Err(TransferFailed::NoAnswer) => Err(ApiError::conflict(
            "the caller is no longer talking with an operator",
        )),
    }
}

/// Body of a hand-over to another hotline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandOverBody {
    /// The hotline's number in hotlines.toml (`110`, `12315`).
    pub to: String,
    /// A three-party call (the operator stays until they leave); false: blind.
    #[serde(default)]
    pub three_party: bool,
    /// The matter is also the hotline's own: the case stays open (else it closes as not
    /// accepted, the other hotline named).
    #[serde(default)]
    pub also_ours: bool,
}

/// Body of a consultation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultBody {
    /// A colleague's seat (`1002`), or a queue (its longest-idle free seat).
    pub to: String,
}

/// Body of a supervisor joining a call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorBody {
    /// `listen`, `whisper` or `barge`.
    pub mode: crate::call::signal::MonitorMode,
    /// The phone to ring (a seat of agents.toml); the supervisor's own `seat` by default.
    #[serde(default)]
    pub seat: Option<String>,
}

/// Sends a request to a call and turns its answer into a response.
async fn ask(
    state: &ApiState,
    user: &Caller,
    call_id: &str,
    request: CallRequest,
) -> Result<Json<serde_json::Value>, ApiError> {
    use crate::call::directory::RequestFailed;
    match state.calls.request(call_id, request, user.actor()).await {
        Ok(done) => Ok(Json(
            serde_json::json!({ "call_id": call_id, "done": done }),
        )),
        Err(RequestFailed::NoCall) => Err(ApiError::not_found(format!("no call {call_id}"))),
        Err(RequestFailed::NotTaken) => Err(ApiError::conflict("the call has ended")),
        Err(RequestFailed::Refused(why)) => Err(ApiError::conflict(why)),
        Err(RequestFailed::NoAnswer) => Err(ApiError::conflict(
            "the caller is no longer talking with an operator",
        )),
    }
}

/// Sends a request to a call talking with an operator that `user` may act on.
async fn ask_connected(
    state: &ApiState,
    user: &Caller,
    call_id: &str,
    request: CallRequest,
) -> Result<Json<serde_json::Value>, ApiError> {
    connected_call(state, user, call_id).await?;
    ask(state, user, call_id, request).await
}

/// `POST /api/calls/{call_id}/handover` `{"to": "110", "three_party": true}`: hands the caller
/// to another hotline of hotlines.toml, blind or in a three-party call; 200 with what was done
/// (`handing over`, `dialling`). Follow it with `GET /api/calls/{call_id}`.
pub async fn hand_over(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
    JsonBody(body): JsonBody<HandOverBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let to = body.to.trim().to_string();
    if state.dialplan.current().hotlines.get(&to).is_none() {
        return Err(ApiError::invalid(
            "to",
            format!("no hotline {to:?} in hotlines.toml"),
        ));
    }
    let request = CallRequest::HandOver {
        number: to,
        three_party: body.three_party,
        also_ours: body.also_ours,
    };
    ask_connected(&state, &user, &call_id, request).await
}

/// `POST /api/calls/{call_id}/leave`: the operator leaves a three-party call once the other
/// hotline answered; the caller stays with it.
pub async fn leave(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    ask_connected(&state, &user, &call_id, CallRequest::Leave).await
}

/// `POST /api/calls/{call_id}/consult` `{"to": "1002"}`: the caller holds while the operator
/// consults a colleague (a seat, or a queue's free seat).
pub async fn consult(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
    JsonBody(body): JsonBody<ConsultBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let to = body.to.trim().to_string();
    let plan = state.dialplan.current();
    if !plan.seats.iter().any(|s| s.id == to && s.takes_calls) && plan.queues.get(&to).is_none() {
        return Err(ApiError::invalid(
            "to",
            format!("{to:?} is neither a seat nor a queue"),
        ));
    }
    let c = connected_call(&state, &user, &call_id).await?;
    if c.agent == to {
        return Err(ApiError::invalid(
            "to",
            "an operator does not consult themselves",
        ));
    }
    ask(&state, &user, &call_id, CallRequest::Consult { to }).await
}

/// `POST /api/calls/{call_id}/consult/complete`: the colleague consulted takes the caller.
pub async fn consult_complete(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    ask_connected(&state, &user, &call_id, CallRequest::CompleteConsult).await
}

/// `POST /api/calls/{call_id}/consult/cancel`: the consultation ends, the caller is back.
pub async fn consult_cancel(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    ask_connected(&state, &user, &call_id, CallRequest::CancelConsult).await
}

/// `POST /api/calls/{call_id}/monitor` `{"mode": "listen"}` (supervisors): the supervisor's
/// phone rings, and once answered they listen (heard by none), whisper (heard by the operator
/// only) or barge in (heard by both); the same again with another mode switches. Each start,
/// change and stop is on the case's audit.
pub async fn monitor(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
    JsonBody(body): JsonBody<MonitorBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if user.user.role != Role::Supervisor {
        return Err(ApiError::forbidden("only supervisors listen in on calls"));
    }
    let seat = body
        .seat
        .or_else(|| user.user.seat.clone())
        .ok_or_else(|| {
            ApiError::invalid(
                "seat",
                "give a phone to ring: this supervisor has no seat in users.toml",
            )
        })?;
    if !state.dialplan.current().seats.iter().any(|s| s.id == seat) {
        return Err(ApiError::invalid(
            "seat",
            format!("seat {seat} is not in agents.toml"),
        ));
    }
    let request = CallRequest::Monitor {
        mode: body.mode,
        seat,
    };
    ask_connected(&state, &user, &call_id, request).await
}

/// `DELETE /api/calls/{call_id}/monitor` (supervisors): the supervisor leaves the call.
pub async fn stop_monitor(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if user.user.role != Role::Supervisor {
        return Err(ApiError::forbidden("only supervisors listen in on calls"));
    }
    ask_connected(&state, &user, &call_id, CallRequest::StopMonitor).await
}

/// `GET /api/calls/{call_id}`: a call in progress: its case, phase and who is in it besides
/// the caller (the operator, another hotline, a colleague consulted, a supervisor), each
/// ringing or up.
pub async fn describe(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
) -> Result<Json<crate::call::signal::CallDescription>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden(
            "calls are handled by the platform's operators",
        ));
    }
    let not_found = || ApiError::not_found(format!("no call {call_id} in progress"));
    let call = state.calls.describe(&call_id).await.ok_or_else(not_found)?;
    let case = state
        .store
        .case_by_number(&call.case_number)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    if !user.may_see(&case.platform, None) {
        return Err(not_found());
    }
    Ok(Json(call))
}
