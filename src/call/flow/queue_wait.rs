//! Waiting for an operator. The call joins its queue at once, so that seats ring while the
//! greeting plays; the caller hears the greeting (or "transferring you"), then hold music with
//! the position announcements. The ACD rings seats (one, or several at once); the first that
//! answers is bridged, but never before the greeting has ended: a caller always hears it.
//!
//! Every 200 OK from a seat ends bridged, or ACKed (by the edge) and hung up with BYE: a seat
//! that answers just as its ring times out, or a ring-all loser, is hung up, and the caller
//! keeps its place. A BYE or REFER from an answered seat before the bridge is held for it.
//!
//! The caller leaves the queue by hanging up (a callback is owed), losing media, at overflow
//! or at closing time when no seat of the platform is signed in (voicemail), or at the call's
//! maximum duration.

use std::collections::BTreeMap;

use super::ctx::{Answered, Ctx, Entry, Held, Next};
use super::io::{
    Dest, Input, LegId, LegReply, Output, QueueNotice, SeatEvent, HOLD_PROMPT, TRANSFER_PROMPT,
};
use crate::acd::AcdEvent;
use crate::call::signal::EndCause;

/// One seat being rung for this call.
#[derive(Debug)]
struct Leg {
    agent: String,
    answered: bool,
    held: Vec<Held>,
}

/// The queue-wait phase.
#[derive(Debug)]
pub struct Waiting {
    queue: String,
    /// The platform whose hours and seats decide about closing time.
    platform: String,
    legs: BTreeMap<LegId, Leg>,
    greeting_playing: bool,
    /// The caller may press the lookup key now (during the platform's greeting).
    may_look_up: bool,
}

impl Waiting {
    /// Joins the queue and starts the greeting and hold music.
    pub fn enter(ctx: &mut Ctx, entry: Entry) -> Waiting {
        let (queue, platform, greeting) = match entry {
            Entry::Platform { queue, greeted } => {
                let greeting = if greeted {
                    None
                } else {
                    ctx.welcome(&ctx.platform)
                };
                (queue, ctx.platform.clone(), greeting)
            }
            Entry::Transferred(to) => (to.queue, to.platform, Some(TRANSFER_PROMPT.to_string())),
        };
        ctx.emit(Output::JoinQueue(queue.clone()));
        // The greeting first, then the hold music that follows it: the pacer sends from
        // another thread, and hold music set on an idle stream before the greeting would play
        // a frame of itself ahead of the welcome.
        let greeting_playing = greeting.is_some();
        let may_look_up = greeting_playing && queue == ctx.platform;
        if let Some(greeting) = greeting {
            ctx.emit(Output::Play(vec![greeting]));
        }
        ctx.emit(Output::Hold(Some(HOLD_PROMPT.to_string())));
        Waiting {
            queue,
            platform,
            legs: BTreeMap::new(),
            greeting_playing,
            may_look_up,
        }
    }

    /// The platform whose staffing the edge reports while the caller waits.
    pub fn platform(&self) -> &str {
        &self.platform
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input) -> Next {
        match input {
            Input::PlayDone => {
                self.greeting_playing = false;
                Next::Stay
            }
            // The lookup key during the greeting (unless a seat already took the call): the
            // caller leaves the queue for a progress lookup.
            Input::Dtmf(key)
                if self.greeting_playing
                    && self.may_look_up
                    && Some(key) == ctx.plan.lookup.key
                    && !self.legs.values().any(|l| l.answered) =>
            {
                ctx.emit(Output::SelfService);
                self.let_go(ctx, false);
                Next::Lookup
            }
            Input::Queue(notice) => self.notice(ctx, notice),
            Input::Seat { leg, event } => {
                self.seat(ctx, leg, event);
                Next::Stay
            }
            Input::CallerBye => {
                ctx.acd(|call| AcdEvent::CallAbandoned { call });
                // A caller who gave up waiting is owed a callback.
                ctx.emit(Output::RequestCallback);
                self.let_go(ctx, false);
                ctx.finish(EndCause::CallerHangup)
            }
            Input::MediaTimeout => self.abort(ctx, EndCause::MediaTimeout),
            Input::Staffing {
                open: false,
                seats_signed_in: false,
            } => {
                // At closing time a caller is still answered while seats of the platform are
                // signed in, and offered voicemail otherwise.
                ctx.acd(|call| AcdEvent::CallAbandoned { call });
                self.let_go(ctx, false);
                Next::Voicemail(self.platform.clone())
            }
            _ => Next::Stay,
        }
    }

    /// Leaves the queue and ends the call (media lost, maximum duration).
    pub fn abort(&mut self, ctx: &mut Ctx, cause: EndCause) -> Next {
        ctx.acd(|call| AcdEvent::CallAbandoned { call });
        self.let_go(ctx, false);
        ctx.finish(cause)
    }

    fn leg_of(&self, agent: &str) -> Option<LegId> {
        self.legs
            .iter()
            .find(|(_, l)| l.agent == agent)
            .map(|(id, _)| *id)
    }

