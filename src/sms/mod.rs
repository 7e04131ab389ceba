//! SMS: the hotline's number at the carrier's SMS centre. [`smpp`] keeps an SMPP 3.4 session
//! (bind, enquire_link, reconnect with back-off) and submits and receives short messages;
//! [`frames`] reads PDUs so that a bad one is refused without ending the session;
//! [`receipt`] reads delivery receipts; [`sender`] sends what the outbox holds, and
//! [`inbound`] turns messages and receipts into requests and delivery states.
//!
//! Other SMS platforms (an HTTP SMS API, China Mobile's CMPP) plug in behind [`SmsGateway`]:
//! the outbox, the requests and the receipts do not know which one runs.

pub mod frames;
pub mod inbound;
pub mod receipt;
pub mod sender;
pub mod smpp;

use async_trait::async_trait;

/// Why a message was not submitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// No session with the SMS centre now: the message waits in the outbox.
    #[error("not connected to the SMS centre")]
    NotConnected,
    /// The centre said no for now (throttled, queue full, no answer): try again later.
    #[error("the SMS centre asked to try later: {0}")]
    Later(String),
    /// The centre refused it for good (a bad number, a text it cannot take).
    #[error("the SMS centre refused it: {0}")]
    Refused(String),
}

/// What an SMS centre delivers to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A message from a phone to the hotline's number (a long one already put together).
    Message {
        from: String,
        to: String,
        text: String,
    },
    /// The fate of a message we submitted: the centre's id for it and its final state
    /// (`DELIVRD`, `UNDELIV`, `EXPIRED`, `REJECTD`, …).
    Receipt { id: String, state: String },
}

/// Where a gateway hands what it receives; the gateway confirms receipt to the centre only
/// once this returns Ok (so a message not stored is sent again by the centre).
#[async_trait]
pub trait SmsSink: Send + Sync {
    async fn deliver(&self, inbound: Inbound) -> Result<(), String>;
}

/// A way to send SMS: SMPP here; an HTTP platform or CMPP elsewhere.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Submits `text` from `from` to `to`, split into parts as needed; returns the centre's
    /// id of each part (for the delivery receipts).
    async fn submit(&self, from: &str, to: &str, text: &str) -> Result<Vec<String>, SubmitError>;
}
