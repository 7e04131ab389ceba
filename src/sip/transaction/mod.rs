//! The SIP transaction layer (RFC 3261 §17, with the INVITE server fix of RFC 6026), sans-I/O:
//! messages and timer ticks go in with the time ([`TransactionLayer::handle_message`],
//! [`TransactionLayer::handle_timeout`]), messages to send and events for the transaction user
//! come out ([`TransactionLayer::poll_output`]). No sockets, no clock, no tasks: the
//! [`endpoint`](super::endpoint) drives it, and tests drive it with `Instant`s.
//!
//! Server transactions answer retransmitted requests with the last response, retransmit final
//! responses over UDP (Timer G; 2xx until the ACK, RFC 6026), and time out (Timer H, J, and the
//! 64·T1 wait for the ACK of a 2xx). The layer itself answers CANCEL (200 or 481) and refuses
//! malformed requests (400 naming the problem; 483 when Max-Forwards is 0). Client
//! transactions retransmit requests over UDP (Timer A, E), time out (Timer B, F), and ACK
//! non-2xx final responses themselves.

mod client;
mod server;
#[cfg(test)]
mod tests;
mod types;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use tracing::{debug, warn};

use super::message::{self, response_for};

pub use client::ClientState;
pub use server::ServerState;
pub use types::{Output, Peer, Timers, TransactionError, TransactionKey, Transport, TuEvent};

/// The transaction layer.
pub struct TransactionLayer {
    timers: Timers,
    servers: HashMap<TransactionKey, server::ServerTransaction>,
    clients: HashMap<TransactionKey, client::ClientTransaction>,
    /// Accepted INVITEs by (Call-ID, CSeq number), to match the ACK of a 2xx.
    accepted: HashMap<(String, u32), TransactionKey>,
    /// Every live transaction's next timer, earliest first: [`Self::poll_timeout`] reads the
    /// first and [`Self::handle_timeout`] takes those due, so neither walks every transaction
    /// (at 800 calls/s some 50,000 live for their 32 s, and a walk per message took a tenth
    /// of the server's CPU; BENCHMARKS.md, calls per second).
    due: BTreeSet<(Instant, TransactionKey)>,
    /// The deadline each transaction has in `due`.
    scheduled: HashMap<TransactionKey, Instant>,
    outputs: VecDeque<Output>,
}

impl TransactionLayer {
    /// An empty layer.
    pub fn new(timers: Timers) -> Self {
        TransactionLayer {
            timers,
            servers: HashMap::new(),
            clients: HashMap::new(),
            accepted: HashMap::new(),
            due: BTreeSet::new(),
            scheduled: HashMap::new(),
            outputs: VecDeque::new(),
        }
    }

    /// Files `key`'s next timer in `due` after anything that may have changed it, the
    /// transaction's end included (it then leaves `due`).
    fn reschedule(&mut self, key: &TransactionKey) {
        let next = if key.server {
            self.servers.get(key).and_then(|t| t.next_timer())
        } else {
            self.clients.get(key).and_then(|t| t.next_timer())
        };
        if self.scheduled.get(key).copied() == next {
            return;
        }
        if let Some(old) = self.scheduled.remove(key) {
            self.due.remove(&(old, key.clone()));
        }
        if let Some(at) = next {
            self.due.insert((at, key.clone()));
            self.scheduled.insert(key.clone(), at);
        }
    }

    /// The earliest timer found by walking every transaction: what `due` must agree with.
    #[cfg(any(test, fuzzing))]
    fn walk_timeout(&self) -> Option<Instant> {
        let s = self.servers.values().filter_map(|t| t.next_timer());
        let c = self.clients.values().filter_map(|t| t.next_timer());
        s.chain(c).min()
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.servers.len() + self.clients.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Sends a message outside any transaction (the ACK of a 2xx).
    pub fn send_stateless(&mut self, msg: rsip::SipMessage, peer: Peer) {
        self.outputs.push_back(Output::Transmit { msg, peer });
    }

    /// Takes in a message that arrived from `peer` at `now`.
    pub fn handle_message(&mut self, msg: rsip::SipMessage, peer: Peer, now: Instant) {
        match msg {
            rsip::SipMessage::Request(req) => self.on_request(req, peer, now),
            rsip::SipMessage::Response(resp) => self.on_response(resp, now),
        }
    }

    /// The earliest time a timer fires.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let first = self.due.first().map(|(at, _)| *at);
        #[cfg(any(test, fuzzing))]
        assert_eq!(first, self.walk_timeout(), "the deadline set went stale");
        first
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let timers = self.timers;
        while let Some((at, key)) = self.due.first().cloned() {
            if at > now {
                break;
            }
            self.due.remove(&(at, key.clone()));
            self.scheduled.remove(&key);
            let ended = if key.server {
                let Some(tx) = self.servers.get_mut(&key) else {
                    continue;
                };
                let ended = tx.on_timer(now, &timers, &mut self.outputs, &key);
                if ended {
                    if let Some(id) = tx.accepted_id() {
                        self.accepted.remove(&id);
                    }
                    self.servers.remove(&key);
                }
                ended
            } else {
                let Some(tx) = self.clients.get_mut(&key) else {
                    continue;
                };
                let ended = tx.on_timer(now, &timers, &mut self.outputs, &key);
                if ended {
                    self.clients.remove(&key);
                }
                ended
            };
            if !ended {
                self.reschedule(&key);
            }
        }
    }

