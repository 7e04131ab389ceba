//! A workflow step taken on a case from a call's edge: the escalation that goes with a call
//! handed to the province, the closing that goes with a hand-over to another hotline, a return
//! visit's rating, a unit's signing by phone. The rules are the workflow's
//! ([`crate::cases::workflow`]); this loads the case, applies the step at the dialplan's
//! calendar and saves it as one transition (refused when the case moved on meanwhile).

use chrono::Utc;

use super::services::CallServices;
use crate::calendar::DeadlineRules;
use crate::cases::workflow::{Actor, CaseEvent};

/// Why a step was not taken.
#[derive(Debug)]
pub enum StepFailed {
    /// No such case.
    NoCase,
    /// The workflow refused the step in the case's state (the call goes on regardless).
    Refused(String),
    /// The store failed to read or save the case.
    Store(String),
}

impl std::fmt::Display for StepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepFailed::NoCase => write!(f, "the case is gone"),
            StepFailed::Refused(why) | StepFailed::Store(why) => write!(f, "{why}"),
        }
    }
}

/// Takes `event` on `case_number` as `actor`, now; `note` is added to the step's note in the
/// case's history.
pub async fn take(
    services: &CallServices,
    case_number: &str,
    actor: &Actor,
    event: CaseEvent,
    note: Option<String>,
) -> Result<(), StepFailed> {
    let plan = services.dialplan();
    let stored = services
        .store
        .load_case(case_number)
        .await
        .map_err(|e| StepFailed::Store(e.to_string()))?
        .ok_or(StepFailed::NoCase)?;
    let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
    let mut next = stored.case.clone();
    next.apply(actor, event, Utc::now(), &rules)
        .map_err(|e| StepFailed::Refused(e.to_string()))?;
    if let (Some(note), Some(entry)) = (note, next.history.last_mut()) {
        entry.note = if entry.note.is_empty() {
            note
        } else {
            format!("{}; {note}", entry.note)
        };
    }
    services
        .store
        .save_transition(&stored, &next)
        .await
        .map_err(|e| StepFailed::Store(e.to_string()))
}
