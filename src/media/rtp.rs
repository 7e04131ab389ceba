//! RTP packets (with rtp-rs) and the pool of RTP ports.
//!
//! A sender keeps one stream's SSRC, sequence number and timestamp (random starts, RFC 3550
//! §5.1); the pool hands out even ports from the configured range, skipping ports that other
//! programs hold.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use rtp_rs::{RtpPacketBuilder, RtpReader, Seq};
use tokio::net::UdpSocket;

use super::MediaError;

/// UDP buffer asked for each RTP socket, each direction. The kernel counts about 1 KiB per
/// small datagram, so this holds some 250 packets, 5 s of one 20 ms stream: a stall of the
/// media task loses nothing.
pub const RTP_UDP_BUFFER: usize = 256 * 1024;

/// The even ports of a range, handed out round-robin.
#[derive(Debug)]
pub struct RtpPortPool {
    lo: u16,
    hi: u16,
    next: AtomicU32,
}

impl RtpPortPool {
    /// A pool over `lo..=hi`.
    pub fn new(lo: u16, hi: u16) -> Result<RtpPortPool, MediaError> {
        let bad = |why| MediaError::BadRange { lo, hi, why };
        if lo >= hi {
            return Err(bad("the low port must be below the high port"));
        }
        if lo < 1024 {
            return Err(bad("ports below 1024 are reserved"));
        }
        if (lo..=hi).filter(|p| p % 2 == 0).count() < 1 {
            return Err(bad("the range holds no even port"));
        }
        Ok(RtpPortPool {
            lo,
            hi,
            next: AtomicU32::new(0),
        })
    }

    /// Even ports in the range.
    pub fn capacity(&self) -> u32 {
        let first = self.lo + self.lo % 2;
        if first > self.hi {
            0
        } else {
            ((self.hi - first) / 2 + 1) as u32
        }
    }

    /// Binds a UDP socket on `ip` at the next free even port, registered with the media loop
    /// ([`super::io`]).
    pub fn bind(&self, ip: IpAddr) -> Result<UdpSocket, MediaError> {
        let first = self.lo + self.lo % 2;
        let n = self.capacity();
        for _ in 0..n {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % n;
            let port = first + (i * 2) as u16;
            match std::net::UdpSocket::bind(SocketAddr::new(ip, port)) {
                Ok(s) => {
                    // Best effort: a bigger buffer rides out a scheduling hiccup under load.
                    let _ = crate::net::size_udp_buffers(&s, RTP_UDP_BUFFER);
                    return Ok(super::io::register(s)?);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(MediaError::Io(e)),
            }
        }
        Err(MediaError::PortsExhausted {
            lo: self.lo,
            hi: self.hi,
        })
    }
}

/// Samples in one 20 ms packet.
pub const FRAME_SAMPLES: usize = 160;
/// One packet's duration.
pub const FRAME: std::time::Duration = std::time::Duration::from_millis(20);

/// The state of one outgoing RTP stream.
#[derive(Debug, Clone)]
pub struct RtpSender {
    /// The stream's SSRC.
    pub ssrc: u32,
    seq: u16,
    timestamp: u32,
    /// The payload type of audio packets.
    pub payload_type: u8,
}

impl RtpSender {
    /// A stream with random SSRC, sequence and timestamp.
    pub fn new(payload_type: u8) -> RtpSender {
        RtpSender {
            ssrc: rand::random(),
            seq: rand::random(),
            timestamp: rand::random(),
            payload_type,
        }
    }

    /// The next packet carrying `payload`, then advances the timestamp by `samples`.
    pub fn packet(&mut self, payload: &[u8], marker: bool, samples: u32) -> Vec<u8> {
        self.packet_with_type(self.payload_type, payload, marker, samples)
    }

    /// Like [`RtpSender::packet`] with another payload type (telephone-event). Returns an empty
    /// packet (nothing to send) when `pt` does not fit in 7 bits; it never panics.
    pub fn packet_with_type(
        &mut self,
        pt: u8,
        payload: &[u8],
        marker: bool,
        samples: u32,
    ) -> Vec<u8> {
        let mut out = [0u8; 12 + 1500];
        // The SDP layer refuses payload types above 127, so this cannot fail; if it ever did,
        // the packet is skipped rather than the call's media brought down.
        match self.write_into(pt, payload, marker, samples, &mut out) {
            Some(n) => out[..n].to_vec(),
            None => {
                tracing::warn!(pt, "RTP packet not built: payload type out of range");
                Vec::new()
            }
        }
    }

