//! A callback, pure: the operator's seat rings first (the operator is there before the caller
//! answers), then the caller's number out over the trunk with the platform's caller ID, while
//! the operator hears hold music; once the caller answers both talk, recorded, and the attempt
//! is stored as reached; a caller who does not answer, is busy or declines is stored as such,
//! and the operator is let go. On a return visit (回访) after the matter was handled, the caller
//! rates the handling once the operator hangs up (1 满意, 2 基本满意, 3 不满意).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::io::{CallbackOutcome, Input, Output};
use crate::call::flow::{Dest, LegId, LegReply, SeatEvent};

/// The operator's leg.
pub const SEAT: LegId = LegId(1);
/// The caller's leg.
pub const CALLER: LegId = LegId(2);

/// Asked after a return visit: 请对工单办理结果进行评价，满意请按1，基本满意请按2，不满意请按3。
pub const RATE_HANDLING_PROMPT: &str = "rate-handling.wav";

/// How long each side rings, and the rating after a return visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackTimes {
    pub ring_seat: Duration,
    pub ring_caller: Duration,
    /// How long a key is awaited after the rating prompt; None: no rating asked.
    pub rating: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    RingSeat,
    RingCaller,
    Talking,
    Rating { rated: bool },
    Ended,
}

/// One callback.
#[derive(Debug)]
pub struct Callback {
    seat: String,
    number: String,
    times: CallbackTimes,
    phase: Phase,
    until: Option<Instant>,
    out: VecDeque<Output>,
}

