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
    /// A transfer asked through the API by `by`: the reply says where the caller went, or why
    /// not; a call not talking with an operator drops it unanswered.
    Transfer {
        to: String,
        by: crate::cases::workflow::Actor,
        reply:
            tokio::sync::oneshot::Sender<Result<TransferTarget, crate::routing::TransferRefused>>,
    },
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
