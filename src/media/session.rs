//! One call's media: an RTP socket that plays prompts to the caller and reports what the caller
//! sends (audio, DTMF, or nothing for too long).
//!
//! Prompts are paced by the process's one 20 ms clock ([`super::pacer`]), one packet (160
//! samples) per tick, as one continuous stream across prompts: same SSRC, sequence +1,
//! timestamp +160. After a pause the timestamp jumps by the pause and the marker bit starts a
//! new talkspurt. While bridged, what is received is relayed from the receive task itself
//! ([`MediaSession::relay_to`]). Receiving is strict ([`super::strict`]): media is taken from the address
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
use super::pacer::{Pacer, StreamId};
use super::prompt::Prompt;
use super::rtp::{self, RtpPortPool, RtpSender};
use super::strict::{SourceFilter, Verdict};
use super::MediaError;

pub use super::rtp::{FRAME, FRAME_SAMPLES};
/// Media events a call may leave unread (10 s of audio) before audio frames are dropped.
const EVENTS: usize = 500;

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

pub use super::stream::{SendState, MAX_PAYLOAD};

/// One received payload on its way to a recording (copied, never allocated: the packet path
/// hands it to a bounded queue that a blocking writer drains).
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub codec: Codec,
    pub len: u16,
    pub payload: [u8; MAX_PAYLOAD],
}

impl Frame {
    /// The frame's audio, decoded into `out`; the number of samples.
    pub fn decode_into(&self, out: &mut [i16; MAX_PAYLOAD]) -> usize {
        self.codec
            .decode_into(&self.payload[..self.len as usize], out)
    }
}

/// Where a session's received audio goes while it is bridged, from the receive task itself
/// (no task hop, no allocation): out of the other leg's socket, or into a conference's mix;
/// and to a recording.
#[derive(Clone)]
struct Relay {
    to: RelayTo,
    record: Option<std::sync::mpsc::SyncSender<Frame>>,
}

/// The other end of a relay.
#[derive(Clone)]
enum RelayTo {
    /// The other leg's socket and stream.
    Leg {
        socket: Arc<UdpSocket>,
        state: Arc<Mutex<SendState>>,
    },
    /// A party's place in a conference.
    Conference(super::conference::Inlet),
}

/// One call's RTP session.
pub struct MediaSession {
    socket: Arc<UdpSocket>,
    local_port: u16,
    media_timeout: Duration,
    state: Arc<Mutex<SendState>>,
    events_tx: mpsc::Sender<MediaEvent>,
    events_rx: Mutex<Option<mpsc::Receiver<MediaEvent>>>,
    receiver: Mutex<Option<JoinHandle<()>>>,
    relay: tokio::sync::watch::Sender<Option<Relay>>,
    /// Whether received audio is decoded and sent as [`MediaEvent::Audio`] (only while a voice
    /// message is recorded: otherwise nobody reads it, and a packet costs a check).
    audio_wanted: Arc<std::sync::atomic::AtomicBool>,
    /// This session's stream in the [`Pacer`].
    stream: StreamId,
    played: Mutex<Option<mpsc::Receiver<u64>>>,
}

