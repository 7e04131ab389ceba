//! The per-packet cost of the media path, without the socket: what the server does between
//! `recv_from` and `send_to` for one relayed packet, and to build one played packet.
//!
//! `cargo bench --bench packet` prints nanoseconds per packet for every path;
//! `cargo bench --bench packet -- PATH N` runs one path N times (for
//! `benches/callgrind.sh`, which turns callgrind's instruction counts into a count per
//! packet). Paths: relay-alloc (parse to owned, decode, encode, build a Vec: the path before
//! issue 11), relay-pass (read in place, the payload passed through into a stack buffer: same
//! codec both sides), relay-transcode (read in place, PCMU to PCMA on the stack), play-alloc
//! and play (one 20 ms prompt frame encoded and built, with and without allocation), mix-3 (one
//! 20 ms tick of a three-party call: three frames decoded and put in the mixer, mixed, and
//! three built and encoded; its figure is per tick, so three packets in and three out).

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use hotline12345::media::g711::Codec;
use hotline12345::media::mixer::{Audience, Mixer};
use hotline12345::media::rtp::{self, RtpSender};
use hotline12345::media::strict::SourceFilter;

const PATHS: [&str; 6] = [
    "relay-alloc",
    "relay-pass",
    "relay-transcode",
    "play-alloc",
    "play",
    "mix-3",
];

/// Runs `path` over `n` packets; returns a checksum so that nothing is optimised away.
fn run(path: &str, n: u64) -> u64 {
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let mut filter = SourceFilter::new(peer, peer.ip());
    let mut incoming = RtpSender::new(0);
    let mut outgoing = RtpSender::new(0);
    let frame: Vec<i16> = (0..160)
        .map(|i| ((i * 613) % 16000 - 8000) as i16)
        .collect();
    let payload = Codec::Pcmu.encode(&frame);
    // A ring of received packets, as the socket would hand them over.
    let received: Vec<Vec<u8>> = (0..64)
        .map(|_| incoming.packet(&payload, false, 160))
        .collect();
    let mut sum = 0u64;
    let mut out = [0u8; 1500];
    let mut mixer = Mixer::new();
    let parties: Vec<_> = (0..3)
        .map(|_| mixer.add(Audience::Everyone, true))
        .collect();
    for i in 0..n {
        let buf = &received[(i % 64) as usize];
        let len = match path {
            "relay-alloc" => {
                let p = rtp::parse(buf).unwrap();
                black_box(filter.judge(peer, p.seq));
                let samples = Codec::Pcmu.decode(&p.payload);
                let encoded = Codec::Pcmu.encode(&samples);
                outgoing.packet(&encoded, false, 160).len()
            }
            "relay-pass" => {
                let p = rtp::view(buf).unwrap();
                black_box(filter.judge(peer, p.seq));
                outgoing
                    .write_into(0, p.payload, false, 160, &mut out)
                    .unwrap()
            }
            "relay-transcode" => {
                let p = rtp::view(buf).unwrap();
                black_box(filter.judge(peer, p.seq));
                let mut samples = [0i16; 160];
                let mut encoded = [0u8; 160];
                let k = Codec::Pcmu.decode_into(p.payload, &mut samples);
                let k = Codec::Pcma.encode_into(&samples[..k], &mut encoded);
                outgoing
                    .write_into(8, &encoded[..k], false, 160, &mut out)
                    .unwrap()
            }
            "play-alloc" => {
                let mut chunk = frame.to_vec();
                chunk.resize(160, 0);
                let encoded = Codec::Pcmu.encode(&chunk);
                outgoing.packet(&encoded, false, 160).len()
            }
            "play" => {
                let mut encoded = [0u8; 160];
                let k = Codec::Pcmu.encode_into(&frame, &mut encoded);
                outgoing
                    .write_into(0, &encoded[..k], false, 160, &mut out)
                    .unwrap()
            }
            "mix-3" => {
                let p = rtp::view(buf).unwrap();
                let mut samples = [0i16; 160];
                let k = Codec::Pcmu.decode_into(p.payload, &mut samples);
                for party in &parties {
                    mixer.put(*party, &samples[..k]).unwrap();
                }
                let mut len = 0;
                mixer.mix(|_, frame| {
                    let mut encoded = [0u8; 160];
                    let k = Codec::Pcmu.encode_into(frame, &mut encoded);
                    len += outgoing
                        .write_into(0, &encoded[..k], false, 160, &mut out)
                        .unwrap();
                });
                len
            }
            other => panic!("unknown path {other}; paths: {PATHS:?}"),
        };
        sum = sum.wrapping_add(black_box(len) as u64 + out[12] as u64);
    }
    sum
}

fn main() {
    // `cargo bench` passes `--bench`; anything else is PATH N.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [path, n] = args.as_slice() {
        let n: u64 = n.parse().expect("N: a number of packets");
        println!("{path} x{n}: checksum {}", run(path, n));
        return;
    }
    const N: u64 = 2_000_000;
    for path in PATHS {
        run(path, N / 10); // warm up
        let started = Instant::now();
        let sum = run(path, N);
        let ns = started.elapsed().as_nanos() as f64 / N as f64;
        println!("{path:<16} {ns:>7.1} ns/packet  (checksum {sum})");
    }
}
