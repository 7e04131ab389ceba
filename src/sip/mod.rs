//! SIP (RFC 3261) on top of rsip's parser: the sans-I/O [`transaction`] layer and [`dialog`]s,
//! [`message`] helpers, TCP [`framing`], and the tokio [`endpoint`] that moves bytes between
//! sockets and the transaction layer.

pub mod dialog;
pub mod endpoint;
pub mod framing;
pub mod message;
pub mod transaction;
