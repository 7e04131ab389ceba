//! A caller dials 12345 and reaches the right platform: the real server, real SIP over UDP and
//! TCP, real RTP, on SQLite and PostgreSQL. Each scenario checks the case through the HTTP API
//! and that the RTP the caller receives decodes to the platform's welcome prompt.

use crate::common;
use crate::on_both_backends;

use std::sync::Arc;
use std::time::Duration;

use common::audio::{
    assert_rtp_stream_is_well_formed, decode_stream, find_prompt, prompt_samples, through_codec,
};
use common::phone::TestPhone;
use common::server::TestServer;
use hotline12345::media::g711::Codec;

/// Places a call from `caller` to `called`, checks the greeting audio of `platform`, hangs up,
/// and returns the caller's cases as the API shows them.
async fn call_hear_greeting_hang_up(
    _server: &TestServer,
    phone: &mut TestPhone,
    caller: &str,
    called: &str,
    extra_headers: &str,
    platform: &str,
) -> String {
    let (mut call, resp) = phone.call_with(caller, called, extra_headers).await;
    assert_eq!(resp.status_code.code(), 200, "call answered: {resp}");
    let answer = call.answer.clone().expect("SDP answer in 200 OK");
    assert!(
        answer.contains("RTP/AVP 0"),
        "PCMU chosen as offered first: {answer}"
    );

    // One second of greeting: 50 packets of 20 ms.
    let packets = phone.receive_rtp(50, Duration::from_secs(5)).await;
    assert_eq!(packets.len(), 50, "a second of greeting arrived");
    assert_rtp_stream_is_well_formed(&packets);
    assert!(
        packets[0].marker,
        "first packet of a talkspurt carries the marker bit"
    );
    let heard = decode_stream(Codec::Pcmu, &packets);
    let name = format!("welcome-{platform}.wav");
    let prompt = prompt_samples(&name);
    let expected = through_codec(Codec::Pcmu, &prompt[..heard.len()]);
    if heard != expected {
        // Say where it went wrong rather than print two seconds of samples.
        let frame = heard
            .chunks(160)
            .zip(expected.chunks(160))
            .position(|(a, b)| a != b);
        let start = find_prompt(&heard, Codec::Pcmu, &name, 800);
        panic!(
            "the caller hears the {platform} welcome prompt from its first sample: frame \
             {frame:?} of {} differs, and the prompt's first 100 ms begin at sample {start:?}",
            packets.len()
        );
    }

    let bye = phone.bye(&mut call).await;
    assert_eq!(bye.status_code.code(), 200);
    call.call_id
}

