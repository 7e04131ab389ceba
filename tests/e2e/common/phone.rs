//! A small test phone: writes SIP requests as text (independently of the server's own SIP code),
//! reads responses with rsip, and sends and receives RTP on a socket of its own.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

/// A byte stream the phone signals over (TCP, or TLS over TCP).
pub trait SipStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + Sync {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + Sync> SipStream for T {}

/// The test phone's signalling transport.
pub enum Link {
    Udp(UdpSocket),
    /// A stream, what is read of it and not yet framed, and its Via name (TCP, TLS).
    Stream(Box<dyn SipStream>, Vec<u8>, &'static str),
}

/// A phone that calls the hotline.
pub struct TestPhone {
    link: Link,
    server: SocketAddr,
    local: SocketAddr,
    /// The phone's RTP socket.
    pub rtp: UdpSocket,
}

/// One call placed by the test phone.
#[derive(Debug, Clone)]
pub struct Call {
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
    pub branch: String,
    pub caller_uri: String,
    pub request_uri: String,
    pub cseq: u32,
    /// The SDP the server answered with.
    pub answer: Option<String>,
}

fn random_token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl TestPhone {
    /// A phone on UDP.
    pub async fn udp(server: SocketAddr) -> Self {
        Self::udp_from(server, "127.0.0.1").await
    }

    /// A phone on UDP at another loopback address (`127.0.0.2`, …): another host, as far as
    /// the server can tell.
    pub async fn udp_from(server: SocketAddr, ip: &str) -> Self {
        let sock = UdpSocket::bind(format!("{ip}:0")).await.unwrap();
        let local = sock.local_addr().unwrap();
        Self {
            link: Link::Udp(sock),
            server,
            local,
            rtp: UdpSocket::bind(format!("{ip}:0")).await.unwrap(),
        }
    }

    /// A phone on UDP signalling from `sip`, a socket bound before the server started (a
    /// carrier's gateway whose address the server's dialplan names).
    pub async fn udp_bound(sip: std::net::UdpSocket, server: SocketAddr) -> Self {
        sip.set_nonblocking(true).unwrap();
        let sock = UdpSocket::from_std(sip).unwrap();
        let local = sock.local_addr().unwrap();
        Self {
            link: Link::Udp(sock),
            server,
            local,
            rtp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    /// A phone on TCP.
    pub async fn tcp(server: SocketAddr) -> Self {
        let stream = TcpStream::connect(server).await.unwrap();
        let local = stream.local_addr().unwrap();
        Self {
            link: Link::Stream(Box::new(stream), Vec::new(), "TCP"),
            server,
            local,
            rtp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    /// A phone on SIP over TLS to `server` (the server's `sips=` address), trusting the
    /// certificate in the PEM file `ca`.
    pub async fn tls(server: SocketAddr, ca: &std::path::Path) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(ca).unwrap();
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = TcpStream::connect(server).await.unwrap();
        let local = tcp.local_addr().unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = connector.connect(name, tcp).await.expect("TLS handshake");
        Self {
            link: Link::Stream(Box::new(stream), Vec::new(), "TLS"),
            server,
            local,
            rtp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    /// The Via name of the phone's transport (UDP, TCP, TLS).
    pub fn transport(&self) -> &'static str {
        match self.link {
            Link::Udp(_) => "UDP",
            Link::Stream(_, _, name) => name,
        }
    }

    /// Sends raw bytes to the server.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        match &mut self.link {
            Link::Udp(s) => {
                s.send_to(bytes, self.server).await.unwrap();
            }
            Link::Stream(s, _, _) => s.write_all(bytes).await.unwrap(),
        }
    }

    /// The next SIP message from the server, or None after `wait`.
    pub async fn recv(&mut self, wait: Duration) -> Option<rsip::SipMessage> {
        match &mut self.link {
            Link::Udp(s) => {
                let mut buf = vec![0u8; 65536];
                let (n, _) = timeout(wait, s.recv_from(&mut buf)).await.ok()?.ok()?;
                Some(rsip::SipMessage::try_from(&buf[..n]).expect("server sent valid SIP"))
            }
            Link::Stream(s, pending, _) => loop {
                if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&pending[..end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (n, v) = l.split_once(':')?;
                            n.trim()
                                .eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if pending.len() >= end + 4 + len {
                        let msg: Vec<u8> = pending.drain(..end + 4 + len).collect();
                        return Some(rsip::SipMessage::try_from(msg).expect("valid SIP"));
                    }
                }
                let mut chunk = vec![0u8; 16384];
                let n = timeout(wait, s.read(&mut chunk)).await.ok()?.ok()?;
                if n == 0 {
                    return None;
                }
                pending.extend_from_slice(&chunk[..n]);
            },
        }
    }

    /// The next response, skipping requests (which are returned through `requests`).
    pub async fn recv_response(&mut self, wait: Duration) -> Option<rsip::Response> {
        loop {
            match self.recv(wait).await? {
                rsip::SipMessage::Response(r) => return Some(r),
                rsip::SipMessage::Request(_) => continue,
            }
        }
    }

    /// An SDP offer for PCMU, PCMA and telephone-event on the phone's RTP port.
    pub fn offer(&self) -> String {
        let port = self.rtp.local_addr().unwrap().port();
        format!(
            "v=0\r\no=test 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        )
    }

    /// Sends an INVITE from `caller` to `called`; returns the call (not yet answered).
    pub async fn invite(&mut self, caller: &str, called: &str, extra_headers: &str) -> Call {
        let sdp = self.offer();
        self.invite_with_body(caller, called, extra_headers, &sdp)
            .await
    }

    /// Sends an INVITE with the given SDP body.
    pub async fn invite_with_body(
        &mut self,
        caller: &str,
        called: &str,
        extra_headers: &str,
        sdp: &str,
    ) -> Call {
        let call_id = format!("{}@test", random_token());
        self.invite_with_call_id(&call_id, caller, called, extra_headers, sdp)
            .await
    }

    /// Sends an INVITE of a new dialog (new From tag) with the given Call-ID, as a UA that
    /// reuses Call-IDs would.
    pub async fn invite_with_call_id(
        &mut self,
        call_id: &str,
        caller: &str,
        called: &str,
        extra_headers: &str,
        sdp: &str,
    ) -> Call {
        let call = Call {
            call_id: call_id.to_string(),
            from_tag: random_token(),
            to_tag: None,
            branch: format!("z9hG4bK{}", random_token()),
            caller_uri: format!("sip:{caller}@127.0.0.1"),
            request_uri: format!("sip:{called}@{}", self.server),
            cseq: 1,
            answer: None,
        };
        self.send_invite(call, called, extra_headers, sdp).await
    }

    /// Sends the INVITE of `call` (again, for a retransmission or a stale copy).
    pub async fn send_invite(
        &mut self,
        call: Call,
        called: &str,
        extra_headers: &str,
        sdp: &str,
    ) -> Call {
        let caller = call
            .caller_uri
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        let msg = format!(
            "INVITE {ruri} SIP/2.0\r\n\
             Via: SIP/2.0/{t} {local};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <{from}>;tag={ftag}\r\n\
             To: <sip:{called}@{server}>\r\n\
             Call-ID: {cid}\r\n\
             CSeq: 1 INVITE\r\n\
             Contact: <sip:{caller}@{local}>\r\n\
             {extra}Content-Type: application/sdp\r\n\
             Content-Length: {len}\r\n\r\n{sdp}",
            ruri = call.request_uri,
            t = self.transport(),
            local = self.local,
            branch = call.branch,
            from = call.caller_uri,
            ftag = call.from_tag,
            server = self.server,
            cid = call.call_id,
            extra = extra_headers,
            len = sdp.len(),
        );
        self.send_raw(msg.as_bytes()).await;
        call
    }

    /// Waits for the final response to an INVITE; records the To tag and SDP answer.
    pub async fn final_response(&mut self, call: &mut Call) -> rsip::Response {
        loop {
            let resp = self
                .recv_response(Duration::from_secs(10))
                .await
                .expect("a response to the INVITE");
            let code = resp.status_code.code();
            // Responses to other requests (the 200 to a CANCEL) are not the INVITE's.
            if code >= 200 && cseq_method(&resp) == "INVITE" {
                call.to_tag = to_tag(&resp);
                if !resp.body.is_empty() {
                    call.answer = Some(String::from_utf8_lossy(&resp.body).to_string());
                }
                return resp;
            }
        }
    }

    /// Calls and waits for the answer; sends the ACK when it is a 2xx.
    pub async fn call(&mut self, caller: &str, called: &str) -> (Call, rsip::Response) {
        self.call_with(caller, called, "").await
    }

    /// Like [`call`] with extra headers (e.g. P-Asserted-Identity).
    pub async fn call_with(
        &mut self,
        caller: &str,
        called: &str,
        extra: &str,
    ) -> (Call, rsip::Response) {
        let mut call = self.invite(caller, called, extra).await;
        let resp = self.final_response(&mut call).await;
        if resp.status_code.code() < 300 {
            self.ack(&call).await;
        }
        (call, resp)
    }

    /// ACK for a 2xx (a new transaction: new branch).
    pub async fn ack(&mut self, call: &Call) {
        let msg = self.in_dialog(
            call,
            "ACK",
            call.cseq,
            &format!("z9hG4bK{}", random_token()),
        );
        self.send_raw(msg.as_bytes()).await;
    }

    /// Hangs up with BYE and waits for its 200.
    pub async fn bye(&mut self, call: &mut Call) -> rsip::Response {
        call.cseq += 1;
        let msg = self.in_dialog(
            call,
            "BYE",
            call.cseq,
            &format!("z9hG4bK{}", random_token()),
        );
        self.send_raw(msg.as_bytes()).await;
        loop {
            let resp = self
                .recv_response(Duration::from_secs(10))
                .await
                .expect("a response to BYE");
            if cseq_method(&resp) == "BYE" {
                return resp;
            }
        }
    }

    /// Cancels a pending INVITE (same branch and CSeq number, RFC 3261 §9.1).
    pub async fn cancel(&mut self, call: &Call) {
        let msg = format!(
            "CANCEL {ruri} SIP/2.0\r\n\
             Via: SIP/2.0/{t} {local};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <{from}>;tag={ftag}\r\n\
             To: <sip:12345@{server}>\r\n\
             Call-ID: {cid}\r\n\
             CSeq: 1 CANCEL\r\n\
             Content-Length: 0\r\n\r\n",
            ruri = call.request_uri,
            t = self.transport(),
            local = self.local,
            branch = call.branch,
            from = call.caller_uri,
            ftag = call.from_tag,
            server = self.server,
            cid = call.call_id,
        );
        self.send_raw(msg.as_bytes()).await;
    }

    /// ACK for a non-2xx final response (same branch as the INVITE, RFC 3261 §17.1.1.3).
    pub async fn ack_failure(&mut self, call: &Call) {
        let msg = self.in_dialog(call, "ACK", 1, &call.branch.clone());
        self.send_raw(msg.as_bytes()).await;
    }

    fn in_dialog(&self, call: &Call, method: &str, cseq: u32, branch: &str) -> String {
        let to_tag = call
            .to_tag
            .as_ref()
            .map(|t| format!(";tag={t}"))
            .unwrap_or_default();
        format!(
            "{method} {ruri} SIP/2.0\r\n\
             Via: SIP/2.0/{t} {local};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <{from}>;tag={ftag}\r\n\
             To: <sip:12345@{server}>{to_tag}\r\n\
             Call-ID: {cid}\r\n\
             CSeq: {cseq} {method}\r\n\
             Content-Length: 0\r\n\r\n",
            ruri = call.request_uri,
            t = self.transport(),
            local = self.local,
            from = call.caller_uri,
            ftag = call.from_tag,
            server = self.server,
            cid = call.call_id,
        )
    }

    /// Receives RTP for `wait` or until `max_packets`; returns (seq, ts, ssrc, pt, payload).
    pub async fn receive_rtp(&self, max_packets: usize, wait: Duration) -> Vec<RtpSeen> {
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 2048];
        let deadline = tokio::time::Instant::now() + wait;
        while seen.len() < max_packets {
            let Ok(Ok((n, _))) =
                tokio::time::timeout_at(deadline, self.rtp.recv_from(&mut buf)).await
            else {
                break;
            };
            let pkt = rtp_rs::RtpReader::new(&buf[..n]).expect("valid RTP");
            seen.push(RtpSeen {
                seq: u16::from(pkt.sequence_number()),
                timestamp: pkt.timestamp(),
                ssrc: pkt.ssrc(),
                payload_type: pkt.payload_type(),
                marker: pkt.mark(),
                payload: pkt.payload().to_vec(),
            });
        }
        seen
    }

    /// Receives RTP until `until` completes (an event the test waits for), at most `max`;
    /// returns what was heard and the event's output.
    pub async fn listen_until<F: std::future::Future>(
        &self,
        until: F,
        max: Duration,
    ) -> (Vec<RtpSeen>, F::Output) {
        let deadline = tokio::time::Instant::now() + max;
        tokio::pin!(until);
        let mut heard = Vec::new();
        loop {
            tokio::select! {
                out = &mut until => return (heard, out),
                got = self.receive_rtp(1, Duration::from_millis(100)) => heard.extend(got),
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the awaited event did not come within {max:?}"
            );
        }
    }

    /// Receives RTP until none has come for `gap`: the server stopped playing (a bridged
    /// caller hears nothing more once the greeting is over, until the operator speaks).
    /// Panics when the stream does not pause within `max`.
    pub async fn wait_quiet(&self, gap: Duration, max: Duration) -> Vec<RtpSeen> {
        let deadline = tokio::time::Instant::now() + max;
        let mut heard = Vec::new();
        loop {
            let got = self.receive_rtp(1, gap).await;
            if got.is_empty() {
                return heard;
            }
            heard.extend(got);
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server kept playing for {max:?}"
            );
        }
    }

    /// Sends `samples` as PCMU RTP to `to`, paced at 20 ms per packet like a real phone.
    pub async fn send_audio(&self, to: SocketAddr, stream: &mut PhoneStream, samples: &[i16]) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for chunk in samples.chunks(160) {
            tick.tick().await;
            let mut frame = chunk.to_vec();
            frame.resize(160, 0);
            let payload: Vec<u8> = frame.iter().map(|&s| audio_codec_ulaw(s)).collect();
            let pkt = stream.packet(0, &payload, 160);
            self.rtp.send_to(&pkt, to).await.unwrap();
        }
    }

    /// Presses a key: RFC 4733 telephone-event packets (three updates, three end packets).
    pub async fn send_dtmf(&self, to: SocketAddr, stream: &mut PhoneStream, digit: char) {
        let event = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            other => panic!("no DTMF event for {other}"),
        };
        let ts = stream.timestamp;
        for (i, end) in [false, false, false, true, true, true]
            .into_iter()
            .enumerate()
        {
            let duration = (160 * (i as u16 + 1)).min(640).to_be_bytes();
            let payload = [
                event,
                if end { 0x8a } else { 0x0a },
                duration[0],
                duration[1],
            ];
            let pkt = stream.packet_at(101, &payload, ts, i == 0);
            self.rtp.send_to(&pkt, to).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stream.timestamp = stream.timestamp.wrapping_add(960);
    }

    /// Waits for the server's BYE and answers it 200; false when none came within `wait`.
    pub async fn expect_bye(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await {
                Some(rsip::SipMessage::Request(req)) if req.method == rsip::Method::Bye => {
                    let text = req.to_string();
                    let copy = |name: &str| {
                        header_value(&text, name)
                            .map(|v| format!("{name}: {v}\r\n"))
                            .unwrap_or_default()
                    };
                    let ok = format!(
                        "SIP/2.0 200 OK\r\n{}{}{}{}{}Content-Length: 0\r\n\r\n",
                        copy("Via"),
                        copy("From"),
                        copy("To"),
                        copy("Call-ID"),
                        copy("CSeq")
                    );
                    self.send_raw(ok.as_bytes()).await;
                    return true;
                }
                Some(_) => continue,
                None => return false,
            }
        }
    }

