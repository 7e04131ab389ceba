//! Seats' answers that come too late. A leg cancelled on ring timeout, or a ring-all loser,
//! may answer just as its CANCEL crosses the 200 OK: the seat is then in a call nobody will
//! bridge. Every 200 OK from a seat must end bridged, or ACKed and hung up with a BYE: a
//! released, unanswered leg stays here for the longest an INVITE transaction lasts (64 × T1),
//! and a 2xx for it is ACKed and answered with a BYE at once (`CallServices::answer_late`).
//! Pure bookkeeping: no I/O here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::sip::dialog::Dialog;
use crate::sip::transaction::Peer;

/// How long a released leg may still answer (64 × T1, RFC 3261 Timer B).
const LATE_FOR: Duration = Duration::from_secs(32);

/// Legs entered at most; past it the oldest are forgotten.
const MAX_LEGS: usize = 50_000;

/// What it takes to ACK and hang up a leg that answers after it was released.
#[derive(Debug, Clone)]
pub struct LateLeg {
    pub invite: rsip::Request,
    pub peer: Peer,
    pub via_host: String,
    released: Instant,
}

/// The released, unanswered legs, by Call-ID.
#[derive(Debug, Default)]
pub struct LateLegs {
    legs: HashMap<String, LateLeg>,
}

impl LateLegs {
    /// Keeps a leg that was released without an answer.
    pub fn insert(&mut self, call_id: &str, invite: rsip::Request, peer: Peer, via_host: String) {
        let now = Instant::now();
        if self.legs.len() >= MAX_LEGS {
            self.legs
                .retain(|_, l| now.duration_since(l.released) < LATE_FOR);
            if self.legs.len() >= MAX_LEGS {
                self.legs.clear();
            }
        }
        self.legs.insert(
            call_id.to_string(),
            LateLeg {
                invite,
                peer,
                via_host,
                released: now,
            },
        );
    }

    /// The leg a response belongs to, if it is one of these and still within its time; a
    /// final response takes it out.
    pub fn take_on_final(&mut self, call_id: &str, status: u16) -> Option<LateLeg> {
        if status < 200 {
            return None;
        }
        let leg = self.legs.remove(call_id)?;
        (leg.released.elapsed() < LATE_FOR).then_some(leg)
    }
}

impl LateLeg {
    /// The ACK and the BYE for its late 2xx `ok`.
    pub fn ack_and_bye(&self, ok: &rsip::Response) -> (rsip::Request, rsip::Request) {
        let mut dialog = Dialog::new_uac(&self.invite, ok);
        let ack = dialog.ack_for(ok, &self.via_host, self.peer.transport);
        let bye = dialog.new_request(rsip::Method::Bye, &self.via_host, self.peer.transport);
        (ack, bye)
    }
}
