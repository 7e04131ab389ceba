//! Operators answer: two registered softphones, a caller in the Kunming queue. The longest-idle
//! seat rings first; when it does not answer the call moves on; the answering seat and the
//! caller hear each other (checked on the samples); both sides are recorded; the queue log
//! tells the story.

use crate::common;

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use common::audio::{correlation, decode_stream, find_prompt, tone};
use common::harness::run_on;
use common::phone::{header_value, PhoneStream, TestPhone};
use common::queue_log::eventually;
use common::server::{Backend, ServerOptions, TestServer, SUPERVISOR_TOKEN};
use common::softphone::Softphone;
use hotline12345::media::g711::Codec;

fn through_ulaw(samples: &[i16]) -> Vec<i16> {
    Codec::Pcmu.decode(&Codec::Pcmu.encode(samples))
}

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{}", server.http, path))
        .bearer_auth(SUPERVISOR_TOKEN)
        .send()
        .await
        .unwrap()
}

fn options() -> ServerOptions {
    let base = ServerOptions::default();
    let dir = base.dialplan.clone();
    let hotline = dir.join("hotline.toml");
    let text = std::fs::read_to_string(&hotline).unwrap();
    std::fs::write(
        &hotline,
        text.replace("ring_timeout_secs = 15", "ring_timeout_secs = 2")
            .replace("wrap_up_secs = 10", "wrap_up_secs = 1"),
    )
    .unwrap();
    base
}