    /// The server's SIP address.
    pub fn server_addr(&self) -> SocketAddr {
        self.server
    }

    /// The phone's own SIP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Where the server wants our RTP, from its SDP answer.
    pub fn server_rtp(call: &Call) -> SocketAddr {
        let sdp = call.answer.as_ref().expect("SDP answer");
        let ip = sdp
            .lines()
            .find_map(|l| l.strip_prefix("c=IN IP4 "))
            .expect("c= line")
            .trim();
        let port = sdp
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|l| l.split_whitespace().next())
            .expect("m= line");
        format!("{ip}:{port}").parse().unwrap()
    }
}

/// The phone's outgoing RTP stream.
pub struct PhoneStream {
    ssrc: u32,
    seq: u16,
    /// The next packet's timestamp.
    pub timestamp: u32,
    first: bool,
}

impl Default for PhoneStream {
    fn default() -> Self {
        PhoneStream {
            ssrc: rand::random(),
            seq: rand::random(),
            timestamp: rand::random(),
            first: true,
        }
    }
}

impl PhoneStream {
    fn packet(&mut self, pt: u8, payload: &[u8], samples: u32) -> Vec<u8> {
        let marker = std::mem::replace(&mut self.first, false);
        let pkt = self.packet_at(pt, payload, self.timestamp, marker);
        self.timestamp = self.timestamp.wrapping_add(samples);
        pkt
    }

