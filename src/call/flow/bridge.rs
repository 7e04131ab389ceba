//! The caller and the operator talk: the edge relays audio and DTMF both ways and records each
//! side. It ends when either hangs up or loses media, at the call's maximum duration, or with a
//! transfer: the seat's REFER (202, then the hand-over in [`super::transfer`]) or the API's
//! (the seat is hung up). A bridge that starts while the greeting plays waits for its end.
//! When the operator hangs up, the caller is asked to rate the call ([`super::rating`]).
//!
//! Others may join the two, each on a leg of their own, and who hears whom is the room the
//! edge mixes ([`Output::Room`]):
//! - **another hotline** (110, 119, 120, 122, 12315…): in a three-party call all three hear
//!   each other, and the operator may leave once it answered ([`super::external`] goes on);
//!   blind, the operator leaves at once. The case records the hand-over when it answers.
//! - **a colleague consulted** while the caller holds (hold music): the operator completes the
//!   transfer (the colleague takes the caller, the operator leaves) or cancels it; a colleague
//!   who does not answer, declines or hangs up gives the caller back to the operator. An
//!   operator who hangs up during a consultation hands the caller to the colleague (or, when
//!   the colleague never answers, back to the queue): a caller is never dropped.
//! - **a supervisor**: listening (hears both, heard by none), whispering (heard by the operator
//!   only) or barging in (heard by both), switching mode at will; each start, change and stop
//!   goes to the case's audit.
//!
//! The operator may also hold the caller (hold music; neither hears the other) and take them
//! back.

use std::time::Instant;

use super::ctx::{Answered, Ctx, Entry, HandOff, Held, Next};
use super::io::{
    Action, Actor, Dest, Hearers, Hotline, Input, LegId, LegReply, Member, MonitorMode, Output,
    Party, PartyView, SeatEvent, HOLD_PROMPT,
};
use crate::acd::AcdEvent;
use crate::call::signal::{EndCause, TransferTarget};

/// Another party joining the two.
#[derive(Debug)]
struct Third {
    leg: LegId,
    up: bool,
    /// While it rings: when we give up.
    ring_until: Option<Instant>,
    kind: ThirdKind,
}

#[derive(Debug)]
enum ThirdKind {
    /// Another hotline in a three-party call.
    Hotline {
        hotline: Hotline,
        also_ours: bool,
        by: Actor,
    },
    /// A colleague consulted while the caller holds.
    Consult {
        agent: String,
        reservation: String,
        by: Actor,
    },
}

/// A supervisor in the call.
#[derive(Debug)]
struct Monitor {
    leg: LegId,
    seat: String,
    mode: MonitorMode,
    up: bool,
    ring_until: Option<Instant>,
    by: Actor,
}

