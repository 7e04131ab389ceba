//! A phone reminder to a unit that has not signed a dispatched case (分办后，受理平台提供电话
//! 提醒), pure: the liaison's number is called out over the trunk; once answered they hear the
//! case number read out in Mandarin digits and the sign deadline, and "press 1 to sign"; the
//! message is said twice with a wait for the key after each. Key 1 signs the case by phone (in
//! its history with the liaison as actor), then the liaison hears that it is signed. How it
//! went is stored with the case (signed, no key, no answer, busy, refused, failed).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Timelike};
use chrono_tz::Tz;

use super::io::{CallbackOutcome, Input, Output};
use crate::call::announce::number_prompts;
use crate::call::flow::{Dest, LegId, LegReply, SeatEvent};

/// The liaison's leg.
pub const LIAISON: LegId = LegId(1);

/// 您好，这里是12345政务服务便民热线。您单位有一件工单尚未签收，工单编号
pub const INTRO_PROMPT: &str = "reminder-intro.wav";
/// 签收时限为
pub const DUE_PROMPT: &str = "reminder-due.wav";
/// 签收请按1。
pub const PRESS_PROMPT: &str = "reminder-press1.wav";
/// 工单已签收，谢谢，再见。
pub const SIGNED_PROMPT: &str = "reminder-signed.wav";
/// 工单未能签收，请登录系统办理，再见。
pub const NOT_SIGNED_PROMPT: &str = "reminder-not-signed.wav";
/// 点, 分 after an hour's and a minute's number.
pub const HOUR_PROMPT: &str = "time-hour.wav";
pub const MINUTE_PROMPT: &str = "time-minute.wav";

