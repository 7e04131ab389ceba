//! A dialog (RFC 3261 §12): what both ends remember after an INVITE is answered, to send
//! requests within the call (BYE, ACK): Call-ID, the local and remote URIs with their tags, the
//! remote target (the peer's Contact), the route set and the local CSeq.

use super::message;
use super::transaction::Transport;

/// One side of an established dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// The Call-ID.
    pub call_id: String,
    /// Our From/To value (name-addr with our tag).
    pub local: String,
    /// Their From/To value (name-addr with their tag).
    pub remote: String,
    /// Where requests go: the peer's Contact URI.
    pub remote_target: String,
    /// Route headers for requests, in order.
    pub route_set: Vec<String>,
    /// The CSeq of our last request.
    pub local_cseq: u32,
}

impl Dialog {
    /// The UAS side, from the INVITE received and the 2xx we sent (RFC 3261 §12.1.1).
    pub fn new_uas(invite: &rsip::Request, ok: &rsip::Response) -> Dialog {
        Dialog {
            call_id: message::call_id(invite).unwrap_or_default(),
            local: message::header_value(ok, "to").unwrap_or_default(),
            remote: message::header_value(invite, "from").unwrap_or_default(),
            remote_target: contact_uri(invite).unwrap_or_else(|| invite_origin(invite)),
            route_set: message::header_values(invite, "record-route"),
            local_cseq: 0,
        }
    }

    /// The UAC side, from the INVITE we sent and the 2xx received (RFC 3261 §12.1.2).
    pub fn new_uac(invite: &rsip::Request, ok: &rsip::Response) -> Dialog {
        let mut route_set = message::header_values(ok, "record-route");
        route_set.reverse();
        Dialog {
            call_id: message::call_id(invite).unwrap_or_default(),
            local: message::header_value(invite, "from").unwrap_or_default(),
            remote: message::header_value(ok, "to").unwrap_or_default(),
            remote_target: contact_uri(ok).unwrap_or_else(|| invite.uri.to_string()),
            route_set,
            local_cseq: message::cseq(invite).map_or(1, |(n, _)| n),
        }
    }

    /// A new request within the dialog (BYE, INFO, …), with the next CSeq and a fresh branch.
    pub fn new_request(
        &mut self,
        method: rsip::Method,
        via_host: &str,
        transport: Transport,
    ) -> rsip::Request {
        self.local_cseq += 1;
        self.build(method, self.local_cseq, via_host, transport)
    }

    /// The ACK of the 2xx to our INVITE (UAC side), with the INVITE's CSeq number.
    pub fn ack_for(
        &self,
        ok: &rsip::Response,
        via_host: &str,
        transport: Transport,
    ) -> rsip::Request {
        let n = message::cseq(ok).map_or(self.local_cseq, |(n, _)| n);
        self.build(rsip::Method::Ack, n, via_host, transport)
    }

    fn build(
        &self,
        method: rsip::Method,
        cseq: u32,
        via_host: &str,
        transport: Transport,
    ) -> rsip::Request {
        let mut headers = rsip::Headers::default();
        let mut push =
            |name: &str, value: String| headers.push(rsip::Header::Other(name.into(), value));
        push(
            "Via",
            format!(
                "SIP/2.0/{} {via_host};branch={};rport",
                transport.via_name(),
                message::new_branch()
            ),
        );
        for route in &self.route_set {
            push("Route", route.clone());
        }
        push("Max-Forwards", "70".into());
        push("From", self.local.clone());
        push("To", self.remote.clone());
        push("Call-ID", self.call_id.clone());
        push("CSeq", format!("{cseq} {method}"));
        push("User-Agent", "hotline12345".into());
        push("Content-Length", "0".into());
        let uri = rsip::Uri::try_from(self.remote_target.as_str())
            .unwrap_or_else(|_| rsip::Uri::try_from("sip:invalid").expect("static URI"));
        rsip::Request {
            method,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }
}

fn contact_uri(msg: &impl rsip::message::HasHeaders) -> Option<String> {
    message::header_value(msg, "contact")
        .map(|c| message::addr_uri(&c))
        .filter(|u| !u.is_empty())
}

/// Without a Contact, the best target is the From URI.
fn invite_origin(invite: &rsip::Request) -> String {
    message::header_value(invite, "from")
        .map(|f| message::addr_uri(&f))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> rsip::Request {
        let text = "INVITE sip:12345@127.0.0.1 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
            Record-Route: <sip:10.0.0.1;lr>\r\n\
            From: <sip:087163601234@127.0.0.1>;tag=caller\r\n\
            To: <sip:12345@127.0.0.1>\r\n\
            Call-ID: cid-9\r\n\
            CSeq: 3 INVITE\r\n\
            Contact: <sip:087163601234@127.0.0.1:5070;transport=udp>\r\n\
            Content-Length: 0\r\n\r\n";
        rsip::Request::try_from(text).unwrap()
    }

    #[test]
    fn a_bye_from_the_uas_side() {
        let inv = invite();
        let ok = message::response_for(&inv, rsip::StatusCode::OK, Some("us"));
        let mut d = Dialog::new_uas(&inv, &ok);
        let bye = d.new_request(rsip::Method::Bye, "127.0.0.1:5060", Transport::Udp);
        let text = bye.to_string();
        assert!(
            text.to_ascii_lowercase()
                .starts_with("bye sip:087163601234@127.0.0.1:5070;transport=udp sip/2.0"),
            "{text}"
        );
        assert_eq!(message::from_tag(&bye).as_deref(), Some("us"));
        assert_eq!(message::to_tag(&bye).as_deref(), Some("caller"));
        assert_eq!(message::cseq(&bye), Some((1, "BYE".into())));
        assert_eq!(message::header_values(&bye, "route"), ["<sip:10.0.0.1;lr>"]);
        let again = d.new_request(rsip::Method::Bye, "127.0.0.1:5060", Transport::Udp);
        assert_eq!(message::cseq(&again), Some((2, "BYE".into())));
        assert_ne!(
            message::top_via(&bye),
            message::top_via(&again),
            "fresh branch"
        );
        // It parses back.
        assert!(rsip::Request::try_from(text.as_str()).is_ok());
    }

    #[test]
    fn the_uac_side_acks_with_the_invite_cseq() {
        let inv = invite();
        let mut ok = message::response_for(&inv, rsip::StatusCode::OK, Some("agent"));
        ok.headers.push(rsip::Header::Other(
            "Contact".into(),
            "<sip:op1@127.0.0.1:5090>".into(),
        ));
        let d = Dialog::new_uac(&inv, &ok);
        let ack = d.ack_for(&ok, "127.0.0.1:5060", Transport::Tcp);
        assert_eq!(message::cseq(&ack), Some((3, "ACK".into())));
        assert!(ack
            .to_string()
            .starts_with("ACK sip:op1@127.0.0.1:5090 SIP/2.0"));
        assert!(message::top_via(&ack).unwrap().starts_with("SIP/2.0/TCP"));
        assert_eq!(message::to_tag(&ack).as_deref(), Some("agent"));
    }
}
