//! Queues of the dialplan, on the wire: a platform's menu leads to a skill queue answered by
//! the seat that has the skill; wrap-up keeps a seat from being rung; a caller overflows into
//! the provincial platform's queue and a provincial operator answers; the waiting caller hears
//! who is ahead and the estimated wait.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::audio::{decode_stream, find_prompt};
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::queue_log::{eventually, eventually_within, queue_log, story_of, story_once};
use common::server::{Backend, ServerOptions, TestServer};
use common::softphone::Softphone;
use hotline12345::media::g711::Codec;

/// The last `n` states of a seat.
async fn last_states(server: &TestServer, seat: &str, n: usize) -> Vec<String> {
    let (_, states) = server.get_json(&format!("/api/agents/{seat}/states")).await;
    let states: Vec<String> = states
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["state"].as_str().map(str::to_string))
        .collect();
    states[states.len().saturating_sub(n)..].to_vec()
}

/// Dali has a second seat, 2002, who speaks Mandarin only.
fn dali_with_two_seats() -> ServerOptions {
    ServerOptions::with_dialplan_edit(|name, text| match name {
        "agents.toml" => format!(
            "{text}\n[[agent]]\nid = \"2002\"\nplatform = \"532900\"\npassword = \"dev-2002\"\n\
             skills = {{ mandarin = 10 }}\n"
        ),
        "hotline.toml" => text.replace(
            "default_hours = [\"08:00-20:00\"]",
            "default_hours = [\"00:00-24:00\"]",
        ),
        _ => text,
    })
}

