//! One call's media: an RTP socket that plays prompts to the caller and reports what the caller
//! sends (audio, DTMF, or nothing for too long).
//!
//! Sending is paced in real time, one 20 ms packet (160 samples) per period, as one continuous
//! stream across prompts: same SSRC, sequence +1, timestamp +160. After a pause the timestamp
//! jumps by the pause and the marker bit starts a new talkspurt. Each packet is built and sent
//! synchronously after its pacing sleep, so dropping a `play` future mid-prompt leaves the
//! stream consistent. Receiving is strict ([`super::strict`]): media is taken from the address
//! in the peer's SDP, or for a phone behind NAT from the one source that sends a run of
//! consecutive packets, and then outgoing media goes there too; everything else is dropped.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::dtmf::DtmfDetector;
use super::g711::Codec;
use super::prompt::Prompt;
use super::rtp::{self, RtpPortPool, RtpSender};
use super::strict::{SourceFilter, Verdict};
use super::MediaError;

/// Samples in one 20 ms packet.
pub const FRAME_SAMPLES: usize = 160;
/// One packet's duration.
pub const FRAME: Duration = Duration::from_millis(20);
/// A gap longer than this in sending starts a new talkspurt.
const GAP: Duration = Duration::from_millis(100);

/// What the caller's side of the media did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A DTMF key (RFC 4733).
    Dtmf { digit: char },
    /// Decoded audio of one packet.
    Audio { samples: Vec<i16> },
    /// No RTP for the media timeout: the caller's phone is gone.
    Timeout,
}

struct SendState {
    remote: Option<SocketAddr>,
    codec: Codec,
    te_pt: Option<u8>,
    sender: RtpSender,
    next_due: Option<Instant>,
}

/// One call's RTP session.
pub struct MediaSession {
    socket: Arc<UdpSocket>,
    local_port: u16,
    media_timeout: Duration,
    state: Arc<Mutex<SendState>>,
    events_tx: mpsc::UnboundedSender<MediaEvent>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<MediaEvent>>>,
    receiver: Mutex<Option<JoinHandle<()>>>,
}

impl MediaSession {
    /// Binds a socket on `local_ip` from the pool.
    pub async fn open(
        pool: &RtpPortPool,
        local_ip: IpAddr,
        media_timeout: Duration,
    ) -> Result<MediaSession, MediaError> {
        let socket = pool.bind(local_ip).await?;
        let local_port = socket.local_addr()?.port();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        Ok(MediaSession {
            socket: Arc::new(socket),
            local_port,
            media_timeout,
            state: Arc::new(Mutex::new(SendState {
                remote: None,
                codec: Codec::Pcmu,
                te_pt: None,
                sender: RtpSender::new(0),
                next_due: None,
            })),
            events_tx,
            events_rx: Mutex::new(Some(events_rx)),
            receiver: Mutex::new(None),
        })
    }

    /// The local RTP port (for the SDP).
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// Starts media towards `remote` (the peer's SDP) with the negotiated codec; begins
    /// receiving from `remote`, or from a NAT source at `signalling_ip` (where the peer's SIP
    /// came from).
    pub fn start(
        &self,
        remote: SocketAddr,
        codec: Codec,
        telephone_event_pt: Option<u8>,
        signalling_ip: IpAddr,
    ) {
        {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.remote = Some(remote);
            st.codec = codec;
            st.te_pt = telephone_event_pt;
            st.sender.payload_type = codec.payload_type();
        }
        let task = tokio::spawn(receive(
            self.socket.clone(),
            self.state.clone(),
            self.events_tx.clone(),
            self.media_timeout,
            SourceFilter::new(remote, signalling_ip),
        ));
        if let Some(old) = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }

