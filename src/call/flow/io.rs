//! What goes into a call's state machine ([`Input`]) and what comes out of it ([`Output`]),
//! with the small types both sides share. The leaf of `flow/`: every phase imports it, it
//! imports no phase.

use crate::acd::AcdEvent;
use crate::call::signal::{EndCause, TransferTarget};
pub use crate::cases::workflow::Actor;
use crate::routing::TransferRefused;

pub use crate::call::signal::{MonitorMode, PartyView, QueueNotice};

/// The prompt every waiting call falls back to.
pub const HOLD_PROMPT: &str = "hold-music.wav";
/// The prompt a transferred caller hears: 正在为您转接，请稍候。
pub const TRANSFER_PROMPT: &str = "transfer.wav";
/// The beep before a voice message.
pub const BEEP_PROMPT: &str = "beep.wav";
/// Said after a voice message is saved.
pub const SAVED_PROMPT: &str = "vm-saved.wav";
/// After the operator hangs up: 请对本次通话服务进行评价，满意请按1，基本满意请按2，不满意请按3。
pub const RATE_PROMPT: &str = "rate-call.wav";
/// After a rating: 感谢您的评价，再见。
pub const RATED_PROMPT: &str = "rate-thanks.wav";
/// A progress lookup begins: 请输入工单编号，以井号键结束。
pub const LOOKUP_ENTER_PROMPT: &str = "lookup-enter.wav";
/// No case of the caller's with that number: 未查询到您的工单，请核对后重新输入。
pub const LOOKUP_NONE_PROMPT: &str = "lookup-none.wav";
/// 您的工单当前状态为 (then the state).
pub const LOOKUP_STATE_PROMPT: &str = "lookup-state.wav";
/// 办理时限为 (then the month and day).
pub const LOOKUP_DUE_PROMPT: &str = "lookup-due.wav";
/// 月 and 日 after a month's and a day's number.
pub const MONTH_PROMPT: &str = "date-month.wav";
pub const DAY_PROMPT: &str = "date-day.wav";
/// After a lookup: 如需人工服务，请不要挂机。
pub const LOOKUP_STAY_PROMPT: &str = "lookup-stay.wav";

/// One call to a seat, numbered by the call that made it (the edge maps it to a SIP Call-ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LegId(pub u32);

/// Why a seat's REFER is refused: the SIP status and the Warning text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferRefusal {
    pub status: u16,
    pub warning: String,
}

/// Where a new leg goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// An operator's (or supervisor's) seat: its console phone or its registered softphone.
    Seat(String),
    /// A number, out over the platform's trunk.
    Number(String),
}

/// Someone in the call's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The caller who dialled 12345.
    Caller,
    /// One of the call's legs (an operator, another hotline, a colleague, a supervisor).
    Leg(LegId),
}

/// Who hears a party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hearers {
    /// Everyone else in the room.
    Everyone,
    /// No one (a supervisor listening in).
    Nobody,
    /// Only these (a supervisor whispering to the operator).
    Only(Vec<Party>),
}

/// One party of the room: who hears it, and whether it hears the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub party: Party,
    pub heard_by: Hearers,
    pub hears: bool,
}

/// Another hotline a caller is handed to, as the dialplan resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hotline {
    /// The number the operator picked (`110`).
    pub number: String,
    /// Its name.
    pub name: String,
    /// What the trunk dials.
    pub dial: String,
}

/// What the API (an operator, a supervisor) asks of a call in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Hand the caller to another hotline: blind (the operator leaves at once, the caller
    /// waits for the other hotline) or in a three-party call (the operator stays until they
    /// leave); `also_ours` keeps the case open (else it closes as not accepted).
    HandOver {
        hotline: Hotline,
        three_party: bool,
        also_ours: bool,
        by: Actor,
    },
    /// The operator leaves a three-party call with another hotline, once it answered.
    Leave { by: Actor },
    /// Consult a colleague's seat while the caller holds (the edge reserved the seat in the
    /// ACD under `reservation`).
    Consult {
        agent: String,
        reservation: String,
        by: Actor,
    },
    /// Hand the caller to the colleague consulted.
    CompleteConsult { by: Actor },
    /// End the consultation: the caller is back with the operator.
    CancelConsult { by: Actor },
    /// A supervisor listens, whispers or barges in, ringing `seat` (their phone); a
    /// supervisor already in the call changes mode.
    Monitor {
        seat: String,
        mode: MonitorMode,
        by: Actor,
    },
    /// The supervisor leaves.
    StopMonitor { by: Actor },
}

/// What a caller's progress lookup found (the edge looked among the caller's own cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookedUp {
    /// The case's state, by its stored name (`dispatched`).
    pub state: String,
    /// The deadline in force, as local month and day.
    pub due: Option<(u32, u32)>,
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
    /// The seat transfers the caller to the colleague it consulted (REFER with Replaces
    /// naming its call to `agent`): the edge holds the colleague's answered leg, and the ACD
    /// reservation that holds the colleague's seat.
    Replaces { agent: String, reservation: String },
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
    /// The API asks something of the call.
    Action(Action),
    /// What a progress lookup found among the caller's cases (None: nothing).
    LookedUp(Option<LookedUp>),
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
    /// Call a seat or a number (INVITE with our offer); its events come back as
    /// [`Input::Seat`].
    Dial { leg: LegId, to: Dest },
    /// CANCEL a leg that still rings.
    CancelLeg(LegId),
    /// BYE an answered leg.
    HangUpLeg(LegId),
    /// Answer the oldest BYE or REFER of the leg.
    AnswerLeg { leg: LegId, reply: LegReply },
    /// Tell the seat its transfer went through (NOTIFY with `200 OK`).
    NotifyTransferred(LegId),
    /// The colleague's leg the edge holds (after [`SeatEvent::Replaces`]) is this call's
    /// leg `leg` from now on; not adopted, the edge hangs it up.
    Adopt(LegId),
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
    /// Who hears whom now, among the caller and the legs bridged (after `Bridge`): two who
    /// hear each other are relayed, three or more are mixed; a party not listed hears nothing
    /// of the others (a caller on hold hears what plays). The recordings stay open.
    Room(Vec<Member>),
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
    /// The answer to the API's action: what was done, or why not.
    ReplyAction(Result<&'static str, String>),
    /// The caller was handed to another hotline (it answered): the case records the hand-over
    /// and, unless `also_ours`, closes as not accepted with that channel.
    HandedOver {
        hotline: Hotline,
        also_ours: bool,
        by: Actor,
    },
    /// A step for the case's audit trail (monitoring, hand-overs, consultations): who, what.
    Audit {
        by: Actor,
        action: &'static str,
        detail: String,
    },
    /// The caller rated the call (1 satisfied, 2 basically satisfied, 3 dissatisfied).
    Rate(u8),
    /// The caller left the queue for a progress lookup.
    SelfService,
    /// Look up, among the caller's own cases, the one with these digits; the answer comes as
    /// [`Input::LookedUp`].
    LookUp(String),
    /// Hang up on the caller (BYE).
    HangUpCaller,
    /// The call is over: store its end with this cause. The last output.
    End(EndCause),
}