impl Callback {
    /// A callback of `number` by the operator at `seat`.
    pub fn new(seat: &str, number: &str, times: CallbackTimes) -> Callback {
        Callback {
            seat: seat.into(),
            number: number.into(),
            times,
            phase: Phase::Idle,
            until: None,
            out: VecDeque::new(),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.until
    }

    pub fn is_over(&self) -> bool {
        self.phase == Phase::Ended
    }

    fn emit(&mut self, o: Output) {
        self.out.push_back(o);
    }

    fn release(&mut self, leg: LegId, outcome: &str) {
        self.emit(Output::Release {
            leg,
            outcome: outcome.into(),
        });
    }

    fn end(&mut self) {
        self.until = None;
        self.phase = Phase::Ended;
        self.emit(Output::End);
    }

    pub fn handle(&mut self, input: Input, now: Instant) {
        match (self.phase, input) {
            (Phase::Idle, Input::Start) => {
                self.emit(Output::Dial {
                    leg: SEAT,
                    to: Dest::Seat(self.seat.clone()),
                });
                self.until = Some(now + self.times.ring_seat);
                self.phase = Phase::RingSeat;
            }
            (Phase::RingSeat, Input::Leg { leg: SEAT, event }) => match event {
                SeatEvent::Answered => {
                    self.emit(Output::Hold {
                        leg: SEAT,
                        prompt: Some(crate::call::flow::io::HOLD_PROMPT.into()),
                    });
                    self.emit(Output::Dial {
                        leg: CALLER,
                        to: Dest::Number(self.number.clone()),
                    });
                    self.until = Some(now + self.times.ring_caller);
                    self.phase = Phase::RingCaller;
                }
                other => {
                    // The operator is not there: no attempt on the caller was made.
                    let outcome = self.seat_gone(other);
                    self.release(SEAT, &outcome);
                    self.end();
                }
            },
            (Phase::RingCaller, Input::Leg { leg: CALLER, event }) => match event {
                SeatEvent::Answered => {
                    self.until = None;
                    self.emit(Output::Connect {
                        caller: CALLER,
                        operator: SEAT,
                    });
                    self.emit(Output::Outcome(CallbackOutcome::Reached));
                    self.phase = Phase::Talking;
                }
                other => {
                    let outcome = CallbackOutcome::of_unanswered(&other);
                    if other == SeatEvent::Unusable {
                        self.emit(Output::HangUp(CALLER));
                    }
                    self.release(CALLER, outcome.as_str());
                    self.emit(Output::Outcome(outcome));
                    self.emit(Output::HangUp(SEAT));
                    self.release(SEAT, "completed");
                    self.end();
                }
            },
            (Phase::RingCaller, Input::Leg { leg: SEAT, event }) => {
                let outcome = self.seat_gone(event);
                self.emit(Output::Cancel(CALLER));
                self.release(CALLER, "cancelled");
                self.release(SEAT, &outcome);
                self.emit(Output::Outcome(CallbackOutcome::Cancelled));
                self.end();
            }
            (Phase::Talking, Input::Leg { leg, event }) => {
                let gone = match event {
                    SeatEvent::Bye => {
                        self.emit(Output::AnswerLeg {
                            leg,
                            reply: LegReply::Ok,
                        });
                        true
                    }
                    SeatEvent::MediaTimeout => {
                        self.emit(Output::HangUp(leg));
                        true
                    }
                    _ => false,
                };
                if !gone {
                    return;
                }
                self.emit(Output::Disconnect);
                if leg == SEAT {
                    self.release(SEAT, "completed");
                    if let Some(wait) = self.times.rating {
                        let _ = wait;
                        self.emit(Output::Play {
                            leg: CALLER,
                            prompts: vec![RATE_HANDLING_PROMPT.into()],
                        });
                        self.phase = Phase::Rating { rated: false };
                        return;
                    }
                    self.emit(Output::HangUp(CALLER));
                    self.release(CALLER, "completed");
                } else {
                    self.emit(Output::HangUp(SEAT));
                    self.release(SEAT, "completed");
                    self.release(CALLER, "completed");
                }
                self.end();
            }
            (
                Phase::Rating { rated: false },
                Input::Dtmf {
                    leg: CALLER,
                    digit: d @ '1'..='3',
                },
            ) => {
                self.until = None;
                self.emit(Output::RateHandling(d as u8 - b'0'));
                self.emit(Output::Play {
                    leg: CALLER,
                    prompts: vec![crate::call::flow::io::RATED_PROMPT.into()],
                });
                self.phase = Phase::Rating { rated: true };
            }
            (Phase::Rating { rated }, Input::PlayDone { leg: CALLER }) => {
                if rated {
                    self.emit(Output::HangUp(CALLER));
                    self.release(CALLER, "completed");
                    self.end();
                } else {
                    self.until = self.times.rating.map(|w| now + w);
                }
            }
            (Phase::Rating { .. }, Input::Leg { leg: CALLER, event }) => {
                if matches!(event, SeatEvent::Bye | SeatEvent::MediaTimeout) {
                    if event == SeatEvent::Bye {
                        self.emit(Output::AnswerLeg {
                            leg: CALLER,
                            reply: LegReply::Ok,
                        });
                    }
                    self.release(CALLER, "completed");
                    self.end();
                }
            }
            // A BYE on a leg let go, or anything late: answered, else ignored.
            (
                _,
                Input::Leg {
                    leg,
                    event: SeatEvent::Bye,
                },
            ) => self.emit(Output::AnswerLeg {
                leg,
                reply: LegReply::NoDialog,
            }),
            _ => {}
        }
    }

    /// What the operator's leg did that ends their part; a BYE is answered.
    fn seat_gone(&mut self, event: SeatEvent) -> String {
        match event {
            SeatEvent::Bye => {
                self.emit(Output::AnswerLeg {
                    leg: SEAT,
                    reply: LegReply::Ok,
                });
                "hung-up".into()
            }
            SeatEvent::Declined(code) => format!("declined {code}"),
            SeatEvent::NoResponse => "no-answer".into(),
            SeatEvent::DialFailed => "not-dialled".into(),
            SeatEvent::Unusable | SeatEvent::MediaTimeout => {
                self.emit(Output::HangUp(SEAT));
                "ended".into()
            }
            SeatEvent::Answered | SeatEvent::Refer(_) | SeatEvent::Replaces { .. } => {
                "ended".into()
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.until.is_none_or(|t| now < t) {
            return;
        }
        self.until = None;
        match self.phase {
            Phase::RingSeat => {
                self.emit(Output::Cancel(SEAT));
                self.release(SEAT, "no-answer");
                self.end();
            }
            Phase::RingCaller => {
                self.emit(Output::Cancel(CALLER));
                self.handle(
                    Input::Leg {
                        leg: CALLER,
                        event: SeatEvent::NoResponse,
                    },
                    now,
                );
            }
            Phase::Rating { .. } => {
                self.emit(Output::HangUp(CALLER));
                self.release(CALLER, "completed");
                self.end();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(rating: bool) -> CallbackTimes {
        CallbackTimes {
            ring_seat: Duration::from_secs(15),
            ring_caller: Duration::from_secs(40),
            rating: rating.then_some(Duration::from_secs(5)),
        }
    }

    fn drain(c: &mut Callback) -> Vec<Output> {
        std::iter::from_fn(|| c.poll_output()).collect()
    }

    fn leg(leg: LegId, event: SeatEvent) -> Input {
        Input::Leg { leg, event }
    }

    fn released(leg: LegId, outcome: &str) -> Output {
        Output::Release {
            leg,
            outcome: outcome.into(),
        }
    }

    /// A callback whose seat answered, the caller's phone ringing.
    fn ringing_caller(rating: bool) -> (Callback, Instant) {
        let t0 = Instant::now();
        let mut c = Callback::new("1001", "13988887777", times(rating));
        c.handle(Input::Start, t0);
        assert_eq!(
            drain(&mut c),
            vec![Output::Dial {
                leg: SEAT,
                to: Dest::Seat("1001".into())
            }]
        );
        c.handle(leg(SEAT, SeatEvent::Answered), t0 + Duration::from_secs(2));
        assert_eq!(
            drain(&mut c),
            vec![
                Output::Hold {
                    leg: SEAT,
                    prompt: Some("hold-music.wav".into())
                },
                Output::Dial {
                    leg: CALLER,
                    to: Dest::Number("13988887777".into())
                },
            ]
        );
        (c, t0)
    }

    #[test]
    fn the_seat_first_then_the_caller_then_they_talk_and_the_attempt_is_reached() {
        let (mut c, t0) = ringing_caller(false);
        c.handle(
            leg(CALLER, SeatEvent::Answered),
            t0 + Duration::from_secs(9),
        );
        assert_eq!(
            drain(&mut c),
            vec![
                Output::Connect {
                    caller: CALLER,
                    operator: SEAT
                },
                Output::Outcome(CallbackOutcome::Reached),
            ]
        );
        c.handle(leg(CALLER, SeatEvent::Bye), t0 + Duration::from_secs(60));
        assert_eq!(
            drain(&mut c),
            vec![
                Output::AnswerLeg {
                    leg: CALLER,
                    reply: LegReply::Ok
                },
                Output::Disconnect,
                Output::HangUp(SEAT),
                released(SEAT, "completed"),
                released(CALLER, "completed"),
                Output::End,
            ]
        );
        assert!(c.is_over());
    }

    #[test]
    fn a_busy_refusing_or_silent_caller_is_recorded_as_such() {
        for (event, outcome) in [
            (SeatEvent::Declined(486), CallbackOutcome::Busy),
            (SeatEvent::Declined(603), CallbackOutcome::Refused),
            (SeatEvent::Declined(480), CallbackOutcome::NoAnswer),
            (SeatEvent::NoResponse, CallbackOutcome::NoAnswer),
            (SeatEvent::Declined(503), CallbackOutcome::Failed),
            (SeatEvent::DialFailed, CallbackOutcome::Failed),
        ] {
            let (mut c, t0) = ringing_caller(false);
            c.handle(leg(CALLER, event.clone()), t0 + Duration::from_secs(5));
            let out = drain(&mut c);
            assert_eq!(out[0], released(CALLER, outcome.as_str()), "{event:?}");
            assert_eq!(out[1], Output::Outcome(outcome));
            assert_eq!(
                out[2..],
                [
                    Output::HangUp(SEAT),
                    released(SEAT, "completed"),
                    Output::End
                ]
            );
        }
        // Rang out: 40 s after dialling.
        let (mut c, t0) = ringing_caller(false);
        assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(42)));
        c.handle_timeout(t0 + Duration::from_secs(42));
        let out = drain(&mut c);
        assert_eq!(out[0], Output::Cancel(CALLER));
        assert_eq!(out[2], Output::Outcome(CallbackOutcome::NoAnswer));
    }

    #[test]
    fn an_operator_who_does_not_answer_makes_no_attempt_and_one_who_hangs_up_cancels() {
        let t0 = Instant::now();
        let mut c = Callback::new("1001", "13988887777", times(false));
        c.handle(Input::Start, t0);
        drain(&mut c);
        c.handle_timeout(t0 + Duration::from_secs(15));
        assert_eq!(
            drain(&mut c),
            vec![
                Output::Cancel(SEAT),
                released(SEAT, "no-answer"),
                Output::End
            ]
        );
        let (mut c, t0) = ringing_caller(false);
        c.handle(leg(SEAT, SeatEvent::Bye), t0 + Duration::from_secs(4));
        assert_eq!(
            drain(&mut c),
            vec![
                Output::AnswerLeg {
                    leg: SEAT,
                    reply: LegReply::Ok
                },
                Output::Cancel(CALLER),
                released(CALLER, "cancelled"),
                released(SEAT, "hung-up"),
                Output::Outcome(CallbackOutcome::Cancelled),
                Output::End,
            ]
        );
    }

    #[test]
    fn after_a_return_visit_the_caller_rates_the_handling() {
        let (mut c, t0) = ringing_caller(true);
        c.handle(
            leg(CALLER, SeatEvent::Answered),
            t0 + Duration::from_secs(9),
        );
        drain(&mut c);
        c.handle(leg(SEAT, SeatEvent::Bye), t0 + Duration::from_secs(60));
        assert_eq!(
            drain(&mut c),
            vec![
                Output::AnswerLeg {
                    leg: SEAT,
                    reply: LegReply::Ok
                },
                Output::Disconnect,
                released(SEAT, "completed"),
                Output::Play {
                    leg: CALLER,
                    prompts: vec![RATE_HANDLING_PROMPT.into()]
                },
            ]
        );
        c.handle(
            Input::PlayDone { leg: CALLER },
            t0 + Duration::from_secs(65),
        );
        c.handle(
            Input::Dtmf {
                leg: CALLER,
                digit: '1',
            },
            t0 + Duration::from_secs(66),
        );
        assert_eq!(
            drain(&mut c),
            vec![
                Output::RateHandling(1),
                Output::Play {
                    leg: CALLER,
                    prompts: vec!["rate-thanks.wav".into()]
                },
            ]
        );
        c.handle(
            Input::PlayDone { leg: CALLER },
            t0 + Duration::from_secs(68),
        );
        assert_eq!(
            drain(&mut c),
            vec![
                Output::HangUp(CALLER),
                released(CALLER, "completed"),
                Output::End
            ]
        );
        // No key: no rating, hung up after the wait.
        let (mut c, t0) = ringing_caller(true);
        c.handle(leg(CALLER, SeatEvent::Answered), t0);
        c.handle(leg(SEAT, SeatEvent::Bye), t0);
        c.handle(Input::PlayDone { leg: CALLER }, t0 + Duration::from_secs(5));
        drain(&mut c);
        assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        c.handle_timeout(t0 + Duration::from_secs(10));
        let out = drain(&mut c);
        assert!(!out.iter().any(|o| matches!(o, Output::RateHandling(_))));
        assert_eq!(out.last(), Some(&Output::End));
    }
}