    /// The caller's media events; the first call takes them, later calls get a closed stream.
    pub fn events(&self) -> mpsc::UnboundedReceiver<MediaEvent> {
        self.events_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| mpsc::unbounded_channel().1)
    }

    /// Plays a prompt in real time; returns at once when media has not started.
    pub async fn play(&self, prompt: Prompt) {
        for chunk in prompt.samples().chunks(FRAME_SAMPLES) {
            let due = {
                let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if st.remote.is_none() {
                    return;
                }
                let now = Instant::now();
                match st.next_due {
                    Some(d) if d + GAP > now => d,
                    _ => now,
                }
            };
            tokio::time::sleep_until(due).await;
            let mut frame = chunk.to_vec();
            frame.resize(FRAME_SAMPLES, 0);
            self.send_frame(&frame, due);
        }
    }

    /// Sends one 20 ms frame now (for relaying audio, e.g. a bridge).
    pub fn send_frame(&self, frame: &[i16], due: Instant) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(remote) = st.remote else { return };
        let marker = match st.next_due {
            None => true,
            Some(d) if due > d + GAP => {
                // A pause: the timestamp moves on by it, and a new talkspurt begins.
                let gap = (due - d).as_millis() as u32;
                st.sender.skip(gap * 8);
                true
            }
            Some(_) => false,
        };
        let payload = st.codec.encode(frame);
        let bytes = st.sender.packet(&payload, marker, frame.len() as u32);
        st.next_due = Some(due + FRAME);
        if bytes.is_empty() {
            return;
        }
        if let Err(e) = self.socket.try_send_to(&bytes, remote) {
            debug!(error = %e, "RTP packet not sent");
        }
    }

    /// Sends a DTMF key as RFC 4733 telephone-events (when the peer negotiated them): three
    /// updates and three end packets of one event, then the stream moves on by its duration.
    pub fn send_dtmf(&self, digit: char) {
        let Some(event) = super::dtmf::event_of(digit) else {
            return;
        };
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(remote), Some(pt)) = (st.remote, st.te_pt) else {
            return;
        };
        const DURATION: u16 = 800; // 100 ms
        let mut packets = Vec::new();
        for (i, end) in [false, false, false, true, true, true]
            .into_iter()
            .enumerate()
        {
            let duration = if end { DURATION } else { 160 * (i as u16 + 1) };
            let payload = super::dtmf::payload(event, end, 10, duration);
            packets.push(st.sender.packet_with_type(pt, &payload, i == 0, 0));
        }
        st.sender.skip(DURATION as u32);
        for p in packets.into_iter().filter(|p| !p.is_empty()) {
            if let Err(e) = self.socket.try_send_to(&p, remote) {
                debug!(error = %e, "DTMF packet not sent");
            }
        }
    }

    /// The SSRC of what we send.
    pub fn ssrc(&self) -> u32 {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sender
            .ssrc
    }

    /// Stops receiving and frees the socket once the session is dropped.
    pub fn close(&self) {
        if let Some(task) = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.close();
    }
}

