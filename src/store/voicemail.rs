//! Voice messages and their callbacks.
//!
//! A message's row is written (status `recording`) before recording starts, so a crash
//! mid-message leaves a row that [`Store::recording_voicemails`] finds at the next start, and
//! the `.part` file is recovered. A finished message marks its case's callback `awaiting`
//! (with a callback deadline on the message) until a callback reaches the caller (`done`);
//! each attempt is recorded.

pub use super::model::VoicemailView;
use chrono::{DateTime, Utc};

use super::db::{query, DbRow};
use super::{Store, StoreError};

/// What a finished recording measured.
#[derive(Debug, Clone)]
pub struct FinishedVoicemail {
    pub duration_ms: i64,
    pub size_bytes: i64,
    pub sha256: String,
    pub callback_due: DateTime<Utc>,
}

const SELECT: &str = "SELECT v.id, c.case_number, v.sip_call_id, v.platform, v.caller, v.status, \
    v.started_at, v.duration_ms, v.size_bytes, v.sha256, v.callback_due, v.attempts, \
    v.last_attempt_at, v.last_outcome, v.file FROM voicemails v JOIN cases c ON c.id = v.case_id";

fn view(row: &DbRow) -> Result<VoicemailView, StoreError> {
    Ok(VoicemailView {
        id: row.try_get(0)?,
        case_number: row.try_get(1)?,
        sip_call_id: row.try_get(2)?,
        platform: row.try_get(3)?,
        caller: row.try_get(4)?,
        status: row.try_get(5)?,
        started_at: row.time(6)?,
        duration_ms: row.try_get(7)?,
        size_bytes: row.try_get(8)?,
        sha256: row.try_get(9)?,
        callback_due: row.time_opt(10)?,
        attempts: row.try_get::<i64, _>(11)?,
        last_attempt_at: row.time_opt(12)?,
        last_outcome: row.try_get(13)?,
        file: row.try_get(14)?,
    })
}

impl Store {
    /// Records that a message from the call `sip_call_id` starts, to `file`; returns its id.
    pub async fn start_voicemail(
        &self,
        sip_call_id: &str,
        file: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let (id, file) = (sip_call_id.to_string(), file.to_string());
        self.write(move |conn| {
            Box::pin(async move {
                let row = query("SELECT case_id, platform, caller FROM calls WHERE sip_call_id = $1")
                    .bind(&id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("call {id}")))?;
                let case_id: i64 = row.try_get(0)?;
                let platform: String = row.try_get(1)?;
                let caller: String = row.try_get(2)?;
                let vm: i64 = query(
                    "INSERT INTO voicemails (case_id, sip_call_id, platform, caller, file, status, started_at) \
                     VALUES ($1, $2, $3, $4, $5, 'recording', $6) RETURNING id",
                )
                .bind(case_id)
                .bind(&id)
                .bind(&platform)
                .bind(&caller)
                .bind(&file)
                .bind(at)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
                Ok(vm)
            })
        })
        .await
    }

    /// A message is complete and durable on disk: it awaits its callback, and so does its case.
    pub async fn finish_voicemail(
        &self,
        id: i64,
        done: FinishedVoicemail,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                query(
                    "UPDATE voicemails SET status = 'awaiting-callback', duration_ms = $1, size_bytes = $2, \
                     sha256 = $3, callback_due = $4 WHERE id = $5",
                )
                .bind(done.duration_ms)
                .bind(done.size_bytes)
                .bind(&done.sha256)
                .bind(done.callback_due)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                query(
                    "UPDATE cases SET callback_status = 'awaiting', callback_reason = 'voicemail', \
                     callback_requested_at = COALESCE(callback_requested_at, (SELECT started_at FROM voicemails WHERE id = $1)) \
                     WHERE id = (SELECT case_id FROM voicemails WHERE id = $1)",
                )
                .bind(id)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Forgets a message that held nothing (the caller said nothing): no record remains.
    pub async fn discard_voicemail(&self, id: i64) -> Result<(), StoreError> {
        self.write_query(query("DELETE FROM voicemails WHERE id = $1").bind(id))
            .await?;
        Ok(())
    }

    /// Messages whose recording a crash interrupted: (id, file, platform, started_at).
    pub async fn recording_voicemails(&self) -> Result<Vec<VoicemailView>, StoreError> {
        let rows = query(&format!(
            "{SELECT} WHERE v.status = 'recording' ORDER BY v.id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(view).collect()
    }

    /// Messages, oldest first, filtered by platform and status.
    pub async fn voicemails(
        &self,
        platform: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<VoicemailView>, StoreError> {
        let sql = format!(
            "{SELECT} WHERE ($1 = '' OR v.platform = $1) AND ($2 = '' OR v.status = $2) \
             ORDER BY v.started_at, v.id"
        );
        let rows = query(&sql)
            .bind(platform.unwrap_or(""))
            .bind(status.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(view).collect()
    }

    /// One message.
    pub async fn voicemail(&self, id: i64) -> Result<Option<VoicemailView>, StoreError> {
        let row = query(&format!("{SELECT} WHERE v.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(view).transpose()
    }

    /// The messages of a case, oldest first.
    pub async fn voicemails_of_case(
        &self,
        case_number: &str,
    ) -> Result<Vec<VoicemailView>, StoreError> {
        let rows = query(&format!("{SELECT} WHERE c.case_number = $1 ORDER BY v.id"))
            .bind(case_number)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(view).collect()
    }

    /// Records a callback attempt; a reached caller ends the wait. Only messages awaiting a
    /// callback can be called back.
    pub async fn record_callback(
        &self,
        id: i64,
        reached: bool,
        operator: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<VoicemailView, StoreError> {
        let (operator, note) = (operator.to_string(), note.to_string());
        self.write(move |conn| {
            Box::pin(async move {
                let status: Option<String> = query("SELECT status FROM voicemails WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
                match status.as_deref() {
                    None => return Err(StoreError::NotFound(format!("voicemail {id}"))),
                    Some("awaiting-callback") => {}
                    Some(other) => {
                        return Err(StoreError::Conflict(format!("voicemail {id} is {other}")))
                    }
                }
                let outcome = if reached { "reached" } else { "not-reached" };
                query(
                    "INSERT INTO callback_attempts (voicemail_id, at, reached, operator, note) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(at)
                .bind(reached as i64)
                .bind(&operator)
                .bind(&note)
                .execute(&mut *conn)
                .await?;
                query(
                    "UPDATE voicemails SET attempts = attempts + 1, last_attempt_at = $1, last_outcome = $2, \
                     status = CASE WHEN $3 = 1 THEN 'called-back' ELSE status END WHERE id = $4",
                )
                .bind(at)
                .bind(outcome)
                .bind(reached as i64)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                if reached {
                    query(
                        "UPDATE cases SET callback_status = 'done' WHERE id = (SELECT case_id FROM voicemails WHERE id = $1)",
                    )
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                }
                let row = query(&format!("{SELECT} WHERE v.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
                view(&row)
            })
        })
        .await
    }
}
