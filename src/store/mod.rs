//! Durable cases and calls with sqlx: a SQLite file by default, PostgreSQL by URL, the same SQL
//! on both through two concrete pools ([`db`]), migrations under `migrations/` applied at open.
//!
//! Durable means committed: SQLite runs in WAL mode with `synchronous=FULL` (every commit is
//! fsynced), PostgreSQL commits as it does. Writes go through one writer task that groups the
//! writes of concurrent calls into one commit ([`writer`]); reads use the pool directly.

pub mod board;
pub mod calls_out;
pub mod case_number;
pub mod db;
pub mod error;
pub mod exchange;
pub mod knowledge;
pub mod legs;
pub mod model;
pub mod queue;
pub mod registrations;
pub mod requests;
pub mod testdb;
pub mod voicemail;
pub mod workflow;
mod writer;

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::mpsc;

use db::query;
pub use db::{Backend, BoxFuture, Conn};
pub use error::StoreError;
pub use model::{CallView, CaseView, NewCall, OpenedCall};
pub use voicemail::{FinishedVoicemail, VoicemailView};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which kind of database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `sqlite:path` or `sqlite://path`.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Kind {
    /// The kind of database `url` names; [`StoreError::BadUrl`] for anything else.
    pub fn of_url(url: &str) -> Result<Kind, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Kind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Kind::Postgres)
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }
}

struct Inner {
    db: Backend,
    jobs: mpsc::Sender<writer::Job>,
    commits: Arc<AtomicU64>,
}

/// The store: cheap to clone, shared by every call and request.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// The case (row id) of the call `sip_call_id`, inside a write; [`StoreError::NotFound`] for a
/// call the store does not have.
pub(crate) async fn case_of_call(conn: &mut Conn, sip_call_id: &str) -> Result<i64, StoreError> {
    Ok(query("SELECT case_id FROM calls WHERE sip_call_id = $1")
        .bind(sip_call_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("call {sip_call_id}")))?
        .try_get(0)?)
}

/// Opens the SQLite file at `url` (created if missing) in WAL mode with every commit fsynced.
async fn open_sqlite(url: &str) -> Result<Backend, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    SQLITE_MIGRATIONS.run(&pool).await?;
    Ok(Backend::Sqlite(pool))
}

