//! The RFC 3261 §17 state tables, driven with messages and `Instant`s.

use std::time::{Duration, Instant};

use super::*;

fn peer(transport: Transport) -> Peer {
    Peer {
        addr: "127.0.0.1:5070".parse().unwrap(),
        transport,
    }
}

fn request(method: &str, branch: &str, extra: &str) -> rsip::Request {
    let text = format!(
        "{method} sip:12345@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:087163601234@127.0.0.1>;tag=f1\r\n\
         To: <sip:12345@127.0.0.1>{extra}\r\n\
         Call-ID: cid-1\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    rsip::Request::try_from(text.as_str()).unwrap()
}

fn outputs(layer: &mut TransactionLayer) -> Vec<Output> {
    std::iter::from_fn(|| layer.poll_output()).collect()
}

fn transmitted_codes(outs: &[Output]) -> Vec<u16> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Transmit {
                msg: rsip::SipMessage::Response(r),
                ..
            } => Some(r.status_code.code()),
            _ => None,
        })
        .collect()
}

/// The key of the request just passed to the TU (the last output).
fn request_key(layer: &mut TransactionLayer) -> TransactionKey {
    match outputs(layer).pop() {
        Some(Output::Event(TuEvent::Request { key, .. })) => key,
        other => panic!("expected a request event, got {other:?}"),
    }
}

/// A new INVITE server transaction; returns its key.
fn new_invite(layer: &mut TransactionLayer, t: Transport, now: Instant) -> TransactionKey {
    layer.handle_message(request("INVITE", "z9hG4bK1", "").into(), peer(t), now);
    request_key(layer)
}

fn respond(layer: &mut TransactionLayer, key: &TransactionKey, code: u16, now: Instant) {
    let req = request("INVITE", "z9hG4bK1", "");
    let status = rsip::StatusCode::from(code);
    layer
        .respond(key, message::response_for(&req, status, Some("tt")), now)
        .unwrap();
}

#[test]
fn invite_retransmission_gets_the_last_provisional() {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    let key = new_invite(&mut layer, Transport::Udp, t0);
    respond(&mut layer, &key, 100, t0);
    respond(&mut layer, &key, 180, t0);
    assert_eq!(transmitted_codes(&outputs(&mut layer)), [100, 180]);
    layer.handle_message(
        request("INVITE", "z9hG4bK1", "").into(),
        peer(Transport::Udp),
        t0,
    );
    let outs = outputs(&mut layer);
    assert_eq!(transmitted_codes(&outs), [180], "no second Request event");
    assert_eq!(outs.len(), 1);
}

