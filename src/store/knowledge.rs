//! The knowledge base's entries and their versions. Every write keeps the entry's new state in
//! `knowledge_entries` and the version beside it in `knowledge_versions` in one commit; a
//! change names the version it was made from, and a change made from an older one is refused
//! (two editors never overwrite each other unseen).

use chrono::{DateTime, NaiveDate, Utc};

use super::db::{query, DbRow, Exec};
use super::{Conn, Store, StoreError};
use crate::knowledge::{Draft, Entry, Version};

/// One row of an import: an entry's fields, and the id of the entry it replaces (none, or an
/// id this store does not have: a new entry).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub id: Option<i64>,
    pub fields: Draft,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

const SELECT: &str = "SELECT id, version, title, question, answer, category, platform, \
    source_department, valid_from, valid_to, updated_at, updated_by FROM knowledge_entries";

fn day(row: &DbRow, i: usize) -> Result<Option<NaiveDate>, StoreError> {
    row.try_get::<Option<String>, _>(i)?
        .map(|s| {
            s.parse()
                .map_err(|_| StoreError::Corrupt(format!("knowledge date {s:?}")))
        })
        .transpose()
}

fn entry(row: &DbRow) -> Result<Entry, StoreError> {
    Ok(Entry {
        id: row.try_get(0)?,
        version: row.try_get(1)?,
        fields: Draft {
            title: row.try_get(2)?,
            question: row.try_get(3)?,
            answer: row.try_get(4)?,
            category: row.try_get(5)?,
            platform: row.try_get(6)?,
            source_department: row.try_get(7)?,
            valid_from: day(row, 8)?,
            valid_to: day(row, 9)?,
        },
        updated_at: row.time(10)?,
        updated_by: row.try_get(11)?,
    })
}