/// Connects to the PostgreSQL database at `url`.
async fn open_postgres(url: &str) -> Result<Backend, StoreError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    POSTGRES_MIGRATIONS.run(&pool).await?;
    Ok(Backend::Postgres(pool))
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database at `url`, and starts
    /// the writer.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let db = match Kind::of_url(url)? {
            Kind::Sqlite => open_sqlite(url).await?,
            Kind::Postgres => open_postgres(url).await?,
        };
        let (jobs, rx) = mpsc::channel(4 * writer::MAX_BATCH);
        let commits = Arc::new(AtomicU64::new(0));
        tokio::spawn(writer::run(db.clone(), rx, commits.clone()));
        Ok(Store {
            inner: Arc::new(Inner { db, jobs, commits }),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.inner.db.name()
    }

    /// Commits made so far (a measure of group commit).
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &Backend {
        &self.inner.db
    }

    /// Runs `write` in the next group commit; returns its result once committed.
    pub async fn write<T, F>(&self, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (job, rx) = writer::job(write);
        self.inner
            .jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs one statement in the next group commit; returns the rows it changed, once
    /// committed.
    pub async fn write_query(&self, q: db::Query) -> Result<u64, StoreError> {
        self.write(move |conn| Box::pin(async move { Ok(q.execute(conn).await?.rows_affected()) }))
            .await
    }

    /// Creates a new case and its first call; durable when this returns.
    pub async fn open_call(&self, call: NewCall) -> Result<OpenedCall, StoreError> {
        self.write(move |conn| Box::pin(async move { insert_case_and_call(conn, &call).await }))
            .await
    }

    /// Records when the call was answered.
    pub async fn mark_answered(
        &self,
        sip_call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = query(
            "UPDATE calls SET answered_at = $1 WHERE sip_call_id = $2 AND answered_at IS NULL",
        );
        self.write_query(q.bind(at).bind(sip_call_id)).await?;
        Ok(())
    }

    /// True when a call (open or finished) is stored under `sip_call_id`.
    pub async fn call_known(&self, sip_call_id: &str) -> Result<bool, StoreError> {
        Ok(query("SELECT 1 FROM calls WHERE sip_call_id = $1")
            .bind(sip_call_id)
            .fetch_optional(self.pool())
            .await?
            .is_some())
    }

    /// Ends a call: end time, duration and cause; a call already ended keeps its first end.
    pub async fn end_call(
        &self,
        sip_call_id: &str,
        at: DateTime<Utc>,
        cause: &str,
    ) -> Result<(), StoreError> {
        let id = sip_call_id.to_string();
        let cause = cause.to_string();
        self.write(move |conn| {
            Box::pin(async move {
                let row = query(
                    "SELECT started_at FROM calls WHERE sip_call_id = $1 AND ended_at IS NULL",
                )
                .bind(&id)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else {
                    return Ok(());
                };
                let started = row.time(0)?;
                let duration = (at - started).num_milliseconds().max(0);
                query(
                    "UPDATE calls SET ended_at = $1, duration_ms = $2, end_cause = $3 \
                     WHERE sip_call_id = $4 AND ended_at IS NULL",
                )
                .bind(at)
                .bind(duration)
                .bind(&cause)
                .bind(&id)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Ends every call left open (after a crash); returns how many.
    pub async fn end_open_calls(&self, at: DateTime<Utc>, cause: &str) -> Result<u64, StoreError> {
        let cause = cause.to_string();
        self.write(move |conn| {
            Box::pin(async move {
                let open = query("SELECT sip_call_id, started_at FROM calls WHERE ended_at IS NULL")
                    .fetch_all(&mut *conn)
                    .await?;
                for row in &open {
                    let id: String = row.try_get(0)?;
                    let started = row.time(1)?;
                    query(
                        "UPDATE calls SET ended_at = $1, duration_ms = $2, end_cause = $3 WHERE sip_call_id = $4",
                    )
                    .bind(at)
                    .bind((at - started).num_milliseconds().max(0))
                    .bind(&cause)
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
                }
                // Seats rung or talking when the server stopped.
                query("UPDATE agent_legs SET ended_at = $1, outcome = $2 WHERE ended_at IS NULL")
                    .bind(at)
                    .bind(&cause)
                    .execute(&mut *conn)
                    .await?;
                Ok(open.len() as u64)
            })
        })
        .await
    }

    /// The cases of a caller (normalised number), newest first, each with its calls.
    pub async fn cases_by_caller(&self, caller: &str) -> Result<Vec<CaseView>, StoreError> {
        self.cases_where("c.caller = $1", caller).await
    }

    /// One case by its number.
    pub async fn case_by_number(&self, case_number: &str) -> Result<Option<CaseView>, StoreError> {
        Ok(self
            .cases_where("c.case_number = $1", case_number)
            .await?
            .into_iter()
            .next())
    }

    async fn cases_where(&self, condition: &str, value: &str) -> Result<Vec<CaseView>, StoreError> {
        let sql = format!(
            "SELECT c.case_number, c.platform, c.caller, c.state, c.created_at, c.callback_status, \
                    k.sip_call_id, k.caller, k.called, k.platform, k.route_reason, \
                    k.started_at, k.answered_at, k.ended_at, k.duration_ms, k.end_cause, \
                    k.direction, k.rating, c.handling_rating, \
                    c.channel, c.contact, c.answer_due, c.first_answer_at \
             FROM cases c LEFT JOIN calls k ON k.case_id = c.id \
             WHERE {condition} ORDER BY c.id DESC, k.id ASC"
        );
        let rows = query(&sql).bind(value).fetch_all(self.pool()).await?;
        let mut cases: Vec<CaseView> = Vec::new();
        for row in rows {
            let number: String = row.try_get(0)?;
            if cases.last().is_none_or(|c| c.case_number != number) {
                cases.push(CaseView {
                    case_number: number,
                    platform: row.try_get(1)?,
                    caller: row.try_get(2)?,
                    state: row.try_get(3)?,
                    created_at: row.time(4)?,
                    callback_status: row.try_get(5)?,
                    calls: Vec::new(),
                    voicemails: Vec::new(),
                    callback_attempts: Vec::new(),
                    handling_rating: row.try_get(18)?,
                    audit: Vec::new(),
                    reminders: Vec::new(),
                    channel: row.try_get(19)?,
                    contact: row.try_get(20)?,
                    answer_due: row.time_opt(21)?,
                    first_answer_at: row.time_opt(22)?,
                    messages: Vec::new(),
                });
            }
            let Some(sip_call_id) = row.try_get::<Option<String>, _>(6)? else {
                continue;
            };
            let case = cases.last_mut().expect("pushed above");
            case.calls.push(CallView {
                sip_call_id,
                caller: row.try_get(7)?,
                called: row.try_get(8)?,
                platform: row.try_get(9)?,
                route_reason: row.try_get(10)?,
                started_at: row.time(11)?,
                answered_at: row.time_opt(12)?,
                ended_at: row.time_opt(13)?,
                duration_ms: row.try_get(14)?,
                end_cause: row.try_get(15)?,
                direction: row.try_get(16)?,
                rating: row.try_get(17)?,
                agent_legs: Vec::new(),
            });
        }
        for case in &mut cases {
            case.voicemails = self.voicemails_of_case(&case.case_number).await?;
            case.callback_attempts = self.case_callback_attempts(&case.case_number).await?;
            case.audit = self.case_audit(&case.case_number).await?;
            case.reminders = self.reminders_of(&case.case_number).await?;
            case.messages = self.messages_of(&case.case_number).await?;
            for (sip_call_id, leg) in self.legs_of_case(&case.case_number).await? {
                if let Some(call) = case.calls.iter_mut().find(|c| c.sip_call_id == sip_call_id) {
                    call.agent_legs.push(leg);
                }
            }
        }
        Ok(cases)
    }

    /// Stops taking writes once those queued are committed, and closes the pool.
    pub async fn close(&self) {
        // The writer ends when every Store clone is gone; waiting for an empty write is enough
        // to know that everything queued before it has been committed.
        let _ = self.write(|_| Box::pin(async { Ok(()) })).await;
        self.inner.db.close().await;
    }
}

/// The next case number of `platform` on the local day of `at`, inside a write (the day's
/// counter is incremented in the same transaction as the case is written).
pub(crate) async fn next_case_number(
    conn: &mut Conn,
    platform: &str,
    at: DateTime<Utc>,
) -> Result<String, StoreError> {
    let day = case_number::day_of(at);
    let seq: i64 = query(
        "INSERT INTO case_counters (platform, day, last) VALUES ($1, $2, 1) \
         ON CONFLICT (platform, day) DO UPDATE SET last = case_counters.last + 1 RETURNING last",
    )
    .bind(platform)
    .bind(&day)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    Ok(case_number::format(platform, &day, seq))
}

/// Writes a new case (with the next case number of its platform and day) and its first call.
async fn insert_case_and_call(conn: &mut Conn, call: &NewCall) -> Result<OpenedCall, StoreError> {
    let number = next_case_number(conn, &call.platform, call.started_at).await?;
    let started = call.started_at;
    let case_id: i64 = query(
        "INSERT INTO cases (case_number, platform, caller, state, created_at) \
         VALUES ($1, $2, $3, 'accepted', $4) RETURNING id",
    )
    .bind(&number)
    .bind(&call.platform)
    .bind(&call.caller)
    .bind(started)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::from_write(e, format!("case {number}")))?
    .try_get(0)?;
    let call_id: i64 = query(
        "INSERT INTO calls (case_id, sip_call_id, caller, called, platform, route_reason, started_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(case_id)
    .bind(&call.sip_call_id)
    .bind(&call.caller)
    .bind(&call.called)
    .bind(&call.platform)
    .bind(&call.route_reason)
    .bind(started)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::from_write(e, format!("call {}", call.sip_call_id)))?
    .try_get(0)?;
    Ok(OpenedCall {
        case_number: number,
        call_id,
    })
}

#[cfg(test)]
mod tests;
