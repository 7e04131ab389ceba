//! A call taken in the console's browser phone, in a real Chromium whose microphone is a WAV
//! (Chromium's fake media devices): the operator signs in, turns the page's phone on and goes
//! available; a caller who called before dials 12345; the page pops the call up with the
//! earlier case proposed for linking; the operator answers in the page; audio flows both ways
//! (checked on the samples the caller receives, and in the page on its received track); both
//! recordings hold their side; the operator fills the work order (a detail too long is refused
//! next to its field), cites a knowledge-base entry found with the caller's own sentence, and
//! dispatches the case to a unit; its history names the operator at every step. The
//! screenshots of the popped call and of the filled work order are taken here.

use crate::common;

use std::time::Duration;

use common::audio::{decode_stream, tone, tone_share};
use common::browser::{
    browser, click, driver, screenshot, text_of, type_into, wait_contains, wait_for, wait_text,
};
use common::console::{
    answer_in_page, media_flags, meter_reading, microphone, phone_on_and_available, sign_in_seat,
};
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::server::{Backend, ServerOptions, TestServer, SUPERVISOR_TOKEN};
use fantoccini::{Client, Locator};
use hotline12345::media::g711::Codec;

/// The page's microphone says this tone; the caller says the other.
const OPERATOR_HZ: f64 = 1200.0;
const CALLER_HZ: f64 = 800.0;
const CALLER: &str = "087163644444";

/// Chromium with `mic` as its microphone (and `extra` flags), signed in to the console as
/// seat 1001.
async fn signed_in(
    driver: &common::browser::Driver,
    mic: &std::path::Path,
    server: &TestServer,
    extra: &[&str],
) -> Client {
    let flags = media_flags(mic);
    let mut flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    flags.extend_from_slice(extra);
    let c = browser(driver, &flags).await;
    sign_in_seat(&c, server).await;
    c
}

