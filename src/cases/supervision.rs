//! Supervision: which of a case's deadlines are due soon or overdue at a given moment.
//!
//! Marks are computed from the stored case and the time, never held only in memory, so a
//! restarted server shows the same marks. A deadline is "due soon" inside its warning window
//! before it falls due, and "overdue" once it has passed while its step is still undone.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::workflow::{Case, CaseState};

/// Which step a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineKind {
    /// The platform's dispatch to a unit.
    Dispatch,
    /// The unit's signing.
    Sign,
    /// The unit's handling.
    Handle,
}

impl DeadlineKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Dispatch => "dispatch",
            DeadlineKind::Sign => "sign",
            DeadlineKind::Handle => "handle",
        }
    }

    /// How long before the deadline a case is marked due soon.
    pub fn warning(self) -> Duration {
        match self {
            DeadlineKind::Dispatch => Duration::hours(2),
            DeadlineKind::Sign => Duration::minutes(30),
            DeadlineKind::Handle => Duration::hours(24),
        }
    }
}

/// How urgent a mark is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkLevel {
    /// Inside the warning window.
    DueSoon,
    /// Past the deadline.
    Overdue,
}

impl MarkLevel {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkLevel::DueSoon => "due-soon",
            MarkLevel::Overdue => "overdue",
        }
    }
}

/// A supervision mark on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// The step.
    pub kind: DeadlineKind,
    /// Due soon or overdue.
    pub level: MarkLevel,
    /// When the step is due.
    pub due: DateTime<Utc>,
}

/// The marks of `case` at `now` (at most one: a case has one open step at a time).
pub fn marks(case: &Case, now: DateTime<Utc>) -> Option<Mark> {
    let (kind, deadline) = match case.state {
        CaseState::Accepted | CaseState::Returned => {
            (DeadlineKind::Dispatch, case.deadlines.dispatch?)
        }
        CaseState::Dispatched => (DeadlineKind::Sign, case.deadlines.sign?),
        s if s.is_with_unit() => (DeadlineKind::Handle, case.deadlines.handle?),
        _ => return None,
    };
    let level = if now > deadline.at {
        MarkLevel::Overdue
    } else if now >= deadline.at - kind.warning() {
        MarkLevel::DueSoon
    } else {
        return None;
    };
    Some(Mark {
        kind,
        level,
        due: deadline.at,
    })
}
