//! An operator transfers a caller with SIP REFER. Kunming's operator may not send a caller
//! straight to Dali (403, naming the way through the province); to the provincial platform the
//! transfer is accepted (202, then a NOTIFY of its success), the operator's leg ends, the caller
//! waits in the provincial queue and a provincial operator answers and talks with them. The
//! queue log shows the transfer and the case goes to the province with the call.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::audio::{correlation, decode_stream, through_codec, tone};
use common::harness::run_on;
use common::phone::{header_value, PhoneStream, TestPhone};
use common::queue_log::story_once;
use common::server::{Backend, ServerOptions, TestServer};
use common::softphone::Softphone;
use hotline12345::media::g711::Codec;

async fn an_operator_transfers_to_the_province(server: Arc<TestServer>) {
    let mut kunming = Softphone::signed_in(&server, "1001").await;
    let mut province = Softphone::signed_in(&server, "9001").await;

    let mut caller = TestPhone::udp(server.sip).await;
    let (mut call, resp) = caller.call("087163699999", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    let invite = kunming
        .expect(rsip::Method::Invite, Duration::from_secs(5))
        .await
        .expect("Kunming's operator rings");
    assert!(
        header_value(&invite.to_string(), "Allow").is_some_and(|a| a.contains("REFER")),
        "the seat learns it may transfer: {invite}"
    );
    kunming.answer(&invite).await;
    kunming
        .expect(rsip::Method::Ack, Duration::from_secs(5))
        .await
        .expect("ACK");

    // Straight to Dali: refused by the province's rule, and the call goes on.
    let refer_to = |target: &str| format!("Refer-To: <sip:{target}@{}>\r\n", server.sip);
    kunming
        .send_in_dialog(&invite, "REFER", 1, &refer_to("087212345"))
        .await;
    let refused = kunming
        .expect_response("REFER", Duration::from_secs(5))
        .await
        .expect("an answer to the REFER");
    assert_eq!(refused.status_code.code(), 403);
    let warning = header_value(&refused.to_string(), "Warning").unwrap_or_default();
    assert!(
        warning.contains("transfers to the provincial platform 530000"),
        "{refused}"
    );

    // To the provincial platform: accepted, and its success notified.
    kunming
        .send_in_dialog(&invite, "REFER", 2, &refer_to("530000"))
        .await;
    let accepted = kunming
        .expect_response("REFER", Duration::from_secs(5))
        .await
        .expect("an answer to the REFER");
    assert_eq!(accepted.status_code.code(), 202, "{accepted}");
    let notify = kunming
        .expect(rsip::Method::Notify, Duration::from_secs(5))
        .await
        .expect("NOTIFY of the transfer");
    let text = notify.to_string();
    assert_eq!(header_value(&text, "Event").as_deref(), Some("refer"));
    assert!(header_value(&text, "Subscription-State").is_some_and(|s| s.starts_with("terminated")));
    assert!(
        String::from_utf8_lossy(&notify.body).starts_with("SIP/2.0 200 OK"),
        "{text}"
    );
    kunming.respond(&notify, "200 OK", None, None).await;
    kunming.send_in_dialog(&invite, "BYE", 3, "").await;
    let bye_ok = kunming
        .expect_response("BYE", Duration::from_secs(5))
        .await
        .expect("an answer to the operator's BYE");
    assert_eq!(bye_ok.status_code.code(), 200);

    // The provincial operator rings, answers, and talks with the caller.
    let (_, leg_rtp) = province
        .take_call(Duration::from_secs(10), "the provincial operator rings")
        .await;
    // The greeting plays out before the bridge: then the caller hears nothing.
    caller
        .wait_quiet(Duration::from_millis(300), Duration::from_secs(20))
        .await;
    let said_by_caller = tone(600.0, 12_000);
    let said_by_operator = tone(350.0, 12_000);
    let (mut caller_stream, mut operator_stream) = (PhoneStream::default(), PhoneStream::default());
    let (_, _, heard_by_operator, heard_by_caller) = tokio::join!(
        caller.send_audio(
            TestPhone::server_rtp(&call),
            &mut caller_stream,
            &said_by_caller
        ),
        province
            .phone
            .send_audio(leg_rtp, &mut operator_stream, &said_by_operator),
        province.phone.receive_rtp(80, Duration::from_secs(4)),
        caller.receive_rtp(200, Duration::from_secs(4)),
    );
    let c1 = correlation(
        &decode_stream(Codec::Pcmu, &heard_by_operator),
        &through_codec(Codec::Pcmu, &said_by_caller)[..4000],
    );
    let c2 = correlation(
        &decode_stream(Codec::Pcmu, &heard_by_caller),
        &through_codec(Codec::Pcmu, &said_by_operator)[..4000],
    );
    assert!(c1 > 0.99 && c2 > 0.99, "they hear each other: {c1} {c2}");
    assert_eq!(caller.bye(&mut call).await.status_code.code(), 200);
    let bye = province
        .expect(rsip::Method::Bye, Duration::from_secs(5))
        .await
        .expect("BYE to the provincial operator");
    province.respond(&bye, "200 OK", None, None).await;

    // The queue log tells the story in both queues.
    let expected = [
        "enter-queue 530100 -",
        "connect 530100 1001",
        "transfer 530100 1001",
    ];
    assert_eq!(
        story_once(&server, "530100", &call.call_id, &expected).await,
        expected
    );
    let expected = [
        "enter-queue 530000 -",
        "connect 530000 9001",
        "complete 530000 9001",
    ];
    assert_eq!(
        story_once(&server, "530000", &call.call_id, &expected).await,
        expected
    );

    // The case went with the call: escalated to the province by the transferring operator,
    // and both seats' legs are on the call.
    let cases = server.cases_of("087163699999").await;
    assert_eq!(cases.len(), 1);
    let number = cases[0]["case_number"].as_str().unwrap();
    let legs: Vec<(String, String)> = cases[0]["calls"][0]["agent_legs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["agent"].as_str().unwrap().to_string(),
                l["outcome"].as_str().unwrap_or("open").to_string(),
            )
        })
        .collect();
    assert_eq!(
        legs,
        [
            ("1001".into(), "transferred".into()),
            ("9001".into(), "completed".into())
        ]
    );
    let (status, history) = server
        .get_json(&format!("/api/cases/{number}/history"))
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["platform"], "530000", "{history}");
    let last = history["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["event"], "escalate", "{history}");
    assert_eq!(last["actor_id"], "1001");
    assert!(
        last["note"].as_str().unwrap().contains("transferred"),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_transfers_to_the_province_sqlite() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        an_operator_transfers_to_the_province,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_transfers_to_the_province_postgres() {
    run_on(
        Backend::Postgres,
        ServerOptions::default(),
        an_operator_transfers_to_the_province,
    )
    .await;
}

/// POSTs a transfer of `call_id` as the user of `token`.
async fn transfer_by_api(
    server: &TestServer,
    token: &str,
    call_id: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/calls/{call_id}/transfer", server.http))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

/// Kunming's supervisor hands a caller on to the province through the API: wrong data, a
/// prefecture across, another platform's operator and a waiting caller are refused and change
/// nothing; the transfer itself hangs up the operator and the provincial operator answers.
async fn a_supervisor_transfers_through_the_api(server: Arc<TestServer>) {
    let mut kunming = Softphone::signed_in(&server, "1001").await;
    let mut province = Softphone::signed_in(&server, "9001").await;
    let mut caller = TestPhone::udp(server.sip).await;
    let (mut call, resp) = caller.call("087163612121", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    let _ = kunming.take_call(Duration::from_secs(5), "rings").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Supervisors see who talks with whom.
    let (_, live) = server.get_json("/api/queues").await;
    let talking = live["connected"].as_array().unwrap();
    assert!(
        talking.iter().any(|c| c["call"] == call.call_id.as_str()
            && c["agent"] == "1001"
            && c["platform"] == "530100"),
        "{live}"
    );

    let id = call.call_id.clone();
    let kunming_sup = "dev-sup-kunming";
    for (token, body, status) in [
        (kunming_sup, serde_json::json!({"to": ""}), 422),
        (kunming_sup, serde_json::json!({"queue": "530000"}), 422),
        (kunming_sup, serde_json::json!({"to": "99999"}), 422),
        (kunming_sup, serde_json::json!({"to": "087212345"}), 403),
        (kunming_sup, serde_json::json!({"to": "530100"}), 409),
        ("dev-op-dali-1", serde_json::json!({"to": "530000"}), 404),
        ("dev-unit-kmhb", serde_json::json!({"to": "530000"}), 403),
    ] {
        let (got, answer) = transfer_by_api(&server, token, &id, body.clone()).await;
        assert_eq!(got, status, "{token} {body}: {answer}");
    }
    let (got, _) = transfer_by_api(
        &server,
        kunming_sup,
        "no-such-call",
        serde_json::json!({"to": "530000"}),
    )
    .await;
    assert_eq!(got, 404);
    // None of that touched the call: it is still with 1001.
    let (_, live) = server.get_json("/api/queues").await;
    assert!(
        live["connected"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["call"] == id.as_str() && c["agent"] == "1001"),
        "{live}"
    );

    let (got, answer) = transfer_by_api(
        &server,
        kunming_sup,
        &id,
        serde_json::json!({"to": "530000"}),
    )
    .await;
    assert_eq!(got, 202, "{answer}");
    assert_eq!(answer["queue"], "530000");
    let bye = kunming
        .expect(rsip::Method::Bye, Duration::from_secs(5))
        .await
        .expect("the server hangs up the operator");
    kunming.respond(&bye, "200 OK", None, None).await;
    let invite = province
        .expect(rsip::Method::Invite, Duration::from_secs(10))
        .await
        .expect("the provincial operator rings");
    assert!(invite.to_string().contains("087163612121"));

    // A caller who waits (1001 is in wrap-up) cannot be transferred: 409.
    let mut waiting = TestPhone::udp(server.sip).await;
    let (waiting_call, resp) = waiting.call("087163613131", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (got, answer) = transfer_by_api(
        &server,
        kunming_sup,
        &waiting_call.call_id,
        serde_json::json!({"to": "530000"}),
    )
    .await;
    assert_eq!(got, 409, "{answer}");

    province.answer(&invite).await;
    province
        .expect(rsip::Method::Ack, Duration::from_secs(5))
        .await
        .expect("ACK");
    let expected = ["enter-queue 530000 -", "connect 530000 9001"];
    assert_eq!(
        story_once(&server, "530000", &id, &expected).await,
        expected
    );
    assert_eq!(caller.bye(&mut call).await.status_code.code(), 200);
    // The case went to the province, escalated by the supervisor who transferred the call.
    let cases = server.cases_of("087163612121").await;
    let number = cases[0]["case_number"].as_str().unwrap();
    let (_, history) = server
        .get_json(&format!("/api/cases/{number}/history"))
        .await;
    assert_eq!(history["platform"], "530000", "{history}");
    let last = history["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["event"].as_str(), last["actor_id"].as_str()),
        (Some("escalate"), Some("sup-kunming")),
        "{history}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_transfers_through_the_api_sqlite() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        a_supervisor_transfers_through_the_api,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_transfers_through_the_api_postgres() {
    run_on(
        Backend::Postgres,
        ServerOptions::default(),
        a_supervisor_transfers_through_the_api,
    )
    .await;
}
