//! What every phase of a call shares: the call's id and dialplan, the outputs waiting to be
//! polled, the numbering of seat legs, and the transitions a phase may ask for ([`Next`]).

use std::collections::VecDeque;
use std::sync::Arc;

use super::io::{LegId, LegReply, Output, SeatEvent};
use crate::acd::AcdEvent;
use crate::call::signal::{EndCause, TransferTarget};
use crate::dialplan::Dialplan;

/// A BYE or REFER from a seat that answered, held until its leg is bridged (or let go).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Bye,
    Refer(Result<TransferTarget, super::io::ReferRefusal>),
}

impl Held {
    /// The request a seat event carries, if it is one (a BYE or a REFER).
    pub fn of(event: SeatEvent) -> Option<Held> {
        match event {
            SeatEvent::Bye => Some(Held::Bye),
            SeatEvent::Refer(to) => Some(Held::Refer(to)),
            // A transfer to a consulted colleague, where it cannot be taken: refused.
            SeatEvent::Replaces { .. } => Some(Held::Refer(Err(super::io::ReferRefusal {
                status: 481,
                warning: "no call with a caller to transfer here".into(),
            }))),
            _ => None,
        }
    }
}

/// A seat that answered, as the queue hands it to the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub leg: LegId,
    pub agent: String,
    /// The queue the call waited in.
    pub queue: String,
    /// Requests the seat sent before the bridge, in order.
    pub held: Vec<Held>,
    /// The greeting still plays: bridge when it ends.
    pub greeting_playing: bool,
}

/// How a caller comes to wait in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A new call: the platform's greeting (unless a menu played it) before the queue.
    Platform { queue: String, greeted: bool },
    /// Transferred into this queue: a short "transferring you" prompt.
    Transferred(TransferTarget),
}

/// Where a call goes on after its operator hands it to another hotline.
#[derive(Debug)]
pub struct HandOff {
    pub hotline: super::io::Hotline,
    pub also_ours: bool,
    pub by: super::io::Actor,
    /// The hotline's leg, when it already answered (the operator left a three-party call).
    pub answered: Option<LegId>,
}

/// What a phase asks for after an input.
#[derive(Debug)]
pub enum Next {
    /// Stay in this phase.
    Stay,
    /// Wait in a queue.
    Wait(Entry),
    /// Talk with the seat that answered.
    Bridge(Answered),
    /// The seat's transfer is accepted: end its leg, then wait in the target's queue.
    HandOver {
        leg: LegId,
        agent: String,
        to: TransferTarget,
    },
    /// Take a voice message on this platform.
    Voicemail(String),
    /// The operator's part is over: the caller goes on with another hotline.
    External(HandOff),
    /// The operator hung up: the caller rates the call.
    Rating,
    /// The caller looks up a case's progress.
    Lookup,
    /// The call is over (its `End` output is queued).
    Ended,
}

/// The state every phase shares.
pub struct Ctx {
    /// The call's stored id (also its name in the ACD).
    pub call_id: String,
    /// The dialplan the call arrived under (a reload does not change a running call).
    pub plan: Arc<Dialplan>,
    /// The platform the call was routed to.
    pub platform: String,
    out: VecDeque<Output>,
    next_leg: u32,
}

impl Ctx {
    pub fn new(call_id: &str, plan: Arc<Dialplan>, platform: &str) -> Ctx {
        Ctx {
            call_id: call_id.to_string(),
            plan,
            platform: platform.to_string(),
            out: VecDeque::new(),
            next_leg: 0,
        }
    }

    /// Queues an output.
    pub fn emit(&mut self, output: Output) {
        self.out.push_back(output);
    }

    /// Queues an event for the ACD about this call.
    pub fn acd(&mut self, event: impl FnOnce(String) -> AcdEvent) {
        let call = self.call_id.clone();
        self.emit(Output::Acd(event(call)));
    }

    /// The next output.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// A new leg number.
    pub fn new_leg(&mut self) -> LegId {
        self.next_leg += 1;
        LegId(self.next_leg)
    }

    /// Lets go of a leg the call placed: hung up when it answered (`up`), else cancelled, and
    /// released with `outcome`.
    pub fn drop_leg(&mut self, leg: LegId, up: bool, outcome: &str) {
        self.emit(if up {
            Output::HangUpLeg(leg)
        } else {
            Output::CancelLeg(leg)
        });
        self.emit(Output::ReleaseLeg {
            leg,
            outcome: outcome.into(),
        });
    }

    /// Answers a seat's held request when its leg will not be bridged: a BYE gets 200, a
    /// REFER 481 (no dialog to transfer from).
    pub fn answer_held(&mut self, leg: LegId, held: Held) {
        let reply = match held {
            Held::Bye => LegReply::Ok,
            Held::Refer(_) => LegReply::NoDialog,
        };
        self.emit(Output::AnswerLeg { leg, reply });
    }

    /// Ends the call: hangs up on the caller when the server ends it, then `End`.
    pub fn finish(&mut self, cause: EndCause) -> Next {
        if matches!(
            cause,
            EndCause::AckTimeout
                | EndCause::MediaTimeout
                | EndCause::MaxDuration
                | EndCause::VoicemailDone
                | EndCause::AgentHangup
        ) {
            self.emit(Output::HangUpCaller);
        }
        self.emit(Output::End(cause));
        Next::Ended
    }

    /// The prompt a platform greets callers with.
    pub fn welcome(&self, platform: &str) -> Option<String> {
        self.plan
            .router
            .platform(platform)
            .map(|p| p.welcome_prompt.clone())
    }

    /// The prompt a platform greets callers with after hours.
    pub fn after_hours(&self, platform: &str) -> Option<String> {
        self.plan
            .router
            .platform(platform)
            .map(|p| p.after_hours_prompt.clone())
    }
}
