//! The console phone's signalling messages, as JSON over its WebSocket: the leaf of
//! `src/phone/` (pure types, no I/O). The server offers, as it does to a SIP seat: the
//! browser answers or declines, and either side hangs up. DTMF travels in the media as RFC
//! 4733 events (the page's `RTCDTMFSender`), not here.

use serde::{Deserialize, Serialize};

use crate::media::g711::Codec;

/// What the server tells a console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ToBrowser {
    /// The phone is on: calls to this seat ring in this page.
    Ready { seat: String },
    /// A call is offered to the seat (the pop-up). `sdp` is the server's offer when the call
    /// rings in this page, absent when it rings on the seat's SIP phone.
    Offer {
        leg: String,
        call: CallInfo,
        #[serde(skip_serializing_if = "Option::is_none")]
        sdp: Option<String>,
    },
    /// The media is up both ways.
    Connected { leg: String },
    /// The offer was withdrawn (the caller hung up, the ring timed out, another seat took it).
    Cancel { leg: String },
    /// The call ended on the server's side.
    Bye { leg: String },
    /// This console's phone was replaced by one opened later for the same seat.
    Replaced,
    /// A message the server could not use, and why.
    Error { message: String },
}

/// The pop-up's facts about a call, known when it is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallInfo {
    /// The caller's call (its SIP Call-ID), to transfer it through the API.
    pub call_id: String,
    /// The call's case, opened before the caller heard the greeting.
    pub case_number: String,
    /// The caller's number as it came.
    pub caller: String,
    /// The platform (division code) that took the call.
    pub platform: String,
    /// Its name, e.g. 昆明市.
    pub platform_name: String,
    /// The queue the caller waits in.
    pub queue: String,
    /// How long the caller has waited in it, in seconds.
    pub waited_seconds: u64,
    /// `browser` when the call rings in the page, `sip` when on the seat's softphone.
    pub phone: &'static str,
}

/// What a console tells the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FromBrowser {
    /// The operator answers the offered call with the browser's SDP answer.
    Answer { leg: String, sdp: String },
    /// The operator declines the offered call.
    Decline { leg: String },
    /// The operator hangs up.
    Hangup { leg: String },
}

/// The most a console may send in one message: an SDP answer is a few kilobytes.
pub const MAX_MESSAGE: usize = 32 * 1024;

/// Reads one message from a console: `Err` names what is wrong, for the page.
pub fn parse(text: &str) -> Result<FromBrowser, String> {
    if text.len() > MAX_MESSAGE {
        return Err(format!("a message is at most {MAX_MESSAGE} bytes"));
    }
    serde_json::from_str(text).map_err(|e| format!("not a phone message: {e}"))
}

/// The codec and the RFC 4733 payload type of the browser's SDP answer: the first G.711
/// format of its audio line, and the `telephone-event/8000` it kept, if any.
pub fn negotiated(answer: &str) -> Result<(Codec, Option<u8>), String> {
    let formats = answer
        .lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))
        .ok_or("the answer has no audio line")?;
    let codec = formats
        .split_whitespace()
        .skip(2)
        .filter_map(|f| f.parse::<u8>().ok())
        .find_map(Codec::from_payload_type)
        .ok_or("the answer takes neither PCMU nor PCMA")?;
    let events = answer.lines().find_map(|l| {
        let (pt, name) = l.trim().strip_prefix("a=rtpmap:")?.split_once(' ')?;
        name.eq_ignore_ascii_case("telephone-event/8000")
            .then(|| pt.parse().ok())
            .flatten()
    });
    Ok((codec, events))
}

/// The offer with a copy of each host candidate at `public`, the address a 1:1 NAT in front
/// of the server maps to it (the same port), one less in priority so that a console on the
/// LAN still takes the direct address. webrtc-rs 0.21 keeps a NAT setting but never applies
/// it, so the offer is amended here.
pub fn with_public_candidates(sdp: &str, public: std::net::IpAddr) -> String {
    let mut out = String::with_capacity(sdp.len() * 2);
    for line in sdp.split_inclusive('\n') {
        out.push_str(line);
        let text = line.trim_end();
        let Some(rest) = text.strip_prefix("a=candidate:") else {
            continue;
        };
        let f: Vec<&str> = rest.split(' ').collect();
        // foundation component transport priority address port "typ" host …
        if f.len() < 8 || f[6] != "typ" || f[7] != "host" {
            continue;
        }
        let Ok(priority) = f[3].parse::<u32>() else {
            continue;
        };
        let mut copy = f.clone();
        let foundation = format!("{}9", f[0]);
        let priority = priority.saturating_sub(1).to_string();
        let address = public.to_string();
        copy[0] = &foundation;
        copy[3] = &priority;
        copy[4] = &address;
        out.push_str("a=candidate:");
        out.push_str(&copy.join(" "));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_nat_each_host_candidate_gets_its_public_twin() {
        let sdp = "v=0\r\na=candidate:123 1 udp 2130706431 10.0.0.5 40000 typ host\r\n\
                   a=candidate:124 1 udp 1694498815 198.51.100.1 40000 typ srflx raddr 10.0.0.5 rport 40000\r\n\
                   a=mid:0\r\n";
        let out = with_public_candidates(sdp, "203.0.113.7".parse().unwrap());
        let candidates: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("a=candidate"))
            .collect();
        assert_eq!(
            candidates,
            [
                "a=candidate:123 1 udp 2130706431 10.0.0.5 40000 typ host",
                "a=candidate:1239 1 udp 2130706430 203.0.113.7 40000 typ host",
                "a=candidate:124 1 udp 1694498815 198.51.100.1 40000 typ srflx raddr 10.0.0.5 rport 40000",
            ]
        );
        assert!(out.ends_with("a=mid:0\r\n"));
    }

    #[test]
    fn the_answer_names_the_codec_and_the_events() {
        let answer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 8 101\r\na=rtpmap:8 PCMA/8000\r\n\
                      a=rtpmap:101 telephone-event/8000\r\n";
        assert_eq!(negotiated(answer), Ok((Codec::Pcma, Some(101))));
        assert_eq!(
            negotiated("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"),
            Ok((Codec::Pcmu, None))
        );
        assert!(negotiated("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n").is_err());
        assert!(negotiated("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n").is_err());
    }

    #[test]
    fn messages_read_and_written_as_the_page_sends_them() {
        assert_eq!(
            parse(r#"{"type":"answer","leg":"l1","sdp":"v=0"}"#),
            Ok(FromBrowser::Answer {
                leg: "l1".into(),
                sdp: "v=0".into()
            })
        );
        assert_eq!(
            parse(r#"{"type":"hangup","leg":"l1"}"#),
            Ok(FromBrowser::Hangup { leg: "l1".into() })
        );
        assert!(parse(r#"{"type":"hangup","leg":"l1","x":1}"#).is_err());
        assert!(parse(r#"{"type":"reboot"}"#).is_err());
        assert!(parse(&"x".repeat(MAX_MESSAGE + 1))
            .unwrap_err()
            .contains("at most"));
        let cancel = serde_json::to_string(&ToBrowser::Cancel { leg: "l1".into() }).unwrap();
        assert_eq!(cancel, r#"{"type":"cancel","leg":"l1"}"#);
    }
}
