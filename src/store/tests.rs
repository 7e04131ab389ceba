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
async fn on(backend: Kind, body: impl AsyncFnOnce(String)) {
    match backend {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            body(TestDb::sqlite(dir.path()).url().to_string()).await;
        }
        Kind::Postgres => {
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
                on(Kind::Sqlite, $body).await;
            }
            #[tokio::test]
            async fn postgres() {
                on(Kind::Postgres, $body).await;
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

on_both!(
    failed_writes_in_a_batch_spare_the_others,
    async |url: String| {
        let store = Store::open(&url).await.unwrap();
        store
            .open_call(call("taken", "530100", "2026-11-25T02:00:00Z"))
            .await
            .unwrap();
        let before = store.commits();
        // Sixty calls at once, every third reusing a Call-ID already stored: those fail inside
        // the shared transaction and must roll back alone, case and counter included.
        let mut tasks = Vec::new();
        for i in 0..60 {
            let store = store.clone();
            let id = if i % 3 == 0 {
                "taken".to_string()
            } else {
                format!("fresh-{i}")
            };
            tasks.push(tokio::spawn(async move {
                store
                    .open_call(call(&id, "530100", "2026-11-25T02:00:00Z"))
                    .await
            }));
        }
        let (mut ok, mut duplicates) = (Vec::new(), 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(opened) => ok.push(opened.case_number),
                Err(StoreError::Duplicate(_)) => duplicates += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((ok.len(), duplicates), (40, 20));
        assert!(store.commits() - before < 60, "writes were grouped");
        let cases = store.cases_by_caller("087163601234").await.unwrap();
        assert_eq!(cases.len(), 41, "no orphan case from a failed write");
        assert!(cases.iter().all(|c| c.calls.len() == 1));
        // Failed writes gave back their sequence numbers: 41 cases numbered 1..=41.
        let mut seqs: Vec<u32> = cases
            .iter()
            .map(|c| c.case_number[16..].parse().unwrap())
            .collect();
        seqs.sort();
        assert_eq!(seqs, (1..=41).collect::<Vec<_>>());
        store.close().await;
    }
);

on_both!(
    a_seats_answered_cases_are_listed_since_a_time,
    async |url: String| {
        let store = Store::open(&url).await.unwrap();
        for (id, at) in [
            ("a", "2026-11-24T09:00:00Z"),
            ("b", "2026-11-25T02:00:00Z"),
            ("c", "2026-11-25T03:00:00Z"),
        ] {
            store.open_call(call(id, "530100", at)).await.unwrap();
            store
                .leg_rang(id, &format!("leg-{id}"), "1001", t(at))
                .await
                .unwrap();
        }
        store
            .leg_rang("c", "leg-c2", "1002", t("2026-11-25T03:00:05Z"))
            .await
            .unwrap();
        for leg in ["leg-a", "leg-b", "leg-c2"] {
            let at = if leg == "leg-a" {
                "2026-11-24T09:00:09Z"
            } else {
                "2026-11-25T03:00:09Z"
            };
            store.leg_answered(leg, t(at)).await.unwrap();
        }
        // 1001 answered a (yesterday) and b; c rang it but 1002 answered.
        let today = store
            .cases_answered_by("1001", t("2026-11-24T16:00:00Z"))
            .await
            .unwrap();
        assert_eq!(today.len(), 1, "{today:?}");
        assert_eq!(today[0].state, "accepted");
        let all = store
            .cases_answered_by("1001", t("2026-11-01T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].answered_at > all[1].answered_at, "latest first");
        store.close().await;
    }
);

on_both!(
    queries_bind_and_decode_alike_on_both_backends,
    async |url: String| {
        use super::db::query;
        let store = Store::open(&url).await.unwrap();
        // Writes: NULLs of both kinds, rows affected, and a failing write inside the batch.
        let changed = store
            .write(|conn| {
                Box::pin(async move {
                    query("INSERT INTO case_counters (platform, day, last) VALUES ($1, $2, $3)")
                        .bind("999999")
                        .bind(String::from("20260101"))
                        .bind(7_i64)
                        .execute(&mut *conn)
                        .await?;
                    let done =
                        query("UPDATE case_counters SET last = last + $1 WHERE platform = $2")
                            .bind(1_i32)
                            .bind("999999")
                            .execute(&mut *conn)
                            .await?;
                    Ok(done.rows_affected())
                })
            })
            .await
            .unwrap();
        assert_eq!(changed, 1);
        let failed = store
            .write(|conn| {
                Box::pin(async move {
                    query("UPDATE case_counters SET last = 100 WHERE platform = $1")
                        .bind("999999")
                        .execute(&mut *conn)
                        .await?;
                    query("INSERT INTO no_such_table VALUES ($1)")
                        .bind(1_i64)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
        // Reads: by position and by name, typed NULLs, and no row at all.
        let row = query(
            "SELECT last, day, CAST($1 AS TEXT) AS no_text, CAST($2 AS BIGINT) AS no_number \
             FROM case_counters WHERE platform = $3",
        )
        .bind(None::<String>)
        .bind(None::<i64>)
        .bind("999999")
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            row.try_get::<i64, _>(0).unwrap(),
            8,
            "the failed write rolled back"
        );
        assert_eq!(row.try_get::<String, _>("day").unwrap(), "20260101");
        assert_eq!(row.try_get::<Option<String>, _>("no_text").unwrap(), None);
        assert_eq!(row.try_get::<Option<i64>, _>("no_number").unwrap(), None);
        let none = query("SELECT last FROM case_counters WHERE platform = $1")
            .bind("000000")
            .fetch_optional(store.pool())
            .await
            .unwrap();
        assert!(none.is_none());
        let all = query("SELECT platform FROM case_counters ORDER BY platform")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
        store.close().await;
    }
);

#[tokio::test]
async fn a_sqlite_file_is_created_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub-less.db");
    assert!(!path.exists());
    let url = format!("sqlite:{}", path.display());
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    let opened = store
        .open_call(call("kept", "530100", "2026-11-25T02:00:00Z"))
        .await
        .unwrap();
    store.close().await;
    assert!(path.exists(), "created when missing");
    let store = Store::open(&url).await.unwrap();
    let case = store
        .case_by_number(&opened.case_number)
        .await
        .unwrap()
        .expect("still there after a reopen");
    assert_eq!(case.calls[0].sip_call_id, "kept");
    let mode = super::db::query("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get::<String, _>(0)
        .unwrap();
    assert_eq!(mode, "wal");
    store.close().await;
}

/// A PostgreSQL database made before times became `TIMESTAMPTZ` (migrations 1 to 7, text
/// times) is converted at open, and its times read back unchanged.
#[tokio::test]
async fn postgres_text_times_are_converted_at_open() {
    on(Kind::Postgres, async |url: String| {
        let old = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(
                POSTGRES_MIGRATIONS
                    .iter()
                    .filter(|m| m.version < 8)
                    .cloned()
                    .collect(),
            ),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        old.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO cases (case_number, platform, caller, created_at) \
             VALUES ('530100-20261125-000007', '530100', '087163601234', '2026-11-25T02:00:00.250Z')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO calls (case_id, sip_call_id, caller, called, platform, route_reason, \
             started_at, ended_at, duration_ms, end_cause) SELECT id, 'old', caller, '12345', \
             platform, 'caller-area-code:0871', created_at, '2026-11-25T02:01:00.000Z', 59750, \
             'caller-hangup' FROM cases",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(&url).await.unwrap();
        let case = store
            .case_by_number("530100-20261125-000007")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.created_at, t("2026-11-25T02:00:00.250Z"));
        assert_eq!(case.calls[0].started_at, t("2026-11-25T02:00:00.250Z"));
        assert_eq!(case.calls[0].ended_at, Some(t("2026-11-25T02:01:00Z")));
        assert_eq!(case.calls[0].answered_at, None);
        let kind: String = super::db::query(
            "SELECT data_type FROM information_schema.columns \
             WHERE table_name = 'calls' AND column_name = 'started_at'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(kind, "timestamp with time zone");
        // New writes keep to the millisecond, like the text form on SQLite.
        store
            .open_call(call("new", "530100", "2026-11-25T03:00:00.123456Z"))
            .await
            .unwrap();
        let cases = store.cases_by_caller("087163601234").await.unwrap();
        assert_eq!(cases[0].created_at, t("2026-11-25T03:00:00.123Z"));
        store.close().await;
    })
    .await;
}

fn knowledge_draft(title: &str, answer: &str) -> crate::knowledge::Draft {
    crate::knowledge::Draft {
        title: title.into(),
        question: format!("{title}怎么办？"),
        answer: answer.into(),
        category: "住房".into(),
        platform: Some("530100".into()),
        source_department: Some("昆明住房公积金管理中心".into()),
        valid_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
        valid_to: None,
    }
}

on_both!(
    knowledge_keeps_every_version_and_refuses_a_stale_change,
    async |url: String| {
        use super::knowledge::ImportRow;
        let store = Store::open(&url).await.unwrap();
        let at = t("2026-12-01T02:00:00Z");
        let a = store
            .add_knowledge(knowledge_draft("公积金提取", "带身份证办理。"), "kb1", at)
            .await
            .unwrap();
        let b = store
            .add_knowledge(knowledge_draft("公积金贷款", "按余额计算。"), "kb1", at)
            .await
            .unwrap();
        assert_eq!((a.id, a.version, b.id), (1, 1, 2));

        // The next version names what changed and who changed it.
        let mut fields = a.fields.clone();
        fields.answer = "带身份证和购房合同办理。".into();
        let later = t("2026-12-01T03:00:00Z");
        let a2 = store
            .update_knowledge(a.id, 1, fields.clone(), "kb2", later)
            .await
            .unwrap();
        assert_eq!((a2.version, a2.updated_by.as_str()), (2, "kb2"));
        assert_eq!(a2.updated_at, later);
        // A change made from version 1 again is refused and changes nothing.
        let mut stale = a.fields.clone();
        stale.title = "过时的标题".into();
        let err = store
            .update_knowledge(a.id, 1, stale, "kb1", later)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        // Writing the same fields again writes no version.
        let same = store
            .update_knowledge(a.id, 2, fields, "kb1", later)
            .await
            .unwrap();
        assert_eq!(same.version, 2);
        assert!(matches!(
            store
                .update_knowledge(99, 1, a.fields.clone(), "kb1", later)
                .await,
            Err(StoreError::NotFound(_))
        ));

        let history = store.knowledge_history(a.id).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].changed.len(), 8, "version 1 sets every field");
        assert_eq!(history[0].entry.answer, "带身份证办理。");
        assert_eq!(history[1].changed, ["answer"]);
        assert_eq!(history[1].changed_by, "kb2");
        assert_eq!(store.knowledge_entry(a.id).await.unwrap().unwrap(), a2);

        // An import updates what it names and adds the rest, in one commit.
        let mut b_fields = b.fields.clone();
        b_fields.valid_to = chrono::NaiveDate::from_ymd_opt(2026, 12, 31);
        let counts = store
            .import_knowledge(
                vec![
                    ImportRow {
                        id: Some(a.id),
                        fields: a2.fields.clone(),
                    },
                    ImportRow {
                        id: Some(b.id),
                        fields: b_fields,
                    },
                    ImportRow {
                        id: Some(77),
                        fields: knowledge_draft("医保", "到医保局。"),
                    },
                    ImportRow {
                        id: None,
                        fields: knowledge_draft("社保", "到社保局。"),
                    },
                ],
                "kb3",
                later,
            )
            .await
            .unwrap();
        assert_eq!(
            (counts.created, counts.updated, counts.unchanged),
            (2, 1, 1)
        );
        let all = store.knowledge_entries().await.unwrap();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(all[1].version, 2);
        assert_eq!(
            all[1].fields.valid_to,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 31)
        );
        assert_eq!(
            store.knowledge_history(2).await.unwrap()[1].changed,
            ["valid_to"]
        );
    }
);

on_both!(cases_due_are_those_a_mark_can_reach, async |url: String| {
    use crate::cases::workflow::{Actor, CaseEvent, Role};
    let store = Store::open(&url).await.unwrap();
    let calendar = crate::calendar::WorkingCalendar::new(Vec::new()).unwrap();
    let rules = crate::calendar::DeadlineRules::new(&calendar, chrono_tz::Asia::Shanghai);
    let operator = Actor {
        role: Role::Operator,
        id: "op1".into(),
        unit: None,
    };
    // Two calls on Wednesday 25 November at 10:00 CST; one is classified and dispatched
    // (sign within 2 hours: due 12:00), the other stays accepted with no stored deadline.
    let dispatched = store
        .open_call(call("due-a", "530100", "2026-11-25T02:00:00Z"))
        .await
        .unwrap();
    let accepted = store
        .open_call(call("due-b", "530100", "2026-11-25T02:00:00Z"))
        .await
        .unwrap();
    let at = t("2026-11-25T02:00:00Z");
    for event in [
        CaseEvent::Classify {
            category: crate::cases::Category::Complaint,
            topic: None,
            order: None,
        },
        CaseEvent::Dispatch {
            unit: "kmhb".into(),
            legal_days: None,
        },
    ] {
        let before = store
            .load_case(&dispatched.case_number)
            .await
            .unwrap()
            .unwrap();
        let mut case = before.case.clone();
        case.apply(&operator, event, at, &rules).unwrap();
        store.save_transition(&before, &case).await.unwrap();
    }
    let numbers = |cases: Vec<workflow::StoredCase>| -> Vec<String> {
        cases.into_iter().map(|c| c.case.case_number).collect()
    };
    // Asked for what falls due before 11:00: the accepted case only (no deadline is stored
    // for it: the mark, from its creation, decides); before 13:00 the dispatched one too
    // (sign by 12:00); of another platform, neither.
    let early = store
        .open_cases_due(Some("530100"), t("2026-11-25T03:00:00Z"))
        .await
        .unwrap();
    assert_eq!(numbers(early), vec![accepted.case_number.clone()]);
    let later = store
        .open_cases_due(None, t("2026-11-25T05:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        numbers(later),
        vec![dispatched.case_number.clone(), accepted.case_number.clone()]
    );
    assert!(store
        .open_cases_due(Some("532900"), t("2026-11-25T05:00:00Z"))
        .await
        .unwrap()
        .is_empty());
    store.close().await;
});

on_both!(
    a_log_window_reads_again_only_its_last_minute,
    async |url: String| {
        use crate::acd::engine::{QueueLogEntry, QueueLogKind};
        let store = Store::open(&url).await.unwrap();
        let entry = |at: &str, call: &str, queue: &str| QueueLogEntry {
            at: t(at),
            queue: queue.into(),
            call: call.into(),
            agent: None,
            kind: QueueLogKind::EnterQueue,
        };
        store
            .log_queue(vec![
                entry("2026-11-25T01:00:00Z", "old", "530100"),
                entry("2026-11-25T02:00:00Z", "a", "530100"),
                entry("2026-11-25T02:00:10Z", "b", "532900"),
            ])
            .await
            .unwrap();
        let kunming = |e: &QueueLogEntry| e.queue == "530100";
        let calls = |entries: &[QueueLogEntry]| -> Vec<String> {
            entries.iter().map(|e| e.call.clone()).collect()
        };
        let mut window = board::LogWindow::default();
        let from = t("2026-11-25T01:30:00Z");
        let first = window
            .read(&store, kunming, from, t("2026-11-25T02:01:00Z"))
            .await
            .unwrap();
        assert_eq!(calls(first), ["a"]);
        // Written late (stored after the first reading, within its last minute) and after it:
        // both are in the next reading, once each; what left the stretch is dropped.
        store
            .log_queue(vec![
                entry("2026-11-25T02:00:30Z", "late", "530100"),
                entry("2026-11-25T02:01:30Z", "c", "530100"),
            ])
            .await
            .unwrap();
        let second = window
            .read(
                &store,
                kunming,
                t("2026-11-25T02:00:05Z"),
                t("2026-11-25T02:02:00Z"),
            )
            .await
            .unwrap();
        assert_eq!(calls(second), ["late", "c"]);
        // An earlier start than held reads the whole stretch again.
        let again = window
            .read(&store, kunming, from, t("2026-11-25T02:02:00Z"))
            .await
            .unwrap();
        assert_eq!(calls(again), ["a", "late", "c"]);
        store.close().await;
    }
);

on_both!(
    the_hotlines_own_calls_their_outcomes_ratings_and_audit,
    async |url: String| {
        use crate::cases::workflow::{Actor, Role};
        let store = Store::open(&url).await.unwrap();
        // A caller who gave up waiting: owed a callback.
        let missed = store
            .open_call(call("missed", "530100", "2026-11-25T02:00:00Z"))
            .await
            .unwrap();
        store
            .request_callback("missed", "abandoned", t("2026-11-25T02:00:30Z"))
            .await
            .unwrap();
        let owed = store.owed_callbacks().await.unwrap();
        assert_eq!(owed.len(), 1);
        assert_eq!((owed[0].attempts, owed[0].last_attempt), (0, None));
        // A callback by phone: its call is the case's, a busy line then a reached caller.
        store
            .open_outbound_call(
                &missed.case_number,
                "cb-1",
                "087163601234",
                "missed",
                t("2026-11-25T02:10:00Z"),
            )
            .await
            .unwrap();
        store
            .record_phone_callback(
                &missed.case_number,
                "cb-1",
                "1001",
                "busy",
                "missed",
                t("2026-11-25T02:10:20Z"),
            )
            .await
            .unwrap();
        let owed = store.owed_callbacks().await.unwrap();
        assert_eq!(
            (owed[0].attempts, owed[0].last_attempt),
            (1, Some(t("2026-11-25T02:10:20Z")))
        );
        store
            .record_phone_callback(
                &missed.case_number,
                "cb-1",
                "1001",
                "reached",
                "missed",
                t("2026-11-25T02:40:00Z"),
            )
            .await
            .unwrap();
        assert!(store.owed_callbacks().await.unwrap().is_empty());
        let case = store
            .case_by_number(&missed.case_number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.callback_status.as_deref(), Some("done"));
        let outcomes: Vec<_> = case
            .callback_attempts
            .iter()
            .map(|a| a.outcome.clone().unwrap())
            .collect();
        assert_eq!(outcomes, ["busy", "reached"]);
        let out = case.calls.iter().find(|c| c.sip_call_id == "cb-1").unwrap();
        assert_eq!(
            (out.direction.as_str(), out.called.as_str()),
            ("out", "087163601234")
        );
        // A confidential view hides the number called back too.
        let hidden = case.clone().without_caller();
        assert!(hidden.calls.iter().all(|c| c.called != "087163601234"));

        // A caller who calls again and gets through settles what is still owed to them.
        let again = store
            .open_call(call("first", "530100", "2026-11-26T02:00:00Z"))
            .await
            .unwrap();
        store
            .request_callback("first", "abandoned", t("2026-11-26T02:01:00Z"))
            .await
            .unwrap();
        store
            .open_call(call("second", "530100", "2026-11-26T03:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            store
                .settle_callbacks_of("087163601234", "second", t("2026-11-26T03:00:05Z"))
                .await
                .unwrap(),
            1
        );
        let case = store
            .case_by_number(&again.case_number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.callback_status.as_deref(), Some("done"));
        assert_eq!(
            case.callback_attempts[0].outcome.as_deref(),
            Some("called-again")
        );

        // Ratings: a call once, a matter once; the statistics count them by rating.
        assert!(store.rate_call("second", 2).await.unwrap());
        assert!(!store.rate_call("second", 3).await.unwrap(), "rated once");
        store
            .end_call("first", t("2026-11-26T02:05:00Z"), "agent-hangup")
            .await
            .unwrap();
        let ratings = store
            .call_ratings(
                t("2026-11-26T00:00:00Z"),
                t("2026-11-27T00:00:00Z"),
                Some("530100"),
            )
            .await
            .unwrap();
        assert_eq!(ratings.get("basicallysatisfied"), Some(&1));
        assert_eq!(
            ratings.get("none"),
            Some(&1),
            "an operator's call not rated"
        );
        assert!(store.rate_handling(&again.case_number, 1).await.unwrap());
        assert!(!store.rate_handling(&again.case_number, 3).await.unwrap());

        // The audit of a call, on its case.
        let sup = Actor {
            role: Role::Supervisor,
            id: "sup-kunming".into(),
            unit: None,
        };
        store
            .audit_call(
                "second",
                &sup,
                "monitor-listen",
                "1901",
                t("2026-11-26T03:01:00Z"),
            )
            .await
            .unwrap();
        store
            .audit_call(
                "second",
                &sup,
                "monitor-stop",
                "1901",
                t("2026-11-26T03:02:00Z"),
            )
            .await
            .unwrap();
        let second = store.cases_by_caller("087163601234").await.unwrap();
        let audit = &second
            .iter()
            .find(|c| c.calls.iter().any(|k| k.sip_call_id == "second"))
            .unwrap()
            .audit;
        let steps: Vec<_> = audit
            .iter()
            .map(|a| (a.actor_id.as_str(), a.action.as_str()))
            .collect();
        assert_eq!(
            steps,
            [
                ("sup-kunming", "monitor-listen"),
                ("sup-kunming", "monitor-stop")
            ]
        );
        assert!(store
            .audit_call("nope", &sup, "monitor-stop", "", t("2026-11-26T03:02:00Z"))
            .await
            .is_err());
        store.close().await;
    }
);

on_both!(unsigned_cases_and_their_reminders, async |url: String| {
    let store = Store::open(&url).await.unwrap();
    let opened = store
        .open_call(call("r", "530100", "2026-11-25T02:00:00Z"))
        .await
        .unwrap();
    // Dispatched to kmhb at 10:00 local: to be signed by 12:00.
    crate::store::db::query(
            "UPDATE cases SET state = 'dispatched', unit = 'kmhb', sign_due = $1 WHERE case_number = $2",
        )
        .bind(t("2026-11-25T04:00:00Z"))
        .bind(opened.case_number.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    let unsigned = store.unsigned_cases().await.unwrap();
    assert_eq!(unsigned.len(), 1);
    assert_eq!(
        (unsigned[0].unit.as_str(), unsigned[0].reminders),
        ("kmhb", 0)
    );
    assert_eq!(unsigned[0].sign_due, t("2026-11-25T04:00:00Z"));
    store
        .record_reminder(
            &opened.case_number,
            "kmhb",
            "087163100101",
            "no-answer",
            "rem-1",
            t("2026-11-25T03:00:00Z"),
        )
        .await
        .unwrap();
    let unsigned = store.unsigned_cases().await.unwrap();
    assert_eq!(
        (unsigned[0].reminders, unsigned[0].last_reminder),
        (1, Some(t("2026-11-25T03:00:00Z")))
    );
    let reminders = store.reminders_of(&opened.case_number).await.unwrap();
    assert_eq!(reminders[0].outcome, "no-answer");
    assert_eq!(reminders[0].sip_call_id.as_deref(), Some("rem-1"));
    store.close().await;
});

on_both!(
    receipts_complete_an_sms_even_when_they_come_first,
    async |url: String| {
        use super::requests::{Notice, Outgoing};
        use crate::intake::Channel;
        let store = Store::open(&url).await.unwrap();
        let at = t("2026-12-07T02:00:00Z");
        let sms = |to: &str| Notice {
            out: Outgoing {
                channel: Channel::Sms,
                kind: "code".into(),
                recipient: to.into(),
                subject: String::new(),
                body: "【12345】验证码".into(),
                attachment: None,
                in_reply_to: None,
            },
            sender: "12345".into(),
            first_answer: false,
        };
        let id = store
            .send_on_case(None, sms("13008651234"), at)
            .await
            .unwrap();
        // The second part's receipt overtakes the submit's outcome; the first comes after.
        assert!(!store.sms_receipt("p2", "DELIVRD", at).await.unwrap());
        store
            .outbox_sent(id, vec!["p1".into(), "p2".into()], at)
            .await
            .unwrap();
        let entry = |store: Store| async move {
            store
                .outbox(None, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|e| e.id == id)
                .unwrap()
        };
        assert_eq!(
            entry(store.clone()).await.delivery,
            None,
            "one part still out"
        );
        assert!(store.sms_receipt("p1", "DELIVRD", at).await.unwrap());
        assert_eq!(
            entry(store.clone()).await.delivery.as_deref(),
            Some("DELIVRD")
        );
        // A part that failed makes the SMS failed with that state.
        let id2 = store
            .send_on_case(None, sms("13008655678"), at)
            .await
            .unwrap();
        store.outbox_sent(id2, vec!["q1".into()], at).await.unwrap();
        store.sms_receipt("q1", "UNDELIV", at).await.unwrap();
        let e2 = store
            .outbox(None, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.id == id2)
            .unwrap();
        assert_eq!(e2.delivery.as_deref(), Some("UNDELIV"));
        // Receipts for ids never sent are kept an hour at most.
        for i in 0..5 {
            store
                .sms_receipt(&format!("ghost{i}"), "DELIVRD", at)
                .await
                .unwrap();
        }
        store
            .sms_receipt("late-ghost", "DELIVRD", at + chrono::Duration::hours(2))
            .await
            .unwrap();
        let left: i64 = db::query("SELECT COUNT(*) FROM sms_early_receipts")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(left, 1, "only the last is kept");
        store.close().await;
    }
);
