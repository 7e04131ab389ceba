//! SDP offer/answer for one audio stream (RFC 3264, RFC 4566): G.711 and RFC 4733
//! telephone-event.
//!
//! The caller's preference is the order of its payload types; we take the first PCMU or PCMA
//! and echo the caller's telephone-event payload type. Anything we cannot take is refused with
//! a reason the call layer logs (and answers 488).

use std::net::{IpAddr, SocketAddr};

use super::g711::Codec;

/// The outcome of an offer/answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where the peer receives RTP.
    pub remote_rtp: SocketAddr,
    /// The codec both send.
    pub codec: Codec,
    /// The peer's telephone-event payload type, when it offered one.
    pub telephone_event_pt: Option<u8>,
    /// Our SDP (the answer, or for [`parse_answer`] the peer's answer as received).
    pub answer: String,
}

/// Why an offer (or answer) is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("no SDP body")]
    Empty,
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("no audio stream offered")]
    NoAudio,
    #[error("the audio stream is rejected (port 0)")]
    Rejected,
    #[error("profile {0} not supported (only RTP/AVP)")]
    Profile(String),
    #[error("no connection address (c=) for the audio stream")]
    NoConnection,
    #[error("no common codec: offered {0:?}, we take PCMU or PCMA")]
    NoCommonCodec(Vec<String>),
}

/// One parsed audio description.
struct Audio {
    port: u16,
    profile: String,
    payloads: Vec<u8>,
    rtpmap: Vec<(u8, String, u32)>,
    addr: Option<IpAddr>,
    direction: &'static str,
}

/// An RTP payload type: 7 bits (RFC 3550 §5.1), so 0 to 127; anything else is refused here,
/// before it can reach a packet builder.
fn payload_type(text: &str) -> Option<u8> {
    text.parse::<u8>().ok().filter(|pt| *pt <= 127)
}