/// Two Dali callers. The one who presses 1 during the greeting reaches the Bai-language desk
/// and its seat 2001, although 2002 has been idle longer; the one who presses nothing reaches
/// Dali's general queue after the menu's timeout, and 2002.
async fn the_menu_leads_to_the_bai_desk(server: Arc<TestServer>) {
    let mut mandarin_seat = Softphone::signed_in(&server, "2002").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut bai_seat = Softphone::signed_in(&server, "2001").await;

    let mut silent = TestPhone::udp(server.sip).await;
    let (silent_call, resp) = silent.call("087226611111", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    let mut presser = TestPhone::udp(server.sip).await;
    let (bai_call, resp) = presser.call("087226622222", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut stream = PhoneStream::default();
    presser
        .send_dtmf(TestPhone::server_rtp(&bai_call), &mut stream, '1')
        .await;

    let invite = bai_seat
        .expect(rsip::Method::Invite, Duration::from_secs(5))
        .await
        .expect("the Bai-speaking seat rings for the caller who pressed 1");
    assert!(
        invite.to_string().contains("087226622222"),
        "the seat sees who calls: {invite}"
    );
    bai_seat.answer(&invite).await;
    bai_seat
        .expect(rsip::Method::Ack, Duration::from_secs(5))
        .await
        .expect("ACK");

    // The silent caller hears the greeting and the menu, waits for a key, then joins Dali's
    // own queue: 2002 rings.
    let (heard, invite) = silent
        .listen_until(
            mandarin_seat.expect(rsip::Method::Invite, Duration::from_secs(30)),
            Duration::from_secs(30),
        )
        .await;
    let invite = invite.expect("the general queue's seat rings for the caller who pressed nothing");
    let heard = decode_stream(Codec::Pcmu, &heard);
    let greeting = find_prompt(&heard, Codec::Pcmu, "welcome-532900.wav", 8000)
        .expect("the silent caller hears Dali's greeting");
    let menu = find_prompt(&heard, Codec::Pcmu, "menu-532900.wav", 8000).expect("then the menu");
    assert!(greeting < menu);
    assert!(invite.to_string().contains("087226611111"), "{invite}");
    mandarin_seat
        .respond(&invite, "486 Busy Here", Some("busy"), None)
        .await;

    let expected = ["enter-queue 532900-bai -", "connect 532900-bai 2001"];
    let bai_story = story_once(&server, "532900", &bai_call.call_id, &expected).await;
    assert_eq!(bai_story, expected, "pressing 1 leads to the desk");
    // No key leads to the platform's own queue, where 2002 said it was busy.
    let expected = ["enter-queue 532900 -", "ring-no-answer 532900 2002"];
    let silent_story = story_once(&server, "532900", &silent_call.call_id, &expected).await;
    assert_eq!(silent_story, expected);
    // Asking for the desk alone gives its events only.
    let desk = queue_log(&server, "queue=532900-bai").await;
    assert!(desk.iter().all(|e| e["queue"] == "532900-bai"));
    assert_eq!(desk.len(), 2, "{desk:?}");
    // A queue of another platform is refused under a platform filter.
    let (status, _) = server
        .get_json("/api/queue-log?platform=530100&queue=532900-bai")
        .await;
    assert_eq!(status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_leads_to_the_bai_desk_sqlite() {
    run_on(
        Backend::Sqlite,
        dali_with_two_seats(),
        the_menu_leads_to_the_bai_desk,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_leads_to_the_bai_desk_postgres() {
    run_on(
        Backend::Postgres,
        dali_with_two_seats(),
        the_menu_leads_to_the_bai_desk,
    )
    .await;
}

/// Kunming's queue: a wrap-up of 3 s, announcements every 5 s, and after 8 s the caller
/// overflows into the provincial platform's queue.
fn kunming_overflows_to_the_province() -> ServerOptions {
    ServerOptions::with_dialplan_edit(|name, text| match name {
        "hotline.toml" => text.replace(
            "default_hours = [\"08:00-20:00\"]",
            "default_hours = [\"00:00-24:00\"]",
        ),
        "queues.toml" => format!(
            "{text}\n[[queue]]\nname = \"530100\"\nwrap_up_secs = 3\nannounce_every_secs = 5\n\
             max_wait_secs = 8\noverflow = \"530000\"\n"
        ),
        _ => text,
    })
}

/// A seat in wrap-up is not rung: the next caller's INVITE comes when its 3 s are over.
async fn wrap_up_is_respected(server: Arc<TestServer>) {
    let mut seat = Softphone::signed_in(&server, "1001").await;
    let mut first = TestPhone::udp(server.sip).await;
    let (mut first_call, resp) = first.call("087163611111", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    let invite = seat
        .expect(rsip::Method::Invite, Duration::from_secs(5))
        .await
        .expect("rings");
    seat.answer(&invite).await;
    seat.expect(rsip::Method::Ack, Duration::from_secs(5))
        .await
        .expect("ACK");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hung_up = Instant::now();
    assert_eq!(first.bye(&mut first_call).await.status_code.code(), 200);
    let bye = seat
        .expect(rsip::Method::Bye, Duration::from_secs(5))
        .await
        .expect("the seat's leg ends with the caller's");
    seat.respond(&bye, "200 OK", None, None).await;

    let mut second = TestPhone::udp(server.sip).await;
    let (_second_call, resp) = second.call("087163622222", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    let invite = seat
        .expect(rsip::Method::Invite, Duration::from_secs(10))
        .await
        .expect("rings after wrap-up");
    let after = hung_up.elapsed();
    assert!(
        after >= Duration::from_millis(2900),
        "rung {after:?} after the last call ended, inside the 3 s wrap-up"
    );
    assert!(invite.to_string().contains("087163622222"));
    // The seat's states tell the same: on-call, wrap-up, available, ringing.
    let expected: Vec<String> = ["on-call", "wrap-up", "available", "ringing"]
        .map(String::from)
        .to_vec();
    let tail = eventually(&expected, || last_states(&server, "1001", 4)).await;
    assert_eq!(tail, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrap_up_is_respected_sqlite() {
    run_on(
        Backend::Sqlite,
        kunming_overflows_to_the_province(),
        wrap_up_is_respected,
    )
    .await;
}

/// Nobody answers in Kunming: the caller hears "you are next, about 3 minutes" and, at 8 s,
/// moves into the provincial queue, where a provincial operator who signs in answers.
async fn overflow_into_the_provincial_queue(server: Arc<TestServer>) {
    let mut caller = TestPhone::udp(server.sip).await;
    let (call, resp) = caller.call("087163633333", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    // The greeting, then the announcement due at 5 s: listen until its last word.
    let mut packets = Vec::new();
    let heard = loop {
        packets.extend(caller.receive_rtp(50, Duration::from_secs(2)).await);
        let heard = decode_stream(Codec::Pcmu, &packets);
        if find_prompt(&heard, Codec::Pcmu, "queue-minutes.wav", 4000).is_some() {
            break heard;
        }
        assert!(packets.len() < 2000, "no announcement in 40 s of audio");
    };
    let next = find_prompt(&heard, Codec::Pcmu, "queue-next.wav", 4000)
        .expect("the caller hears that they are next");
    // Nobody is signed in: the estimate is the default talk time of 3 minutes.
    let wait = find_prompt(&heard, Codec::Pcmu, "queue-wait.wav", 4000).expect("the wait");
    let three = find_prompt(&heard, Codec::Pcmu, "digit-3.wav", 2000).expect("three");
    let minutes = find_prompt(&heard, Codec::Pcmu, "queue-minutes.wav", 4000).expect("minutes");
    assert!(
        next < wait && wait < three && three < minutes,
        "{next} {wait} {three} {minutes}"
    );

    // At 8 s the caller overflows to the province's queue.
    let overflowed = ["enter-queue 530100 -", "overflow 530100 -"]
        .map(String::from)
        .to_vec();
    let story = eventually_within(
        &overflowed,
        || story_of(&server, "530100", &call.call_id),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(story, overflowed, "{story:?}");
    let (_, live) = server.get_json("/api/queues").await;
    let waiting = live["waiting"].as_array().unwrap();
    assert!(
        waiting.iter().any(|w| w["call"] == call.call_id.as_str()
            && w["queue"] == "530000"
            && w["platform"] == "530000"),
        "{live}"
    );
    let mut province = Softphone::signed_in(&server, "9001").await;
    let _ = province
        .take_call(Duration::from_secs(5), "the provincial operator rings")
        .await;
    let expected = ["enter-queue 530000 -", "connect 530000 9001"];
    let story = story_once(&server, "530000", &call.call_id, &expected).await;
    assert_eq!(story, expected);
    // The case stays the one written when the call came in, on Kunming's platform.
    let cases = server.cases_of("087163633333").await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["platform"], "530100");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflow_into_the_provincial_queue_sqlite() {
    run_on(
        Backend::Sqlite,
        kunming_overflows_to_the_province(),
        overflow_into_the_provincial_queue,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflow_into_the_provincial_queue_postgres() {
    run_on(
        Backend::Postgres,
        kunming_overflows_to_the_province(),
        overflow_into_the_provincial_queue,
    )
    .await;
}

/// The standard's figures through the API, from the queue log the server wrote: a caller who
/// hangs up at once is offered and a short abandon (no service level without a call that
/// counts); a platform's operator sees their platform only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kpis_count_a_short_abandon() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let mut caller = TestPhone::udp(server.sip).await;
            let (mut call, resp) = caller.call("087163644444", "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            assert_eq!(caller.bye(&mut call).await.status_code.code(), 200);
            let mut kunming = serde_json::Value::Null;
            for _ in 0..100 {
                let (status, body) = server.get_json("/api/kpis").await;
                assert_eq!(status, 200, "{body}");
                kunming = body["platforms"]["530100"].clone();
                if kunming["abandoned"] == 1 {
                    assert_eq!(body["province"]["offered"], 1, "{body}");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(kunming["offered"], 1, "{kunming}");
            assert_eq!(kunming["short_abandoned"], 1, "{kunming}");
            assert_eq!(kunming["service_level"], serde_json::Value::Null);
            // The last hour holds the same call; the moment's figures beside it: nobody
            // waits, no seat is staffed, and the abandoned caller is owed a callback.
            let (status, hour) = server.get_json("/api/kpis?period=last-hour").await;
            assert_eq!(status, 200, "{hour}");
            assert_eq!(hour["platforms"]["530100"]["offered"], 1, "{hour}");
            assert_eq!(hour["live"]["waiting"], 0, "{hour}");
            assert_eq!(hour["live"]["longest_wait_s"], 0.0, "{hour}");
            assert_eq!(
                hour["live"]["occupancy_now"],
                serde_json::Value::Null,
                "{hour}"
            );
            assert_eq!(hour["occupancy"], serde_json::Value::Null, "{hour}");
            assert_eq!(hour["missed_not_called_back"], 1, "{hour}");
            assert_eq!(hour["targets"]["connection_rate"], 0.95, "{hour}");
            let (status, _) = server.get_json("/api/kpis?period=yesterday").await;
            assert_eq!(status, 422);
            let (status, _) = server
                .get_json("/api/kpis?period=today&from=2026-12-01T00:00:00Z")
                .await;
            assert_eq!(status, 422);
            let (status, dali) = server
                .request(Some("dev-op-dali-1"), "GET", "/api/kpis", None)
                .await;
            assert_eq!(status, 200);
            assert!(dali["platforms"].as_object().unwrap().is_empty(), "{dali}");
            assert_eq!(dali["province"]["offered"], 0, "{dali}");
            let (status, _) = server
                .request(
                    Some("dev-op-dali-1"),
                    "GET",
                    "/api/kpis?from=yesterday",
                    None,
                )
                .await;
            assert_eq!(status, 422);
        },
    )
    .await;
}
