//! The knowledge-base editors' page in a real Chromium: an editor signs in with their user and
//! token (a wrong token is told), adds an entry (a missing answer is refused next to its
//! field), changes it, sees who changed what in its history, and imports a CSV file; every
//! change goes through the API's rules. The screenshot under docs/screenshots/ is taken here.

use crate::common;

use common::browser::{
    browser, click, driver, screenshot, text_of, type_into, wait_contains, wait_for, wait_text,
};
use common::harness::run_on;
use common::server::{Backend, ServerOptions};
use fantoccini::Locator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_keeps_the_knowledge_base() {
    let Some(driver) = driver().await else {
        return;
    };
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("entries.csv");
    std::fs::write(
        &csv,
        "title,question,answer,category,platform\n\
         居住证办理,怎么办居住证？,到居住地派出所申领。,户籍,530100\n",
    )
    .unwrap();
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        move |server| async move {
            let c = browser(&driver, &["--window-size=1440,1100"]).await;
            c.goto(&format!("{}/knowledge", server.http)).await.unwrap();
            assert_eq!(c.title().await.unwrap(), "12345 知识库维护");
            wait_for(&c, "#user").await;
            type_into(&c, "#user", "kb-kunming").await;
            type_into(&c, "#token", "not-the-token").await;
            click(&c, "#sign-in-form button").await;
            assert_eq!(
                wait_text(&c, "#sign-in-error", "用户名或令牌错误").await,
                "用户名或令牌错误"
            );
            type_into(&c, "#token", "dev-kb-kunming").await;
            click(&c, "#sign-in-form button").await;
            wait_for(&c, "#entries:not([hidden]) #new-entry").await;
            assert!(text_of(&c, "#who").await.contains("知识库编辑"));

            // A new entry without its answer is refused next to the answer.
            click(&c, "#new-entry").await;
            type_into(&c, "#f-title", "住房公积金提取条件").await;
            type_into(&c, "#f-question", "什么情况下可以提取住房公积金？").await;
            type_into(&c, "#f-category", "住房").await;
            type_into(&c, "#f-source", "昆明市住房公积金管理中心").await;
            click(&c, "#entry-save").await;
            assert_eq!(
                wait_text(&c, "#err-answer", "必填 (required)").await,
                "必填 (required)"
            );
            type_into(&c, "#f-answer", "购房、租房、退休可申请提取。").await;
            click(&c, "#entry-save").await;
            assert_eq!(
                wait_text(&c, "#entry-done", "已保存：条目 #1 第 1 版").await,
                "已保存：条目 #1 第 1 版"
            );

            // A change is the entry's next version, with who changed which field.
            let answer = c.find(Locator::Css("#f-answer")).await.unwrap();
            answer.clear().await.unwrap();
            answer
                .send_keys("购房、租房、退休、离职可申请提取，携带身份证办理。")
                .await
                .unwrap();
            click(&c, "#entry-save").await;
            assert_eq!(
                wait_text(&c, "#entry-done", "已保存：条目 #1 第 2 版").await,
                "已保存：条目 #1 第 2 版"
            );
            let history = wait_contains(&c, "#history", "第 1 版").await;
            let lines: Vec<&str> = history.lines().collect();
            assert_eq!(lines.len(), 2, "{history}");
            assert!(
                lines[0].starts_with("第 2 版 · kb-kunming") && lines[0].ends_with("改动：答复"),
                "{history}"
            );
            assert!(lines[1].contains("（北京时间）"), "{history}");

            // A CSV file imported from the page adds its row.
            let input = c.find(Locator::Css("#import-file")).await.unwrap();
            input.send_keys(&csv.display().to_string()).await.unwrap();
            let result = wait_contains(&c, "#import-result", "已导入").await;
            assert_eq!(result, "已导入：新增 1 条，更新 0 条，未变 0 条");
            assert_eq!(wait_text(&c, "#entry-count", "共 2 条").await, "共 2 条");
            click(&c, "#entry-rows tr.entry:nth-child(1)").await;
            wait_contains(&c, "#editor-title", "修改条目").await;
            screenshot(&c, "knowledge-editor.png").await;

            // What the page did is what the API has.
            let (status, all) = server.get_json("/api/knowledge").await;
            assert_eq!(status, 200);
            let all = all.as_array().unwrap();
            assert_eq!(all.len(), 2);
            let first = all.iter().find(|e| e["id"] == 1).unwrap();
            assert_eq!(first["version"], 2);
            assert_eq!(first["updated_by"], "kb-kunming");
            c.close().await.unwrap();
        },
    )
    .await;
}
