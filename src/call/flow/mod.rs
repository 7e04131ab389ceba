//! One answered call as a state machine, free of I/O, in the shape of the transaction layer
//! and str0m: feed each input with its time ([`Call::handle`]), feed the clock when the next
//! deadline comes ([`Call::handle_timeout`] at [`Call::poll_timeout`]), and perform every
//! [`Output`] from [`Call::poll_output`] in order. The edge (`call/inbound.rs`) does the SIP,
//! media, store and ACD work the outputs ask for; the rules of the call are all here.
//!
//! The phases, one file each: waiting for the ACK (here), [`menu`], [`queue_wait`], [`lookup`]
//! (a caller's progress lookup), [`bridge`] (with others joining: another hotline, a colleague
//! consulted, a supervisor), [`transfer`] (the hand-over after a seat's REFER), [`external`]
//! (the caller with another hotline), [`rating`] and [`voicemail`]. [`io`] and [`ctx`] are
//! their shared leaves. Every phase ends at the call's maximum duration, one deadline for all.
//! [`recovery`] holds the rules for what a crash left half done.

pub mod bridge;
pub mod ctx;
pub mod external;
pub mod io;
pub mod lookup;
pub mod menu;
pub mod queue_wait;
pub mod rating;
pub mod recovery;
pub mod transfer;
pub mod voicemail;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Instant;

pub use ctx::{Entry, Next};
pub use io::{
    Action, Dest, Hearers, Hotline, Input, LegId, LegReply, LookedUp, Member, MonitorMode, Output,
    Party, PartyView, ReferRefusal, SeatEvent,
};

use crate::call::signal::EndCause;
use crate::dialplan::Dialplan;
use ctx::Ctx;

/// Where a call is.
#[derive(Debug)]
enum Phase {
    AwaitAck,
    Menu(menu::Menu),
    Waiting(queue_wait::Waiting),
    Bridged(bridge::Bridge),
    HandOver(transfer::HandOver),
    External(external::External),
    Rating(rating::Rating),
    Lookup(lookup::Lookup),
    Voicemail(voicemail::Voicemail),
    Ended,
}

/// One answered call (the 200 OK is sent) until its end.
pub struct Call {
    ctx: Ctx,
    phase: Phase,
    /// `--max-call-duration` after the INVITE: the call ends then, whatever its phase.
    hang_up_at: Instant,
}

impl Call {
    /// A call to `platform`, stored as `call_id`, under `plan`, waiting for its ACK.
    pub fn new(call_id: &str, plan: Arc<Dialplan>, platform: &str, hang_up_at: Instant) -> Call {
        Call {
            ctx: Ctx::new(call_id, plan, platform),
            phase: Phase::AwaitAck,
            hang_up_at,
        }
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, input: Input, now: Instant) {
        let next = match &mut self.phase {
            Phase::AwaitAck => match input {
                Input::Ack { open } => self.first_phase(open),
                Input::CallerBye => self.ctx.finish(EndCause::CallerHangup),
                Input::AckTimeout => self.ctx.finish(EndCause::AckTimeout),
                _ => Next::Stay,
            },
            Phase::Menu(p) => p.handle(&mut self.ctx, input, now),
            Phase::Waiting(p) => p.handle(&mut self.ctx, input),
            Phase::Bridged(p) => p.handle(&mut self.ctx, input, now),
            Phase::HandOver(p) => p.handle(&mut self.ctx, input),
            Phase::External(p) => p.handle(&mut self.ctx, input),
            Phase::Rating(p) => p.handle(&mut self.ctx, input, now),
            Phase::Lookup(p) => p.handle(&mut self.ctx, input, now),
            Phase::Voicemail(p) => p.handle(&mut self.ctx, input, now),
            Phase::Ended => Next::Stay,
        };
        self.go(next, now);
    }

