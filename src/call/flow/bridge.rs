//! The caller and the operator talk: the edge relays audio and DTMF both ways and records each
//! side. It ends when either hangs up or loses media, at the call's maximum duration, or with a
//! transfer: the seat's REFER (202, then the hand-over in [`super::transfer`]) or the API's
//! (the seat is hung up). A bridge that starts while the greeting plays waits for its end.
//! The operator may hold the caller (hold music; neither hears the other) and take them back.

use std::time::Instant;

use super::ctx::{Answered, Ctx, Entry, Held, Next};
use super::io::{Input, LegId, LegReply, Output, SeatEvent};
use crate::acd::AcdEvent;
use crate::call::signal::EndCause;

/// The bridged phase.
#[derive(Debug)]
pub struct Bridge {
    leg: LegId,
    agent: String,
    /// False while the greeting still plays.
    relaying: bool,
    /// The caller is on hold.
    held: bool,
}

impl Bridge {
    /// Bridges the seat that answered (once the greeting is over), then handles what it sent
    /// before the bridge.
    pub fn enter(ctx: &mut Ctx, answered: Answered, now: Instant) -> (Bridge, Next) {
        let mut bridge = Bridge {
            leg: answered.leg,
            agent: answered.agent,
            relaying: !answered.greeting_playing,
            held: false,
        };
        if bridge.relaying {
            ctx.emit(Output::Bridge(bridge.leg));
        }
        let leg = bridge.leg;
        for (i, held) in answered.held.iter().enumerate() {
            let event = match held.clone() {
                Held::Bye => SeatEvent::Bye,
                Held::Refer(to) => SeatEvent::Refer(to),
            };
            let next = bridge.handle(ctx, Input::Seat { leg, event }, now);
            if !matches!(next, Next::Stay) {
                // The rest can no longer be taken by this bridge.
                for held in answered.held.into_iter().skip(i + 1) {
                    ctx.answer_held(leg, held);
                }
                return (bridge, next);
            }
        }
        (bridge, Next::Stay)
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input, _now: Instant) -> Next {
        match input {
            Input::PlayDone if !self.relaying => {
                self.relaying = true;
                ctx.emit(Output::Bridge(self.leg));
                Next::Stay
            }
            Input::Hold(_) if !self.relaying => {
                ctx.emit(Output::ReplyHold(Err(
                    "the caller still hears the greeting",
                )));
                Next::Stay
            }
            Input::Hold(on) => {
                if on != self.held {
                    self.held = on;
                    if on {
                        ctx.emit(Output::HoldCaller);
                        ctx.emit(Output::Hold(Some(super::io::HOLD_PROMPT.to_string())));
                    } else {
                        ctx.emit(Output::ResumeCaller);
                    }
                }
                ctx.emit(Output::ReplyHold(Ok(self.held)));
                Next::Stay
            }
            Input::CallerBye => self.end(ctx, EndCause::CallerHangup, false, true),
            Input::MediaTimeout => self.end(ctx, EndCause::MediaTimeout, false, true),
            Input::Seat { leg, event } if leg == self.leg => match event {
                SeatEvent::Bye => {
                    ctx.emit(Output::AnswerLeg {
                        leg,
                        reply: LegReply::Ok,
                    });
                    self.end(ctx, EndCause::AgentHangup, true, false)
                }
                SeatEvent::MediaTimeout => self.end(ctx, EndCause::MediaTimeout, true, true),
                SeatEvent::Refer(Ok(to)) => {
                    // 202 Accepted (RFC 3515), then the hand-over.
                    ctx.emit(Output::AnswerLeg {
                        leg,
                        reply: LegReply::Accepted,
                    });
                    ctx.emit(Output::Unbridge);
                    Next::HandOver {
                        leg,
                        agent: self.agent.clone(),
                        to,
                    }
                }
                SeatEvent::Refer(Err(refusal)) => {
                    ctx.emit(Output::AnswerLeg {
                        leg,
                        reply: LegReply::Refused(refusal),
                    });
                    Next::Stay
                }
                _ => Next::Stay,
            },
            // A leg let go before the bridge: its requests still get an answer.
            Input::Seat { leg, event } => {
                if let Some(held) = Held::of(event) {
                    ctx.answer_held(leg, held);
                }
                Next::Stay
            }
            Input::Transfer { to: Ok(to), by } => {
                ctx.emit(Output::ReplyTransfer(Ok(to.clone())));
                // A seat transferred by the API is simply hung up.
                ctx.emit(Output::HangUpLeg(self.leg));
                ctx.emit(Output::Unbridge);
                ctx.emit(Output::ReleaseLeg {
                    leg: self.leg,
                    outcome: "transferred".into(),
                });
                let queue = to.queue.clone();
                ctx.acd(|call| AcdEvent::Transferred { call, to: queue });
                ctx.emit(Output::Escalate { to: to.clone(), by });
                Next::Wait(Entry::Transferred(to))
            }
            Input::Transfer { to: Err(e), .. } => {
                ctx.emit(Output::ReplyTransfer(Err(e)));
                Next::Stay
            }
            _ => Next::Stay,
        }
    }

    /// Ends the call from the bridge (maximum duration).
    pub fn abort(&mut self, ctx: &mut Ctx, cause: EndCause) -> Next {
        self.end(ctx, cause, false, true)
    }

    fn end(&mut self, ctx: &mut Ctx, cause: EndCause, by_agent: bool, hang_up_seat: bool) -> Next {
        if hang_up_seat {
            ctx.emit(Output::HangUpLeg(self.leg));
        }
        ctx.emit(Output::Unbridge);
        ctx.emit(Output::ReleaseLeg {
            leg: self.leg,
            outcome: "completed".into(),
        });
        ctx.acd(|call| AcdEvent::CallEnded { call, by_agent });
        ctx.finish(cause)
    }
}
