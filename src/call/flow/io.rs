//! What goes into a call's state machine ([`Input`]) and what comes out of it ([`Output`]),
//! with the small types both sides share. The leaf of `flow/`: every phase imports it, it
//! imports no phase.

use crate::acd::AcdEvent;
use crate::call::signal::{EndCause, TransferTarget};
use crate::cases::workflow::Actor;
use crate::routing::TransferRefused;

pub use crate::call::signal::QueueNotice;

/// The prompt every waiting call falls back to.
pub const HOLD_PROMPT: &str = "hold-music.wav";
/// The prompt a transferred caller hears: 正在为您转接，请稍候。
pub const TRANSFER_PROMPT: &str = "transfer.wav";
/// The beep before a voice message.
pub const BEEP_PROMPT: &str = "beep.wav";
/// Said after a voice message is saved.
pub const SAVED_PROMPT: &str = "vm-saved.wav";

/// One call to a seat, numbered by the call that made it (the edge maps it to a SIP Call-ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LegId(pub u32);

/// Why a seat's REFER is refused: the SIP status and the Warning text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferRefusal {
    pub status: u16,
    pub warning: String,
}

/// What happened on a call to a seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatEvent {
    /// The INVITE could not be sent (no registration, no media port).
    DialFailed,
    /// The seat answered with a usable SDP (the edge ACKed it and started its media).
    Answered,
    /// The seat answered with an SDP we cannot use (the edge ACKed it).
    Unusable,
    /// The seat declined with this final status.
    Declined(u16),
    /// No final response came.
    NoResponse,
    /// The seat hung up (a BYE to answer).
    Bye,
    /// The seat asks to transfer the caller, to a target the dialplan resolved (or why not).
    Refer(Result<TransferTarget, ReferRefusal>),
    /// No RTP from the seat for the media timeout.
    MediaTimeout,
}

/// One input, fed to [`super::Call::handle`] with its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The caller acknowledged our 200 OK; `open` tells whether its platform is staffed now.
    Ack { open: bool },
    /// Our 200 OK was never acknowledged.
    AckTimeout,
    /// The caller hung up (the edge answers the BYE once the call's end is stored).
    CallerBye,
    /// A DTMF key from the caller.
    Dtmf(char),
    /// A frame with voice in it from the caller (fed only while a message is recorded).
    Voice,
    /// No RTP from the caller for the media timeout.
    MediaTimeout,
    /// What [`Output::Play`] and [`Output::Enqueue`] asked is played out.
    PlayDone,
    /// The ACD's word for this call.
    Queue(QueueNotice),
    /// Something happened on one of our calls to seats.
    Seat { leg: LegId, event: SeatEvent },
    /// The API asks to transfer the call, to a target the dialplan resolved (or why not).
    Transfer {
        to: Result<TransferTarget, TransferRefused>,
        by: Actor,
    },
    /// The operator puts the caller on hold (true) or takes them back (false).
    Hold(bool),
    /// While the caller waits: whether the platform is within its hours, and whether any of
    /// its seats is signed in.
    Staffing { open: bool, seats_signed_in: bool },
    /// A voice message could not be started (no row, no file).
    MessageFailed,
}

/// How the edge answers a seat's BYE or REFER (the oldest one it holds for that leg).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegReply {
    /// 200 to a BYE.
    Ok,
    /// 481: no dialog with that seat (it is not, or no longer, the one connected).
    NoDialog,
    /// 202 to a REFER.
    Accepted,
    /// 400 or 403 to a REFER, with a Warning.
    Refused(ReferRefusal),
}

/// One output, drained with [`super::Call::poll_output`] and performed by the edge in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Stop what the caller hears and play these prompts; [`Input::PlayDone`] follows.
    Play(Vec<String>),
    /// Play these after the prompt now playing; [`Input::PlayDone`] follows.
    Enqueue(Vec<String>),
    /// Once the prompts run out, repeat this one (None: silence) until the next `Play`.
    Hold(Option<String>),
    /// Put the call in this ACD queue.
    JoinQueue(String),
    /// Tell the ACD.
    Acd(AcdEvent),
    /// Call this seat (INVITE with our offer); its events come back as [`Input::Seat`].
    Dial { leg: LegId, agent: String },
    /// CANCEL a leg that still rings.
    CancelLeg(LegId),
    /// BYE an answered leg.
    HangUpLeg(LegId),
    /// Answer the oldest BYE or REFER of the leg.
    AnswerLeg { leg: LegId, reply: LegReply },
    /// Tell the seat its transfer went through (NOTIFY with `200 OK`).
    NotifyTransferred(LegId),
    /// The leg is done: store its outcome and let go of it.
    ReleaseLeg { leg: LegId, outcome: String },
    /// Relay audio and DTMF between the caller and the leg, and record both sides.
    Bridge(LegId),
    /// Stop relaying, and seal the recordings.
    Unbridge,
    /// The caller gave up before reaching an operator: a callback is owed.
    RequestCallback,
    /// The case goes with the call to the provincial platform.
    Escalate { to: TransferTarget, by: Actor },
    /// The answer to the API's transfer request.
    ReplyTransfer(Result<TransferTarget, TransferRefused>),
    /// Stop relaying both ways (the recordings stay open); the caller hears hold music.
    HoldCaller,
    /// Relay both ways again (and record), after a hold.
    ResumeCaller,
    /// The answer to the API's hold request: whether the caller is on hold now, or why it
    /// cannot be done.
    ReplyHold(Result<bool, &'static str>),
    /// Start recording a voice message for this platform (row and file);
    /// [`Input::MessageFailed`] if it cannot.
    StartMessage { platform: String },
    /// Throw the message away (the caller records again).
    DiscardMessage,
    /// Stop recording: keep the message when it has voice in it, else throw it away.
    FinishMessage { voiced: bool },
    /// Hang up on the caller (BYE).
    HangUpCaller,
    /// The call is over: store its end with this cause. The last output.
    End(EndCause),
}
