//! Others joining a caller's call, each checked on the audio: 110 in a three-party call (each
//! hears the other two, the operator leaves, the caller and 110 talk on, the case records the
//! hand-over); a consultation that completes (the colleague takes the caller) and one whose
//! colleague does not answer (the caller is back with the operator); a supervisor who listens
//! (hears both, heard by none), whispers (heard by the operator only) and barges in (heard by
//! both), on a SIP phone and on the wallboard page's own phone in Chromium; the caller's rating after the operator hangs up; a progress lookup by phone that
//! reads a case back only to its own caller.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::audio::{decode_stream, find_prompt, tone, tone_share};
use common::browser::{click, wait_for, wait_text};
use common::carrier::Gateway;
use common::cases::{api, dispatched, history, OP_KUNMING, SUP_KUNMING};
use common::console::meter_reading;
use common::harness::run_on;
use common::phone::{Call, PhoneStream, TestPhone};
use common::server::{Backend, TestServer};
use common::softphone::Softphone;
use hotline12345::media::g711::Codec;
use serde_json::json;

/// A caller talking with seat 1001 once the greeting is over: the caller's phone and call,
/// the seat's softphone and where its RTP goes, the call's id.
struct Talking {
    caller: TestPhone,
    call: Call,
    seat: Softphone,
    seat_rtp: SocketAddr,
    call_id: String,
}

