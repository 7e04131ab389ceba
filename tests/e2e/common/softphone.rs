//! An operator's softphone for tests: registers with digest authentication (computed here
//! with the md-5 and sha2 crates, independently of the server's code), and answers the calls
//! the server offers it, as a SIP user agent server written as text.

use std::net::SocketAddr;
use std::time::Duration;

use md5::{Digest, Md5};
use sha2::Sha256;

use super::phone::{cseq_method, header_value, TestPhone};
use super::server::TestServer;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn h(alg: &str, s: &str) -> String {
    match alg {
        "MD5" => hex(&Md5::digest(s.as_bytes())),
        _ => hex(&Sha256::digest(s.as_bytes())),
    }
}

/// Parses `key="value"` out of a challenge.
fn param(challenge: &str, key: &str) -> String {
    let start = challenge.find(&format!("{key}=")).unwrap() + key.len() + 1;
    let rest = &challenge[start..];
    match rest.strip_prefix('"') {
        Some(q) => q[..q.find('"').unwrap()].to_string(),
        None => rest.split([',', ' ']).next().unwrap().to_string(),
    }
}

/// A seat's softphone.
pub struct Softphone {
    pub phone: TestPhone,
    seat: String,
    call_id: String,
    cseq: u32,
    /// The last Authorization this phone sent (what an eavesdropper could capture).
    pub last_authorization: Option<String>,
    /// The last INVITE this phone answered.
    pub last_invite: Option<rsip::Request>,
}

impl Softphone {
    pub async fn new(server: &TestServer, seat: &str) -> Softphone {
        Self::with_phone(TestPhone::udp(server.sip).await, seat)
    }

    /// A softphone of `seat` on another loopback address (another host to the server).
    pub async fn new_from(server: &TestServer, seat: &str, ip: &str) -> Softphone {
        Self::with_phone(TestPhone::udp_from(server.sip, ip).await, seat)
    }

    /// A softphone of `seat` signalling through `phone`.
    pub fn with_phone(phone: TestPhone, seat: &str) -> Softphone {
        Softphone {
            phone,
            seat: seat.into(),
            call_id: format!("reg-{:x}@test", rand::random::<u64>()),
            cseq: 0,
            last_authorization: None,
            last_invite: None,
        }
    }

    /// Sends a REGISTER; returns the response's text.
    pub async fn register(
        &mut self,
        contact: &str,
        expires: Option<u32>,
        auth: Option<String>,
    ) -> String {
        self.cseq += 1;
        let server = self.phone.server_addr();
        let local = self.phone.local_addr();
        let mut msg = format!(
            "REGISTER sip:{server} SIP/2.0\r\nVia: SIP/2.0/{t} {local};branch=z9hG4bK{:x};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{seat}@{server}>;tag=r{:x}\r\nTo: <sip:{seat}@{server}>\r\n\
             Call-ID: {cid}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact}\r\n",
            rand::random::<u64>(),
            rand::random::<u32>(),
            seat = self.seat,
            cid = self.call_id,
            cseq = self.cseq,
            t = self.phone.transport(),
        );
        if let Some(e) = expires {
            msg.push_str(&format!("Expires: {e}\r\n"));
        }
        if let Some(a) = auth {
            msg.push_str(&format!("Authorization: {a}\r\n"));
            self.last_authorization = Some(a);
        }
        msg.push_str("Content-Length: 0\r\n\r\n");
        self.phone.send_raw(msg.as_bytes()).await;
        loop {
            let resp = self
                .phone
                .recv_response(Duration::from_secs(5))
                .await
                .expect("a response");
            if resp.to_string().contains("REGISTER") {
                return resp.to_string();
            }
        }
    }

