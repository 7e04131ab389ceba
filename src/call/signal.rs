//! The call layer's shared types, a leaf of `src/call/`: what the manager passes to a running
//! call ([`CallSignal`]), why a call ended ([`EndCause`]), and the methods the server allows.
//! Every file of the call layer may import it; it imports none of them.

use std::time::Duration;

use crate::sip::transaction::TransactionKey;

/// Where a transfer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTarget {
    /// The queue the caller joins.
    pub queue: String,
    /// Its platform.
    pub platform: String,
}

/// Methods this server understands, for Allow headers and 405 answers.
pub const ALLOWED_METHODS: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER, REFER";

/// What the API asks of a call in progress, before the call resolves it against the dialplan
/// and the ACD (see `flow::Action` for what each does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallRequest {
    /// Hand the caller to another hotline of hotlines.toml (`110`), blind or three-party.
    HandOver {
        number: String,
        three_party: bool,
        also_ours: bool,
    },
    /// The operator leaves the three-party call.
    Leave,
    /// Consult a colleague: a seat id, or a queue (its longest-idle free seat).
    Consult {
        to: String,
    },
    CompleteConsult,
    CancelConsult,
    /// A supervisor listens, whispers or barges in, on their seat's phone.
    Monitor {
        mode: MonitorMode,
        seat: String,
    },
    StopMonitor,
}

/// A call in progress, as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallDescription {
    pub call_id: String,
    pub case_number: String,
    /// The call's phase (`waiting`, `bridged`, `other-hotline`, `rating`, …).
    pub phase: &'static str,
    /// Who is in the call besides the caller.
    pub parties: Vec<PartyView>,
}

/// What the call manager passes on to a running call.
#[derive(Debug)]
pub enum CallSignal {
    /// The caller acknowledged our 200 OK.
    Ack,
    /// The caller hung up; the call answers the BYE.
    Bye {
        key: TransactionKey,
        request: Box<rsip::Request>,
    },
    /// The caller gave up before we answered (the layer already said 200 to the CANCEL).
    Cancel,
    /// Our 200 OK was never acknowledged.
    Timeout,
    /// A response on a call to a seat.
    AgentResponse(Box<rsip::Response>),
    /// The seat hung up.
    AgentBye {
        key: TransactionKey,
        request: Box<rsip::Request>,
    },
    /// The call to a seat got no final response.
    AgentTimeout { call_id: String },
    /// The seat asks to transfer the caller (REFER in its leg's dialog).
    AgentRefer {
        key: TransactionKey,
        request: Box<rsip::Request>,
    },
    /// The API asks to put the caller on hold (true) or take them back: the reply says
    /// whether they are on hold now, or why not; a call not talking with an operator drops it.
    Hold {
        on: bool,
        reply: tokio::sync::oneshot::Sender<Result<bool, &'static str>>,
    },
    /// What happened on a call to a seat's browser phone.
    Phone {
        call_id: String,
        event: crate::phone::PhoneEvent,
    },
    /// Something else the API asks, by `by`: the reply says what was done, or why not.
    Request {
        request: CallRequest,
        by: crate::cases::workflow::Actor,
        reply: tokio::sync::oneshot::Sender<Result<&'static str, String>>,
    },
    /// Another call takes this call's leg to a seat (REFER with Replaces naming this call's
    /// dialog, `from_tag` and `to_tag` as the transferor wrote them): the reply carries the
    /// leg, or None when there is none to give.
    TakeOver {
        from_tag: String,
        to_tag: String,
        reply: tokio::sync::oneshot::Sender<Option<TakenLeg>>,
    },
    /// The API asks who is in the call.
    Describe {
        reply: tokio::sync::oneshot::Sender<CallDescription>,
    },
    /// A transfer asked through the API by `by`: the reply says where the caller went, or why
    /// not; a call not talking with an operator drops it unanswered.
    Transfer {
        to: String,
        by: crate::cases::workflow::Actor,
        reply:
            tokio::sync::oneshot::Sender<Result<TransferTarget, crate::routing::TransferRefused>>,
    },
}

/// A leg handed from one call to another (a consultation's colleague taken over by the
/// caller's call): the leg itself (an `agent_leg::AgentLeg`, boxed so that this leaf need
/// not know the edge's type), its seat, and the ACD reservation that holds the seat.
pub struct TakenLeg {
    pub leg: Box<dyn std::any::Any + Send>,
    pub agent: String,
    pub reservation: String,
}

impl std::fmt::Debug for TakenLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TakenLeg")
            .field("agent", &self.agent)
            .field("reservation", &self.reservation)
            .finish()
    }
}

/// Why a call ended, as stored with the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    CallerHangup,
    Cancelled,
    AckTimeout,
    MediaTimeout,
    MaxDuration,
    Rejected,
    /// The caller left a voice message and the server hung up.
    VoicemailDone,
    /// The operator hung up.
    AgentHangup,
}

impl EndCause {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            EndCause::CallerHangup => "caller-hangup",
            EndCause::Cancelled => "cancelled",
            EndCause::AckTimeout => "ack-timeout",
            EndCause::MediaTimeout => "media-timeout",
            EndCause::MaxDuration => "max-duration",
            EndCause::Rejected => "rejected",
            EndCause::VoicemailDone => "voicemail-done",
            EndCause::AgentHangup => "agent-hangup",
        }
    }
}

/// What the ACD tells a waiting call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueNotice {
    /// Offer the call to this seat.
    Ring { agent: String },
    /// Withdraw the offer.
    StopRinging { agent: String },
    /// Bridge with this seat, which answered.
    Connect { agent: String },
    /// Waited too long: voicemail.
    Overflow,
    /// The caller's position and an estimated wait.
    Announce {
        position: usize,
        estimated_wait: Duration,
    },
}

/// How a supervisor takes part in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonitorMode {
    /// Hears both, heard by none.
    Listen,
    /// Hears both, heard by the operator only (coaching).
    Whisper,
    /// Hears both, heard by both (a three-way call).
    Barge,
}

impl MonitorMode {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorMode::Listen => "listen",
            MonitorMode::Whisper => "whisper",
            MonitorMode::Barge => "barge",
        }
    }
}

/// Someone in a call, as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartyView {
    /// `operator`, `hotline`, `colleague` or `supervisor`.
    pub role: &'static str,
    /// The seat, the hotline's number, or the supervisor.
    pub who: String,
    /// `ringing` or `up`.
    pub state: &'static str,
    /// A supervisor's mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<MonitorMode>,
}
