//! The statistics page and the public page of published results, in a real Chromium.
//!
//! Statistics: Kunming's supervisor signs in and the page shows the week's figures: the
//! server's SVG charts load (calls per hour, service level by day, cases by category, on-time
//! rate, hot terms), the hot terms come from the work orders' summaries segmented with jieba
//! (夜间施工 in two cases, 五华区's own terms by district), and each table downloads as CSV and
//! as XLSX. The screenshot under docs/screenshots/ is taken here.
//!
//! Published results, in the same browser once signed out: the page lists a published case
//! with its district, summary and reply, and neither the caller's number nor their name; a
//! search finds it, a search for the caller's name finds nothing; the API answers the same to
//! a request with no token. (One server and one browser for both pages: the suite's browsers
//! share two cores.)

use crate::common;

use common::browser::{
    browser, click, driver, screenshot, sign_in_user, text_of, type_into, wait_contains, wait_for,
    wait_text,
};
use common::cases::{dispatched, published, SUP_KUNMING};
use common::harness::run_on;
use common::server::{Backend, ServerOptions, TestServer};
use serde_json::json;

/// Two complaints about night-time building work in 五华区 and a question about the housing
/// fund in 盘龙区, dispatched; the first taken through to publication.
async fn cases(server: &TestServer) -> String {
    let first = published(
        server,
        "13008651111",
        json!({"summary": "五华区某小区旁工地夜间施工噪音扰民，来电人张三电话13008651111",
               "district": "530102", "caller_name": "张三", "address": "五华区某某路8号"}),
        "经核查，该工地已停止夜间施工，并处以罚款。",
    )
    .await;
    dispatched(
        server,
        "087163622222",
        "complaint",
        json!({"summary": "五华区道路工地夜间施工影响休息", "district": "530102"}),
        "kmhb",
    )
    .await;
    dispatched(
        server,
        "087163633333",
        "consultation",
        json!({"summary": "住房公积金提取需要哪些材料", "district": "530103"}),
        "kmzj",
    )
    .await;
    first
}

async fn get(server: &TestServer, path: &str) -> (u16, String, Vec<u8>) {
    let resp = reqwest::Client::new()
        .get(format!("{}{}", server.http, path))
        .bearer_auth(SUP_KUNMING)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_page_and_the_published_results() {
    let Some(driver) = driver().await else {
        return;
    };
    run_on(Backend::Sqlite, ServerOptions::default(), move |server| async move {
        let case = cases(&server).await;
        let c = browser(&driver, &["--window-size=1500,1400"]).await;
        sign_in_user(&c, &server.http, "/statistics", "sup-kunming", "#report:not([hidden])").await;
        assert_eq!(c.title().await.unwrap(), "12345 统计分析");
        let summary = wait_contains(&c, "#summary", "工单 3 件").await;
        assert!(summary.contains("工单 3 件"), "{summary}");

        // Every chart is an SVG the browser drew.
        for chart in ["calls-by-hour", "service-by-day", "cases-by-category", "on-time-by-unit", "hot-terms"] {
            let css = format!("#chart-{chart}");
            wait_for(&c, &css).await;
            let mut drawn = serde_json::Value::Null;
            for _ in 0..100 {
                drawn = c
                    .execute(
                        "const i = document.querySelector(arguments[0]); return i.complete && i.naturalWidth;",
                        vec![json!(css)],
                    )
                    .await
                    .unwrap();
                if drawn.as_u64().unwrap_or(0) > 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(drawn, json!(760), "{chart} not drawn");
        }
        // Hot terms from the summaries: 夜间施工 in two cases; the caller's name is no term.
        let hot = wait_contains(&c, "#table-hot-terms", "夜间施工").await;
        assert!(hot.contains("夜间施工 2"), "{hot}");
        assert!(!hot.contains("张三"), "{hot}");
        let districts = text_of(&c, "#table-terms-by-district").await;
        assert!(districts.contains("五华区 夜间施工 2"), "{districts}");
        assert!(districts.contains("盘龙区 住房公积金 1"), "{districts}");
        let categories = text_of(&c, "#table-cases-by-category").await;
        assert!(categories.contains("投诉 2") && categories.contains("咨询 1"), "{categories}");
        assert!(text_of(&c, "#table-satisfaction").await.contains("满意 1"));
        screenshot(&c, "statistics.png").await;

        // The downloads the page links to, fetched as the API gives them.
        let href = c
            .find(fantoccini::Locator::Css("#table-hot-terms a[data-format='csv']"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let path = href.trim_start_matches(&server.http).to_string();
        let (status, kind, csv) = get(&server, &path).await;
        assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"));
        let text = String::from_utf8(csv).unwrap();
        assert!(text.starts_with("\u{feff}词,件数\n"), "{text}");
        assert!(text.contains("夜间施工,2\n"), "{text}");
        let (status, kind, xlsx) = get(&server, &path.replace("format=csv", "format=xlsx")).await;
        assert_eq!(status, 200);
        assert_eq!(kind, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert_eq!(&xlsx[..4], b"PK\x03\x04", "an XLSX is a zip");
        assert!(xlsx.windows(24).any(|w| w == b"xl/worksheets/sheet1.xml"));
        let (status, kind, svg) = get(&server, &path.replace("/tables/", "/charts/")).await;
        assert_eq!((status, kind.as_str()), (200, "image/svg+xml; charset=utf-8"));
        assert!(String::from_utf8(svg).unwrap().contains("<title>夜间施工: 2</title>"));
        let (status, _, _) = get(&server, &path.replace("hot-terms", "nothing")).await;
        assert_eq!(status, 404);
        // Published results: signed out, the public page.
        click(&c, "#sign-out").await;
        wait_for(&c, "#sign-in:not([hidden])").await;
        c.goto(&format!("{}/public", server.http)).await.unwrap();
        assert_eq!(c.title().await.unwrap(), "12345 办理结果公开");
        let item = format!("li[data-case='{case}']");
        wait_for(&c, &item).await;
        assert_eq!(text_of(&c, "#count").await, "共公开 1 件");
        let shown = text_of(&c, &item).await;
        assert!(shown.contains("投诉 · 昆明市 五华区"), "{shown}");
        assert!(shown.contains("工地夜间施工噪音扰民"), "{shown}");
        assert!(
            shown.contains("经核查，该工地已停止夜间施工，并处以罚款。"),
            "{shown}"
        );
        let page = text_of(&c, "body").await;
        for private in ["13008651111", "张三", "某某路8号"] {
            assert!(!page.contains(private), "{private} shown: {page}");
        }
        screenshot(&c, "public.png").await;
        // A search finds it; a search for the caller's name finds nothing.
        type_into(&c, "#q", "夜间施工").await;
        click(&c, "#search-form button").await;
        assert_eq!(
            wait_text(&c, "#count", "“夜间施工”共 1 件").await,
            "“夜间施工”共 1 件"
        );
        let q = c.find(fantoccini::Locator::Css("#q")).await.unwrap();
        q.clear().await.unwrap();
        q.send_keys("张三").await.unwrap();
        click(&c, "#search-form button").await;
        assert_eq!(
            wait_text(&c, "#count", "“张三”共 0 件").await,
            "“张三”共 0 件"
        );
        // The API says the same, to anyone.
        let (status, body) = server
            .request(None, "GET", "/api/published?q=%E5%99%AA%E9%9F%B3", None)
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 1, "{body}");
        assert!(!body.to_string().contains("13008651111"), "{body}");
        let (status, _) = server
            .request(None, "GET", "/api/published?page=0", None)
            .await;
        assert_eq!(status, 422);
        c.close().await.unwrap();
    })
    .await;
}
