//! The server's own call to an operator's phone (the B2BUA's second leg). To a softphone:
//! INVITE to the seat's registered contact with our SDP offer, CANCEL when the ACD withdraws
//! the offer, ACK and media once it answers, BYE at the end; its responses and the operator's
//! BYE reach the caller's call task through the call manager, by the leg's Call-ID. To a
//! console's browser phone ([`crate::phone`]): the same offer over WebRTC, its events passed
//! to the call task as [`CallSignal::Phone`]. Either way the console pops the call up.

use std::net::{IpAddr, SocketAddr};

use tracing::{info, warn};

use super::directory::SignalTx;
use super::services::CallServices;
use super::signal::CallSignal;
use crate::media::g711::Codec;

/// A new SIP leg's addresses: the Request-URI, To and From (`{via_host}` in From is filled in
/// with ours), where it goes and what it offers.
struct Outgoing<'c> {
    target: String,
    to: String,
    from: String,
    peer: Peer,
    codecs: &'c [Codec],
}
use crate::media::sdp;
use crate::media::session::MediaSession;
use crate::phone::signal::CallInfo;
use crate::phone::{BrowserLeg, EventSink};
use crate::sip::dialog::Dialog;
use crate::sip::message;
use crate::sip::transaction::{Peer, Transport};

/// Where to send a seat's INVITE: the address in its Contact (RFC 3261), unless that is a
/// private address other than the one the REGISTER came from, i.e. the phone is behind NAT,
/// when the source of its REGISTER is used (as RFC 3581 `rport` does for responses).
fn target(contact: &str, source: SocketAddr) -> SocketAddr {
    let hostport = contact
        .split_once('@')
        .map_or(contact, |(_, h)| h)
        .trim_start_matches("sip:")
        .split([';', '>'])
        .next()
        .unwrap_or("");
    match hostport.parse::<SocketAddr>() {
        Ok(addr) => {
            let private = match addr.ip() {
                IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
                IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
            };
            if private && addr.ip() != source.ip() {
                source
            } else {
                addr
            }
        }
        Err(_) => source,
    }
}

/// The leg's own media session, on a port of the pool.
async fn open_media(services: &CallServices, local_ip: IpAddr) -> Result<MediaSession, String> {
    MediaSession::open(&services.rtp_ports, local_ip, services.limits.media_timeout)
        .await
        .map_err(|e| e.to_string())
}

/// The SIP side of a call to a softphone, or out over a carrier's trunk.
struct SipLeg {
    invite: rsip::Request,
    peer: Peer,
    via_host: String,
    dialog: Option<Dialog>,
    /// Over a trunk: what answers its challenge (once), and the channel the call holds.
    trunk: Option<TrunkSide>,
}

/// What a call out over a trunk keeps.
struct TrunkSide {
    credentials: Option<crate::dialplan::trunks::TrunkCredentials>,
    /// The INVITE was sent again with credentials: a second challenge is a refusal.
    authenticated: bool,
    _channel: super::trunk::ChannelGuard,
}

/// Which phone the leg rings.
enum Phone {
    Sip(Box<SipLeg>),
    Browser {
        leg: std::sync::Arc<BrowserLeg>,
        answered: bool,
    },
}

/// Where a watched leg's media events go: the leg's id in the call that holds it, and that
/// call's channel (changed when another call takes the leg over).
pub(super) type EventsTo = std::sync::Arc<
    std::sync::Mutex<(
        super::flow::LegId,
        tokio::sync::mpsc::Sender<(
            super::flow::LegId,
            Option<crate::media::session::MediaEvent>,
        )>,
    )>,
>;

/// One call the server places: to a seat (its softphone or console), or a number out over a
/// trunk.
pub(super) struct AgentLeg {
    /// The seat, or the number called.
    pub agent: String,
    /// This leg's Call-ID (a browser leg's id, of the same form).
    pub call_id: String,
    phone: Phone,
    /// The leg's media (its own RTP port, SSRC, sequence and timestamps).
    pub media: MediaSession,
    /// Where its media events go once watched (see `legs::Legs::watch_media`): it travels
    /// with the leg when another call takes it over.
    pub(super) events_to: Option<EventsTo>,
}

