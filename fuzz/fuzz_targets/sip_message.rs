//! A SIP message from the network: stream framing (fed in pieces), rsip's parser, and every
//! header helper the call layer reads with.
#![no_main]

use hotline12345::sip::framing::{Frame, Framer};
use hotline12345::sip::message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Framing, in three pieces as a stream would deliver them.
    let mut framer = Framer::new();
    for piece in data.chunks(data.len() / 3 + 1) {
        framer.push(piece);
        while let Ok(Some(frame)) = framer.next_frame() {
            if let Frame::Message(m) = frame {
                assert!(!m.is_empty());
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(msg) = rsip::SipMessage::try_from(text) else {
        return;
    };
    let _ = message::call_id(&msg);
    let _ = message::cseq(&msg);
    let _ = message::to_tag(&msg);
    let _ = message::from_tag(&msg);
    if let Some(via) = message::top_via(&msg) {
        let _ = message::via_branch(&via);
        let _ = message::via_sent_by(&via);
    }
    for name in [
        "contact",
        "to",
        "from",
        "expires",
        "authorization",
        "refer-to",
    ] {
        for value in message::header_values(&msg, name) {
            let _ = message::addr_uri(&value);
            let _ = message::uri_user(&value);
            let _ = message::param(&value, "expires");
            for part in message::split_commas(&value) {
                let _ = hotline12345::registrar::contact::parse(part);
            }
        }
    }
    if let rsip::SipMessage::Request(req) = &msg {
        let _ = message::request_uri_user(req);
        let _ = message::from_user(req);
        let _ = message::asserted_identity_user(req);
        let _ = message::response_for(req, rsip::StatusCode::OK, Some("t")).to_string();
    }
});
