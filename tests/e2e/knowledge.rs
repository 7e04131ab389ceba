//! The knowledge base through the API of the real server: editors write entries and new
//! versions, everyone searches in Chinese, a stale change and bad data are refused and change
//! nothing, export and import round-trip, and a crash loses no acknowledged entry.

use crate::common;

use std::sync::Arc;

use common::harness::run_on;
use common::server::{Backend, ServerOptions, TestServer};
use serde_json::{json, Value};

const EDITOR: &str = "dev-kb-kunming";
const OPERATOR: &str = "dev-op-kunming-1";
const OP_DALI: &str = "dev-op-dali-1";
const SUP_PROVINCE: &str = "dev-sup-province";

async fn api(
    server: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> (u16, Value) {
    server.request(Some(token), method, path, body).await
}

fn json_body(v: Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

async fn search(server: &TestServer, token: &str, q: &str) -> Vec<Value> {
    let (status, body) = api(
        server,
        token,
        "GET",
        &format!("/api/knowledge/search?q={}", common::server::urlencode(q)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["hits"].as_array().unwrap().clone()
}

fn entry(title: &str, question: &str, answer: &str, platform: Option<&str>) -> Value {
    json!({
        "title": title,
        "question": question,
        "answer": answer,
        "category": "住房",
        "platform": platform,
        "source_department": "昆明市住房公积金管理中心",
        "valid_from": "2026-01-01",
    })
}

async fn editors_write_and_operators_find(server: Arc<TestServer>) {
    let s = &*server;
    let (status, fund) = api(
        s,
        EDITOR,
        "POST",
        "/api/knowledge",
        json_body(entry(
            "住房公积金提取",
            "什么情况下可以提取住房公积金？",
            "购房、租房、退休可申请提取住房公积金，携带身份证到管理中心办理。",
            Some("530100"),
        )),
    )
    .await;
    assert_eq!(status, 201, "{fund}");
    assert_eq!(fund["version"], 1);
    assert_eq!(fund["updated_by"], "kb-kunming");
    let id = fund["id"].as_i64().unwrap();
    for (title, question, answer) in [
        (
            "社保卡挂失",
            "社保卡丢了怎么办？",
            "到社保经办机构挂失补办。",
        ),
        (
            "公积金贷款额度",
            "公积金能贷多少？",
            "与缴存余额和年限有关。",
        ),
    ] {
        let (status, body) = api(
            s,
            EDITOR,
            "POST",
            "/api/knowledge",
            json_body({
                let mut e = entry(title, question, answer, Some("530100"));
                if title.starts_with("社保") {
                    e["category"] = json!("社保");
                }
                e
            }),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }

    // Refused, and nothing changes: an operator who is no editor, another platform's entry,
    // an entry for every platform from a prefecture's editor, and bad fields named.
    let count = || async {
        api(s, OPERATOR, "GET", "/api/knowledge", None)
            .await
            .1
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count().await, 3);
    let draft = entry("户口迁移", "户口怎么迁？", "到派出所办理。", Some("530100"));
    let (status, body) = api(
        s,
        OPERATOR,
        "POST",
        "/api/knowledge",
        json_body(draft.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = api(
        s,
        EDITOR,
        "POST",
        "/api/knowledge",
        json_body(entry("x", "y", "z", Some("532900"))),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = api(
        s,
        EDITOR,
        "POST",
        "/api/knowledge",
        json_body(entry("x", "y", "z", None)),
    )
    .await;
    assert_eq!(status, 403);
    let mut bad = draft.clone();
    bad["answer"] = json!("  ");
    let (status, body) = api(s, EDITOR, "POST", "/api/knowledge", json_body(bad)).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("answer")),
        "{body}"
    );
    let mut bad = draft.clone();
    bad["valid_to"] = json!("2025-01-01");
    let (status, body) = api(s, EDITOR, "POST", "/api/knowledge", json_body(bad)).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("valid_to")),
        "{body}"
    );
    let mut bad = draft.clone();
    bad["colour"] = json!("red");
    let (status, body) = api(s, EDITOR, "POST", "/api/knowledge", json_body(bad)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("colour"), "{body}");
    assert_eq!(count().await, 3);

    // A whole spoken sentence finds the withdrawal entry first, highlighted.
    let hits = search(s, OPERATOR, "我想问一下住房公积金怎么提取").await;
    assert_eq!(hits[0]["entry"]["id"], id, "{hits:?}");
    assert!(
        hits[0]["title_html"].as_str().unwrap().contains("<b>"),
        "{hits:?}"
    );
    assert!(
        hits.iter().all(|h| h["entry"]["title"] != "社保卡挂失"),
        "{hits:?}"
    );
    // Dali's operator does not see Kunming's entries; nor does anyone ask for them.
    assert!(search(s, OP_DALI, "住房公积金提取").await.is_empty());
    let (status, _) = api(
        s,
        OP_DALI,
        "GET",
        "/api/knowledge/search?q=a&platform=530100",
        None,
    )
    .await;
    assert_eq!(status, 403);
    // Any text is a query.
    for q in ["\"((", "title:*", "AND", "12345:投诉"] {
        search(s, OPERATOR, q).await;
    }

    // A new version names what changed; a change from the old version is refused.
    let mut next = fund.clone();
    for k in ["id", "updated_at", "updated_by"] {
        next.as_object_mut().unwrap().remove(k);
    }
    next["answer"] = json!("购房、租房、退休、离职可申请提取住房公积金。");
    let (status, v2) = api(
        s,
        EDITOR,
        "PUT",
        &format!("/api/knowledge/{id}"),
        json_body(next.clone()),
    )
    .await;
    assert_eq!(status, 200, "{v2}");
    assert_eq!(v2["version"], 2);
    let (status, body) = api(
        s,
        EDITOR,
        "PUT",
        &format!("/api/knowledge/{id}"),
        json_body(next),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (_, history) = api(
        s,
        OPERATOR,
        "GET",
        &format!("/api/knowledge/{id}/history"),
        None,
    )
    .await;
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history[1]["changed"], json!(["answer"]));
    assert_eq!(history[1]["changed_by"], "kb-kunming");
    let hits = search(s, OPERATOR, "离职提取公积金").await;
    assert_eq!(
        hits[0]["entry"]["version"], 2,
        "the index has the new version: {hits:?}"
    );

    // Export as CSV, change a row in it, import it back: one update, the rest unchanged.
    let client = reqwest::Client::new();
    let csv = client
        .get(format!("{}/api/knowledge/export?format=csv", s.http))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with('\u{feff}'), "{csv}");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let edited = csv.replace(
        "到社保经办机构挂失补办。",
        "到社保经办机构或合作银行挂失补办。",
    );
    let (status, counts) = api(
        s,
        EDITOR,
        "POST",
        "/api/knowledge/import",
        Some(("text/csv", edited)),
    )
    .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts, json!({"created": 0, "updated": 1, "unchanged": 2}));
    // A JSON import with one bad row changes nothing, and names the row.
    let rows = json!([
        {"title": "医保", "question": "医保怎么办？", "answer": "到医保局。", "category": "医保", "platform": "530100"},
        {"title": "", "question": "q", "answer": "a", "category": "c", "platform": "530100"},
    ]);
    let (status, body) = api(s, EDITOR, "POST", "/api/knowledge/import", json_body(rows)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "row 2: title");
    assert_eq!(count().await, 3);
    assert_eq!(search(s, OPERATOR, "合作银行").await.len(), 1);

    // A crash loses nothing acknowledged, and the index is built again from the store.
    server.crash();
    let restarted = TestServer::start_in(&server.database_url, &server.data, &Default::default());
    let hits = search(&restarted, OPERATOR, "我想问一下住房公积金怎么提取").await;
    assert_eq!(hits[0]["entry"]["id"], id);
    assert_eq!(hits[0]["entry"]["version"], 2);
    let (_, all) = api(
        &restarted,
        SUP_PROVINCE,
        "GET",
        "/api/knowledge/export",
        None,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_write_and_operators_find_sqlite() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        editors_write_and_operators_find,
    )
    .await;
}

/// `serve --sample-knowledge` fills an empty knowledge base with the generic samples, each
/// marked 【样例】, and the spoken question finds the one about it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_entries_fill_an_empty_knowledge_base() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default().with_args(&["--sample-knowledge"]),
        |server| async move {
            let (status, all) = api(&server, OPERATOR, "GET", "/api/knowledge", None).await;
            assert_eq!(status, 200, "{all}");
            let all = all.as_array().unwrap();
            assert_eq!(all.len(), 7, "{all:?}");
            assert!(all
                .iter()
                .all(|e| e["title"].as_str().unwrap().starts_with("【样例】")));
            let hits = search(&server, OPERATOR, "我想问一下住房公积金怎么提取").await;
            assert_eq!(hits[0]["entry"]["title"], "【样例】住房公积金提取");
        },
    )
    .await;
}