    /// Sends `response` on the server transaction `key`.
    pub fn respond(
        &mut self,
        key: &TransactionKey,
        response: rsip::Response,
        now: Instant,
    ) -> Result<(), TransactionError> {
        let timers = self.timers;
        let tx = self
            .servers
            .get_mut(key)
            .ok_or(TransactionError::UnknownTransaction)?;
        let ended = tx.respond(response, now, &timers, &mut self.outputs)?;
        if let Some(id) = tx.accepted_id() {
            self.accepted.insert(id, key.clone());
        }
        if ended {
            self.servers.remove(key);
        }
        self.reschedule(key);
        Ok(())
    }

    /// Starts a client transaction for `request` (which must carry a Via with a branch).
    pub fn send_request(
        &mut self,
        request: rsip::Request,
        peer: Peer,
        now: Instant,
    ) -> Result<TransactionKey, TransactionError> {
        if request.method == rsip::Method::Ack {
            return Err(TransactionError::Invalid(
                "an ACK is sent with send_stateless".into(),
            ));
        }
        let via =
            message::top_via(&request).ok_or_else(|| TransactionError::Invalid("no Via".into()))?;
        let branch = message::via_branch(&via)
            .ok_or_else(|| TransactionError::Invalid("Via without branch".into()))?;
        let key = TransactionKey {
            branch,
            sent_by: String::new(),
            method: request.method.to_string(),
            server: false,
        };
        if self.clients.contains_key(&key) {
            return Err(TransactionError::Invalid("branch already in use".into()));
        }
        let tx =
            client::ClientTransaction::start(request, peer, now, &self.timers, &mut self.outputs);
        self.clients.insert(key.clone(), tx);
        self.reschedule(&key);
        Ok(key)
    }