impl AgentLeg {
    /// Calls the seat: in its console when its phone is on there, else its most recent
    /// registered contact. The pop-up's `call.phone` says which.
    pub async fn dial(
        services: &CallServices,
        agent: &str,
        mut call: CallInfo,
        local_ip: IpAddr,
        signals: &SignalTx,
    ) -> Result<AgentLeg, String> {
        if services.phones.has_phone(agent) {
            call.phone = "browser";
            return Self::dial_browser(services, agent, call, local_ip, signals).await;
        }
        call.phone = "sip";
        let caller = call.caller.clone();
        let binding = services
            .registrar
            .contacts(agent)
            .pop()
            .ok_or_else(|| format!("seat {agent} is not registered"))?;
        let transport = Transport::of_uri(&binding.contact);
        // A TLS seat is reached on the connection it registered over.
        let addr = if transport == Transport::Tls {
            binding.source
        } else {
            target(&binding.contact, binding.source)
        };
        let peer = Peer { addr, transport };
        let caller_user = if caller.is_empty() {
            "anonymous".to_string()
        } else {
            caller.clone()
        };
        let out = Outgoing {
            target: binding.contact.clone(),
            to: format!("<{}>", binding.contact),
            from: format!("\"12345 {caller_user}\" <sip:{caller_user}@{{via_host}}>"),
            peer,
            codecs: &[Codec::Pcmu, Codec::Pcma],
        };
        let (leg, call_id) = Self::invite(services, agent, out, local_ip, signals, None).await?;
        info!(%agent, leg = call_id, contact = binding.contact, "ringing a seat");
        services.phones.pop_up(agent, &call_id, call);
        Ok(leg)
    }

    /// Calls `number` out over the trunk that serves `platform` (a callback, another hotline,
    /// a unit's liaison), presenting the platform's caller ID, from our address towards the
    /// gateway (`fallback_ip` when none is found). Fails when no trunk serves the platform,
    /// its channels are all in use or the INVITE cannot be sent.
    pub async fn dial_number(
        services: &CallServices,
        number: &str,
        platform: &str,
        fallback_ip: IpAddr,
        signals: &SignalTx,
    ) -> Result<AgentLeg, String> {
        let plan = services.dialplan();
        let trunk = plan
            .trunks
            .for_platform(platform)
            .ok_or_else(|| format!("no trunk serves platform {platform}"))?;
        let local_ip = super::trunk::local_ip(services, trunk, fallback_ip);
        let channel = services.trunk_channels.take(trunk).ok_or_else(|| {
            format!(
                "every channel of trunk {} ({}) is in use",
                trunk.name, trunk.channels
            )
        })?;
        let peer = Peer {
            addr: trunk.gateway,
            transport: super::trunk::transport(trunk),
        };
        let uri = format!(
            "sip:{number}@{}{}",
            trunk.gateway,
            peer.transport.uri_param()
        );
        let caller_id = trunk.caller_id_for(platform);
        let codecs = super::trunk::codecs(trunk);
        let out = Outgoing {
            target: uri.clone(),
            to: format!("<sip:{number}@{}>", trunk.gateway),
            from: format!("<sip:{caller_id}@{{via_host}}>"),
            peer,
            codecs: &codecs,
        };
        let side = TrunkSide {
            credentials: trunk.credentials.clone(),
            authenticated: false,
            _channel: channel,
        };
        let (leg, call_id) =
            Self::invite(services, number, out, local_ip, signals, Some(side)).await?;
        info!(trunk = trunk.name, %number, %caller_id, leg = call_id, "calling out over the trunk");
        Ok(leg)
    }

