//! The exchange format between platforms that run their own systems and the provincial
//! platform: one case as versioned JSON, with its calls, its history and its attachments'
//! metadata. Export is a read; import is idempotent by case number (the same record twice
//! changes nothing) and refuses a malformed record, or one that conflicts with the stored case,
//! without touching stored data.
//!
//! ```json
//! {"format": "hotline12345.case", "version": 1,
//!  "case": {"case_number": "530100-20261125-000001", "platform": "530100", "caller": "…",
//!           "state": "signed", "category": "complaint", "topic": "…", "unit": "kmhb", …},
//!  "calls": [{"sip_call_id": "…", "started_at": "…", …}],
//!  "history": [{"at": "…", "actor_role": "operator", "actor_id": "op1", "event": "dispatch",
//!               "from": "accepted", "to": "dispatched", "note": "kmhb"}],
//!  "attachments": [{"kind": "voicemail", "name": "….wav", "at": "…", "duration_ms": 4200,
//!                   "size_bytes": 67244, "sha256": "…"}]}
//! ```

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::db::query;
use super::workflow::insert_history;
use super::{Store, StoreError};
use crate::cases::workflow::{event_name, Actor, CaseState, HistoryEntry, Role};
use crate::cases::{Category, OutOfScope};

/// The format's name.
pub const FORMAT: &str = "hotline12345.case";
/// The format's version.
pub const VERSION: u32 = 1;

/// One case for exchange.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaseRecord {
    pub format: String,
    pub version: u32,
    pub case: CaseData,
    pub calls: Vec<CallData>,
    pub history: Vec<HistoryData>,
    pub attachments: Vec<AttachmentData>,
}

/// The case itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaseData {
    pub case_number: String,
    pub platform: String,
    pub caller: String,
    pub created_at: DateTime<Utc>,
    pub state: String,
    pub category: Option<String>,
    pub topic: String,
    pub unit: Option<String>,
    pub out_of_scope: Option<String>,
    pub legal_days: Option<i64>,
    pub extensions: i64,
    pub dispatch_due: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    pub return_until: Option<DateTime<Utc>>,
    pub handle_due: Option<DateTime<Utc>>,
    pub provisional: bool,
    pub callback_status: Option<String>,
}

/// A call of the case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CallData {
    pub sip_call_id: String,
    pub caller: String,
    pub called: String,
    pub platform: String,
    pub route_reason: String,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub end_cause: Option<String>,
}

/// One history entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HistoryData {
    pub at: DateTime<Utc>,
    pub actor_role: String,
    pub actor_id: String,
    pub actor_unit: Option<String>,
    pub event: String,
    pub from: String,
    pub to: String,
    pub note: String,
}

/// An attachment's metadata (the file stays where it was made).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AttachmentData {
    pub kind: String,
    pub name: String,
    pub at: DateTime<Utc>,
    pub duration_ms: Option<i64>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Imported {
    /// A new case was stored.
    Created,
    /// The same case was already stored: nothing changed.
    Unchanged,
}

/// Times are kept to the millisecond, as stored.
fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

