//! The case workflow through the API with each role's tokens, on SQLite and PostgreSQL: allowed
//! and refused transitions, visibility, supervision, statistics, and the exchange of a case
//! between two servers.

use crate::common;

use std::sync::Arc;

use common::harness::run_on;
use common::server::{Backend, ServerOptions, TestDatabase, TestServer};
use serde_json::{json, Value};

use common::cases::{
    a_call, api, event, OP_DALI, OP_KUNMING, SUP_KUNMING, SUP_PROVINCE, UNIT_KMHB, UNIT_KMZJ,
};

async fn roles_and_transitions(server: Arc<TestServer>) {
    let case = a_call(&server, "087163611111").await;
    let s = &*server;

    // Tokens.
    assert_eq!(
        api(s, None, "GET", &format!("/api/cases/{case}/history"), None)
            .await
            .0,
        401
    );
    assert_eq!(
        api(
            s,
            Some("nope"),
            "GET",
            &format!("/api/cases/{case}/history"),
            None
        )
        .await
        .0,
        401
    );
    let (status, wf) = api(
        s,
        Some(OP_KUNMING),
        "GET",
        &format!("/api/cases/{case}/history"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{wf}");
    assert_eq!(wf["state"], "accepted");
    assert!(
        wf["dispatch_due"].is_string(),
        "a new case has a dispatch deadline: {wf}"
    );

    // Who sees it: Dali's operator and a unit it was not dispatched to do not.
    assert_eq!(
        api(s, Some(OP_DALI), "GET", &format!("/api/cases/{case}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        api(
            s,
            Some(UNIT_KMHB),
            "GET",
            &format!("/api/cases/{case}"),
            None
        )
        .await
        .0,
        404
    );

    // Accept and dispatch.
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "dispatch", "unit": "kmhb"}),
    )
    .await;
    assert_eq!(st, 409, "no dispatch before a category: {body}");
    let (st, _) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "classify", "category": "complaint", "topic": "噪音扰民 夜间施工"}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "dispatch", "unit": "nobody"}),
    )
    .await;
    assert_eq!((st, body["field"].as_str()), (422, Some("unit")), "{body}");
    let (st, body) = event(s, OP_KUNMING, &case, json!({"action": "teleport"})).await;
    assert_eq!(st, 422, "{body}");
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "dispatch", "unit": "kmhb"}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["state"], "dispatched");
    assert!(body["sign_due"].is_string());

    // Signing: the unit only, and only its own.
    assert_eq!(
        event(s, OP_KUNMING, &case, json!({"action": "sign"}))
            .await
            .0,
        403
    );
    assert_eq!(
        event(s, UNIT_KMZJ, &case, json!({"action": "sign"}))
            .await
            .0,
        404,
        "not its case"
    );
    let (st, body) = event(s, UNIT_KMHB, &case, json!({"action": "sign"})).await;
    assert_eq!(st, 200, "{body}");
    assert!(body["handle_due"].is_string());
    // The unit sees it now, in its list.
    let (st, list) = api(s, Some(UNIT_KMHB), "GET", "/api/workflow/cases", None).await;
    assert_eq!(st, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(
        api(
            s,
            Some(UNIT_KMHB),
            "GET",
            "/api/workflow/cases?unit=kmzj",
            None
        )
        .await
        .0,
        403
    );

    // Extensions: the platform approves, at most two.
    let extend = json!({"action": "extend", "reason": "site survey needed"});
    assert_eq!(event(s, UNIT_KMHB, &case, extend.clone()).await.0, 403);
    assert_eq!(event(s, SUP_KUNMING, &case, extend.clone()).await.0, 200);
    assert_eq!(event(s, SUP_KUNMING, &case, extend.clone()).await.0, 200);
    let (st, body) = event(s, SUP_KUNMING, &case, extend).await;
    assert_eq!(st, 409, "a third extension: {body}");
    assert!(body["error"].as_str().unwrap().contains("at most twice"));

    // Reply, callback, close, publish.
    assert_eq!(
        event(
            s,
            UNIT_KMHB,
            &case,
            json!({"action": "reply", "reply": " "})
        )
        .await
        .0,
        422
    );
    assert_eq!(
        event(
            s,
            UNIT_KMHB,
            &case,
            json!({"action": "reply", "reply": "Night work stopped."})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        event(
            s,
            OP_KUNMING,
            &case,
            json!({"action": "callback", "reached": true, "satisfaction": "satisfied"})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        event(s, OP_KUNMING, &case, json!({"action": "close"}))
            .await
            .0,
        403,
        "an operator cannot close a unit's case"
    );
    assert_eq!(
        event(s, UNIT_KMHB, &case, json!({"action": "close"}))
            .await
            .0,
        403
    );
    assert_eq!(
        event(s, SUP_KUNMING, &case, json!({"action": "close"}))
            .await
            .0,
        200
    );
    let (st, body) = event(s, SUP_KUNMING, &case, json!({"action": "publish"})).await;
    assert_eq!(st, 200);
    let events: Vec<&str> = body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "classify", "dispatch", "sign", "extend", "extend", "reply", "callback", "close",
            "publish"
        ]
    );
    assert_eq!(body["history"][2]["actor_unit"], "kmhb");
    // Published: on the public list, with no token, its reply found by a search (a LIKE
    // pattern's % and _ taken literally), and nothing of the caller.
    let (st, public) = api(s, None, "GET", "/api/published", None).await;
    assert_eq!((st, public["total"].as_i64()), (200, Some(1)), "{public}");
    assert_eq!(public["items"][0]["case_number"], case.as_str());
    assert_eq!(public["items"][0]["reply"], "Night work stopped.");
    assert_eq!(public["items"][0]["summary"], "噪音扰民 夜间施工");
    assert!(!public.to_string().contains("087163611111"), "{public}");
    let (_, found) = api(s, None, "GET", "/api/published?q=Night%20work", None).await;
    assert_eq!(found["total"], 1, "{found}");
    let (_, none) = api(s, None, "GET", "/api/published?q=%25", None).await;
    assert_eq!(
        none["total"], 0,
        "a % is searched for, not a wildcard: {none}"
    );

    // Out of scope: closed with the channel named.
    let other = a_call(s, "087163611112").await;
    let (st, body) = event(
        s,
        OP_KUNMING,
        &other,
        json!({"action": "not-accepted", "reason": "medical-emergency"}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["channel"], "120 (medical emergency)");

    // Lists, filters and pages.
    let (st, page) = api(
        s,
        Some(SUP_PROVINCE),
        "GET",
        "/api/workflow/cases?state=published&per_page=1",
        None,
    )
    .await;
    assert_eq!((st, page["total"].as_i64()), (200, Some(1)), "{page}");
    assert_eq!(page["items"][0]["case_number"], case.as_str());
    let (_, page) = api(
        s,
        Some(SUP_PROVINCE),
        "GET",
        "/api/workflow/cases?per_page=1&page=2",
        None,
    )
    .await;
    assert_eq!(
        (
            page["total"].as_i64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    assert_eq!(
        api(
            s,
            Some(OP_KUNMING),
            "GET",
            "/api/workflow/cases?platform=532900",
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        api(
            s,
            Some(OP_KUNMING),
            "GET",
            "/api/workflow/cases?state=flying",
            None
        )
        .await
        .0,
        422
    );
    let (_, page) = api(
        s,
        Some(OP_KUNMING),
        "GET",
        "/api/workflow/cases?overdue=true",
        None,
    )
    .await;
    assert_eq!(page["total"], 0, "nothing overdue yet");

    // Supervision: a fresh dispatch is watched; nothing is due soon right after it.
    let third = a_call(s, "087163611113").await;
    event(
        s,
        OP_KUNMING,
        &third,
        json!({"action": "classify", "category": "consultation"}),
    )
    .await;
    event(
        s,
        OP_KUNMING,
        &third,
        json!({"action": "dispatch", "unit": "kmzj"}),
    )
    .await;
    let (st, marks) = api(s, Some(SUP_KUNMING), "GET", "/api/supervision", None).await;
    assert_eq!(st, 200);
    assert!(marks
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["case_number"] != third.as_str()));

    // Statistics.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    let path = format!("/api/statistics?from={today}&to={today}");
    assert_eq!(api(s, Some(OP_KUNMING), "GET", &path, None).await.0, 403);
    let (st, stats) = api(s, Some(SUP_PROVINCE), "GET", &path, None).await;
    assert_eq!(st, 200, "{stats}");
    assert_eq!(stats["total"], 3);
    assert_eq!(stats["by_category"]["complaint"], 1);
    assert_eq!(stats["on_time_by_unit"]["kmhb"]["rate"], 1.0);
    assert_eq!(stats["hot_keywords"][0][0], "噪音扰民");
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/api/statistics.csv?from={today}&to={today}",
            s.http
        ))
        .bearer_auth(SUP_PROVINCE)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.text().await.unwrap().contains("category,complaint,1\n"));

    // The OpenAPI description is served.
    let (st, doc) = api(s, None, "GET", "/api/openapi.json", None).await;
    assert_eq!((st, doc["openapi"].as_str()), (200, Some("3.0.3")));
    assert!(doc["paths"]["/api/cases/{case_number}/events"]["post"].is_object());
}

