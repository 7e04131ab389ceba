//! Client transactions (RFC 3261 §17.1; RFC 6026 for the INVITE "Accepted" state).
//!
//! INVITE: Calling (Timer A retransmits over UDP, Timer B gives up) → Proceeding → (2xx)
//! Accepted for 64·T1, passing 2xx retransmissions to the TU so it re-ACKs; (3xx–6xx) Completed,
//! ACKed here, Timer D. Non-INVITE: Trying (Timer E from T1 doubling to T2, Timer F gives up) →
//! Proceeding → Completed, Timer K.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::message;
use super::types::{Output, Peer, Timers, TransactionKey, TuEvent};

/// States of a client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    Calling,
    Trying,
    Proceeding,
    Completed,
    Accepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    /// Timer B / F: no final response.
    GiveUp,
    /// Timer D / K / M: the transaction's quiet end.
    End,
}

/// One client transaction.
pub(super) struct ClientTransaction {
    invite: bool,
    request: rsip::Request,
    peer: Peer,
    state: ClientState,
    retransmit_at: Option<Instant>,
    interval: Duration,
    deadline: Option<(Instant, Deadline)>,
    ack: Option<rsip::Request>,
}

impl ClientTransaction {
    pub(super) fn start(
        request: rsip::Request,
        peer: Peer,
        now: Instant,
        timers: &Timers,
        outputs: &mut VecDeque<Output>,
    ) -> Self {
        let invite = request.method == rsip::Method::Invite;
        outputs.push_back(Output::Transmit {
            msg: request.clone().into(),
            peer,
        });
        let udp = peer.transport.unreliable();
        ClientTransaction {
            invite,
            request,
            peer,
            state: if invite {
                ClientState::Calling
            } else {
                ClientState::Trying
            },
            retransmit_at: udp.then(|| now + timers.t1),
            interval: timers.t1,
            deadline: Some((now + timers.t1x64(), Deadline::GiveUp)),
            ack: None,
        }
    }

    pub(super) fn next_timer(&self) -> Option<Instant> {
        [self.retransmit_at, self.deadline.map(|d| d.0)]
            .into_iter()
            .flatten()
            .min()
    }

    /// A response; true when the transaction has ended.
    pub(super) fn on_response(
        &mut self,
        response: rsip::Response,
        now: Instant,
        timers: &Timers,
        outputs: &mut VecDeque<Output>,
        key: &TransactionKey,
    ) -> bool {
        let code = response.status_code.code();
        let udp = self.peer.transport.unreliable();
        let deliver = |outputs: &mut VecDeque<Output>, response: rsip::Response| {
            outputs.push_back(Output::Event(TuEvent::Response {
                key: key.clone(),
                response,
            }));
        };
        match (self.invite, self.state) {
            (true, ClientState::Calling | ClientState::Proceeding) => {
                self.retransmit_at = None;
                if code < 200 {
                    self.state = ClientState::Proceeding;
                } else if code < 300 {
                    self.state = ClientState::Accepted;
                    self.deadline = Some((now + timers.t1x64(), Deadline::End));
                } else {
                    let ack = ack_for_error(&self.request, &response);
                    outputs.push_back(Output::Transmit {
                        msg: ack.clone().into(),
                        peer: self.peer,
                    });
                    self.ack = Some(ack);
                    self.state = ClientState::Completed;
                    let wait = if udp {
                        Duration::from_secs(32)
                    } else {
                        Duration::ZERO
                    };
                    self.deadline = Some((now + wait, Deadline::End));
                }
                deliver(outputs, response);
            }
            (true, ClientState::Completed) => {
                if let Some(ack) = &self.ack {
                    outputs.push_back(Output::Transmit {
                        msg: ack.clone().into(),
                        peer: self.peer,
                    });
                }
            }
            (true, ClientState::Accepted) if (200..300).contains(&code) => {
                deliver(outputs, response);
            }
            (false, ClientState::Trying | ClientState::Proceeding) => {
                if code < 200 {
                    self.state = ClientState::Proceeding;
                } else {
                    self.state = ClientState::Completed;
                    self.retransmit_at = None;
                    let wait = if udp { timers.t4 } else { Duration::ZERO };
                    self.deadline = Some((now + wait, Deadline::End));
                }
                deliver(outputs, response);
            }
            _ => {}
        }
        false
    }

    /// Fires due timers; true when the transaction has ended.
    pub(super) fn on_timer(
        &mut self,
        now: Instant,
        timers: &Timers,
        outputs: &mut VecDeque<Output>,
        key: &TransactionKey,
    ) -> bool {
        if let Some((at, kind)) = self.deadline {
            if at <= now {
                if kind == Deadline::GiveUp {
                    outputs.push_back(super::types::timed_out(key, &self.request));
                }
                return true;
            }
        }
        if self.retransmit_at.is_some_and(|t| t <= now) {
            outputs.push_back(Output::Transmit {
                msg: self.request.clone().into(),
                peer: self.peer,
            });
            self.interval = if self.invite {
                self.interval * 2
            } else if self.state == ClientState::Proceeding {
                timers.t2
            } else {
                (self.interval * 2).min(timers.t2)
            };
            self.retransmit_at = Some(now + self.interval);
        }
        false
    }
}

/// The ACK of a non-2xx final response (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From,
/// top Via and Route as the INVITE, the To of the response, CSeq number with method ACK.
fn ack_for_error(invite: &rsip::Request, response: &rsip::Response) -> rsip::Request {
    let mut headers = rsip::Headers::default();
    let copy = |headers: &mut rsip::Headers, name: &str, value: Option<String>| {
        if let Some(v) = value {
            headers.push(rsip::Header::Other(name.into(), v));
        }
    };
    copy(&mut headers, "Via", message::top_via(invite));
    for route in message::header_values(invite, "route") {
        headers.push(rsip::Header::Other("Route".into(), route));
    }
    copy(&mut headers, "Max-Forwards", Some("70".into()));
    copy(&mut headers, "From", message::header_value(invite, "from"));
    copy(&mut headers, "To", message::header_value(response, "to"));
    copy(&mut headers, "Call-ID", message::call_id(invite));
    let n = message::cseq(invite).map_or(1, |(n, _)| n);
    copy(&mut headers, "CSeq", Some(format!("{n} ACK")));
    copy(&mut headers, "Content-Length", Some("0".into()));
    rsip::Request {
        method: rsip::Method::Ack,
        uri: invite.uri.clone(),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}
