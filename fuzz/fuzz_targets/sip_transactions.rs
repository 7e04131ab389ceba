//! The transaction layer fed arbitrary messages, answers and timer ticks: it must never panic,
//! and it must keep no transaction for ever (every one ends once the clock runs on).
#![no_main]

use std::time::{Duration, Instant};

use hotline12345::sip::message::response_for;
use hotline12345::sip::transaction::{Output, Peer, Timers, TransactionLayer, Transport, TuEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut layer = TransactionLayer::new(Timers::default());
    let start = Instant::now();
    let mut now = start;
    let mut pending = Vec::new();
    for step in data.split(|b| *b == 0xff) {
        let Some((&op, rest)) = step.split_first() else {
            continue;
        };
        let transport = if op & 0x10 == 0 {
            Transport::Udp
        } else {
            Transport::Tcp
        };
        let peer = Peer {
            addr: ([127, 0, 0, 1], 5070 + (op as u16 & 3)).into(),
            transport,
        };
        match op % 4 {
            0 | 1 => {
                if let Ok(text) = std::str::from_utf8(rest) {
                    if let Ok(msg) = rsip::SipMessage::try_from(text) {
                        layer.handle_message(msg, peer, now);
                    }
                }
            }
            2 => {
                let ms = rest.first().copied().unwrap_or(0) as u64 * 250;
                now += Duration::from_millis(ms);
                layer.handle_timeout(now);
            }
            _ => {
                if let Some((key, request)) = pending.pop() {
                    let status = match rest.first().copied().unwrap_or(0) % 4 {
                        0 => rsip::StatusCode::Trying,
                        1 => rsip::StatusCode::Ringing,
                        2 => rsip::StatusCode::OK,
                        _ => rsip::StatusCode::BusyHere,
                    };
                    let _ = layer.respond(&key, response_for(&request, status, Some("f")), now);
                }
            }
        }
        while let Some(out) = layer.poll_output() {
            if let Output::Event(TuEvent::Request { key, request, .. }) = out {
                pending.push((key, request));
            }
        }
    }
    // Long after everything, no transaction is left waiting.
    for _ in 0..8 {
        now += Duration::from_secs(64);
        layer.handle_timeout(now);
        while layer.poll_output().is_some() {}
    }
    assert_eq!(
        layer.poll_timeout(),
        None,
        "a transaction outlived every timer"
    );
});
