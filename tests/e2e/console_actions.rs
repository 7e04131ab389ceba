//! The buttons of issue 14 in a real Chromium, with the seats on SIP softphones and the test's
//! carrier as the trunk: from the console, a missed caller is called back through the server
//! ("外呼回拨": the seat rings, then the caller), a caller is handed to 110 in a three-party
//! call and the operator leaves it ("三方通话", "退出三方"), a colleague is consulted and takes
//! the caller ("征询", "完成转接"); from the wallboard, the supervisor listens in on a seat's
//! call and barges in ("监听", "强插"); a replied case's caller is return-visited ("电话回访")
//! and rates the handling. The screenshot docs/screenshots/console-handover.png is taken here.

use crate::common;

use std::time::Duration;

use common::audio::{decode_stream, find_prompt};
use common::browser::{browser, click, driver, screenshot, sign_in_user, wait_contains, wait_for};
use common::carrier::Gateway;
use common::cases::{dispatched, event, UNIT_KMHB};
use common::console::sign_in_seat;
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::server::Backend;
use common::softphone::Softphone;
use hotline12345::media::g711::Codec;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_the_wallboard_drive_the_calls_beyond_one_operator() {
    let Some(driver) = driver().await else {
        return;
    };
    let gateway = Gateway::bind();
    // No after-call work, so that seat 1001 takes the next caller at once.
    let options = gateway.options(&[
        ("automatic = true", "automatic = false"),
        ("wrap_up_secs = 10", "wrap_up_secs = 0"),
    ]);
    run_on(Backend::Sqlite, options, move |server| async move {
        // A caller gave up while nobody was signed in: owed a callback.
        let missed = "13987690001";
        let mut phone = TestPhone::udp(server.sip).await;
        let (mut call, _) = phone.call(missed, "12345").await;
        phone.bye(&mut call).await;
        let mut carrier = gateway.carrier(&server).await;
        let mut seat = Softphone::signed_in(&server, "1001").await;
        let c = browser(&driver, &["--window-size=1400,1300"]).await;
        sign_in_seat(&c, &server).await;
        wait_contains(&c, "#callback-list", missed).await;

        // 外呼回拨: this seat rings first, then the caller through the trunk.
        click(&c, "#callback-list .call-back").await;
        wait_contains(&c, "#callback-summary", "正在回拨").await;
        let (invite, _) = seat
            .take_call(Duration::from_secs(10), "the seat rings for the callback")
            .await;
        let out = carrier
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the caller rings");
        assert!(out
            .to_string()
            .starts_with(&format!("INVITE sip:{missed}@")));
        carrier.answer(&out).await;
        carrier
            .expect(rsip::Method::Ack, Duration::from_secs(5))
            .await;
        seat.send_in_dialog(&invite, "BYE", 2, "").await;
        let bye = carrier
            .expect(rsip::Method::Bye, Duration::from_secs(5))
            .await
            .expect("the caller is hung up after the operator");
        carrier.respond(&bye, "200 OK", None, None).await;
        let mut reached = false;
        for _ in 0..50 {
            let cases = server.cases_of(missed).await;
            if cases[0]["callback_status"] == "done" {
                reached = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(reached, "the callback reached the caller");

        // 三方通话 with 110, then 退出三方.
        let mut caller = TestPhone::udp(server.sip).await;
        let (call, resp) = caller.call("087163690002", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        wait_contains(&c, "#call-caller", "087163690002").await;
        seat.take_call(Duration::from_secs(10), "1001 rings").await;
        // The greeting plays out before the two talk (and others may join).
        caller
            .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
            .await;
        wait_for(&c, "#handover:not([hidden])").await;
        wait_contains(&c, "#handover-to", "110 公安报警").await;
        click(&c, "#handover-three").await;
        let police = carrier
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("110 rings");
        assert!(police.to_string().starts_with("INVITE sip:110@"));
        let police_rtp = carrier.answer(&police).await;
        carrier
            .expect(rsip::Method::Ack, Duration::from_secs(5))
            .await;
        wait_contains(&c, "#call-parties", "转出热线 110 通话中").await;
        wait_for(&c, "#handover-leave:not([hidden])").await;
        screenshot(&c, "console-handover.png").await;
        click(&c, "#handover-leave").await;
        let bye = seat
            .expect(rsip::Method::Bye, Duration::from_secs(5))
            .await
            .expect("the operator leaves the three-party call");
        seat.respond(&bye, "200 OK", None, None).await;
        wait_contains(&c, "#call-status", "已退出三方").await;
        let (a, b) = crate::calls_out::talk(
            &caller,
            TestPhone::server_rtp(&call),
            &carrier.phone,
            police_rtp,
        )
        .await;
        assert!(
            a > 0.95 && b > 0.95,
            "the caller and 110 talk on: {a:.3} {b:.3}"
        );
        carrier.send_in_dialog(&police, "BYE", 2, "").await;
        assert!(caller.expect_bye(Duration::from_secs(5)).await);

        // 征询 a colleague, then 完成转接.
        let mut caller = TestPhone::udp(server.sip).await;
        let (call, _) = caller.call("087163690003", "12345").await;
        wait_contains(&c, "#call-caller", "087163690003").await;
        seat.take_call(Duration::from_secs(10), "1001 rings again")
            .await;
        caller
            .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
            .await;
        let mut colleague = Softphone::signed_in(&server, "1002").await;
        wait_for(&c, "#consult:not([hidden])").await;
        common::browser::type_into(&c, "#consult-to", "1002").await;
        click(&c, "#consult-start").await;
        let (_, colleague_rtp) = colleague
            .take_call(Duration::from_secs(10), "1002 rings for the consultation")
            .await;
        wait_contains(&c, "#call-parties", "征询同事 1002 通话中").await;
        wait_for(&c, "#consult-complete:not([hidden])").await;
        click(&c, "#consult-complete").await;
        let bye = seat
            .expect(rsip::Method::Bye, Duration::from_secs(5))
            .await
            .expect("the operator leaves once transferred");
        seat.respond(&bye, "200 OK", None, None).await;
        let (a, b) = crate::calls_out::talk(
            &caller,
            TestPhone::server_rtp(&call),
            &colleague.phone,
            colleague_rtp,
        )
        .await;
        assert!(
            a > 0.95 && b > 0.95,
            "the caller and 1002 talk: {a:.3} {b:.3}"
        );

        // The wallboard (another host name: a session of its own): 监听, then 强插.
        let mut sup = Softphone::signed_in(&server, "1901").await;
        let board = server.http.replace("127.0.0.1", "localhost");
        sign_in_user(
            &c,
            &board,
            "/wallboard",
            "sup-kunming",
            "#board:not([hidden]) #seat-rows",
        )
        .await;
        let row = "tr[data-seat='1002'] button[data-mode='listen']:not([hidden])";
        wait_for(&c, row).await;
        click(&c, row).await;
        sup.take_call(Duration::from_secs(10), "the supervisor's phone rings")
            .await;
        let d = server
            .wait_for_party(&call.call_id, "supervisor", "up")
            .await;
        assert!(d["parties"].to_string().contains("listen"), "{d}");
        click(&c, "tr[data-seat='1002'] button[data-mode='barge']").await;
        let mut barged = false;
        for _ in 0..50 {
            let (_, d) = server
                .get_json(&format!("/api/calls/{}", call.call_id))
                .await;
            if d["parties"].to_string().contains("barge") {
                barged = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(barged, "the supervisor barged in from the board");
        c.close().await.unwrap();
    })
    .await;
}

/// 电话回访 from the console: a case the unit replied to is listed; the button rings this
/// seat, then the caller through the trunk; once the operator hangs up the caller rates the
/// handling by key (1 满意), which lands on the case and closes the loop's return visit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_visit_from_the_console_takes_the_rating_of_the_handling() {
    let Some(driver) = driver().await else {
        return;
    };
    let gateway = Gateway::bind();
    let options = gateway.options(&[("automatic = true", "automatic = false")]);
    run_on(Backend::Sqlite, options, move |server| async move {
        let caller = "13987690002";
        let order = json!({"summary": "小区路灯不亮", "district": "530102"});
        let case = dispatched(&server, caller, "complaint", order, "kmhb").await;
        for step in [
            json!({"action": "sign"}),
            json!({"action": "reply", "reply": "已修复路灯"}),
        ] {
            let (st, body) = event(&server, UNIT_KMHB, &case, step).await;
            assert_eq!(st, 200, "{body}");
        }
        let mut carrier = gateway.carrier(&server).await;
        let mut seat = Softphone::signed_in(&server, "1001").await;
        let c = browser(&driver, &["--window-size=1400,1300"]).await;
        sign_in_seat(&c, &server).await;
        let button = format!("#return-visit-list li[data-case='{case}'] .return-visit");
        wait_for(&c, &button).await;
        click(&c, &button).await;
        wait_contains(&c, "#return-visit-summary", "正在回访").await;
        let (invite, seat_rtp) = seat
            .take_call(
                Duration::from_secs(10),
                "the seat rings for the return visit",
            )
            .await;
        let out = carrier
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the caller rings");
        assert!(out
            .to_string()
            .starts_with(&format!("INVITE sip:{caller}@")));
        let to_server = carrier.answer(&out).await;
        carrier
            .expect(rsip::Method::Ack, Duration::from_secs(5))
            .await;
        let (a, b) = crate::calls_out::talk(&seat.phone, seat_rtp, &carrier.phone, to_server).await;
        assert!(
            a > 0.95 && b > 0.95,
            "the operator and the caller talk: {a:.3} {b:.3}"
        );
        // The operator hangs up; the caller is asked to rate the handling and presses 1.
        seat.send_in_dialog(&invite, "BYE", 2, "").await;
        let prompt = decode_stream(
            Codec::Pcmu,
            &carrier.phone.receive_rtp(40, Duration::from_secs(5)).await,
        );
        assert!(
            find_prompt(&prompt, Codec::Pcmu, "rate-handling.wav", 800).is_some(),
            "the caller is asked to rate the handling ({} samples)",
            prompt.len()
        );
        let mut stream = PhoneStream::default();
        carrier.phone.send_dtmf(to_server, &mut stream, '1').await;
        let rated = common::queue_log::eventually(&json!([1, "callback-done"]), || async {
            let (_, view) = server.get_json(&format!("/api/cases/{case}")).await;
            let (_, wf) = server.get_json(&format!("/api/cases/{case}/history")).await;
            json!([view["handling_rating"], wf["state"]])
        })
        .await;
        assert_eq!(rated, json!([1, "callback-done"]));
        let (_, view) = server.get_json(&format!("/api/cases/{case}")).await;
        let attempt = &view["callback_attempts"][0];
        assert_eq!(
            (attempt["kind"].as_str(), attempt["outcome"].as_str()),
            (Some("return-visit"), Some("reached")),
            "{view}"
        );
        // The case leaves the console's list.
        click(&c, "#refresh-lists").await;
        wait_contains(&c, "#return-visit-summary", "没有待回访的工单").await;
        c.close().await.unwrap();
    })
    .await;
}