    fn on_request(&mut self, req: rsip::Request, peer: Peer, now: Instant) {
        let via = match validate(&req) {
            Ok(via) => via,
            Err(Invalid::Unanswerable(why)) => {
                warn!(peer = %peer.addr, %why, "dropping a request that cannot be answered");
                return;
            }
            Err(Invalid::Answer(status, why)) => {
                debug!(peer = %peer.addr, %why, "refusing a malformed request");
                let mut resp = response_for(&req, status, None);
                resp.headers.push(rsip::Header::Other(
                    "Warning".into(),
                    format!("399 hotline12345 \"{why}\""),
                ));
                self.outputs.push_back(Output::Transmit {
                    msg: resp.into(),
                    peer,
                });
                return;
            }
        };
        let branch = message::via_branch(&via).unwrap_or_default();
        let sent_by = message::via_sent_by(&via).unwrap_or_default();
        let method = req.method.to_string();
        let key_for = |method: &str| TransactionKey {
            branch: branch.clone(),
            sent_by: sent_by.clone(),
            method: method.to_string(),
            server: true,
        };
        match req.method {
            rsip::Method::Ack => {
                let key = key_for("INVITE");
                let timers = self.timers;
                if let Some(tx) = self.servers.get_mut(&key) {
                    if tx.on_ack(now, &timers) {
                        // The ACK of a non-2xx: absorbed by the transaction.
                        self.reschedule(&key);
                        return;
                    }
                }
                // The ACK of a 2xx: end the 2xx retransmissions, pass it to the TU.
                let id = (
                    message::call_id(&req).unwrap_or_default(),
                    message::cseq(&req).map_or(0, |(n, _)| n),
                );
                if let Some(inv_key) = self.accepted.remove(&id) {
                    if let Some(tx) = self.servers.get_mut(&inv_key) {
                        if !tx.on_2xx_ack() {
                            return; // a retransmitted ACK
                        }
                    }
                    self.servers.remove(&inv_key);
                    self.reschedule(&inv_key);
                }
                self.outputs
                    .push_back(Output::Event(TuEvent::Ack { request: req, peer }));
            }
            rsip::Method::Cancel => {
                let cancel_key = key_for("CANCEL");
                if let Some(tx) = self.servers.get_mut(&cancel_key) {
                    tx.retransmission(&mut self.outputs);
                    return;
                }
                let invite_key = key_for("INVITE");
                let status = match self.servers.get(&invite_key) {
                    Some(tx) => {
                        if tx.state() == ServerState::Proceeding {
                            self.outputs.push_back(Output::Event(TuEvent::Cancelled {
                                invite: invite_key.clone(),
                                request: tx.request().clone(),
                            }));
                        }
                        rsip::StatusCode::OK
                    }
                    None => rsip::StatusCode::CallTransactionDoesNotExist,
                };
                let response = response_for(&req, status, Some(&message::new_tag()));
                let mut tx = server::ServerTransaction::new(req, peer);
                let timers = self.timers;
                let ended = tx
                    .respond(response, now, &timers, &mut self.outputs)
                    .unwrap_or(true);
                if !ended {
                    self.servers.insert(cancel_key.clone(), tx);
                    self.reschedule(&cancel_key);
                }
            }
            _ => {
                let key = key_for(&method);
                if let Some(tx) = self.servers.get_mut(&key) {
                    tx.retransmission(&mut self.outputs);
                    return;
                }
                self.servers.insert(
                    key.clone(),
                    server::ServerTransaction::new(req.clone(), peer),
                );
                self.reschedule(&key);
                self.outputs.push_back(Output::Event(TuEvent::Request {
                    key,
                    request: req,
                    peer,
                }));
            }
        }
    }

    fn on_response(&mut self, resp: rsip::Response, now: Instant) {
        let Some(branch) = message::top_via(&resp).and_then(|v| message::via_branch(&v)) else {
            debug!("dropping a response without a Via branch");
            return;
        };
        let Some((_, method)) = message::cseq(&resp) else {
            debug!("dropping a response without CSeq");
            return;
        };
        let key = TransactionKey {
            branch,
            sent_by: String::new(),
            method,
            server: false,
        };
        let timers = self.timers;
        match self.clients.get_mut(&key) {
            Some(tx) => {
                if tx.on_response(resp, now, &timers, &mut self.outputs, &key) {
                    self.clients.remove(&key);
                }
                self.reschedule(&key);
            }
            None => debug!(status = %resp.status_code, "response matches no transaction"),
        }
    }
}

/// Why a request is refused before any transaction.
enum Invalid {
    /// Cannot even be answered (no Via to answer to).
    Unanswerable(String),
    /// Answer with this status and reason.
    Answer(rsip::StatusCode, String),
}

/// Checks the headers every request needs (RFC 3261 §8.1.1); returns the top Via.
fn validate(req: &rsip::Request) -> Result<String, Invalid> {
    let via = message::top_via(req).ok_or_else(|| Invalid::Unanswerable("no Via".into()))?;
    let bad = |why: &str| Invalid::Answer(rsip::StatusCode::BadRequest, why.to_string());
    if message::via_sent_by(&via).is_none() {
        return Err(Invalid::Unanswerable("Via without sent-by".into()));
    }
    if message::via_branch(&via).is_none() {
        return Err(bad("Via without branch"));
    }
    for name in ["from", "to", "call-id", "cseq"] {
        if message::header_value(req, name).is_none_or(|v| v.is_empty()) {
            return Err(bad(&format!("missing {name} header")));
        }
    }
    match message::cseq(req) {
        None => return Err(bad("malformed CSeq")),
        Some((_, m)) if m != req.method.to_string() => {
            return Err(bad("CSeq method does not match the request method"))
        }
        _ => {}
    }
    if let Some(mf) = message::header_value(req, "max-forwards") {
        match mf.trim().parse::<u32>() {
            Ok(0) if req.method != rsip::Method::Ack => {
                return Err(Invalid::Answer(
                    rsip::StatusCode::TooManyHops,
                    "Max-Forwards reached 0".into(),
                ))
            }
            Ok(_) => {}
            Err(_) => return Err(bad("malformed Max-Forwards")),
        }
    }
    Ok(via)
}
