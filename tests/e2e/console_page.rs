//! The operators' console in a real Chromium (headless, through chromedriver): a seat signs
//! in, a wrong password is told in Chinese, the seat's state is set from the page, a spoken
//! question finds the knowledge base's entry first, highlighted, a forged request from
//! another origin with the operator's cookie is refused, and so is the cookie of a session
//! that ended (sessions that age out are the unit tests' in `src/api/sessions.rs`). The screenshots under docs/screenshots/ are taken here.

use crate::common;

use std::time::Duration;

use common::browser::{browser, click, driver, screenshot, text_of, type_into, wait_for};
use common::harness::run_on;
use common::server::{Backend, ServerOptions, TestServer};
use fantoccini::Locator;
use serde_json::json;

/// A page on another loopback port that, once loaded, posts a seat state change to the
/// server with whatever cookie the browser holds for it (a CSRF attempt); its URL.
async fn forging_page(target: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let body = format!(
        "<!doctype html><html><body><script>\
         fetch('{target}/api/agents/1001/state', {{method: 'POST', credentials: 'include', \
         headers: {{'Content-Type': 'text/plain'}}, \
         body: JSON.stringify({{state: 'not-ready', reason: 'forged'}})}})\
         .catch(() => {{}}).finally(() => {{ const p = document.createElement('p'); \
         p.id = 'sent'; document.body.append(p); }});\
         </script></body></html>"
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Serves the page to each request (the browser may ask for a favicon too), for
        // as long as the test runs.
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let _ = conn.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes()).await;
        }
    });
    url
}

/// The entry about drawing the housing fund, as Kunming's editor writes it.
pub(crate) async fn add_housing_fund_entry(server: &TestServer) {
    add_entry(
        server,
        "住房公积金提取条件",
        "什么情况下可以提取住房公积金？",
        "购房、租房、退休、离职可申请提取住房公积金，携带身份证到管理中心或网上办理。",
        "住房",
    )
    .await;
}

async fn add_entry(server: &TestServer, title: &str, question: &str, answer: &str, category: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/knowledge", server.http))
        .bearer_auth("dev-kb-kunming")
        .json(&json!({
            "title": title, "question": question, "answer": answer, "category": category,
            "platform": "530100", "source_department": "昆明市住房公积金管理中心",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_and_finds_the_answer() {
    let Some(driver) = driver().await else {
        return;
    };
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        move |server| async move {
            add_housing_fund_entry(&server).await;
            add_entry(
                &server,
                "公积金贷款额度",
                "住房公积金贷款最多能贷多少？",
                "贷款额度与缴存余额和缴存年限有关。",
                "住房",
            )
            .await;
            add_entry(
                &server,
                "社保卡挂失补办",
                "社保卡丢了怎么办？",
                "携带身份证到社保经办机构或合作银行网点挂失补办。",
                "社保",
            )
            .await;

            let c = browser(&driver, &[]).await;
            c.goto(&format!("{}/console", server.http)).await.unwrap();
            let title = c.title().await.unwrap();
            assert_eq!(title, "12345 话务员工作台");
            wait_for(&c, "#seat").await;
            screenshot(&c, "console-sign-in.png").await;

            // A wrong password is told, in Chinese, next to the form.
            type_into(&c, "#seat", "1001").await;
            type_into(&c, "#password", "not-the-one").await;
            click(&c, "#sign-in-form button").await;
            let error = c.find(Locator::Css("#sign-in-error")).await.unwrap();
            for _ in 0..100 {
                if !error.text().await.unwrap().is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(error.text().await.unwrap(), "座席号或密码错误");

            type_into(&c, "#password", "dev-1001").await;
            click(&c, "#sign-in-form button").await;
            wait_for(&c, "#knowledge:not([hidden]) #q").await;
            let who = text_of(&c, "#who").await;
            assert_eq!(who, "座席 1001 · 平台 530100");

            // The seat's state, set from the page and shown as the ACD has it: its softphone
            // registers (which signs it in), then the operator sets it not ready.
            let _phone = common::softphone::Softphone::signed_in(&server, "1001").await;
            type_into(&c, "#not-ready-reason", "培训").await;
            click(&c, "#go-not-ready").await;
            let mut shown = String::new();
            for _ in 0..100 {
                shown = text_of(&c, "#state-now").await;
                if shown == "未就绪（培训）" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(shown, "未就绪（培训）");
            let live = server.live_seat("1001").await;
            assert_eq!(
                live["state"],
                json!({"state": "not-ready", "reason": "培训"})
            );
            assert!(text_of(&c, "#state-since").await.ends_with("（北京时间）"));

            type_into(&c, "#q", "我想问一下住房公积金怎么提取").await;
            click(&c, "#search-form button").await;
            wait_for(&c, "#hits li.hit").await;
            let hits = c.find_all(Locator::Css("#hits li.hit h3")).await.unwrap();
            assert!(hits.len() >= 2);
            assert_eq!(hits[0].text().await.unwrap(), "住房公积金提取条件");
            let marked = c.find_all(Locator::Css("#hits li.hit h3 b")).await.unwrap();
            assert!(!marked.is_empty(), "the matched words are highlighted");
            let meta = text_of(&c, "#hits li.hit .meta").await;
            assert!(
                meta.contains("（北京时间）") && meta.contains("第 1 版"),
                "{meta}"
            );
            let titles = text_of(&c, "#hits").await;
            assert!(!titles.contains("社保卡"), "{titles}");
            screenshot(&c, "console-knowledge.png").await;

            // A forged request: a page of another origin (another port of this host, so the
            // same site, and the SameSite cookie goes along) posts a state change with the
            // operator's cookie. Without the session's CSRF token it is refused.
            let forger = forging_page(&server.http).await;
            c.goto(&forger).await.unwrap();
            wait_for(&c, "#sent").await;
            let refused = "with a session cookie but without its CSRF token refused";
            for _ in 0..100 {
                if server.log().contains(refused) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(
                server.log().contains(refused),
                "the cookie went along and the missing token refused it"
            );
            let live = server.live_seat("1001").await;
            assert_eq!(
                live["state"],
                json!({"state": "not-ready", "reason": "培训"}),
                "the forged change did nothing"
            );
            c.goto(&format!("{}/console", server.http)).await.unwrap();

            // Reloading keeps the session; signing out ends it.
            c.refresh().await.unwrap();
            wait_for(&c, "#knowledge:not([hidden]) #q").await;
            let cookie = c
                .get_named_cookie("hotline_session")
                .await
                .unwrap()
                .value()
                .to_string();
            click(&c, "#sign-out").await;
            wait_for(&c, "#sign-in:not([hidden]) #seat").await;
            // The ended session's cookie, replayed, is refused.
            let replayed = reqwest::Client::new()
                .get(format!("{}/api/queues", server.http))
                .header("Cookie", format!("hotline_session={cookie}"))
                .send()
                .await
                .unwrap();
            assert_eq!(replayed.status(), 401);
            let body = replayed.text().await.unwrap();
            assert!(body.contains("the session has ended"), "{body}");
            c.close().await.unwrap();
        },
    )
    .await;
}