impl CaseRecord {
    /// Checks everything that can be checked without the database; names the field at fault.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |field: &str, why: String| Err((field.to_string(), why));
        if self.format != FORMAT || self.version != VERSION {
            return bad("format", format!("expected {FORMAT} version {VERSION}"));
        }
        let c = &self.case;
        let parts: Vec<&str> = c.case_number.split('-').collect();
        let number_ok = parts.len() == 3
            && parts[0] == c.platform
            && parts[1].len() == 8
            && parts[2].len() >= 6
            && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if !number_ok {
            return bad(
                "case.case_number",
                format!("{:?} is not PLATFORM-YYYYMMDD-NNNNNN", c.case_number),
            );
        }
        if CaseState::parse(&c.state).is_none() {
            return bad("case.state", format!("unknown state {:?}", c.state));
        }
        if let Some(cat) = &c.category {
            if Category::parse(cat).is_none() {
                return bad("case.category", format!("unknown category {cat:?}"));
            }
        }
        if let Some(r) = &c.out_of_scope {
            if OutOfScope::parse(r).is_none() {
                return bad("case.out_of_scope", format!("unknown reason {r:?}"));
            }
        }
        if !(0..=2).contains(&c.extensions) {
            return bad("case.extensions", "at most two extensions".into());
        }
        for (i, h) in self.history.iter().enumerate() {
            let field = |f: &str| format!("history[{i}].{f}");
            if Role::parse(&h.actor_role).is_none() {
                return bad(
                    &field("actor_role"),
                    format!("unknown role {:?}", h.actor_role),
                );
            }
            if event_name(&h.event).is_none() {
                return bad(&field("event"), format!("unknown event {:?}", h.event));
            }
            for (f, s) in [("from", &h.from), ("to", &h.to)] {
                if CaseState::parse(s).is_none() {
                    return bad(&field(f), format!("unknown state {s:?}"));
                }
            }
        }
        let mut ids: Vec<&str> = self.calls.iter().map(|c| c.sip_call_id.as_str()).collect();
        ids.sort();
        if ids.windows(2).any(|w| w[0] == w[1]) || ids.iter().any(|i| i.is_empty()) {
            return bad("calls", "call ids must be present and unique".into());
        }
        Ok(())
    }

    /// The record with every time cut to the millisecond (what the store keeps).
    fn normalized(mut self) -> CaseRecord {
        let c = &mut self.case;
        c.created_at = ms(c.created_at);
        for d in [
            &mut c.dispatch_due,
            &mut c.sign_due,
            &mut c.return_until,
            &mut c.handle_due,
        ] {
            *d = d.map(ms);
        }
        for call in &mut self.calls {
            call.started_at = ms(call.started_at);
            call.answered_at = call.answered_at.map(ms);
            call.ended_at = call.ended_at.map(ms);
        }
        for h in &mut self.history {
            h.at = ms(h.at);
        }
        for a in &mut self.attachments {
            a.at = ms(a.at);
        }
        self
    }
}

impl Store {
    /// The exchange record of a case.
    pub async fn export_case(&self, number: &str) -> Result<Option<CaseRecord>, StoreError> {
        let Some(stored) = self.load_case(number).await? else {
            return Ok(None);
        };
        let view = self
            .case_by_number(number)
            .await?
            .ok_or_else(|| StoreError::NotFound(number.to_string()))?;
        let c = &stored.case;
        let mut attachments: Vec<AttachmentData> = view
            .voicemails
            .iter()
            .filter(|v| v.status != "recording")
            .map(|v| AttachmentData {
                kind: "voicemail".into(),
                name: v.file.rsplit('/').next().unwrap_or(&v.file).to_string(),
                at: v.started_at,
                duration_ms: v.duration_ms,
                size_bytes: v.size_bytes,
                sha256: v.sha256.clone(),
            })
            .collect();
        let rows = query(
            "SELECT kind, name, at, duration_ms, size_bytes, sha256 FROM case_attachments WHERE case_id = $1 ORDER BY id",
        )
        .bind(stored.id)
        .fetch_all(self.pool())
        .await?;
        for r in rows {
            attachments.push(AttachmentData {
                kind: r.try_get(0)?,
                name: r.try_get(1)?,
                at: r.time(2)?,
                duration_ms: r.try_get(3)?,
                size_bytes: r.try_get(4)?,
                sha256: r.try_get(5)?,
            });
        }
        Ok(Some(CaseRecord {
            format: FORMAT.into(),
            version: VERSION,
            case: CaseData {
                case_number: c.case_number.clone(),
                platform: c.platform.clone(),
                caller: stored.caller.clone(),
                created_at: stored.created_at,
                state: c.state.as_str().into(),
                category: c.category.map(|x| x.as_str().into()),
                topic: c.topic.clone(),
                unit: c.unit.clone(),
                out_of_scope: c.out_of_scope.map(|x| x.as_str().into()),
                legal_days: c.legal_days.map(i64::from),
                extensions: c.extensions as i64,
                dispatch_due: c.deadlines.dispatch.map(|d| d.at),
                sign_due: c.deadlines.sign.map(|d| d.at),
                return_until: c.deadlines.return_until.map(|d| d.at),
                handle_due: c.deadlines.handle.map(|d| d.at),
                provisional: c.deadlines.provisional(),
                callback_status: stored.callback_status.clone(),
            },
            calls: view
                .calls
                .iter()
                .map(|k| CallData {
                    sip_call_id: k.sip_call_id.clone(),
                    caller: k.caller.clone(),
                    called: k.called.clone(),
                    platform: k.platform.clone(),
                    route_reason: k.route_reason.clone(),
                    started_at: k.started_at,
                    answered_at: k.answered_at,
                    ended_at: k.ended_at,
                    duration_ms: k.duration_ms,
                    end_cause: k.end_cause.clone(),
                })
                .collect(),
            history: c
                .history
                .iter()
                .map(|h| HistoryData {
                    at: h.at,
                    actor_role: h.actor.role.as_str().into(),
                    actor_id: h.actor.id.clone(),
                    actor_unit: h.actor.unit.clone(),
                    event: h.event.into(),
                    from: h.from.as_str().into(),
                    to: h.to.as_str().into(),
                    note: h.note.clone(),
                })
                .collect(),
            attachments,
        }))
    }