    fn notice(&mut self, ctx: &mut Ctx, notice: QueueNotice) -> Next {
        match notice {
            QueueNotice::Ring { agent } => {
                let leg = ctx.new_leg();
                ctx.emit(Output::Dial {
                    leg,
                    to: Dest::Seat(agent.clone()),
                });
                self.legs.insert(
                    leg,
                    Leg {
                        agent,
                        answered: false,
                        held: Vec::new(),
                    },
                );
            }
            QueueNotice::StopRinging { agent } => {
                // Its answer may have come in just before the ring timeout: then it is hung up
                // (the ACD has moved on), else cancelled; the caller keeps its place.
                if let Some(id) = self.leg_of(&agent) {
                    let leg = self.legs.remove(&id).expect("found above");
                    let outcome = Self::give_up(ctx, id, leg);
                    let outcome = if outcome == "caller-gone" {
                        "answered-too-late"
                    } else {
                        outcome
                    };
                    ctx.emit(Output::ReleaseLeg {
                        leg: id,
                        outcome: outcome.into(),
                    });
                }
            }
            QueueNotice::Connect { agent } => {
                let Some(id) = self.leg_of(&agent) else {
                    return Next::Stay;
                };
                let leg = self.legs.remove(&id).expect("found above");
                self.let_go(ctx, true);
                return Next::Bridge(Answered {
                    leg: id,
                    agent: leg.agent,
                    queue: self.queue.clone(),
                    held: leg.held,
                    greeting_playing: self.greeting_playing,
                });
            }
            QueueNotice::Overflow => {
                // The ACD has taken the call out of the queue already.
                self.let_go(ctx, false);
                return Next::Voicemail(self.platform.clone());
            }
            QueueNotice::Announce {
                position,
                estimated_wait,
            } => ctx.emit(Output::Enqueue(crate::call::announce::position_and_wait(
                position,
                estimated_wait,
            ))),
        }
        Next::Stay
    }

    fn seat(&mut self, ctx: &mut Ctx, id: LegId, event: SeatEvent) {
        let Some(leg) = self.legs.get_mut(&id) else {
            // A leg already let go: its requests still get an answer.
            if let Some(held) = Held::of(event) {
                ctx.answer_held(id, held);
            }
            return;
        };
        let agent = leg.agent.clone();
        let declined = |ctx: &mut Ctx| {
            let agent = agent.clone();
            ctx.acd(|call| AcdEvent::Declined { call, agent });
        };
        match event {
            SeatEvent::Answered => {
                leg.answered = true;
                let agent = agent.clone();
                ctx.acd(|call| AcdEvent::Answered { call, agent });
            }
            SeatEvent::Bye | SeatEvent::Refer(_) | SeatEvent::Replaces { .. } if leg.answered => {
                // The bridge takes them, in order.
                leg.held.extend(Held::of(event));
            }
            // No dialog with a seat that has not answered: nothing to transfer.
            SeatEvent::Refer(_) | SeatEvent::Replaces { .. } => {
                if let Some(held) = Held::of(event) {
                    ctx.answer_held(id, held);
                }
            }
            SeatEvent::DialFailed => {
                self.legs.remove(&id);
                declined(ctx);
            }
            SeatEvent::Unusable
            | SeatEvent::Declined(_)
            | SeatEvent::NoResponse
            | SeatEvent::Bye => {
                let outcome = match event {
                    SeatEvent::Unusable => {
                        ctx.emit(Output::HangUpLeg(id));
                        "unusable answer".to_string()
                    }
                    SeatEvent::Declined(code) => format!("declined {code}"),
                    SeatEvent::NoResponse => "no-response".into(),
                    _ => {
                        ctx.emit(Output::AnswerLeg {
                            leg: id,
                            reply: LegReply::Ok,
                        });
                        "hung-up".into()
                    }
                };
                self.legs.remove(&id);
                ctx.emit(Output::ReleaseLeg { leg: id, outcome });
                declined(ctx);
            }
            SeatEvent::MediaTimeout => {}
        }
    }

    /// Ends a leg that will not be bridged: BYE when the seat answered (unless it hung up
    /// itself), CANCEL while it rings; its held requests are answered. The outcome to store.
    fn give_up(ctx: &mut Ctx, id: LegId, leg: Leg) -> &'static str {
        let outcome = if leg.answered {
            if !leg.held.contains(&Held::Bye) {
                ctx.emit(Output::HangUpLeg(id));
            }
            "caller-gone"
        } else {
            ctx.emit(Output::CancelLeg(id));
            "no-answer"
        };
        for held in leg.held {
            ctx.answer_held(id, held);
        }
        outcome
    }

    /// Lets go of every leg left: the call leaves the queue (`connected`: to another seat).
    fn let_go(&mut self, ctx: &mut Ctx, connected: bool) {
        for (id, leg) in std::mem::take(&mut self.legs) {
            let outcome = Self::give_up(ctx, id, leg);
            // The ACD already counts an answering seat as on this call: unless the call goes
            // on to another seat, the call ended, and the seat is free.
            if outcome == "caller-gone" && !connected {
                ctx.acd(|call| AcdEvent::CallEnded {
                    call,
                    by_agent: false,
                });
            }
            ctx.emit(Output::ReleaseLeg {
                leg: id,
                outcome: outcome.into(),
            });
        }
    }
}
