//! The store on SQLite and on PostgreSQL, with the same test bodies.

use chrono::{DateTime, Utc};

use super::testdb::TestDb;
use super::voicemail::FinishedVoicemail;
use super::*;

/// The PostgreSQL server for tests.
fn postgres_base() -> String {
    std::env::var("HOTLINE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Runs `body` against a fresh database of each backend.
async fn on(backend: Backend, body: impl AsyncFnOnce(String)) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            body(TestDb::sqlite(dir.path()).url().to_string()).await;
        }
        Backend::Postgres => {
            let db = match TestDb::postgres(&postgres_base()).await {
                Ok(db) => db,
                Err(e) if std::env::var("CI").is_err() => {
                    eprintln!("note: no PostgreSQL ({e}); skipping");
                    return;
                }
                Err(e) => panic!("PostgreSQL is required in CI: {e}"),
            };
            body(db.url().to_string()).await;
            db.cleanup().await;
        }
    }
}

macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                on(Backend::Sqlite, $body).await;
            }
            #[tokio::test]
            async fn postgres() {
                on(Backend::Postgres, $body).await;
            }
        }
    };
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn call(id: &str, platform: &str, at: &str) -> NewCall {
    NewCall {
        sip_call_id: id.into(),
        caller: "087163601234".into(),
        called: "12345".into(),
        platform: platform.into(),
        route_reason: "caller-area-code:0871".into(),
        started_at: t(at),
    }
}

on_both!(
    case_numbers_count_per_platform_and_day,
    async |url: String| {
        let store = Store::open(&url).await.unwrap();
        let a = store
            .open_call(call("a", "530100", "2026-11-25T02:00:00Z"))
            .await
            .unwrap();
        let b = store
            .open_call(call("b", "530100", "2026-11-25T03:00:00Z"))
            .await
            .unwrap();
        let c = store
            .open_call(call("c", "532900", "2026-11-25T03:00:00Z"))
            .await
            .unwrap();
        let d = store
            .open_call(call("d", "530100", "2026-11-25T16:30:00Z"))
            .await
            .unwrap();
        assert_eq!(a.case_number, "530100-20261125-000001");
        assert_eq!(b.case_number, "530100-20261125-000002");
        assert_eq!(c.case_number, "532900-20261125-000001");
        assert_eq!(
            d.case_number, "530100-20261126-000001",
            "00:30 next day in Shanghai"
        );
        store.close().await;
    }
);

on_both!(concurrent_calls_share_commits, async |url: String| {
    let store = Store::open(&url).await.unwrap();
    let before = store.commits();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .open_call(call(&format!("call-{i}"), "530100", "2026-11-25T02:00:00Z"))
                .await
                .unwrap()
                .case_number
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 200, "unique case numbers");
    let commits = store.commits() - before;
    assert!(
        commits < 200,
        "group commit: {commits} commits for 200 calls"
    );
    println!(
        "200 concurrent calls on {}: {commits} commits",
        store.backend_name()
    );
    store.close().await;
});

on_both!(
    a_call_ends_once_with_duration_and_cause,
    async |url: String| {
        let store = Store::open(&url).await.unwrap();
        store
            .open_call(call("x", "530100", "2026-11-25T02:00:00Z"))
            .await
            .unwrap();
        store
            .mark_answered("x", t("2026-11-25T02:00:01Z"))
            .await
            .unwrap();
        store
            .end_call("x", t("2026-11-25T02:01:30.500Z"), "caller-hangup")
            .await
            .unwrap();
        store
            .end_call("x", t("2026-11-25T02:05:00Z"), "media-timeout")
            .await
            .unwrap();
        let cases = store.cases_by_caller("087163601234").await.unwrap();
        let c = &cases[0].calls[0];
        assert_eq!(c.duration_ms, Some(90_500));
        assert_eq!(c.end_cause.as_deref(), Some("caller-hangup"));
        assert_eq!(c.answered_at, Some(t("2026-11-25T02:00:01Z")));
        store.close().await;
    }
);

