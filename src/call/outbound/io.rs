//! What goes into an outbound call's machine ([`Input`]) and comes out of it ([`Output`]): the
//! shared leaf of the callback and reminder machines. An outbound call has no caller who dialled
//! in: every party is a leg the server placed (an operator's seat, a number out over a trunk).

use crate::call::flow::{Dest, LegId, LegReply, SeatEvent};

/// How a callback went, as stored with the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The caller answered and talked with the operator.
    Reached,
    /// The caller's phone rang out (or was unreachable).
    NoAnswer,
    /// The caller's line was busy.
    Busy,
    /// The caller declined the call.
    Refused,
    /// The call could not be placed (no trunk channel, the carrier refused).
    Failed,
    /// The operator gave up before the caller answered.
    Cancelled,
}

impl CallbackOutcome {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackOutcome::Reached => "reached",
            CallbackOutcome::NoAnswer => "no-answer",
            CallbackOutcome::Busy => "busy",
            CallbackOutcome::Refused => "refused",
            CallbackOutcome::Failed => "failed",
            CallbackOutcome::Cancelled => "cancelled",
        }
    }

    /// What a leg that never answered says of the caller: busy (486, 600), refused (603, 403),
    /// no answer (480, 408, rang out), or a failure of the call itself.
    pub fn of_unanswered(event: &SeatEvent) -> CallbackOutcome {
        match event {
            SeatEvent::Declined(486 | 600) => CallbackOutcome::Busy,
            SeatEvent::Declined(603 | 403) => CallbackOutcome::Refused,
            SeatEvent::Declined(480 | 408 | 487) | SeatEvent::NoResponse => {
                CallbackOutcome::NoAnswer
            }
            _ => CallbackOutcome::Failed,
        }
    }
}

/// One input, with its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The call begins.
    Start,
    /// Something happened on a leg.
    Leg { leg: LegId, event: SeatEvent },
    /// A key pressed on a leg.
    Dtmf { leg: LegId, digit: char },
    /// What [`Output::Play`] played on a leg is over.
    PlayDone { leg: LegId },
    /// Whether the case was signed as the liaison asked (why not, when it was not).
    Signed(Result<(), String>),
}

/// One output, performed by the edge in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Call a seat or a number.
    Dial { leg: LegId, to: Dest },
    /// CANCEL a leg that rings.
    Cancel(LegId),
    /// BYE an answered leg.
    HangUp(LegId),
    /// Answer a leg's BYE.
    AnswerLeg { leg: LegId, reply: LegReply },
    /// The leg is done: store its outcome, let go of it.
    Release { leg: LegId, outcome: String },
    /// Play these prompts on a leg; [`Input::PlayDone`] follows.
    Play { leg: LegId, prompts: Vec<String> },
    /// Repeat this prompt on a leg once what plays is over (None: silence).
    Hold { leg: LegId, prompt: Option<String> },
    /// The two talk, each side recorded (`caller` first).
    Connect { caller: LegId, operator: LegId },
    /// They no longer talk; the recordings are sealed.
    Disconnect,
    /// Store the callback attempt's outcome.
    Outcome(CallbackOutcome),
    /// The caller rated the handling of the matter (return visit): 1 to 3.
    RateHandling(u8),
    /// Sign the case as the unit's liaison; [`Input::Signed`] follows.
    Sign,
    /// Store the reminder's outcome (`signed`, `no-key`, `no-answer`, `busy`, `refused`,
    /// `failed`, `sign-refused`).
    ReminderOutcome(&'static str),
    /// The call is over. The last output.
    End,
}
