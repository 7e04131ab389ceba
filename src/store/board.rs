//! What the supervisors' wallboard, the statistics and the public page read beyond the case
//! lists: the latest steps of the cases, the published cases, and seats' state changes over a
//! period.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::{query, Conn};
use super::{Store, StoreError};
use crate::acd::engine::QueueLogEntry;
use crate::cases::publish::PublicText;
use crate::cases::workflow::Case;

/// A stretch of the queue log kept in memory by a reader that reads it again and again (a
/// wallboard's task, the metrics): each reading asks the store only for the last minute
/// again (entries are stored a moment after they happen), and for the whole stretch every
/// five minutes.
#[derive(Debug, Default)]
pub struct LogWindow {
    entries: Vec<QueueLogEntry>,
    /// The stretch last read: `[from, to)`.
    read: Option<(DateTime<Utc>, DateTime<Utc>)>,
    read_whole: Option<std::time::Instant>,
}

impl LogWindow {
    /// The whole stretch is read again this often.
    const FULL_READ: std::time::Duration = std::time::Duration::from_secs(300);
    /// What each reading reads again before the last one's end.
    const OVERLAP: chrono::Duration = chrono::Duration::seconds(60);

    /// The entries of `[from, now)` that `keep` keeps, oldest first.
    pub async fn read(
        &mut self,
        store: &Store,
        keep: impl Fn(&QueueLogEntry) -> bool,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<&[QueueLogEntry], StoreError> {
        // Whole: at first, every five minutes, and when asked for an earlier start than held.
        let whole = match (self.read, self.read_whole) {
            (Some((held_from, _)), Some(at)) => at.elapsed() >= Self::FULL_READ || from < held_from,
            _ => true,
        };
        let since = match self.read {
            Some((_, to)) if !whole => (to - Self::OVERLAP).max(from),
            _ => from,
        };
        let fresh = store.queue_log_between(since, now).await?;
        if whole {
            self.entries.clear();
            self.read_whole = Some(std::time::Instant::now());
        }
        self.entries.retain(|e| e.at >= from && e.at < since);
        self.entries.extend(fresh.into_iter().filter(|e| keep(e)));
        self.read = Some((from, now));
        Ok(&self.entries)
    }
}

/// A step of a case, as the wallboard lists the latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecentStep {
    pub case_number: String,
    pub platform: String,
    pub at: DateTime<Utc>,
    pub actor_role: String,
    pub actor_id: String,
    pub actor_unit: Option<String>,
    pub event: String,
    pub to_state: String,
    pub note: String,
}

/// A published case, without the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedCase {
    pub case_number: String,
    pub platform: String,
    pub category: Option<String>,
    /// The district's code, from the work order.
    pub district: Option<String>,
    /// The work order's summary, or the case's keywords when it has none.
    pub summary: String,
    /// The unit's or the operator's answer.
    pub reply: String,
    pub created_at: DateTime<Utc>,
    pub published_at: DateTime<Utc>,
}

/// A seat's stored change of state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatStateRow {
    pub at: DateTime<Utc>,
    pub agent: String,
    pub state: String,
}

