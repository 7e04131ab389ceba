//! The responsible units' portal in a real Chromium, beside the supervisor's wallboard in a
//! second window (on another host name, so with a session of its own): Kunming's environment bureau (kmhb) signs in and sees the cases dispatched
//! to it, with the sign deadline counting down, and not the case of another unit; it signs one
//! (the return window then counts down), is refused a return without a reason next to the
//! field, returns it with one; signs a second, asks for an extension and replies. The
//! supervisor's wallboard shows the signing and the return as they happen, and the workflow
//! history names the unit. The screenshot under docs/screenshots/ is taken here.

use crate::common;

use common::browser::{
    browser, click, driver, screenshot, sign_in_user, text_of, type_into, wait_contains, wait_for,
    wait_text,
};
use common::cases::{dispatched, history};
use common::harness::run_on;
use common::server::{Backend, ServerOptions};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_signs_and_returns_in_the_portal() {
    let Some(driver) = driver().await else {
        return;
    };
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        move |server| async move {
            let order = |summary: &str| json!({"summary": summary, "district": "530102"});
            let first = dispatched(
                &server,
                "087163611111",
                "complaint",
                order("五华区某工地夜间施工噪音扰民"),
                "kmhb",
            )
            .await;
            let second = dispatched(
                &server,
                "087163622222",
                "service-request",
                order("小区路灯不亮，请求维修"),
                "kmhb",
            )
            .await;
            let others = dispatched(
                &server,
                "087163633333",
                "consultation",
                order("住房公积金提取需要哪些材料"),
                "kmzj",
            )
            .await;

            // One browser, two windows: the supervisor's board on 127.0.0.1 and the unit's
            // portal on localhost, each host with its own session cookie.
            let c = browser(&driver, &["--window-size=1500,1000"]).await;
            sign_in_user(
                &c,
                &server.http,
                "/wallboard",
                "sup-kunming",
                "#board:not([hidden])",
            )
            .await;
            assert_eq!(wait_text(&c, "#live", "● 实时").await, "● 实时");
            let board = c.window().await.unwrap();
            let portal = c.new_window(true).await.unwrap().handle;
            c.switch_to_window(portal.clone()).await.unwrap();
            let unit_http = server.http.replace("127.0.0.1", "localhost");
            sign_in_user(&c, &unit_http, "/unit", "unit-kmhb", "#cases:not([hidden])").await;
            assert_eq!(c.title().await.unwrap(), "12345 承办单位工作台");
            assert!(text_of(&c, "#who").await.contains("昆明市生态环境局"));
            let row = format!("tr[data-case='{first}']");
            wait_for(&c, &row).await;
            wait_for(&c, &format!("tr[data-case='{second}']")).await;
            assert_eq!(text_of(&c, "#case-count").await, "共 2 件");
            assert!(
                c.find(fantoccini::Locator::Css(&format!(
                    "tr[data-case='{others}']"
                )))
                .await
                .is_err(),
                "another unit's case is not listed"
            );
            // Dispatched a moment ago: about two hours left to sign.
            let left = wait_contains(&c, &format!("{row} td.left"), "剩 1 小时 59 分").await;
            assert!(left.starts_with("剩 1 小时 59 分"), "{left}");
            assert!(
                text_of(&c, &row).await.contains("签收 "),
                "the sign deadline is shown"
            );

            // Sign: the return window counts down.
            click(&c, &row).await;
            wait_for(&c, "#detail:not([hidden]) #do-sign:not([hidden])").await;
            assert!(text_of(&c, "#detail-facts")
                .await
                .contains("五华区某工地夜间施工噪音扰民"));
            click(&c, "#do-sign").await;
            assert_eq!(wait_text(&c, "#action-done", "已签收").await, "已签收");
            wait_for(&c, &format!("{row}[data-state='signed']")).await;
            let window = wait_contains(&c, "#return-left", "剩 23 小时 59 分").await;
            assert!(window.starts_with("剩 23 小时 59 分"), "{window}");
            c.switch_to_window(board.clone()).await.unwrap();
            wait_for(
                &c,
                &format!("#recent-rows li[data-case='{first}'][data-event='sign']"),
            )
            .await;
            c.switch_to_window(portal.clone()).await.unwrap();

            // A return needs a reason: refused next to the field, nothing changes.
            click(&c, "#do-return").await;
            assert_eq!(wait_text(&c, "#err-return", "不能为空").await, "不能为空");
            let wf = history(&server, &first).await;
            assert_eq!(wf["state"], "signed");
            type_into(
                &c,
                "#return-reason",
                "不属于本单位职责，应由五华区住建局处理",
            )
            .await;
            click(&c, "#do-return").await;
            assert_eq!(
                wait_text(&c, "#list-done", &format!("工单 {first}：已退回平台")).await,
                format!("工单 {first}：已退回平台")
            );
            c.switch_to_window(board.clone()).await.unwrap();
            wait_for(
                &c,
                &format!("#recent-rows li[data-case='{first}'][data-event='return']"),
            )
            .await;
            let step = text_of(
                &c,
                &format!("#recent-rows li[data-case='{first}'][data-event='return']"),
            )
            .await;
            c.switch_to_window(portal.clone()).await.unwrap();
            assert!(step.contains("退回 · kmhb → 已退回"), "{step}");
            assert!(step.contains("不属于本单位职责"), "{step}");
            assert_eq!(wait_text(&c, "#case-count", "共 1 件").await, "共 1 件");

            // The second: sign, ask for an extension, reply.
            let row = format!("tr[data-case='{second}']");
            click(&c, &row).await;
            wait_for(&c, "#do-sign:not([hidden])").await;
            click(&c, "#do-sign").await;
            assert_eq!(wait_text(&c, "#action-done", "已签收").await, "已签收");
            type_into(&c, "#extend-reason", "需协调供电公司更换线路").await;
            click(&c, "#do-extend").await;
            assert_eq!(
                wait_text(&c, "#action-done", "已提交延期申请，待平台批准").await,
                "已提交延期申请，待平台批准"
            );
            assert!(wait_contains(&c, "#history", "申请延期")
                .await
                .contains("需协调供电公司更换线路"));
            screenshot(&c, "unit-portal.png").await;
            type_into(&c, "#reply-text", "已联系供电公司，路灯于本周内修复。").await;
            click(&c, "#do-reply").await;
            assert_eq!(
                wait_text(&c, "#action-done", "已提交答复").await,
                "已提交答复"
            );

            // The workflow's history names the unit at each step.
            let wf = history(&server, &second).await;
            assert_eq!(wf["state"], "replied");
            let steps: Vec<(String, String)> = wf["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h["event"].as_str().unwrap().to_string(),
                        h["actor_unit"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            let unit_steps: Vec<&str> = steps
                .iter()
                .filter(|(_, u)| u == "kmhb")
                .map(|(e, _)| e.as_str())
                .collect();
            assert_eq!(
                unit_steps,
                ["sign", "request-extension", "reply"],
                "{steps:?}"
            );
            let wf = history(&server, &first).await;
            assert_eq!(
                (wf["state"].as_str(), wf["unit"].as_str()),
                (Some("returned"), None)
            );
            c.close().await.unwrap();
        },
    )
    .await;
}
