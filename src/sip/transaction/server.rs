//! Server transactions (RFC 3261 §17.2; RFC 6026 for the INVITE "Accepted" state).
//!
//! INVITE: Proceeding → (2xx) Accepted → ACK or 64·T1; (3xx–6xx) Completed → (ACK) Confirmed →
//! Timer I; Completed → Timer H without ACK. Non-INVITE: Trying → Proceeding → Completed →
//! Timer J. Over UDP, final INVITE responses are retransmitted from T1 doubling up to T2.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::message;
use super::types::{Output, Peer, Timers, TransactionError, TransactionKey};

/// States of a server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    Trying,
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    /// Timer H: no ACK for our error response.
    H,
    /// Timer I: absorbing ACK retransmissions.
    I,
    /// Timer J: absorbing request retransmissions.
    J,
    /// RFC 6026: no ACK for our 2xx.
    AckWait,
}

/// One server transaction.
pub(super) struct ServerTransaction {
    invite: bool,
    request: rsip::Request,
    peer: Peer,
    state: ServerState,
    last: Option<rsip::Response>,
    retransmit_at: Option<Instant>,
    interval: Duration,
    deadline: Option<(Instant, Deadline)>,
    acked: bool,
}

impl ServerTransaction {
    pub(super) fn new(request: rsip::Request, peer: Peer) -> Self {
        let invite = request.method == rsip::Method::Invite;
        ServerTransaction {
            invite,
            request,
            peer,
            state: if invite {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            last: None,
            retransmit_at: None,
            interval: Duration::ZERO,
            deadline: None,
            acked: false,
        }
    }

    pub(super) fn state(&self) -> ServerState {
        self.state
    }

    pub(super) fn request(&self) -> &rsip::Request {
        &self.request
    }

    /// (Call-ID, CSeq) of an INVITE that was answered 2xx and awaits its ACK.
    pub(super) fn accepted_id(&self) -> Option<(String, u32)> {
        (self.state == ServerState::Accepted).then(|| {
            (
                message::call_id(&self.request).unwrap_or_default(),
                message::cseq(&self.request).map_or(0, |(n, _)| n),
            )
        })
    }

    pub(super) fn next_timer(&self) -> Option<Instant> {
        [self.retransmit_at, self.deadline.map(|d| d.0)]
            .into_iter()
            .flatten()
            .min()
    }

    /// A retransmitted request: resend the last response, if any and if the state wants it.
    pub(super) fn retransmission(&mut self, outputs: &mut VecDeque<Output>) {
        match self.state {
            ServerState::Proceeding | ServerState::Completed => self.transmit_last(outputs),
            // Trying: nothing sent yet; Accepted: the 2xx is retransmitted on its own timer;
            // Confirmed: absorbed.
            _ => {}
        }
    }

    /// Sends a response; true when the transaction has ended with it.
    pub(super) fn respond(
        &mut self,
        response: rsip::Response,
        now: Instant,
        timers: &Timers,
        outputs: &mut VecDeque<Output>,
    ) -> Result<bool, TransactionError> {
        if !matches!(self.state, ServerState::Trying | ServerState::Proceeding) {
            return Err(TransactionError::AlreadyFinal);
        }
        let code = response.status_code.code();
        self.last = Some(response);
        self.transmit_last(outputs);
        let udp = self.peer.transport.unreliable();
        if code < 200 {
            self.state = ServerState::Proceeding;
            return Ok(false);
        }
        if self.invite {
            self.state = if code < 300 {
                ServerState::Accepted
            } else {
                ServerState::Completed
            };
            if udp {
                self.interval = timers.t1;
                self.retransmit_at = Some(now + timers.t1);
            }
            let kind = if code < 300 {
                Deadline::AckWait
            } else {
                Deadline::H
            };
            self.deadline = Some((now + timers.t1x64(), kind));
            Ok(false)
        } else {
            self.state = ServerState::Completed;
            if udp {
                self.deadline = Some((now + timers.t1x64(), Deadline::J));
                Ok(false)
            } else {
                Ok(true)
            }
        }
    }

    /// An ACK matching this transaction; true when it was the ACK of a non-2xx (absorbed here).
    pub(super) fn on_ack(&mut self, now: Instant, timers: &Timers) -> bool {
        match self.state {
            ServerState::Completed => {
                self.state = ServerState::Confirmed;
                self.retransmit_at = None;
                let wait = if self.peer.transport.unreliable() {
                    timers.t4
                } else {
                    Duration::ZERO
                };
                self.deadline = Some((now + wait, Deadline::I));
                true
            }
            ServerState::Confirmed => true,
            _ => false,
        }
    }

    /// The ACK of our 2xx; true the first time.
    pub(super) fn on_2xx_ack(&mut self) -> bool {
        if self.state == ServerState::Accepted && !self.acked {
            self.acked = true;
            self.retransmit_at = None;
            true
        } else {
            false
        }
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
                if matches!(kind, Deadline::H | Deadline::AckWait) {
                    outputs.push_back(super::types::timed_out(key, &self.request));
                }
                return true;
            }
        }
        if self.retransmit_at.is_some_and(|t| t <= now) {
            self.transmit_last(outputs);
            self.interval = (self.interval * 2).min(timers.t2);
            self.retransmit_at = Some(now + self.interval);
        }
        false
    }

    fn transmit_last(&self, outputs: &mut VecDeque<Output>) {
        if let Some(resp) = &self.last {
            outputs.push_back(Output::Transmit {
                msg: resp.clone().into(),
                peer: self.peer,
            });
        }
    }
}
