//! One call ringing or up in a console: a webrtc-rs peer connection (ICE with host candidates,
//! DTLS-SRTP, one G.711 audio track each way, RFC 4733 events) and a relay that hands its RTP
//! to the call's media session over loopback UDP, so that a browser seat's leg is bridged,
//! recorded and timed out by the same media engine as a SIP seat's. The relay costs one
//! loopback datagram per packet each way, for browser seats only.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{
    MediaEngine, MIME_TYPE_PCMA, MIME_TYPE_PCMU, MIME_TYPE_TELEPHONE_EVENT,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::shared::marshal::{Marshal, Unmarshal};
use tokio::net::UdpSocket;
use tracing::{debug, info, warn};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState, RTCSessionDescription,
};

use crate::media::g711::Codec;

/// The payload type we offer for RFC 4733 events, as our SIP offers do.
pub const TELEPHONE_EVENT_PT: u8 = 101;
/// How long ICE and DTLS may take after the operator answered.
const CONNECT_WITHIN: Duration = Duration::from_secs(15);
/// How long gathering host candidates may take before the offer goes out without them.
const GATHER_WITHIN: Duration = Duration::from_secs(2);

/// What happens on a browser leg, reported to the call that rang it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneEvent {
    /// The operator answered and the media is up: send the call's RTP to the relay.
    Answered {
        codec: Codec,
        telephone_event_pt: Option<u8>,
    },
    /// The operator declined.
    Declined,
    /// The operator hung up (or closed the page) after answering.
    HungUp,
    /// The page went away or the media never came up before an answer.
    Failed,
}

/// Where a leg's events go (the call layer turns them into its own signals).
pub type EventSink = Arc<dyn Fn(PhoneEvent) + Send + Sync>;

/// Where the browser's ICE candidates point.
#[derive(Debug, Clone, Default)]
pub struct IceAddresses {
    /// The local address to gather host candidates on.
    pub local: Option<IpAddr>,
    /// A public address to advertise as well (1:1 NAT in front of the server: the same ports).
    pub public: Option<IpAddr>,
}

/// What the leg's handler and relay tasks share.
struct Shared {
    events: EventSink,
    /// Set once the browser's answer was read: the negotiated codec.
    negotiated: Mutex<Option<(Codec, Option<u8>)>>,
    /// Answered (reported once).
    answered: AtomicBool,
    /// Ended (reported once; nothing is reported after).
    ended: AtomicBool,
    relay: Arc<UdpSocket>,
    /// The call's media session for this leg: where the browser's RTP goes.
    media: SocketAddr,
    gathered: tokio::sync::Notify,
}

impl Shared {
    fn report(&self, event: PhoneEvent) {
        if self.ended.load(Ordering::Acquire) {
            return;
        }
        match event {
            PhoneEvent::Answered { .. } => {
                if self.answered.swap(true, Ordering::AcqRel) {
                    return;
                }
            }
            _ => {
                if self.ended.swap(true, Ordering::AcqRel) {
                    return;
                }
            }
        }
        (self.events)(event);
    }

    /// The page hung up, declined, or vanished: what that means depends on the answer.
    pub(super) fn gone(&self, declined: bool) {
        let event = if self.answered.load(Ordering::Acquire) {
            PhoneEvent::HungUp
        } else if declined {
            PhoneEvent::Declined
        } else {
            PhoneEvent::Failed
        };
        self.report(event);
    }
}

struct Handler {
    shared: Arc<Shared>,
    leg: String,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.shared.gathered.notify_one();
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        debug!(leg = self.leg, %state, "browser leg's connection");
        match state {
            RTCPeerConnectionState::Connected => {
                let negotiated = *self
                    .shared
                    .negotiated
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if let Some((codec, telephone_event_pt)) = negotiated {
                    info!(leg = self.leg, ?codec, "browser phone connected");
                    self.shared.report(PhoneEvent::Answered {
                        codec,
                        telephone_event_pt,
                    });
                }
            }
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                self.shared.gone(false)
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let shared = self.shared.clone();
        let leg = self.leg.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(256);
            while let Some(event) = track.poll().await {
                // Once the leg ended its media session's port goes back to the pool (and may
                // soon be another socket's): nothing more is relayed to it.
                if shared.ended.load(Ordering::Acquire) {
                    break;
                }
                let TrackRemoteEvent::OnRtpPacket(packet) = event else {
                    continue;
                };
                buf.clear();
                match packet.marshal() {
                    Ok(bytes) => buf.extend_from_slice(&bytes),
                    Err(e) => {
                        debug!(%leg, error = %e, "browser RTP not relayed");
                        continue;
                    }
                }
                let _ = shared.relay.send_to(&buf, shared.media).await;
            }
        });
    }
}

