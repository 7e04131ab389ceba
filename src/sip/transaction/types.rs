//! The transaction layer's shared types: transports and peers, timer values, transaction
//! keys, errors, and what the layer puts out. A leaf: the layer and its client and server
//! transactions import from here, and it imports none of them.

use std::net::SocketAddr;
use std::time::Duration;

use crate::sip::message;

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    /// TCP with TLS (RFC 3261 §26.2; `sips:` and `transport=tls`).
    Tls,
}

impl Transport {
    /// The name in a Via (`UDP`, `TCP`, `TLS`).
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The `transport=` URI parameter that reaches us this way (empty for UDP).
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
        }
    }

    /// The transport a contact URI asks for (`transport=` or a `sips:` scheme).
    pub fn of_uri(uri: &str) -> Transport {
        let lower = uri.to_ascii_lowercase();
        if lower.starts_with("sips:") || lower.contains("transport=tls") {
            Transport::Tls
        } else if lower.contains("transport=tcp") {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }

    /// True when the transport is unreliable (retransmissions needed).
    pub fn unreliable(self) -> bool {
        self == Transport::Udp
    }
}

/// The other end of a message: address and transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub addr: SocketAddr,
    pub transport: Transport,
}

/// Timer base values (RFC 3261 §17.1.1.1 and table 4).
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// RTT estimate: 500 ms.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses: 4 s.
    pub t2: Duration,
    /// Longest time a message stays in the network: 5 s.
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// 64·T1: Timer B, F, H, J (UDP) and the wait for the ACK of a 2xx.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// Identifies a transaction (RFC 3261 §17.1.3 and §17.2.3): the branch, the sent-by of the top
/// Via (server side) and the method, with ACK matched to its INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionKey {
    /// The top Via's branch.
    pub branch: String,
    /// The top Via's sent-by (server transactions); empty for client transactions.
    pub sent_by: String,
    /// The method (`INVITE` for an ACK).
    pub method: String,
    /// True for server transactions.
    pub server: bool,
}

/// What went wrong asking the layer to do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    #[error("no such transaction (it ended or never was)")]
    UnknownTransaction,
    #[error("the transaction has already sent its final response")]
    AlreadyFinal,
    #[error("the SIP endpoint has shut down")]
    Closed,
    #[error("invalid message: {0}")]
    Invalid(String),
}

/// Events for the transaction user (the call layer).
#[derive(Debug)]
pub enum TuEvent {
    /// A new request (a new server transaction).
    Request {
        key: TransactionKey,
        request: rsip::Request,
        peer: Peer,
    },
    /// The ACK of a 2xx (end to end, outside transactions).
    Ack { request: rsip::Request, peer: Peer },
    /// A CANCEL matched a pending INVITE; the layer answered the CANCEL with 200, and the TU
    /// should answer the INVITE with 487. `request` is the INVITE.
    Cancelled {
        invite: TransactionKey,
        request: rsip::Request,
    },
    /// A response to one of our requests (retransmissions of non-2xx finals are absorbed).
    Response {
        key: TransactionKey,
        response: rsip::Response,
    },
    /// A transaction timed out: our request got no final response (Timer B/F), the ACK of our
    /// 2xx never came, or the ACK of our error response never came (Timer H).
    Timeout {
        key: TransactionKey,
        call_id: String,
    },
}

/// The Timeout event of the transaction `key` whose request was `request`.
pub(super) fn timed_out(key: &TransactionKey, request: &rsip::Request) -> Output {
    Output::Event(TuEvent::Timeout {
        key: key.clone(),
        call_id: message::call_id(request).unwrap_or_default(),
    })
}

/// What the layer wants done.
#[derive(Debug)]
pub enum Output {
    /// Send this message to this peer.
    Transmit { msg: rsip::SipMessage, peer: Peer },
    /// Hand this event to the transaction user.
    Event(TuEvent),
}