async fn recording(server: &TestServer, number: &str, side: &str) -> Vec<i16> {
    let (status, recs) = server
        .get_json(&format!("/api/cases/{number}/recordings"))
        .await;
    assert_eq!(status, 200, "{recs}");
    let rec = recs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["side"] == side)
        .unwrap_or_else(|| panic!("no {side} recording in {recs}"))
        .clone();
    assert_eq!(rec["agent"], "1001");
    let bytes = reqwest::Client::new()
        .get(format!(
            "{}/api/recordings/{number}/{}/audio",
            server.http, rec["id"]
        ))
        .bearer_auth(SUPERVISOR_TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    hound::WavReader::new(std::io::Cursor::new(bytes.to_vec()))
        .unwrap()
        .into_samples()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_takes_a_call_in_the_browser() {
    let Some(driver) = driver().await else {
        return;
    };
    let media = tempfile::tempdir().unwrap();
    let mic = microphone(media.path(), OPERATOR_HZ);
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        move |server| async move {
            crate::console_page::add_housing_fund_entry(&server).await;
            // The caller called before and hung up in the queue: an open case.
            let mut caller = TestPhone::udp(server.sip).await;
            let (mut first, resp) = caller.call(CALLER, "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            assert_eq!(caller.bye(&mut first).await.status_code.code(), 200);
            let earlier = server.cases_of(CALLER).await[0]["case_number"]
                .as_str()
                .unwrap()
                .to_string();

            // Both columns of the console in the screenshots.
            let c = signed_in(&driver, &mic, &server, &["--window-size=1440,1500"]).await;

            // The earlier call is owed a callback (the caller hung up waiting): the operator
            // records an attempt from the list.
            wait_for(&c, "#callback-list li .row button.quiet").await;
            let owed = text_of(&c, "#callback-list li").await;
            assert!(
                owed.contains(&earlier) && owed.contains("放弃来电"),
                "{owed}"
            );
            type_into(&c, "#callback-list li .row input", "无人接听").await;
            click(&c, "#callback-list li .row button.quiet").await;
            let owed = wait_contains(&c, "#callback-list li div", "已回拨 1 次").await;
            assert!(owed.contains("已回拨 1 次"), "{owed}");
            let (_, list) = server.get_json("/api/callbacks").await;
            assert_eq!(list[0]["attempts"], 1, "the attempt is recorded: {list}");

            // The page's phone signs the seat in; the operator goes available.
            phone_on_and_available(&c).await;

            // The caller dials again: the call pops up, with the earlier case proposed.
            let (mut call, resp) = caller.call(CALLER, "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            wait_for(&c, "#call:not([hidden]) #answer:not([hidden])").await;
            assert_eq!(text_of(&c, "#call-caller").await, CALLER);
            assert_eq!(text_of(&c, "#call-phone").await, "浏览器电话");
            assert_eq!(text_of(&c, "#call-platform").await, "昆明市 530100");
            wait_for(&c, "#earlier li.proposed").await;
            let proposed = text_of(&c, "#earlier li.proposed").await;
            assert!(proposed.starts_with(&earlier), "{proposed}");
            let reason = text_of(&c, "#call-reason").await;
            assert!(
                reason.starts_with("来电区号"),
                "the routing reason: {reason}"
            );
            let number = text_of(&c, "#call-case").await;
            assert_ne!(number, earlier);
            screenshot(&c, "console-call.png").await;

            answer_in_page(&c, &server).await;

            // Audio both ways: the caller says 800 Hz while it listens; the page says 1200 Hz.
            let to_server = TestPhone::server_rtp(&call);
            let mut stream = PhoneStream::default();
            let said = tone(CALLER_HZ, 8000 * 5);
            let (_, heard, page_hz) = tokio::join!(
                caller.send_audio(to_server, &mut stream, &said),
                caller.receive_rtp(300, Duration::from_secs(6)),
                meter_reading(&c, "data-hz", |hz| (hz - CALLER_HZ).abs() < 50.0),
            );
            assert!(
                (page_hz - CALLER_HZ).abs() < 50.0,
                "the page's received track carries the caller's {CALLER_HZ} Hz: {page_hz} Hz"
            );
            // The page's microphone starts when it answers: the tone is looked for in every
            // second the caller heard, not only the last.
            let heard = decode_stream(Codec::Pcmu, &heard);
            let best = (0..heard.len().saturating_sub(8000))
                .step_by(800)
                .map(|at| tone_share(&heard[at..at + 8000], OPERATOR_HZ))
                .fold(0.0, f64::max);
            assert!(
                best > 0.5,
                "the caller hears the page's {OPERATOR_HZ} Hz: at best {best:.2} of a second's \
                 energy, in {} samples",
                heard.len()
            );

            // A key on the page's pad reaches the caller as an RFC 4733 event.
            click(&c, "#pad button:nth-child(5)").await;
            let keyed = caller.receive_rtp(400, Duration::from_secs(3)).await;
            assert!(
                keyed
                    .iter()
                    .any(|p| p.payload_type == 101 && p.payload.first() == Some(&5)),
                "the caller receives the page's 5"
            );

            // Hold: the caller hears the hold music, not the operator; then they talk again.
            click(&c, "#hold-call").await;
            assert_eq!(wait_text(&c, "#call-status", "保持中").await, "保持中");
            let on_hold = decode_stream(
                Codec::Pcmu,
                &caller.receive_rtp(100, Duration::from_secs(3)).await,
            );
            assert!(
                common::audio::find_prompt(&on_hold, Codec::Pcmu, "hold-music.wav", 800).is_some(),
                "the caller on hold hears the hold music ({} samples)",
                on_hold.len()
            );
            click(&c, "#hold-call").await;
            assert_eq!(wait_text(&c, "#call-status", "通话中").await, "通话中");
            let back = decode_stream(
                Codec::Pcmu,
                &caller.receive_rtp(150, Duration::from_secs(4)).await,
            );
            let share = tone_share(&back[back.len().saturating_sub(8000)..], OPERATOR_HZ);
            assert!(
                share > 0.5,
                "taken back, the caller hears the page again: {share:.2}"
            );

            // The operator hangs up in the page: the caller is asked for a rating, rates the
            // call 满意 (1), hears the thanks and gets the BYE.
            click(&c, "#hang-up").await;
            caller.send_dtmf(to_server, &mut stream, '1').await;
            assert!(
                caller.expect_bye(Duration::from_secs(10)).await,
                "BYE to the caller after the rating"
            );
            assert_eq!(
                wait_text(&c, "#call-status", "通话已结束").await,
                "通话已结束"
            );
            let _ = &mut call;

            // The call is among the operator's cases of today.
            let mine = wait_contains(&c, "#my-case-list", &number).await;
            assert!(mine.contains(&number), "{mine}");
            assert!(
                text_of(&c, "#state-today")
                    .await
                    .starts_with("今日已接来电 1 个"),
                "today's count"
            );

            // Both recordings hold their side.
            let mut legs = serde_json::Value::Null;
            for _ in 0..100 {
                let cases = server.cases_of(CALLER).await;
                let this = cases.iter().find(|c| c["case_number"] == number.as_str());
                legs = this.map_or(serde_json::Value::Null, |c| {
                    c["calls"][0]["agent_legs"].clone()
                });
                if legs[0]["outcome"].is_string() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(legs[0]["agent"], "1001", "{legs}");
            assert!(!legs[0]["answered_at"].is_null(), "{legs}");
            let caller_side = recording(&server, &number, "caller").await;
            let agent_side = recording(&server, &number, "agent").await;
            let caller_share = tone_share(&caller_side, CALLER_HZ);
            let agent_share = tone_share(&agent_side[agent_side.len() / 2..], OPERATOR_HZ);
            assert!(caller_share > 0.3, "the caller's side: {caller_share:.2}");
            assert!(agent_share > 0.3, "the operator's side: {agent_share:.2}");

            // The work order, after the call: a detail too long is refused next to its field,
            // by the API's rule.
            select(&c, "#order-category", "complaint").await;
            type_into(&c, "#order-topic", "公积金 提取 噪音").await;
            type_into(&c, "#order-name", &"张".repeat(51)).await;
            click(&c, "#order-save").await;
            assert_eq!(
                wait_text(&c, "#err-caller_name", "最多 50 个字").await,
                "最多 50 个字"
            );
            let field = c.find(Locator::Css("#order-name")).await.unwrap();
            field.clear().await.unwrap();
            field.send_keys("张先生").await.unwrap();
            select(&c, "#order-district", "530102").await;
            type_into(&c, "#order-address", "五华区某小区").await;
            type_into(
                &c,
                "#order-summary",
                "来电人咨询住房公积金提取，并反映小区夜间施工噪音。",
            )
            .await;
            click(&c, "#order-confidential").await;
            // The knowledge base, searched with the caller's own sentence; the entry is cited.
            type_into(&c, "#q", "我想问一下住房公积金怎么提取").await;
            click(&c, "#search-form button").await;
            wait_for(&c, "#hits li.hit .use-entry").await;
            click(&c, "#hits li.hit .use-entry").await;
            let cited = text_of(&c, "#order-entry").await;
            assert!(cited.contains("住房公积金提取条件"), "{cited}");
            select(&c, "#order-outcome", "dispatch").await;
            select(&c, "#order-unit", "kmhb").await;
            screenshot(&c, "console-work-order.png").await;
            click(&c, "#order-save").await;
            let done = wait_text(&c, "#order-done", "工单已保存：登记 → 派单").await;
            assert_eq!(done, "工单已保存：登记 → 派单");

            // The history names the operator at every step; the order keeps what was said.
            let (status, history) = server
                .get_json(&format!("/api/cases/{number}/history"))
                .await;
            assert_eq!(status, 200, "{history}");
            let steps: Vec<(String, String, String)> = history["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h["event"].as_str().unwrap().to_string(),
                        h["actor_role"].as_str().unwrap().to_string(),
                        h["actor_id"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let by = |e: &str| (e.to_string(), "operator".to_string(), "1001".to_string());
            assert_eq!(steps, [by("classify"), by("dispatch")]);
            let note = history["history"][0]["note"].as_str().unwrap();
            assert!(
                note.contains("[knowledge-base entry ") && note.contains("[confidential]"),
                "{note}"
            );
            assert_eq!(history["unit"], "kmhb");
            let order = &history["order"];
            assert_eq!(order["caller_name"], "张先生");
            assert_eq!(order["district"], "530102");
            assert_eq!(order["confidential"], true);

            c.close().await.unwrap();
        },
    )
    .await;
}

/// Picks the option of value `value` in the select at `css`.
async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

/// The page declines a call: the caller keeps waiting and the leg is stored as declined.
/// Then the page goes away in the middle of a call: the caller is hung up, the seat (with no
/// SIP phone) is signed out, and the server keeps no peer connection behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_call_waits_on_and_a_closed_page_hangs_up() {
    let Some(driver) = driver().await else {
        return;
    };
    let media = tempfile::tempdir().unwrap();
    let mic = microphone(media.path(), OPERATOR_HZ);
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        move |server| async move {
            let c = signed_in(&driver, &mic, &server, &[]).await;
            phone_on_and_available(&c).await;

            // Declined in the page: the caller is not dropped.
            let mut first = TestPhone::udp(server.sip).await;
            let (mut call, resp) = first.call(CALLER, "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            wait_for(&c, "#call:not([hidden]) #decline:not([hidden])").await;
            click(&c, "#decline").await;
            let mut outcome = serde_json::Value::Null;
            for _ in 0..100 {
                let cases = server.cases_of(CALLER).await;
                outcome = cases[0]["calls"][0]["agent_legs"][0]["outcome"].clone();
                if outcome.is_string() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(outcome, "declined 603");
            assert!(
                !first.expect_bye(Duration::from_millis(1500)).await,
                "the caller keeps waiting"
            );
            assert_eq!(first.bye(&mut call).await.status_code.code(), 200);

            // The next call is answered, then the page is closed mid-call.
            wait_for(&c, "#call-status").await;
            let mut second = TestPhone::udp(server.sip).await;
            let (_call, resp) = second.call("087163655555", "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            wait_contains(&c, "#call-caller", "087163655555").await;
            wait_for(&c, "#answer:not([hidden])").await;
            answer_in_page(&c, &server).await;
            c.close().await.unwrap();
            assert!(
                second.expect_bye(Duration::from_secs(10)).await,
                "the caller of a closed page is hung up"
            );
            let mut state = serde_json::Value::Null;
            for _ in 0..100 {
                state = server.live_seat("1001").await["state"].clone();
                if state["state"] == "logged-out" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(state["state"], "logged-out", "{state}");
        },
    )
    .await;
}