    /// Imports a record: Created, Unchanged (the same record again), or an error that changed
    /// nothing (`Invalid` for a malformed record, `Conflict` when it differs from the stored case).
    pub async fn import_case(&self, record: CaseRecord) -> Result<Imported, StoreError> {
        record
            .validate()
            .map_err(|(field, why)| StoreError::Invalid { field, why })?;
        let record = record.normalized();
        if let Some(existing) = self.export_case(&record.case.case_number).await? {
            return if existing == record {
                Ok(Imported::Unchanged)
            } else {
                Err(StoreError::Conflict(format!(
                    "case {} is stored with other contents",
                    record.case.case_number
                )))
            };
        }
        self.write(move |conn| {
            Box::pin(async move {
                let c = &record.case;
                let case_id: i64 = query(
                    "INSERT INTO cases (case_number, platform, caller, state, created_at, callback_status, category, \
                     topic, unit, out_of_scope, legal_days, extensions, dispatch_due, sign_due, return_until, \
                     handle_due, provisional, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
                )
                .bind(&c.case_number)
                .bind(&c.platform)
                .bind(&c.caller)
                .bind(&c.state)
                .bind(c.created_at)
                .bind(c.callback_status.clone())
                .bind(c.category.clone())
                .bind(&c.topic)
                .bind(c.unit.clone())
                .bind(c.out_of_scope.clone())
                .bind(c.legal_days)
                .bind(c.extensions)
                .bind(c.dispatch_due)
                .bind(c.sign_due)
                .bind(c.return_until)
                .bind(c.handle_due)
                .bind(c.provisional as i64)
                .bind(Utc::now())
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| StoreError::from_write(e, format!("case {}", c.case_number)))?
                .try_get(0)?;
                // Keep local numbering clear of the imported number.
                let mut parts = c.case_number.split('-');
                let (platform, day, seq) = (parts.next(), parts.next(), parts.next());
                if let (Some(p), Some(d), Some(Ok(n))) = (platform, day, seq.map(str::parse::<i64>)) {
                    query(
                        "INSERT INTO case_counters (platform, day, last) VALUES ($1, $2, $3) \
                         ON CONFLICT (platform, day) DO UPDATE SET last = CASE WHEN case_counters.last > $3 \
                         THEN case_counters.last ELSE $3 END",
                    )
                    .bind(p)
                    .bind(d)
                    .bind(n)
                    .execute(&mut *conn)
                    .await?;
                }
                for k in &record.calls {
                    query(
                        "INSERT INTO calls (case_id, sip_call_id, caller, called, platform, route_reason, started_at, \
                         answered_at, ended_at, duration_ms, end_cause) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(case_id)
                    .bind(&k.sip_call_id)
                    .bind(&k.caller)
                    .bind(&k.called)
                    .bind(&k.platform)
                    .bind(&k.route_reason)
                    .bind(k.started_at)
                    .bind(k.answered_at)
                    .bind(k.ended_at)
                    .bind(k.duration_ms)
                    .bind(k.end_cause.clone())
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| StoreError::from_write(e, format!("call {}", k.sip_call_id)))?;
                }
                for h in &record.history {
                    let entry = HistoryEntry {
                        at: h.at,
                        actor: Actor {
                            role: Role::parse(&h.actor_role).expect("validated"),
                            id: h.actor_id.clone(),
                            unit: h.actor_unit.clone(),
                        },
                        event: event_name(&h.event).expect("validated"),
                        from: CaseState::parse(&h.from).expect("validated"),
                        to: CaseState::parse(&h.to).expect("validated"),
                        note: h.note.clone(),
                    };
                    insert_history(conn, case_id, &entry).await?;
                }
                for a in &record.attachments {
                    query(
                        "INSERT INTO case_attachments (case_id, kind, name, at, duration_ms, size_bytes, sha256) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(case_id)
                    .bind(&a.kind)
                    .bind(&a.name)
                    .bind(a.at)
                    .bind(a.duration_ms)
                    .bind(a.size_bytes)
                    .bind(a.sha256.clone())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(Imported::Created)
            })
        })
        .await
    }
}
