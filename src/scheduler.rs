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

/// One round: records the marks of every open case; returns how many are new.
pub async fn mark_once(
    store: &Store,
    dialplan: &LiveDialplan,
) -> Result<u64, crate::store::StoreError> {
    let plan = dialplan.current();
    let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
    let now = Utc::now();
    let mut found = Vec::new();
    for stored in store.open_cases(None, None).await? {
        let stored = stored.with_dispatch_deadline(&rules);
        if let Some(mark) = marks(&stored.case, now) {
            if mark.level == MarkLevel::Overdue {
                info!(case = stored.case.case_number, kind = mark.kind.as_str(), due = %mark.due, "overdue");
            }
            found.push((stored.id, mark.kind.as_str(), mark.level.as_str(), mark.due));
        }
    }
    store.record_marks(found, now).await
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

    #[tokio::test]
    async fn marks_are_recorded_once_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testdb::TestDb::sqlite(dir.path())
            .url()
            .to_string();
        let dialplan = LiveDialplan::load(
            &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dialplan"),
        )
        .unwrap();
        let store = Store::open(&url).await.unwrap();
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