/// A call ringing or up in a console.
pub struct BrowserLeg {
    pc: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    /// The server's SDP offer, with its host candidates.
    pub offer: String,
    sender: tokio::task::JoinHandle<()>,
}

impl BrowserLeg {
    /// Opens the peer connection and its relay towards `media` (the leg's media session),
    /// and makes the offer.
    pub async fn open(
        leg: &str,
        ice: &IceAddresses,
        media: SocketAddr,
        events: EventSink,
    ) -> Result<BrowserLeg, String> {
        let relay = Arc::new(
            UdpSocket::bind(SocketAddr::new(media.ip(), 0))
                .await
                .map_err(|e| format!("relay socket: {e}"))?,
        );
        let shared = Arc::new(Shared {
            events,
            negotiated: Mutex::new(None),
            answered: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            relay: relay.clone(),
            media,
            gathered: tokio::sync::Notify::new(),
        });
        let mut engine = MediaEngine::default();
        let offered = [
            codec(MIME_TYPE_PCMU, 0, ""),
            codec(MIME_TYPE_PCMA, 8, ""),
            codec(MIME_TYPE_TELEPHONE_EVENT, TELEPHONE_EVENT_PT, "0-16"),
        ];
        for c in &offered {
            engine
                .register_codec(c.clone(), RtpCodecKind::Audio)
                .map_err(|e| format!("codec {}: {e}", c.rtp_codec.mime_type))?;
        }
        let local = ice.local.unwrap_or(media.ip());
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(engine)
            .with_handler(Arc::new(Handler {
                shared: shared.clone(),
                leg: leg.to_string(),
            }))
            .with_udp_addrs(vec![SocketAddr::new(local, 0)])
            .build()
            .await
            .map_err(|e| format!("peer connection: {e}"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let ssrc = rand::random::<u32>();
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "hotline12345".to_string(),
            format!("caller-{leg}"),
            "caller".to_string(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: codec(MIME_TYPE_PCMU, 0, "").rtp_codec,
                ..Default::default()
            }],
        )));
        pc.add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(|e| format!("audio track: {e}"))?;
        // The track's own codec alone would be offered: offer PCMA and the RFC 4733 events
        // too, so that the page can answer with either law and send keys.
        for transceiver in pc.get_transceivers().await {
            transceiver
                .set_codec_preferences(offered.to_vec())
                .await
                .map_err(|e| format!("codecs: {e}"))?;
        }
        let offer = pc
            .create_offer(None)
            .await
            .map_err(|e| format!("offer: {e}"))?;
        pc.set_local_description(offer)
            .await
            .map_err(|e| format!("offer: {e}"))?;
        // No trickle: the offer carries the host candidates, one message each way.
        let _ = tokio::time::timeout(GATHER_WITHIN, shared.gathered.notified()).await;
        let mut offer = pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or("no local description")?;
        if let Some(public) = ice.public {
            offer = super::signal::with_public_candidates(&offer, public);
        }
        let sender = tokio::spawn(relay_to_browser(relay, media, track, ssrc));
        Ok(BrowserLeg {
            pc,
            shared,
            offer,
            sender,
        })
    }

    /// Where the call's media session sends this leg's audio.
    pub fn relay_addr(&self) -> SocketAddr {
        self.shared
            .relay
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::new(self.shared.media.ip(), 0))
    }

    /// Whether the page has answered already (a second answer is refused, changing nothing).
    pub fn has_answer(&self) -> bool {
        self.shared
            .negotiated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// The browser's answer: the codec it chose, then ICE and DTLS; the leg reports
    /// `Answered` when the media is up, `Failed` if it does not come up in time.
    pub async fn answer(&self, sdp: String) -> Result<(), String> {
        let negotiated = super::signal::negotiated(&sdp)?;
        *self
            .shared
            .negotiated
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(negotiated);
        let answer = RTCSessionDescription::answer(sdp).map_err(|e| format!("answer: {e}"))?;
        self.pc
            .set_remote_description(answer)
            .await
            .map_err(|e| format!("answer: {e}"))?;
        let shared = self.shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(CONNECT_WITHIN).await;
            if !shared.answered.load(Ordering::Acquire) {
                warn!("browser phone's media did not come up");
                shared.gone(false);
            }
        });
        Ok(())
    }

    /// The page declined or hung up.
    pub fn ended_by_page(&self, declined: bool) {
        self.shared.gone(declined);
    }

    /// Closes the connection and the relay; nothing is reported after.
    pub async fn close(&self) {
        self.shared.ended.store(true, Ordering::Release);
        self.sender.abort();
        if let Err(e) = self.pc.close().await {
            debug!(error = %e, "browser leg's close");
        }
    }
}