    /// Registers, answering the challenge of `alg` with `password`.
    pub async fn register_with(
        &mut self,
        alg: &str,
        password: &str,
        contact: &str,
        expires: Option<u32>,
    ) -> String {
        let challenged = self.register(contact, expires, None).await;
        assert!(challenged.starts_with("SIP/2.0 401"), "{challenged}");
        let challenge = challenged
            .lines()
            .filter_map(|l| l.strip_prefix("WWW-Authenticate: "))
            .find(|c| c.contains(&format!("algorithm={alg}")))
            .expect("a challenge of the algorithm")
            .to_string();
        let (realm, nonce) = (param(&challenge, "realm"), param(&challenge, "nonce"));
        let uri = format!("sip:{}", self.phone.server_addr());
        let ha1 = h(alg, &format!("{}:{realm}:{password}", self.seat));
        let ha2 = h(alg, &format!("REGISTER:{uri}"));
        let response = h(alg, &format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
        let auth = format!(
            "Digest username=\"{}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", \
             algorithm={alg}, cnonce=\"c0ffee\", nc=00000001, qop=auth",
            self.seat
        );
        self.register(contact, expires, Some(auth)).await
    }
}

impl Softphone {
    /// A softphone of `seat` signed in with its development password (`dev-<seat>`).
    pub async fn signed_in(server: &TestServer, seat: &str) -> Softphone {
        let mut phone = Softphone::new(server, seat).await;
        phone.sign_in(&format!("dev-{seat}")).await;
        phone
    }

    /// Waits up to `wait` for the server's INVITE, answers it and waits for the ACK; returns
    /// the INVITE and where the server wants this leg's RTP. Panics with `what` when it does
    /// not ring.
    pub async fn take_call(&mut self, wait: Duration, what: &str) -> (rsip::Request, SocketAddr) {
        let invite = self
            .expect(rsip::Method::Invite, wait)
            .await
            .unwrap_or_else(|| panic!("no INVITE: {what}"));
        let rtp = self.answer(&invite).await;
        self.expect(rsip::Method::Ack, Duration::from_secs(5))
            .await
            .expect("ACK");
        (invite, rtp)
    }

    /// Registers with the right password and checks the 200.
    pub async fn sign_in(&mut self, password: &str) {
        let contact = format!("<sip:{}@{}>", self.seat, self.phone.local_addr());
        let ok = self
            .register_with("MD5", password, &contact, Some(600))
            .await;
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    }

    /// Waits for a request of `method` from the server.
    pub async fn expect(&mut self, method: rsip::Method, wait: Duration) -> Option<rsip::Request> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.phone.recv(left).await {
                Some(rsip::SipMessage::Request(r)) if r.method == method => return Some(r),
                Some(_) => continue,
                None => return None,
            }
        }
    }

    /// Answers a request with `status` (and an SDP body for a 200 to an INVITE).
    pub async fn respond(
        &mut self,
        req: &rsip::Request,
        status: &str,
        to_tag: Option<&str>,
        sdp: Option<&str>,
    ) {
        self.respond_with(req, status, to_tag, "", sdp).await
    }

    /// Like [`Softphone::respond`], with `extra` header lines (each ending in CRLF).
    pub async fn respond_with(
        &mut self,
        req: &rsip::Request,
        status: &str,
        to_tag: Option<&str>,
        extra: &str,
        sdp: Option<&str>,
    ) {
        let text = req.to_string();
        let mut out = format!("SIP/2.0 {status}\r\n{extra}");
        for line in text.lines() {
            if line.to_ascii_lowercase().starts_with("via:") {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        for name in ["From", "Call-ID", "CSeq"] {
            out.push_str(&format!(
                "{name}: {}\r\n",
                header_value(&text, name).unwrap()
            ));
        }
        let to = header_value(&text, "To").unwrap();
        match to_tag {
            Some(tag) if !to.contains("tag=") => out.push_str(&format!("To: {to};tag={tag}\r\n")),
            _ => out.push_str(&format!("To: {to}\r\n")),
        }
        out.push_str(&format!(
            "Contact: <sip:{}@{}>\r\n",
            self.seat,
            self.phone.local_addr()
        ));
        match sdp {
            Some(sdp) => out.push_str(&format!(
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            )),
            None => out.push_str("Content-Length: 0\r\n\r\n"),
        }
        self.phone.send_raw(out.as_bytes()).await;
    }

    /// Sends `method` within the dialog of an INVITE this seat answered with `answer` (its
    /// To tag is "seat"), with CSeq `cseq` and `extra` headers (each ending in CRLF).
    pub async fn send_in_dialog(
        &mut self,
        invite: &rsip::Request,
        method: &str,
        cseq: u32,
        extra: &str,
    ) {
        let text = invite.to_string();
        let target = header_value(&text, "Contact").unwrap();
        let target = target.trim_start_matches('<').split('>').next().unwrap();
        let local = self.phone.local_addr();
        let out = format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/{t} {local};branch=z9hG4bK{branch:x};rport\r\n\
             Max-Forwards: 70\r\nFrom: {to};tag=seat\r\nTo: {from}\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} {method}\r\nContact: <sip:{seat}@{local}>\r\n{extra}Content-Length: 0\r\n\r\n",
            branch = rand::random::<u64>(),
            to = header_value(&text, "To").unwrap(),
            from = header_value(&text, "From").unwrap(),
            call_id = header_value(&text, "Call-ID").unwrap(),
            seat = self.seat,
            t = self.phone.transport(),
        );
        self.phone.send_raw(out.as_bytes()).await;
    }

    /// Waits for the response to a request of `method` this seat sent.
    pub async fn expect_response(
        &mut self,
        method: &str,
        wait: Duration,
    ) -> Option<rsip::Response> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.phone.recv(left).await {
                Some(rsip::SipMessage::Response(r)) if cseq_method(&r) == method => return Some(r),
                Some(_) => continue,
                None => return None,
            }
        }
    }

    /// Answers an INVITE (180, then 200 with PCMU); returns where the server wants this
    /// leg's RTP.
    pub async fn answer(&mut self, invite: &rsip::Request) -> SocketAddr {
        self.last_invite = Some(invite.clone());
        self.respond(invite, "180 Ringing", Some("seat"), None)
            .await;
        let rtp = self.phone.rtp.local_addr().unwrap();
        let sdp = format!(
            "v=0\r\no=seat 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
            rtp.port()
        );
        self.respond(invite, "200 OK", Some("seat"), Some(&sdp))
            .await;
        let offer = String::from_utf8_lossy(&invite.body).to_string();
        let ip = offer
            .lines()
            .find_map(|l| l.strip_prefix("c=IN IP4 "))
            .unwrap()
            .trim();
        let port = offer
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap();
        format!("{ip}:{port}").parse().unwrap()
    }
}

