//! What the supervisors' wallboard, the statistics and the public page read beyond the case
//! lists: the latest steps of the cases, the published cases, and seats' state changes over a
//! period.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::{query, DbRow};
use super::{Store, StoreError};
use crate::cases::order::WorkOrder;

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

fn order_of(row: &DbRow, index: usize) -> WorkOrder {
    row.try_get::<Option<String>, _>(index)
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
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

    /// A page (1-based, `per_page` long) of the published cases whose keywords, summary or
    /// reply hold `search` (every case when empty), newest publication first; with the total.
    /// The caller's name, address and number are never read; the texts are redacted by
    /// [`crate::cases::publish::redact`]. The search runs over the redacted texts (in
    /// memory: a search for a caller's name must find nothing).
    pub async fn published_cases(
        &self,
        search: &str,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<PublishedCase>, i64), StoreError> {
        let rows = query(
            "SELECT c.case_number, c.platform, c.category, c.work_order, c.topic, r.note, c.created_at, p.at, c.caller \
             FROM cases c \
             JOIN case_history p ON p.id = (SELECT MAX(y.id) FROM case_history y \
                 WHERE y.case_id = c.id AND y.event = 'publish') \
             LEFT JOIN case_history r ON r.id = (SELECT MAX(x.id) FROM case_history x \
                 WHERE x.case_id = c.id AND x.event IN ('reply', 'answer-directly')) \
             WHERE c.state = 'published' ORDER BY p.at DESC, c.id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        let search = search.trim();
        let mut all = Vec::new();
        for r in &rows {
            let order = order_of(r, 3);
            let topic: String = r.try_get(4)?;
            let caller: String = r.try_get(8)?;
            let redact = |text: &str| crate::cases::publish::redact(text, &caller, &order);
            let summary = if order.summary.is_empty() {
                redact(&topic)
            } else {
                redact(&order.summary)
            };
            let reply = redact(&r.try_get::<Option<String>, _>(5)?.unwrap_or_default());
            if !search.is_empty()
                && ![&summary, &reply, &topic]
                    .iter()
                    .any(|t| t.contains(search))
            {
                continue;
            }
            all.push(PublishedCase {
                case_number: r.try_get(0)?,
                platform: r.try_get(1)?,
                category: r.try_get(2)?,
                district: order.district.clone(),
                summary,
                reply,
                created_at: r.time(6)?,
                published_at: r.time(7)?,
            });
        }
        let total = all.len() as i64;
        let per_page = per_page.clamp(1, 100) as usize;
        let offset = (page.max(1) as usize - 1) * per_page;
        Ok((all.into_iter().skip(offset).take(per_page).collect(), total))
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
