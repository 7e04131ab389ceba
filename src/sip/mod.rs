//! SIP (RFC 3261) on top of rsip's parser: the sans-I/O [`transaction`] layer and [`dialog`]s,
//! [`message`] helpers, stream [`framing`] and connections ([`stream`]), [`tls`] set-up, and the tokio [`endpoint`] that moves bytes between
//! sockets and the transaction layer.

pub mod dialog;
pub mod endpoint;
pub mod framing;
pub mod message;
pub mod stream;
pub mod tls;
pub mod transaction;
