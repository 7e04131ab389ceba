//! Two concrete databases behind one small query API.
//!
//! The store runs on a SQLite pool or a PostgreSQL pool ([`Backend`]), never on sqlx's `Any`
//! driver. The SQL is written once, in a dialect both accept (`$1`-style parameters, `ON
//! CONFLICT … RETURNING`), and a [`Query`] keeps its parameters as plain [`Value`]s until it runs:
//! then it is built for the backend it runs on ([`Query::build`] is generic over the database),
//! and its rows come back as a [`DbRow`] that decodes any type both drivers can decode. The only
//! per-backend code is the dispatch in [`on_target!`], written once for every method, and the
//! [`Dialect`] of times: RFC 3339 text (UTC, milliseconds, so text order is time order) on
//! SQLite, `TIMESTAMPTZ` on PostgreSQL.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, PgPool, Postgres, Row, Sqlite, SqlitePool, Transaction,
    Type,
};

use super::error::StoreError;
use super::model::{from_db_time, to_db_time};

/// A boxed future borrowing the connection.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The pool of the database the store runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A SQLite file (WAL, `synchronous=FULL`).
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Starts a transaction on a connection of the pool.
    pub async fn begin(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Backend::Sqlite(pool) => Conn::Sqlite(pool.begin().await?),
            Backend::Postgres(pool) => Conn::Postgres(pool.begin().await?),
        })
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        match self {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// An open transaction, as the writer hands it to each write.
#[derive(Debug)]
pub enum Conn {
    /// On SQLite.
    Sqlite(Transaction<'static, Sqlite>),
    /// On PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

impl Conn {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Conn::Sqlite(tx) => tx.commit().await,
            Conn::Postgres(tx) => tx.commit().await,
        }
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Conn::Sqlite(tx) => tx.rollback().await,
            Conn::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// Where a query runs: a connection (inside the writer's transaction) or a pool (reads).
pub enum Target<'a> {
    /// A SQLite connection.
    Sqlite(&'a mut SqliteConnection),
    /// A SQLite pool.
    SqlitePool(&'a SqlitePool),
    /// A PostgreSQL connection.
    Postgres(&'a mut PgConnection),
    /// A PostgreSQL pool.
    PgPool(&'a PgPool),
}

/// What a [`Query`] can run on.
pub trait Exec<'a> {
    /// The connection or pool.
    fn target(self) -> Target<'a>;
}

impl<'a> Exec<'a> for &'a Backend {
    fn target(self) -> Target<'a> {
        match self {
            Backend::Sqlite(pool) => Target::SqlitePool(pool),
            Backend::Postgres(pool) => Target::PgPool(pool),
        }
    }
}

impl<'a> Exec<'a> for &'a mut Conn {
    fn target(self) -> Target<'a> {
        match self {
            Conn::Sqlite(tx) => Target::Sqlite(tx),
            Conn::Postgres(tx) => Target::Postgres(tx),
        }
    }
}

/// A query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, or a text NULL.
    Text(Option<String>),
    /// A 64-bit integer, or an integer NULL.
    Int(Option<i64>),
    /// A moment (to the millisecond), or a time NULL: RFC 3339 text on SQLite, `TIMESTAMPTZ`
    /// on PostgreSQL.
    Time(Option<DateTime<Utc>>),
}

impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Value {
        Value::Time(Some(v))
    }
}

impl From<Option<DateTime<Utc>>> for Value {
    fn from(v: Option<DateTime<Utc>>) -> Value {
        Value::Time(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(Some(v.clone()))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_string()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        Value::Text(v)
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        Value::Text(v.map(str::to_string))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(Some(v))
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(Some(v.into()))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::Int(v)
    }
}

/// What differs in how the two databases store a value: times.
pub trait Dialect: Database {
    /// The Rust type a time is bound as.
    type Time: for<'q> Encode<'q, Self> + Type<Self> + Send;
    /// A time as this database stores it.
    fn time(at: Option<DateTime<Utc>>) -> Self::Time;
}

impl Dialect for Sqlite {
    type Time = Option<String>;
    fn time(at: Option<DateTime<Utc>>) -> Option<String> {
        at.map(to_db_time)
    }
}

impl Dialect for Postgres {
    type Time = Option<DateTime<Utc>>;
    fn time(at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        // The same precision as the text form, so that a time read back compares equal.
        at.map(|t| t.trunc_subsecs(3))
    }
}

/// How many rows a statement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    rows: u64,
}

impl Done {
    /// Rows inserted, updated or deleted.
    pub fn rows_affected(&self) -> u64 {
        self.rows
    }
}

/// A row of either backend.
pub enum DbRow {
    /// From SQLite.
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    Postgres(PgRow),
}