/// Whether `authorization` (an Authorization or Proxy-Authorization value) answers a digest
/// challenge for `method` with `password`, computed here independently of the server's code.
pub fn digest_answers(authorization: &str, method: &str, password: &str) -> bool {
    let fields: std::collections::HashMap<String, String> = authorization
        .trim_start_matches("Digest")
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect();
    let param = |_: &str, key: &str| fields.get(key).cloned().unwrap_or_default();
    let alg = if param("", "algorithm").eq_ignore_ascii_case("SHA-256") {
        "SHA-256"
    } else {
        "MD5"
    };
    let (user, realm, nonce, uri) = (
        param(authorization, "username"),
        param(authorization, "realm"),
        param(authorization, "nonce"),
        param(authorization, "uri"),
    );
    let ha1 = h(alg, &format!("{user}:{realm}:{password}"));
    let ha2 = h(alg, &format!("{method}:{uri}"));
    let expected = if authorization.contains("qop=") {
        let (nc, cnonce, qop) = (
            param(authorization, "nc"),
            param(authorization, "cnonce"),
            param(authorization, "qop"),
        );
        h(alg, &format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))
    } else {
        h(alg, &format!("{ha1}:{nonce}:{ha2}"))
    };
    param(authorization, "response") == expected
}

/// The answer to a digest challenge (a WWW-Authenticate or Proxy-Authenticate value) for
/// `method` on `uri` as `user` with `password`, computed here independently of the server.
pub fn authorization(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
) -> String {
    let alg = if challenge.contains("SHA-256") {
        "SHA-256"
    } else {
        "MD5"
    };
    let (realm, nonce) = (param(challenge, "realm"), param(challenge, "nonce"));
    let ha1 = h(alg, &format!("{user}:{realm}:{password}"));
    let ha2 = h(alg, &format!("{method}:{uri}"));
    let response = h(alg, &format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{response}\", algorithm={alg}, cnonce=\"c0ffee\", nc=00000001, qop=auth"
    )
}