    fn packet_at(&mut self, pt: u8, payload: &[u8], ts: u32, marker: bool) -> Vec<u8> {
        let pkt = rtp_rs::RtpPacketBuilder::new()
            .payload_type(pt)
            .ssrc(self.ssrc)
            .sequence(rtp_rs::Seq::from(self.seq))
            .timestamp(ts)
            .marked(marker)
            .payload(payload)
            .build()
            .unwrap();
        self.seq = self.seq.wrapping_add(1);
        pkt
    }
}

/// G.711 μ-law of one sample (the phone's own encoder, from the crate the server uses).
fn audio_codec_ulaw(s: i16) -> u8 {
    audio_codec_algorithms::encode_ulaw(s)
}

/// One RTP packet the phone received.
#[derive(Debug, Clone)]
pub struct RtpSeen {
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload_type: u8,
    pub marker: bool,
    pub payload: Vec<u8>,
}

/// The To tag of a response.
pub fn to_tag(resp: &rsip::Response) -> Option<String> {
    header_value(&resp.to_string(), "To").and_then(|v| {
        v.split(";tag=")
            .nth(1)
            .map(|t| t.split(';').next().unwrap().trim().to_string())
    })
}

/// The method in a response's CSeq.
pub fn cseq_method(resp: &rsip::Response) -> String {
    header_value(&resp.to_string(), "CSeq")
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_default()
}

/// The first value of a header, by name, from message text.
pub fn header_value(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}