    /// Writes the next packet carrying `payload` into `out` (no allocation: the packet path
    /// builds into a buffer on the stack) and advances; the packet's length, or None when it
    /// does not fit or `pt` is out of range (nothing is sent, the stream does not advance).
    pub fn write_into(
        &mut self,
        pt: u8,
        payload: &[u8],
        marker: bool,
        samples: u32,
        out: &mut [u8],
    ) -> Option<usize> {
        let n = RtpPacketBuilder::new()
            .payload_type(pt)
            .ssrc(self.ssrc)
            .sequence(Seq::from(self.seq))
            .timestamp(self.timestamp)
            .marked(marker)
            .payload(payload)
            .build_into(out)
            .ok()?;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(samples);
        Some(n)
    }

    /// Advances the timestamp without sending (silence suppressed, a pause).
    pub fn skip(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
    }
}

/// A received RTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpIn {
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
}

/// A received RTP packet, borrowed from the receive buffer (the packet path allocates nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpView<'a> {
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub marker: bool,
    pub payload: &'a [u8],
}

/// Reads an RTP packet in place; None when it is not one.
pub fn view(bytes: &[u8]) -> Option<RtpView<'_>> {
    let r = RtpReader::new(bytes).ok()?;
    if r.version() != 2 {
        return None;
    }
    Some(RtpView {
        payload_type: r.payload_type(),
        seq: r.sequence_number().into(),
        timestamp: r.timestamp(),
        ssrc: r.ssrc(),
        marker: r.mark(),
        payload: r.payload(),
    })
}

/// Parses an RTP packet into an owned copy; None when it is not one.
pub fn parse(bytes: &[u8]) -> Option<RtpIn> {
    let v = view(bytes)?;
    Some(RtpIn {
        payload_type: v.payload_type,
        seq: v.seq,
        timestamp: v.timestamp,
        ssrc: v.ssrc,
        marker: v.marker,
        payload: v.payload.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_count_up_and_parse_back() {
        let mut s = RtpSender::new(0);
        let a = parse(&s.packet(&[1; 160], true, 160)).unwrap();
        let b = parse(&s.packet(&[2; 160], false, 160)).unwrap();
        assert_eq!(a.ssrc, b.ssrc);
        assert_eq!(b.seq, a.seq.wrapping_add(1));
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(160));
        assert!(a.marker && !b.marker);
        assert_eq!(b.payload, vec![2; 160]);
        assert_eq!(parse(b"not rtp"), None);
    }

    #[test]
    fn a_packet_written_in_place_is_the_one_built() {
        let mut a = RtpSender::new(0);
        let mut b = a.clone();
        let mut out = [0u8; 200];
        let n = a.write_into(0, &[7; 160], true, 160, &mut out).unwrap();
        assert_eq!(&out[..n], b.packet(&[7; 160], true, 160).as_slice());
        let v = view(&out[..n]).unwrap();
        assert_eq!((v.payload, v.marker), (&[7u8; 160][..], true));
        // Too small a buffer, or a payload type out of range: nothing, and no advance.
        assert_eq!(
            a.write_into(0, &[7; 160], false, 160, &mut [0u8; 100]),
            None
        );
        assert_eq!(a.write_into(200, &[7; 160], false, 160, &mut out), None);
        let n = a.write_into(0, &[8; 160], false, 160, &mut out).unwrap();
        assert_eq!(&out[..n], b.packet(&[8; 160], false, 160).as_slice());
    }

    #[tokio::test]
    async fn the_pool_skips_busy_ports_and_says_when_full() {
        let pool = RtpPortPool::new(41000, 41003).unwrap();
        assert_eq!(pool.capacity(), 2);
        let ip = "127.0.0.1".parse().unwrap();
        let a = pool.bind(ip).unwrap();
        let b = pool.bind(ip).unwrap();
        assert_eq!(a.local_addr().unwrap().port() % 2, 0);
        assert_ne!(
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port()
        );
        assert!(matches!(
            pool.bind(ip),
            Err(MediaError::PortsExhausted { .. })
        ));
        drop(a);
        assert!(pool.bind(ip).is_ok());
        assert!(RtpPortPool::new(5000, 4000).is_err());
        assert!(RtpPortPool::new(80, 90).is_err());
    }
}