async fn receive(
    socket: Arc<UdpSocket>,
    state: Arc<Mutex<SendState>>,
    events: mpsc::UnboundedSender<MediaEvent>,
    media_timeout: Duration,
    mut sources: SourceFilter,
) {
    let mut buf = vec![0u8; 2048];
    let mut dtmf = DtmfDetector::new();
    // Only packets taken from the call's own source keep the call alive.
    let mut alive_until = Instant::now() + media_timeout;
    loop {
        let (n, from) = match tokio::time::timeout_at(alive_until, socket.recv_from(&mut buf)).await
        {
            Err(_) => {
                let _ = events.send(MediaEvent::Timeout);
                return;
            }
            Ok(Err(e)) => {
                // ICMP unreachable from the peer shows up here on Linux; keep listening.
                debug!(error = %e, "RTP receive error");
                continue;
            }
            Ok(Ok(x)) => x,
        };
        let Some(packet) = rtp::parse(&buf[..n]) else {
            continue;
        };
        match sources.judge(from, packet.seq) {
            Verdict::Drop => {
                let dropped = sources.dropped();
                if dropped.is_power_of_two() {
                    warn!(%from, dropped, locked = ?sources.locked(),
                          "RTP from a foreign source dropped (strict RTP)");
                }
                continue;
            }
            Verdict::Locked { moved } => {
                if moved {
                    debug!(%from, "RTP source learnt (NAT): media now goes there");
                    state.lock().unwrap_or_else(|e| e.into_inner()).remote = Some(from);
                }
            }
            Verdict::Take => {}
        }
        alive_until = Instant::now() + media_timeout;
        let (codec, te_pt) = {
            let st = state.lock().unwrap_or_else(|e| e.into_inner());
            (st.codec, st.te_pt)
        };
        if Some(packet.payload_type) == te_pt {
            if let Some(digit) = dtmf.on_packet(packet.timestamp, &packet.payload) {
                let _ = events.send(MediaEvent::Dtmf { digit });
            }
        } else if packet.payload_type == codec.payload_type() {
            let _ = events.send(MediaEvent::Audio {
                samples: codec.decode(&packet.payload),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::dtmf;

    async fn session(timeout: Duration) -> (MediaSession, UdpSocket) {
        let pool = RtpPortPool::new(42000 + (rand::random::<u16>() % 2000) * 2, 49998).unwrap();
        let media = MediaSession::open(&pool, "127.0.0.1".parse().unwrap(), timeout)
            .await
            .unwrap();
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        (media, phone)
    }

    #[tokio::test]
    async fn plays_a_prompt_as_a_paced_well_formed_stream() {
        let (media, phone) = session(Duration::from_secs(5)).await;
        media.start(
            phone.local_addr().unwrap(),
            Codec::Pcmu,
            None,
            [127, 0, 0, 1].into(),
        );
        let samples: Vec<i16> = (0..4000)
            .map(|i| ((i * 37) % 20000 - 10000) as i16)
            .collect();
        let prompt = Prompt::from_samples("t.wav", samples.clone());
        let started = std::time::Instant::now();
        let play = media.play(prompt.clone());
        let mut got = Vec::new();
        let recv = async {
            let mut buf = [0u8; 2048];
            while got.len() < 25 {
                let n = phone.recv(&mut buf).await.unwrap();
                got.push(rtp::parse(&buf[..n]).unwrap());
            }
        };
        tokio::join!(play, recv);
        let elapsed = started.elapsed();
        assert_eq!(got.len(), 25, "4000 samples are 25 packets");
        assert!(
            elapsed >= Duration::from_millis(480),
            "paced in real time: {elapsed:?}"
        );
        assert!(got[0].marker && got[1..].iter().all(|p| !p.marker));
        for w in got.windows(2) {
            assert_eq!(w[1].ssrc, w[0].ssrc);
            assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
            assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(160));
        }
        let heard: Vec<i16> = got
            .iter()
            .flat_map(|p| Codec::Pcmu.decode(&p.payload))
            .collect();
        assert_eq!(heard, Codec::Pcmu.decode(&Codec::Pcmu.encode(&samples)));
    }

    #[tokio::test]
    async fn reports_audio_dtmf_once_per_digit_and_timeout() {
        let (media, phone) = session(Duration::from_millis(300)).await;
        let local = SocketAddr::new("127.0.0.1".parse().unwrap(), media.local_port());
        media.start(
            phone.local_addr().unwrap(),
            Codec::Pcma,
            Some(101),
            [127, 0, 0, 1].into(),
        );
        let mut events = media.events();
        let mut sender = RtpSender::new(8);
        let audio: Vec<i16> = (0..160).map(|i| (i * 100) as i16).collect();
        phone
            .send_to(
                &sender.packet(&Codec::Pcma.encode(&audio), true, 160),
                local,
            )
            .await
            .unwrap();
        for (digit, ts) in [('1', 1000u32), ('#', 2000)] {
            for end in [false, true, true, true] {
                let payload = dtmf::payload(dtmf::event_of(digit).unwrap(), end, 10, 400);
                let mut s = sender.clone();
                s.skip(ts);
                phone
                    .send_to(&s.packet_with_type(101, &payload, false, 0), local)
                    .await
                    .unwrap();
            }
        }
        let mut seen = Vec::new();
        while let Some(e) = events.recv().await {
            let timeout = e == MediaEvent::Timeout;
            seen.push(e);
            if timeout {
                break;
            }
        }
        assert_eq!(
            seen,
            vec![
                MediaEvent::Audio {
                    samples: Codec::Pcma.decode(&Codec::Pcma.encode(&audio))
                },
                MediaEvent::Dtmf { digit: '1' },
                MediaEvent::Dtmf { digit: '#' },
                MediaEvent::Timeout,
            ]
        );
        assert!(
            media.events().recv().await.is_none(),
            "events are taken once"
        );
    }
}