/// The one case of `caller` (queried in `query_form`) and checks its platform and call.
async fn assert_single_case(
    server: &TestServer,
    query_form: &str,
    platform: &str,
    call_id: &str,
) -> serde_json::Value {
    // The end of the call is written just after the 200 to BYE: allow it a moment.
    for _ in 0..50 {
        let cases = server.cases_of(query_form).await;
        if cases.len() == 1 && !cases[0]["calls"][0]["ended_at"].is_null() {
            let case = cases[0].clone();
            assert_eq!(case["platform"], platform, "case platform: {case}");
            let call = &case["calls"][0];
            assert_eq!(call["sip_call_id"], call_id);
            assert_eq!(call["end_cause"], "caller-hangup");
            assert!(call["started_at"].is_string());
            assert!(case["case_number"].as_str().unwrap().starts_with(platform));
            return case;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected one ended call for {query_form}, got {:?}",
        server.cases_of(query_form).await
    );
}

on_both_backends!(kunming_fixed_line_reaches_kunming, |server: Arc<
    TestServer,
>| async move {
    let mut phone = TestPhone::udp(server.sip).await;
    let call_id =
        call_hear_greeting_hang_up(&server, &mut phone, "087163601234", "12345", "", "530100")
            .await;
    let case = assert_single_case(&server, "087163601234", "530100", &call_id).await;
    assert_eq!(case["calls"][0]["route_reason"], "caller-area-code:0871");
    // The same case by its number.
    let number = case["case_number"].as_str().unwrap();
    let (status, by_number) = server.get_json(&format!("/api/cases/{number}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_number["case_number"], number);
    assert_eq!(by_number["calls"][0]["sip_call_id"], call_id);
});

on_both_backends!(
    dali_mobile_reaches_dali,
    |server: Arc<TestServer>| async move {
        // 1301336 is a Dali prefix in the mobile table.
        let mut phone = TestPhone::udp(server.sip).await;
        let call_id =
            call_hear_greeting_hang_up(&server, &mut phone, "13013361234", "12345", "", "532900")
                .await;
        // Any written form of the number finds the case.
        let case = assert_single_case(&server, "+8613013361234", "532900", &call_id).await;
        assert_eq!(
            case["calls"][0]["route_reason"],
            "caller-mobile-prefix:1301336"
        );
        assert_eq!(server.cases_of("008613013361234").await.len(), 1);
    }
);

on_both_backends!(
    called_area_code_wins,
    |server: Arc<TestServer>| async move {
        // A Shanghai fixed line dials 087212345: the Dali platform takes it.
        let mut phone = TestPhone::udp(server.sip).await;
        let call_id = call_hear_greeting_hang_up(
            &server,
            &mut phone,
            "02155556666",
            "087212345",
            "",
            "532900",
        )
        .await;
        let case = assert_single_case(&server, "02155556666", "532900", &call_id).await;
        assert_eq!(case["calls"][0]["route_reason"], "called-area-code:0872");
        assert_eq!(case["calls"][0]["called"], "087212345");
    }
);

on_both_backends!(
    plus86_fixed_line_over_tcp,
    |server: Arc<TestServer>| async move {
        // +86 871 … in P-Asserted-Identity, over TCP; the From is a PBX extension.
        let mut phone = TestPhone::tcp(server.sip).await;
        let call_id = call_hear_greeting_hang_up(
            &server,
            &mut phone,
            "8001",
            "12345",
            "P-Asserted-Identity: <sip:+8687163605555@127.0.0.1>\r\n",
            "530100",
        )
        .await;
        assert_single_case(&server, "008687163605555", "530100", &call_id).await;
        assert_single_case(&server, "+86 871 6360 5555", "530100", &call_id).await;
    }
);

on_both_backends!(unknown_caller_reaches_the_province, |server: Arc<
    TestServer,
>| async move {
    // A 19x mobile is not in the prefix table: the provincial platform answers.
    let mut phone = TestPhone::udp(server.sip).await;
    let call_id =
        call_hear_greeting_hang_up(&server, &mut phone, "19912345678", "12345", "", "530000").await;
    let case = assert_single_case(&server, "19912345678", "530000", &call_id).await;
    assert!(case["calls"][0]["route_reason"]
        .as_str()
        .unwrap()
        .starts_with("provincial"));
});

on_both_backends!(unserved_number_gets_404_and_no_case, |server: Arc<
    TestServer,
>| async move {
    let mut phone = TestPhone::udp(server.sip).await;
    let mut call = phone.invite("087163601111", "12346", "").await;
    let resp = phone.final_response(&mut call).await;
    assert_eq!(resp.status_code.code(), 404);
    phone.ack_failure(&call).await;
    assert!(server.cases_of("087163601111").await.is_empty());
});

on_both_backends!(garbage_does_not_harm_the_server, |server: Arc<
    TestServer,
>| async move {
    let mut phone = TestPhone::udp(server.sip).await;
    phone
        .send_raw(b"\x00\x01\x02 this is not SIP \xff\xfe\r\n\r\n")
        .await;
    phone.send_raw(b"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nContent-Length: 0\r\n\r\n").await;
    // Whatever answer comes is a 400; silence is fine too.
    if let Some(msg) = phone.recv(Duration::from_millis(500)).await {
        match msg {
            rsip::SipMessage::Response(r) => assert_eq!(r.status_code.code(), 400, "{r}"),
            other => panic!("unexpected {other}"),
        }
    }
    // The server still answers calls.
    let call_id =
        call_hear_greeting_hang_up(&server, &mut phone, "087163602222", "12345", "", "530100")
            .await;
    assert_single_case(&server, "087163602222", "530100", &call_id).await;
});

on_both_backends!(
    cancel_before_answer_or_answered_call_ends_cleanly,
    |server: Arc<TestServer>| async move {
        let mut phone = TestPhone::udp(server.sip).await;
        let mut call = phone.invite("087163603333", "12345", "").await;
        phone.cancel(&call).await;
        let resp = phone.final_response(&mut call).await;
        let cause = match resp.status_code.code() {
            487 => {
                phone.ack_failure(&call).await;
                "cancelled"
            }
            200 => {
                // The CANCEL lost the race with the answer: hang up instead.
                phone.ack(&call).await;
                phone.bye(&mut call).await;
                "caller-hangup"
            }
            other => panic!("unexpected final response {other}"),
        };
        for _ in 0..50 {
            let cases = server.cases_of("087163603333").await;
            if let Some(case) = cases.first() {
                if case["calls"][0]["end_cause"] == cause {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("call not ended with {cause}");
    }
);

on_both_backends!(options_and_reinvite_are_answered, |server: Arc<
    TestServer,
>| async move {
    let mut phone = TestPhone::udp(server.sip).await;
    let options = format!(
        "OPTIONS sip:12345@{s} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKopt1\r\nMax-Forwards: 70\r\n\
         From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:12345@{s}>\r\nCall-ID: opt1@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        s = server.sip
    );
    phone.send_raw(options.as_bytes()).await;
    let resp = phone
        .recv_response(Duration::from_secs(5))
        .await
        .expect("OPTIONS answered");
    assert_eq!(resp.status_code.code(), 200);
    assert!(
        resp.to_string().contains("INVITE"),
        "Allow lists INVITE: {resp}"
    );
});

on_both_backends!(
    restart_keeps_every_case,
    |server: Arc<TestServer>| async move {
        let mut phone = TestPhone::udp(server.sip).await;
        let (call, resp) = phone.call("087163604444", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        // Kill the server mid-call, as a crash would, and start it again on the same data.
        server.crash();
        let restarted =
            TestServer::start_in(&server.database_url, &server.data, &Default::default());
        let cases = restarted.cases_of("087163604444").await;
        assert_eq!(cases.len(), 1, "the case survived the crash");
        let recorded = &cases[0]["calls"][0];
        assert_eq!(recorded["sip_call_id"], call.call_id);
        assert_eq!(recorded["end_cause"], "server-restart", "{recorded}");
        drop(restarted);
    }
);
