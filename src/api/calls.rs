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