    /// Feeds the clock: whatever was due by `now` happens.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now >= self.hang_up_at {
            let ctx = &mut self.ctx;
            let cause = EndCause::MaxDuration;
            let next = match &mut self.phase {
                Phase::AwaitAck | Phase::Menu(_) | Phase::Rating(_) | Phase::Lookup(_) => {
                    ctx.finish(cause)
                }
                Phase::Waiting(p) => p.abort(ctx, cause),
                Phase::Bridged(p) => p.abort(ctx, cause),
                Phase::HandOver(p) => p.abort(ctx, cause),
                Phase::External(p) => p.abort(ctx, cause),
                Phase::Voicemail(p) => p.abort(ctx, cause),
                Phase::Ended => Next::Stay,
            };
            self.go(next, now);
            return;
        }
        let next = match &mut self.phase {
            Phase::Menu(p) => p.timeout(&mut self.ctx, now),
            Phase::Bridged(p) => p.timeout(&mut self.ctx, now),
            Phase::HandOver(p) => p.timeout(&mut self.ctx, now),
            Phase::External(p) => p.timeout(&mut self.ctx, now),
            Phase::Rating(p) => p.timeout(&mut self.ctx, now),
            Phase::Lookup(p) => p.timeout(&mut self.ctx, now),
            Phase::Voicemail(p) => p.timeout(&mut self.ctx, now),
            _ => Next::Stay,
        };
        self.go(next, now);
    }

    /// The next output to perform.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.ctx.poll()
    }

    /// When [`Call::handle_timeout`] is next due; None once the call is over.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let phase = match &self.phase {
            Phase::Ended => return None,
            Phase::Menu(p) => p.deadline(),
            Phase::Bridged(p) => p.deadline(),
            Phase::HandOver(p) => p.deadline(),
            Phase::External(p) => p.deadline(),
            Phase::Rating(p) => p.deadline(),
            Phase::Lookup(p) => p.deadline(),
            Phase::Voicemail(p) => p.deadline(&self.ctx),
            _ => None,
        };
        Some(phase.map_or(self.hang_up_at, |at| at.min(self.hang_up_at)))
    }

    /// True once the call is over.
    pub fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Ended)
    }

    /// While the caller waits in a queue: the platform whose hours and seats the edge reports
    /// ([`Input::Staffing`]).
    pub fn waiting_on(&self) -> Option<&str> {
        match &self.phase {
            Phase::Waiting(p) => Some(p.platform()),
            _ => None,
        }
    }

    /// The phase's name, for logs and tests.
    pub fn phase(&self) -> &'static str {
        match self.phase {
            Phase::AwaitAck => "await-ack",
            Phase::Menu(_) => "menu",
            Phase::Waiting(_) => "waiting",
            Phase::Bridged(_) => "bridged",
            Phase::HandOver(_) => "hand-over",
            Phase::External(_) => "other-hotline",
            Phase::Rating(_) => "rating",
            Phase::Lookup(_) => "lookup",
            Phase::Voicemail(_) => "voicemail",
            Phase::Ended => "ended",
        }
    }

    /// Who is in the call besides the caller, for the API.
    pub fn parties(&self) -> Vec<PartyView> {
        match &self.phase {
            Phase::Bridged(p) => p.parties(),
            Phase::External(p) => p.parties(),
            _ => Vec::new(),
        }
    }

    /// After the ACK: voicemail outside staffed hours, else the menu or the queue.
    fn first_phase(&mut self, open: bool) -> Next {
        let platform = self.ctx.platform.clone();
        if !open {
            return Next::Voicemail(platform);
        }
        match self.ctx.plan.queues.menus.get(&platform).cloned() {
            Some(menu) => {
                self.phase = Phase::Menu(menu::Menu::enter(&mut self.ctx, menu));
                Next::Stay
            }
            None => Next::Wait(Entry::Platform {
                queue: platform,
                greeted: false,
            }),
        }
    }

    /// Moves to the phases asked for (entering one may ask for another).
    fn go(&mut self, mut next: Next, now: Instant) {
        loop {
            next = match next {
                Next::Stay => return,
                Next::Ended => {
                    self.phase = Phase::Ended;
                    return;
                }
                Next::Wait(entry) => {
                    self.phase = Phase::Waiting(queue_wait::Waiting::enter(&mut self.ctx, entry));
                    Next::Stay
                }
                Next::Bridge(answered) => {
                    let (bridge, next) = bridge::Bridge::enter(&mut self.ctx, answered, now);
                    self.phase = Phase::Bridged(bridge);
                    next
                }
                Next::HandOver { leg, agent, to } => {
                    self.phase = Phase::HandOver(transfer::HandOver::enter(
                        &mut self.ctx,
                        leg,
                        agent,
                        to,
                        now,
                    ));
                    Next::Stay
                }
                Next::Voicemail(platform) => {
                    self.phase =
                        Phase::Voicemail(voicemail::Voicemail::enter(&mut self.ctx, &platform));
                    Next::Stay
                }
                Next::External(handoff) => {
                    self.phase =
                        Phase::External(external::External::enter(&mut self.ctx, handoff, now));
                    Next::Stay
                }
                Next::Rating => {
                    self.phase = Phase::Rating(rating::Rating::enter(&mut self.ctx));
                    Next::Stay
                }
                Next::Lookup => {
                    self.phase = Phase::Lookup(lookup::Lookup::enter(&mut self.ctx));
                    Next::Stay
                }
            };
        }
    }
}