/// The bridged phase.
#[derive(Debug)]
pub struct Bridge {
    leg: LegId,
    agent: String,
    /// False while the greeting still plays.
    relaying: bool,
    /// The operator holds the caller.
    held: bool,
    /// The operator hung up during a consultation: the colleague takes the caller.
    operator_gone: bool,
    third: Option<Third>,
    monitor: Option<Monitor>,
    /// An operator who transferred the caller with REFER and Replaces: their leg, until
    /// they hang up themselves (or we do, after [`super::transfer::HAND_OVER`]).
    leaving: Option<(LegId, Instant)>,
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
            operator_gone: false,
            third: None,
            monitor: None,
            leaving: None,
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

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input, now: Instant) -> Next {
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
            Input::Hold(_) if self.consulting() => {
                ctx.emit(Output::ReplyHold(Err(
                    "the caller is on hold for a consultation",
                )));
                Next::Stay
            }
            Input::Hold(on) => {
                if on != self.held {
                    self.held = on;
                    if on {
                        ctx.emit(Output::Hold(Some(HOLD_PROMPT.to_string())));
                    }
                    self.room(ctx);
                }
                ctx.emit(Output::ReplyHold(Ok(self.held)));
                Next::Stay
            }
            Input::CallerBye => self.end(ctx, EndCause::CallerHangup, false, true),
            Input::MediaTimeout => self.end(ctx, EndCause::MediaTimeout, false, true),
            Input::Seat { leg, event } if leg == self.leg => self.operator(ctx, event, now),
            Input::Seat { leg, event } if self.third.as_ref().is_some_and(|t| t.leg == leg) => {
                self.third_event(ctx, event)
            }
            Input::Seat { leg, event } if self.monitor.as_ref().is_some_and(|m| m.leg == leg) => {
                self.monitor_event(ctx, event);
                Next::Stay
            }
            Input::Seat { leg, event } if self.leaving.is_some_and(|(l, _)| l == leg) => {
                if event == SeatEvent::Bye {
                    ctx.emit(Output::AnswerLeg {
                        leg,
                        reply: LegReply::Ok,
                    });
                    self.left(ctx);
                } else if let Some(held) = Held::of(event) {
                    ctx.answer_held(leg, held);
                }
                Next::Stay
            }
            // A leg let go before the bridge: its requests still get an answer.
            Input::Seat { leg, event } => {
                if let Some(held) = Held::of(event) {
                    ctx.answer_held(leg, held);
                }
                Next::Stay
            }
            Input::Transfer { to: Ok(to), by } => {
                ctx.emit(Output::ReplyTransfer(Ok(to.clone())));
                self.let_go_others(ctx);
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
            Input::Action(action) => self.action(ctx, action, now),
            _ => Next::Stay,
        }
    }

    /// When a party being added is given up on, or an operator who transferred is hung up.
    pub fn deadline(&self) -> Option<Instant> {
        [
            self.third.as_ref().and_then(|t| t.ring_until),
            self.monitor.as_ref().and_then(|m| m.ring_until),
            self.leaving.map(|(_, until)| until),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The operator who transferred with Replaces is gone: their leg is let go.
    fn left(&mut self, ctx: &mut Ctx) {
        if let Some((leg, _)) = self.leaving.take() {
            ctx.emit(Output::ReleaseLeg {
                leg,
                outcome: "transferred".into(),
            });
        }
    }

    /// A party that rang too long is given up on; an operator who transferred and stays on
    /// is hung up.
    pub fn timeout(&mut self, ctx: &mut Ctx, now: Instant) -> Next {
        if let Some((leg, until)) = self.leaving {
            if now >= until {
                ctx.emit(Output::HangUpLeg(leg));
                self.left(ctx);
            }
        }
        if self
            .monitor
            .as_ref()
            .and_then(|m| m.ring_until)
            .is_some_and(|t| now >= t)
        {
            let leg = self.monitor.as_ref().expect("checked").leg;
            ctx.emit(Output::CancelLeg(leg));
            self.monitor_event(ctx, SeatEvent::NoResponse);
        }
        if self
            .third
            .as_ref()
            .and_then(|t| t.ring_until)
            .is_some_and(|t| now >= t)
        {
            let leg = self.third.as_ref().expect("checked").leg;
            ctx.emit(Output::CancelLeg(leg));
            return self.third_event(ctx, SeatEvent::NoResponse);
        }
        Next::Stay
    }

    /// Ends the call from the bridge (maximum duration).
    pub fn abort(&mut self, ctx: &mut Ctx, cause: EndCause) -> Next {
        self.end(ctx, cause, false, true)
    }

    /// Who is in the call now, for the API.
    pub fn parties(&self) -> Vec<PartyView> {
        let state = |up: bool| if up { "up" } else { "ringing" };
        let mut out = Vec::new();
        if !self.operator_gone {
            out.push(PartyView {
                role: "operator",
                who: self.agent.clone(),
                state: "up",
                mode: None,
            });
        }
        if let Some(t) = &self.third {
            let (role, who) = match &t.kind {
                ThirdKind::Hotline { hotline, .. } => ("hotline", hotline.number.clone()),
                ThirdKind::Consult { agent, .. } => ("colleague", agent.clone()),
            };
            out.push(PartyView {
                role,
                who,
                state: state(t.up),
                mode: None,
            });
        }
        if let Some(m) = &self.monitor {
            out.push(PartyView {
                role: "supervisor",
                who: m.by.id.clone(),
                state: state(m.up),
                mode: Some(m.mode),
            });
        }
        out
    }

    /// Whether the caller holds for a consultation.
    fn consulting(&self) -> bool {
        matches!(
            self.third,
            Some(Third {
                kind: ThirdKind::Consult { .. },
                ..
            })
        )
    }

    /// Tells the edge who hears whom now (once the greeting is over).
    fn room(&self, ctx: &mut Ctx) {
        if !self.relaying {
            return;
        }
        let everyone = |party| Member {
            party,
            heard_by: Hearers::Everyone,
            hears: true,
        };
        let mut room = Vec::new();
        if !self.held && !self.consulting() {
            room.push(everyone(Party::Caller));
        }
        if !self.operator_gone {
            room.push(everyone(Party::Leg(self.leg)));
        }
        if let Some(t) = self.third.as_ref().filter(|t| t.up) {
            room.push(everyone(Party::Leg(t.leg)));
        }
        if let Some(m) = self.monitor.as_ref().filter(|m| m.up) {
            room.push(Member {
                party: Party::Leg(m.leg),
                heard_by: match m.mode {
                    MonitorMode::Listen => Hearers::Nobody,
                    MonitorMode::Whisper => Hearers::Only(vec![Party::Leg(self.leg)]),
                    MonitorMode::Barge => Hearers::Everyone,
                },
                hears: true,
            });
        }
        ctx.emit(Output::Room(room));
    }

    /// What the operator's leg did.
    fn operator(&mut self, ctx: &mut Ctx, event: SeatEvent, now: Instant) -> Next {
        let leg = self.leg;
        match event {
            SeatEvent::Bye => {
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Ok,
                });
                match &self.third {
                    // Hanging up in a three-party call with another hotline that answered
                    // leaves the caller with it.
                    Some(Third {
                        up: true,
                        kind: ThirdKind::Hotline { by, .. },
                        ..
                    }) => {
                        let by = by.clone();
                        self.leave(ctx, by, false)
                    }
                    // Hanging up during a consultation hands the caller to the colleague.
                    Some(Third {
                        kind: ThirdKind::Consult { .. },
                        up,
                        ..
                    }) => {
                        let up = *up;
                        self.operator_gone = true;
                        ctx.emit(Output::ReleaseLeg {
                            leg,
                            outcome: "transferred".into(),
                        });
                        if up {
                            self.complete(ctx)
                        } else {
                            Next::Stay
                        }
                    }
                    _ => self.end(ctx, EndCause::AgentHangup, true, false),
                }
            }
            SeatEvent::MediaTimeout => self.end(ctx, EndCause::MediaTimeout, true, true),
            SeatEvent::Refer(Ok(to)) => {
                // 202 Accepted (RFC 3515), then the hand-over.
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Accepted,
                });
                self.let_go_others(ctx);
                ctx.emit(Output::Unbridge);
                let _ = now;
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
            SeatEvent::Replaces { agent, reservation } => {
                // An attended transfer from the softphone (RFC 5589): the colleague it
                // consulted takes the caller, the operator is told and let go.
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Accepted,
                });
                self.let_go_others(ctx);
                let colleague = ctx.new_leg();
                ctx.emit(Output::Adopt(colleague));
                // Told, the operator hangs up (RFC 5589); else we do after the hand-over time.
                ctx.emit(Output::NotifyTransferred(leg));
                ctx.emit(Output::Unbridge);
                self.leaving = Some((leg, now + super::transfer::HAND_OVER));
                ctx.acd(|call| AcdEvent::Handed { call, reservation });
                ctx.emit(Output::Audit {
                    by: Actor {
                        role: crate::cases::workflow::Role::Operator,
                        id: self.agent.clone(),
                        unit: None,
                    },
                    action: "attended-transfer",
                    detail: format!("{} → {agent}", self.agent),
                });
                self.leg = colleague;
                self.agent = agent;
                self.held = false;
                if self.relaying {
                    ctx.emit(Output::Bridge(colleague));
                }
                Next::Stay
            }
            _ => Next::Stay,
        }
    }

    /// What the third party's leg did.
    fn third_event(&mut self, ctx: &mut Ctx, event: SeatEvent) -> Next {
        let Some(third) = self.third.as_mut() else {
            return Next::Stay;
        };
        let leg = third.leg;
        let outcome = match event {
            SeatEvent::Answered => {
                third.up = true;
                third.ring_until = None;
                match &third.kind {
                    ThirdKind::Hotline {
                        hotline,
                        also_ours,
                        by,
                    } => {
                        ctx.emit(Output::HandedOver {
                            hotline: hotline.clone(),
                            also_ours: *also_ours,
                            by: by.clone(),
                        });
                        let detail =
                            format!("{} {} answered (three-party)", hotline.number, hotline.name);
                        let by = by.clone();
                        ctx.emit(Output::Audit {
                            by,
                            action: "hand-over",
                            detail,
                        });
                    }
                    ThirdKind::Consult { .. } if self.operator_gone => return self.complete(ctx),
                    ThirdKind::Consult { .. } => {}
                }
                self.room(ctx);
                return Next::Stay;
            }
            SeatEvent::Bye => {
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Ok,
                });
                "hung-up".to_string()
            }
            SeatEvent::Unusable => {
                ctx.emit(Output::HangUpLeg(leg));
                "unusable answer".into()
            }
            SeatEvent::Declined(code) => format!("declined {code}"),
            SeatEvent::NoResponse => "no-answer".into(),
            SeatEvent::DialFailed => "not-dialled".into(),
            SeatEvent::MediaTimeout => {
                ctx.emit(Output::HangUpLeg(leg));
                "media-timeout".into()
            }
            SeatEvent::Refer(_) | SeatEvent::Replaces { .. } => {
                if let Some(held) = Held::of(event) {
                    ctx.answer_held(leg, held);
                }
                return Next::Stay;
            }
        };
        let third = self.third.take().expect("matched above");
        ctx.emit(Output::ReleaseLeg {
            leg,
            outcome: outcome.clone(),
        });
        match third.kind {
            ThirdKind::Hotline { hotline, by, .. } => {
                let (action, detail) = if third.up {
                    ("hand-over-left", format!("{} hung up", hotline.number))
                } else {
                    ("hand-over-failed", format!("{}: {outcome}", hotline.number))
                };
                ctx.emit(Output::Audit { by, action, detail });
            }
            ThirdKind::Consult {
                agent,
                reservation,
                by,
            } => {
                ctx.acd(|_| AcdEvent::Released { call: reservation });
                ctx.emit(Output::Audit {
                    by,
                    action: "consult-ended",
                    detail: format!("{agent}: {outcome}"),
                });
                if self.operator_gone {
                    // Nobody left to talk with: back to the platform's queue.
                    return self.back_to_queue(ctx);
                }
            }
        }
        self.room(ctx);
        Next::Stay
    }

    /// What the supervisor's leg did.
    fn monitor_event(&mut self, ctx: &mut Ctx, event: SeatEvent) {
        let Some(m) = self.monitor.as_mut() else {
            return;
        };
        let leg = m.leg;
        let outcome = match event {
            SeatEvent::Answered => {
                m.up = true;
                m.ring_until = None;
                let (by, action, detail) = (m.by.clone(), monitor_action(m.mode), m.seat.clone());
                ctx.emit(Output::Audit { by, action, detail });
                self.room(ctx);
                return;
            }
            SeatEvent::Bye => {
                ctx.emit(Output::AnswerLeg {
                    leg,
                    reply: LegReply::Ok,
                });
                "hung-up".to_string()
            }
            SeatEvent::Refer(_) | SeatEvent::Replaces { .. } => {
                if let Some(held) = Held::of(event) {
                    ctx.answer_held(leg, held);
                }
                return;
            }
            SeatEvent::Unusable | SeatEvent::MediaTimeout => {
                ctx.emit(Output::HangUpLeg(leg));
                "ended".into()
            }
            SeatEvent::Declined(code) => format!("declined {code}"),
            SeatEvent::NoResponse => "no-answer".into(),
            SeatEvent::DialFailed => "not-dialled".into(),
        };
        let m = self.monitor.take().expect("matched above");
        ctx.emit(Output::ReleaseLeg {
            leg,
            outcome: outcome.clone(),
        });
        ctx.emit(Output::Audit {
            by: m.by,
            action: "monitor-stop",
            detail: format!("{}: {outcome}", m.seat),
        });
        self.room(ctx);
    }

    /// What the API asks.
    fn action(&mut self, ctx: &mut Ctx, action: Action, now: Instant) -> Next {
        let refuse = |ctx: &mut Ctx, why: &str| {
            ctx.emit(Output::ReplyAction(Err(why.to_string())));
            Next::Stay
        };
        if !self.relaying || self.operator_gone {
            if let Action::Consult { reservation, .. } = &action {
                let reservation = reservation.clone();
                ctx.acd(|_| AcdEvent::Released { call: reservation });
            }
            return refuse(ctx, "the caller is not talking with the operator yet");
        }
        match action {
            Action::HandOver {
                hotline,
                three_party,
                also_ours,
                by,
            } => {
                if self.third.is_some() {
                    return refuse(ctx, "another party is being added to the call already");
                }
                if !three_party {
                    ctx.emit(Output::ReplyAction(Ok("handing over")));
                    ctx.emit(Output::Audit {
                        by: by.clone(),
                        action: "hand-over",
                        detail: format!("{} {} (blind)", hotline.number, hotline.name),
                    });
                    return self.hand_off(
                        ctx,
                        HandOff {
                            hotline,
                            also_ours,
                            by,
                            answered: None,
                        },
                        "handed-over",
                    );
                }
                let leg = ctx.new_leg();
                ctx.emit(Output::Dial {
                    leg,
                    to: Dest::Number(hotline.dial.clone()),
                });
                ctx.emit(Output::Audit {
                    by: by.clone(),
                    action: "hand-over",
                    detail: format!(
                        "{} {} (three-party): dialling",
                        hotline.number, hotline.name
                    ),
                });
                self.third = Some(Third {
                    leg,
                    up: false,
                    ring_until: Some(now + ctx.plan.callbacks.ring_caller),
                    kind: ThirdKind::Hotline {
                        hotline,
                        also_ours,
                        by,
                    },
                });
                ctx.emit(Output::ReplyAction(Ok("dialling")));
                Next::Stay
            }
            Action::Leave { by } => match &self.third {
                Some(Third {
                    up: true,
                    kind: ThirdKind::Hotline { .. },
                    ..
                }) => {
                    ctx.emit(Output::ReplyAction(Ok("left")));
                    self.leave(ctx, by, true)
                }
                _ => refuse(ctx, "no other hotline has answered in this call"),
            },
            Action::Consult {
                agent,
                reservation,
                by,
            } => {
                if self.third.is_some() {
                    ctx.acd(|_| AcdEvent::Released { call: reservation });
                    return refuse(ctx, "another party is being added to the call already");
                }
                let leg = ctx.new_leg();
                ctx.emit(Output::Hold(Some(HOLD_PROMPT.to_string())));
                ctx.emit(Output::Dial {
                    leg,
                    to: Dest::Seat(agent.clone()),
                });
                ctx.emit(Output::Audit {
                    by: by.clone(),
                    action: "consult",
                    detail: agent.clone(),
                });
                self.third = Some(Third {
                    leg,
                    up: false,
                    ring_until: Some(now + ctx.plan.callbacks.ring_seat),
                    kind: ThirdKind::Consult {
                        agent,
                        reservation,
                        by,
                    },
                });
                self.room(ctx);
                ctx.emit(Output::ReplyAction(Ok("dialling")));
                Next::Stay
            }
            Action::CompleteConsult { .. } => match &self.third {
                Some(Third {
                    up: true,
                    kind: ThirdKind::Consult { .. },
                    ..
                }) => {
                    ctx.emit(Output::ReplyAction(Ok("transferred")));
                    ctx.drop_leg(self.leg, true, "transferred");
                    self.complete(ctx)
                }
                Some(Third {
                    kind: ThirdKind::Consult { .. },
                    ..
                }) => refuse(ctx, "the colleague has not answered yet"),
                _ => refuse(ctx, "no consultation in this call"),
            },
            Action::CancelConsult { by } => {
                let consulting = self
                    .third
                    .take_if(|t| matches!(t.kind, ThirdKind::Consult { .. }));
                let Some(Third {
                    kind:
                        ThirdKind::Consult {
                            agent, reservation, ..
                        },
                    up,
                    leg,
                    ..
                }) = consulting
                else {
                    return refuse(ctx, "no consultation in this call");
                };
                // The caller is back with the operator before anything is stored.
                self.room(ctx);
                ctx.drop_leg(leg, up, "consultation-cancelled");
                ctx.acd(|_| AcdEvent::Released { call: reservation });
                ctx.emit(Output::Audit {
                    by,
                    action: "consult-cancelled",
                    detail: agent,
                });
                ctx.emit(Output::ReplyAction(Ok("cancelled")));
                Next::Stay
            }
            Action::Monitor { seat, mode, by } => {
                if let Some(m) = self.monitor.as_mut() {
                    if m.by.id != by.id {
                        return refuse(ctx, "another supervisor is in this call");
                    }
                    m.mode = mode;
                    if m.up {
                        let (by, action, detail) =
                            (m.by.clone(), monitor_action(mode), m.seat.clone());
                        self.room(ctx);
                        ctx.emit(Output::Audit { by, action, detail });
                    }
                    ctx.emit(Output::ReplyAction(Ok("mode changed")));
                    return Next::Stay;
                }
                let leg = ctx.new_leg();
                ctx.emit(Output::Dial {
                    leg,
                    to: Dest::Seat(seat.clone()),
                });
                self.monitor = Some(Monitor {
                    leg,
                    seat,
                    mode,
                    up: false,
                    ring_until: Some(now + ctx.plan.callbacks.ring_seat),
                    by,
                });
                ctx.emit(Output::ReplyAction(Ok("dialling")));
                Next::Stay
            }
            Action::StopMonitor { by } => {
                let Some(m) = self.monitor.take() else {
                    return refuse(ctx, "no supervisor is in this call");
                };
                // The two are put back together first: nothing waits on the leg's hang-up or
                // the audit's write meanwhile.
                self.room(ctx);
                ctx.drop_leg(m.leg, m.up, "stopped");
                ctx.emit(Output::Audit {
                    by,
                    action: "monitor-stop",
                    detail: m.seat,
                });
                ctx.emit(Output::ReplyAction(Ok("stopped")));
                Next::Stay
            }
        }
    }

    /// The operator leaves the caller with the other hotline that answered.
    fn leave(&mut self, ctx: &mut Ctx, by: Actor, hang_up_operator: bool) -> Next {
        let Some(Third {
            leg,
            kind: ThirdKind::Hotline {
                hotline, also_ours, ..
            },
            ..
        }) = self.third.take()
        else {
            return Next::Stay;
        };
        if hang_up_operator {
            ctx.emit(Output::HangUpLeg(self.leg));
        }
        ctx.emit(Output::Audit {
            by: by.clone(),
            action: "hand-over-operator-left",
            detail: hotline.number.clone(),
        });
        self.hand_off(
            ctx,
            HandOff {
                hotline,
                also_ours,
                by,
                answered: Some(leg),
            },
            "handed-over",
        )
    }

    /// The operator's part is over: the caller goes on with another hotline.
    fn hand_off(&mut self, ctx: &mut Ctx, handoff: HandOff, outcome: &str) -> Next {
        if handoff.answered.is_none() {
            ctx.emit(Output::HangUpLeg(self.leg));
        }
        self.let_go_monitor(ctx);
        ctx.emit(Output::Unbridge);
        ctx.emit(Output::ReleaseLeg {
            leg: self.leg,
            outcome: outcome.into(),
        });
        let to = handoff.hotline.number.clone();
        ctx.acd(|call| AcdEvent::Transferred { call, to });
        Next::External(handoff)
    }

    /// The colleague consulted takes the caller (the operator's leg is let go already).
    fn complete(&mut self, ctx: &mut Ctx) -> Next {
        let Some(Third {
            leg,
            kind:
                ThirdKind::Consult {
                    agent,
                    reservation,
                    by,
                },
            ..
        }) = self.third.take()
        else {
            return Next::Stay;
        };
        ctx.emit(Output::Unbridge);
        ctx.acd(|call| AcdEvent::Handed { call, reservation });
        ctx.emit(Output::Audit {
            by,
            action: "consult-transferred",
            detail: format!("{} → {agent}", self.agent),
        });
        self.leg = leg;
        self.agent = agent;
        self.held = false;
        self.operator_gone = false;
        ctx.emit(Output::Bridge(leg));
        self.room(ctx);
        Next::Stay
    }

    /// The operator left during a consultation the colleague never took: the caller waits in
    /// the platform's queue again.
    fn back_to_queue(&mut self, ctx: &mut Ctx) -> Next {
        self.let_go_monitor(ctx);
        ctx.emit(Output::Unbridge);
        ctx.acd(|call| AcdEvent::CallEnded {
            call,
            by_agent: true,
        });
        let platform = ctx.platform.clone();
        Next::Wait(Entry::Transferred(TransferTarget {
            queue: platform.clone(),
            platform,
        }))
    }

    /// Lets go of the supervisor.
    fn let_go_monitor(&mut self, ctx: &mut Ctx) {
        if let Some(m) = self.monitor.take() {
            ctx.drop_leg(m.leg, m.up, "call-ended");
            ctx.emit(Output::Audit {
                by: m.by,
                action: "monitor-stop",
                detail: format!("{}: the call ended", m.seat),
            });
        }
    }

    /// Lets go of everyone but the caller and the operator.
    fn let_go_others(&mut self, ctx: &mut Ctx) {
        if let Some((leg, _)) = self.leaving {
            ctx.emit(Output::HangUpLeg(leg));
            self.left(ctx);
        }
        self.let_go_monitor(ctx);
        if let Some(t) = self.third.take() {
            ctx.drop_leg(t.leg, t.up, "call-ended");
            if let ThirdKind::Consult { reservation, .. } = t.kind {
                ctx.acd(|_| AcdEvent::Released { call: reservation });
            }
        }
    }

    fn end(&mut self, ctx: &mut Ctx, cause: EndCause, by_agent: bool, hang_up_seat: bool) -> Next {
        self.let_go_others(ctx);
        if hang_up_seat && !self.operator_gone {
            ctx.emit(Output::HangUpLeg(self.leg));
        }
        ctx.emit(Output::Unbridge);
        if !self.operator_gone {
            ctx.emit(Output::ReleaseLeg {
                leg: self.leg,
                outcome: "completed".into(),
            });
        }
        ctx.acd(|call| AcdEvent::CallEnded { call, by_agent });
        if cause == EndCause::AgentHangup && ctx.plan.rating.enabled {
            return Next::Rating;
        }
        ctx.finish(cause)
    }
}

/// The audit's name of a supervisor's mode.
fn monitor_action(mode: MonitorMode) -> &'static str {
    match mode {
        MonitorMode::Listen => "monitor-listen",
        MonitorMode::Whisper => "monitor-whisper",
        MonitorMode::Barge => "monitor-barge",
    }
}
