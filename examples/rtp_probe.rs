//! The receiving end of a load run's media: measures how punctually the server sends RTP.
//!
//! `sipp-scenarios/load.sh` with `PROBE=1` gives every SIPp caller this probe's port as its
//! SDP media port, so the server sends each call's prompt stream here. The probe takes each
//! packet's arrival time from the kernel (`SO_TIMESTAMPNS`, so a probe that is scheduled late
//! does not count as a late server) and sends the packet straight back, so that the server
//! still receives media on every call, as from a caller who talks.
//!
//! A packet is late when it arrives more than 5 ms after the 20 ms grid its RTP timestamp puts
//! it on: for each stream (source address and SSRC) and talkspurt (the marker bit starts one),
//! the packet's offset is its arrival time minus its timestamp in time, and the grid is the
//! smallest offset of the talkspurt (its most punctual packet). A stream is summed up once it
//! has been quiet for a second, so memory stays bounded however long the run.
//!
//! On SIGUSR1 the probe prints one line for the packets since the last line (streams, packets,
//! lost by sequence gaps, late, late %, p99 and maximum lateness in ms) and starts over; it
//! exits after `--seconds`, printing a last line.
//!
//! ```text
//! cargo run --release --example rtp_probe -- --listen 127.0.0.1:20000 --seconds 60
//! ```

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A packet more than this far behind its grid is late (the issue's definition).
const LATE_NS: i64 = 5_000_000;
/// G.711: 8 samples a millisecond.
const NS_PER_SAMPLE: i64 = 125_000;
/// A stream quiet this long is summed up and forgotten.
const QUIET: Duration = Duration::from_secs(1);
/// Lateness histogram: one bucket per millisecond up to this, the last holds the rest.
const BUCKETS: usize = 200;

static REPORT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_usr1(_: libc::c_int) {
    REPORT.store(true, Ordering::Relaxed);
}

/// One talkspurt's offsets (arrival minus RTP time, in ns), kept until the stream is summed.
struct Stream {
    last_seen: Instant,
    ext_ts: i64,
    last_ts: u32,
    last_seq: u16,
    spurts: Vec<Vec<i64>>,
}

/// Totals since the last report.
#[derive(Default)]
struct Totals {
    streams: u64,
    packets: u64,
    lost: u64,
    late: u64,
    max_ns: i64,
    histogram: Vec<u64>,
}

impl Totals {
    fn add(&mut self, stream: Stream) {
        self.streams += 1;
        if self.histogram.is_empty() {
            self.histogram = vec![0; BUCKETS];
        }
        for spurt in stream.spurts {
            let Some(grid) = spurt.iter().copied().min() else {
                continue;
            };
            for offset in spurt {
                let behind = offset - grid;
                self.packets += 1;
                if behind > LATE_NS {
                    self.late += 1;
                }
                self.max_ns = self.max_ns.max(behind);
                let bucket = ((behind / 1_000_000) as usize).min(BUCKETS - 1);
                self.histogram[bucket] += 1;
            }
        }
    }

    fn p99_ms(&self) -> usize {
        let want = (self.packets as f64 * 0.99).ceil() as u64;
        let mut seen = 0;
        for (ms, n) in self.histogram.iter().enumerate() {
            seen += n;
            if seen >= want {
                return ms;
            }
        }
        0
    }

    fn line(&self) -> String {
        let pct = if self.packets == 0 {
            0.0
        } else {
            100.0 * self.late as f64 / self.packets as f64
        };
        format!(
            "streams={} packets={} lost={} late={} late_pct={:.3} p99_ms={} max_ms={:.1}",
            self.streams,
            self.packets,
            self.lost,
            self.late,
            pct,
            self.p99_ms(),
            self.max_ns as f64 / 1e6
        )
    }
}

/// Receives one datagram into `buf`; returns its length, source and kernel arrival time (ns).
fn recv_stamped(fd: libc::c_int, buf: &mut [u8]) -> Option<(usize, SocketAddr, i64)> {
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut control = [0u8; 64];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut addr as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len();
    // SAFETY: msg points at live buffers of the sizes given.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return None;
    }
    let mut stamp = None;
    // SAFETY: the kernel filled msg_control; the CMSG macros walk it within msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                stamp = Some(ts.tv_sec * 1_000_000_000 + ts.tv_nsec);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    let ip = std::net::Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr));
    let from = SocketAddr::from((ip, u16::from_be(addr.sin_port)));
    Some((n as usize, from, stamp?))
}

fn main() {
    let mut listen: SocketAddr = "127.0.0.1:20000".parse().expect("address");
    let mut seconds = 60u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().and_then(|v| v.parse().ok()).expect("--listen"),
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).expect("--seconds"),
            other => panic!("unknown argument {other}"),
        }
    }
    let socket = UdpSocket::bind(listen).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let fd = socket.as_raw_fd();
    let on: libc::c_int = 1;
    let big: libc::c_int = 16 << 20;
    // SAFETY: plain setsockopt calls with int arguments on our own socket.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            4,
        );
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&big as *const libc::c_int).cast(),
            4,
        );
        libc::signal(libc::SIGUSR1, on_usr1 as *const () as libc::sighandler_t);
    }
    println!("probe listening on {}", socket.local_addr().expect("addr"));

    let end = Instant::now() + Duration::from_secs(seconds);
    let mut streams: HashMap<(SocketAddr, u32), Stream> = HashMap::new();
    let mut totals = Totals::default();
    let mut buf = [0u8; 2048];
    let mut last_sweep = Instant::now();
    while Instant::now() < end {
        if let Some((n, from, arrival)) = recv_stamped(fd, &mut buf) {
            let _ = socket.send_to(&buf[..n], from);
            if let Ok(rtp) = rtp_rs::RtpReader::new(&buf[..n]) {
                let now = Instant::now();
                let (ts, seq) = (rtp.timestamp(), u16::from(rtp.sequence_number()));
                let s = streams.entry((from, rtp.ssrc())).or_insert_with(|| Stream {
                    last_seen: now,
                    ext_ts: 0,
                    last_ts: ts,
                    last_seq: seq.wrapping_sub(1),
                    spurts: vec![Vec::new()],
                });
                s.ext_ts += ts.wrapping_sub(s.last_ts) as i32 as i64;
                s.last_ts = ts;
                let gap = seq.wrapping_sub(s.last_seq);
                if (2..1000).contains(&gap) {
                    totals.lost += u64::from(gap - 1);
                }
                s.last_seq = seq;
                s.last_seen = now;
                if rtp.mark() && !s.spurts.last().is_some_and(Vec::is_empty) {
                    s.spurts.push(Vec::new());
                }
                let offset = arrival - s.ext_ts * NS_PER_SAMPLE;
                s.spurts.last_mut().expect("a spurt").push(offset);
            }
        }
        let now = Instant::now();
        if now - last_sweep > Duration::from_millis(250) {
            last_sweep = now;
            let quiet: Vec<_> = streams
                .iter()
                .filter(|(_, s)| now - s.last_seen > QUIET)
                .map(|(k, _)| *k)
                .collect();
            for k in quiet {
                totals.add(streams.remove(&k).expect("listed"));
            }
        }
        if REPORT.swap(false, Ordering::Relaxed) {
            println!("{}", std::mem::take(&mut totals).line());
        }
    }
    for (_, s) in streams.drain() {
        totals.add(s);
    }
    println!("{}", totals.line());
}
