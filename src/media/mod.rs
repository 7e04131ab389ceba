//! Media: SDP offer/answer, G.711, RTP sending and receiving with RFC 4733 DTMF, and prompts.
//!
//! [`sdp`] agrees on a codec with the caller; [`session`] is one call's RTP socket: it plays
//! [`prompt`]s as 20 ms packets ([`rtp`]) paced by the one clock of [`pacer`], and reports the caller's audio, DTMF digits
//! ([`dtmf`]) and silence of the network as events. Every session's receiving runs on one of
//! the few media loops of [`io`].

pub mod conference;
pub mod dtmf;
pub mod g711;
pub mod io;
pub mod mixer;
pub mod pacer;
pub mod prompt;
pub mod recorder;
pub mod rtp;
pub mod sdp;
pub mod session;
pub mod stats;
pub mod stream;
pub mod strict;

/// Media problems.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("RTP port range {lo}-{hi} is not usable: {why}")]
    BadRange { lo: u16, hi: u16, why: &'static str },
    #[error("every RTP port in {lo}-{hi} is in use")]
    PortsExhausted { lo: u16, hi: u16 },
    #[error("RTP socket error: {0}")]
    Io(#[from] std::io::Error),
}
