//! The queue log and call recordings.

pub use super::model::CaseCallbackAttempt;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::case_of_call;
use super::db::query;
use super::{Conn, Store, StoreError};
use crate::acd::QueueLogEntry;

/// A stored queue-log row.
#[derive(Debug, Clone, Serialize)]
pub struct QueueLogRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub queue: String,
    pub call_id: String,
    pub agent: Option<String>,
    pub event: String,
    pub detail: serde_json::Value,
}

/// A recording of one side of an answered call.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingView {
    pub id: i64,
    pub case_number: String,
    pub sip_call_id: String,
    pub agent_call_id: String,
    pub agent: String,
    /// `caller` or `agent`.
    pub side: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: Option<i64>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    #[serde(skip)]
    pub file: String,
}

impl Store {
    /// Appends queue-log entries.
    pub async fn log_queue(&self, entries: Vec<QueueLogEntry>) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                for e in &entries {
                    let json = serde_json::to_value(e).unwrap_or_default();
                    let event = json["event"].as_str().unwrap_or("").to_string();
                    query(
                        "INSERT INTO queue_log (at, queue, call_id, agent, event, detail) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(e.at)
                    .bind(&e.queue)
                    .bind(&e.call)
                    .bind(e.agent.clone())
                    .bind(event)
                    .bind(json.to_string())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The queue-log entries from `from` until before `until`, oldest first, as the ACD wrote
    /// them (for the KPIs); an entry that cannot be read is logged and left out.
    pub async fn queue_log_between(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<QueueLogEntry>, StoreError> {
        let rows = query("SELECT detail FROM queue_log WHERE at >= $1 AND at < $2 ORDER BY id")
            .bind(from)
            .bind(until)
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let text: String = r.try_get(0)?;
            match serde_json::from_str(&text) {
                Ok(entry) => out.push(entry),
                Err(e) => tracing::error!(error = %e, "unreadable queue-log entry left out"),
            }
        }
        Ok(out)
    }

    /// The newest queue-log rows of a queue (or all), newest first.
    pub async fn queue_log(
        &self,
        queue: Option<&str>,
        platform: Option<&str>,
        limit: i64,
    ) -> Result<Vec<QueueLogRow>, StoreError> {
        // A platform's queues are named by its code, or the code, `-` and a word.
        let rows = query(
            "SELECT id, at, queue, call_id, agent, event, detail FROM queue_log \
             WHERE ($1 = '' OR queue = $1) AND ($2 = '' OR queue = $2 OR queue LIKE $3) \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(queue.unwrap_or(""))
        .bind(platform.unwrap_or(""))
        .bind(format!("{}-%", platform.unwrap_or("")))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueLogRow {
                    id: r.try_get(0)?,
                    at: r.time(1)?,
                    queue: r.try_get(2)?,
                    call_id: r.try_get(3)?,
                    agent: r.try_get(4)?,
                    event: r.try_get(5)?,
                    detail: serde_json::from_str(&r.try_get::<String, _>(6)?).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Records that a side of a call is being recorded to `file`; returns the row id.
    pub async fn start_recording(
        &self,
        sip_call_id: &str,
        agent_call_id: &str,
        agent: &str,
        side: &str,
        file: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let v = [sip_call_id, agent_call_id, agent, side, file].map(String::from);
        self.write(move |conn| {
            Box::pin(async move {
                let case_id = case_of_call(conn, &v[0]).await?;
                let id: i64 = query(
                    "INSERT INTO recordings (case_id, sip_call_id, agent_call_id, agent, side, file, status, started_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'recording', $7) RETURNING id",
                )
                .bind(case_id)
                .bind(&v[0])
                .bind(&v[1])
                .bind(&v[2])
                .bind(&v[3])
                .bind(&v[4])
                .bind(at)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
                Ok(id)
            })
        })
        .await
    }

    /// A recording is sealed on disk.
    pub async fn finish_recording(
        &self,
        id: i64,
        duration_ms: i64,
        size: i64,
        sha256: &str,
    ) -> Result<(), StoreError> {
        let q = query(
            "UPDATE recordings SET status = 'complete', duration_ms = $1, size_bytes = $2, sha256 = $3 WHERE id = $4",
        );
        self.write_query(q.bind(duration_ms).bind(size).bind(sha256).bind(id))
            .await?;
        Ok(())
    }

    /// The recordings of a case.
    pub async fn recordings_of_case(
        &self,
        case_number: &str,
    ) -> Result<Vec<RecordingView>, StoreError> {
        let rows = query(
            "SELECT r.id, c.case_number, r.sip_call_id, r.agent_call_id, r.agent, r.side, r.status, r.started_at, \
             r.duration_ms, r.size_bytes, r.sha256, r.file FROM recordings r JOIN cases c ON c.id = r.case_id \
             WHERE c.case_number = $1 ORDER BY r.id",
        )
        .bind(case_number)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecordingView {
                    id: r.try_get(0)?,
                    case_number: r.try_get(1)?,
                    sip_call_id: r.try_get(2)?,
                    agent_call_id: r.try_get(3)?,
                    agent: r.try_get(4)?,
                    side: r.try_get(5)?,
                    status: r.try_get(6)?,
                    started_at: r.time(7)?,
                    duration_ms: r.try_get(8)?,
                    size_bytes: r.try_get(9)?,
                    sha256: r.try_get(10)?,
                    file: r.try_get(11)?,
                })
            })
            .collect()
    }
}

/// A caller owed a callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackView {
    pub case_number: String,
    pub platform: String,
    pub caller: String,
    /// `voicemail` or `abandoned`.
    pub reason: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
    pub attempts: i64,
    /// `awaiting` or `done`.
    pub status: String,
}

impl Store {
    /// The caller of `sip_call_id` hung up while waiting: their case is owed a callback.
    pub async fn request_callback(
        &self,
        sip_call_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = query(
            "UPDATE cases SET callback_status = 'awaiting', callback_reason = $1, callback_requested_at = $2 \
             WHERE id = (SELECT case_id FROM calls WHERE sip_call_id = $3) AND callback_status IS NULL",
        );
        self.write_query(q.bind(reason).bind(at).bind(sip_call_id))
            .await?;
        Ok(())
    }