    /// Sends the INVITE of a new SIP leg; the leg and its Call-ID.
    async fn invite(
        services: &CallServices,
        label: &str,
        out: Outgoing<'_>,
        local_ip: IpAddr,
        signals: &SignalTx,
        trunk: Option<TrunkSide>,
    ) -> Result<(AgentLeg, String), String> {
        let media = open_media(services, local_ip).await?;
        let transport = out.peer.transport;
        let local = SocketAddr::new(local_ip, services.endpoint.local_addr_for(transport).port());
        let via_host = local.to_string();
        let call_id = message::new_call_id(&local_ip.to_string());
        let offer = sdp::offer_codecs(
            local_ip,
            media.local_port(),
            rand::random::<u32>() as u64,
            out.codecs,
        );
        let text = format!(
            "INVITE {target} SIP/2.0\r\nVia: SIP/2.0/{t} {via_host};branch={branch};rport\r\nMax-Forwards: 70\r\n\
             From: {from};tag={tag}\r\nTo: {to}\r\n\
             Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:12345@{via_host}{tp}>\r\n\
             Allow: {allow}\r\nUser-Agent: hotline12345\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{offer}",
            target = out.target,
            from = out.from.replace("{via_host}", &via_host),
            to = out.to,
            t = transport.via_name(),
            branch = message::new_branch(),
            tag = message::new_tag(),
            tp = transport.uri_param(),
            allow = super::signal::ALLOWED_METHODS,
            len = offer.len(),
        );
        let invite = rsip::Request::try_from(text.as_str())
            .map_err(|e| format!("INVITE to {label}: {e}"))?;
        services
            .legs
            .lock()
            .expect("legs")
            .insert(call_id.clone(), signals.clone());
        if let Err(e) = services
            .endpoint
            .send_request(invite.clone(), out.peer)
            .await
        {
            services.legs.lock().expect("legs").remove(&call_id);
            return Err(format!("INVITE to {label} not sent: {e}"));
        }
        let leg = AgentLeg {
            agent: label.to_string(),
            call_id: call_id.clone(),
            phone: Phone::Sip(Box::new(SipLeg {
                invite,
                peer: out.peer,
                via_host,
                dialog: None,
                trunk,
            })),
            media,
            events_to: None,
        };
        Ok((leg, call_id))
    }

    /// A carrier challenged our INVITE (401 or 407): sends it again, once, with the trunk's
    /// credentials (the transaction layer ACKed the challenge). False when there is nothing to
    /// answer it with, or it was already answered: the challenge is then a refusal.
    pub async fn answer_challenge(
        &mut self,
        services: &CallServices,
        resp: &rsip::Response,
    ) -> bool {
        let Phone::Sip(sip) = &mut self.phone else {
            return false;
        };
        let Some(trunk) = sip.trunk.as_mut() else {
            return false;
        };
        let Some(credentials) = trunk.credentials.as_ref().filter(|_| !trunk.authenticated) else {
            return false;
        };
        let uri = sip.invite.uri.to_string();
        let Some((name, value)) = super::trunk::answer_challenge(resp, "INVITE", &uri, credentials)
        else {
            return false;
        };
        trunk.authenticated = true;
        let mut invite = sip.invite.clone();
        for header in ["via", "cseq", "authorization", "proxy-authorization"] {
            message::remove_header(&mut invite, header);
        }
        let via = format!(
            "SIP/2.0/{} {};branch={};rport",
            sip.peer.transport.via_name(),
            sip.via_host,
            message::new_branch()
        );
        invite
            .headers
            .unique_push(rsip::Header::Other("Via".into(), via));
        invite
            .headers
            .push(rsip::Header::Other("CSeq".into(), "2 INVITE".into()));
        invite.headers.push(rsip::Header::Other(name.into(), value));
        if let Err(e) = services
            .endpoint
            .send_request(invite.clone(), sip.peer)
            .await
        {
            warn!(leg = self.call_id, error = %e, "INVITE with credentials not sent");
            return false;
        }
        info!(leg = self.call_id, "the carrier's challenge answered");
        sip.invite = invite;
        true
    }

