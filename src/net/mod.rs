//! Helpers shared by the network edges (SIP, RTP and WebRTC sockets): socket buffer sizes, the
//! local address towards a peer, and warnings summarised per source so that a flood of bad
//! packets cannot flood the log.

pub mod buffers;
pub mod route;
pub mod throttle;

pub use buffers::{size_udp_buffers, BufferSizes};
pub use throttle::WarnThrottle;
