//! The hand-over after a seat's accepted REFER: the seat hears that its transfer went through
//! (NOTIFY `200 OK`) and hangs up, or we hang up after [`HAND_OVER`]; then the caller waits in
//! the target's queue, and a case handed to the provincial platform goes with the call.

use std::time::{Duration, Instant};

use super::ctx::{Ctx, Entry, Next};
use super::io::{Input, LegId, LegReply, Output, SeatEvent};
use crate::acd::AcdEvent;
use crate::call::signal::{EndCause, TransferTarget};
use crate::cases::workflow::{Actor, Role};

/// How long the transferring seat has to hang up itself.
pub const HAND_OVER: Duration = Duration::from_secs(2);

/// The hand-over phase.
#[derive(Debug)]
pub struct HandOver {
    leg: LegId,
    agent: String,
    to: TransferTarget,
    until: Instant,
}

impl HandOver {
    pub fn enter(
        ctx: &mut Ctx,
        leg: LegId,
        agent: String,
        to: TransferTarget,
        now: Instant,
    ) -> HandOver {
        ctx.emit(Output::NotifyTransferred(leg));
        HandOver {
            leg,
            agent,
            to,
            until: now + HAND_OVER,
        }
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input) -> Next {
        match input {
            Input::Seat {
                leg,
                event: SeatEvent::Bye,
            } if leg == self.leg => {
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Ok,
                });
                self.done(ctx)
            }
            Input::CallerBye => self.abort(ctx, EndCause::CallerHangup),
            Input::MediaTimeout => self.abort(ctx, EndCause::MediaTimeout),
            _ => Next::Stay,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        Some(self.until)
    }

    pub fn timeout(&mut self, ctx: &mut Ctx, now: Instant) -> Next {
        if now < self.until {
            return Next::Stay;
        }
        ctx.emit(Output::HangUpLeg(self.leg));
        self.done(ctx)
    }

    /// Ends the call during the hand-over (the transfer is still recorded).
    pub fn abort(&mut self, ctx: &mut Ctx, cause: EndCause) -> Next {
        ctx.emit(Output::HangUpLeg(self.leg));
        self.done(ctx);
        ctx.finish(cause)
    }

    fn done(&mut self, ctx: &mut Ctx) -> Next {
        ctx.emit(Output::ReleaseLeg {
            leg: self.leg,
            outcome: "transferred".into(),
        });
        let queue = self.to.queue.clone();
        ctx.acd(|call| AcdEvent::Transferred { call, to: queue });
        ctx.emit(Output::Escalate {
            to: self.to.clone(),
            by: Actor {
                role: Role::Operator,
                id: self.agent.clone(),
                unit: None,
            },
        });
        Next::Wait(Entry::Transferred(self.to.clone()))
    }
}
