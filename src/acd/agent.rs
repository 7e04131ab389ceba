//! An agent seat and its state. Every change of state is timestamped so that occupancy and idle
//! time can be computed from the log.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What an agent is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "kebab-case")]
pub enum AgentState {
    /// Not working.
    LoggedOut,
    /// Waiting for a call.
    Available,
    /// Being offered a call.
    Ringing,
    /// Talking.
    OnCall,
    /// After-call work; available again when it ends.
    WrapUp,
    /// Logged in but not taking calls, with a reason (break, training, missed calls…).
    NotReady(String),
}

impl AgentState {
    /// The stored form.
    pub fn as_str(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged-out",
            AgentState::Available => "available",
            AgentState::Ringing => "ringing",
            AgentState::OnCall => "on-call",
            AgentState::WrapUp => "wrap-up",
            AgentState::NotReady(_) => "not-ready",
        }
    }
}

/// An agent seat.
#[derive(Debug, Clone, Serialize)]
pub struct Agent {
    /// Login id.
    pub id: String,
    /// The platform (division code) the seat belongs to.
    pub platform: String,
    /// Skills with levels 1 (basic) to 10 (expert), e.g. `mandarin: 10`, `complaints: 5`.
    pub skills: HashMap<String, u8>,
    /// Current state.
    pub state: AgentState,
    /// When the current state began.
    pub since: DateTime<Utc>,
    /// When the agent last became available (for longest-idle).
    pub idle_since: Option<DateTime<Utc>>,
    /// Calls answered since login.
    pub calls_taken: u32,
    /// Offers missed in a row.
    pub missed_in_row: u32,
    /// Calls the seat takes at once (1 for most; a seat with more may be offered another
    /// call while on one, but only when no idle seat qualifies).
    pub max_calls: u32,
    /// Calls the seat is connected to now.
    pub on_calls: u32,
    /// When wrap-up ends.
    #[serde(skip)]
    pub wrap_up_until: Option<DateTime<Utc>>,
    /// Wrap-up after each call.
    #[serde(skip)]
    pub wrap_up: Duration,
    /// Changes of state not yet taken for the state log.
    #[serde(skip)]
    changes: Vec<(AgentState, DateTime<Utc>)>,
    /// Its phone went away while it rang or talked (a closed console, a softphone that
    /// un-registered): it signs out as soon as that call is over, never to be offered another.
    #[serde(skip)]
    pub(super) logout_pending: bool,
}

impl Agent {
    /// A logged-out seat.
    pub fn new(id: &str, platform: &str, skills: HashMap<String, u8>, now: DateTime<Utc>) -> Agent {
        Agent {
            id: id.to_string(),
            platform: platform.to_string(),
            skills,
            state: AgentState::LoggedOut,
            since: now,
            idle_since: None,
            calls_taken: 0,
            missed_in_row: 0,
            max_calls: 1,
            on_calls: 0,
            wrap_up_until: None,
            wrap_up: Duration::from_secs(0),
            changes: Vec::new(),
            logout_pending: false,
        }
    }

    /// The same seat taking up to `max_calls` calls at once (at least 1).
    pub fn with_max_calls(mut self, max_calls: u32) -> Agent {
        self.max_calls = max_calls.max(1);
        self
    }

    /// True when the seat may be offered a call: available, or on fewer calls than it takes
    /// (and not already ringing).
    pub fn can_take_offer(&self) -> bool {
        match self.state {
            AgentState::Available => true,
            AgentState::OnCall => self.on_calls < self.max_calls,
            _ => false,
        }
    }

    /// The agent's level in `skill` (0 when absent).
    pub fn level(&self, skill: &str) -> u8 {
        self.skills.get(skill).copied().unwrap_or(0)
    }

    /// True when the agent has every skill in `required` at least at its level.
    pub fn qualifies(&self, required: &HashMap<String, u8>) -> bool {
        required.iter().all(|(s, &min)| self.level(s) >= min)
    }

    /// Moves to `state` at `now` and notes the change for the state log; the same state again
    /// changes nothing (its time and idle time stay).
    pub(super) fn set(&mut self, state: AgentState, now: DateTime<Utc>) {
        // A seat whose phone is gone leaves instead of waiting for the next call.
        let state = match state {
            AgentState::Available | AgentState::WrapUp | AgentState::NotReady(_)
                if self.logout_pending =>
            {
                self.logout_pending = false;
                AgentState::LoggedOut
            }
            other => other,
        };
        if state == self.state {
            return;
        }
        if state == AgentState::Available {
            self.idle_since = Some(now);
        }
        self.changes.push((state.clone(), now));
        self.state = state;
        self.since = now;
    }

    /// The changes of state since the last call, oldest first.
    pub(super) fn take_changes(&mut self) -> Vec<(AgentState, DateTime<Utc>)> {
        std::mem::take(&mut self.changes)
    }
}
