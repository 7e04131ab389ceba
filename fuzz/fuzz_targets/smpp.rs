//! What an SMS centre sends: PDUs cut from the stream by their length and read by rusmpp (a
//! bad one is a `Frame::Bad`, an impossible length an error), a short message's UDH and text
//! in its data coding, long messages put back together, and delivery receipts. None panics.
#![no_main]

use bytes::BytesMut;
use hotline12345::intake::concat::{split_udh, text_of, Reassembly};
use hotline12345::sms::frames::Frames;
use hotline12345::sms::receipt;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut codec = Frames::default();
    let mut buf = BytesMut::from(data);
    for _ in 0..64 {
        match codec.decode(&mut buf) {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    if let Some((&coding, rest)) = data.split_first() {
        let at = chrono::DateTime::from_timestamp(1_765_000_000, 0).unwrap();
        let mut parts = Reassembly::default();
        for udhi in [false, true] {
            if let Ok((part, body)) = split_udh(udhi, rest) {
                if let Some(part) = part {
                    parts.add("13800138000", part, body, at);
                }
                let _ = text_of(coding, body);
            }
        }
    }
    let _ = receipt::parse(&String::from_utf8_lossy(data));
});
