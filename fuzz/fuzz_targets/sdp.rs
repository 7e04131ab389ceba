//! An SDP offer or answer from the network: negotiation either refuses it or gives a codec and
//! a payload type that fits an RTP header.
#![no_main]

use hotline12345::media::sdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(n) = sdp::negotiate(&text, [127, 0, 0, 1].into(), 20000, 1) {
        assert!(n.telephone_event_pt.is_none_or(|pt| pt <= 127));
        assert!(n.answer.starts_with("v=0"));
    }
    if let Ok(n) = sdp::parse_answer(&text) {
        assert!(n.telephone_event_pt.is_none_or(|pt| pt <= 127));
    }
});