fn parse(sdp: &str) -> Result<Audio, SdpError> {
    if sdp.trim().is_empty() {
        return Err(SdpError::Empty);
    }
    let mut session_addr = None;
    let mut audio: Option<Audio> = None;
    let mut in_other_media = false;
    for (i, raw) in sdp.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let bad = |reason: &str| SdpError::Malformed {
            line: i + 1,
            reason: reason.to_string(),
        };
        let (kind, value) = line.split_once('=').ok_or_else(|| bad("not type=value"))?;
        match kind {
            "m" => {
                if audio.is_some() {
                    // Only the first audio stream is used; later streams are ignored.
                    in_other_media = true;
                    continue;
                }
                let mut parts = value.split_whitespace();
                let media = parts.next().ok_or_else(|| bad("empty m= line"))?;
                if media != "audio" {
                    in_other_media = true;
                    continue;
                }
                in_other_media = false;
                let port = parts
                    .next()
                    .and_then(|p| p.split('/').next())
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(|| bad("bad port in m= line"))?;
                let profile = parts.next().ok_or_else(|| bad("no profile in m= line"))?;
                let payloads = parts
                    .map(|p| payload_type(p).ok_or_else(|| bad("payload type not in 0-127")))
                    .collect::<Result<Vec<_>, _>>()?;
                audio = Some(Audio {
                    port,
                    profile: profile.to_string(),
                    payloads,
                    rtpmap: Vec::new(),
                    addr: None,
                    direction: "sendrecv",
                });
            }
            "c" => {
                let mut parts = value.split_whitespace();
                let (net, _kind, addr) = (parts.next(), parts.next(), parts.next());
                if net != Some("IN") {
                    return Err(bad("c= must be IN IP4 or IN IP6"));
                }
                let ip: IpAddr = addr
                    .and_then(|a| a.split('/').next())
                    .and_then(|a| a.parse().ok())
                    .ok_or_else(|| bad("bad address in c= line"))?;
                match audio.as_mut() {
                    Some(a) if !in_other_media => a.addr = Some(ip),
                    None => session_addr = Some(ip),
                    _ => {}
                }
            }
            "a" if !in_other_media => {
                let Some(a) = audio.as_mut() else { continue };
                if let Some(map) = value.strip_prefix("rtpmap:") {
                    let (pt, enc) = map.split_once(' ').ok_or_else(|| bad("bad rtpmap"))?;
                    let pt = payload_type(pt.trim())
                        .ok_or_else(|| bad("rtpmap payload type not in 0-127"))?;
                    let mut enc = enc.trim().split('/');
                    let name = enc.next().unwrap_or("").to_string();
                    let rate = enc.next().and_then(|r| r.parse().ok()).unwrap_or(8000);
                    a.rtpmap.push((pt, name, rate));
                } else {
                    match value {
                        "sendrecv" => a.direction = "sendrecv",
                        "sendonly" => a.direction = "recvonly",
                        "recvonly" => a.direction = "sendonly",
                        "inactive" => a.direction = "inactive",
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut audio = audio.ok_or(SdpError::NoAudio)?;
    if audio.addr.is_none() {
        audio.addr = session_addr;
    }
    Ok(audio)
}

impl Audio {
    fn codec_of(&self, pt: u8) -> Option<Codec> {
        match self.rtpmap.iter().find(|(p, _, _)| *p == pt) {
            Some((_, name, 8000)) => Codec::from_name(name).filter(|c| c.payload_type() == pt),
            Some(_) => None,
            None => Codec::from_payload_type(pt),
        }
    }

    fn telephone_event(&self) -> Option<u8> {
        self.rtpmap
            .iter()
            .find(|(pt, name, rate)| {
                name.eq_ignore_ascii_case("telephone-event")
                    && *rate == 8000
                    && self.payloads.contains(pt)
            })
            .map(|(pt, _, _)| *pt)
    }

    fn offered_names(&self) -> Vec<String> {
        self.payloads
            .iter()
            .map(|pt| {
                self.rtpmap
                    .iter()
                    .find(|(p, _, _)| p == pt)
                    .map_or_else(|| pt.to_string(), |(_, n, r)| format!("{n}/{r}"))
            })
            .collect()
    }

    fn check(&self) -> Result<(SocketAddr, Codec), SdpError> {
        if self.port == 0 {
            return Err(SdpError::Rejected);
        }
        if self.profile != "RTP/AVP" {
            return Err(SdpError::Profile(self.profile.clone()));
        }
        let addr = self.addr.ok_or(SdpError::NoConnection)?;
        let codec = self
            .payloads
            .iter()
            .find_map(|&pt| self.codec_of(pt))
            .ok_or_else(|| SdpError::NoCommonCodec(self.offered_names()))?;
        Ok((SocketAddr::new(addr, self.port), codec))
    }
}

/// Answers `offer` with our address and port.
pub fn negotiate(
    offer: &str,
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
) -> Result<Negotiated, SdpError> {
    let audio = parse(offer)?;
    let (remote_rtp, codec) = audio.check()?;
    let te = audio.telephone_event();
    let answer = description(
        local_ip,
        local_port,
        session_id,
        &[codec],
        te,
        audio.direction,
    );
    Ok(Negotiated {
        remote_rtp,
        codec,
        telephone_event_pt: te,
        answer,
    })
}

/// Our offer (when the server calls an agent): PCMU, PCMA, telephone-event 101.
pub fn offer(local_ip: IpAddr, local_port: u16, session_id: u64) -> String {
    offer_codecs(
        local_ip,
        local_port,
        session_id,
        &[Codec::Pcmu, Codec::Pcma],
    )
}

/// An offer of `codecs` (in order of preference) and telephone-event, for a peer that carries
/// only some (a carrier's trunk).
pub fn offer_codecs(
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    codecs: &[Codec],
) -> String {
    description(
        local_ip,
        local_port,
        session_id,
        codecs,
        Some(101),
        "sendrecv",
    )
}

/// Reads the peer's answer to our [`offer`].
pub fn parse_answer(answer: &str) -> Result<Negotiated, SdpError> {
    let audio = parse(answer)?;
    let (remote_rtp, codec) = audio.check()?;
    Ok(Negotiated {
        remote_rtp,
        codec,
        telephone_event_pt: audio.telephone_event(),
        answer: answer.to_string(),
    })
}

fn description(
    ip: IpAddr,
    port: u16,
    session_id: u64,
    codecs: &[Codec],
    te: Option<u8>,
    direction: &str,
) -> String {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut pts: Vec<String> = codecs
        .iter()
        .map(|c| c.payload_type().to_string())
        .collect();
    if let Some(te) = te {
        pts.push(te.to_string());
    }
    let mut s = format!(
        "v=0\r\no=hotline12345 {session_id} {session_id} IN {family} {ip}\r\ns=hotline12345\r\n\
         c=IN {family} {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {}\r\n",
        pts.join(" ")
    );
    for c in codecs {
        s.push_str(&format!(
            "a=rtpmap:{} {}/8000\r\n",
            c.payload_type(),
            c.name()
        ));
    }
    if let Some(te) = te {
        s.push_str(&format!(
            "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
        ));
    }
    s.push_str(&format!("a=ptime:20\r\na={direction}\r\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_beyond_7_bits_are_refused() {
        for bad in [
            "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:200 telephone-event/8000\r\n",
            "m=audio 4000 RTP/AVP 0 200\r\n",
            "m=audio 4000 RTP/AVP 0 128\r\n",
        ] {
            let offer = format!("v=0\r\nc=IN IP4 127.0.0.1\r\n{bad}");
            assert!(
                negotiate(&offer, "127.0.0.1".parse().unwrap(), 5000, 1).is_err(),
                "{bad}"
            );
        }
    }

    const LOCAL: &str = "127.0.0.1";

    fn answer(offer: &str) -> Result<Negotiated, SdpError> {
        negotiate(offer, LOCAL.parse().unwrap(), 20000, 42)
    }

    #[test]
    fn sipp_default_offer() {
        let offer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
        let n = answer(offer).unwrap();
        assert_eq!(n.codec, Codec::Pcmu);
        assert_eq!(
            n.remote_rtp,
            "127.0.0.1:6000".parse::<std::net::SocketAddr>().unwrap()
        );
        assert_eq!(n.telephone_event_pt, None);
        assert!(
            n.answer.contains("m=audio 20000 RTP/AVP 0\r\n"),
            "{}",
            n.answer
        );
        assert!(n.answer.contains("a=sendrecv"));
    }

    #[test]
    fn linphone_like_offer_with_many_codecs_prefers_callers_order() {
        let offer = "v=0\no=- 1 1 IN IP4 192.0.2.10\ns=Talk\nc=IN IP4 192.0.2.10\nt=0 0\n\
            m=audio 7078 RTP/AVP 96 97 8 0 101\na=rtpmap:96 opus/48000/2\na=rtpmap:97 speex/16000\n\
            a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\nm=video 9078 RTP/AVP 98\nc=IN IP4 192.0.2.99\n";
        let n = answer(offer).unwrap();
        assert_eq!(n.codec, Codec::Pcma, "first G.711 in the caller's order");
        assert_eq!(n.telephone_event_pt, Some(101));
        assert_eq!(
            n.remote_rtp,
            "192.0.2.10:7078".parse::<std::net::SocketAddr>().unwrap(),
            "video c= ignored"
        );
        assert!(n.answer.contains("m=audio 20000 RTP/AVP 8 101\r\n"));
        assert!(n.answer.contains("a=fmtp:101 0-16\r\n"));
    }

    #[test]
    fn ipv6_media_level_connection_and_direction() {
        let offer = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 100\r\nc=IN IP6 ::1\r\na=rtpmap:100 telephone-event/8000\r\na=sendonly\r\n";
        let n = answer(offer).unwrap();
        assert_eq!(
            n.remote_rtp,
            "[::1]:4000".parse::<std::net::SocketAddr>().unwrap()
        );
        assert_eq!(n.telephone_event_pt, Some(100));
        assert!(n.answer.contains("a=recvonly"));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(answer(""), Err(SdpError::Empty));
        assert_eq!(
            answer("v=0\r\nm=video 1 RTP/AVP 96\r\n"),
            Err(SdpError::NoAudio)
        );
        assert_eq!(
            answer("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n"),
            Err(SdpError::Rejected)
        );
        assert_eq!(
            answer("v=0\r\nm=audio 4000 RTP/AVP 0\r\n"),
            Err(SdpError::NoConnection)
        );
        assert_eq!(
            answer("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n"),
            Err(SdpError::Profile("RTP/SAVP".into()))
        );
        assert_eq!(
            answer("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 18 96\r\na=rtpmap:96 opus/48000/2\r\n"),
            Err(SdpError::NoCommonCodec(vec!["18".into(), "opus/48000".into()]))
        );
        assert!(matches!(
            answer("v=0\r\ngarbage\r\n"),
            Err(SdpError::Malformed { line: 2, .. })
        ));
    }

    #[test]
    fn our_offer_and_their_answer() {
        let o = offer(LOCAL.parse().unwrap(), 30000, 7);
        assert!(o.contains("m=audio 30000 RTP/AVP 0 8 101\r\n"));
        let their = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
        let n = parse_answer(their).unwrap();
        assert_eq!((n.codec, n.telephone_event_pt), (Codec::Pcma, Some(101)));
        assert_eq!(n.remote_rtp.port(), 5004);
    }
}
