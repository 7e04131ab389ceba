//! The carrier's trunk: with `accept_calls = "trunks"` a call comes in only from the trunk's
//! addresses (403 from elsewhere) and only while one of its channels is free (503); a trunk
//! that registers answers the carrier's challenge, and a call out answers the carrier's
//! challenge to its INVITE and goes through.

use crate::common;

use std::time::Duration;

use common::carrier::Gateway;
use common::cases::{api, OP_KUNMING, SUP_KUNMING};
use common::harness::run_on;
use common::phone::{header_value, TestPhone};
use common::server::{Backend, ServerOptions};
use common::softphone::{digest_answers, Softphone};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_come_in_only_over_the_trunk_and_within_its_channels() {
    let options = ServerOptions::with_dialplan_edit(|name, text| match name {
        "trunks.toml" => {
            "accept_calls = \"trunks\"\n\n[[trunk]]\nname = \"carrier\"\n\
                          gateway = \"127.0.0.2:5060\"\naddresses = [\"127.0.0.2\"]\nchannels = 1\n"
                .to_string()
        }
        "hotline.toml" => text.replace(
            "default_hours = [\"08:00-20:00\"]",
            "default_hours = [\"00:00-24:00\"]",
        ),
        _ => text,
    });
    run_on(Backend::Sqlite, options, |server| async move {
        // From outside the trunk (and not a seat's phone): refused.
        let mut stranger = TestPhone::udp_from(server.sip, "127.0.0.1").await;
        let (_, resp) = stranger.call("087163670001", "12345").await;
        assert_eq!(resp.status_code.code(), 403);
        assert!(
            server.cases_of("087163670001").await.is_empty(),
            "no case for a refused call"
        );
        // Over the trunk: taken, on its one channel.
        let mut first = TestPhone::udp_from(server.sip, "127.0.0.2").await;
        let (mut call, resp) = first.call("087163670002", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        // A second call while the channel is busy: 503, to be tried again.
        let mut second = TestPhone::udp_from(server.sip, "127.0.0.2").await;
        let (_, resp) = second.call("087163670003", "12345").await;
        assert_eq!(resp.status_code.code(), 503);
        assert!(header_value(&resp.to_string(), "Retry-After").is_some());
        // The first ends: the channel is free again.
        first.bye(&mut call).await;
        let mut third = TestPhone::udp_from(server.sip, "127.0.0.2").await;
        let mut answered = false;
        for _ in 0..20 {
            let (mut call, resp) = third.call("087163670004", "12345").await;
            if resp.status_code.code() == 200 {
                third.bye(&mut call).await;
                answered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(answered, "the channel came back");
        // A seat's registered phone may still call the hotline from its own address.
        let mut seat = Softphone::signed_in(&server, "1001").await;
        let _ = &mut seat;
        let mut desk = TestPhone::udp_from(server.sip, "127.0.0.1").await;
        let (mut call, resp) = desk.call("087163670005", "12345").await;
        assert_eq!(
            resp.status_code.code(),
            200,
            "a seat's address is not a stranger"
        );
        desk.bye(&mut call).await;
    })
    .await;
}

/// The carrier wants a registration and challenges it, and challenges the INVITEs too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trunk_registers_and_answers_the_carriers_challenges() {
    let gateway = Gateway::bind();
    let trunks = gateway.trunks_toml(
        "username = \"yn12345\"\npassword = \"carrier-secret\"\nregister = { expires_secs = 300 }",
    );
    let options = gateway
        .options(&[("automatic = true", "automatic = false")])
        .with_dialplan_file("trunks.toml", trunks);
    let dialplan = options.dialplan.clone();
    let changed = gateway.trunks_toml(
        "username = \"yn12345-b\"\npassword = \"carrier-secret\"\nregister = { expires_secs = 300 }",
    );
    run_on(Backend::Sqlite, options, |server| async move {
        let mut carrier = gateway.carrier(&server).await;
        let challenge = |kind: &str| {
            format!("{kind}: Digest realm=\"carrier.example\", nonce=\"n{:x}\", algorithm=MD5, qop=\"auth\"\r\n", rand::random::<u32>())
        };
        // The registration: challenged, then answered with the trunk's credentials.
        let register = carrier
            .expect(rsip::Method::Register, Duration::from_secs(10))
            .await
            .expect("the trunk registers");
        let text = register.to_string();
        assert!(header_value(&text, "Contact").is_some_and(|c| c.contains("sip:yn12345@")), "{text}");
        carrier
            .respond_with(&register, "401 Unauthorized", Some("c"), &challenge("WWW-Authenticate"), None)
            .await;
        let register = carrier
            .expect(rsip::Method::Register, Duration::from_secs(10))
            .await
            .expect("the registration again, with credentials");
        let auth = header_value(&register.to_string(), "Authorization").expect("Authorization");
        assert!(digest_answers(&auth, "REGISTER", "carrier-secret"), "{auth}");
        carrier
            .respond_with(&register, "200 OK", Some("c"), "Expires: 300\r\n", None)
            .await;

        // Registered, the carrier sends a call to our account: the number dialled is in To.
        let call = common::phone::Call {
            call_id: format!("{:x}@carrier", rand::random::<u64>()),
            from_tag: format!("{:x}", rand::random::<u64>()),
            to_tag: None,
            branch: format!("z9hG4bK{:x}", rand::random::<u64>()),
            caller_uri: "sip:087163670009@127.0.0.1".into(),
            request_uri: format!("sip:yn12345@{}", server.sip),
            cseq: 1,
            answer: None,
        };
        let offer = carrier.phone.offer();
        let mut call = carrier.phone.send_invite(call, "12345", "", &offer).await;
        let resp = carrier.phone.final_response(&mut call).await;
        assert_eq!(resp.status_code.code(), 200, "{resp}");
        carrier.phone.ack(&call).await;
        carrier.phone.bye(&mut call).await;
        assert_eq!(server.cases_of("087163670009").await.len(), 1);

        // A call out is challenged too, and answered.
        let caller = "13987670001";
        let mut phone = TestPhone::udp(server.sip).await;
        let (mut call, _) = phone.call(caller, "12345").await;
        phone.bye(&mut call).await;
        let case = server.cases_of(caller).await[0]["case_number"].as_str().unwrap().to_string();
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
        let (_, seat_rtp) = seat.take_call(Duration::from_secs(10), "the seat rings").await;
        let invite = carrier
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the INVITE out");
        carrier
            .respond_with(&invite, "407 Proxy Authentication Required", Some("c"), &challenge("Proxy-Authenticate"), None)
            .await;
        let invite = carrier
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the INVITE again, with credentials");
        let text = invite.to_string();
        let auth = header_value(&text, "Proxy-Authorization").expect("Proxy-Authorization");
        assert!(digest_answers(&auth, "INVITE", "carrier-secret"), "{auth}");
        assert!(header_value(&text, "CSeq").is_some_and(|c| c.starts_with("2 INVITE")), "{text}");
        let caller_rtp = carrier.answer(&invite).await;
        carrier.expect(rsip::Method::Ack, Duration::from_secs(5)).await.expect("ACK");
        let (a, b) = crate::calls_out::talk(&seat.phone, seat_rtp, &carrier.phone, caller_rtp).await;
        assert!(a > 0.95 && b > 0.95, "connected through the challenge: {a:.3} {b:.3}");

        // The carrier gives another account: after a reload the trunk registers with it at
        // once, without waiting for the refresh.
        std::fs::write(dialplan.join("trunks.toml"), changed).unwrap();
        let (st, body) = api(&server, Some(SUP_KUNMING), "POST", "/api/dialplan/reload", None).await;
        assert_eq!(st, 200, "{body}");
        let register = loop {
            let r = carrier
                .expect(rsip::Method::Register, Duration::from_secs(10))
                .await
                .expect("the trunk registers anew after the reload");
            if header_value(&r.to_string(), "Contact").is_some_and(|c| c.contains("sip:yn12345-b@")) {
                break r;
            }
        };
        carrier
            .respond_with(&register, "200 OK", Some("c"), "Expires: 300\r\n", None)
            .await;
    })
    .await;
}
