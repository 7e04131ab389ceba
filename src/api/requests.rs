//! What staff do with written requests: the list of those awaiting an operator
//! (`GET /api/requests/awaiting`), write to the requester from the console
//! (`POST /api/cases/{n}/messages`), see what went out and its delivery
//! (`GET /api/outbox`), an attachment (`GET /api/cases/{n}/attachments/{sha256}`),
//! and the first-answer figures per channel (`GET /api/statistics/answers`).

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::cases::Role;
use crate::intake::answer::answered_in_time;
use crate::intake::Channel;
use crate::store::requests::{AwaitingRequest, OutboxEntry};

/// An operator's message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    pub text: String,
}

/// What was queued.
#[derive(Debug, Serialize)]
pub struct Queued {
    pub channel: Channel,
    pub recipient: String,
}

/// The longest message an operator may write (an SMS of 10 parts).
pub const MAX_MESSAGE: usize = 600;

/// `POST /api/cases/{n}/messages`: writes to the requester on the case's channel (mail, or SMS
/// to the mobile that wrote); the first one is the case's first answer.
pub async fn send(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<MessageBody>,
) -> Result<Json<Queued>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("units reply through the workflow"));
    }
    super::workflow::visible_case(&state, &user, &number).await?;
    let text = body.text.trim();
    if text.is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    if text.chars().count() > MAX_MESSAGE {
        return Err(ApiError::invalid(
            "text",
            format!("at most {MAX_MESSAGE} characters"),
        ));
    }
    match state.intake.send_message(&number, text, Utc::now()).await {
        Ok(Some(notice)) => Ok(Json(Queued {
            channel: notice.out.channel,
            recipient: notice.out.recipient,
        })),
        Ok(None) => Err(ApiError::conflict(
            "the case's requester cannot be written to (a call without a mobile, no mail relay or SMS centre configured)",
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// Query of the awaiting list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwaitingQuery {
    pub platform: Option<String>,
}

/// `GET /api/requests/awaiting?platform=`: mail, SMS, web, app and official-account requests
/// no operator has taken further yet, the most urgent (the earliest answer due) first; an
/// operator sees their platform's.
pub async fn awaiting(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<AwaitingQuery>,
) -> Result<Json<Vec<AwaitingRequest>>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("requests are taken by the platform"));
    }
    let platform = user.narrow_platform(q.platform)?;
    Ok(Json(
        state
            .store
            .written_awaiting(platform.as_deref())
            .await
            .map_err(ApiError::internal)?,
    ))
}

/// Query of the outbox.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    pub case: Option<String>,
}

/// `GET /api/outbox?case=`: the latest 200 mail and SMS (supervisors), or a case's.
pub async fn outbox(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Vec<OutboxEntry>>, ApiError> {
    match &q.case {
        Some(n) => {
            super::workflow::visible_case(&state, &user, n).await?;
        }
        None if user.user.role != Role::Supervisor => {
            return Err(ApiError::forbidden("the whole outbox is for supervisors"))
        }
        None => {}
    }
    let mut entries = state
        .store
        .outbox(q.case.as_deref(), 200)
        .await
        .map_err(ApiError::internal)?;
    if user.user.role == Role::Unit {
        // Codes and other requesters' messages are not a unit's business.
        entries.retain(|e| e.kind == "reminder");
    }
    Ok(Json(entries))
}

/// `GET /api/cases/{n}/attachments/{sha256}`: a file a request came with.
pub async fn attachment(
    State(state): State<ApiState>,
    user: Caller,
    Path((number, sha)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    super::workflow::visible_case(&state, &user, &number).await?;
    let messages = state
        .store
        .messages_of(&number)
        .await
        .map_err(ApiError::internal)?;
    let file = messages
        .iter()
        .flat_map(|m| &m.attachments)
        .find(|a| a.sha256 == sha)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no attachment {sha} on case {number}")))?;
    let bytes = tokio::fs::read(state.data_dir.join(&file.path))
        .await
        .map_err(ApiError::internal)?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        file.file_name
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// Query of the answer figures.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswersQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub platform: Option<String>,
}

/// The first-answer figures of one channel.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct ChannelAnswers {
    pub channel: String,
    pub name_zh: String,
    /// Requests that came in.
    pub requests: u64,
    /// First answered by their due time.
    pub in_time: u64,
    /// Answered late, or unanswered past their due time.
    pub late: u64,
    /// Not yet answered and still within their time.
    pub pending: u64,
    /// in_time / (in_time + late); None when nothing is judged yet.
    pub in_time_share: Option<f64>,
    /// The mean time to the first answer, in seconds, of those answered.
    pub mean_answer_secs: Option<f64>,
    /// The longest a request may wait (GB/T 33358), in seconds.
    pub target_secs: i64,
}

/// `GET /api/statistics/answers?from=&to=&platform=`: per written channel, how many requests
/// were first answered within the standard's time (3 minutes for SMS, web, app and official
/// account; 24 hours for mail). The default window is today (China Standard Time).
pub async fn answers(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<AnswersQuery>,
) -> Result<Json<Vec<ChannelAnswers>>, ApiError> {
    if user.user.role == Role::Unit {
        return Err(ApiError::forbidden("figures are for the platform"));
    }
    let platform = user.narrow_platform(q.platform)?;
    let now = Utc::now();
    let from = q.from.unwrap_or_else(|| state.start_of_today());
    let to = q.to.unwrap_or(now);
    if to <= from {
        return Err(ApiError::invalid("to", "must be after from"));
    }
    let facts = state
        .store
        .answer_facts(from, to)
        .await
        .map_err(ApiError::internal)?;
    let mut out = Vec::new();
    for channel in Channel::ALL.into_iter().filter(|c| *c != Channel::Phone) {
        let mut row = ChannelAnswers {
            channel: channel.as_str().into(),
            name_zh: channel.name_zh().into(),
            target_secs: crate::intake::answer::answer_within(channel)
                .map_or(0, |d| d.num_seconds()),
            ..ChannelAnswers::default()
        };
        let mut waits = Vec::new();
        for f in facts.iter().filter(|f| f.channel == channel.as_str()) {
            if platform.as_ref().is_some_and(|p| p != &f.platform) {
                continue;
            }
            row.requests += 1;
            match answered_in_time(f.answer_due, f.first_answer_at, now) {
                Some(true) => row.in_time += 1,
                Some(false) => row.late += 1,
                None => row.pending += 1,
            }
            if let Some(at) = f.first_answer_at {
                waits.push((at - f.created_at).num_milliseconds() as f64 / 1000.0);
            }
        }
        let judged = row.in_time + row.late;
        row.in_time_share = (judged > 0).then(|| row.in_time as f64 / judged as f64);
        row.mean_answer_secs =
            (!waits.is_empty()).then(|| waits.iter().sum::<f64>() / waits.len() as f64);
        out.push(row);
    }
    Ok(Json(out))
}