async fn escalation_linking_and_calendar(server: Arc<TestServer>) {
    let s = &*server;
    // A repeated call: the second case is proposed for linking to the first, and joins it.
    let first = a_call(s, "087163633333").await;
    event(
        s,
        OP_KUNMING,
        &first,
        json!({"action": "classify", "category": "complaint", "topic": "噪音扰民"}),
    )
    .await;
    let second = a_call(s, "087163633333").await;
    assert_ne!(first, second);
    event(
        s,
        OP_KUNMING,
        &second,
        json!({"action": "classify", "category": "complaint", "topic": "噪音扰民 又来了"}),
    )
    .await;
    let (st, related) = api(
        s,
        Some(OP_KUNMING),
        "GET",
        &format!("/api/cases/{second}/related"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(related[0]["case_number"], first.as_str(), "{related}");
    assert_eq!(
        related[0]["score"], 4,
        "same category, a shared keyword, and the same matter by the texts (2)"
    );
    // The second case has a history (it was classified): it stays a case of its own.
    let (st, _) = api(
        s,
        Some(OP_KUNMING),
        "POST",
        &format!("/api/cases/{second}/link"),
        Some(json!({"into": first})),
    )
    .await;
    assert_eq!(st, 409);
    let third = a_call(s, "087163633333").await;
    let (st, body) = api(
        s,
        Some(OP_KUNMING),
        "POST",
        &format!("/api/cases/{third}/link"),
        Some(json!({"into": first})),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body["history"].as_array().unwrap().last().unwrap()["event"],
        "link"
    );
    let (_, case) = api(
        s,
        Some(OP_KUNMING),
        "GET",
        &format!("/api/cases/{first}"),
        None,
    )
    .await;
    assert_eq!(
        case["calls"].as_array().unwrap().len(),
        2,
        "the repeated call joined: {case}"
    );
    assert_eq!(
        api(
            s,
            Some(OP_KUNMING),
            "GET",
            &format!("/api/cases/{third}"),
            None
        )
        .await
        .0,
        404
    );

    // Escalation to the province: Kunming no longer holds it; the province dispatches.
    let (st, body) = event(
        s,
        OP_KUNMING,
        &second,
        json!({"action": "escalate", "reason": "spans Kunming and Dali"}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["platform"], "530000");
    assert_eq!(
        api(
            s,
            Some(OP_KUNMING),
            "GET",
            &format!("/api/cases/{second}"),
            None
        )
        .await
        .0,
        404
    );
    let (st, body) = event(
        s,
        SUP_PROVINCE,
        &second,
        json!({"action": "dispatch", "unit": "yn-zjt"}),
    )
    .await;
    assert_eq!(st, 200, "{body}");

    // Supervisors are told when the holiday calendar lacks a year deadlines soon reach.
    let (st, cal) = api(s, Some(SUP_PROVINCE), "GET", "/api/calendar", None).await;
    assert_eq!(st, 200);
    assert!(cal["years"].as_array().unwrap().contains(&json!(2026)));
}

async fn exchange_between_servers(server: Arc<TestServer>, backend: Backend) {
    let case = a_call(&server, "087163622222").await;
    event(
        &server,
        OP_KUNMING,
        &case,
        json!({"action": "classify", "category": "report", "topic": "违规排污"}),
    )
    .await;
    event(
        &server,
        OP_KUNMING,
        &case,
        json!({"action": "dispatch", "unit": "kmhb", "legal_days": 10}),
    )
    .await;
    assert_eq!(
        api(
            &server,
            Some(OP_KUNMING),
            "GET",
            &format!("/api/exchange/cases/{case}"),
            None
        )
        .await
        .0,
        403
    );
    let (st, record) = api(
        &server,
        Some(SUP_PROVINCE),
        "GET",
        &format!("/api/exchange/cases/{case}"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{record}");
    assert_eq!(record["format"], "hotline12345.case");
    assert_eq!(record["history"].as_array().unwrap().len(), 2);

    // A second server (the provincial platform's own system), on its own database.
    let data = tempfile::tempdir().unwrap();
    let Some(db) = TestDatabase::create(backend, data.path()).await else {
        return;
    };
    let other = TestServer::start(&db.url, data, &ServerOptions::default());
    let import = |body: Value| {
        api(
            &other,
            Some(SUP_PROVINCE),
            "POST",
            "/api/exchange/cases",
            Some(body),
        )
    };
    let (st, body) = import(record.clone()).await;
    assert_eq!(st, 201, "{body}");
    let (st, body) = import(record.clone()).await;
    assert_eq!(
        (st, body["result"].as_str()),
        (200, Some("unchanged")),
        "importing twice changes nothing"
    );
    let (_, again) = api(
        &other,
        Some(SUP_PROVINCE),
        "GET",
        &format!("/api/exchange/cases/{case}"),
        None,
    )
    .await;
    assert_eq!(again, record, "the same case on the other server");

    // Malformed and conflicting records are refused and change nothing.
    let mut bad = record.clone();
    bad["history"][0]["event"] = json!("teleport");
    let (st, body) = import(bad).await;
    assert_eq!(
        (st, body["field"].as_str()),
        (422, Some("history[0].event")),
        "{body}"
    );
    let mut wrong = record.clone();
    wrong["format"] = json!("other");
    assert_eq!(import(wrong).await.0, 422);
    let mut conflicting = record.clone();
    conflicting["case"]["topic"] = json!("something else");
    assert_eq!(import(conflicting).await.0, 409);
    let (_, after) = api(
        &other,
        Some(SUP_PROVINCE),
        "GET",
        &format!("/api/exchange/cases/{case}"),
        None,
    )
    .await;
    assert_eq!(after, record, "unchanged by the refused imports");
    // The unit on the other side can carry on with the imported case.
    let (st, body) = event(&other, UNIT_KMHB, &case, json!({"action": "sign"})).await;
    assert_eq!(st, 200, "{body}");
    drop(other);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_transitions_sqlite() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        roles_and_transitions,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_transitions_postgres() {
    run_on(
        Backend::Postgres,
        ServerOptions::default(),
        roles_and_transitions,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_between_servers_sqlite() {
    run_on(Backend::Sqlite, ServerOptions::default(), |s| {
        exchange_between_servers(s, Backend::Sqlite)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_between_servers_postgres() {
    run_on(Backend::Postgres, ServerOptions::default(), |s| {
        exchange_between_servers(s, Backend::Postgres)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_linking_and_calendar_sqlite() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        escalation_linking_and_calendar,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_linking_and_calendar_postgres() {
    run_on(
        Backend::Postgres,
        ServerOptions::default(),
        escalation_linking_and_calendar,
    )
    .await;
}

/// Numbers beyond what the rules allow are refused with 422 naming the field and change
/// nothing; a body that does not fit names its real field; one unreadable stored row leaves
/// the lists working for everyone (also after a restart); unknown routes and wrong methods
/// answer JSON errors.
async fn bad_input_changes_nothing(server: Arc<TestServer>) {
    let s = &*server;
    let case = a_call(s, "087163622222").await;
    let other = a_call(s, "087163633333").await;
    let (st, _) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "classify", "category": "complaint"}),
    )
    .await;
    assert_eq!(st, 200);
    for days in [2_500_000u64, 4_294_967_295, 0] {
        let (st, body) = event(
            s,
            OP_KUNMING,
            &case,
            json!({"action": "dispatch", "unit": "kmhb", "legal_days": days}),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (422, Some("legal_days")),
            "{days}: {body}"
        );
    }
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "dispatch", "unit": "kmhb", "legal_days": 4_294_967_296u64}),
    )
    .await;
    assert_eq!(
        (st, body["field"].as_str()),
        (422, Some("legal_days")),
        "{body}"
    );
    let (_, history) = api(
        s,
        Some(OP_KUNMING),
        "GET",
        &format!("/api/cases/{case}/history"),
        None,
    )
    .await;
    assert_eq!(history["state"], "accepted", "nothing changed: {history}");

    // An empty text names its own field (it used to say "note").
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "escalate", "reason": "  "}),
    )
    .await;
    assert_eq!(
        (st, body["field"].as_str()),
        (422, Some("reason")),
        "{body}"
    );
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "classify", "category": 5}),
    )
    .await;
    assert_eq!(
        (st, body["field"].as_str()),
        (422, Some("category")),
        "{body}"
    );
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "return", "reason": "r", "colour": "red"}),
    )
    .await;
    assert_eq!(
        (st, body["field"].as_str()),
        (422, Some("colour")),
        "{body}"
    );

    // The largest limit the rules allow is taken.
    let (st, body) = event(
        s,
        OP_KUNMING,
        &case,
        json!({"action": "dispatch", "unit": "kmhb", "legal_days": 90}),
    )
    .await;
    assert_eq!(st, 200, "{body}");

    // One unreadable row (written behind the server's back) is left out of every list.
    if s.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
        sqlx::query("UPDATE cases SET handle_due = 'not a time', sign_due = 'garbage' WHERE case_number = $1")
            .bind(&other)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        for path in [
            "/api/workflow/cases",
            "/api/supervision",
            "/api/statistics?from=2020-01-01&to=2100-01-01",
        ] {
            let (st, body) = api(s, Some(SUP_KUNMING), "GET", path, None).await;
            assert_eq!(st, 200, "{path}: {body}");
        }
        let (_, page) = api(s, Some(SUP_KUNMING), "GET", "/api/workflow/cases", None).await;
        let numbers: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["case_number"].as_str())
            .collect();
        assert!(
            numbers.contains(&case.as_str()) && !numbers.contains(&other.as_str()),
            "{page}"
        );
        assert!(s.log().contains("unreadable row left out"));
    }

    // Unknown routes and wrong methods answer JSON.
    let (st, body) = api(s, Some(SUP_KUNMING), "GET", "/api/nothing-here", None).await;
    assert_eq!(st, 404);
    assert!(body["error"].is_string(), "{body}");
    let (st, body) = api(s, Some(SUP_KUNMING), "POST", "/api/units", Some(json!({}))).await;
    assert_eq!(st, 405);
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_changes_nothing_sqlite() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        bad_input_changes_nothing,
    )
    .await;
}