impl DbRow {
    /// Decodes column `index` (a position or a name) as a type both drivers know.
    pub fn try_get<T, I>(&self, index: I) -> Result<T, sqlx::Error>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
        I: ColumnIndex<SqliteRow> + ColumnIndex<PgRow>,
    {
        match self {
            DbRow::Sqlite(row) => row.try_get(index),
            DbRow::Postgres(row) => row.try_get(index),
        }
    }

    /// Decodes a time column (text on SQLite, `TIMESTAMPTZ` on PostgreSQL).
    pub fn time<I>(&self, index: I) -> Result<DateTime<Utc>, StoreError>
    where
        I: ColumnIndex<SqliteRow> + ColumnIndex<PgRow>,
    {
        match self {
            DbRow::Sqlite(row) => from_db_time(&row.try_get::<String, _>(index)?),
            DbRow::Postgres(row) => Ok(row.try_get(index)?),
        }
    }

    /// Decodes a time column that may be NULL.
    pub fn time_opt<I>(&self, index: I) -> Result<Option<DateTime<Utc>>, StoreError>
    where
        I: ColumnIndex<SqliteRow> + ColumnIndex<PgRow>,
    {
        match self {
            DbRow::Sqlite(row) => row
                .try_get::<Option<String>, _>(index)?
                .as_deref()
                .map(from_db_time)
                .transpose(),
            DbRow::Postgres(row) => Ok(row.try_get(index)?),
        }
    }
}

/// A statement and its parameters, not yet tied to a backend.
#[derive(Debug, Clone)]
pub struct Query {
    sql: String,
    args: Vec<Value>,
}

/// A new query; parameters are `$1`, `$2`… on both backends.
pub fn query(sql: &str) -> Query {
    Query {
        sql: sql.to_string(),
        args: Vec::new(),
    }
}

/// Runs `$body` with `$e` bound to the connection or pool of `$target`, `$db` naming its
/// database type and `$row` the [`DbRow`] variant for its rows: the one place where the two
/// backends are told apart.
macro_rules! on_target {
    ($target:expr, |$e:ident, $db:ident, $row:ident| $body:expr) => {
        match $target {
            Target::Sqlite($e) => {
                type $db = Sqlite;
                let $row = DbRow::Sqlite;
                $body
            }
            Target::SqlitePool($e) => {
                type $db = Sqlite;
                let $row = DbRow::Sqlite;
                $body
            }
            Target::Postgres($e) => {
                type $db = Postgres;
                let $row = DbRow::Postgres;
                $body
            }
            Target::PgPool($e) => {
                type $db = Postgres;
                let $row = DbRow::Postgres;
                $body
            }
        }
    };
}

impl Query {
    /// Adds the next parameter.
    pub fn bind(mut self, value: impl Into<Value>) -> Query {
        self.args.push(value.into());
        self
    }

    /// The sqlx query for database `DB`.
    fn build<'q, DB>(&'q self) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
    where
        DB: Dialect,
        Option<String>: Encode<'q, DB> + Type<DB>,
        Option<i64>: Encode<'q, DB> + Type<DB>,
    {
        let mut q = sqlx::query::<DB>(&self.sql);
        for arg in &self.args {
            q = match arg {
                Value::Text(v) => q.bind(v.clone()),
                Value::Int(v) => q.bind(*v),
                Value::Time(v) => q.bind(DB::time(*v)),
            };
        }
        q
    }

    /// Runs a statement.
    pub async fn execute<'a>(self, on: impl Exec<'a>) -> Result<Done, sqlx::Error> {
        let rows = on_target!(on.target(), |e, Db, _row| self
            .build::<Db>()
            .execute(e)
            .await?
            .rows_affected());
        Ok(Done { rows })
    }

    /// Every row.
    pub async fn fetch_all<'a>(self, on: impl Exec<'a>) -> Result<Vec<DbRow>, sqlx::Error> {
        Ok(on_target!(on.target(), |e, Db, row| self
            .build::<Db>()
            .fetch_all(e)
            .await?
            .into_iter()
            .map(row)
            .collect()))
    }

    /// The one row; an error if there is none.
    pub async fn fetch_one<'a>(self, on: impl Exec<'a>) -> Result<DbRow, sqlx::Error> {
        Ok(on_target!(on.target(), |e, Db, row| row(self
            .build::<Db>()
            .fetch_one(e)
            .await?)))
    }

    /// The first row, if any.
    pub async fn fetch_optional<'a>(self, on: impl Exec<'a>) -> Result<Option<DbRow>, sqlx::Error> {
        Ok(on_target!(on.target(), |e, Db, row| self
            .build::<Db>()
            .fetch_optional(e)
            .await?
            .map(row)))
    }
}
