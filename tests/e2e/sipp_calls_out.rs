//! SIPp (Debian's sip-tester) as the carrier behind the trunk: it answers a callback and echoes
//! the audio (the operator's seat hears itself through the carrier), and it answers a reminder
//! as the unit's liaison, pressing 1 (RFC 4733 from a pcap), which signs the case.

use crate::common;

use std::time::Duration;

use common::audio::{correlation, decode_stream, through_codec, tone};
use common::carrier::Gateway;
use common::cases::{api, dispatched, history, OP_KUNMING};
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::server::{Backend, ServerOptions};
use common::sipp::{free_udp_port, run_sipp_uas, sipp_available};
use common::softphone::Softphone;
use hotline12345::media::g711::Codec;
use serde_json::json;

/// The bundled dialplan staffed around the clock, with a trunk to SIPp on `port`.
fn options(port: u16) -> ServerOptions {
    let gateway = Gateway::bind();
    let trunks = gateway
        .trunks_toml("")
        .replace(&gateway.addr().to_string(), &format!("127.0.0.1:{port}"));
    gateway
        .options(&[("automatic = true", "automatic = false")])
        .with_dialplan_file("trunks.toml", trunks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_as_the_carrier_answers_a_callback() {
    if !sipp_available() {
        return;
    }
    let port = free_udp_port();
    run_on(Backend::Sqlite, options(port), move |server| async move {
        let caller = "13987680001";
        let mut phone = TestPhone::udp(server.sip).await;
        let (mut call, _) = phone.call(caller, "12345").await;
        phone.bye(&mut call).await;
        let case = server.cases_of(caller).await[0]["case_number"]
            .as_str()
            .unwrap()
            .to_string();
        let media_port = (20000 + 2 * (rand::random::<u16>() % 5000)).to_string();
        let sipp = tokio::task::spawn_blocking(move || {
            run_sipp_uas("trunk-uas.xml", port, &["-rtp_echo", "-mp", &media_port])
        });
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
        let (invite, seat_rtp) = seat
            .take_call(Duration::from_secs(10), "the seat rings first")
            .await;
        // SIPp answers (it may still be starting: the INVITE is retransmitted).
        let mut answered = false;
        for _ in 0..100 {
            let cases = server.cases_of(caller).await;
            answered = cases[0]["calls"].as_array().unwrap().iter().any(|c| {
                c["direction"] == "out"
                    && c["agent_legs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|l| l["agent"] == caller && !l["answered_at"].is_null())
            });
            if answered {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(answered, "SIPp answered the callback");
        // The seat speaks; SIPp echoes what reaches it: the seat hears itself back.
        let said = tone(450.0, 16_000);
        let mut stream = PhoneStream::default();
        let (_, heard) = tokio::join!(
            seat.phone.send_audio(seat_rtp, &mut stream, &said),
            seat.phone.receive_rtp(100, Duration::from_secs(6)),
        );
        let c = correlation(
            &decode_stream(Codec::Pcmu, &heard),
            &through_codec(Codec::Pcmu, &said)[..4000],
        );
        assert!(c > 0.95, "the seat hears itself through SIPp: {c:.3}");
        seat.send_in_dialog(&invite, "BYE", 2, "").await;
        let run = sipp.await.unwrap();
        assert!(run.success, "SIPp:\n{}\n{}", run.stdout, run.stderr);
        let cases = server.cases_of(caller).await;
        assert_eq!(
            cases[0]["callback_attempts"][0]["outcome"], "reached",
            "{cases:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_as_the_liaison_signs_a_case_by_key() {
    if !sipp_available() {
        return;
    }
    let port = free_udp_port();
    run_on(Backend::Sqlite, options(port), move |server| async move {
        let case = dispatched(
            &server,
            "087163680001",
            "complaint",
            json!({"summary": "污水外排"}),
            "kmhb",
        )
        .await;
        let media_port = (20000 + 2 * (rand::random::<u16>() % 5000)).to_string();
        let sipp = tokio::task::spawn_blocking(move || {
            run_sipp_uas("liaison-reminder.xml", port, &["-mp", &media_port])
        });
        let (st, body) = api(
            &server,
            Some(OP_KUNMING),
            "POST",
            &format!("/api/cases/{case}/reminders"),
            None,
        )
        .await;
        assert_eq!(st, 202, "{body}");
        let run = sipp.await.unwrap();
        assert!(run.success, "SIPp:\n{}\n{}", run.stdout, run.stderr);
        let wf = history(&server, &case).await;
        assert_eq!(wf["state"], "signed", "{wf}");
        assert!(
            wf["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["event"] == "sign" && h["actor_id"] == "kmhb-liaison"),
            "{wf}"
        );
        let (_, view) = server.get_json(&format!("/api/cases/{case}")).await;
        assert_eq!(view["reminders"][0]["outcome"], "signed", "{view}");
    })
    .await;
}

/// SIPp as seat 1001's softphone makes an attended transfer: it answers a caller, dials its
/// colleague 1002 through the server (answering the 407 with MD5), and sends REFER with
/// Replaces; the caller and 1002 then talk, and SIPp sees 202, NOTIFY 200 and both BYEs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_as_an_operator_transfers_with_refer_and_replaces() {
    if !sipp_available() {
        return;
    }
    let port = free_udp_port();
    // SIPp answers one MD5 challenge: seat 1001 is challenged with MD5 only.
    let options = ServerOptions::with_dialplan_edit(|name, text| match name {
        "agents.toml" => text.replacen(
            "id = \"1001\"\nplatform = \"530100\"\n",
            "id = \"1001\"\nplatform = \"530100\"\ndigest = \"md5\"\n",
            1,
        ),
        "hotline.toml" => text.replace(
            "default_hours = [\"08:00-20:00\"]",
            "default_hours = [\"00:00-24:00\"]",
        ),
        _ => text,
    });
    run_on(Backend::Sqlite, options, move |server| async move {
        // Seat 1001 signs in with its Contact on SIPp's port.
        let mut signer = Softphone::new(&server, "1001").await;
        let ok = signer
            .register_with(
                "MD5",
                "dev-1001",
                &format!("<sip:1001@127.0.0.1:{port}>"),
                Some(600),
            )
            .await;
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
        let target = server.sip;
        let media_port = (20000 + 2 * (rand::random::<u16>() % 5000)).to_string();
        let sipp = tokio::task::spawn_blocking(move || {
            common::sipp::run_sipp_on(
                "operator-refer-replaces.xml",
                target,
                port,
                &[
                    "-s",
                    "1001",
                    "-ap",
                    "dev-1001",
                    "-key",
                    "colleague",
                    "1002",
                    "-mp",
                    &media_port,
                    "-m",
                    "1",
                ],
            )
        });
        let mut caller = TestPhone::udp(server.sip).await;
        let (call, resp) = caller.call("087163680002", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        // SIPp (1001) answers; then 1002 signs in, and rings for the consultation.
        let mut connected = false;
        for _ in 0..100 {
            let (_, d) = server
                .get_json(&format!("/api/calls/{}", call.call_id))
                .await;
            if d["phase"] == "bridged" {
                connected = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(connected, "SIPp answered as 1001");
        let mut colleague = Softphone::signed_in(&server, "1002").await;
        let (_, colleague_rtp) = colleague
            .take_call(
                Duration::from_secs(15),
                "1002 rings for SIPp's consultation",
            )
            .await;
        let run = sipp.await.unwrap();
        assert!(run.success, "SIPp:\n{}\n{}", run.stdout, run.stderr);
        // The caller and 1002 talk.
        let to_caller = TestPhone::server_rtp(&call);
        let (a, b) =
            crate::calls_out::talk(&caller, to_caller, &colleague.phone, colleague_rtp).await;
        assert!(
            a > 0.95 && b > 0.95,
            "the caller and 1002 talk: {a:.3} {b:.3}"
        );
        let (_, d) = server
            .get_json(&format!("/api/calls/{}", call.call_id))
            .await;
        assert_eq!(d["parties"][0]["who"], "1002", "{d}");
    })
    .await;
}
