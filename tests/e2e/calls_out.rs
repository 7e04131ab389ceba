//! The hotline's own calls out over a trunk, with the test's carrier as the trunk's far end:
//! a callback connects the operator's seat and the caller (each hears the other), and its
//! outcome lands on the case, reached or busy; the automatic list calls a missed caller back
//! by itself and tries again after a busy line; a unit's liaison presses 1 on a reminder call
//! and the case is signed in their name.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::audio::{correlation, decode_stream, find_prompt, through_codec, tone};
use common::carrier::Gateway;
use common::cases::{api, dispatched, history, OP_KUNMING};
use common::harness::run_on;
use common::phone::{header_value, PhoneStream, TestPhone};
use common::server::{Backend, TestServer};
use common::softphone::Softphone;
use hotline12345::media::g711::Codec;
use serde_json::json;

/// Two phones talk: each says its tone for 1.5 s while listening; how well each heard the
/// other (correlation of what arrived with the tone through the codec). Two who are relayed
/// to each other hear nothing while neither speaks: first, whatever played to them before
/// (a mix, hold music, a prompt) ends and is read off their sockets.
pub async fn talk(a: &TestPhone, a_to: SocketAddr, b: &TestPhone, b_to: SocketAddr) -> (f64, f64) {
    let gap = Duration::from_millis(300);
    tokio::join!(
        a.wait_quiet(gap, Duration::from_secs(10)),
        b.wait_quiet(gap, Duration::from_secs(10))
    );
    let (said_a, said_b) = (tone(600.0, 12_000), tone(350.0, 12_000));
    let (mut sa, mut sb) = (PhoneStream::default(), PhoneStream::default());
    let (_, _, heard_by_a, heard_by_b) = tokio::join!(
        a.send_audio(a_to, &mut sa, &said_a),
        b.send_audio(b_to, &mut sb, &said_b),
        a.receive_rtp(80, Duration::from_secs(4)),
        b.receive_rtp(80, Duration::from_secs(4)),
    );
    let a_heard_b = correlation(
        &decode_stream(Codec::Pcmu, &heard_by_a),
        &through_codec(Codec::Pcmu, &said_b)[..4000],
    );
    let b_heard_a = correlation(
        &decode_stream(Codec::Pcmu, &heard_by_b),
        &through_codec(Codec::Pcmu, &said_a)[..4000],
    );
    (a_heard_b, b_heard_a)
}