/// The message: the case number digit by digit, the sign deadline (local month, day, hour and
/// minute), and the key.
pub fn message(case_number: &str, sign_due: DateTime<chrono::Utc>, tz: Tz) -> Vec<String> {
    let mut out = vec![INTRO_PROMPT.to_string()];
    out.extend(
        case_number
            .chars()
            .filter_map(|c| c.to_digit(10))
            .map(|d| format!("digit-{d}.wav")),
    );
    let due = sign_due.with_timezone(&tz);
    out.push(DUE_PROMPT.into());
    out.extend(number_prompts(due.month() as usize));
    out.push(crate::call::flow::io::MONTH_PROMPT.into());
    out.extend(number_prompts(due.day() as usize));
    out.push(crate::call::flow::io::DAY_PROMPT.into());
    out.extend(number_prompts(due.hour() as usize));
    out.push(HOUR_PROMPT.into());
    if due.minute() > 0 {
        out.extend(number_prompts(due.minute() as usize));
        out.push(MINUTE_PROMPT.into());
    }
    out.push(PRESS_PROMPT.into());
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Ringing,
    /// The message plays, or a key is awaited after it (`said` times so far).
    Message {
        said: u32,
    },
    Signing,
    /// The last prompt plays, then the outcome is stored.
    Closing(&'static str),
    Ended,
}

/// One reminder call.
#[derive(Debug)]
pub struct Reminder {
    number: String,
    message: Vec<String>,
    ring: Duration,
    wait: Duration,
    phase: Phase,
    until: Option<Instant>,
    out: VecDeque<Output>,
}

impl Reminder {
    /// A reminder to `number` saying `message`, ringing `ring`, waiting `wait` for the key.
    pub fn new(number: &str, message: Vec<String>, ring: Duration, wait: Duration) -> Reminder {
        Reminder {
            number: number.into(),
            message,
            ring,
            wait,
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

    fn finish(&mut self, outcome: &'static str, leg_outcome: &str) {
        self.emit(Output::Release {
            leg: LIAISON,
            outcome: leg_outcome.into(),
        });
        self.emit(Output::ReminderOutcome(outcome));
        self.until = None;
        self.phase = Phase::Ended;
        self.emit(Output::End);
    }

    pub fn handle(&mut self, input: Input, now: Instant) {
        match (self.phase, input) {
            (Phase::Idle, Input::Start) => {
                self.emit(Output::Dial {
                    leg: LIAISON,
                    to: Dest::Number(self.number.clone()),
                });
                self.until = Some(now + self.ring);
                self.phase = Phase::Ringing;
            }
            (Phase::Ringing, Input::Leg { event, .. }) => match event {
                SeatEvent::Answered => {
                    self.until = None;
                    self.emit(Output::Play {
                        leg: LIAISON,
                        prompts: self.message.clone(),
                    });
                    self.phase = Phase::Message { said: 0 };
                }
                other => {
                    let outcome = match CallbackOutcome::of_unanswered(&other) {
                        CallbackOutcome::Busy => "busy",
                        CallbackOutcome::Refused => "refused",
                        CallbackOutcome::NoAnswer => "no-answer",
                        _ => "failed",
                    };
                    if other == SeatEvent::Unusable {
                        self.emit(Output::HangUp(LIAISON));
                    }
                    self.finish(outcome, outcome);
                }
            },
            (Phase::Message { .. }, Input::Dtmf { digit: '1', .. }) => {
                self.until = None;
                self.emit(Output::Sign);
                self.phase = Phase::Signing;
            }
            (Phase::Message { said }, Input::PlayDone { .. }) => {
                self.phase = Phase::Message { said: said + 1 };
                self.until = Some(now + self.wait);
            }
            (Phase::Signing, Input::Signed(result)) => {
                let (prompt, outcome) = match result {
                    Ok(()) => (SIGNED_PROMPT, "signed"),
                    Err(_) => (NOT_SIGNED_PROMPT, "sign-refused"),
                };
                self.emit(Output::Play {
                    leg: LIAISON,
                    prompts: vec![prompt.into()],
                });
                self.phase = Phase::Closing(outcome);
            }
            (Phase::Closing(outcome), Input::PlayDone { .. }) => {
                self.emit(Output::HangUp(LIAISON));
                self.finish(outcome, "completed");
            }
            (
                Phase::Message { .. } | Phase::Signing | Phase::Closing(_),
                Input::Leg {
                    event: event @ (SeatEvent::Bye | SeatEvent::MediaTimeout),
                    ..
                },
            ) => {
                if event == SeatEvent::Bye {
                    self.emit(Output::AnswerLeg {
                        leg: LIAISON,
                        reply: LegReply::Ok,
                    });
                } else {
                    self.emit(Output::HangUp(LIAISON));
                }
                let outcome = match self.phase {
                    Phase::Closing(outcome) => outcome,
                    // Signing was asked: the edge stores its outcome whatever comes.
                    Phase::Signing => "signed",
                    _ => "no-key",
                };
                self.finish(outcome, "hung-up");
            }
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

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.until.is_none_or(|t| now < t) {
            return;
        }
        self.until = None;
        match self.phase {
            Phase::Ringing => {
                self.emit(Output::Cancel(LIAISON));
                self.finish("no-answer", "no-answer");
            }
            // Said once: once more.
            Phase::Message { said } if said < 2 => self.emit(Output::Play {
                leg: LIAISON,
                prompts: self.message.clone(),
            }),
            Phase::Message { .. } => {
                self.emit(Output::HangUp(LIAISON));
                self.finish("no-key", "completed");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(r: &mut Reminder) -> Vec<Output> {
        std::iter::from_fn(|| r.poll_output()).collect()
    }

    fn answered() -> (Reminder, Instant, Vec<String>) {
        let t0 = Instant::now();
        let due = "2026-12-07T03:30:00Z".parse().unwrap();
        let msg = message("530100-20261207-000042", due, chrono_tz::Asia::Shanghai);
        let mut r = Reminder::new(
            "087163109999",
            msg.clone(),
            Duration::from_secs(40),
            Duration::from_secs(8),
        );
        r.handle(Input::Start, t0);
        assert_eq!(
            drain(&mut r),
            vec![Output::Dial {
                leg: LIAISON,
                to: Dest::Number("087163109999".into())
            }]
        );
        r.handle(
            Input::Leg {
                leg: LIAISON,
                event: SeatEvent::Answered,
            },
            t0 + Duration::from_secs(3),
        );
        assert_eq!(
            drain(&mut r),
            vec![Output::Play {
                leg: LIAISON,
                prompts: msg.clone()
            }]
        );
        (r, t0, msg)
    }

    #[test]
    fn the_message_reads_the_case_number_by_digit_and_the_local_deadline() {
        let due = "2026-12-07T03:30:00Z".parse().unwrap();
        let msg = message("530100-20261207-000042", due, chrono_tz::Asia::Shanghai);
        let digits: Vec<&str> = msg[1..21].iter().map(String::as_str).collect();
        assert_eq!(
            digits[..6],
            [
                "digit-5.wav",
                "digit-3.wav",
                "digit-0.wav",
                "digit-1.wav",
                "digit-0.wav",
                "digit-0.wav"
            ]
        );
        assert_eq!(digits[18..], ["digit-4.wav", "digit-2.wav"]);
        // 03:30 UTC is 11:30 in Shanghai: 十二 月 七 日 十一 点 三十 分.
        assert_eq!(
            msg[21..],
            [
                DUE_PROMPT,
                "digit-10.wav",
                "digit-2.wav",
                "date-month.wav",
                "digit-7.wav",
                "date-day.wav",
                "digit-10.wav",
                "digit-1.wav",
                HOUR_PROMPT,
                "digit-3.wav",
                "digit-10.wav",
                MINUTE_PROMPT,
                PRESS_PROMPT,
            ]
        );
    }

    #[test]
    fn key_1_signs_and_the_liaison_hears_it() {
        let (mut r, t0, _) = answered();
        r.handle(
            Input::Dtmf {
                leg: LIAISON,
                digit: '1',
            },
            t0 + Duration::from_secs(6),
        );
        assert_eq!(drain(&mut r), vec![Output::Sign]);
        r.handle(Input::Signed(Ok(())), t0 + Duration::from_secs(6));
        assert_eq!(
            drain(&mut r),
            vec![Output::Play {
                leg: LIAISON,
                prompts: vec![SIGNED_PROMPT.into()]
            }]
        );
        r.handle(
            Input::PlayDone { leg: LIAISON },
            t0 + Duration::from_secs(9),
        );
        assert_eq!(
            drain(&mut r),
            vec![
                Output::HangUp(LIAISON),
                Output::Release {
                    leg: LIAISON,
                    outcome: "completed".into()
                },
                Output::ReminderOutcome("signed"),
                Output::End,
            ]
        );
        assert!(r.is_over());
    }

    #[test]
    fn the_message_is_said_twice_then_no_key_is_stored() {
        let (mut r, t0, msg) = answered();
        r.handle(
            Input::Dtmf {
                leg: LIAISON,
                digit: '2',
            },
            t0 + Duration::from_secs(5),
        );
        assert!(drain(&mut r).is_empty(), "only 1 signs");
        r.handle(
            Input::PlayDone { leg: LIAISON },
            t0 + Duration::from_secs(20),
        );
        r.handle_timeout(t0 + Duration::from_secs(28));
        assert_eq!(
            drain(&mut r),
            vec![Output::Play {
                leg: LIAISON,
                prompts: msg
            }]
        );
        r.handle(
            Input::PlayDone { leg: LIAISON },
            t0 + Duration::from_secs(45),
        );
        r.handle_timeout(t0 + Duration::from_secs(53));
        let out = drain(&mut r);
        assert_eq!(out[0], Output::HangUp(LIAISON));
        assert_eq!(out[2], Output::ReminderOutcome("no-key"));
    }

    #[test]
    fn a_refused_signing_an_unanswered_call_and_a_hang_up_are_stored() {
        let (mut r, t0, _) = answered();
        r.handle(
            Input::Dtmf {
                leg: LIAISON,
                digit: '1',
            },
            t0,
        );
        r.handle(Input::Signed(Err("the case is signed already".into())), t0);
        r.handle(Input::PlayDone { leg: LIAISON }, t0);
        assert!(drain(&mut r).contains(&Output::ReminderOutcome("sign-refused")));
        let (mut r, t0, _) = answered();
        r.handle(
            Input::Leg {
                leg: LIAISON,
                event: SeatEvent::Bye,
            },
            t0,
        );
        assert!(drain(&mut r).contains(&Output::ReminderOutcome("no-key")));
        for (event, outcome) in [
            (SeatEvent::Declined(486), "busy"),
            (SeatEvent::Declined(603), "refused"),
            (SeatEvent::NoResponse, "no-answer"),
            (SeatEvent::DialFailed, "failed"),
        ] {
            let t0 = Instant::now();
            let mut r = Reminder::new(
                "110",
                vec![],
                Duration::from_secs(40),
                Duration::from_secs(8),
            );
            r.handle(Input::Start, t0);
            r.handle(
                Input::Leg {
                    leg: LIAISON,
                    event,
                },
                t0,
            );
            assert!(
                drain(&mut r).contains(&Output::ReminderOutcome(outcome)),
                "{outcome}"
            );
        }
    }
}