async fn operators_answer(server: Arc<TestServer>) {
    let mut first = Softphone::signed_in(&server, "1001").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut second = Softphone::signed_in(&server, "1002").await;

    let mut caller = TestPhone::udp(server.sip).await;
    let (mut call, resp) = caller.call("087163644444", "12345").await;
    assert_eq!(resp.status_code.code(), 200);

    // 1001 has been idle longest: it rings first, and does not answer.
    let invite = first
        .expect(rsip::Method::Invite, Duration::from_secs(5))
        .await
        .expect("1001 rings");
    let unanswered_leg = header_value(&invite.to_string(), "Call-ID").unwrap();
    first
        .respond(&invite, "180 Ringing", Some("nobody"), None)
        .await;
    let cancel = first
        .expect(rsip::Method::Cancel, Duration::from_secs(5))
        .await
        .expect("CANCEL after 2 s");
    first.respond(&cancel, "200 OK", None, None).await;
    first
        .respond(&invite, "487 Request Terminated", Some("nobody"), None)
        .await;

    // The call moves on to 1002, which answers.
    let invite = second
        .expect(rsip::Method::Invite, Duration::from_secs(5))
        .await
        .expect("1002 rings");
    let answered_leg = header_value(&invite.to_string(), "Call-ID").unwrap();
    let leg_rtp = second.answer(&invite).await;
    second
        .expect(rsip::Method::Ack, Duration::from_secs(5))
        .await
        .expect("ACK");

    // Both talk at once: the caller an 800 Hz tone, the operator a 300 Hz tone.
    let to_server = TestPhone::server_rtp(&call);
    let said_by_caller = tone(800.0, 12_000);
    let said_by_agent = tone(300.0, 12_000);
    let mut caller_stream = PhoneStream::default();
    let mut agent_stream = PhoneStream::default();
    // Drain what the caller heard so far (greeting, hold).
    // The greeting plays out before the bridge: then the caller hears nothing.
    caller
        .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
        .await;
    let (_, _, heard_by_agent, heard_by_caller) = tokio::join!(
        caller.send_audio(to_server, &mut caller_stream, &said_by_caller),
        second
            .phone
            .send_audio(leg_rtp, &mut agent_stream, &said_by_agent),
        second.phone.receive_rtp(80, Duration::from_secs(4)),
        caller.receive_rtp(200, Duration::from_secs(4)),
    );
    let agent_heard = decode_stream(Codec::Pcmu, &heard_by_agent);
    let caller_heard = decode_stream(Codec::Pcmu, &heard_by_caller);
    let c1 = correlation(&agent_heard, &through_ulaw(&said_by_caller)[..4000]);
    let c2 = correlation(&caller_heard, &through_ulaw(&said_by_agent)[..4000]);
    assert!(c1 > 0.99, "the operator hears the caller: {c1}");
    assert!(c2 > 0.99, "the caller hears the operator: {c2}");

    // DTMF passes through: the caller's key reaches the operator as a telephone-event.
    caller.send_dtmf(to_server, &mut caller_stream, '5').await;
    let got = second
        .phone
        .receive_rtp(60, Duration::from_millis(800))
        .await;
    assert!(
        got.iter()
            .any(|p| p.payload_type == 101 && p.payload.first() == Some(&5)),
        "the operator receives the caller's 5"
    );

    // The caller hangs up; the server hangs up the operator.
    assert_eq!(caller.bye(&mut call).await.status_code.code(), 200);
    let bye = second
        .expect(rsip::Method::Bye, Duration::from_secs(5))
        .await
        .expect("BYE to 1002");
    second.respond(&bye, "200 OK", None, None).await;

    // The case holds both sides' recordings.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cases = server.cases_of("087163644444").await;
    let number = cases[0]["case_number"].as_str().unwrap().to_string();
    // Both legs' Call-IDs are linked to the case: the caller's call lists the seats it rang.
    let legs = cases[0]["calls"][0]["agent_legs"]
        .as_array()
        .unwrap()
        .clone();
    let legs: Vec<(String, String, String, bool)> = legs
        .iter()
        .map(|l| {
            (
                l["leg_call_id"].as_str().unwrap().to_string(),
                l["agent"].as_str().unwrap().to_string(),
                l["outcome"].as_str().unwrap_or("open").to_string(),
                !l["answered_at"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        legs,
        [
            (unanswered_leg, "1001".into(), "no-answer".into(), false),
            (
                answered_leg.clone(),
                "1002".into(),
                "completed".into(),
                true
            ),
        ]
    );
    assert_ne!(
        answered_leg, call.call_id,
        "the seat's leg is a call of its own"
    );
    let recs: serde_json::Value = get(&server, &format!("/api/cases/{number}/recordings"))
        .await
        .json()
        .await
        .unwrap();
    let recs = recs.as_array().unwrap();
    assert_eq!(recs.len(), 2, "{recs:?}");
    for (side, said) in [("caller", &said_by_caller), ("agent", &said_by_agent)] {
        let rec = recs.iter().find(|r| r["side"] == side).unwrap();
        assert_eq!(rec["status"], "complete");
        assert_eq!(rec["agent"], "1002");
        let bytes = get(
            &server,
            &format!("/api/recordings/{number}/{}/audio", rec["id"]),
        )
        .await
        .bytes()
        .await
        .unwrap();
        let samples: Vec<i16> = hound::WavReader::new(Cursor::new(bytes.to_vec()))
            .unwrap()
            .into_samples()
            .map(Result::unwrap)
            .collect();
        let c = correlation(&samples, &through_ulaw(said)[..8000]);
        assert!(c > 0.99, "the {side} recording holds the {side}: {c}");
    }

    // The queue log tells the story.
    let log: serde_json::Value = get(&server, "/api/queue-log?queue=530100")
        .await
        .json()
        .await
        .unwrap();
    let mut events: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    events.reverse();
    assert_eq!(
        events,
        ["enter-queue", "ring-no-answer", "connect", "complete"],
        "{log}"
    );
    // Every change of the seat's state is stored with its time; the API changes it too, once
    // the 1 s wrap-up is over.
    let last_state = || async {
        let states: serde_json::Value = get(&server, "/api/agents/1002/states")
            .await
            .json()
            .await
            .unwrap();
        states.as_array().unwrap().last().unwrap()["state"].clone()
    };
    let available = serde_json::json!("available");
    assert_eq!(eventually(&available, last_state).await, available);
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{}/api/agents/1002/state", server.http))
        .bearer_auth(SUPERVISOR_TOKEN)
        .json(&serde_json::json!({"state": "not-ready", "reason": "break"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let resp = client
        .post(format!("{}/api/agents/1002/state", server.http))
        .bearer_auth(SUPERVISOR_TOKEN)
        .json(&serde_json::json!({"state": "not-ready"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422, "a reason is required");
    let not_ready = serde_json::json!("not-ready");
    assert_eq!(eventually(&not_ready, last_state).await, not_ready);
    let states: serde_json::Value = get(&server, "/api/agents/1002/states")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = states
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    let tail = &names[names.len() - 5..];
    assert_eq!(
        tail,
        ["ringing", "on-call", "wrap-up", "available", "not-ready"],
        "{states}"
    );
    assert_eq!(
        states.as_array().unwrap().last().unwrap()["reason"],
        "break"
    );
    // A refreshed registration leaves the seat on its break.
    second.sign_in("dev-1002").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let states: serde_json::Value = get(&server, "/api/agents/1002/states")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        states.as_array().unwrap().last().unwrap()["state"],
        "not-ready",
        "{states}"
    );
    let live: serde_json::Value = get(&server, "/api/queues").await.json().await.unwrap();
    let seat = live["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "1002")
        .unwrap()
        .clone();
    assert!(seat["calls_taken"] == 1, "{live}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_answer_sqlite() {
    run_on(Backend::Sqlite, options(), operators_answer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_answer_postgres() {
    run_on(Backend::Postgres, options(), operators_answer).await;
}

fn short_wait() -> ServerOptions {
    let base = ServerOptions::default();
    let hotline = base.dialplan.join("hotline.toml");
    let text = std::fs::read_to_string(&hotline).unwrap();
    std::fs::write(
        &hotline,
        text.replace("max_wait_secs = 120", "max_wait_secs = 5"),
    )
    .unwrap();
    base
}

/// With no operator signed in: a caller who hangs up after a second is logged as abandoned
/// and owed a callback; a caller who waits overflows to voicemail at 5 s.
async fn abandon_and_overflow(server: Arc<TestServer>) {
    let mut quitter = TestPhone::udp(server.sip).await;
    let (mut call, resp) = quitter.call("087163655555", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    quitter.bye(&mut call).await;

    let mut patient = TestPhone::udp(server.sip).await;
    let (_call, resp) = patient.call("087163666666", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    // Hold for 5 s, then the after-hours greeting of voicemail.
    let packets = patient.receive_rtp(400, Duration::from_secs(8)).await;
    let heard = decode_stream(Codec::Pcmu, &packets);
    let greeting = through_ulaw(&common::audio::prompt_samples("after-hours.wav")[..8000]);
    let at = heard
        .windows(greeting.len())
        .position(|w| w == greeting.as_slice())
        .expect("the voicemail greeting after the maximum wait");
    assert!(
        (4.5..7.0).contains(&(at as f64 / 8000.0)),
        "overflow at {} s",
        at as f64 / 8000.0
    );

    let log: serde_json::Value = get(&server, "/api/queue-log?queue=530100")
        .await
        .json()
        .await
        .unwrap();
    let entries = log.as_array().unwrap();
    let abandon = entries
        .iter()
        .find(|e| e["event"] == "abandon")
        .expect("an abandon entry");
    assert_eq!(abandon["detail"]["position"], 1);
    assert!(
        abandon["detail"]["wait_ms"].as_i64().unwrap() >= 1000,
        "{abandon}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["event"] == "overflow" && e["detail"]["to"] == "voicemail"),
        "{log}"
    );

    // The abandoned caller is on the platform's callback list.
    let list: serde_json::Value = get(&server, "/api/callbacks?platform=530100")
        .await
        .json()
        .await
        .unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["caller"] == "087163655555")
        .expect("on the list")
        .clone();
    assert_eq!(entry["reason"], "abandoned");
    let number = entry["case_number"].as_str().unwrap();
    let attempt = |body: serde_json::Value| {
        reqwest::Client::new()
            .post(format!("{}/api/callbacks/{number}/attempts", server.http))
            .bearer_auth(SUPERVISOR_TOKEN)
            .json(&body)
            .send()
    };
    // Wrong data changes nothing.
    let resp = attempt(serde_json::json!({"reached": true, "operator": " "}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = attempt(serde_json::json!({"reached": "yes"}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    // Not reached first, then reached: both attempts are kept with who and when.
    let resp = attempt(serde_json::json!({"reached": false, "note": "no answer"}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = attempt(
        serde_json::json!({"reached": true, "operator": "1001", "note": "heard the request"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    // A third attempt on a caller already reached is a conflict.
    let resp = attempt(serde_json::json!({"reached": true})).await.unwrap();
    assert_eq!(resp.status(), 409);
    let (_, case) = server.get_json(&format!("/api/cases/{number}")).await;
    let attempts: Vec<(bool, String, String)> = case["callback_attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["reached"].as_bool().unwrap(),
                a["operator"].as_str().unwrap().to_string(),
                a["note"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (false, "sup-province".into(), "no answer".into()),
            (true, "1001".into(), "heard the request".into())
        ],
        "{case}"
    );
    let list: serde_json::Value = get(&server, "/api/callbacks?platform=530100")
        .await
        .json()
        .await
        .unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["caller"] != "087163655555"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandon_and_overflow_sqlite() {
    run_on(Backend::Sqlite, short_wait(), abandon_and_overflow).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandon_and_overflow_postgres() {
    run_on(Backend::Postgres, short_wait(), abandon_and_overflow).await;
}

/// A crash mid-call keeps the recordings up to the last flushed second; the next start seals
/// them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_call_keeps_the_recordings() {
    run_on(
        Backend::Sqlite,
        options(),
        |server: Arc<TestServer>| async move {
            let mut seat = Softphone::new(&server, "1001").await;
            seat.sign_in("dev-1001").await;
            let mut caller = TestPhone::udp(server.sip).await;
            let (call, resp) = caller.call("087163677777", "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            let invite = seat
                .expect(rsip::Method::Invite, Duration::from_secs(5))
                .await
                .expect("rings");
            let leg_rtp = seat.answer(&invite).await;
            seat.expect(rsip::Method::Ack, Duration::from_secs(5))
                .await
                .expect("ACK");
            // The seat answered at once, yet the caller hears the whole greeting before the
            // bridge.
            let heard = caller
                .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
                .await;
            let heard = decode_stream(Codec::Pcmu, &heard);
            assert!(
                find_prompt(&heard, Codec::Pcmu, "welcome-530100.wav", usize::MAX).is_some(),
                "the greeting is played out ({} samples heard)",
                heard.len()
            );
            let said = tone(500.0, 20_000);
            let answered = tone(250.0, 20_000);
            let mut stream = PhoneStream::default();
            let mut seat_stream = PhoneStream::default();
            tokio::join!(
                caller.send_audio(TestPhone::server_rtp(&call), &mut stream, &said),
                seat.phone.send_audio(leg_rtp, &mut seat_stream, &answered),
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            server.crash();
            let restarted = TestServer::start_in(&server.database_url, &server.data, &options());
            let cases = restarted.cases_of("087163677777").await;
            let number = cases[0]["case_number"].as_str().unwrap().to_string();
            // The seat's leg, open when the server died, is closed like the call.
            let leg = &cases[0]["calls"][0]["agent_legs"][0];
            assert_eq!(leg["agent"], "1001", "{}", cases[0]);
            assert_eq!(leg["outcome"], "server-restart", "{leg}");
            assert!(!leg["answered_at"].is_null(), "{leg}");
            let recs: serde_json::Value =
                get(&restarted, &format!("/api/cases/{number}/recordings"))
                    .await
                    .json()
                    .await
                    .unwrap();
            let recs = recs.as_array().unwrap().clone();
            assert_eq!(recs.len(), 2, "{recs:?}\n{}", restarted.log());
            for rec in &recs {
                assert_eq!(rec["status"], "complete", "{rec}");
                assert!(rec["duration_ms"].as_i64().unwrap() >= 1000, "{rec}");
            }
            let caller_side = recs.iter().find(|r| r["side"] == "caller").unwrap();
            let bytes = get(
                &restarted,
                &format!("/api/recordings/{number}/{}/audio", caller_side["id"]),
            )
            .await
            .bytes()
            .await
            .unwrap();
            let samples: Vec<i16> = hound::WavReader::new(Cursor::new(bytes.to_vec()))
                .unwrap()
                .into_samples()
                .map(Result::unwrap)
                .collect();
            assert!(correlation(&samples, &through_ulaw(&said)[..4000]) > 0.99);
            drop(restarted);
        },
    )
    .await;
}

/// Issue 11, flow bug (a): a seat whose 200 OK crosses the CANCEL sent on its ring timeout is
/// ACKed and hung up with a BYE (it used to be left in a call nobody bridged), the caller keeps
/// its place, and the next seat to answer is bridged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_crosses_the_cancel_is_hung_up() {
    common::harness::run_on(Backend::Sqlite, options(), |server| async move {
        let mut late = Softphone::signed_in(&server, "1001").await;
        let mut caller = TestPhone::udp(server.sip).await;
        let (mut call, ok) = caller.call("087163615151", "12345").await;
        assert_eq!(ok.status_code.code(), 200);
        let invite = late
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the seat rings");
        late.respond(&invite, "180 Ringing", Some("seat"), None)
            .await;
        let cancel = late
            .expect(rsip::Method::Cancel, Duration::from_secs(10))
            .await
            .expect("the ring timeout cancels");
        // The seat picks up just as the CANCEL arrives: its 200 crosses it.
        late.answer(&invite).await;
        late.respond(&cancel, "200 OK", None, None).await;
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !got.contains(&rsip::Method::Bye) && tokio::time::Instant::now() < deadline {
            if let Some(rsip::SipMessage::Request(r)) =
                late.phone.recv(Duration::from_millis(500)).await
            {
                got.push(r.method);
            }
        }
        assert!(
            got.contains(&rsip::Method::Ack),
            "the late 200 is ACKed: {got:?}"
        );
        assert!(got.contains(&rsip::Method::Bye), "and hung up: {got:?}");

        // The caller is still queued: the next seat takes it and both are bridged.
        let mut next = Softphone::signed_in(&server, "1002").await;
        let (_invite, _rtp) = next
            .take_call(Duration::from_secs(20), "the next seat")
            .await;
        caller.bye(&mut call).await;
        let legs = server.cases_of("087163615151").await[0]["calls"][0]["agent_legs"].clone();
        let agents: Vec<&str> = legs
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["agent"].as_str())
            .collect();
        assert!(agents.contains(&"1002"), "{legs}");
    })
    .await;
}
