//! The server's calls to operator seats: every seat rung for a caller's call, with the leg's own
//! Call-ID, when it rang, whether and when it answered, and how it ended. With the caller's
//! call they trace a case from the first ring to the operator who took it.

pub use super::model::AgentLegView;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::case_of_call;
use super::db::query;
use super::{Store, StoreError};

impl Store {
    /// A seat is being rung for the caller's call `sip_call_id` with the leg `leg_call_id`.
    pub async fn leg_rang(
        &self,
        sip_call_id: &str,
        leg_call_id: &str,
        agent: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let v = [sip_call_id, leg_call_id, agent].map(String::from);
        self.write(move |conn| {
            Box::pin(async move {
                let case_id = case_of_call(conn, &v[0]).await?;
                query(
                    "INSERT INTO agent_legs (case_id, sip_call_id, leg_call_id, agent, rang_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(case_id)
                .bind(&v[0])
                .bind(&v[1])
                .bind(&v[2])
                .bind(at)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The seat answered.
    pub async fn leg_answered(
        &self,
        leg_call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = query(
            "UPDATE agent_legs SET answered_at = $1 WHERE leg_call_id = $2 AND answered_at IS NULL",
        );
        self.write_query(q.bind(at).bind(leg_call_id)).await?;
        Ok(())
    }

    /// The leg ended with `outcome` (the first ending counts).
    pub async fn leg_ended(
        &self,
        leg_call_id: &str,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = query(
            "UPDATE agent_legs SET ended_at = $1, outcome = $2 \
             WHERE leg_call_id = $3 AND ended_at IS NULL",
        );
        self.write_query(q.bind(at).bind(outcome).bind(leg_call_id))
            .await?;
        Ok(())
    }

    /// The cases whose calls `seat` answered since `since`, the latest answer first (a case
    /// answered twice by the seat counts once, at its latest).
    pub async fn cases_answered_by(
        &self,
        seat: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<SeatCase>, StoreError> {
        let rows = query(
            "SELECT c.case_number, c.state, c.category, c.topic, l.answered_at \
             FROM agent_legs l JOIN cases c ON c.id = l.case_id \
             WHERE l.agent = $1 AND l.answered_at IS NOT NULL AND l.answered_at >= $2 \
             ORDER BY l.answered_at DESC, l.id DESC",
        )
        .bind(seat)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<SeatCase> = Vec::new();
        for r in &rows {
            let case = SeatCase {
                case_number: r.try_get(0)?,
                state: r.try_get(1)?,
                category: r.try_get(2)?,
                topic: r.try_get(3)?,
                answered_at: r.time(4)?,
            };
            if !out.iter().any(|c| c.case_number == case.case_number) {
                out.push(case);
            }
        }
        Ok(out)
    }

    /// The legs of every call of a case, oldest first, with the caller's Call-ID of each.
    pub async fn legs_of_case(
        &self,
        case_number: &str,
    ) -> Result<Vec<(String, AgentLegView)>, StoreError> {
        let rows = query(
            "SELECT l.sip_call_id, l.leg_call_id, l.agent, l.rang_at, l.answered_at, l.ended_at, l.outcome \
             FROM agent_legs l JOIN cases c ON c.id = l.case_id \
             WHERE c.case_number = $1 ORDER BY l.id",
        )
        .bind(case_number)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    AgentLegView {
                        leg_call_id: r.try_get(1)?,
                        agent: r.try_get(2)?,
                        rang_at: r.time(3)?,
                        answered_at: r.time_opt(4)?,
                        ended_at: r.time_opt(5)?,
                        outcome: r.try_get(6)?,
                    },
                ))
            })
            .collect()
    }
}

/// A case whose call a seat answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatCase {
    pub case_number: String,
    pub state: String,
    pub category: Option<String>,
    pub topic: String,
    /// When the seat answered its call (the latest, when it answered more than one).
    pub answered_at: DateTime<Utc>,
}
