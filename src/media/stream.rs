//! One session's outgoing RTP stream: its peer, codec, SSRC, sequence and timestamps, and how
//! a frame is sent on it (built on the stack, sent at once). The pacer's prompts, a relay from
//! the other leg and a conference's mix all send through it, one at a time, so that the peer
//! sees one continuous stream. A leaf of `media/`.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;
use tracing::debug;

use super::g711::Codec;
use super::rtp::{RtpSender, FRAME};

/// The longest G.711 payload relayed (60 ms; phones send 20 or 30 ms).
pub const MAX_PAYLOAD: usize = 480;
/// A gap longer than this in sending starts a new talkspurt.
const GAP: Duration = Duration::from_millis(100);

/// What a session sends with: its peer, codec and RTP stream (shared by the pacer's prompts,
/// a relay from the other leg and a conference's mix, one at a time).
pub struct SendState {
    pub(super) remote: Option<SocketAddr>,
    pub(super) codec: Codec,
    pub(super) te_pt: Option<u8>,
    pub(super) sender: RtpSender,
    pub(super) next_due: Option<Instant>,
}

impl SendState {
    /// Sends one frame of samples (a prompt's), encoded on the stack in the stream's codec.
    pub(super) fn send_samples(&mut self, socket: &UdpSocket, frame: &[i16], due: Instant) {
        let codec = self.codec;
        self.send(socket, due, frame.len() as u32, |out| {
            codec.encode_into(frame, out)
        });
    }

    /// Sends one packet of `samples` whose payload `fill` writes (returning its length), due
    /// at `due`: a pause moves the timestamp on and starts a talkspurt (marker). Built on the
    /// stack, sent at once.
    pub(super) fn send(
        &mut self,
        socket: &UdpSocket,
        due: Instant,
        samples: u32,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) {
        let Some(remote) = self.remote else { return };
        let marker = match self.next_due {
            None => true,
            Some(d) if due > d + GAP => {
                // A pause: the timestamp moves on by it, and a new talkspurt begins.
                let gap = (due - d).as_millis() as u32;
                self.sender.skip(gap * 8);
                true
            }
            Some(_) => false,
        };
        self.next_due = Some(due + FRAME);
        let mut payload = [0u8; MAX_PAYLOAD];
        let len = fill(&mut payload);
        let mut packet = [0u8; 12 + MAX_PAYLOAD];
        let pt = self.codec.payload_type();
        let Some(n) = self
            .sender
            .write_into(pt, &payload[..len], marker, samples, &mut packet)
        else {
            return;
        };
        if let Err(e) = super::io::send_now(socket, &packet[..n], remote) {
            debug!(error = %e, "RTP packet not sent");
        }
    }
}

/// A session's stream as something else may send on it (a conference mixing for it).
#[derive(Clone)]
pub struct StreamHandle {
    pub(super) socket: std::sync::Arc<UdpSocket>,
    pub(super) state: std::sync::Arc<std::sync::Mutex<SendState>>,
}

impl StreamHandle {
    /// Sends one frame of samples on the stream, due at `due`.
    pub fn send_samples(&self, frame: &[i16], due: Instant) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send_samples(&self.socket, frame, due);
    }
}
