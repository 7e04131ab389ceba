//! Live queues and their history: `GET /api/queues` (waiting calls with their waits, seats by
//! state), `GET /api/queue-log?queue=532900-bai&platform=530100&limit=100` (newest first; a
//! platform's events are those of all its queues), and the recordings of a
//! case: `GET /api/cases/{n}/recordings`, `GET /api/recordings/{case}/{id}/audio`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::call::queue::QueueSnapshot;
use crate::cases::Role;
use crate::dialplan::queues::platform_of_queue;
use crate::store::queue::{QueueLogRow, RecordingView};

fn platform_staff(user: &Caller) -> Result<(), ApiError> {
    if user.user.role == Role::Unit {
        Err(ApiError::forbidden("queues are the platform's"))
    } else {
        Ok(())
    }
}

/// The live state, limited to the user's platform.
pub async fn live(
    State(state): State<ApiState>,
    user: Caller,
) -> Result<Json<QueueSnapshot>, ApiError> {
    platform_staff(&user)?;
    let scope = user.narrow_platform(None)?;
    let mut snap = state
        .queue
        .snapshot()
        .await
        .ok_or_else(|| ApiError::internal("the ACD is not running"))?;
    if let Some(p) = scope {
        snap.waiting.retain(|w| w.platform == p);
        snap.connected.retain(|c| c.platform == p);
        snap.agents.retain(|a| a.platform == p);
    }
    Ok(Json(snap))
}

/// Query of the queue log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// One queue, by name (`530100`, `532900-bai`).
    pub queue: Option<String>,
    /// Every queue of a platform.
    pub platform: Option<String>,
    pub limit: Option<i64>,
}

/// The queue log, newest first.
pub async fn log(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<LogQuery>,
) -> Result<Json<Vec<QueueLogRow>>, ApiError> {
    platform_staff(&user)?;
    let of_queue = q.queue.as_deref().map(platform_of_queue);
    let asked = match (q.platform, of_queue) {
        (Some(p), Some(owner)) if p != owner => {
            return Err(ApiError::invalid(
                "queue",
                format!(
                    "queue {} is not a queue of platform {p}",
                    q.queue.unwrap_or_default()
                ),
            ))
        }
        (Some(p), _) => Some(p),
        (None, owner) => owner.map(str::to_string),
    };
    let platform = user.narrow_platform(asked)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "1 to 1000"));
    }
    state
        .store
        .queue_log(q.queue.as_deref(), platform.as_deref(), limit)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// The recordings of a case.
pub async fn recordings(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
) -> Result<Json<Vec<RecordingView>>, ApiError> {
    platform_staff(&user)?;
    super::workflow::visible_case(&state, &user, &number).await?;
    state
        .store
        .recordings_of_case(&number)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// One recording's audio (WAV).
pub async fn audio(
    State(state): State<ApiState>,
    user: Caller,
    Path((number, id)): Path<(String, i64)>,
) -> Result<impl IntoResponse, ApiError> {
    platform_staff(&user)?;
    super::workflow::visible_case(&state, &user, &number).await?;
    let rec = state
        .store
        .recordings_of_case(&number)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no recording {id} on case {number}")))?;
    if rec.status != "complete" {
        return Err(ApiError::conflict("the call is still being recorded"));
    }
    let bytes = tokio::fs::read(state.data_dir.join(&rec.file))
        .await
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes))
}

/// Query of the callback list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbacksQuery {
    pub platform: Option<String>,
    /// `awaiting` (default) or `done`.
    pub status: Option<String>,
}

/// `GET /api/callbacks`: callers owed a callback (voice messages and abandoned waits), oldest
/// first.
pub async fn callbacks(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<CallbacksQuery>,
) -> Result<Json<Vec<crate::store::queue::CallbackView>>, ApiError> {
    platform_staff(&user)?;
    let platform = user.narrow_platform(q.platform)?;
    let status = q.status.unwrap_or_else(|| "awaiting".into());
    if status != "awaiting" && status != "done" {
        return Err(ApiError::invalid("status", "awaiting or done"));
    }
    state
        .store
        .callbacks(platform.as_deref(), &status)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// Body of a callback attempt on a case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    /// Whether the caller was reached.
    pub reached: bool,
    /// Who called back (default: the user of the token).
    pub operator: Option<String>,
    /// What was said, or why it failed.
    #[serde(default)]
    pub note: String,
}

