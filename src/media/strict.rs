//! Strict RTP: which source a session takes media from (what Asterisk's `strictrtp` does, a
//! little stricter). Pure: fed each packet's source and sequence number, it says whether to
//! take the packet.
//!
//! - Packets from the address in the peer's SDP are taken, and that address locks the source
//!   at once; it wins over any address learnt before.
//! - A phone behind NAT sends from another address: that source is learnt only when its IP is
//!   the SDP's or the one the phone's signalling came from (its NAT's public address), and only
//!   after it has sent a run of [`PROBATION`] packets with consecutive sequence numbers; nothing
//!   from it is taken before. A stranger elsewhere on the network is never learnt.
//! - Once locked, packets from any other source are dropped and counted, so a stranger can
//!   neither inject DTMF or audio into a call nor steer its outgoing media away.

use std::net::SocketAddr;

/// Consecutive packets a source other than the SDP's must send before it is learnt.
pub const PROBATION: u16 = 4;

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Take it (from the locked source).
    Take,
    /// Take it: the source just locked on it. `moved` is true when that source is not the
    /// SDP's address, so outgoing media should go there (NAT).
    Locked { moved: bool },
    /// Drop it, counted.
    Drop,
}

/// The source filter of one RTP session.
#[derive(Debug, Clone)]
pub struct SourceFilter {
    expected: SocketAddr,
    signalling: std::net::IpAddr,
    locked: Option<SocketAddr>,
    /// A source on probation: its address, last sequence number, run length.
    candidate: Option<(SocketAddr, u16, u16)>,
    dropped: u64,
}

impl SourceFilter {
    /// A filter for a peer whose SDP gave `expected` and whose SIP came from `signalling`.
    pub fn new(expected: SocketAddr, signalling: std::net::IpAddr) -> SourceFilter {
        SourceFilter {
            expected,
            signalling,
            locked: None,
            candidate: None,
            dropped: 0,
        }
    }

    /// Judges a packet from `from` with sequence number `seq`.
    pub fn judge(&mut self, from: SocketAddr, seq: u16) -> Verdict {
        if from == self.expected {
            if self.locked == Some(from) {
                return Verdict::Take;
            }
            self.locked = Some(from);
            self.candidate = None;
            return Verdict::Locked { moved: false };
        }
        if let Some(locked) = self.locked {
            if locked == from {
                return Verdict::Take;
            }
            self.dropped += 1;
            return Verdict::Drop;
        }
        if from.ip() != self.expected.ip() && from.ip() != self.signalling {
            self.dropped += 1;
            return Verdict::Drop;
        }
        let run = match self.candidate {
            Some((addr, last, run)) if addr == from && seq == last.wrapping_add(1) => run + 1,
            _ => 1,
        };
        if run >= PROBATION {
            self.locked = Some(from);
            self.candidate = None;
            return Verdict::Locked { moved: true };
        }
        self.candidate = Some((from, seq, run));
        self.dropped += 1;
        Verdict::Drop
    }

    /// The source media is taken from, once locked.
    pub fn locked(&self) -> Option<SocketAddr> {
        self.locked
    }

    /// Packets dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_sdp_address_locks_at_once_and_strangers_are_dropped() {
        let mut f = SourceFilter::new(a("192.0.2.1:4000"), "192.0.2.1".parse().unwrap());
        assert_eq!(
            f.judge(a("192.0.2.1:4000"), 7),
            Verdict::Locked { moved: false }
        );
        assert_eq!(f.judge(a("192.0.2.1:4000"), 8), Verdict::Take);
        for seq in 0..100 {
            assert_eq!(f.judge(a("203.0.113.9:5000"), seq), Verdict::Drop);
        }
        assert_eq!(f.dropped(), 100);
        assert_eq!(f.locked(), Some(a("192.0.2.1:4000")));
    }

    #[test]
    fn a_nat_source_is_learnt_from_a_run_of_consecutive_packets_only() {
        let mut f = SourceFilter::new(a("10.0.0.5:4000"), "198.51.100.2".parse().unwrap());
        let nat = a("198.51.100.2:31000");
        let stranger = a("198.51.100.2:5000");
        // A stranger's scattered packets never lock.
        for seq in [1u16, 5, 9, 13, 17, 21] {
            assert_eq!(f.judge(stranger, seq), Verdict::Drop);
        }
        // Interleaved with the phone's, the stranger breaks nobody's run but its own.
        assert_eq!(f.judge(nat, 100), Verdict::Drop);
        assert_eq!(f.judge(nat, 101), Verdict::Drop);
        assert_eq!(f.judge(nat, 102), Verdict::Drop);
        assert_eq!(f.judge(nat, 103), Verdict::Locked { moved: true });
        assert_eq!(f.judge(nat, 104), Verdict::Take);
        assert_eq!(f.judge(stranger, 22), Verdict::Drop);
        // The SDP's own address still wins when it shows up.
        assert_eq!(
            f.judge(a("10.0.0.5:4000"), 1),
            Verdict::Locked { moved: false }
        );
        assert_eq!(f.judge(nat, 105), Verdict::Drop);
    }

    #[test]
    fn a_stranger_elsewhere_is_never_learnt_however_well_it_counts() {
        let mut f = SourceFilter::new(a("10.0.0.5:4000"), "198.51.100.2".parse().unwrap());
        for seq in 0..1000u16 {
            assert_eq!(f.judge(a("203.0.113.9:5000"), seq), Verdict::Drop);
        }
        assert_eq!(f.locked(), None);
    }

    #[test]
    fn sequence_numbers_wrap_within_a_run() {
        let mut f = SourceFilter::new(a("10.0.0.5:4000"), "198.51.100.2".parse().unwrap());
        let nat = a("198.51.100.2:31000");
        for seq in [65534u16, 65535, 0] {
            assert_eq!(f.judge(nat, seq), Verdict::Drop);
        }
        assert_eq!(f.judge(nat, 1), Verdict::Locked { moved: true });
    }
}