/// A LIKE pattern that finds `text` anywhere (its `%`, `_` and `\` taken literally).
fn contains(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Writes the public record of a case published at `at`.
pub(crate) async fn insert_published(
    conn: &mut Conn,
    case_id: i64,
    case: &Case,
    text: &PublicText,
    created_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO published_cases (case_id, case_number, platform, category, district, summary, reply, \
         created_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(case_id)
    .bind(&case.case_number)
    .bind(&case.platform)
    .bind(case.category.map(|c| c.as_str()))
    .bind(case.order.district.clone())
    .bind(&text.summary)
    .bind(&text.reply)
    .bind(created_at)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// The latest `limit` steps of the cases of `platform` (any platform when None), newest
    /// first.
    pub async fn recent_steps(
        &self,
        platform: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RecentStep>, StoreError> {
        let rows = query(
            "SELECT c.case_number, c.platform, h.at, h.actor_role, h.actor_id, h.actor_unit, h.event, \
                    h.to_state, h.note \
             FROM case_history h JOIN cases c ON c.id = h.case_id \
             WHERE ($1 = '' OR c.platform = $1) ORDER BY h.at DESC, h.id DESC LIMIT $2",
        )
        .bind(platform.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecentStep {
                    case_number: r.try_get(0)?,
                    platform: r.try_get(1)?,
                    at: r.time(2)?,
                    actor_role: r.try_get(3)?,
                    actor_id: r.try_get(4)?,
                    actor_unit: r.try_get(5)?,
                    event: r.try_get(6)?,
                    to_state: r.try_get(7)?,
                    note: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// A page (1-based, `per_page` long) of the published cases whose summary or reply
    /// holds `search` (every case when empty), newest publication first; with the total.
    /// They are read from the public table, redacted when published: nothing there names the
    /// caller, so neither can a search.
    pub async fn published_cases(
        &self,
        search: &str,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<PublishedCase>, i64), StoreError> {
        let search = search.trim();
        let condition = "($1 = '' OR summary LIKE $2 ESCAPE '\\' OR reply LIKE $2 ESCAPE '\\')";
        let pattern = contains(search);
        let total: i64 = query(&format!(
            "SELECT COUNT(*) FROM published_cases WHERE {condition}"
        ))
        .bind(search)
        .bind(pattern.as_str())
        .fetch_one(self.pool())
        .await?
        .try_get(0)?;
        let per_page = i64::from(per_page.clamp(1, 100));
        let offset = (i64::from(page.max(1)) - 1) * per_page;
        let rows = query(&format!(
            "SELECT case_number, platform, category, district, summary, reply, created_at, published_at \
             FROM published_cases WHERE {condition} ORDER BY published_at DESC, case_id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(search)
        .bind(pattern.as_str())
        .bind(per_page)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(PublishedCase {
                    case_number: r.try_get(0)?,
                    platform: r.try_get(1)?,
                    category: r.try_get(2)?,
                    district: r.try_get(3)?,
                    summary: r.try_get(4)?,
                    reply: r.try_get(5)?,
                    created_at: r.time(6)?,
                    published_at: r.time(7)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((items, total))
    }

    /// Writes the public record of every published case that has none (cases published
    /// before the public table existed); how many were written.
    pub async fn backfill_published(&self) -> Result<usize, StoreError> {
        let rows = query(
            "SELECT case_number FROM cases WHERE state = 'published' \
             AND id NOT IN (SELECT case_id FROM published_cases)",
        )
        .fetch_all(self.pool())
        .await?;
        let mut written = 0;
        for r in &rows {
            let number: String = r.try_get(0)?;
            let Some(stored) = self.load_case(&number).await? else {
                continue;
            };
            let text = crate::cases::publish::public_text(&stored.case, &stored.caller);
            let at = stored
                .case
                .history
                .iter()
                .rev()
                .find(|h| h.event == "publish")
                .map_or(stored.created_at, |h| h.at);
            let (id, case, created_at) = (stored.id, stored.case, stored.created_at);
            self.write(move |conn| {
                Box::pin(
                    async move { insert_published(conn, id, &case, &text, created_at, at).await },
                )
            })
            .await?;
            written += 1;
        }
        Ok(written)
    }

    /// The seats' state changes in `[from, to)`, with each seat's last change before `from`
    /// (the state the period starts in), oldest first.
    pub async fn seat_states_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SeatStateRow>, StoreError> {
        let rows = query(
            "SELECT at, agent, state FROM agent_states WHERE (at >= $1 AND at < $2) \
                OR id IN (SELECT MAX(id) FROM agent_states WHERE at < $1 GROUP BY agent) \
             ORDER BY at, id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SeatStateRow {
                    at: r.time(0)?,
                    agent: r.try_get(1)?,
                    state: r.try_get(2)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_is_taken_literally() {
        assert_eq!(super::contains("噪音"), "%噪音%");
        assert_eq!(super::contains("100%_a\\"), "%100\\%\\_a\\\\%");
    }
}