on_both!(open_calls_are_closed_after_a_crash, async |url: String| {
    let store = Store::open(&url).await.unwrap();
    store
        .open_call(call("open", "530100", "2026-11-25T02:00:00Z"))
        .await
        .unwrap();
    store
        .open_call(call("done", "530100", "2026-11-25T02:00:00Z"))
        .await
        .unwrap();
    store
        .end_call("done", t("2026-11-25T02:00:10Z"), "caller-hangup")
        .await
        .unwrap();
    drop(store);
    // A new store on the same database, as after a restart.
    let store = Store::open(&url).await.unwrap();
    let n = store
        .end_open_calls(t("2026-11-25T03:00:00Z"), "server-restart")
        .await
        .unwrap();
    assert_eq!(n, 1);
    let cases = store.cases_by_caller("087163601234").await.unwrap();
    assert_eq!(cases.len(), 2, "both cases survived");
    let causes: Vec<_> = cases
        .iter()
        .map(|c| c.calls[0].end_cause.clone().unwrap())
        .collect();
    assert!(causes.contains(&"server-restart".to_string()));
    assert!(causes.contains(&"caller-hangup".to_string()));
    let by_number = store
        .case_by_number(&cases[0].case_number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_number, cases[0]);
    assert_eq!(
        store
            .case_by_number("530100-20990101-000001")
            .await
            .unwrap(),
        None
    );
    store.close().await;
});

on_both!(
    a_duplicate_call_leaves_no_orphan_case,
    async |url: String| {
        let store = Store::open(&url).await.unwrap();
        store
            .open_call(call("dup", "530100", "2026-11-25T02:00:00Z"))
            .await
            .unwrap();
        let err = store
            .open_call(call("dup", "530100", "2026-11-25T02:00:00Z"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate(_)), "{err}");
        // Other writes in the same batch are unharmed, and no second case exists.
        store
            .open_call(call("next", "530100", "2026-11-25T02:00:00Z"))
            .await
            .unwrap();
        let cases = store.cases_by_caller("087163601234").await.unwrap();
        assert_eq!(cases.len(), 2);
        assert!(cases.iter().all(|c| c.calls.len() == 1));
        store.close().await;
    }
);

#[tokio::test]
async fn bad_urls_are_refused() {
    for url in ["mysql://x", "hotline.db", ""] {
        assert!(
            matches!(Store::open(url).await, Err(StoreError::BadUrl(_))),
            "{url}"
        );
    }
}

on_both!(
    a_voicemail_awaits_its_callback_until_reached,
    async |url: String| {
        let store = Store::open(&url).await.unwrap();
        let opened = store
            .open_call(call("vm1", "530100", "2026-11-25T13:00:00Z"))
            .await
            .unwrap();
        let id = store
            .start_voicemail("vm1", "voicemail/vm1.wav", t("2026-11-25T13:00:05Z"))
            .await
            .unwrap();
        assert_eq!(
            store.recording_voicemails().await.unwrap().len(),
            1,
            "recoverable after a crash"
        );
        store
            .finish_voicemail(
                id,
                FinishedVoicemail {
                    duration_ms: 4200,
                    size_bytes: 67244,
                    sha256: "ab".repeat(32),
                    callback_due: t("2026-11-26T02:00:00Z"),
                },
            )
            .await
            .unwrap();
        let waiting = store
            .voicemails(Some("530100"), Some("awaiting-callback"))
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].case_number, opened.case_number);
        assert_eq!(waiting[0].duration_ms, Some(4200));
        assert!(store
            .voicemails(Some("532900"), None)
            .await
            .unwrap()
            .is_empty());
        let case = store
            .case_by_number(&opened.case_number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.state, "accepted");
        assert_eq!(case.callback_status.as_deref(), Some("awaiting"));
        assert_eq!(case.voicemails.len(), 1);

        let v = store
            .record_callback(id, false, "op1", "no answer", t("2026-11-26T01:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            (v.attempts, v.status.as_str(), v.last_outcome.as_deref()),
            (1, "awaiting-callback", Some("not-reached"))
        );
        let v = store
            .record_callback(id, true, "op1", "explained", t("2026-11-26T01:30:00Z"))
            .await
            .unwrap();
        assert_eq!((v.attempts, v.status.as_str()), (2, "called-back"));
        assert!(matches!(
            store
                .record_callback(id, true, "op1", "again", t("2026-11-26T01:40:00Z"))
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .record_callback(999, true, "op1", "x", t("2026-11-26T01:40:00Z"))
                .await,
            Err(StoreError::NotFound(_))
        ));
        let case = store
            .case_by_number(&opened.case_number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.callback_status.as_deref(), Some("done"));

        // An empty message leaves no record.
        store
            .open_call(call("vm2", "530100", "2026-11-25T13:10:00Z"))
            .await
            .unwrap();
        let id2 = store
            .start_voicemail("vm2", "voicemail/vm2.wav", t("2026-11-25T13:10:05Z"))
            .await
            .unwrap();
        store.discard_voicemail(id2).await.unwrap();
        assert_eq!(store.voicemails(None, None).await.unwrap().len(), 1);
        store.close().await;
    }
);