    /// Rings the seat's console phone: the leg's events come back as [`CallSignal::Phone`].
    async fn dial_browser(
        services: &CallServices,
        agent: &str,
        call: CallInfo,
        local_ip: IpAddr,
        signals: &SignalTx,
    ) -> Result<AgentLeg, String> {
        let media = open_media(services, local_ip).await?;
        let call_id = message::new_call_id(&local_ip.to_string());
        let tx = signals.clone();
        let id = call_id.clone();
        let sink: EventSink = std::sync::Arc::new(move |event| {
            let signal = CallSignal::Phone {
                call_id: id.clone(),
                event,
            };
            if super::directory::deliver(&tx, signal).is_err() {
                warn!(leg = id, "browser phone's event not delivered");
            }
        });
        let media_addr = SocketAddr::new(local_ip, media.local_port());
        let leg = match services
            .phones
            .ring(agent, &call_id, call, media_addr, sink)
            .await
        {
            Ok(leg) => leg,
            Err(e) => {
                media.close();
                return Err(e);
            }
        };
        info!(%agent, leg = call_id, "ringing a seat's browser phone");
        Ok(AgentLeg {
            agent: agent.to_string(),
            call_id,
            phone: Phone::Browser {
                leg,
                answered: false,
            },
            media,
            events_to: None,
        })
    }

