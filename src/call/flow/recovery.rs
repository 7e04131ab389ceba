//! After a crash or a kill: what becomes of what the previous run left half done. These are the
//! rules; the start-up (`server.rs`, `call/recording.rs`, `call/voicemail.rs`) reads the store
//! and the files and applies them.
//!
//! - Calls and seat legs still open end at the restart with the cause [`RESTART_CAUSE`].
//! - The recordings of a bridge that was cut keep what reached the disk, and are sealed.
//! - An interrupted voice message keeps what reached the disk. Its callback is due as for a
//!   message left when it began, not when the server came back. One that holds no audio is
//!   thrown away (the call keeps its case).

use chrono::{DateTime, Utc};

use crate::dialplan::Dialplan;

/// The end cause of a call, and the outcome of a seat leg, that a restart found open.
pub const RESTART_CAUSE: &str = "server-restart";

/// What to do with a voice message the previous run was recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageRecovery {
    /// Keep it, awaiting its callback by this time.
    Keep { callback_due: DateTime<Utc> },
    /// Nothing was recorded: throw it away.
    Discard,
}

/// The rule for an interrupted voice message left on `platform` from `started_at`, of which
/// `samples` reached the disk.
pub fn interrupted_message(
    plan: &Dialplan,
    platform: &str,
    started_at: DateTime<Utc>,
    samples: u64,
) -> MessageRecovery {
    if samples == 0 {
        return MessageRecovery::Discard;
    }
    MessageRecovery::Keep {
        callback_due: plan.callback_due(platform, started_at),
    }
}
