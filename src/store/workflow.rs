//! The case workflow's storage: a case as [`crate::cases::Case`] with its history, saved with
//! optimistic concurrency (a transition made on a stale copy is refused), listed with filters
//! and pages, and the facts statistics need.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::{query, Conn, DbRow, Value};
use super::{Store, StoreError};
use crate::calendar::Deadline;
use crate::cases::statistics::CaseFacts;
use crate::cases::workflow::{
    event_name, Actor, Case, CaseState, Deadlines, HistoryEntry, Role, Satisfaction,
};
use crate::cases::{Category, OutOfScope};

/// A stored case with what the workflow does not hold.
#[derive(Debug, Clone)]
pub struct StoredCase {
    pub id: i64,
    pub case: Case,
    pub caller: String,
    pub created_at: DateTime<Utc>,
    pub callback_status: Option<String>,
    /// Bumped by every transition (optimistic concurrency).
    pub version: i64,
}

impl StoredCase {
    /// Cases written by the call path carry no dispatch deadline yet: it follows from their
    /// creation time.
    pub fn with_dispatch_deadline(
        mut self,
        rules: &crate::calendar::DeadlineRules<'_>,
    ) -> StoredCase {
        if self.case.state == CaseState::Accepted && self.case.deadlines.dispatch.is_none() {
            self.case.deadlines.dispatch = Some(crate::cases::workflow::dispatch_deadline(
                self.created_at,
                rules,
            ));
        }
        self
    }
}

/// One row of a case list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseSummary {
    pub case_number: String,
    pub platform: String,
    pub caller: String,
    pub state: String,
    pub category: Option<String>,
    pub topic: String,
    pub unit: Option<String>,
    pub created_at: DateTime<Utc>,
    pub dispatch_due: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    /// A unit may return the case until then (24 hours after signing).
    pub return_until: Option<DateTime<Utc>>,
    pub handle_due: Option<DateTime<Utc>>,
    pub extensions: i64,
    /// A deadline depends on a year the holiday calendar lacks.
    pub provisional: bool,
    pub callback_status: Option<String>,
    /// The caller asked for confidentiality (a unit's list leaves out their number).
    pub confidential: bool,
    /// The work order's summary.
    pub summary: String,
}

/// Filters and page of a case list; empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub platform: Option<String>,
    pub unit: Option<String>,
    pub state: Option<String>,
    pub category: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only cases past the deadline of their open step at `now`.
    pub overdue_at: Option<DateTime<Utc>>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

const CASE_COLUMNS: &str = "id, case_number, platform, state, category, out_of_scope, unit, legal_days, \
    extensions, dispatch_due, sign_due, return_until, handle_due, provisional, caller, topic, created_at, \
    version, callback_status, work_order";

fn due(at: Option<DateTime<Utc>>, provisional: bool) -> Result<Option<Deadline>, StoreError> {
    Ok(at.map(|at| Deadline { at, provisional }))
}