    /// Which phone the call rings on, for the logs.
    pub fn phone_kind(&self) -> &'static str {
        match self.phone {
            Phone::Sip(_) => "sip",
            Phone::Browser { .. } => "browser",
        }
    }

    /// Withdraws the offer (CANCEL, RFC 3261 §9.1; a browser hears it on release).
    pub async fn cancel(&self, services: &CallServices) {
        let Phone::Sip(sip) = &self.phone else {
            return;
        };
        let mut cancel = sip.invite.clone();
        let n = message::cseq(&sip.invite).map_or(1, |(n, _)| n);
        cancel.method = rsip::Method::Cancel;
        cancel.body.clear();
        message::remove_header(&mut cancel, "cseq");
        message::remove_header(&mut cancel, "content-type");
        message::remove_header(&mut cancel, "content-length");
        message::remove_header(&mut cancel, "contact");
        cancel
            .headers
            .push(rsip::Header::Other("CSeq".into(), format!("{n} CANCEL")));
        cancel
            .headers
            .push(rsip::Header::Other("Content-Length".into(), "0".into()));
        if let Err(e) = services.endpoint.send_request(cancel, sip.peer).await {
            warn!(leg = self.call_id, error = %e, "CANCEL not sent");
        }
    }

    /// The softphone answered: ACK, and media towards its SDP answer.
    pub fn answered(&mut self, services: &CallServices, ok: &rsip::Response) -> Result<(), String> {
        let Phone::Sip(sip) = &mut self.phone else {
            return Err("a SIP answer on a browser leg".into());
        };
        let dialog = Dialog::new_uac(&sip.invite, ok);
        let ack = dialog.ack_for(ok, &sip.via_host, sip.peer.transport);
        services.endpoint.send_stateless(ack.into(), sip.peer);
        sip.dialog = Some(dialog);
        let answer =
            sdp::parse_answer(&String::from_utf8_lossy(&ok.body)).map_err(|e| e.to_string())?;
        self.media.start(
            answer.remote_rtp,
            answer.codec,
            answer.telephone_event_pt,
            sip.peer.addr.ip(),
        );
        services.phones.connected(&self.call_id);
        Ok(())
    }

    /// The browser phone answered and its media is up: the leg's media goes to its relay.
    pub fn answered_in_browser(
        &mut self,
        services: &CallServices,
        codec: Codec,
        telephone_event_pt: Option<u8>,
    ) -> Result<(), String> {
        let Phone::Browser { leg, answered } = &mut self.phone else {
            return Err("a browser answer on a SIP leg".into());
        };
        let relay = leg.relay_addr();
        *answered = true;
        self.media
            .start(relay, codec, telephone_event_pt, relay.ip());
        services.phones.connected(&self.call_id);
        Ok(())
    }

    /// True once the seat answered (and, on SIP, was ACKed).
    pub fn is_answered(&self) -> bool {
        match &self.phone {
            Phone::Sip(sip) => sip.dialog.is_some(),
            Phone::Browser { answered, .. } => *answered,
        }
    }

    /// Re-sends the ACK for a retransmitted 2xx.
    pub fn ack_again(&self, services: &CallServices, ok: &rsip::Response) {
        if let Phone::Sip(sip) = &self.phone {
            if let Some(d) = &sip.dialog {
                services.endpoint.send_stateless(
                    d.ack_for(ok, &sip.via_host, sip.peer.transport).into(),
                    sip.peer,
                );
            }
        }
    }

    /// Hangs up an answered leg (a browser hears it on release).
    pub async fn hang_up(&mut self, services: &CallServices) {
        let Phone::Sip(sip) = &mut self.phone else {
            return;
        };
        let (via_host, peer) = (sip.via_host.clone(), sip.peer);
        if let Some(d) = sip.dialog.as_mut() {
            let bye = d.new_request(rsip::Method::Bye, &via_host, peer.transport);
            if let Err(e) = services.endpoint.send_request(bye, peer).await {
                warn!(leg = self.call_id, error = %e, "BYE to the seat not sent");
            }
        }
    }

    /// Tells the seat how its transfer went: a NOTIFY of the implicit `refer` subscription
    /// with `status` (e.g. `200 OK`) as a SIP fragment, ending the subscription (RFC 3515).
    pub async fn notify_transfer(&mut self, services: &CallServices, status: &str) {
        let Phone::Sip(sip) = &mut self.phone else {
            return;
        };
        let (via_host, peer) = (sip.via_host.clone(), sip.peer);
        let Some(d) = sip.dialog.as_mut() else {
            return;
        };
        let mut notify = d.new_request(rsip::Method::Notify, &via_host, peer.transport);
        for (name, value) in [
            ("Event", "refer"),
            ("Subscription-State", "terminated;reason=noresource"),
            ("Contact", &format!("<sip:12345@{via_host}>")),
        ] {
            notify
                .headers
                .push(rsip::Header::Other(name.into(), value.into()));
        }
        message::set_body(
            &mut notify,
            "message/sipfrag;version=2.0",
            format!("SIP/2.0 {status}\r\n").into_bytes(),
        );
        if let Err(e) = services.endpoint.send_request(notify, peer).await {
            warn!(leg = self.call_id, error = %e, "NOTIFY to the seat not sent");
        }
    }

    /// Lets go of the leg; the console hears that the call is over. A softphone leg the seat
    /// never answered stays known to the manager a while, so that an answer crossing its
    /// CANCEL is ACKed and hung up ([`super::late`]).
    pub fn release(&self, services: &CallServices) {
        self.media.close();
        services.phones.release(&self.call_id, self.is_answered());
        let Phone::Sip(sip) = &self.phone else {
            return;
        };
        services.legs.lock().expect("legs").remove(&self.call_id);
        if sip.dialog.is_none() {
            services
                .late_legs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(
                    &self.call_id,
                    sip.invite.clone(),
                    sip.peer,
                    sip.via_host.clone(),
                );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn contact_or_source() {
        let src = "203.0.113.9:40000".parse().unwrap();
        assert_eq!(
            super::target("sip:1001@127.0.0.1:5070", src),
            "127.0.0.1:5070".parse::<std::net::SocketAddr>().unwrap()
        );
        assert_eq!(
            super::target("sip:1001@192.168.1.20:5060;transport=udp", src),
            src,
            "behind NAT"
        );
        assert_eq!(super::target("sip:1001@phone.example", src), src);
        let lan = "192.168.1.20:5070".parse().unwrap();
        assert_eq!(
            super::target("sip:1001@192.168.1.20:5060", lan),
            "192.168.1.20:5060".parse::<std::net::SocketAddr>().unwrap()
        );
    }
}