impl Drop for BrowserLeg {
    fn drop(&mut self) {
        self.shared.ended.store(true, Ordering::Release);
        self.sender.abort();
        let pc = self.pc.clone();
        tokio::spawn(async move {
            let _ = pc.close().await;
        });
    }
}

fn codec(mime: &str, payload_type: u8, fmtp: &str) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime.to_string(),
            clock_rate: 8000,
            channels: 0,
            sdp_fmtp_line: fmtp.to_string(),
            rtcp_feedback: vec![],
        },
        payload_type,
    }
}

/// The call's RTP for the browser: read from the relay socket (only what the leg's media
/// session sends), written to the track with the track's SSRC.
async fn relay_to_browser(
    relay: Arc<UdpSocket>,
    media: SocketAddr,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, from)) = relay.recv_from(&mut buf).await else {
            return;
        };
        if from != media {
            continue;
        }
        let Ok(mut packet) = rtc::rtp::Packet::unmarshal(&mut &buf[..n]) else {
            continue;
        };
        packet.header.ssrc = ssrc;
        // Not bound yet (before the answer) or closed: dropped, as a phone would.
        let _ = track.write_rtp(packet).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn offer(public: Option<IpAddr>) -> String {
        let media = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let ice = IceAddresses {
            local: Some("127.0.0.1".parse().unwrap()),
            public,
        };
        let sink: EventSink = Arc::new(|_| {});
        let leg = BrowserLeg::open("t", &ice, media.local_addr().unwrap(), sink)
            .await
            .unwrap();
        let offer = leg.offer.clone();
        leg.close().await;
        offer
    }

    #[tokio::test]
    async fn the_offer_has_g711_events_and_host_candidates_where_the_console_reached_us() {
        let sdp = offer(None).await;
        let audio = sdp.lines().find(|l| l.starts_with("m=audio")).unwrap();
        assert!(audio.contains("UDP/TLS/RTP/SAVPF"), "DTLS-SRTP: {audio}");
        for format in ["0", "8", "101"] {
            assert!(audio.split(' ').any(|f| f == format), "{format} in {audio}");
        }
        assert!(sdp.contains("a=rtpmap:101 telephone-event/8000"), "{sdp}");
        assert!(sdp.contains("a=fingerprint:sha-256"), "{sdp}");
        let candidates: Vec<&str> = sdp
            .lines()
            .filter(|l| l.starts_with("a=candidate"))
            .collect();
        assert!(!candidates.is_empty(), "{sdp}");
        assert!(candidates
            .iter()
            .all(|c| c.contains(" 127.0.0.1 ") && c.contains("typ host")));
    }

    #[tokio::test]
    async fn an_answer_that_cannot_be_used_is_refused_and_the_leg_fails_once() {
        let media = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink: EventSink = {
            let seen = seen.clone();
            Arc::new(move |e| seen.lock().unwrap().push(e))
        };
        let ice = IceAddresses::default();
        let leg = BrowserLeg::open("t", &ice, media.local_addr().unwrap(), sink)
            .await
            .unwrap();
        let err = leg
            .answer("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n".into())
            .await;
        assert!(err.unwrap_err().contains("neither PCMU nor PCMA"));
        assert!(!leg.has_answer(), "nothing was taken from it");
        leg.ended_by_page(false);
        leg.ended_by_page(true);
        assert_eq!(*seen.lock().unwrap(), [PhoneEvent::Failed], "reported once");
        leg.close().await;
    }

    #[tokio::test]
    async fn behind_nat_the_offer_names_the_public_address_too() {
        let sdp = offer(Some("203.0.113.7".parse().unwrap())).await;
        let candidates: Vec<&str> = sdp
            .lines()
            .filter(|l| l.starts_with("a=candidate"))
            .collect();
        let public = candidates
            .iter()
            .filter(|c| c.contains(" 203.0.113.7 "))
            .count();
        let local = candidates
            .iter()
            .filter(|c| c.contains(" 127.0.0.1 "))
            .count();
        assert!(public > 0 && public == local, "{candidates:?}");
    }
}