/// Reads every row it can: a row that cannot be read (a value out of range, a broken text) is
/// logged and left out, so that one bad row never fails a whole list for everyone.
fn readable<T>(
    rows: &[DbRow],
    what: &str,
    read: impl Fn(&DbRow) -> Result<T, StoreError>,
) -> Vec<T> {
    rows.iter()
        .enumerate()
        .filter_map(|(i, row)| match read(row) {
            Ok(item) => Some(item),
            Err(e) => {
                tracing::error!(list = what, row = i, error = %e, "unreadable row left out");
                None
            }
        })
        .collect()
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn stored_case(row: &DbRow) -> Result<StoredCase, StoreError> {
    let provisional = row.try_get::<i64, _>(13)? != 0;
    let state: String = row.try_get(3)?;
    let category: Option<String> = row.try_get(4)?;
    let out_of_scope: Option<String> = row.try_get(5)?;
    Ok(StoredCase {
        id: row.try_get(0)?,
        case: Case {
            case_number: row.try_get(1)?,
            platform: row.try_get(2)?,
            state: CaseState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
            category: category
                .map(|c| Category::parse(&c).ok_or_else(|| corrupt("category", &c)))
                .transpose()?,
            out_of_scope: out_of_scope
                .map(|c| OutOfScope::parse(&c).ok_or_else(|| corrupt("reason", &c)))
                .transpose()?,
            unit: row.try_get(6)?,
            topic: row.try_get(15)?,
            order: match row.try_get::<Option<String>, _>(19)? {
                Some(json) => {
                    serde_json::from_str(&json).map_err(|_| corrupt("work order", &json))?
                }
                None => Default::default(),
            },
            legal_days: row.try_get::<Option<i64>, _>(7)?.map(|d| d as u32),
            extensions: row.try_get::<i64, _>(8)? as u32,
            deadlines: Deadlines {
                dispatch: due(row.time_opt(9)?, provisional)?,
                sign: due(row.time_opt(10)?, provisional)?,
                return_until: due(row.time_opt(11)?, provisional)?,
                handle: due(row.time_opt(12)?, provisional)?,
            },
            history: Vec::new(),
        },
        caller: row.try_get(14)?,
        created_at: row.time(16)?,
        version: row.try_get(17)?,
        callback_status: row.try_get(18)?,
    })
}

fn history_entry(row: &DbRow) -> Result<HistoryEntry, StoreError> {
    let role: String = row.try_get(1)?;
    let event: String = row.try_get(4)?;
    let from: String = row.try_get(5)?;
    let to: String = row.try_get(6)?;
    Ok(HistoryEntry {
        at: row.time(0)?,
        actor: Actor {
            role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
            id: row.try_get(2)?,
            unit: row.try_get(3)?,
        },
        event: event_name(&event).ok_or_else(|| corrupt("event", &event))?,
        from: CaseState::parse(&from).ok_or_else(|| corrupt("state", &from))?,
        to: CaseState::parse(&to).ok_or_else(|| corrupt("state", &to))?,
        note: row.try_get(7)?,
    })
}

fn at(d: Option<Deadline>) -> Option<DateTime<Utc>> {
    d.map(|d| d.at)
}

/// The states of a case still in the workflow (what the supervision lists walk), as SQL.
const OPEN_STATES: &str =
    "('accepted', 'returned', 'dispatched', 'signed', 'handling', 'extended')";

impl Store {
    /// A case with its whole history.
    pub async fn load_case(&self, case_number: &str) -> Result<Option<StoredCase>, StoreError> {
        let row = query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE case_number = $1"
        ))
        .bind(case_number)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut stored = stored_case(&row)?;
        let rows = query(
            "SELECT at, actor_role, actor_id, actor_unit, event, from_state, to_state, note \
             FROM case_history WHERE case_id = $1 ORDER BY id",
        )
        .bind(stored.id)
        .fetch_all(self.pool())
        .await?;
        stored.case.history = rows.iter().map(history_entry).collect::<Result<_, _>>()?;
        Ok(Some(stored))
    }

    /// Saves `after` (the case once a transition was applied to `before`) and appends its last
    /// history entry; refused with a conflict when the case changed since `before` was read.
    pub async fn save_transition(
        &self,
        before: &StoredCase,
        after: &Case,
    ) -> Result<(), StoreError> {
        self.save_transition_sending(before, after, Vec::new())
            .await
    }

    /// [`Store::save_transition`], queuing in the same commit the mail and SMS the step causes
    /// (the answer to the requester, the unit's reminder): a step saved is a notice owed.
    pub async fn save_transition_sending(
        &self,
        before: &StoredCase,
        after: &Case,
        notices: Vec<super::requests::Notice>,
    ) -> Result<(), StoreError> {
        let entry =
            after.history.last().cloned().ok_or_else(|| {
                StoreError::Corrupt("a transition without a history entry".into())
            })?;
        let (id, version) = (before.id, before.version);
        let c = after.clone();
        // A case published now is written to the public table, redacted, in the same commit.
        let public = (entry.event == "publish").then(|| {
            (
                crate::cases::publish::public_text(after, &before.caller),
                before.created_at,
            )
        });
        self.write(move |conn| {
            Box::pin(async move {
                let d = c.deadlines;
                let done = query(
                    "UPDATE cases SET state = $1, category = $2, out_of_scope = $3, unit = $4, legal_days = $5, \
                     extensions = $6, dispatch_due = $7, sign_due = $8, return_until = $9, handle_due = $10, \
                     provisional = $11, topic = $12, version = version + 1, updated_at = $13, platform = $16, \
                     work_order = $17 WHERE id = $14 AND version = $15",
                )
                .bind(c.state.as_str())
                .bind(c.category.map(|x| x.as_str()))
                .bind(c.out_of_scope.map(|x| x.as_str()))
                .bind(c.unit.clone())
                .bind(c.legal_days.map(i64::from))
                .bind(c.extensions as i64)
                .bind(at(d.dispatch))
                .bind(at(d.sign))
                .bind(at(d.return_until))
                .bind(at(d.handle))
                .bind(d.provisional() as i64)
                .bind(&c.topic)
                .bind(entry.at)
                .bind(id)
                .bind(version)
                .bind(&c.platform)
                .bind(serde_json::to_string(&c.order).ok())
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict(format!(
                        "case {} changed meanwhile; read it again",
                        c.case_number
                    )));
                }
                if let Some((text, created_at)) = &public {
                    super::board::insert_published(conn, id, &c, text, *created_at, entry.at)
                        .await?;
                }
                insert_history(conn, id, &entry).await?;
                for notice in &notices {
                    super::requests::queue_on_case_in(conn, Some(id), notice, entry.at).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// A page of cases, newest first, with the total matching.
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<(Vec<CaseSummary>, i64), StoreError> {
        let condition = "($1 = '' OR platform = $1) AND ($2 = '' OR unit = $2) AND ($3 = '' OR state = $3) \
            AND ($4 = '' OR category = $4) AND ($5 IS NULL OR created_at >= $5) AND ($6 IS NULL OR created_at < $6) \
            AND ($7 IS NULL OR (state IN ('accepted', 'returned') AND dispatch_due < $7) \
                 OR (state = 'dispatched' AND sign_due < $7) \
                 OR (state IN ('signed', 'handling', 'extended') AND handle_due < $7))";
        let binds: [Value; 7] = [
            f.platform.clone().unwrap_or_default().into(),
            f.unit.clone().unwrap_or_default().into(),
            f.state.clone().unwrap_or_default().into(),
            f.category.clone().unwrap_or_default().into(),
            f.from.into(),
            f.to.into(),
            f.overdue_at.into(),
        ];
        let count_sql = format!("SELECT COUNT(*) FROM cases WHERE {condition}");
        let mut count = query(&count_sql);
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total: i64 = count.fetch_one(self.pool()).await?.try_get(0)?;
        let per_page = f.per_page.clamp(1, 200) as i64;
        let offset = (f.page.max(1) as i64 - 1) * per_page;
        let list_sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9"
        );
        let mut list = query(&list_sql);
        for b in &binds {
            list = list.bind(b.clone());
        }
        let rows = list
            .bind(per_page)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        let items = readable(&rows, "cases", |row| {
            let s = stored_case(row)?;
            Ok(CaseSummary {
                case_number: s.case.case_number,
                platform: s.case.platform,
                caller: s.caller,
                state: s.case.state.as_str().to_string(),
                category: s.case.category.map(|c| c.as_str().to_string()),
                topic: s.case.topic,
                unit: s.case.unit,
                created_at: s.created_at,
                dispatch_due: s.case.deadlines.dispatch.map(|d| d.at),
                sign_due: s.case.deadlines.sign.map(|d| d.at),
                return_until: s.case.deadlines.return_until.map(|d| d.at),
                handle_due: s.case.deadlines.handle.map(|d| d.at),
                extensions: s.case.extensions as i64,
                provisional: s.case.deadlines.provisional(),
                callback_status: s.callback_status,
                confidential: s.case.order.confidential,
                summary: s.case.order.summary,
            })
        });
        Ok((items, total))
    }

    /// Cases whose open step has a deadline (for supervision), optionally of one platform/unit.
    pub async fn open_cases(
        &self,
        platform: Option<&str>,
        unit: Option<&str>,
    ) -> Result<Vec<StoredCase>, StoreError> {
        let rows = query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE state IN {OPEN_STATES} \
             AND ($1 = '' OR platform = $1) AND ($2 = '' OR unit = $2) ORDER BY id"
        ))
        .bind(platform.unwrap_or(""))
        .bind(unit.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        Ok(readable(&rows, "open cases", stored_case))
    }

    /// Open cases of `platform` (any when None) whose open step falls due before `until`,
    /// and those accepted on the call path whose dispatch deadline is not stored yet (it
    /// follows from their creation: [`StoredCase::with_dispatch_deadline`]).
    pub async fn open_cases_due(
        &self,
        platform: Option<&str>,
        until: DateTime<Utc>,
    ) -> Result<Vec<StoredCase>, StoreError> {
        let rows = query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE ($1 = '' OR platform = $1) AND \
             ((state IN ('accepted', 'returned') AND (dispatch_due IS NULL OR dispatch_due < $2)) \
              OR (state = 'dispatched' AND sign_due < $2) \
              OR (state IN ('signed', 'handling', 'extended') AND handle_due < $2)) ORDER BY id"
        ))
        .bind(platform.unwrap_or(""))
        .bind(until)
        .fetch_all(self.pool())
        .await?;
        Ok(readable(&rows, "cases due", stored_case))
    }

    /// One page of every open case: those with an id above `after`, at most `limit`, by id.
    /// A caller that walks the pages (the next `after` is the last id of a page) holds one
    /// page at a time, however many cases are open.
    pub async fn open_cases_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredCase>, StoreError> {
        let rows = query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE state IN {OPEN_STATES} \
             AND id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(readable(&rows, "open cases", stored_case))
    }

    /// The facts statistics count, for cases created in `[from, to)`.
    pub async fn case_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        platform: Option<&str>,
        zone: chrono_tz::Tz,
    ) -> Result<Vec<CaseFacts>, StoreError> {
        let rows = query(
            "SELECT c.platform, c.category, c.unit, c.state, c.created_at, c.topic, c.handle_due, \
                    (SELECT MAX(h.at) FROM case_history h WHERE h.case_id = c.id AND h.event = 'reply'), \
                    c.work_order, \
                    (SELECT s.note FROM case_history s WHERE s.id = (SELECT MAX(t.id) FROM case_history t \
                        WHERE t.case_id = c.id AND t.event = 'callback')), \
                    c.channel \
             FROM cases c WHERE c.created_at >= $1 AND c.created_at < $2 AND ($3 = '' OR c.platform = $3)",
        )
        .bind(from)
        .bind(to)
        .bind(platform.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        Ok(readable(&rows, "case facts", |r| {
            Ok(CaseFacts {
                platform: r.try_get(0)?,
                category: r.try_get(1)?,
                unit: r.try_get(2)?,
                state: r.try_get(3)?,
                day: r.time(4)?.with_timezone(&zone).date_naive(),
                topic: r.try_get(5)?,
                handle_due: r.time_opt(6)?,
                replied_at: r.time_opt(7)?,
                order: match r.try_get::<Option<String>, _>(8)? {
                    Some(json) => {
                        serde_json::from_str(&json).map_err(|_| corrupt("work order", &json))?
                    }
                    None => Default::default(),
                },
                satisfaction: r
                    .try_get::<Option<String>, _>(9)?
                    .and_then(|note| Satisfaction::from_note(&note)),
                channel: r.try_get(10)?,
            })
        }))
    }
}