impl MediaSession {
    /// Binds a socket on `local_ip` from the pool.
    pub async fn open(
        pool: &RtpPortPool,
        local_ip: IpAddr,
        media_timeout: Duration,
    ) -> Result<MediaSession, MediaError> {
        let socket = pool.bind(local_ip)?;
        let local_port = socket.local_addr()?.port();
        let (events_tx, events_rx) = mpsc::channel(EVENTS);
        let socket = Arc::new(socket);
        let state = Arc::new(Mutex::new(SendState {
            remote: None,
            codec: Codec::Pcmu,
            te_pt: None,
            sender: RtpSender::new(0),
            next_due: None,
        }));
        let (done, played) = mpsc::channel(4);
        let (out_socket, out_state) = (socket.clone(), state.clone());
        let stream = Pacer::get().add(
            Box::new(move |frame, due| {
                out_state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .send_samples(&out_socket, frame, due)
            }),
            done,
        );
        Ok(MediaSession {
            socket,
            local_port,
            media_timeout,
            state,
            events_tx,
            events_rx: Mutex::new(Some(events_rx)),
            receiver: Mutex::new(None),
            relay: tokio::sync::watch::Sender::new(None),
            audio_wanted: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            stream,
            played: Mutex::new(Some(played)),
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
        let task = super::io::handle(self.local_port).spawn(receive(
            Receiver {
                socket: self.socket.clone(),
                state: self.state.clone(),
                events: self.events_tx.clone(),
                codec,
                te_pt: telephone_event_pt,
                relay: self.relay.subscribe(),
                audio_wanted: self.audio_wanted.clone(),
            },
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
    pub fn events(&self) -> mpsc::Receiver<MediaEvent> {
        take_once(&self.events_rx)
    }

    /// Stops what plays and plays `prompts` on the pacer's clock; their end is reported on
    /// [`MediaSession::played`] with the returned generation.
    pub fn play_list(&self, prompts: Vec<Prompt>) -> u64 {
        Pacer::get().play(self.stream, prompts)
    }

    /// Plays `prompts` after what plays now; the list's end is reported.
    pub fn enqueue(&self, prompts: Vec<Prompt>) {
        Pacer::get().enqueue(self.stream, prompts)
    }

    /// Repeats `prompt` once the list runs out (None: silence).
    pub fn hold(&self, prompt: Option<Prompt>) {
        Pacer::get().hold(self.stream, prompt)
    }

    /// Stops playing.
    pub fn stop_playing(&self) {
        Pacer::get().stop(self.stream)
    }

    /// The generations of lists that played out; the first call takes them.
    pub fn played(&self) -> mpsc::Receiver<u64> {
        take_once(&self.played)
    }

    /// From now on, audio received on this session goes straight out of `to` (passed through
    /// when both use the same codec, else transcoded on the stack), and its payloads to
    /// `record` when given. The received audio no longer comes as [`MediaEvent::Audio`].
    pub fn relay_to(&self, to: &MediaSession, record: Option<std::sync::mpsc::SyncSender<Frame>>) {
        self.relay.send_replace(Some(Relay {
            to: RelayTo::Leg {
                socket: to.socket.clone(),
                state: to.state.clone(),
            },
            record,
        }));
    }

    /// From now on, audio received on this session goes into a conference's mix through
    /// `inlet`, and its payloads to `record` when given.
    pub fn relay_into(
        &self,
        inlet: super::conference::Inlet,
        record: Option<std::sync::mpsc::SyncSender<Frame>>,
    ) {
        self.relay.send_replace(Some(Relay {
            to: RelayTo::Conference(inlet),
            record,
        }));
    }

    /// This session's outgoing stream (for a conference that mixes for it).
    pub fn stream(&self) -> super::stream::StreamHandle {
        super::stream::StreamHandle {
            socket: self.socket.clone(),
            state: self.state.clone(),
        }
    }

    /// Whether received audio comes as [`MediaEvent::Audio`] (off by default: only a voice
    /// message needs it; a bridge relays in the receive task).
    pub fn want_audio(&self, wanted: bool) {
        self.audio_wanted
            .store(wanted, std::sync::atomic::Ordering::Relaxed);
    }

    /// Stops relaying (the recording's queue is let go).
    pub fn stop_relay(&self) {
        self.relay.send_replace(None);
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
            if let Err(e) = super::io::send_now(&self.socket, &p, remote) {
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
        Pacer::get().remove(self.stream);
        self.close();
    }
}

/// The receiver kept in `slot` for its one reader; a later caller gets a closed one.
fn take_once<T>(slot: &Mutex<Option<mpsc::Receiver<T>>>) -> mpsc::Receiver<T> {
    slot.lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_else(|| mpsc::channel(1).1)
}

/// What the receive task needs of its session.
struct Receiver {
    socket: Arc<UdpSocket>,
    state: Arc<Mutex<SendState>>,
    events: mpsc::Sender<MediaEvent>,
    codec: Codec,
    te_pt: Option<u8>,
    relay: tokio::sync::watch::Receiver<Option<Relay>>,
    audio_wanted: Arc<std::sync::atomic::AtomicBool>,
}

/// Receives the session's RTP until no packet from its source has come for `media_timeout`.
/// One buffer for the session's life; the media timeout is one timer, moved on only when it
/// fires (not once per packet); packets are read in place.
async fn receive(mut rx: Receiver, media_timeout: Duration, mut sources: SourceFilter) {
    let mut buf = [0u8; 2048];
    let mut dtmf = DtmfDetector::new();
    let mut relay = rx.relay.borrow_and_update().clone();
    // Only packets taken from the call's own source keep the call alive.
    let mut last_taken = Instant::now();
    let timeout = tokio::time::sleep_until(last_taken + media_timeout);
    tokio::pin!(timeout);
    loop {
        let (n, from) = tokio::select! {
            got = rx.socket.recv_from(&mut buf) => match got {
                Ok(x) => x,
                Err(e) => {
                    // ICMP unreachable from the peer shows up here on Linux; keep listening.
                    debug!(error = %e, "RTP receive error");
                    continue;
                }
            },
            () = &mut timeout => {
                let due = last_taken + media_timeout;
                if Instant::now() >= due {
                    let _ = rx.events.send(MediaEvent::Timeout).await;
                    return;
                }
                timeout.as_mut().reset(due);
                continue;
            }
        };
        let Some(packet) = rtp::view(&buf[..n]) else {
            super::stats::bump(&super::stats::RTP_DROPPED);
            continue;
        };
        match sources.judge(from, packet.seq) {
            Verdict::Drop => {
                super::stats::bump(&super::stats::RTP_DROPPED);
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
                    rx.state.lock().unwrap_or_else(|e| e.into_inner()).remote = Some(from);
                }
            }
            Verdict::Take => {}
        }
        super::stats::bump(&super::stats::RTP_IN);
        last_taken = Instant::now();
        if Some(packet.payload_type) == rx.te_pt {
            if let Some(digit) = dtmf.on_packet(packet.timestamp, packet.payload) {
                // A key is never dropped: the task waits for room.
                let _ = rx.events.send(MediaEvent::Dtmf { digit }).await;
            }
            continue;
        }
        if packet.payload_type != rx.codec.payload_type() {
            continue;
        }
        if rx.relay.has_changed().unwrap_or(false) {
            relay = rx.relay.borrow_and_update().clone();
        }
        match &relay {
            Some(relay) => forward(relay, rx.codec, packet.payload, last_taken),
            None if !rx.audio_wanted.load(std::sync::atomic::Ordering::Relaxed) => {}
            None => {
                // Audio the call does not take in time is dropped, never queued without end.
                let audio = MediaEvent::Audio {
                    samples: rx.codec.decode(packet.payload),
                };
                if let Err(mpsc::error::TrySendError::Full(_)) = rx.events.try_send(audio) {
                    super::stats::bump(&super::stats::RTP_DROPPED);
                    debug!("media events full: an audio frame is dropped");
                }
            }
        }
    }
}

/// The bridge's packet path: the payload to the recording's queue (a fixed ring: dropped, not
/// waited for, when the writer falls behind), and out of the other leg, passed through or
/// transcoded.
fn forward(relay: &Relay, codec: Codec, payload: &[u8], now: Instant) {
    let len = payload.len().min(MAX_PAYLOAD);
    if let Some(record) = &relay.record {
        let mut frame = Frame {
            codec,
            len: len as u16,
            payload: [0; MAX_PAYLOAD],
        };
        frame.payload[..len].copy_from_slice(&payload[..len]);
        if record.try_send(frame).is_err() {
            debug!("recording queue full: a frame is not recorded");
        }
    }
    match &relay.to {
        RelayTo::Leg { socket, state } => {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            let out = st.codec;
            st.send(socket, now, len as u32, |buf| {
                if out == codec {
                    buf[..len].copy_from_slice(&payload[..len]);
                    len
                } else {
                    let mut samples = [0i16; MAX_PAYLOAD];
                    let k = codec.decode_into(&payload[..len], &mut samples);
                    out.encode_into(&samples[..k], buf)
                }
            });
        }
        RelayTo::Conference(inlet) => {
            let mut samples = [0i16; MAX_PAYLOAD];
            let k = codec.decode_into(&payload[..len], &mut samples);
            inlet.push(&samples[..k]);
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
        let mut played = media.played();
        let generation = media.play_list(vec![prompt.clone()]);
        let play = async {
            assert_eq!(played.recv().await, Some(generation));
        };
        let mut got = Vec::new();
        let recv = async {
            let mut buf = [0u8; 2048];
            while got.len() < 25 {
                let n = phone.recv(&mut buf).await.unwrap();
                got.push(rtp::parse(&buf[..n]).unwrap());
            }
        };
        tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(play, recv) })
            .await
            .expect("every packet and the list's end within 10 s");
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
        media.want_audio(true);
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

    #[tokio::test]
    async fn a_relay_passes_audio_through_or_transcodes_and_records_it() {
        // The caller's session (PCMU) relays to a seat's session that speaks PCMA.
        let (caller, caller_phone) = session(Duration::from_secs(5)).await;
        let (seat, seat_phone) = session(Duration::from_secs(5)).await;
        let ip: IpAddr = [127, 0, 0, 1].into();
        caller.start(caller_phone.local_addr().unwrap(), Codec::Pcmu, None, ip);
        seat.start(seat_phone.local_addr().unwrap(), Codec::Pcma, None, ip);
        let mut caller_events = caller.events();
        let (record, recorded) = std::sync::mpsc::sync_channel(10);
        caller.relay_to(&seat, Some(record));
        let to_caller = SocketAddr::new(ip, caller.local_port());
        let audio: Vec<i16> = (0..160).map(|i| (i * 150 - 12000) as i16).collect();
        let mut phone = RtpSender::new(0);
        for _ in 0..3 {
            let packet = phone.packet(&Codec::Pcmu.encode(&audio), false, 160);
            caller_phone.send_to(&packet, to_caller).await.unwrap();
        }
        let mut buf = [0u8; 2048];
        let mut got = Vec::new();
        for _ in 0..3 {
            let n = tokio::time::timeout(Duration::from_secs(2), seat_phone.recv(&mut buf))
                .await
                .expect("relayed")
                .unwrap();
            got.push(rtp::parse(&buf[..n]).unwrap());
        }
        let heard = Codec::Pcmu.decode(&Codec::Pcmu.encode(&audio));
        for p in &got {
            assert_eq!(p.payload_type, 8, "transcoded to the seat's PCMA");
            assert_eq!(p.payload, Codec::Pcma.encode(&heard));
        }
        assert_eq!(got[1].seq, got[0].seq.wrapping_add(1));
        assert_eq!(got[1].timestamp, got[0].timestamp.wrapping_add(160));
        // Each payload reached the recording, and no audio event was sent meanwhile.
        let mut samples = [0i16; MAX_PAYLOAD];
        for _ in 0..3 {
            let frame = recorded.recv_timeout(Duration::from_secs(1)).unwrap();
            let n = frame.decode_into(&mut samples);
            assert_eq!(samples[..n], heard[..]);
        }
        assert!(caller_events.try_recv().is_err());
        // Without the relay, audio comes as events again, when they are wanted.
        caller.stop_relay();
        caller.want_audio(true);
        let packet = phone.packet(&Codec::Pcmu.encode(&audio), false, 160);
        caller_phone.send_to(&packet, to_caller).await.unwrap();
        assert_eq!(
            caller_events.recv().await,
            Some(MediaEvent::Audio { samples: heard })
        );
    }
}
