//! `GET /api/agents?platform=`: the operator seats of the platforms the user sees, with their
//! registered contacts and how long each still holds.

use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::cases::Role;

/// Query of the seat list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsQuery {
    pub platform: Option<String>,
}

/// One seat.
#[derive(Debug, Serialize)]
pub struct AgentView {
    pub id: String,
    pub platform: String,
    pub skills: std::collections::BTreeMap<String, u8>,
    pub max_calls: u32,
    pub registered: bool,
    pub contacts: Vec<ContactView>,
}

/// A registered contact.
#[derive(Debug, Serialize)]
pub struct ContactView {
    pub contact: String,
    pub expires_in_s: i64,
    pub source: String,
}

/// The list.
pub async fn list(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<AgentsQuery>,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("seats are the platform's"));
    }
    let platform = user.narrow_platform(q.platform)?;
    let plan = state.dialplan.current();
    let now = Utc::now().timestamp();
    Ok(Json(
        plan.seats
            .iter()
            .filter(|s| platform.as_ref().is_none_or(|p| *p == s.platform))
            .map(|s| {
                let contacts: Vec<ContactView> = state
                    .registrar
                    .contacts(&s.id)
                    .into_iter()
                    .map(|b| ContactView {
                        contact: b.contact,
                        expires_in_s: b.expires_at - now,
                        source: b.source.to_string(),
                    })
                    .collect();
                AgentView {
                    id: s.id.clone(),
                    platform: s.platform.clone(),
                    skills: s.skills.clone(),
                    max_calls: s.max_calls,
                    registered: !contacts.is_empty(),
                    contacts,
                }
            })
            .collect(),
    ))
}

/// Body of a state change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    /// `available`, `not-ready` or `logged-out`.
    pub state: String,
    /// Why not ready (break, training, …).
    pub reason: Option<String>,
}

/// The seat `id`, which a console session may `act` on only when it is its own.
fn own_seat(
    state: &ApiState,
    user: &Caller,
    id: &str,
    act: &str,
) -> Result<crate::dialplan::Seat, ApiError> {
    let seat = seat_of(state, user, id)?;
    if user
        .console_seat
        .as_ref()
        .is_some_and(|own| *own != seat.id)
    {
        return Err(ApiError::forbidden(format!(
            "a console session {act} its own seat only"
        )));
    }
    Ok(seat)
}

fn seat_of(state: &ApiState, user: &Caller, id: &str) -> Result<crate::dialplan::Seat, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("seats are the platform's"));
    }
    state
        .dialplan
        .current()
        .seats
        .iter()
        .find(|s| s.id == id && user.may_see(&s.platform, None))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no seat {id}")))
}

/// `POST /api/agents/{id}/state`: sets a seat available, not ready (with a reason), or logged
/// out. Answered 202: the ACD applies it in order with the calls.
pub async fn set_state(
    State(state): State<ApiState>,
    user: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    JsonBody(body): JsonBody<StateBody>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    let seat = own_seat(&state, &user, &id, "changes the state of")?;
    let agent = seat.id.clone();
    let event = match body.state.as_str() {
        "available" => crate::acd::AcdEvent::Ready { agent },
        "not-ready" => crate::acd::AcdEvent::NotReady {
            agent,
            reason: body
                .reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| ApiError::invalid("reason", "a not-ready seat gives a reason"))?,
        },
        "logged-out" => crate::acd::AcdEvent::Logout { agent },
        other => {
            return Err(ApiError::invalid(
                "state",
                format!("{other:?} is not available, not-ready or logged-out"),
            ))
        }
    };
    state.queue.event(event);
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(serde_json::json!({ "agent": seat.id, "state": body.state })),
    ))
}

/// `GET /api/agents/{id}/states`: every change of the seat's state, oldest first.
pub async fn states(
    State(state): State<ApiState>,
    user: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Vec<crate::store::queue::AgentStateRow>>, ApiError> {
    let seat = seat_of(&state, &user, &id)?;
    state
        .store
        .agent_states(&seat.id)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// Query of a seat's cases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatCasesQuery {
    /// RFC 3339; default: the start of today in China Standard Time.
    pub since: Option<String>,
}

/// `GET /api/agents/{id}/cases`: the cases whose calls the seat answered since a time (today
/// by default), the latest first: a console's "my cases today" and its count.
pub async fn cases(
    State(state): State<ApiState>,
    user: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<SeatCasesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let seat = own_seat(&state, &user, &id, "reads the cases of")?;
    let since = match q.since {
        Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .map_err(|e| ApiError::invalid("since", format!("{s:?} is not RFC 3339: {e}")))?
            .with_timezone(&chrono::Utc),
        None => state.start_of_today(),
    };
    let cases = state
        .store
        .cases_answered_by(&seat.id, since)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(serde_json::json!({ "since": since, "cases": cases })))
}
