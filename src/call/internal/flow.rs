//! A seat's call to a colleague's seat through the server, pure: the operator dials the
//! colleague's extension (to consult before an attended transfer, RFC 5589); the colleague's
//! phone rings, the operator hears it ring (180), and once answered the two talk. Either may
//! hang up; the operator may cancel while it rings. When the operator then transfers their
//! caller with REFER and Replaces naming this call, the caller's call takes the colleague's
//! leg over ([`Input::TakeOver`]) and this call ends: the operator's side is hung up.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::call::flow::{LegReply, SeatEvent};

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The call begins: ring the colleague.
    Start,
    /// What the colleague's leg did.
    Leg(SeatEvent),
    /// The operator hung up (their BYE is answered).
    CallerBye,
    /// The operator gave up while it rang.
    CallerCancel,
    /// The operator's media is gone, or their ACK never came.
    CallerLost,
    /// Another call takes the colleague's leg (REFER with Replaces naming this call).
    TakeOver,
}

/// One output, performed in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Ring the colleague's seat.
    Dial(String),
    /// 180 to the operator.
    Ringing,
    /// 200 OK with our SDP to the operator.
    Answer,
    /// A final refusal to the operator's INVITE.
    Reject(u16),
    CancelLeg,
    HangUpLeg,
    AnswerLeg(LegReply),
    ReleaseLeg(String),
    /// The operator and the colleague talk.
    Connect,
    Disconnect,
    /// Hand the colleague's leg to the call that asked (the answer to [`Input::TakeOver`]:
    /// `false` when there is no answered leg to give).
    GiveLeg(bool),
    /// BYE to the operator.
    HangUpCaller,
    /// The call is over, with how it ended.
    End(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Ringing,
    Up,
    /// The colleague's leg was taken over: the operator hangs up (RFC 5589), or is hung up.
    Given,
    Ended,
}

/// How long an operator whose consultation was taken over has to hang up it themselves.
pub const GIVEN_UP_AFTER: Duration = Duration::from_secs(2);

/// One seat-to-seat call.
#[derive(Debug)]
pub struct Internal {
    agent: String,
    ring: Duration,
    phase: Phase,
    until: Option<Instant>,
    out: VecDeque<Output>,
}

