//! What the hotline's own calls leave behind (issue 14): the calls it places (callbacks,
//! reminders) linked to their case, each callback attempt with its outcome, the callers'
//! ratings of calls and of the handling, the case's audit trail of what happened in its calls
//! (monitoring, hand-overs to other hotlines, consultations), and the phone reminders to units.

use chrono::{DateTime, Utc};

use super::case_of_call;
use super::db::query;
pub use super::model::{AuditEntry, ReminderView};
use super::queue::{insert_attempt, Attempt};
use super::{Store, StoreError};
use crate::cases::workflow::Actor;

/// A case owed a callback, with what the automatic list needs to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedCallback {
    pub case_number: String,
    pub platform: String,
    pub caller: String,
    /// `abandoned` or `voicemail`.
    pub reason: Option<String>,
    pub attempts: i64,
    pub last_attempt: Option<DateTime<Utc>>,
}

/// A dispatched case not yet signed, with its reminders so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedCase {
    pub case_number: String,
    pub platform: String,
    pub unit: String,
    /// When the unit must sign.
    pub sign_due: DateTime<Utc>,
    pub reminders: i64,
    pub last_reminder: Option<DateTime<Utc>>,
}

impl Store {
    /// A step for the audit trail of the case of call `sip_call_id`.
    pub async fn audit_call(
        &self,
        sip_call_id: &str,
        actor: &Actor,
        action: &str,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let v = [
            sip_call_id.to_string(),
            actor.role.as_str().to_string(),
            actor.id.clone(),
            action.to_string(),
            detail.to_string(),
        ];
        self.write(move |conn| {
            Box::pin(async move {
                let case_id = case_of_call(conn, &v[0]).await?;
                query(
                    "INSERT INTO case_audit (case_id, sip_call_id, at, actor_role, actor_id, action, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(case_id)
                .bind(&v[0])
                .bind(at)
                .bind(&v[1])
                .bind(&v[2])
                .bind(&v[3])
                .bind(&v[4])
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// A case's audit trail, oldest first.
    pub async fn case_audit(&self, case_number: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = query(
            "SELECT a.at, a.sip_call_id, a.actor_role, a.actor_id, a.action, a.detail FROM case_audit a \
             JOIN cases c ON c.id = a.case_id WHERE c.case_number = $1 ORDER BY a.id",
        )
        .bind(case_number)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.time(0)?,
                    sip_call_id: r.try_get(1)?,
                    actor_role: r.try_get(2)?,
                    actor_id: r.try_get(3)?,
                    action: r.try_get(4)?,
                    detail: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The caller's rating of call `sip_call_id` (1 to 3); a call is rated once.
    pub async fn rate_call(&self, sip_call_id: &str, rating: u8) -> Result<bool, StoreError> {
        let q = query("UPDATE calls SET rating = $1 WHERE sip_call_id = $2 AND rating IS NULL");
        Ok(self
            .write_query(q.bind(i64::from(rating)).bind(sip_call_id))
            .await?
            == 1)
    }

    /// The caller's rating of how the matter of `case_number` was handled (1 to 3), given on
    /// the return-visit callback; a matter is rated once.
    pub async fn rate_handling(&self, case_number: &str, rating: u8) -> Result<bool, StoreError> {
        let q = query(
            "UPDATE cases SET handling_rating = $1 WHERE case_number = $2 AND handling_rating IS NULL",
        );
        Ok(self
            .write_query(q.bind(i64::from(rating)).bind(case_number))
            .await?
            == 1)
    }

    /// The callers' ratings of the calls that entered in `[from, to)` (of `platform`, or
    /// all), by rating (`1` satisfied, `2` basically satisfied, `3` dissatisfied); calls
    /// answered by an operator and not rated count under `none`.
    pub async fn call_ratings(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        platform: Option<&str>,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let rows = query(
            "SELECT k.rating, COUNT(*) FROM calls k WHERE k.direction = 'in' \
             AND k.started_at >= $1 AND k.started_at < $2 AND ($3 = '' OR k.platform = $3) \
             AND (k.rating IS NOT NULL OR k.end_cause = 'agent-hangup') GROUP BY k.rating",
        )
        .bind(from)
        .bind(to)
        .bind(platform.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let mut out = std::collections::BTreeMap::new();
        for r in &rows {
            let rating: Option<i64> = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            let key = match rating {
                Some(1) => "satisfied",
                Some(2) => "basicallysatisfied",
                Some(3) => "dissatisfied",
                _ => "none",
            };
            *out.entry(key.to_string()).or_default() += n as u64;
        }
        Ok(out)
    }

    /// A call the hotline places about case `case_number` (a callback, a reminder), to
    /// `number`, stored with the case before it is dialled.
    pub async fn open_outbound_call(
        &self,
        case_number: &str,
        sip_call_id: &str,
        number: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let v = [case_number, sip_call_id, number, reason].map(String::from);
        self.write(move |conn| {
            Box::pin(async move {
                let row = query("SELECT id, platform FROM cases WHERE case_number = $1")
                    .bind(&v[0])
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("case {}", v[0])))?;
                let (case_id, platform): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
                query(
                    "INSERT INTO calls (case_id, sip_call_id, caller, called, platform, route_reason, \
                     started_at, direction) VALUES ($1, $2, '', $3, $4, $5, $6, 'out')",
                )
                .bind(case_id)
                .bind(&v[1])
                .bind(&v[2])
                .bind(&platform)
                .bind(&v[3])
                .bind(at)
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::from_write(e, format!("call {}", v[1])))?;
                Ok(())
            })
        })
        .await
    }

    /// One callback attempt by phone on `case_number`, by `operator`: its call and outcome
    /// (`reached`, `no-answer`, `busy`, `refused`, `failed`), and what it was for (`missed`,
    /// `voicemail`, `return-visit`). A reached caller ends the wait of a case owed a callback.
    pub async fn record_phone_callback(
        &self,
        case_number: &str,
        sip_call_id: &str,
        operator: &str,
        outcome: &str,
        kind: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let v = [case_number, sip_call_id, operator, outcome, kind].map(String::from);
        self.write(move |conn| {
            Box::pin(async move {
                let reached = v[3] == "reached";
                let case_id: i64 = query("SELECT id FROM cases WHERE case_number = $1")
                    .bind(&v[0])
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("case {}", v[0])))?
                    .try_get(0)?;
                query(
                    "UPDATE cases SET callback_attempts = callback_attempts + 1, \
                     callback_status = CASE WHEN $1 = 1 THEN 'done' ELSE callback_status END \
                     WHERE id = $2 AND callback_status = 'awaiting'",
                )
                .bind(reached as i64)
                .bind(case_id)
                .execute(&mut *conn)
                .await?;
                let note = format!("by phone: {}", v[3]);
                let attempt = Attempt {
                    reached,
                    operator: &v[2],
                    note: &note,
                    call: Some((&v[1], &v[3])),
                    kind: &v[4],
                };
                insert_attempt(conn, case_id, at, attempt).await
            })
        })
        .await
    }

    /// The caller of `caller` called again and reached an operator on `sip_call_id`: the
    /// callbacks still owed to them are done (they got through). Returns how many.
    pub async fn settle_callbacks_of(
        &self,
        caller: &str,
        sip_call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if caller.is_empty() {
            return Ok(0);
        }
        let v = [caller, sip_call_id].map(String::from);
        self.write(move |conn| {
            Box::pin(async move {
                let owed = query(
                    "SELECT id FROM cases WHERE caller = $1 AND callback_status = 'awaiting' \
                     AND id <> (SELECT case_id FROM calls WHERE sip_call_id = $2)",
                )
                .bind(&v[0])
                .bind(&v[1])
                .fetch_all(&mut *conn)
                .await?;
                for row in &owed {
                    let id: i64 = row.try_get(0)?;
                    query("UPDATE cases SET callback_status = 'done' WHERE id = $1")
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    query(
                        "INSERT INTO case_callback_attempts (case_id, at, reached, operator, note, sip_call_id, outcome, kind) \
                         VALUES ($1, $2, 1, '', 'the caller called again', $3, 'called-again', 'missed')",
                    )
                    .bind(id)
                    .bind(at)
                    .bind(&v[1])
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(owed.len() as u64)
            })
        })
        .await
    }

    /// Cases owed a callback, oldest first, with their attempts so far.
    pub async fn owed_callbacks(&self) -> Result<Vec<OwedCallback>, StoreError> {
        let rows = query(
            "SELECT c.case_number, c.platform, c.caller, c.callback_reason, c.callback_attempts, \
             (SELECT MAX(a.at) FROM case_callback_attempts a WHERE a.case_id = c.id) \
             FROM cases c WHERE c.callback_status = 'awaiting' \
             ORDER BY COALESCE(c.callback_requested_at, c.created_at), c.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OwedCallback {
                    case_number: r.try_get(0)?,
                    platform: r.try_get(1)?,
                    caller: r.try_get(2)?,
                    reason: r.try_get(3)?,
                    attempts: r.try_get(4)?,
                    last_attempt: r.time_opt(5)?,
                })
            })
            .collect()
    }

    /// Dispatched cases not yet signed, with the reminders made so far.
    pub async fn unsigned_cases(&self) -> Result<Vec<UnsignedCase>, StoreError> {
        let rows = query(
            "SELECT c.case_number, c.platform, c.unit, c.sign_due, \
             (SELECT COUNT(*) FROM reminders r WHERE r.case_id = c.id), \
             (SELECT MAX(r.at) FROM reminders r WHERE r.case_id = c.id) \
             FROM cases c WHERE c.state = 'dispatched' AND c.sign_due IS NOT NULL AND c.unit IS NOT NULL \
             ORDER BY c.sign_due, c.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UnsignedCase {
                    case_number: r.try_get(0)?,
                    platform: r.try_get(1)?,
                    unit: r.try_get(2)?,
                    sign_due: r.time(3)?,
                    reminders: r.try_get(4)?,
                    last_reminder: r.time_opt(5)?,
                })
            })
            .collect()
    }

    /// A reminder call about `case_number` to `unit`'s liaison at `number`, and its outcome.
    pub async fn record_reminder(
        &self,
        case_number: &str,
        unit: &str,
        number: &str,
        outcome: &str,
        sip_call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let v = [case_number, unit, number, outcome, sip_call_id].map(String::from);
        self.write(move |conn| {
            Box::pin(async move {
                let case_id: i64 = query("SELECT id FROM cases WHERE case_number = $1")
                    .bind(&v[0])
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("case {}", v[0])))?
                    .try_get(0)?;
                query(
                    "INSERT INTO reminders (case_id, unit, number, at, outcome, sip_call_id) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(case_id)
                .bind(&v[1])
                .bind(&v[2])
                .bind(at)
                .bind(&v[3])
                .bind(&v[4])
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The reminders about a case, oldest first.
    pub async fn reminders_of(&self, case_number: &str) -> Result<Vec<ReminderView>, StoreError> {
        let rows = query(
            "SELECT r.at, r.unit, r.number, r.outcome, r.sip_call_id FROM reminders r \
             JOIN cases c ON c.id = r.case_id WHERE c.case_number = $1 ORDER BY r.id",
        )
        .bind(case_number)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReminderView {
                    at: r.time(0)?,
                    unit: r.try_get(1)?,
                    number: r.try_get(2)?,
                    outcome: r.try_get(3)?,
                    sip_call_id: r.try_get(4)?,
                })
            })
            .collect()
    }
}