    /// Cases owed a callback, oldest first.
    pub async fn callbacks(
        &self,
        platform: Option<&str>,
        status: &str,
    ) -> Result<Vec<CallbackView>, StoreError> {
        let rows = query(
            "SELECT case_number, platform, caller, callback_reason, callback_requested_at, callback_attempts, \
             callback_status FROM cases WHERE callback_status = $1 AND ($2 = '' OR platform = $2) \
             ORDER BY COALESCE(callback_requested_at, created_at), id",
        )
        .bind(status)
        .bind(platform.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CallbackView {
                    case_number: r.try_get(0)?,
                    platform: r.try_get(1)?,
                    caller: r.try_get(2)?,
                    reason: r.try_get(3)?,
                    requested_at: r.time_opt(4)?,
                    attempts: r.try_get(5)?,
                    status: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// One callback attempt on a case owed one, by `operator` at `at`; a reached caller ends
    /// the wait. [`StoreError::Conflict`] when the case is not awaiting a callback.
    pub async fn case_callback_attempt(
        &self,
        case_number: &str,
        reached: bool,
        operator: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let v = [case_number, operator, note].map(String::from);
        self.write(move |conn| {
            Box::pin(async move {
                let case_id: Option<i64> = query(
                    "UPDATE cases SET callback_attempts = callback_attempts + 1, \
                     callback_status = CASE WHEN $1 = 1 THEN 'done' ELSE callback_status END \
                     WHERE case_number = $2 AND callback_status = 'awaiting' RETURNING id",
                )
                .bind(reached as i64)
                .bind(&v[0])
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
                let Some(case_id) = case_id else {
                    return Err(StoreError::Conflict(format!(
                        "case {} is not awaiting a callback",
                        v[0]
                    )));
                };
                let attempt = Attempt {
                    reached,
                    operator: &v[1],
                    note: &v[2],
                    call: None,
                    kind: "missed",
                };
                insert_attempt(conn, case_id, at, attempt).await
            })
        })
        .await
    }

    /// The callback attempts on a case, oldest first.
    pub async fn case_callback_attempts(
        &self,
        case_number: &str,
    ) -> Result<Vec<CaseCallbackAttempt>, StoreError> {
        let rows = query(
            "SELECT a.at, a.reached, a.operator, a.note, a.sip_call_id, a.outcome, a.kind FROM case_callback_attempts a \
             JOIN cases c ON c.id = a.case_id WHERE c.case_number = $1 ORDER BY a.id",
        )
        .bind(case_number)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseCallbackAttempt {
                    at: r.time(0)?,
                    reached: r.try_get::<i64, _>(1)? == 1,
                    operator: r.try_get(2)?,
                    note: r.try_get(3)?,
                    sip_call_id: r.try_get(4)?,
                    outcome: r.try_get(5)?,
                    kind: r.try_get(6)?,
                })
            })
            .collect()
    }
}

/// A stored change of a seat's state.
#[derive(Debug, Clone, Serialize)]
pub struct AgentStateRow {
    pub at: DateTime<Utc>,
    pub agent: String,
    pub state: String,
    pub reason: Option<String>,
}

impl Store {
    /// Appends seats' state changes.
    pub async fn log_agent_states(
        &self,
        changes: Vec<crate::acd::engine::AgentStateChange>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                for c in &changes {
                    let reason = match &c.state {
                        crate::acd::AgentState::NotReady(r) => Some(r.clone()),
                        _ => None,
                    };
                    query("INSERT INTO agent_states (at, agent, platform, state, reason) VALUES ($1, $2, $3, $4, $5)")
                        .bind(c.at)
                        .bind(&c.agent)
                        .bind(&c.platform)
                        .bind(c.state.as_str())
                        .bind(reason)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// A seat's state changes, oldest first.
    pub async fn agent_states(&self, agent: &str) -> Result<Vec<AgentStateRow>, StoreError> {
        let rows = query(
            "SELECT at, agent, state, reason FROM agent_states WHERE agent = $1 ORDER BY at, id",
        )
        .bind(agent)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AgentStateRow {
                    at: r.time(0)?,
                    agent: r.try_get(1)?,
                    state: r.try_get(2)?,
                    reason: r.try_get(3)?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Recordings a crash interrupted: (id, file).
    pub async fn interrupted_recordings(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = query("SELECT id, file FROM recordings WHERE status = 'recording' ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

/// One callback attempt to store: by hand (no call) or by phone (its call and outcome).
pub(crate) struct Attempt<'a> {
    pub reached: bool,
    pub operator: &'a str,
    pub note: &'a str,
    /// The call placed and its outcome, for an attempt by phone.
    pub call: Option<(&'a str, &'a str)>,
    /// `missed`, `voicemail` or `return-visit`.
    pub kind: &'a str,
}

/// Stores one callback attempt on the case `case_id`.
pub(crate) async fn insert_attempt(
    conn: &mut Conn,
    case_id: i64,
    at: DateTime<Utc>,
    attempt: Attempt<'_>,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO case_callback_attempts (case_id, at, reached, operator, note, sip_call_id, outcome, kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(case_id)
    .bind(at)
    .bind(attempt.reached as i64)
    .bind(attempt.operator)
    .bind(attempt.note)
    .bind(attempt.call.map(|(id, _)| id))
    .bind(attempt.call.map(|(_, outcome)| outcome))
    .bind(attempt.kind)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