async fn talking(server: &TestServer, number: &str) -> Talking {
    let mut seat = Softphone::signed_in(server, "1001").await;
    let mut caller = TestPhone::udp(server.sip).await;
    let (call, resp) = caller.call(number, "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    let (invite, seat_rtp) = seat
        .take_call(Duration::from_secs(10), "seat 1001 rings")
        .await;
    // The greeting plays out before the bridge: then the caller hears nothing.
    caller
        .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
        .await;
    let _ = invite;
    let call_id = call.call_id.clone();
    Talking {
        caller,
        call,
        seat,
        seat_rtp,
        call_id,
    }
}

/// Each phone says its own tone for 1.5 s while listening; what each heard, decoded.
async fn all_say(phones: &[(&TestPhone, SocketAddr, f64)]) -> Vec<Vec<i16>> {
    let sends = phones.iter().map(|(phone, to, hz)| async move {
        let mut stream = PhoneStream::default();
        phone.send_audio(*to, &mut stream, &tone(*hz, 12_000)).await;
    });
    let hears = phones
        .iter()
        .map(|(phone, _, _)| async move { phone.receive_rtp(75, Duration::from_secs(4)).await });
    let (_, heard) = tokio::join!(
        futures_util::future::join_all(sends),
        futures_util::future::join_all(hears)
    );
    heard
        .iter()
        .map(|h| {
            let samples = decode_stream(Codec::Pcmu, h);
            // The last second: the mix has settled by then.
            samples[samples.len().saturating_sub(8000)..].to_vec()
        })
        .collect()
}

const CALLER_HZ: f64 = 500.0;
const OPERATOR_HZ: f64 = 900.0;
const THIRD_HZ: f64 = 1300.0;

/// Who heard what: the share of each tone in each party's last second.
fn hears(heard: &[i16], hz: f64) -> f64 {
    tone_share(heard, hz)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_party_call_with_110_and_the_hand_over_on_the_case() {
    let gateway = Gateway::bind();
    let options = gateway.options(&[]);
    run_on(Backend::Sqlite, options, |server| async move {
        let mut police = gateway.carrier(&server).await;
        let mut t = talking(&server, "087163660001").await;
        let (st, body) = api(
            &server,
            Some(OP_KUNMING),
            "POST",
            &format!("/api/calls/{}/handover", t.call_id),
            Some(json!({"to": "110", "three_party": true})),
        )
        .await;
        assert_eq!(
            (st, body["done"].as_str()),
            (200, Some("dialling")),
            "{body}"
        );
        let invite = police
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("110 rings out over the trunk");
        assert!(
            invite.to_string().starts_with("INVITE sip:110@"),
            "{invite}"
        );
        let police_rtp = police.answer(&invite).await;
        police
            .expect(rsip::Method::Ack, Duration::from_secs(5))
            .await;
        server.wait_for_party(&t.call_id, "hotline", "up").await;

        // Each hears the other two, and not itself.
        let to_caller = TestPhone::server_rtp(&t.call);
        let heard = all_say(&[
            (&t.caller, to_caller, CALLER_HZ),
            (&t.seat.phone, t.seat_rtp, OPERATOR_HZ),
            (&police.phone, police_rtp, THIRD_HZ),
        ])
        .await;
        let tones = [CALLER_HZ, OPERATOR_HZ, THIRD_HZ];
        for (who, h) in ["caller", "operator", "110"].iter().zip(&heard) {
            for (other, hz) in ["caller", "operator", "110"].iter().zip(tones) {
                let share = hears(h, hz);
                if who == other {
                    assert!(share < 0.05, "the {who} does not hear itself: {share:.3}");
                } else {
                    assert!(share > 0.2, "the {who} hears the {other}: {share:.3}");
                }
            }
        }

        // The operator leaves: the caller and 110 talk on, the operator's leg is hung up.
        let (st, body) = api(
            &server,
            Some(OP_KUNMING),
            "POST",
            &format!("/api/calls/{}/leave", t.call_id),
            None,
        )
        .await;
        assert_eq!(st, 200, "{body}");
        let bye = t
            .seat
            .expect(rsip::Method::Bye, Duration::from_secs(5))
            .await
            .expect("the operator's leg is hung up");
        t.seat.respond(&bye, "200 OK", None, None).await;
        let (a, b) = crate::calls_out::talk(&t.caller, to_caller, &police.phone, police_rtp).await;
        assert!(
            a > 0.95 && b > 0.95,
            "the caller and 110 talk: {a:.3} {b:.3}"
        );

        // The case: not accepted, handed over to 110, by the operator, on its audit.
        let cases = server.cases_of("087163660001").await;
        let case = cases[0]["case_number"].as_str().unwrap().to_string();
        let wf = history(&server, &case).await;
        assert_eq!(wf["state"], "not-accepted", "{wf}");
        let step = wf["history"].as_array().unwrap().last().unwrap().clone();
        assert!(
            step["note"]
                .as_str()
                .unwrap()
                .contains("handed over to 110 公安报警"),
            "{step}"
        );
        let audit = server.audit_of("087163660001").await;
        let has = |action: &str, detail: &str| {
            audit
                .iter()
                .any(|(_, a, d)| a == action && d.contains(detail))
        };
        assert!(
            has("hand-over", "110 公安报警 answered (three-party)"),
            "{audit:?}"
        );
        assert!(has("hand-over-operator-left", ""), "{audit:?}");
        // 110 hangs up: the caller gets the BYE.
        police.send_in_dialog(&invite, "BYE", 2, "").await;
        assert!(t.caller.expect_bye(Duration::from_secs(5)).await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_completes_and_one_unanswered_returns_the_caller() {
    run_on(Backend::Sqlite, Default::default(), |server| async move {
        // The colleague signs in once seat 1001 talks with the caller (else, idle longer, it
        // would take the call).
        let mut t = talking(&server, "087163660002").await;
        let mut colleague = Softphone::signed_in(&server, "1002").await;
        let to_caller = TestPhone::server_rtp(&t.call);
        let consult = |server: Arc<TestServer>, call_id: String| async move {
            api(
                &server,
                Some(OP_KUNMING),
                "POST",
                &format!("/api/calls/{call_id}/consult"),
                Some(json!({"to": "1002"})),
            )
            .await
        };
        let (st, body) = consult(server.clone(), t.call_id.clone()).await;
        assert_eq!(st, 200, "{body}");
        let (_, colleague_rtp) = colleague
            .take_call(Duration::from_secs(10), "the colleague rings")
            .await;
        server.wait_for_party(&t.call_id, "colleague", "up").await;
        // The operator and the colleague talk; the caller hears hold music, not them.
        let (op_heard, col_heard, caller_heard) = {
            let heard = all_say(&[
                (&t.seat.phone, t.seat_rtp, OPERATOR_HZ),
                (&colleague.phone, colleague_rtp, THIRD_HZ),
                (&t.caller, to_caller, CALLER_HZ),
            ])
            .await;
            (heard[0].clone(), heard[1].clone(), heard[2].clone())
        };
        assert!(
            hears(&op_heard, THIRD_HZ) > 0.5,
            "the operator hears the colleague"
        );
        assert!(
            hears(&col_heard, OPERATOR_HZ) > 0.5,
            "the colleague hears the operator"
        );
        assert!(hears(&col_heard, CALLER_HZ) < 0.05, "not the caller");
        assert!(
            hears(&caller_heard, OPERATOR_HZ) < 0.05 && hears(&caller_heard, THIRD_HZ) < 0.05,
            "the caller on hold hears neither"
        );
        // Complete: the colleague takes the caller, the operator is hung up.
        let (st, body) = api(
            &server,
            Some(OP_KUNMING),
            "POST",
            &format!("/api/calls/{}/consult/complete", t.call_id),
            None,
        )
        .await;
        assert_eq!(
            (st, body["done"].as_str()),
            (200, Some("transferred")),
            "{body}"
        );
        let bye = t
            .seat
            .expect(rsip::Method::Bye, Duration::from_secs(5))
            .await
            .expect("the operator is hung up");
        t.seat.respond(&bye, "200 OK", None, None).await;
        let (a, b) =
            crate::calls_out::talk(&t.caller, to_caller, &colleague.phone, colleague_rtp).await;
        assert!(
            a > 0.95 && b > 0.95,
            "the caller and the colleague talk: {a:.3} {b:.3}"
        );
        let described = server.wait_for_party(&t.call_id, "operator", "up").await;
        assert_eq!(described["parties"][0]["who"], "1002", "{described}");
        let colleague_invite = colleague.last_invite.clone().unwrap();
        colleague
            .send_in_dialog(&colleague_invite, "BYE", 2, "")
            .await;

        // A second caller; the colleague does not answer (declines): the caller is back.
        let mut seat = t.seat;
        let mut caller = TestPhone::udp(server.sip).await;
        let (call, _) = caller.call("087163660003", "12345").await;
        // Seat 1001 is in after-call work; its call waits until it is free again.
        let (_, seat_rtp) = seat
            .take_call(Duration::from_secs(30), "seat 1001 takes the second caller")
            .await;
        caller
            .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
            .await;
        let (st, body) = consult(server.clone(), call.call_id.clone()).await;
        assert_eq!(st, 200, "{body}");
        let invite = colleague
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the colleague rings");
        colleague
            .respond(&invite, "486 Busy Here", Some("seat"), None)
            .await;
        // The caller is back with the operator.
        for _ in 0..50 {
            let (_, d) = server
                .get_json(&format!("/api/calls/{}", call.call_id))
                .await;
            if d["parties"].as_array().is_some_and(|p| p.len() == 1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let to_caller = TestPhone::server_rtp(&call);
        let (a, b) = crate::calls_out::talk(&caller, to_caller, &seat.phone, seat_rtp).await;
        assert!(
            a > 0.95 && b > 0.95,
            "the caller is back with the operator: {a:.3} {b:.3}"
        );
        let audit = server.audit_of("087163660003").await;
        assert!(
            audit
                .iter()
                .any(|(_, a, d)| a == "consult-ended" && d == "1002: declined 486"),
            "{audit:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_whispers_and_barges_in() {
    run_on(Backend::Sqlite, Default::default(), |server| async move {
        let mut sup = Softphone::signed_in(&server, "1901").await;
        let t = talking(&server, "087163660004").await;
        let to_caller = TestPhone::server_rtp(&t.call);
        let monitor = |mode: &'static str| {
            let server = server.clone();
            let call_id = t.call_id.clone();
            async move {
                api(
                    &server,
                    Some(SUP_KUNMING),
                    "POST",
                    &format!("/api/calls/{call_id}/monitor"),
                    Some(json!({ "mode": mode })),
                )
                .await
            }
        };
        // An operator may not listen in.
        let (st, _) = api(
            &server,
            Some(OP_KUNMING),
            "POST",
            &format!("/api/calls/{}/monitor", t.call_id),
            Some(json!({"mode": "listen"})),
        )
        .await;
        assert_eq!(st, 403);
        let (st, body) = monitor("listen").await;
        assert_eq!(st, 200, "{body}");
        let (_, sup_rtp) = sup
            .take_call(Duration::from_secs(10), "the supervisor's phone rings")
            .await;
        server.wait_for_party(&t.call_id, "supervisor", "up").await;
        let parties = [
            (&t.caller, to_caller, CALLER_HZ),
            (&t.seat.phone, t.seat_rtp, OPERATOR_HZ),
            (&sup.phone, sup_rtp, THIRD_HZ),
        ];
        let say = || all_say(&parties);
        // Listen: the supervisor hears both, and is heard by none.
        let heard = say().await;
        assert!(hears(&heard[2], CALLER_HZ) > 0.2 && hears(&heard[2], OPERATOR_HZ) > 0.2);
        assert!(
            hears(&heard[0], THIRD_HZ) < 0.05,
            "the caller does not hear the supervisor"
        );
        assert!(hears(&heard[1], THIRD_HZ) < 0.05, "nor does the operator");
        assert!(hears(&heard[0], OPERATOR_HZ) > 0.5 && hears(&heard[1], CALLER_HZ) > 0.5);
        // Whisper: the operator hears the supervisor, the caller does not.
        let (st, body) = monitor("whisper").await;
        assert_eq!(
            (st, body["done"].as_str()),
            (200, Some("mode changed")),
            "{body}"
        );
        let heard = say().await;
        assert!(
            hears(&heard[1], THIRD_HZ) > 0.2,
            "the operator hears the whisper"
        );
        assert!(hears(&heard[0], THIRD_HZ) < 0.05, "the caller does not");
        // Barge: both hear the supervisor.
        monitor("barge").await;
        let heard = say().await;
        assert!(hears(&heard[0], THIRD_HZ) > 0.2 && hears(&heard[1], THIRD_HZ) > 0.2);
        // The supervisor leaves: the two talk as before.
        let (st, _) = api(
            &server,
            Some(SUP_KUNMING),
            "DELETE",
            &format!("/api/calls/{}/monitor", t.call_id),
            None,
        )
        .await;
        assert_eq!(st, 200);
        let bye = sup
            .expect(rsip::Method::Bye, Duration::from_secs(5))
            .await
            .expect("the supervisor is hung up");
        sup.respond(&bye, "200 OK", None, None).await;
        let (a, b) = crate::calls_out::talk(&t.caller, to_caller, &t.seat.phone, t.seat_rtp).await;
        assert!(a > 0.95 && b > 0.95, "{a:.3} {b:.3}");
        // Every start, change and stop, with who, on the case's audit.
        let steps: Vec<(String, String)> = server
            .audit_of("087163660004")
            .await
            .into_iter()
            .map(|(who, action, _)| (who, action))
            .collect();
        let who = |a: &str| ("sup-kunming".to_string(), a.to_string());
        assert_eq!(
            steps,
            [
                who("monitor-listen"),
                who("monitor-whisper"),
                who("monitor-barge"),
                who("monitor-stop")
            ]
        );
    })
    .await;
}

/// The supervisor's phone in the wallboard page (users.toml `seat` 1901, no SIP phone): 监听
/// rings the page, which answers by itself; the page hears both sides and neither hears the
/// page's microphone; 强插 and both hear it; 结束监听 hangs the page up. The screenshot
/// docs/screenshots/wallboard-monitor.png is taken here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_and_barges_in_from_the_wallboards_page() {
    let Some(driver) = common::browser::driver().await else {
        return;
    };
    let media = tempfile::tempdir().unwrap();
    let mic = common::console::microphone(media.path(), THIRD_HZ);
    run_on(
        Backend::Sqlite,
        Default::default(),
        move |server| async move {
            let t = talking(&server, "087163660010").await;
            let to_caller = TestPhone::server_rtp(&t.call);
            let flags = common::console::media_flags(&mic);
            let mut flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            flags.push("--window-size=1400,1000");
            let c = common::browser::browser(&driver, &flags).await;
            common::browser::sign_in_user(
                &c,
                &server.http,
                "/wallboard",
                "sup-kunming",
                "#board:not([hidden]) #seat-rows",
            )
            .await;
            click(&c, "#phone-on").await;
            wait_text(&c, "#phone-state", "电话：浏览器（本页面）").await;
            let row = "tr[data-seat='1001'] button[data-mode='listen']:not([hidden])";
            wait_for(&c, row).await;
            click(&c, row).await;
            assert_eq!(
                wait_text(&c, "#monitor-status", "监听中").await,
                "监听中",
                "the page takes the call; the server's log:\n{}",
                server.log()
            );
            let d = server.wait_for_party(&t.call_id, "supervisor", "up").await;
            assert!(d["parties"].to_string().contains("listen"), "{d}");
            let parties = [
                (&t.caller, to_caller, CALLER_HZ),
                (&t.seat.phone, t.seat_rtp, OPERATOR_HZ),
            ];
            // Listen: the page hears the call (its meter moves), neither side hears the page.
            let (heard, level) = tokio::join!(
                all_say(&parties),
                meter_reading(&c, "data-level", |l| l > 0.01)
            );
            assert!(level > 0.01, "the page hears the call: level {level}");
            assert!(
                hears(&heard[0], THIRD_HZ) < 0.05 && hears(&heard[1], THIRD_HZ) < 0.05,
                "nobody hears a listening supervisor: {:.3} {:.3}",
                hears(&heard[0], THIRD_HZ),
                hears(&heard[1], THIRD_HZ)
            );
            // Barge: both hear the page's microphone.
            click(&c, "tr[data-seat='1001'] button[data-mode='barge']").await;
            wait_text(&c, "#monitor-status", "强插中").await;
            common::browser::screenshot(&c, "wallboard-monitor.png").await;
            let mut both = (0.0, 0.0);
            for _ in 0..10 {
                let heard = all_say(&parties).await;
                both = (hears(&heard[0], THIRD_HZ), hears(&heard[1], THIRD_HZ));
                if both.0 > 0.2 && both.1 > 0.2 {
                    break;
                }
            }
            assert!(
                both.0 > 0.2 && both.1 > 0.2,
                "both hear a barging supervisor: {:.3} {:.3}",
                both.0,
                both.1
            );
            // 结束监听: the page is hung up, the two talk on.
            click(&c, "tr[data-seat='1001'] button[data-mode='stop']").await;
            wait_text(&c, "#monitor-status", "监听已结束").await;
            // The server has answered the page's request (the room is the two again).
            wait_text(&c, "#seat-note", "已结束监听").await;
            let (a, b) =
                crate::calls_out::talk(&t.caller, to_caller, &t.seat.phone, t.seat_rtp).await;
            assert!(a > 0.95 && b > 0.95, "{a:.3} {b:.3}");
            let actions: Vec<String> = server
                .audit_of("087163660010")
                .await
                .into_iter()
                .map(|(_, action, _)| action)
                .collect();
            assert_eq!(actions, ["monitor-listen", "monitor-barge", "monitor-stop"]);
            c.close().await.unwrap();
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rating_lands_on_the_call() {
    run_on(Backend::Sqlite, Default::default(), |server| async move {
        let mut t = talking(&server, "087163660005").await;
        let to_caller = TestPhone::server_rtp(&t.call);
        let invite = t.seat.last_invite.clone().unwrap();
        t.seat.send_in_dialog(&invite, "BYE", 2, "").await;
        // The caller hears the rating prompt, presses 3 (不满意), hears the thanks, and is
        // hung up.
        let prompt = decode_stream(
            Codec::Pcmu,
            &t.caller.receive_rtp(40, Duration::from_secs(5)).await,
        );
        assert!(
            find_prompt(&prompt, Codec::Pcmu, "rate-call.wav", 800).is_some(),
            "the caller is asked for a rating ({} samples)",
            prompt.len()
        );
        let mut stream = PhoneStream::default();
        t.caller.send_dtmf(to_caller, &mut stream, '3').await;
        assert!(
            t.caller.expect_bye(Duration::from_secs(10)).await,
            "then hung up"
        );
        let call = common::queue_log::eventually(&json!(["agent-hangup", 3]), || async {
            let cases = server.cases_of("087163660005").await;
            let call = &cases[0]["calls"][0];
            json!([call["end_cause"], call["rating"]])
        })
        .await;
        assert_eq!(call, json!(["agent-hangup", 3]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_reads_a_cases_state_back_only_to_its_caller() {
    run_on(Backend::Sqlite, Default::default(), |server| async move {
        let owner = "087163660006";
        let case = dispatched(
            &server,
            owner,
            "complaint",
            json!({"summary": "路灯不亮"}),
            "kmhb",
        )
        .await;
        let digits: String = case.chars().filter(char::is_ascii_digit).collect();
        // Looks a case up: the 0 key as soon as the greeting is heard, then the digits.
        let look_up = |number: &'static str| {
            let server = server.clone();
            let digits = digits.clone();
            async move {
                let mut phone = TestPhone::udp(server.sip).await;
                let (mut call, resp) = phone.call(number, "12345").await;
                assert_eq!(resp.status_code.code(), 200);
                let to = TestPhone::server_rtp(&call);
                let greeting = phone.receive_rtp(1, Duration::from_secs(5)).await;
                assert!(!greeting.is_empty(), "the greeting plays");
                let mut stream = PhoneStream::default();
                phone.send_dtmf(to, &mut stream, '0').await;
                // The request to enter the number (a second in the test prompts), then the keys.
                let asked = decode_stream(
                    Codec::Pcmu,
                    &phone.receive_rtp(60, Duration::from_secs(5)).await,
                );
                assert!(
                    find_prompt(&asked, Codec::Pcmu, "lookup-enter.wav", 800).is_some(),
                    "{number} is asked for the case number"
                );
                for d in digits.chars().chain(std::iter::once('#')) {
                    phone.send_dtmf(to, &mut stream, d).await;
                }
                let answer = decode_stream(
                    Codec::Pcmu,
                    &phone.receive_rtp(200, Duration::from_secs(6)).await,
                );
                phone.bye(&mut call).await;
                answer
            }
        };
        let answer = look_up(owner).await;
        assert!(
            find_prompt(&answer, Codec::Pcmu, "state-dispatched.wav", 800).is_some(),
            "the owner hears the state ({} samples)",
            answer.len()
        );
        assert!(find_prompt(&answer, Codec::Pcmu, "lookup-due.wav", 800).is_some());
        let answer = look_up("087163660007").await;
        assert!(
            find_prompt(&answer, Codec::Pcmu, "state-dispatched.wav", 800).is_none(),
            "another caller hears no state"
        );
        assert!(
            find_prompt(&answer, Codec::Pcmu, "lookup-none.wav", 800).is_some(),
            "another caller hears that nothing was found"
        );
    })
    .await;
}

/// An attended transfer from the softphone (RFC 5589): seat 1001 talks with the caller, dials
/// its colleague 1002 through the server (answering the server's digest challenge as 1001),
/// then sends REFER with Replaces naming that call on its call with the caller: the caller and
/// 1002 talk, 1001 is told (NOTIFY 200) and its two calls are hung up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attended_transfer_with_refer_and_replaces() {
    run_on(Backend::Sqlite, Default::default(), |server| async move {
        let mut t = talking(&server, "087163660008").await;
        let mut colleague = Softphone::signed_in(&server, "1002").await;
        // 1001 dials 1002: challenged, then with its credentials.
        let mut consult = TestPhone::udp(server.sip).await;
        let mut call = consult.invite("1001", "1002", "").await;
        let challenged = consult.final_response(&mut call).await;
        assert_eq!(challenged.status_code.code(), 407, "{challenged}");
        consult.ack_failure(&call).await;
        let challenge = common::phone::header_value(&challenged.to_string(), "Proxy-Authenticate")
            .expect("a challenge");
        let uri = call.request_uri.clone();
        let auth = common::softphone::authorization(&challenge, "INVITE", &uri, "1001", "dev-1001");
        call.branch = format!("z9hG4bK{:x}", rand::random::<u64>());
        call.to_tag = None;
        let offer = consult.offer();
        let mut call = consult
            .send_invite(
                call,
                "1002",
                &format!("Proxy-Authorization: {auth}\r\n"),
                &offer,
            )
            .await;
        let (_, colleague_rtp) = colleague
            .take_call(Duration::from_secs(10), "1002 rings for the consultation")
            .await;
        let ok = consult.final_response(&mut call).await;
        assert_eq!(ok.status_code.code(), 200, "{ok}");
        consult.ack(&call).await;
        let consult_rtp = TestPhone::server_rtp(&call);
        let (a, b) =
            crate::calls_out::talk(&consult, consult_rtp, &colleague.phone, colleague_rtp).await;
        assert!(a > 0.95 && b > 0.95, "1001 consults 1002: {a:.3} {b:.3}");

        // REFER with Replaces on the call with the caller.
        let replaces = format!(
            "{}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
            call.call_id.replace('@', "%40"),
            call.to_tag.clone().unwrap(),
            call.from_tag
        );
        let invite_a = t.seat.last_invite.clone().unwrap();
        t.seat
            .send_in_dialog(
                &invite_a,
                "REFER",
                1,
                &format!(
                    "Refer-To: <sip:1002@{}?Replaces={replaces}>\r\n",
                    server.sip
                ),
            )
            .await;
        let accepted = t
            .seat
            .expect_response("REFER", Duration::from_secs(5))
            .await
            .expect("an answer to the REFER");
        assert_eq!(accepted.status_code.code(), 202, "{accepted}");
        let notify = t
            .seat
            .expect(rsip::Method::Notify, Duration::from_secs(5))
            .await
            .expect("NOTIFY of the transfer");
        assert!(String::from_utf8_lossy(&notify.body).starts_with("SIP/2.0 200"));
        t.seat.respond(&notify, "200 OK", None, None).await;
        let bye = t
            .seat
            .expect(rsip::Method::Bye, Duration::from_secs(5))
            .await
            .expect("1001's call with the caller is hung up");
        t.seat.respond(&bye, "200 OK", None, None).await;
        assert!(
            consult.expect_bye(Duration::from_secs(5)).await,
            "1001's consultation is hung up"
        );
        // The caller and 1002 talk.
        let to_caller = TestPhone::server_rtp(&t.call);
        let (a, b) =
            crate::calls_out::talk(&t.caller, to_caller, &colleague.phone, colleague_rtp).await;
        assert!(
            a > 0.95 && b > 0.95,
            "the caller and 1002 talk: {a:.3} {b:.3}"
        );
        let described = server.wait_for_party(&t.call_id, "operator", "up").await;
        assert_eq!(described["parties"][0]["who"], "1002", "{described}");
        let audit = server.audit_of("087163660008").await;
        assert!(
            audit
                .iter()
                .any(|(_, a, d)| a == "attended-transfer" && d == "1001 → 1002"),
            "{audit:?}"
        );
        // A Replaces naming no call is refused, and the call goes on.
        let invite_b = colleague.last_invite.clone().unwrap();
        colleague
            .send_in_dialog(
                &invite_b,
                "REFER",
                2,
                &format!(
                    "Refer-To: <sip:1001@{}?Replaces=nothing%3Bto-tag%3Da%3Bfrom-tag%3Db>\r\n",
                    server.sip
                ),
            )
            .await;
        let refused = colleague
            .expect_response("REFER", Duration::from_secs(5))
            .await
            .expect("an answer");
        assert_eq!(refused.status_code.code(), 481, "{refused}");
        let (a, b) =
            crate::calls_out::talk(&t.caller, to_caller, &colleague.phone, colleague_rtp).await;
        assert!(a > 0.95 && b > 0.95, "still talking: {a:.3} {b:.3}");
    })
    .await;
}
