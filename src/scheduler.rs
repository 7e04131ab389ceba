//! The supervision scheduler: every minute (and at start-up) it computes, from the stored
//! deadlines, which open cases are due soon or overdue, and records each new mark with the time
//! it was first seen. Marks survive a restart, and a restart misses none: they are recomputed
//! from stored data, never held only in memory.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tracing::{info, warn};

use crate::calendar::DeadlineRules;
use crate::cases::supervision::{marks, MarkLevel};
use crate::dialplan::LiveDialplan;
use crate::store::Store;

/// How often marks are computed.
pub const EVERY: Duration = Duration::from_secs(60);

/// Open cases read at once: a round holds one page in memory, never every open case (with
/// all of them at once, the round's peak grew by about 3 KB per open case, and the server's
/// memory with it: BENCHMARKS.md, soak).
pub const PAGE: u32 = 500;

/// One round: records the marks of every open case, a page at a time; returns how many are
/// new.
pub async fn mark_once(
    store: &Store,
    dialplan: &LiveDialplan,
) -> Result<u64, crate::store::StoreError> {
    mark_in_pages(store, dialplan, PAGE).await
}

async fn mark_in_pages(
    store: &Store,
    dialplan: &LiveDialplan,
    page_size: u32,
) -> Result<u64, crate::store::StoreError> {
    let plan = dialplan.current();
    let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
    let now = Utc::now();
    let mut new = 0;
    let mut after = 0;
    loop {
        let page = store.open_cases_page(after, page_size).await?;
        let Some(last) = page.last() else {
            return Ok(new);
        };
        after = last.id;
        let full = page.len() == page_size as usize;
        let mut found = Vec::new();
        for stored in page {
            let stored = stored.with_dispatch_deadline(&rules);
            if let Some(mark) = marks(&stored.case, now) {
                if mark.level == MarkLevel::Overdue {
                    info!(case = stored.case.case_number, kind = mark.kind.as_str(), due = %mark.due, "overdue");
                }
                found.push((stored.id, mark.kind.as_str(), mark.level.as_str(), mark.due));
            }
        }
        new += store.record_marks(found, now).await?;
        if !full {
            return Ok(new);
        }
    }
}

/// Runs rounds until the process ends.
pub async fn run(store: Store, dialplan: Arc<LiveDialplan>) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        match mark_once(&store, &dialplan).await {
            Ok(0) => {}
            Ok(n) => info!(new_marks = n, "supervision marks recorded"),
            Err(e) => warn!(error = %e, "supervision round failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewCall;

    /// A SQLite store in `dir` (its URL too) and the bundled dialplan.
    async fn sqlite_store(dir: &tempfile::TempDir) -> (String, LiveDialplan, Store) {
        let url = crate::store::testdb::TestDb::sqlite(dir.path())
            .url()
            .to_string();
        let dialplan = LiveDialplan::load(
            &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dialplan"),
        )
        .unwrap();
        let store = Store::open(&url).await.unwrap();
        (url, dialplan, store)
    }

    #[tokio::test]
    async fn a_round_reads_the_open_cases_a_page_at_a_time_and_misses_none() {
        let dir = tempfile::tempdir().unwrap();
        let (_, dialplan, store) = sqlite_store(&dir).await;
        // Five cases accepted weeks ago and never dispatched: each is overdue.
        for i in 0..5 {
            store
                .open_call(NewCall {
                    sip_call_id: format!("old-{i}"),
                    caller: format!("08716360123{i}"),
                    called: "12345".into(),
                    platform: "530100".into(),
                    route_reason: "caller-area-code:0871".into(),
                    started_at: "2026-11-02T02:00:00Z".parse().unwrap(),
                })
                .await
                .unwrap();
        }
        let first = store.open_cases_page(0, 2).await.unwrap();
        assert_eq!(first.len(), 2);
        let rest = store.open_cases_page(first[1].id, 10).await.unwrap();
        assert_eq!(
            rest.len(),
            3,
            "the page after the second case holds the other three"
        );
        assert!(rest[0].id > first[1].id);
        // Pages of 2, and of 5 (a full last page, then an empty one): every case is marked.
        assert_eq!(mark_in_pages(&store, &dialplan, 2).await.unwrap(), 5);
        assert_eq!(mark_in_pages(&store, &dialplan, 5).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn marks_are_recorded_once_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (url, dialplan, store) = sqlite_store(&dir).await;
        // A case accepted weeks ago and never dispatched: its dispatch deadline has passed.
        let old = NewCall {
            sip_call_id: "old".into(),
            caller: "087163601234".into(),
            called: "12345".into(),
            platform: "530100".into(),
            route_reason: "caller-area-code:0871".into(),
            started_at: "2026-11-02T02:00:00Z".parse().unwrap(),
        };
        let opened = store.open_call(old).await.unwrap();
        assert_eq!(mark_once(&store, &dialplan).await.unwrap(), 1);
        assert_eq!(
            mark_once(&store, &dialplan).await.unwrap(),
            0,
            "a mark is recorded once"
        );
        store.close().await;
        drop(store);

        let store = Store::open(&url).await.unwrap();
        let stored = store.load_case(&opened.case_number).await.unwrap().unwrap();
        let plan = dialplan.current();
        let stored =
            stored.with_dispatch_deadline(&DeadlineRules::new(&plan.calendar, plan.time_zone));
        let due = stored.case.deadlines.dispatch.unwrap().at;
        let at = store
            .mark_recorded_at(stored.id, "dispatch", "overdue", due)
            .await
            .unwrap();
        assert!(at.is_some(), "the mark is still there after a restart");
        assert_eq!(mark_once(&store, &dialplan).await.unwrap(), 0);
    }
}
