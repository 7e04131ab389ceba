//! The server's own call to an operator's softphone (the B2BUA's second leg): INVITE to the
//! seat's registered contact with our SDP offer, CANCEL when the ACD withdraws the offer, ACK
//! and media once it answers, BYE at the end. Its responses and the operator's BYE reach the
//! caller's call task through the call manager, by the leg's Call-ID.

use std::net::{IpAddr, SocketAddr};

use tracing::{info, warn};

use super::directory::SignalTx;
use super::services::CallServices;
use crate::media::sdp;
use crate::media::session::MediaSession;
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

/// One call to a seat.
pub(super) struct AgentLeg {
    /// The seat.
    pub agent: String,
    /// This leg's Call-ID.
    pub call_id: String,
    invite: rsip::Request,
    peer: Peer,
    via_host: String,
    /// The leg's media (its own RTP port, SSRC, sequence and timestamps).
    pub media: MediaSession,
    dialog: Option<Dialog>,
}

impl AgentLeg {
    /// Calls the seat's most recent registered contact.
    pub async fn dial(
        services: &CallServices,
        agent: &str,
        caller: &str,
        local_ip: IpAddr,
        signals: &SignalTx,
    ) -> Result<AgentLeg, String> {
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
        let media =
            MediaSession::open(&services.rtp_ports, local_ip, services.limits.media_timeout)
                .await
                .map_err(|e| e.to_string())?;
        let local = SocketAddr::new(local_ip, services.endpoint.local_addr_for(transport).port());
        let via_host = local.to_string();
        let call_id = message::new_call_id(&local_ip.to_string());
        let offer = sdp::offer(local_ip, media.local_port(), rand::random::<u32>() as u64);
        let caller_user = if caller.is_empty() {
            "anonymous"
        } else {
            caller
        };
        let text = format!(
            "INVITE {contact} SIP/2.0\r\nVia: SIP/2.0/{t} {via_host};branch={branch};rport\r\nMax-Forwards: 70\r\n\
             From: \"12345 {caller_user}\" <sip:{caller_user}@{via_host}>;tag={tag}\r\nTo: <{contact}>\r\n\
             Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:12345@{via_host}{tp}>\r\n\
             Allow: {allow}\r\nUser-Agent: hotline12345\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{offer}",
            contact = binding.contact,
            t = transport.via_name(),
            branch = message::new_branch(),
            tag = message::new_tag(),
            tp = transport.uri_param(),
            allow = super::signal::ALLOWED_METHODS,
            len = offer.len(),
        );
        let invite = rsip::Request::try_from(text.as_str())
            .map_err(|e| format!("INVITE to {agent}: {e}"))?;
        services
            .legs
            .lock()
            .expect("legs")
            .insert(call_id.clone(), signals.clone());
        if let Err(e) = services.endpoint.send_request(invite.clone(), peer).await {
            services.legs.lock().expect("legs").remove(&call_id);
            return Err(format!("INVITE to {agent} not sent: {e}"));
        }
        info!(%agent, leg = call_id, contact = binding.contact, "ringing a seat");
        Ok(AgentLeg {
            agent: agent.to_string(),
            call_id,
            invite,
            peer,
            via_host,
            media,
            dialog: None,
        })
    }

    /// Withdraws the offer (CANCEL, RFC 3261 §9.1).
    pub async fn cancel(&self, services: &CallServices) {
        let mut cancel = self.invite.clone();
        cancel.method = rsip::Method::Cancel;
        cancel.body.clear();
        message::remove_header(&mut cancel, "cseq");
        message::remove_header(&mut cancel, "content-type");
        message::remove_header(&mut cancel, "content-length");
        message::remove_header(&mut cancel, "contact");
        cancel
            .headers
            .push(rsip::Header::Other("CSeq".into(), "1 CANCEL".into()));
        cancel
            .headers
            .push(rsip::Header::Other("Content-Length".into(), "0".into()));
        if let Err(e) = services.endpoint.send_request(cancel, self.peer).await {
            warn!(leg = self.call_id, error = %e, "CANCEL not sent");
        }
    }

    /// The seat answered: ACK, and media towards its SDP answer.
    pub fn answered(&mut self, services: &CallServices, ok: &rsip::Response) -> Result<(), String> {
        let dialog = Dialog::new_uac(&self.invite, ok);
        let ack = dialog.ack_for(ok, &self.via_host, self.peer.transport);
        services.endpoint.send_stateless(ack.into(), self.peer);
        self.dialog = Some(dialog);
        let answer =
            sdp::parse_answer(&String::from_utf8_lossy(&ok.body)).map_err(|e| e.to_string())?;
        self.media.start(
            answer.remote_rtp,
            answer.codec,
            answer.telephone_event_pt,
            self.peer.addr.ip(),
        );
        Ok(())
    }

    /// True once the seat answered (and was ACKed).
    pub fn is_answered(&self) -> bool {
        self.dialog.is_some()
    }

    /// Re-sends the ACK for a retransmitted 2xx.
    pub fn ack_again(&self, services: &CallServices, ok: &rsip::Response) {
        if let Some(d) = &self.dialog {
            services.endpoint.send_stateless(
                d.ack_for(ok, &self.via_host, self.peer.transport).into(),
                self.peer,
            );
        }
    }

    /// Hangs up an answered leg.
    pub async fn hang_up(&mut self, services: &CallServices) {
        if let Some(d) = self.dialog.as_mut() {
            let bye = d.new_request(rsip::Method::Bye, &self.via_host, self.peer.transport);
            if let Err(e) = services.endpoint.send_request(bye, self.peer).await {
                warn!(leg = self.call_id, error = %e, "BYE to the seat not sent");
            }
        }
    }

    /// Tells the seat how its transfer went: a NOTIFY of the implicit `refer` subscription
    /// with `status` (e.g. `200 OK`) as a SIP fragment, ending the subscription (RFC 3515).
    pub async fn notify_transfer(&mut self, services: &CallServices, status: &str) {
        let Some(d) = self.dialog.as_mut() else {
            return;
        };
        let mut notify = d.new_request(rsip::Method::Notify, &self.via_host, self.peer.transport);
        for (name, value) in [
            ("Event", "refer"),
            ("Subscription-State", "terminated;reason=noresource"),
            ("Contact", &format!("<sip:12345@{}>", self.via_host)),
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
        if let Err(e) = services.endpoint.send_request(notify, self.peer).await {
            warn!(leg = self.call_id, error = %e, "NOTIFY to the seat not sent");
        }
    }

    /// Forgets the leg in the manager's table.
    /// Lets go of the leg. One the seat never answered stays known to the manager a while,
    /// so that an answer crossing its CANCEL is ACKed and hung up ([`super::late`]).
    pub fn release(&self, services: &CallServices) {
        self.media.close();
        services.legs.lock().expect("legs").remove(&self.call_id);
        if self.dialog.is_none() {
            services
                .late_legs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(
                    &self.call_id,
                    self.invite.clone(),
                    self.peer,
                    self.via_host.clone(),
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
            "127.0.0.1:5070".parse().unwrap()
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
            "192.168.1.20:5060".parse().unwrap()
        );
    }
}
