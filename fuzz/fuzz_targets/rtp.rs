//! RTP packets and RFC 4733 events from the network, and the strict-RTP source filter, with
//! the packets replayed through a sender (which must never panic either).
#![no_main]

use hotline12345::media::dtmf::DtmfDetector;
use hotline12345::media::rtp::{self, RtpSender};
use hotline12345::media::strict::SourceFilter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut dtmf = DtmfDetector::new();
    let mut filter = SourceFilter::new(([127, 0, 0, 1], 4000).into(), [127, 0, 0, 1].into());
    let mut sender = RtpSender::new(0);
    for packet in data.split(|b| *b == 0xff) {
        let from = ([127, 0, 0, packet.first().copied().unwrap_or(1) % 3], 4000).into();
        let Some(p) = rtp::parse(packet) else {
            continue;
        };
        let _ = filter.judge(from, p.seq);
        let _ = dtmf.on_packet(p.timestamp, &p.payload);
        let _ = sender.packet_with_type(p.payload_type, &p.payload, p.marker, 160);
    }
});