#[test]
fn error_response_timer_g_doubles_to_t2_and_timer_h_times_out() {
    let timers = Timers::default();
    let mut layer = TransactionLayer::new(timers);
    let t0 = Instant::now();
    let key = new_invite(&mut layer, Transport::Udp, t0);
    respond(&mut layer, &key, 486, t0);
    outputs(&mut layer);
    let mut fired = Vec::new();
    while let Some(at) = layer.poll_timeout() {
        layer.handle_timeout(at);
        for o in outputs(&mut layer) {
            match o {
                Output::Transmit { .. } => fired.push((at - t0).as_millis()),
                Output::Event(TuEvent::Timeout { call_id, .. }) => {
                    assert_eq!(call_id, "cid-1");
                    fired.push(u128::MAX);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    // G: 0.5, 1.5, 3.5, 7.5, then every 4 s; H at 32 s.
    assert_eq!(&fired[..5], &[500, 1500, 3500, 7500, 11500]);
    assert_eq!(*fired.last().unwrap(), u128::MAX, "Timer H");
    assert!(layer.is_empty());
}

#[test]
fn ack_of_an_error_confirms_and_timer_i_ends_it() {
    let timers = Timers::default();
    let mut layer = TransactionLayer::new(timers);
    let t0 = Instant::now();
    let key = new_invite(&mut layer, Transport::Udp, t0);
    respond(&mut layer, &key, 404, t0);
    outputs(&mut layer);
    let ack = request("ACK", "z9hG4bK1", ";tag=tt");
    layer.handle_message(
        ack.clone().into(),
        peer(Transport::Udp),
        t0 + Duration::from_millis(100),
    );
    assert!(
        outputs(&mut layer).is_empty(),
        "absorbed, not passed to the TU"
    );
    // No more retransmissions; Timer I (T4) ends the transaction quietly.
    assert_eq!(
        layer.poll_timeout(),
        Some(t0 + Duration::from_millis(100) + timers.t4)
    );
    layer.handle_timeout(t0 + Duration::from_secs(6));
    assert!(outputs(&mut layer).is_empty());
    assert!(layer.is_empty());
}

#[test]
fn two_hundred_is_retransmitted_until_the_ack_which_goes_to_the_tu_once() {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    let key = new_invite(&mut layer, Transport::Udp, t0);
    respond(&mut layer, &key, 200, t0);
    outputs(&mut layer);
    layer.handle_timeout(t0 + Duration::from_millis(500));
    assert_eq!(transmitted_codes(&outputs(&mut layer)), [200]);
    // A retransmitted INVITE is absorbed in Accepted.
    layer.handle_message(
        request("INVITE", "z9hG4bK1", "").into(),
        peer(Transport::Udp),
        t0,
    );
    assert!(outputs(&mut layer).is_empty());
    // The ACK of a 2xx has its own branch.
    let ack = request("ACK", "z9hG4bK2", ";tag=tt");
    layer.handle_message(
        ack.clone().into(),
        peer(Transport::Udp),
        t0 + Duration::from_secs(1),
    );
    assert!(matches!(
        &outputs(&mut layer)[..],
        [Output::Event(TuEvent::Ack { .. })]
    ));
    assert!(layer.is_empty());
    // A retransmitted ACK is still passed on (the TU ignores it): the layer keeps no state.
    layer.handle_message(
        ack.into(),
        peer(Transport::Udp),
        t0 + Duration::from_secs(2),
    );
    assert_eq!(outputs(&mut layer).len(), 1);
}

#[test]
fn a_two_hundred_never_acked_times_out_after_64_t1() {
    let timers = Timers::default();
    let mut layer = TransactionLayer::new(timers);
    let t0 = Instant::now();
    let key = new_invite(&mut layer, Transport::Tcp, t0);
    respond(&mut layer, &key, 200, t0);
    outputs(&mut layer);
    assert_eq!(
        layer.poll_timeout(),
        Some(t0 + timers.t1x64()),
        "no retransmission on TCP"
    );
    layer.handle_timeout(t0 + timers.t1x64());
    let outs = outputs(&mut layer);
    assert!(
        matches!(&outs[..], [Output::Event(TuEvent::Timeout { .. })]),
        "{outs:?}"
    );
}

#[test]
fn cancel_gets_200_and_the_tu_is_told_or_481_when_nothing_matches() {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    let key = new_invite(&mut layer, Transport::Udp, t0);
    respond(&mut layer, &key, 180, t0);
    outputs(&mut layer);
    layer.handle_message(
        request("CANCEL", "z9hG4bK1", "").into(),
        peer(Transport::Udp),
        t0,
    );
    let outs = outputs(&mut layer);
    assert!(matches!(&outs[0], Output::Event(TuEvent::Cancelled { invite, .. }) if *invite == key));
    assert_eq!(transmitted_codes(&outs), [200]);
    // The CANCEL retransmitted gets the same 200, without a second event.
    layer.handle_message(
        request("CANCEL", "z9hG4bK1", "").into(),
        peer(Transport::Udp),
        t0,
    );
    assert_eq!(transmitted_codes(&outputs(&mut layer)), [200]);
    layer.handle_message(
        request("CANCEL", "z9hG4bKnone", "").into(),
        peer(Transport::Udp),
        t0,
    );
    assert_eq!(transmitted_codes(&outputs(&mut layer)), [481]);
}

#[test]
fn non_invite_timer_j_absorbs_retransmissions() {
    let timers = Timers::default();
    let mut layer = TransactionLayer::new(timers);
    let t0 = Instant::now();
    layer.handle_message(
        request("OPTIONS", "z9hG4bKo", "").into(),
        peer(Transport::Udp),
        t0,
    );
    let Some(Output::Event(TuEvent::Request { key, request, .. })) = layer.poll_output() else {
        panic!()
    };
    layer
        .respond(
            &key,
            message::response_for(&request, rsip::StatusCode::OK, None),
            t0,
        )
        .unwrap();
    outputs(&mut layer);
    layer.handle_message(
        request.clone().into(),
        peer(Transport::Udp),
        t0 + Duration::from_secs(1),
    );
    assert_eq!(transmitted_codes(&outputs(&mut layer)), [200]);
    assert_eq!(
        layer.respond(
            &key,
            message::response_for(&request, rsip::StatusCode::OK, None),
            t0
        ),
        Err(TransactionError::AlreadyFinal)
    );
    layer.handle_timeout(t0 + timers.t1x64());
    assert!(layer.is_empty());
}

#[test]
fn malformed_requests_get_400_or_483_and_no_transaction() {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    let no_call_id = "OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let msg = rsip::SipMessage::try_from(no_call_id).unwrap();
    layer.handle_message(msg, peer(Transport::Udp), t0);
    let outs = outputs(&mut layer);
    assert_eq!(transmitted_codes(&outs), [400]);
    let Output::Transmit { msg, .. } = &outs[0] else {
        panic!()
    };
    assert!(msg.to_string().contains("missing call-id header"), "{msg}");

    let mismatch = request("OPTIONS", "z9hG4bKy", "")
        .to_string()
        .replace("1 OPTIONS", "1 INVITE");
    layer.handle_message(
        rsip::SipMessage::try_from(mismatch.as_str()).unwrap(),
        peer(Transport::Udp),
        t0,
    );
    assert_eq!(transmitted_codes(&outputs(&mut layer)), [400]);

    let hops = request("OPTIONS", "z9hG4bKz", "")
        .to_string()
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    layer.handle_message(
        rsip::SipMessage::try_from(hops.as_str()).unwrap(),
        peer(Transport::Udp),
        t0,
    );
    assert_eq!(transmitted_codes(&outputs(&mut layer)), [483]);
    assert!(layer.is_empty());
}

fn response_to(req: &rsip::Request, code: u16) -> rsip::Response {
    message::response_for(req, rsip::StatusCode::from(code), Some("remote"))
}

#[test]
fn client_invite_timer_a_b_and_ack_of_an_error() {
    let timers = Timers::default();
    let mut layer = TransactionLayer::new(timers);
    let t0 = Instant::now();
    let invite = request("INVITE", "z9hG4bKc1", "");
    let key = layer
        .send_request(invite.clone(), peer(Transport::Udp), t0)
        .unwrap();
    assert_eq!(outputs(&mut layer).len(), 1);
    // Timer A: 0.5, 1.5, 3.5 s …
    for (at, _) in [(500, ()), (1500, ()), (3500, ())] {
        assert_eq!(layer.poll_timeout(), Some(t0 + Duration::from_millis(at)));
        layer.handle_timeout(t0 + Duration::from_millis(at));
        assert_eq!(outputs(&mut layer).len(), 1);
    }
    // A 486: delivered once, ACKed by the layer, retransmissions re-ACKed silently.
    layer.handle_message(
        response_to(&invite, 486).into(),
        peer(Transport::Udp),
        t0 + Duration::from_secs(4),
    );
    let outs = outputs(&mut layer);
    assert_eq!(outs.len(), 2);
    let Output::Transmit {
        msg: rsip::SipMessage::Request(ack),
        ..
    } = &outs[0]
    else {
        panic!("{outs:?}")
    };
    assert_eq!(ack.method, rsip::Method::Ack);
    assert_eq!(message::cseq(ack), Some((1, "ACK".into())));
    assert_eq!(message::to_tag(ack).as_deref(), Some("remote"));
    assert!(matches!(&outs[1], Output::Event(TuEvent::Response { key: k, .. }) if *k == key));
    layer.handle_message(
        response_to(&invite, 486).into(),
        peer(Transport::Udp),
        t0 + Duration::from_secs(5),
    );
    let outs = outputs(&mut layer);
    assert!(
        matches!(&outs[..], [Output::Transmit { .. }]),
        "only the ACK again"
    );

    // Timer B: nobody answers.
    let mut layer = TransactionLayer::new(timers);
    layer
        .send_request(request("INVITE", "z9hG4bKc2", ""), peer(Transport::Tcp), t0)
        .unwrap();
    outputs(&mut layer);
    assert_eq!(
        layer.poll_timeout(),
        Some(t0 + timers.t1x64()),
        "no Timer A on TCP"
    );
    layer.handle_timeout(t0 + timers.t1x64());
    assert!(matches!(
        &outputs(&mut layer)[..],
        [Output::Event(TuEvent::Timeout { .. })]
    ));
    assert!(layer.is_empty());
}

#[test]
fn client_non_invite_timer_e_caps_at_t2_and_2xx_retransmissions_reach_the_tu() {
    let timers = Timers::default();
    let mut layer = TransactionLayer::new(timers);
    let t0 = Instant::now();
    let bye = request("BYE", "z9hG4bKb1", ";tag=x");
    layer
        .send_request(bye.clone(), peer(Transport::Udp), t0)
        .unwrap();
    outputs(&mut layer);
    let mut at = Vec::new();
    for _ in 0..6 {
        let t = layer.poll_timeout().unwrap();
        layer.handle_timeout(t);
        outputs(&mut layer);
        at.push((t - t0).as_millis());
    }
    assert_eq!(at, [500, 1500, 3500, 7500, 11500, 15500]);
    layer.handle_message(
        response_to(&bye, 200).into(),
        peer(Transport::Udp),
        t0 + Duration::from_secs(16),
    );
    assert_eq!(outputs(&mut layer).len(), 1);
    layer.handle_message(
        response_to(&bye, 200).into(),
        peer(Transport::Udp),
        t0 + Duration::from_secs(16),
    );
    assert!(
        outputs(&mut layer).is_empty(),
        "retransmitted final absorbed"
    );

    let invite = request("INVITE", "z9hG4bKc3", "");
    layer
        .send_request(invite.clone(), peer(Transport::Udp), t0)
        .unwrap();
    outputs(&mut layer);
    for _ in 0..2 {
        layer.handle_message(response_to(&invite, 200).into(), peer(Transport::Udp), t0);
        assert!(matches!(
            &outputs(&mut layer)[..],
            [Output::Event(TuEvent::Response { .. })]
        ));
    }
}

/// Many transactions of every kind, started, answered, ACKed, cancelled and timed out in one
/// layer: after every step the deadline set agrees with a walk over every transaction
/// (`poll_timeout` asserts it in tests), and once every timer has run the layer is empty.
#[test]
fn the_deadline_set_follows_every_transaction_to_its_end() {
    let mut layer = TransactionLayer::new(Timers::default());
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    for i in 0..40u64 {
        let now = ms(i * 10);
        let transport = if i % 3 == 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let branch = format!("z9hG4bKmix{i}");
        match i % 5 {
            // An INVITE answered with an error (Timer G/H, then I after the ACK on odd i).
            0 => {
                let req = request("INVITE", &branch, "");
                layer.handle_message(req.clone().into(), peer(transport), now);
                let key = request_key(&mut layer);
                let resp = message::response_for(&req, rsip::StatusCode::from(486), Some("t"));
                layer.respond(&key, resp, now).unwrap();
                if i % 2 == 1 {
                    let mut ack = request("ACK", &branch, ";tag=t");
                    ack.headers.retain(|h| !matches!(h, rsip::Header::CSeq(_)));
                    ack.headers.push(rsip::Header::CSeq("1 ACK".into()));
                    layer.handle_message(ack.into(), peer(transport), ms(i * 10 + 5));
                }
            }
            // A non-INVITE answered 200 (Timer J).
            1 => {
                let req = request("OPTIONS", &branch, "");
                layer.handle_message(req.clone().into(), peer(transport), now);
                let key = request_key(&mut layer);
                let resp = message::response_for(&req, rsip::StatusCode::OK, Some("t"));
                layer.respond(&key, resp, now).unwrap();
            }
            // A client BYE never answered (Timer E/F).
            2 => {
                let bye = request("BYE", &branch, ";tag=x");
                layer.send_request(bye, peer(transport), now).unwrap();
            }
            // A client INVITE answered 200 (ends at once) or 486 (Timer D).
            3 => {
                let invite = request("INVITE", &branch, "");
                layer
                    .send_request(invite.clone(), peer(transport), now)
                    .unwrap();
                let code = if i % 2 == 0 { 200 } else { 486 };
                layer.handle_message(response_to(&invite, code).into(), peer(transport), now);
            }
            // An INVITE answered 200 and never ACKed (64·T1).
            _ => {
                let req = request("INVITE", &branch, "");
                layer.handle_message(req.clone().into(), peer(transport), now);
                let key = request_key(&mut layer);
                let resp = message::response_for(&req, rsip::StatusCode::OK, Some("t"));
                layer.respond(&key, resp, now).unwrap();
            }
        }
        outputs(&mut layer);
        layer.poll_timeout();
    }
    assert!(!layer.is_empty());
    let mut fired = 0;
    while let Some(at) = layer.poll_timeout() {
        layer.handle_timeout(at);
        outputs(&mut layer);
        fired += 1;
        assert!(fired < 10_000, "timers never run out");
    }
    assert!(layer.is_empty(), "{} transactions left", layer.len());
    assert!(layer.due.is_empty() && layer.scheduled.is_empty());
}
