//! `GET /api/agents?platform=`: the operator seats of the platforms the user sees, with their
//! registered contacts and how long each still holds.

use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::ApiState;
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
