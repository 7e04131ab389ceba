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
use crate::call::directory::TransferFailed;
use crate::cases::Role;
use crate::routing::TransferRefused;

/// Body of a transfer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// A queue name (`530000`, `532900-bai`) or a number with an area code (`087212345`).
    pub to: String,
}

/// `POST /api/calls/{call_id}/transfer`: 202 with where the caller went.
pub async fn transfer(
    State(state): State<ApiState>,
    user: Caller,
    Path(call_id): Path<String>,
    JsonBody(body): JsonBody<TransferBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden(
            "calls are transferred by the platform's operators",
        ));
    }
    let to = body.to.trim().to_string();
    if to.is_empty() {
        return Err(ApiError::invalid(
            "to",
            "a queue (530000) or a number with an area code (087212345)",
        ));
    }
    let snap = state
        .queue
        .snapshot()
        .await
        .ok_or_else(|| ApiError::internal("the ACD is not running"))?;
    let platform = match snap.connected.iter().find(|c| c.call == call_id) {
        Some(c) => c.platform.clone(),
        None => {
            let waiting = snap
                .waiting
                .iter()
                .find(|w| w.call == call_id && user.may_see(&w.platform, None));
            return Err(match waiting {
                Some(_) => {
                    ApiError::conflict("the caller is waiting, not talking with an operator")
                }
                None => ApiError::not_found(format!("no call {call_id} with an operator")),
            });
        }
    };
    if !user.may_see(&platform, None) {
        return Err(ApiError::not_found(format!(
            "no call {call_id} with an operator"
        )));
    }
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