impl Internal {
    /// A call to `agent`, ringing at most `ring`.
    pub fn new(agent: &str, ring: Duration) -> Internal {
        Internal {
            agent: agent.into(),
            ring,
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

    /// Whether the colleague answered and the call is up.
    pub fn is_up(&self) -> bool {
        self.phase == Phase::Up
    }

    fn emit(&mut self, o: Output) {
        self.out.push_back(o);
    }

    fn end(&mut self, how: &'static str) {
        self.until = None;
        self.phase = Phase::Ended;
        self.emit(Output::End(how));
    }

    pub fn handle(&mut self, input: Input, now: Instant) {
        match (self.phase, input) {
            (Phase::Idle, Input::Start) => {
                self.emit(Output::Dial(self.agent.clone()));
                self.emit(Output::Ringing);
                self.until = Some(now + self.ring);
                self.phase = Phase::Ringing;
            }
            (Phase::Ringing, Input::Leg(event)) => {
                let (code, outcome) = match event {
                    SeatEvent::Answered => {
                        self.until = None;
                        self.emit(Output::Answer);
                        self.emit(Output::Connect);
                        self.phase = Phase::Up;
                        return;
                    }
                    SeatEvent::Declined(code) => (code, format!("declined {code}")),
                    SeatEvent::Unusable => {
                        self.emit(Output::HangUpLeg);
                        (488, "unusable answer".into())
                    }
                    SeatEvent::Bye => {
                        self.emit(Output::AnswerLeg(LegReply::Ok));
                        (480, "hung-up".into())
                    }
                    _ => (480, "no-answer".into()),
                };
                self.emit(Output::ReleaseLeg(outcome));
                self.emit(Output::Reject(code));
                self.end("not-answered");
            }
            (Phase::Ringing, Input::CallerCancel | Input::CallerBye | Input::CallerLost) => {
                self.emit(Output::CancelLeg);
                self.emit(Output::ReleaseLeg("cancelled".into()));
                self.emit(Output::Reject(487));
                self.end("cancelled");
            }
            (Phase::Up, Input::CallerBye | Input::CallerLost) => {
                self.emit(Output::Disconnect);
                self.emit(Output::HangUpLeg);
                self.emit(Output::ReleaseLeg("completed".into()));
                self.end("caller-hangup");
            }
            (Phase::Up, Input::Leg(SeatEvent::Bye | SeatEvent::MediaTimeout)) => {
                self.emit(Output::AnswerLeg(LegReply::Ok));
                self.emit(Output::Disconnect);
                self.emit(Output::ReleaseLeg("completed".into()));
                self.emit(Output::HangUpCaller);
                self.end("agent-hangup");
            }
            (Phase::Up, Input::TakeOver) => {
                self.emit(Output::Disconnect);
                self.emit(Output::GiveLeg(true));
                self.until = Some(now + GIVEN_UP_AFTER);
                self.phase = Phase::Given;
            }
            (Phase::Given, Input::CallerBye | Input::CallerLost) => self.end("replaced"),
            (_, Input::TakeOver) => self.emit(Output::GiveLeg(false)),
            (_, Input::Leg(SeatEvent::Bye)) => self.emit(Output::AnswerLeg(LegReply::NoDialog)),
            _ => {}
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Given && self.until.is_some_and(|t| now >= t) {
            self.emit(Output::HangUpCaller);
            self.end("replaced");
            return;
        }
        if self.phase == Phase::Ringing && self.until.is_some_and(|t| now >= t) {
            self.emit(Output::CancelLeg);
            self.emit(Output::ReleaseLeg("no-answer".into()));
            self.emit(Output::Reject(480));
            self.end("not-answered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(c: &mut Internal) -> Vec<Output> {
        std::iter::from_fn(|| c.poll_output()).collect()
    }

    fn up() -> (Internal, Instant) {
        let t0 = Instant::now();
        let mut c = Internal::new("1002", Duration::from_secs(15));
        c.handle(Input::Start, t0);
        assert_eq!(
            drain(&mut c),
            vec![Output::Dial("1002".into()), Output::Ringing]
        );
        c.handle(Input::Leg(SeatEvent::Answered), t0 + Duration::from_secs(2));
        assert_eq!(drain(&mut c), vec![Output::Answer, Output::Connect]);
        assert!(c.is_up());
        (c, t0)
    }

    #[test]
    fn the_colleague_answers_and_either_hangs_up() {
        let (mut c, t0) = up();
        c.handle(Input::CallerBye, t0 + Duration::from_secs(30));
        assert_eq!(
            drain(&mut c),
            vec![
                Output::Disconnect,
                Output::HangUpLeg,
                Output::ReleaseLeg("completed".into()),
                Output::End("caller-hangup")
            ]
        );
        let (mut c, t0) = up();
        c.handle(Input::Leg(SeatEvent::Bye), t0);
        assert_eq!(drain(&mut c).last(), Some(&Output::End("agent-hangup")));
    }

    #[test]
    fn a_transfer_with_replaces_takes_the_colleague_over() {
        let (mut c, t0) = up();
        c.handle(Input::TakeOver, t0 + Duration::from_secs(10));
        assert_eq!(
            drain(&mut c),
            vec![Output::Disconnect, Output::GiveLeg(true)]
        );
        // The operator does not hang up: hung up after the grace.
        assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(12)));
        c.handle_timeout(t0 + Duration::from_secs(12));
        assert_eq!(
            drain(&mut c),
            vec![Output::HangUpCaller, Output::End("replaced")]
        );
        // One who hangs up is not hung up again.
        let (mut c, t0) = up();
        c.handle(Input::TakeOver, t0);
        drain(&mut c);
        c.handle(Input::CallerBye, t0 + Duration::from_secs(1));
        assert_eq!(drain(&mut c), vec![Output::End("replaced")]);
        // Nothing to take while it rings.
        let t0 = Instant::now();
        let mut c = Internal::new("1002", Duration::from_secs(15));
        c.handle(Input::Start, t0);
        drain(&mut c);
        c.handle(Input::TakeOver, t0);
        assert_eq!(drain(&mut c), vec![Output::GiveLeg(false)]);
    }

    #[test]
    fn a_colleague_who_does_not_answer_and_a_caller_who_gives_up() {
        let t0 = Instant::now();
        let mut c = Internal::new("1002", Duration::from_secs(15));
        c.handle(Input::Start, t0);
        drain(&mut c);
        c.handle(Input::Leg(SeatEvent::Declined(486)), t0);
        assert_eq!(
            drain(&mut c),
            vec![
                Output::ReleaseLeg("declined 486".into()),
                Output::Reject(486),
                Output::End("not-answered")
            ]
        );
        let mut c = Internal::new("1002", Duration::from_secs(15));
        c.handle(Input::Start, t0);
        drain(&mut c);
        c.handle_timeout(t0 + Duration::from_secs(15));
        assert_eq!(drain(&mut c)[2], Output::Reject(480));
        let mut c = Internal::new("1002", Duration::from_secs(15));
        c.handle(Input::Start, t0);
        drain(&mut c);
        c.handle(Input::CallerCancel, t0);
        assert_eq!(drain(&mut c)[0], Output::CancelLeg);
    }
}