/// Appends one history entry.
pub(crate) async fn insert_history(
    conn: &mut Conn,
    case_id: i64,
    entry: &HistoryEntry,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO case_history (case_id, at, actor_role, actor_id, actor_unit, event, from_state, to_state, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(case_id)
    .bind(entry.at)
    .bind(entry.actor.role.as_str())
    .bind(&entry.actor.id)
    .bind(entry.actor.unit.clone())
    .bind(entry.event)
    .bind(entry.from.as_str())
    .bind(entry.to.as_str())
    .bind(&entry.note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Joins the call(s) of the fresh case `from` (a repeated call) to the case `into`, whose
    /// transition `into_after` records the link; `from` disappears. Refused with a conflict when
    /// either case changed since it was read, or `from` is no longer fresh.
    pub async fn link_case(
        &self,
        from: &StoredCase,
        into_before: &StoredCase,
        into_after: &Case,
    ) -> Result<(), StoreError> {
        let entry = into_after
            .history
            .last()
            .cloned()
            .ok_or_else(|| StoreError::Corrupt("a link without a history entry".into()))?;
        let (from_id, from_version) = (from.id, from.version);
        let (into_id, into_version) = (into_before.id, into_before.version);
        self.write(move |conn| {
            Box::pin(async move {
                let history: i64 = query("SELECT COUNT(*) FROM case_history WHERE case_id = $1")
                    .bind(from_id)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get(0)?;
                let bumped = query(
                    "UPDATE cases SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3",
                )
                .bind(entry.at)
                .bind(into_id)
                .bind(into_version)
                .execute(&mut *conn)
                .await?;
                let fresh = query("SELECT state, version FROM cases WHERE id = $1")
                    .bind(from_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                let fresh_ok = match fresh {
                    Some(r) => r.try_get::<String, _>(0)? == "accepted" && r.try_get::<i64, _>(1)? == from_version,
                    None => false,
                };
                if bumped.rows_affected() != 1 || !fresh_ok || history != 0 {
                    return Err(StoreError::Conflict(
                        "the cases changed meanwhile, or the repeated call's case is already being worked".into(),
                    ));
                }
                // Everything the fresh case holds moves with it: its calls and what they left,
                // and a written request's messages and the mail or SMS it caused.
                for table in [
                    "calls",
                    "voicemails",
                    "recordings",
                    "agent_legs",
                    "case_callback_attempts",
                    "case_audit",
                    "case_messages",
                    "outbox",
                ] {
                    query(&format!("UPDATE {table} SET case_id = $1 WHERE case_id = $2"))
                        .bind(into_id)
                        .bind(from_id)
                        .execute(&mut *conn)
                        .await?;
                }
                query("UPDATE cases SET callback_status = COALESCE(callback_status, \
                     (SELECT callback_status FROM cases WHERE id = $2)) WHERE id = $1")
                    .bind(into_id)
                    .bind(from_id)
                    .execute(&mut *conn)
                    .await?;
                query("DELETE FROM cases WHERE id = $1")
                    .bind(from_id)
                    .execute(&mut *conn)
                    .await?;
                insert_history(conn, into_id, &entry).await
            })
        })
        .await
    }

    /// The open cases of a requester known by address (mail, official account), newest
    /// first (for proposing a link).
    pub async fn open_cases_of_contact(
        &self,
        contact: &str,
    ) -> Result<Vec<StoredCase>, StoreError> {
        self.open_cases_of(Requester::Contact, contact).await
    }

    /// The open cases of a caller (phone number; for proposing a link), newest first.
    pub async fn open_cases_of_caller(&self, caller: &str) -> Result<Vec<StoredCase>, StoreError> {
        self.open_cases_of(Requester::Caller, caller).await
    }

    async fn open_cases_of(&self, by: Requester, who: &str) -> Result<Vec<StoredCase>, StoreError> {
        let column = match by {
            Requester::Caller => "caller",
            Requester::Contact => "contact",
        };
        let rows = query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE {column} = $1 AND state NOT IN \
             ('closed', 'published', 'not-accepted') ORDER BY created_at DESC, id DESC"
        ))
        .bind(who)
        .fetch_all(self.pool())
        .await?;
        Ok(readable(&rows, "open cases of a requester", stored_case))
    }
}

/// How a requester is known: by phone number, or by address.
#[derive(Clone, Copy)]
enum Requester {
    Caller,
    Contact,
}

impl Store {
    /// Records supervision marks (case number, kind, level, due) first seen at `now`; a mark
    /// already recorded keeps its first time. Returns how many are new.
    pub async fn record_marks(
        &self,
        marks: Vec<(i64, &'static str, &'static str, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let mut new = 0;
                for (case_id, kind, level, due) in &marks {
                    let done = query(
                        "INSERT INTO supervision_marks (case_id, kind, level, due, marked_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(*case_id)
                    .bind(*kind)
                    .bind(*level)
                    .bind(*due)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    new += done.rows_affected();
                }
                Ok(new)
            })
        })
        .await
    }

    /// When a mark was first recorded.
    pub async fn mark_recorded_at(
        &self,
        case_id: i64,
        kind: &str,
        level: &str,
        due: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = query(
            "SELECT marked_at FROM supervision_marks WHERE case_id = $1 AND kind = $2 AND level = $3 AND due = $4",
        )
        .bind(case_id)
        .bind(kind)
        .bind(level)
        .bind(due)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| r.time(0)).transpose()
    }
}
