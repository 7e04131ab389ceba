//! Helpers shared by the network edges (SIP and RTP sockets): socket buffer sizes, and warnings
//! summarised per source so that a flood of bad packets cannot flood the log.

pub mod buffers;
pub mod throttle;

pub use buffers::{size_udp_buffers, BufferSizes};
pub use throttle::WarnThrottle;
