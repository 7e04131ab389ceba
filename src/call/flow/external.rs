//! The caller with another hotline (110, 119, 120, 122, 12315…), the operator gone: handed over
//! blind (the other hotline rings while the caller hears "transferring you" and hold music),
//! or left by the operator in a three-party call. Once it answers the two are relayed and
//! recorded like an operator's call, and the case records the hand-over. When it does not
//! answer (busy, no answer, refused), the caller is never dropped: they wait in the platform's
//! queue again. Either side hanging up ends the call.

use std::time::Instant;

use super::ctx::{Ctx, Entry, HandOff, Held, Next};
use super::io::{
    Dest, Input, LegId, LegReply, Output, PartyView, SeatEvent, HOLD_PROMPT, TRANSFER_PROMPT,
};
use crate::call::signal::{EndCause, TransferTarget};

/// The phase with another hotline.
#[derive(Debug)]
pub struct External {
    leg: LegId,
    handoff: HandOff,
    up: bool,
    ring_until: Option<Instant>,
}

impl External {
    /// Dials the other hotline (blind) or takes its answered leg (the operator left).
    pub fn enter(ctx: &mut Ctx, handoff: HandOff, now: Instant) -> External {
        match handoff.answered {
            Some(leg) => {
                ctx.emit(Output::Bridge(leg));
                External {
                    leg,
                    handoff,
                    up: true,
                    ring_until: None,
                }
            }
            None => {
                let leg = ctx.new_leg();
                ctx.emit(Output::Play(vec![TRANSFER_PROMPT.to_string()]));
                ctx.emit(Output::Hold(Some(HOLD_PROMPT.to_string())));
                ctx.emit(Output::Dial {
                    leg,
                    to: Dest::Number(handoff.hotline.dial.clone()),
                });
                External {
                    leg,
                    handoff,
                    up: false,
                    ring_until: Some(now + ctx.plan.callbacks.ring_caller),
                }
            }
        }
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input) -> Next {
        match input {
            Input::Seat { leg, event } if leg == self.leg => self.hotline(ctx, event),
            Input::Seat { leg, event } => {
                if let Some(held) = Held::of(event) {
                    ctx.answer_held(leg, held);
                }
                Next::Stay
            }
            Input::CallerBye => self.abort(ctx, EndCause::CallerHangup),
            Input::MediaTimeout => self.abort(ctx, EndCause::MediaTimeout),
            Input::Action(_) => {
                ctx.emit(Output::ReplyAction(Err(
                    "the caller was handed to another hotline".into(),
                )));
                Next::Stay
            }
            Input::Hold(_) => {
                ctx.emit(Output::ReplyHold(Err(
                    "the caller was handed to another hotline",
                )));
                Next::Stay
            }
            _ => Next::Stay,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.ring_until
    }

    pub fn timeout(&mut self, ctx: &mut Ctx, now: Instant) -> Next {
        match self.ring_until {
            Some(at) if now >= at => {
                ctx.emit(Output::CancelLeg(self.leg));
                self.failed(ctx, "no-answer")
            }
            _ => Next::Stay,
        }
    }

    /// Ends the call (the caller hung up, media lost, maximum duration).
    pub fn abort(&mut self, ctx: &mut Ctx, cause: EndCause) -> Next {
        if self.up {
            ctx.emit(Output::HangUpLeg(self.leg));
            ctx.emit(Output::Unbridge);
        } else {
            ctx.emit(Output::CancelLeg(self.leg));
        }
        ctx.emit(Output::ReleaseLeg {
            leg: self.leg,
            outcome: "completed".into(),
        });
        ctx.finish(cause)
    }

    /// Who the caller is with, for the API.
    pub fn parties(&self) -> Vec<PartyView> {
        vec![PartyView {
            role: "hotline",
            who: self.handoff.hotline.number.clone(),
            state: if self.up { "up" } else { "ringing" },
            mode: None,
        }]
    }

    fn hotline(&mut self, ctx: &mut Ctx, event: SeatEvent) -> Next {
        let leg = self.leg;
        match event {
            SeatEvent::Answered if !self.up => {
                self.up = true;
                self.ring_until = None;
                let h = &self.handoff;
                ctx.emit(Output::HandedOver {
                    hotline: h.hotline.clone(),
                    also_ours: h.also_ours,
                    by: h.by.clone(),
                });
                ctx.emit(Output::Audit {
                    by: h.by.clone(),
                    action: "hand-over",
                    detail: format!("{} {} answered", h.hotline.number, h.hotline.name),
                });
                ctx.emit(Output::Bridge(leg));
                Next::Stay
            }
            SeatEvent::Bye if self.up => {
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Ok,
                });
                ctx.emit(Output::Unbridge);
                ctx.emit(Output::ReleaseLeg {
                    leg,
                    outcome: "completed".into(),
                });
                ctx.finish(EndCause::AgentHangup)
            }
            SeatEvent::MediaTimeout if self.up => {
                ctx.emit(Output::HangUpLeg(leg));
                ctx.emit(Output::Unbridge);
                ctx.emit(Output::ReleaseLeg {
                    leg,
                    outcome: "media-timeout".into(),
                });
                ctx.finish(EndCause::MediaTimeout)
            }
            SeatEvent::Refer(_) | SeatEvent::Replaces { .. } => {
                if let Some(held) = Held::of(event) {
                    ctx.answer_held(leg, held);
                }
                Next::Stay
            }
            SeatEvent::Answered | SeatEvent::MediaTimeout => Next::Stay,
            SeatEvent::Bye => {
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Ok,
                });
                self.failed(ctx, "hung-up")
            }
            SeatEvent::Unusable => {
                ctx.emit(Output::HangUpLeg(leg));
                self.failed(ctx, "unusable answer")
            }
            SeatEvent::Declined(code) => self.failed(ctx, &format!("declined {code}")),
            SeatEvent::NoResponse => self.failed(ctx, "no-answer"),
            SeatEvent::DialFailed => self.failed(ctx, "not-dialled"),
        }
    }

    /// The other hotline did not take the caller: back to the platform's queue.
    fn failed(&mut self, ctx: &mut Ctx, outcome: &str) -> Next {
        ctx.emit(Output::ReleaseLeg {
            leg: self.leg,
            outcome: outcome.into(),
        });
        ctx.emit(Output::Audit {
            by: self.handoff.by.clone(),
            action: "hand-over-failed",
            detail: format!("{}: {outcome}", self.handoff.hotline.number),
        });
        let platform = ctx.platform.clone();
        Next::Wait(Entry::Transferred(TransferTarget {
            queue: platform.clone(),
            platform,
        }))
    }
}
