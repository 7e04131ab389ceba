//! RTP packet counts of the whole server, for `/metrics`: plain relaxed atomics bumped on the
//! packet path (no lock, no allocation, no registry lookup), read when Prometheus scrapes.

use std::sync::atomic::{AtomicU64, Ordering};

/// RTP packets received and taken (from the locked source, well formed).
pub static RTP_IN: AtomicU64 = AtomicU64::new(0);
/// RTP packets sent.
pub static RTP_OUT: AtomicU64 = AtomicU64::new(0);
/// RTP packets dropped: malformed, from a foreign source, or audio the call could not take
/// in time.
pub static RTP_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Adds one to a count.
#[inline]
pub fn bump(count: &AtomicU64) {
    count.fetch_add(1, Ordering::Relaxed);
}

/// The counts now: (in, out, dropped).
pub fn read() -> (u64, u64, u64) {
    (
        RTP_IN.load(Ordering::Relaxed),
        RTP_OUT.load(Ordering::Relaxed),
        RTP_DROPPED.load(Ordering::Relaxed),
    )
}