/// `POST /api/callbacks/{case_number}/attempts` `{"reached": true, "note": "…"}`.
pub async fn attempt(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<AttemptBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    platform_staff(&user)?;
    if body
        .operator
        .as_deref()
        .is_some_and(|o| o.trim().is_empty() || o.len() > 64)
    {
        return Err(ApiError::invalid("operator", "1 to 64 characters"));
    }
    if body.note.len() > 2000 {
        return Err(ApiError::invalid("note", "at most 2000 bytes"));
    }
    super::workflow::visible_case(&state, &user, &number).await?;
    match state
        .store
        .case_callback_attempt(
            &number,
            body.reached,
            body.operator.as_deref().unwrap_or(&user.user.id),
            &body.note,
            chrono::Utc::now(),
        )
        .await
    {
        Ok(()) => Ok(Json(
            serde_json::json!({ "case_number": number, "reached": body.reached }),
        )),
        Err(crate::store::StoreError::Conflict(m)) => Err(ApiError::conflict(m)),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// Query of the KPIs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiQuery {
    /// RFC 3339; default: today's midnight in China Standard Time.
    pub from: Option<String>,
    /// RFC 3339; default: now.
    pub to: Option<String>,
    /// `today` or `last-hour` instead of from and to.
    pub period: Option<String>,
}

/// The KPIs of a period with the figures of this moment and the period's seat occupancy.
#[derive(Debug, serde::Serialize)]
pub struct KpiView {
    #[serde(flatten)]
    pub report: crate::kpi::KpiReport,
    /// Seats' occupancy over the period (to now at the latest), of the user's platforms.
    pub occupancy: Option<f64>,
    /// Now: callers waiting, the longest wait, seats by state, occupancy.
    pub live: crate::kpi::live::LiveFigures,
    /// Callers owed a callback now (voice messages and abandoned waits).
    pub missed_not_called_back: usize,
    pub targets: crate::kpi::live::KpiTargets,
}

/// The occupancy of the seats of `platform` (all when None) over `[from, until)`: see
/// [`crate::kpi::occupancy`].
pub(super) async fn seat_occupancy(
    state: &ApiState,
    from: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    platform: Option<&str>,
) -> Result<Option<f64>, ApiError> {
    let plan = state.dialplan.current();
    let rows = state
        .store
        .seat_states_between(from, until)
        .await
        .map_err(ApiError::internal)?;
    let changes: Vec<_> = rows
        .iter()
        .filter(|r| {
            platform.is_none_or(|p| {
                plan.seats
                    .iter()
                    .any(|s| s.id == r.agent && s.platform == p)
            })
        })
        .map(|r| crate::kpi::occupancy::SeatChange {
            at: r.at,
            seat: &r.agent,
            state: &r.state,
        })
        .collect();
    Ok(crate::kpi::occupancy::occupancy(&changes, from, until)
        .1
        .occupancy)
}

/// A call's events are read up to this long after the period, for the calls that entered in
/// it (the longest a call may last by default).
const AFTER_PERIOD: chrono::Duration = chrono::Duration::hours(2);

/// `GET /api/kpis?from=&to=`: the standard's call figures of the period ([`crate::kpi`]) per
/// queue and platform, and province-wide for the provincial platform's supervisors.
pub async fn kpis(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<KpiQuery>,
) -> Result<Json<KpiView>, ApiError> {
    platform_staff(&user)?;
    let time = |field: &'static str, v: &str| {
        chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| ApiError::invalid(field, format!("{v:?} is not RFC 3339: {e}")))
    };
    let now = chrono::Utc::now();
    let (from, to) = match (q.period.as_deref(), &q.from, &q.to) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ApiError::invalid(
                "period",
                "a period or from and to, not both",
            ))
        }
        (Some("today"), ..) => (state.start_of_today(), now),
        (Some("last-hour"), ..) => (now - chrono::Duration::hours(1), now),
        (Some(other), ..) => {
            return Err(ApiError::invalid(
                "period",
                format!("{other:?} is not today or last-hour"),
            ))
        }
        (None, from, to) => (
            match from.as_deref() {
                Some(v) => time("from", v)?,
                None => state.start_of_today(),
            },
            to.as_deref()
                .map(|v| time("to", v))
                .transpose()?
                .unwrap_or(now),
        ),
    };
    if to <= from {
        return Err(ApiError::invalid("to", "the period ends after it begins"));
    }
    let log = state
        .store
        .queue_log_between(from, to + AFTER_PERIOD)
        .await
        .map_err(ApiError::internal)?;
    let mut report = crate::kpi::report(
        &log,
        from,
        to,
        &state.dialplan.current().kpi.rules,
        |queue| Some(crate::dialplan::queues::platform_of_queue(queue).to_string()),
    );
    // Another platform's figures are not this user's to see.
    if let Some(scope) = user.platform_scope() {
        report
            .queues
            .retain(|queue, _| crate::dialplan::queues::platform_of_queue(queue) == scope);
        report.platforms.retain(|p, _| *p == scope);
        report.province = Default::default();
    }
    let scope = user.platform_scope();
    let plan = state.dialplan.current();
    let mine = |p: &str| scope.as_deref().is_none_or(|s| s == p);
    let snap = state
        .queue
        .snapshot()
        .await
        .ok_or_else(|| ApiError::internal("the ACD is not running"))?;
    let live = crate::kpi::live::live(
        snap.waiting
            .iter()
            .filter(|w| mine(&w.platform))
            .map(|w| w.waiting_ms),
        snap.agents
            .iter()
            .filter(|a| mine(&a.platform))
            .map(|a| a.state.as_str()),
    );
    let occupancy = seat_occupancy(&state, from, to.min(now).max(from), scope.as_deref()).await?;
    let missed_not_called_back = state
        .store
        .callbacks(scope.as_deref(), "awaiting")
        .await
        .map_err(ApiError::internal)?
        .len();
    Ok(Json(KpiView {
        report,
        occupancy,
        live,
        missed_not_called_back,
        targets: plan.kpi.targets,
    }))
}