/// Entry `id` as it is, read from the pool or inside a write.
async fn current<'a>(on: impl Exec<'a>, id: i64) -> Result<Option<Entry>, StoreError> {
    query(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(on)
        .await?
        .as_ref()
        .map(entry)
        .transpose()
}

/// Writes `entry` as the current version (inserted when it is version 1) and its history row.
async fn put(conn: &mut Conn, entry: &Entry, changed: &[String]) -> Result<(), StoreError> {
    let d = &entry.fields;
    let sql = if entry.version == 1 {
        "INSERT INTO knowledge_entries (title, question, answer, category, platform, \
         source_department, valid_from, valid_to, updated_at, updated_by, version, id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    } else {
        "UPDATE knowledge_entries SET title = $1, question = $2, answer = $3, category = $4, \
         platform = $5, source_department = $6, valid_from = $7, valid_to = $8, updated_at = $9, \
         updated_by = $10, version = $11 WHERE id = $12"
    };
    query(sql)
        .bind(&d.title)
        .bind(&d.question)
        .bind(&d.answer)
        .bind(&d.category)
        .bind(d.platform.clone())
        .bind(d.source_department.clone())
        .bind(d.valid_from.map(|v| v.to_string()))
        .bind(d.valid_to.map(|v| v.to_string()))
        .bind(entry.updated_at)
        .bind(&entry.updated_by)
        .bind(entry.version)
        .bind(entry.id)
        .execute(&mut *conn)
        .await?;
    query(
        "INSERT INTO knowledge_versions (entry_id, version, changed_at, changed_by, changed, entry) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.id)
    .bind(entry.version)
    .bind(entry.updated_at)
    .bind(&entry.updated_by)
    .bind(changed.join(","))
    .bind(serde_json::to_string(d).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn next_id(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(
        query("SELECT COALESCE(MAX(id), 0) + 1 FROM knowledge_entries")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    )
}

/// Writes `fields` as a new entry (version 1, every field set) under the next free id.
async fn insert_new(
    conn: &mut Conn,
    fields: Draft,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Entry, StoreError> {
    let entry = Entry {
        id: next_id(conn).await?,
        version: 1,
        fields,
        updated_at: at,
        updated_by: by.to_string(),
    };
    put(conn, &entry, &Draft::all_fields()).await?;
    Ok(entry)
}

/// The next version of `before` with `fields`, or None when nothing changed.
fn next_version(
    before: &Entry,
    fields: Draft,
    by: &str,
    at: DateTime<Utc>,
) -> Option<(Entry, Vec<String>)> {
    let changed = fields.changed_since(&before.fields);
    (!changed.is_empty()).then(|| {
        (
            Entry {
                id: before.id,
                version: before.version + 1,
                fields,
                updated_at: at,
                updated_by: by.to_string(),
            },
            changed,
        )
    })
}

impl Store {
    /// Every entry, by id.
    pub async fn knowledge_entries(&self) -> Result<Vec<Entry>, StoreError> {
        query(&format!("{SELECT} ORDER BY id"))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(entry)
            .collect()
    }

    /// One entry's current version.
    pub async fn knowledge_entry(&self, id: i64) -> Result<Option<Entry>, StoreError> {
        current(self.pool(), id).await
    }

    /// One entry's versions, oldest first (empty for an unknown entry).
    pub async fn knowledge_history(&self, id: i64) -> Result<Vec<Version>, StoreError> {
        let rows = query(
            "SELECT version, changed_at, changed_by, changed, entry FROM knowledge_versions \
             WHERE entry_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let changed: String = r.try_get(3)?;
                let text: String = r.try_get(4)?;
                Ok(Version {
                    version: r.try_get(0)?,
                    changed_at: r.time(1)?,
                    changed_by: r.try_get(2)?,
                    changed: changed
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                    entry: serde_json::from_str(&text)
                        .map_err(|e| StoreError::Corrupt(format!("knowledge version: {e}")))?,
                })
            })
            .collect()
    }

    /// Adds a new entry (version 1) written by `by`.
    pub async fn add_knowledge(
        &self,
        fields: Draft,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Entry, StoreError> {
        let by = by.to_string();
        self.write(move |conn| Box::pin(async move { insert_new(conn, fields, &by, at).await }))
            .await
    }

    /// Writes the next version of entry `id`, made from version `from`: refused with
    /// [`StoreError::Conflict`] when the entry has moved on since. A change that changes
    /// nothing writes no version and returns the entry as it is.
    pub async fn update_knowledge(
        &self,
        id: i64,
        from: i64,
        fields: Draft,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Entry, StoreError> {
        let by = by.to_string();
        self.write(move |conn| {
            Box::pin(async move {
                let before = current(&mut *conn, id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("knowledge entry {id}")))?;
                if before.version != from {
                    return Err(StoreError::Conflict(format!(
                        "entry {id} is at version {}, not {from}: reload it and change it again",
                        before.version
                    )));
                }
                match next_version(&before, fields, &by, at) {
                    Some((after, changed)) => {
                        put(conn, &after, &changed).await?;
                        Ok(after)
                    }
                    None => Ok(before),
                }
            })
        })
        .await
    }

    /// Imports rows in one commit: a row naming an entry this store has is its next version
    /// (when it changes anything), any other row a new entry.
    pub async fn import_knowledge(
        &self,
        rows: Vec<ImportRow>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<ImportCounts, StoreError> {
        let by = by.to_string();
        self.write(move |conn| {
            Box::pin(async move {
                let mut counts = ImportCounts::default();
                for row in rows {
                    let before = match row.id {
                        Some(id) => current(&mut *conn, id).await?,
                        None => None,
                    };
                    match before {
                        Some(before) => match next_version(&before, row.fields, &by, at) {
                            Some((after, changed)) => {
                                put(conn, &after, &changed).await?;
                                counts.updated += 1;
                            }
                            None => counts.unchanged += 1,
                        },
                        None => {
                            insert_new(conn, row.fields, &by, at).await?;
                            counts.created += 1;
                        }
                    }
                }
                Ok(counts)
            })
        })
        .await
    }
}
