//! The public request form in a real Chromium at a phone's width: the code comes by SMS (to
//! the test SMS centre), the form gives a case number, and the progress page shows it; then
//! the form's refusals (robots, wrong codes, limits, photos that are not photos), the
//! province's app with its key, and the official account's signed XML messages, through the
//! API. Screenshots under docs/screenshots/ are taken here.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::channels::channels_options;
use crate::common;
use common::browser::{browser, click, driver, screenshot, type_into, wait_contains, wait_for};
use common::cases::api;
use common::harness::run_on;
use common::server::{Backend, TestServer};
use common::smsc::Smsc;

/// The code the test SMS centre got for `phone` (the last one).
async fn code_for(smsc: &Smsc, phone: &str, nth: usize) -> String {
    for _ in 0..400 {
        let codes: Vec<String> = smsc
            .submitted()
            .into_iter()
            .filter(|m| m.destination == phone && m.text.contains("验证码"))
            .map(|m| {
                let after = m.text.split_once("验证码是").map_or("", |(_, rest)| rest);
                after.chars().take_while(char::is_ascii_digit).collect()
            })
            .collect();
        if codes.len() >= nth {
            return codes[nth - 1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no code for {phone}: {:#?}", smsc.submitted());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_form_gives_a_case_number_and_the_progress_page_shows_it() {
    let Some(driver) = driver().await else {
        return;
    };
    let smsc = Arc::new(Smsc::start().await);
    let options = channels_options(None, Some(smsc.addr), "");
    run_on(Backend::Sqlite, options, move |s| async move {
        smsc.wait_bound(1).await;
        let c = browser(&driver, &["--window-size=430,1400"]).await;
        c.goto(&format!("{}/request", s.http)).await.unwrap();
        wait_for(&c, "#platform option[value='530100']").await;
        assert_eq!(c.title().await.unwrap(), "12345 提交诉求");
        c.find(fantoccini::Locator::Css("#platform option[value='530100']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(fantoccini::Locator::Css(
            "#category option[value='complaint']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        type_into(
            &c,
            "#description",
            "五华区翠湖南路夜间施工噪音很大，凌晨两点还在施工，影响休息。",
        )
        .await;
        type_into(&c, "#place", "五华区翠湖南路 12 号").await;
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("工地.jpg");
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        jpeg.extend(std::iter::repeat_n(7u8, 2000));
        std::fs::write(&photo, &jpeg).unwrap();
        type_into(&c, "#photos", photo.to_str().unwrap()).await;
        type_into(&c, "#phone", "13008652222").await;
        click(&c, "#send-code").await;
        let code = code_for(&smsc, "13008652222", 1).await;
        type_into(&c, "#code", &code).await;
        click(&c, "#notify").await;
        screenshot(&c, "request-form.png").await;
        click(&c, "#submit").await;
        wait_for(&c, "#done:not([hidden])").await;
        let case = wait_contains(&c, "#case-number", "530100-").await;
        assert!(case.starts_with("530100-"), "{case}");

        // The case: web channel, the photo, the place, notices asked for; the SMS with its number.
        let (st, view) = api(
            &s,
            Some(common::cases::SUP_KUNMING),
            "GET",
            &format!("/api/cases/{case}"),
            None,
        )
        .await;
        assert_eq!(st, 200, "{view}");
        assert_eq!(view["channel"], "web");
        assert_eq!(view["caller"], "13008652222");
        assert_eq!(
            view["messages"][0]["attachments"][0]["size"],
            jpeg.len() as i64
        );
        assert_eq!(
            view["messages"][0]["attachments"][0]["content_type"],
            "image/jpeg"
        );
        smsc.wait_submitted("with the case number", |m| {
            m.destination == "13008652222" && m.text.contains(&case)
        })
        .await;

        // The progress page, from the link on the confirmation.
        click(&c, "#progress-link").await;
        wait_for(&c, "#progress-form").await;
        type_into(&c, "#phone", "13008652222").await;
        click(&c, "#progress-form button[type=submit]").await;
        let title = wait_contains(&c, "#result-title", "已受理").await;
        assert!(title.contains(&case) && title.contains("已受理"), "{title}");
        let facts = wait_contains(&c, "#facts", "派单时限").await;
        assert!(
            facts.contains("派单时限") && facts.contains("网站") && facts.contains("昆明市"),
            "{facts}"
        );
        screenshot(&c, "progress.png").await;
        // Another number learns nothing.
        c.goto(&format!("{}/progress?case={case}", s.http))
            .await
            .unwrap();
        type_into(&c, "#phone", "13008653333").await;
        click(&c, "#progress-form button[type=submit]").await;
        let error = wait_contains(&c, "#progress-error", "未查询到").await;
        assert!(error.contains("未查询到"), "{error}");
        c.close().await.unwrap();
    })
    .await;
}

fn form(phone: &str, code: &str) -> Value {
    json!({
        "category": "complaint",
        "description": "小区门口路灯不亮已经一周",
        "place": "五华区",
        "phone": phone,
        "code": code,
    })
}

async fn post(s: &TestServer, path: &str, body: Value) -> (u16, Value) {
    api(s, None, "POST", path, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_spam_wrong_codes_and_bad_photos_are_refused_and_change_nothing() {
    let smsc = Arc::new(Smsc::start().await);
    let web = "[web]\nper_source_per_hour = 100\nper_number_per_day = 2\n";
    let options = channels_options(None, Some(smsc.addr), web);
    run_on(Backend::Sqlite, options, move |s| async move {
        smsc.wait_bound(1).await;
        let phone = "13008654444";
        // Not a mobile; a robot filling the hidden field; no code asked for.
        let (st, body) = post(&s, "/api/public/codes", json!({"phone": "087163601234"})).await;
        assert_eq!((st, body["field"].as_str()), (422, Some("phone")), "{body}");
        let mut robot = form(phone, "123456");
        robot["website"] = json!("http://spam.example");
        let (st, body) = post(&s, "/api/public/requests", robot).await;
        assert_eq!(
            (st, body["field"].as_str()),
            (422, Some("website")),
            "{body}"
        );
        let (st, body) = post(&s, "/api/public/requests", form(phone, "123456")).await;
        assert_eq!((st, body["field"].as_str()), (422, Some("code")), "{body}");
        // A code, then a wrong one, then photos that are not photos or too big.
        let (st, _) = post(&s, "/api/public/codes", json!({"phone": phone})).await;
        assert_eq!(st, 202);
        let code = code_for(&smsc, phone, 1).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let (st, body) = post(&s, "/api/public/requests", form(phone, wrong)).await;
        assert_eq!((st, body["field"].as_str()), (422, Some("code")), "{body}");
        let mut html = form(phone, &code);
        html["photos"] = json!([{"name": "x.jpg", "data": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}]);
        let (st, body) = post(&s, "/api/public/requests", html).await;
        assert_eq!(
            (st, body["field"].as_str()),
            (422, Some("photos[0]")),
            "{body}"
        );
        let mut big = form(phone, &code);
        let huge = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            vec![0xFFu8; 3 * 1024 * 1024],
        );
        big["photos"] = json!([{"name": "big.jpg", "data": huge}]);
        let (st, body) = post(&s, "/api/public/requests", big).await;
        assert_eq!(
            (st, body["field"].as_str()),
            (422, Some("photos[0]")),
            "{body}"
        );
        let (st, body) = post(&s, "/api/public/requests", json!({"category": "complaint"})).await;
        assert_eq!(st, 422, "{body}");
        assert!(s.cases_of(phone).await.is_empty(), "nothing was stored");
        assert!(!s.data.join("attachments").exists());

        // The number's limit (2 a day here) counted the two forms that got as far as the code;
        // past it, 429 even with a good code.
        let (st, body) = post(&s, "/api/public/requests", form(phone, &code)).await;
        assert_eq!(
            (
                st,
                body["error"].as_str().map(|e| e.contains("phone number"))
            ),
            (429, Some(true)),
            "{body}"
        );
        assert!(s.cases_of(phone).await.is_empty());

        // Codes per number are limited too (3 an hour here).
        let other = "13008655555";
        for _ in 0..3 {
            assert_eq!(
                post(&s, "/api/public/codes", json!({"phone": other}))
                    .await
                    .0,
                202
            );
        }
        assert_eq!(
            post(&s, "/api/public/codes", json!({"phone": other}))
                .await
                .0,
            429
        );
        let code = code_for(&smsc, other, 3).await;
        let (st, body) = post(&s, "/api/public/requests", form(other, &code)).await;
        assert_eq!(st, 201, "{body}");
        // A code is good once.
        let (st, _) = post(&s, "/api/public/requests", form(other, &code)).await;
        assert_eq!(st, 422);
        assert_eq!(s.cases_of(other).await.len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provinces_app_and_the_official_account_become_cases() {
    use sha2::Digest;
    let key_sha: String = sha2::Sha256::digest(b"test-app-key")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let options = channels_options(None, None, "").with_dialplan_file(
        "channels.toml",
        format!(
            "{}\n[[app]]\nname = \"yn-app\"\nkey_sha256 = \"{key_sha}\"\n\n[wechat]\ntoken = \"yn12345token\"\nplatform = \"530000\"\n",
            std::fs::read_to_string(common::server::project_dir("dialplan").join("channels.toml")).unwrap()
        ),
    );
    run_on(Backend::Sqlite, options, |s| async move {
        // The app, with its key: no code needed; without or with a wrong key, 401.
        let client = reqwest::Client::new();
        let url = format!("{}/api/app/requests", s.http);
        let body = form("13008656666", "");
        let st = client.post(&url).json(&body).send().await.unwrap().status().as_u16();
        assert_eq!(st, 401);
        let st = client.post(&url).header("X-Api-Key", "wrong").json(&body).send().await.unwrap().status().as_u16();
        assert_eq!(st, 401);
        let resp = client.post(&url).header("X-Api-Key", "test-app-key").json(&body).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        let taken: Value = resp.json().await.unwrap();
        let case = taken["case_number"].as_str().unwrap().to_string();
        let cases = s.cases_of("13008656666").await;
        assert_eq!(cases[0]["case_number"], case.as_str());
        assert_eq!(cases[0]["channel"], "app");

        // The official account: the platform's check, then a message and its retry.
        let sign = |timestamp: &str, nonce: &str| {
            let mut parts = ["yn12345token", timestamp, nonce];
            parts.sort_unstable();
            sha1::Sha1::digest(parts.concat().as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let q = format!("signature={}&timestamp=1765000000&nonce=42", sign("1765000000", "42"));
        let echo = client.get(format!("{}/api/wechat?{q}&echostr=hello", s.http)).send().await.unwrap();
        assert_eq!(echo.text().await.unwrap(), "hello");
        let bad = client.get(format!("{}/api/wechat?signature=00&timestamp=1765000000&nonce=42&echostr=hello", s.http)).send().await.unwrap();
        assert_eq!(bad.status().as_u16(), 403);
        let xml = "<xml><ToUserName><![CDATA[gh_yn12345]]></ToUserName><FromUserName><![CDATA[oUser123]]></FromUserName><CreateTime>1765000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[昆明市官渡区菜市场占道经营，交通拥堵]]></Content><MsgId>24000000000000001</MsgId></xml>";
        let post_xml = |body: &'static str| {
            let client = client.clone();
            let url = format!("{}/api/wechat?{q}", s.http);
            async move { client.post(url).header("content-type", "text/xml").body(body).send().await.unwrap() }
        };
        let resp = post_xml(xml).await;
        assert_eq!(resp.status().as_u16(), 200);
        let reply = resp.text().await.unwrap();
        assert!(reply.contains("<ToUserName>oUser123</ToUserName>") && reply.contains("<FromUserName>gh_yn12345</FromUserName>"), "{reply}");
        let at = reply.find("编号").expect(&reply);
        let number: String = reply[at + "编号".len()..].chars().take(22).collect();
        assert!(number.starts_with("530000-"), "{reply}");
        let again = post_xml(xml).await.text().await.unwrap();
        assert!(again.contains(&number), "a retried message finds its case: {again}");
        let (st, view) = api(&s, Some(common::cases::SUP_PROVINCE), "GET", &format!("/api/cases/{number}"), None).await;
        assert_eq!(st, 200, "{view}");
        assert_eq!(view["channel"], "wechat");
        assert_eq!(view["messages"].as_array().unwrap().len(), 1, "one message, not two");
        let resp = post_xml("<xml><not-closed>").await;
        assert_eq!(resp.status().as_u16(), 422);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_answers_an_sms_request_from_the_console() {
    let Some(driver) = driver().await else {
        return;
    };
    let smsc = Arc::new(Smsc::start().await);
    let options = channels_options(None, Some(smsc.addr), "");
    run_on(Backend::Sqlite, options, move |s| async move {
        smsc.wait_bound(1).await;
        let phone = "13008658888";
        let text = "请问新生儿医保怎么办理？需要带哪些材料？";
        smsc.deliver_from_phone(phone, "12345", text).await;
        let case = s.cases_of(phone).await[0]["case_number"]
            .as_str()
            .unwrap()
            .to_string();

        let c = browser(&driver, &["--window-size=1500,1300"]).await;
        common::console::sign_in_seat(&c, &s).await;
        let item = format!("#written-list li[data-case='{case}']");
        wait_for(&c, &item).await;
        let line = wait_contains(&c, &item, "短信").await;
        assert!(line.contains(phone) && line.contains("剩余"), "{line}");
        click(&c, &format!("{item} .take-request")).await;
        wait_for(&c, "#order-messages:not([hidden])").await;
        let shown = wait_contains(&c, "#message-list", text).await;
        assert!(shown.contains(text), "{shown}");

        // A reply to the requester, by SMS: the case's first answer.
        type_into(
            &c,
            "#message-text",
            "您好，新生儿医保可在出生后三个月内到社区办理。",
        )
        .await;
        click(&c, "#message-send").await;
        let sent = wait_contains(&c, "#message-done", "已发送").await;
        assert!(sent.contains("已发送"), "{sent}");
        smsc.wait_submitted("with the operator's reply", |m| {
            m.destination == phone && m.text.contains("三个月内")
        })
        .await;
        let view = s.cases_of(phone).await[0].clone();
        assert!(view["first_answer_at"].is_string(), "{view}");
        wait_contains(&c, "#message-list", "三个月内").await;
        screenshot(&c, "console-written.png").await;

        // Then the answer through the work order: it goes out by SMS too, and the request
        // leaves the list.
        c.find(fantoccini::Locator::Css(
            "#order-category option[value='consultation']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        type_into(&c, "#order-answer", "材料：出生医学证明、户口簿。").await;
        click(&c, "#order-save").await;
        let done = wait_contains(&c, "#order-done", "直接答复").await;
        assert!(done.contains("直接答复"), "{done}");
        smsc.wait_submitted("with the answer", |m| {
            m.destination == phone && m.text.contains("出生医学证明")
        })
        .await;
        for _ in 0..100 {
            if c.find(fantoccini::Locator::Css(&item)).await.is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            c.find(fantoccini::Locator::Css(&item)).await.is_err(),
            "answered: off the list"
        );
        c.close().await.unwrap();

        // The supervisor's wallboard counts it: one SMS request, answered in time.
        let w = browser(&driver, &["--window-size=1500,1200"]).await;
        common::browser::sign_in_user(
            &w,
            &s.http,
            "/wallboard",
            "sup-kunming",
            "#answer-rows tr[data-channel='sms']",
        )
        .await;
        let row = wait_contains(&w, "#answer-rows tr[data-channel='sms']", "100.0%").await;
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cells[..6], ["短信", "1", "1", "0", "0", "100.0%"], "{row}");
        w.close().await.unwrap();
    })
    .await;
}