/// A Kunming caller who hangs up while waiting (no seat signed in): owed a callback; the
/// case number.
async fn missed_call(server: &TestServer, caller: &str) -> String {
    let mut phone = TestPhone::udp(server.sip).await;
    let (mut call, resp) = phone.call(caller, "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    phone.bye(&mut call).await;
    let cases = server.cases_of(caller).await;
    assert_eq!(cases[0]["callback_status"], "awaiting", "{cases:?}");
    cases[0]["case_number"].as_str().unwrap().to_string()
}

/// The case's callback attempts once `n` are there.
async fn attempts(server: &TestServer, caller: &str, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let cases = server.cases_of(caller).await;
        let got = cases[0]["callback_attempts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {n} callback attempts on {caller}'s case");
}

/// A callback whose caller's line is busy: the seat rings and answers, the carrier says 486,
/// the seat is let go.
async fn busy_line(seat: &mut Softphone, carrier: &mut Softphone) {
    seat.take_call(Duration::from_secs(10), "a free seat rings")
        .await;
    let invite = carrier
        .expect(rsip::Method::Invite, Duration::from_secs(10))
        .await
        .expect("the caller's phone rings");
    carrier
        .respond(&invite, "486 Busy Here", Some("busy"), None)
        .await;
    let bye = seat
        .expect(rsip::Method::Bye, Duration::from_secs(5))
        .await
        .expect("the seat is let go");
    seat.respond(&bye, "200 OK", None, None).await;
}

fn callbacks_manual() -> [(&'static str, &'static str); 1] {
    [("automatic = true", "automatic = false")]
}

async fn a_callback_connects_seat_and_caller_and_records_its_outcome(
    server: Arc<TestServer>,
    gateway: Gateway,
) {
    let caller = "13987650001";
    let case = missed_call(&server, caller).await;
    let mut carrier = gateway.carrier(&server).await;
    let mut seat = Softphone::signed_in(&server, "1001").await;

    let (st, body) = api(
        &server,
        Some(OP_KUNMING),
        "POST",
        &format!("/api/callbacks/{case}/call"),
        Some(json!({"seat": "1001"})),
    )
    .await;
    assert_eq!(st, 202, "{body}");
    let call_id = body["call_id"].as_str().unwrap().to_string();

    // The operator's seat rings first, and answers; only then the caller's phone rings, out
    // over the trunk with Kunming's caller ID.
    let (_, seat_rtp) = seat
        .take_call(Duration::from_secs(10), "the operator's seat rings first")
        .await;
    let invite = carrier
        .expect(rsip::Method::Invite, Duration::from_secs(10))
        .await
        .expect("the caller's phone rings through the trunk");
    let text = invite.to_string();
    assert!(text.starts_with(&format!("INVITE sip:{caller}@")), "{text}");
    assert!(
        header_value(&text, "From").is_some_and(|f| f.contains("sip:087112345@")),
        "Kunming's caller ID: {text}"
    );
    let caller_rtp = carrier.answer(&invite).await;
    carrier
        .expect(rsip::Method::Ack, Duration::from_secs(5))
        .await
        .expect("ACK");

    // They hear each other.
    let (seat_heard, caller_heard) = talk(&seat.phone, seat_rtp, &carrier.phone, caller_rtp).await;
    assert!(
        seat_heard > 0.95 && caller_heard > 0.95,
        "the seat and the caller hear each other: {seat_heard:.3} {caller_heard:.3}"
    );

    // The caller hangs up: the seat is hung up too.
    carrier.send_in_dialog(&invite, "BYE", 2, "").await;
    assert_eq!(
        carrier
            .expect_response("BYE", Duration::from_secs(5))
            .await
            .expect("200 to the caller's BYE")
            .status_code
            .code(),
        200
    );
    let bye = seat
        .expect(rsip::Method::Bye, Duration::from_secs(5))
        .await
        .expect("BYE to the seat");
    seat.respond(&bye, "200 OK", None, None).await;

    // The attempt is on the case, reached, with its call; the case is no longer owed one.
    let tried = attempts(&server, caller, 1).await;
    assert_eq!(tried[0]["outcome"], "reached", "{tried:?}");
    assert_eq!(tried[0]["reached"], true);
    assert_eq!(tried[0]["operator"], "1001");
    assert_eq!(tried[0]["sip_call_id"], call_id.as_str());
    let cases = server.cases_of(caller).await;
    assert_eq!(cases[0]["callback_status"], "done");
    let out = cases[0]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sip_call_id"] == call_id.as_str())
        .expect("the callback's call on the case")
        .clone();
    assert_eq!(out["direction"], "out");
    let legs: Vec<&str> = out["agent_legs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["agent"].as_str().unwrap())
        .collect();
    assert_eq!(legs, ["1001", caller]);
    // Both sides were recorded.
    let (st, recs) = server
        .get_json(&format!("/api/cases/{case}/recordings"))
        .await;
    assert_eq!(st, 200);
    let sides: Vec<&str> = recs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["sip_call_id"] == call_id.as_str())
        .filter_map(|r| r["side"].as_str())
        .collect();
    assert!(
        sides.contains(&"caller") && sides.contains(&"agent"),
        "{recs}"
    );

    // A second callback finds the line busy: stored as busy, the case still owed one. Seat
    // 1001 is in its after-call work: the free seat is 1002, signed in after the missed call
    // (signed in before, it would be rung by that call and hold the INVITE the server then
    // cancelled, which the test would take for the callback's).
    let caller = "13987650002";
    let case = missed_call(&server, caller).await;
    let mut seat = Softphone::signed_in(&server, "1002").await;
    let (st, body) = api(
        &server,
        Some(OP_KUNMING),
        "POST",
        &format!("/api/callbacks/{case}/call"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, 202, "a free seat is found: {body}");
    busy_line(&mut seat, &mut carrier).await;
    let tried = attempts(&server, caller, 1).await;
    assert_eq!(tried[0]["outcome"], "busy", "{tried:?}");
    assert_eq!(
        server.cases_of(caller).await[0]["callback_status"],
        "awaiting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_connects_seat_and_caller_and_records_its_outcome_sqlite() {
    let gateway = Gateway::bind();
    let options = gateway.options(&callbacks_manual());
    run_on(Backend::Sqlite, options, move |server| {
        a_callback_connects_seat_and_caller_and_records_its_outcome(server, gateway)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_connects_seat_and_caller_and_records_its_outcome_postgres() {
    let gateway = Gateway::bind();
    let options = gateway.options(&callbacks_manual());
    run_on(Backend::Postgres, options, move |server| {
        a_callback_connects_seat_and_caller_and_records_its_outcome(server, gateway)
    })
    .await;
}

/// The automatic list: a missed caller is called back by itself once a seat is free; a busy
/// line is tried again (spacing 0 in this test), and a reached caller is not called again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_list_calls_a_missed_caller_back_by_itself_and_tries_again() {
    let gateway = Gateway::bind();
    let options = gateway
        .options(&[("spacing_mins = 30", "spacing_mins = 0")])
        .with_args(&["--outbound-every", "1"]);
    run_on(Backend::Sqlite, options, |server| async move {
        let caller = "13987650003";
        missed_call(&server, caller).await;
        let mut carrier = gateway.carrier(&server).await;
        let mut seat = Softphone::signed_in(&server, "1001").await;
        // First try: the seat answers, the caller's line is busy.
        busy_line(&mut seat, &mut carrier).await;
        // The seat's after-call work (10 s) is over before the list tries again.
        let (_, seat_rtp) = seat
            .take_call(Duration::from_secs(30), "the list tries again")
            .await;
        let invite = carrier
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the caller rings again");
        let caller_rtp = carrier.answer(&invite).await;
        carrier
            .expect(rsip::Method::Ack, Duration::from_secs(5))
            .await;
        let (a, b) = talk(&seat.phone, seat_rtp, &carrier.phone, caller_rtp).await;
        assert!(a > 0.95 && b > 0.95, "connected: {a:.3} {b:.3}");
        let answered = seat.last_invite.clone().expect("the seat answered");
        seat.send_in_dialog(&answered, "BYE", 2, "").await;
        let tried = attempts(&server, caller, 2).await;
        let outcomes: Vec<&str> = tried
            .iter()
            .map(|t| t["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["busy", "reached"]);
        assert_eq!(server.cases_of(caller).await[0]["callback_status"], "done");
    })
    .await;
}

/// A missed caller who calls again and reaches an operator is no longer owed a callback: the
/// case of the missed call is settled by the call that got through, and leaves the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_caller_who_gets_through_is_owed_no_callback() {
    let gateway = Gateway::bind();
    let options = gateway.options(&callbacks_manual());
    run_on(Backend::Sqlite, options, |server| async move {
        let caller = "13987650004";
        let missed = missed_call(&server, caller).await;
        let (_, owed) = server.get_json("/api/callbacks?platform=530100").await;
        assert!(owed.to_string().contains(&missed), "{owed}");
        let mut seat = Softphone::signed_in(&server, "1001").await;
        let mut phone = TestPhone::udp(server.sip).await;
        let (mut call, resp) = phone.call(caller, "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        seat.take_call(Duration::from_secs(10), "the caller gets through")
            .await;
        let mut settled = false;
        for _ in 0..100 {
            let cases = server.cases_of(caller).await;
            let first = cases.iter().find(|c| c["case_number"] == missed.as_str());
            if first.is_some_and(|c| c["callback_status"] == "done") {
                settled = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(settled, "the missed call's case is settled");
        let (_, owed) = server.get_json("/api/callbacks?platform=530100").await;
        assert!(!owed.to_string().contains(&missed), "{owed}");
        phone.bye(&mut call).await;
    })
    .await;
}

/// A reminder: the liaison of kmhb answers, hears the message (the case number is in it),
/// presses 1, hears that the case is signed; the case is signed in the liaison's name and the
/// reminder's outcome is on the case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_liaisons_key_1_signs_the_case() {
    let gateway = Gateway::bind();
    let options = gateway.options(&[]);
    run_on(Backend::Sqlite, options, |server| async move {
        let case = dispatched(
            &server,
            "087163650001",
            "complaint",
            json!({"summary": "夜间施工噪音"}),
            "kmhb",
        )
        .await;
        let mut liaison = gateway.carrier(&server).await;
        let (st, body) = api(
            &server,
            Some(OP_KUNMING),
            "POST",
            &format!("/api/cases/{case}/reminders"),
            None,
        )
        .await;
        assert_eq!(st, 202, "{body}");
        let invite = liaison
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the liaison's phone rings");
        assert!(
            invite.to_string().starts_with("INVITE sip:087163100101@"),
            "kmhb's liaison: {invite}"
        );
        let to_server = liaison.answer(&invite).await;
        liaison
            .expect(rsip::Method::Ack, Duration::from_secs(5))
            .await;
        // The message begins with its intro, then the case number's digits.
        let heard = decode_stream(
            Codec::Pcmu,
            &liaison.phone.receive_rtp(150, Duration::from_secs(6)).await,
        );
        assert!(
            find_prompt(&heard, Codec::Pcmu, "reminder-intro.wav", 800).is_some(),
            "the liaison hears the reminder ({} samples)",
            heard.len()
        );
        assert!(find_prompt(&heard, Codec::Pcmu, "digit-5.wav", 800).is_some());
        let mut stream = PhoneStream::default();
        liaison.phone.send_dtmf(to_server, &mut stream, '1').await;
        // The liaison hears that it is signed (the test prompts last a second), then the
        // server hangs up.
        let after = decode_stream(
            Codec::Pcmu,
            &liaison
                .phone
                .wait_quiet(Duration::from_millis(600), Duration::from_secs(30))
                .await,
        );
        assert!(
            find_prompt(&after, Codec::Pcmu, "reminder-signed.wav", 800).is_some(),
            "the liaison hears the confirmation ({} samples)",
            after.len()
        );
        let bye = liaison
            .expect(rsip::Method::Bye, Duration::from_secs(10))
            .await
            .expect("the server hangs up after the confirmation");
        liaison.respond(&bye, "200 OK", None, None).await;
        let wf = history(&server, &case).await;
        assert_eq!(wf["state"], "signed", "{wf}");
        let sign = wf["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["event"] == "sign")
            .expect("a sign step")
            .clone();
        assert_eq!(sign["actor_role"], "unit", "{sign}");
        assert_eq!(sign["actor_id"], "kmhb-liaison");
        assert_eq!(sign["actor_unit"], "kmhb");
        assert!(
            sign["note"].as_str().unwrap().contains("087163100101"),
            "{sign}"
        );
        let (_, view) = server.get_json(&format!("/api/cases/{case}")).await;
        assert_eq!(view["reminders"][0]["outcome"], "signed", "{view}");
        // Signed: the next reminder is refused.
        let (st, _) = api(
            &server,
            Some(OP_KUNMING),
            "POST",
            &format!("/api/cases/{case}/reminders"),
            None,
        )
        .await;
        assert_eq!(st, 409);
    })
    .await;
}
