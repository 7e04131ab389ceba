//! The ACD state machine. Events and clock ticks in; commands for the call layer and queue-log
//! entries (like Asterisk's queue_log) out. One offer rings an agent for the queue's ring
//! timeout; then the call moves on, and an agent who misses `max_missed` offers in a row is set
//! not-ready. Waiting callers hear their position every `announce_every`, and overflow after
//! `max_wait`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::agent::{Agent, AgentState};
use super::queue::{Overflow, QueueConfig};
use super::strategy::{self, Strategy};

/// Something that happened, for the ACD to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdEvent {
    /// An agent logs in (not ready until they say so).
    Login { agent: String },
    /// An agent logs out; only when not on a call.
    Logout { agent: String },
    /// An agent is ready for calls.
    Ready { agent: String },
    /// An agent is not ready, with a reason.
    NotReady { agent: String, reason: String },
    /// A caller joins a queue.
    CallArrived { call: String, queue: String },
    /// A waiting caller hung up.
    CallAbandoned { call: String },
    /// The agent rung for `call` answered.
    Answered { call: String, agent: String },
    /// The agent rung for `call` declined or could not be reached (busy, error).
    Declined { call: String, agent: String },
    /// A connected call ended; `by_agent` when the agent hung up.
    CallEnded { call: String, by_agent: bool },
    /// A connected call was transferred away (to another platform, or handed to another
    /// hotline such as 110).
    Transferred { call: String, to: String },
    /// A seat taken for a call outside the queues ([`Acd::reserve`], [`Acd::pick_for`]) is
    /// free again: after-call work, or back to not ready when it was.
    Released { call: String },
    /// A connected call goes on with the seat reserved under `reservation` (a consultation
    /// the operator completed): the first seat's part is complete, the second's begins.
    Handed { call: String, reservation: String },
}

/// What the call layer must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdCommand {
    /// Offer the call to the agent (INVITE their phone).
    Ring { call: String, agent: String },
    /// Withdraw an offer (CANCEL).
    StopRinging { call: String, agent: String },
    /// Bridge the caller with the agent who answered.
    Connect { call: String, agent: String },
    /// The caller waited too long: move them on.
    Overflow { call: String, to: Overflow },
    /// Tell the caller their position (1 = next) and an estimated wait.
    Announce {
        call: String,
        position: usize,
        estimated_wait: std::time::Duration,
    },
}

/// A queue-log entry (stored as this JSON, and read back for the KPIs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLogEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The queue.
    pub queue: String,
    /// The call.
    pub call: String,
    /// The agent, when one is involved.
    pub agent: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: QueueLogKind,
}

/// The kinds of queue-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum QueueLogKind {
    EnterQueue,
    RingNoAnswer {
        rang_ms: i64,
    },
    Connect {
        wait_ms: i64,
    },
    Complete {
        by_agent: bool,
        talk_ms: i64,
    },
    Abandon {
        position: usize,
        wait_ms: i64,
    },
    Transfer {
        to: String,
    },
    Overflow {
        to: String,
    },
    /// The operator handed the caller to a colleague they had consulted (no new answer).
    Handed {
        to: String,
    },
    /// The caller left the queue for self-service (a progress lookup): the call is no longer
    /// offered (it may come back: a new entry).
    SelfService,
}

impl QueueLogKind {
    /// The step's name in the logs, in words (`enter-queue`, `ring-no-answer`, …).
    pub fn step(&self) -> &'static str {
        match self {
            QueueLogKind::EnterQueue => "enter-queue",
            QueueLogKind::RingNoAnswer { .. } => "ring-no-answer",
            QueueLogKind::Connect { .. } => "connect",
            QueueLogKind::Complete { .. } => "complete",
            QueueLogKind::Abandon { .. } => "abandon",
            QueueLogKind::Transfer { .. } => "transfer",
            QueueLogKind::Overflow { .. } => "overflow",
            QueueLogKind::Handed { .. } => "handed",
            QueueLogKind::SelfService => "self-service",
        }
    }
}

/// An event the ACD cannot apply; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("no agent {0}")]
    UnknownAgent(String),
    #[error("no queue {0}")]
    UnknownQueue(String),
    #[error("no call {0} in the ACD")]
    UnknownCall(String),
    #[error("call {0} is already queued")]
    DuplicateCall(String),
    #[error("agent {agent} is {state}: cannot {action}")]
    AgentState {
        agent: String,
        state: &'static str,
        action: &'static str,
    },
    #[error("agent {agent} was not offered call {call}")]
    NotOffered { agent: String, call: String },
}

#[derive(Debug, Clone)]
struct Offer {
    agent: String,
    rang_at: DateTime<Utc>,
    until: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Waiting {
    call: String,
    queue: String,
    /// When the caller first entered any queue (their place in line).
    entered: DateTime<Utc>,
    /// When the caller entered this queue (for its maximum wait).
    queue_entered: DateTime<Utc>,
    next_announce: DateTime<Utc>,
    offers: Vec<Offer>,
}

#[derive(Debug, Clone)]
struct Connected {
    queue: String,
    agent: String,
    since: DateTime<Utc>,
}

/// A seat taken for a call outside the queues.
#[derive(Debug, Clone)]
struct Reserved {
    agent: String,
    /// The reason it was not ready, to go back to once the call is over.
    was_not_ready: Option<String>,
}

#[derive(Debug, Clone)]
struct QueueState {
    config: QueueConfig,
    last_offered: Option<String>,
}

/// A caller waiting, as supervisors see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingView {
    pub call: String,
    pub queue: String,
    /// The platform whose seats answer the queue.
    pub platform: String,
    pub position: usize,
    pub waiting_ms: i64,
    pub ringing: Vec<String>,
}

/// A caller talking with an operator, as supervisors see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectedView {
    pub call: String,
    pub queue: String,
    /// The platform whose queue the call came through.
    pub platform: String,
    pub agent: String,
    pub talking_ms: i64,
}

/// A seat's change of state, for occupancy and idle-time reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentStateChange {
    pub at: DateTime<Utc>,
    pub agent: String,
    pub platform: String,
    pub state: AgentState,
}

/// Default talk time for wait estimates before any call completed.
const DEFAULT_TALK_SECS: i64 = 180;

/// The ACD of the whole hotline.
#[derive(Debug, Default)]
pub struct Acd {
    queues: HashMap<String, QueueState>,
    agents: BTreeMap<String, Agent>,
    waiting: Vec<Waiting>,
    connected: HashMap<String, Connected>,
    commands: VecDeque<AcdCommand>,
    log: VecDeque<QueueLogEntry>,
    /// Mean talk time of completed calls, ms (for wait estimates).
    mean_talk_ms: Option<i64>,
    state_changes: VecDeque<AgentStateChange>,
    /// Seats taken for calls outside the queues, by the reservation's name.
    reserved: HashMap<String, Reserved>,
}

impl Acd {
    /// An empty ACD.
    pub fn new() -> Acd {
        Acd::default()
    }

    /// Adds or replaces a queue.
    /// Adds a queue, or changes the settings of one it has (its callers stay where they are).
    pub fn add_queue(&mut self, config: QueueConfig) {
        let last_offered = self
            .queues
            .get(&config.name)
            .and_then(|q| q.last_offered.clone());
        self.queues.insert(
            config.name.clone(),
            QueueState {
                config,
                last_offered,
            },
        );
    }

    /// Changes the skills and calls at once of a seat, keeping its state; false when there is
    /// no such seat.
    pub fn update_agent(&mut self, id: &str, skills: HashMap<String, u8>, max_calls: u32) -> bool {
        match self.agents.get_mut(id) {
            Some(a) => {
                a.skills = skills;
                a.max_calls = max_calls.max(1);
                true
            }
            None => false,
        }
    }

    /// Adds a (logged-out) agent seat, replacing one with the same id.
    pub fn add_agent(&mut self, agent: Agent) {
        self.agents.insert(agent.id.clone(), agent);
    }

    /// An agent, by id.
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.agents.get(id)
    }

    /// Every agent, by id.
    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    /// Callers waiting, in order, per queue.
    pub fn waiting(&self, now: DateTime<Utc>) -> Vec<WaitingView> {
        self.waiting
            .iter()
            .map(|w| WaitingView {
                call: w.call.clone(),
                queue: w.queue.clone(),
                platform: self.queues[&w.queue].config.platform.clone(),
                position: self.position(&w.call).unwrap_or(0),
                waiting_ms: (now - w.entered).num_milliseconds(),
                ringing: w.offers.iter().map(|o| o.agent.clone()).collect(),
            })
            .collect()
    }

    /// Callers talking with operators, longest first.
    pub fn connected(&self, now: DateTime<Utc>) -> Vec<ConnectedView> {
        let mut out: Vec<ConnectedView> = self
            .connected
            .iter()
            .map(|(call, c)| ConnectedView {
                call: call.clone(),
                queue: c.queue.clone(),
                platform: self
                    .queues
                    .get(&c.queue)
                    .map_or_else(String::new, |q| q.config.platform.clone()),
                agent: c.agent.clone(),
                talking_ms: (now - c.since).num_milliseconds(),
            })
            .collect();
        out.sort_by(|a, b| b.talking_ms.cmp(&a.talking_ms).then(a.call.cmp(&b.call)));
        out
    }

    /// Takes `agent` for `call`, a call outside the queues (a callback, a consultation): the
    /// seat is on a call from now on and offered nothing else, until [`AcdEvent::Released`]
    /// (or [`AcdEvent::Handed`]). Only a seat that is signed in and on no call.
    pub fn reserve(&mut self, call: &str, agent: &str, now: DateTime<Utc>) -> Result<(), AcdError> {
        if self.reserved.contains_key(call) {
            return Err(AcdError::DuplicateCall(call.to_string()));
        }
        let a = self.agent_mut(agent)?;
        let was_not_ready = match (&a.state, a.on_calls) {
            (AgentState::Available | AgentState::WrapUp, 0) => None,
            (AgentState::NotReady(reason), 0) => Some(reason.clone()),
            _ => return Err(state_error(a, "take a call outside the queues")),
        };
        a.wrap_up_until = None;
        a.on_calls += 1;
        a.set(AgentState::OnCall, now);
        self.reserved.insert(
            call.to_string(),
            Reserved {
                agent: agent.to_string(),
                was_not_ready,
            },
        );
        self.note_state_changes();
        Ok(())
    }

    /// Takes a free seat of `platform` for `call` (a callback the hotline owes), when no
    /// caller waits in the platform's queues: callers calling in come first. The seat idle the
    /// longest; None when no seat is free or someone waits.
    pub fn pick_for(&mut self, call: &str, platform: &str, now: DateTime<Utc>) -> Option<String> {
        let waiting = self.waiting.iter().any(|w| {
            self.queues
                .get(&w.queue)
                .is_some_and(|q| q.config.platform == platform)
        });
        if waiting || self.reserved.contains_key(call) {
            return None;
        }
        let agent = self
            .agents
            .values()
            .filter(|a| {
                a.platform == platform && a.state == AgentState::Available && a.on_calls == 0
            })
            .min_by_key(|a| (a.idle_since, a.id.clone()))?
            .id
            .clone();
        self.reserve(call, &agent, now).ok()?;
        Some(agent)
    }

    /// The seat reserved under `call`, if any.
    pub fn reserved_agent(&self, call: &str) -> Option<&str> {
        self.reserved.get(call).map(|r| r.agent.as_str())
    }

    /// The next command for the call layer.
    pub fn poll_command(&mut self) -> Option<AcdCommand> {
        self.commands.pop_front()
    }

    /// The next queue-log entry to store.
    pub fn poll_log(&mut self) -> Option<QueueLogEntry> {
        self.log.pop_front()
    }

    /// The next change of a seat's state to store (every change, with its time).
    pub fn poll_state_change(&mut self) -> Option<AgentStateChange> {
        self.state_changes.pop_front()
    }

    /// Moves the seats' changes of state into the log's queue, in the order they happened;
    /// called once at the end of `handle` and `tick`, the only places where states change.
    fn note_state_changes(&mut self) {
        for a in self.agents.values_mut() {
            for (state, at) in a.take_changes() {
                self.state_changes.push_back(AgentStateChange {
                    at,
                    agent: a.id.clone(),
                    platform: a.platform.clone(),
                    state,
                });
            }
        }
    }

    /// Applies an event at `now`.
    pub fn handle(&mut self, event: AcdEvent, now: DateTime<Utc>) -> Result<(), AcdError> {
        match event {
            AcdEvent::Login { agent } => {
                let a = self.agent_mut(&agent)?;
                a.logout_pending = false;
                if a.state == AgentState::LoggedOut {
                    a.set(AgentState::NotReady("logged in".into()), now);
                    a.calls_taken = 0;
                    a.missed_in_row = 0;
                }
            }
            AcdEvent::Logout { agent } => {
                let a = self.agent_mut(&agent)?;
                if matches!(a.state, AgentState::Ringing | AgentState::OnCall) {
                    // The call goes on; the seat leaves once it is over.
                    a.logout_pending = true;
                    return Ok(());
                }
                a.set(AgentState::LoggedOut, now);
            }
            AcdEvent::Ready { agent } => {
                let a = self.agent_mut(&agent)?;
                match a.state {
                    AgentState::NotReady(_) | AgentState::WrapUp | AgentState::Available => {
                        a.missed_in_row = 0;
                        a.wrap_up_until = None;
                        if a.state != AgentState::Available {
                            a.set(AgentState::Available, now);
                        }
                    }
                    _ => return Err(state_error(a, "become ready")),
                }
            }
            AcdEvent::NotReady { agent, reason } => {
                let a = self.agent_mut(&agent)?;
                match a.state {
                    AgentState::Available | AgentState::WrapUp | AgentState::NotReady(_) => {
                        a.set(AgentState::NotReady(reason), now)
                    }
                    _ => return Err(state_error(a, "become not ready")),
                }
            }
            AcdEvent::CallArrived { call, queue } => {
                let config = &self
                    .queues
                    .get(&queue)
                    .ok_or_else(|| AcdError::UnknownQueue(queue.clone()))?
                    .config;
                if self.waiting.iter().any(|w| w.call == call) || self.connected.contains_key(&call)
                {
                    return Err(AcdError::DuplicateCall(call));
                }
                let next_announce = now + dur(config.announce_every);
                self.waiting.push(Waiting {
                    call: call.clone(),
                    queue: queue.clone(),
                    entered: now,
                    queue_entered: now,
                    next_announce,
                    offers: Vec::new(),
                });
                self.record(now, &queue, &call, None, QueueLogKind::EnterQueue);
            }
            AcdEvent::CallAbandoned { call } => {
                let position = self
                    .position(&call)
                    .ok_or_else(|| AcdError::UnknownCall(call.clone()))?;
                let w = self.take_waiting(&call).expect("position found it");
                self.withdraw_offers(&w, now);
                let wait_ms = (now - w.entered).num_milliseconds();
                self.record(
                    now,
                    &w.queue,
                    &call,
                    None,
                    QueueLogKind::Abandon { position, wait_ms },
                );
            }
            AcdEvent::Answered { call, agent } => {
                let idx = self
                    .waiting
                    .iter()
                    .position(|w| w.call == call)
                    .ok_or_else(|| AcdError::UnknownCall(call.clone()))?;
                if !self.waiting[idx].offers.iter().any(|o| o.agent == agent) {
                    return Err(AcdError::NotOffered { agent, call });
                }
                let mut w = self.waiting.remove(idx);
                w.offers.retain(|o| o.agent != agent);
                self.withdraw_offers(&w, now);
                let a = self.agents.get_mut(&agent).expect("offered agents exist");
                a.set(AgentState::OnCall, now);
                a.on_calls += 1;
                a.calls_taken += 1;
                a.missed_in_row = 0;
                let wait_ms = (now - w.entered).num_milliseconds();
                self.connected.insert(
                    call.clone(),
                    Connected {
                        queue: w.queue.clone(),
                        agent: agent.clone(),
                        since: now,
                    },
                );
                self.commands.push_back(AcdCommand::Connect {
                    call: call.clone(),
                    agent: agent.clone(),
                });
                self.record(
                    now,
                    &w.queue,
                    &call,
                    Some(&agent),
                    QueueLogKind::Connect { wait_ms },
                );
            }
            AcdEvent::Declined { call, agent } => {
                let w = self
                    .waiting
                    .iter_mut()
                    .find(|w| w.call == call)
                    .ok_or_else(|| AcdError::UnknownCall(call.clone()))?;
                let Some(i) = w.offers.iter().position(|o| o.agent == agent) else {
                    return Err(AcdError::NotOffered { agent, call });
                };
                let offer = w.offers.remove(i);
                let queue = w.queue.clone();
                self.missed(&queue, &call, offer, now);
            }
            AcdEvent::CallEnded { call, by_agent } => {
                let c = self
                    .connected
                    .remove(&call)
                    .ok_or_else(|| AcdError::UnknownCall(call.clone()))?;
                let talk_ms = (now - c.since).num_milliseconds();
                self.mean_talk_ms = Some(match self.mean_talk_ms {
                    Some(m) => (m * 7 + talk_ms) / 8,
                    None => talk_ms,
                });
                self.after_call(&c, now);
                self.record(
                    now,
                    &c.queue,
                    &call,
                    Some(&c.agent),
                    QueueLogKind::Complete { by_agent, talk_ms },
                );
            }
            AcdEvent::Transferred { call, to } => {
                let c = self
                    .connected
                    .remove(&call)
                    .ok_or_else(|| AcdError::UnknownCall(call.clone()))?;
                self.after_call(&c, now);
                self.record(
                    now,
                    &c.queue,
                    &call,
                    Some(&c.agent),
                    QueueLogKind::Transfer { to },
                );
            }
            AcdEvent::Released { call } => {
                let r = self
                    .reserved
                    .remove(&call)
                    .ok_or_else(|| AcdError::UnknownCall(call.clone()))?;
                self.release_seat(&r, now);
            }
            AcdEvent::Handed { call, reservation } => {
                if !self.connected.contains_key(&call) {
                    return Err(AcdError::UnknownCall(call));
                }
                let r = self
                    .reserved
                    .remove(&reservation)
                    .ok_or_else(|| AcdError::UnknownCall(reservation.clone()))?;
                let c = self.connected.get(&call).cloned().expect("checked");
                let talk_ms = (now - c.since).num_milliseconds();
                self.after_call(&c, now);
                self.record(
                    now,
                    &c.queue,
                    &call,
                    Some(&c.agent),
                    QueueLogKind::Handed {
                        to: r.agent.clone(),
                    },
                );
                self.record(
                    now,
                    &c.queue,
                    &call,
                    Some(&c.agent),
                    QueueLogKind::Complete {
                        by_agent: true,
                        talk_ms,
                    },
                );
                self.connected.insert(
                    call,
                    Connected {
                        queue: c.queue,
                        agent: r.agent,
                        since: now,
                    },
                );
            }
        }
        self.assign(now);
        self.note_state_changes();
        Ok(())
    }

    /// Takes the caller of a waiting call out of its queue for self-service (a progress
    /// lookup): offers are withdrawn, the entry logged; it may enter again later.
    pub fn self_service(&mut self, call: &str, now: DateTime<Utc>) -> Result<(), AcdError> {
        let w = self
            .take_waiting(call)
            .ok_or_else(|| AcdError::UnknownCall(call.to_string()))?;
        self.withdraw_offers(&w, now);
        self.record(now, &w.queue, call, None, QueueLogKind::SelfService);
        self.assign(now);
        self.note_state_changes();
        Ok(())
    }

    /// A reserved seat's call is over: after-call work as after a queue call (the wrap-up of
    /// its platform's own queue), or not ready again with the reason it had.
    fn release_seat(&mut self, r: &Reserved, now: DateTime<Utc>) {
        let wrap = self
            .agents
            .get(&r.agent)
            .and_then(|a| self.queues.get(&a.platform))
            .map(|q| q.config.wrap_up)
            .unwrap_or_default();
        let Some(a) = self.agents.get_mut(&r.agent) else {
            return;
        };
        a.on_calls = a.on_calls.saturating_sub(1);
        if a.on_calls > 0 || a.state == AgentState::Ringing {
            return;
        }
        match &r.was_not_ready {
            Some(reason) => a.set(AgentState::NotReady(reason.clone()), now),
            None if wrap.is_zero() => a.set(AgentState::Available, now),
            None => {
                a.wrap_up_until = Some(now + dur(wrap));
                a.set(AgentState::WrapUp, now);
            }
        }
    }

    /// Applies the clock: ring timeouts, wrap-up ends, overflows and announcements due at `now`.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        // Wrap-up ends.
        for a in self.agents.values_mut() {
            if a.state == AgentState::WrapUp && a.wrap_up_until.is_some_and(|t| t <= now) {
                a.wrap_up_until = None;
                a.set(AgentState::Available, now);
            }
        }
        // Ring timeouts.
        let mut expired = Vec::new();
        for w in &mut self.waiting {
            let (gone, kept): (Vec<Offer>, Vec<Offer>) =
                w.offers.drain(..).partition(|o| o.until <= now);
            w.offers = kept;
            expired.extend(
                gone.into_iter()
                    .map(|o| (w.queue.clone(), w.call.clone(), o)),
            );
        }
        for (queue, call, offer) in expired {
            self.commands.push_back(AcdCommand::StopRinging {
                call: call.clone(),
                agent: offer.agent.clone(),
            });
            self.missed(&queue, &call, offer, now);
        }
        // Overflows.
        let mut overflowing = Vec::new();
        for w in &self.waiting {
            let config = &self.queues[&w.queue].config;
            if config
                .max_wait
                .is_some_and(|m| now >= w.queue_entered + dur(m))
            {
                overflowing.push((w.call.clone(), config.overflow.clone()));
            }
        }
        for (call, to) in overflowing {
            let mut w = self.take_waiting(&call).expect("listed above");
            self.withdraw_offers(&w, now);
            let label = match &to {
                Overflow::Queue(q) => q.clone(),
                Overflow::Voicemail => "voicemail".to_string(),
            };
            self.record(
                now,
                &w.queue,
                &call,
                None,
                QueueLogKind::Overflow { to: label },
            );
            match &to {
                Overflow::Queue(q) if self.queues.contains_key(q) => {
                    // Into the other queue, keeping the caller's place in time.
                    w.queue = q.clone();
                    w.queue_entered = now;
                    w.offers.clear();
                    let pos = self
                        .waiting
                        .iter()
                        .position(|o| o.entered > w.entered)
                        .unwrap_or(self.waiting.len());
                    self.record(now, q, &call, None, QueueLogKind::EnterQueue);
                    self.waiting.insert(pos, w);
                }
                _ => self.commands.push_back(AcdCommand::Overflow { call, to }),
            }
        }
        // Announcements (not to a caller whose call is ringing at a seat: they are about to
        // be answered).
        self.assign(now);
        let mut announce = Vec::new();
        for w in &mut self.waiting {
            if w.next_announce <= now && w.offers.is_empty() {
                let every = self.queues[&w.queue].config.announce_every;
                w.next_announce = now + dur(every);
                announce.push(w.call.clone());
            }
        }
        for call in announce {
            let position = self.position(&call).unwrap_or(1);
            let estimated_wait = self.estimate_wait(&call, position);
            self.commands.push_back(AcdCommand::Announce {
                call,
                position,
                estimated_wait,
            });
        }
        self.assign(now);
        self.note_state_changes();
    }

    /// The earliest moment `tick` has something to do.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        let offers = self
            .waiting
            .iter()
            .flat_map(|w| w.offers.iter().map(|o| o.until));
        let overflow = self.waiting.iter().filter_map(|w| {
            self.queues[&w.queue]
                .config
                .max_wait
                .map(|m| w.queue_entered + dur(m))
        });
        let announce = self
            .waiting
            .iter()
            .filter(|w| w.offers.is_empty())
            .map(|w| w.next_announce);
        let wrap = self.agents.values().filter_map(|a| a.wrap_up_until);
        offers.chain(overflow).chain(announce).chain(wrap).min()
    }

    /// 1-based position of a waiting call among the callers of its queue.
    fn position(&self, call: &str) -> Option<usize> {
        let w = self.waiting.iter().find(|w| w.call == call)?;
        Some(
            self.waiting
                .iter()
                .filter(|o| o.queue == w.queue)
                .position(|o| o.call == call)?
                + 1,
        )
    }

    fn estimate_wait(&self, call: &str, position: usize) -> std::time::Duration {
        let Some(w) = self.waiting.iter().find(|w| w.call == call) else {
            return std::time::Duration::ZERO;
        };
        let platform = &self.queues[&w.queue].config.platform;
        let staffed = self
            .agents
            .values()
            .filter(|a| &a.platform == platform)
            .filter(|a| !matches!(a.state, AgentState::LoggedOut | AgentState::NotReady(_)))
            .count()
            .max(1) as i64;
        let talk = self.mean_talk_ms.unwrap_or(DEFAULT_TALK_SECS * 1000);
        std::time::Duration::from_millis((talk * position as i64 / staffed).max(0) as u64)
    }

    /// Offers waiting calls to available agents, oldest caller first.
    fn assign(&mut self, now: DateTime<Utc>) {
        for i in 0..self.waiting.len() {
            if !self.waiting[i].offers.is_empty() {
                continue;
            }
            let queue = &self.queues[&self.waiting[i].queue];
            let config = &queue.config;
            let qualified: Vec<&Agent> = self
                .agents
                .values()
                .filter(|a| a.can_take_offer())
                .filter(|a| a.platform == config.platform && a.qualifies(&config.skills))
                .collect();
            // Idle seats first; a seat already on a call (with room for another) only when no
            // idle seat qualifies.
            let idle: Vec<&Agent> = qualified
                .iter()
                .copied()
                .filter(|a| a.on_calls == 0)
                .collect();
            let candidates = if idle.is_empty() { qualified } else { idle };
            let chosen: Vec<String> = strategy::pick(
                config.strategy,
                &candidates,
                &config.skills,
                queue.last_offered.as_deref(),
            )
            .into_iter()
            .map(|a| a.id.clone())
            .collect();
            if chosen.is_empty() {
                continue;
            }
            let ring_timeout = dur(config.ring_timeout);
            let queue_name = self.waiting[i].queue.clone();
            if config.strategy == Strategy::RoundRobin {
                self.queues
                    .get_mut(&queue_name)
                    .expect("queue")
                    .last_offered = chosen.first().cloned();
            }
            for agent in chosen {
                self.agents
                    .get_mut(&agent)
                    .expect("candidate")
                    .set(AgentState::Ringing, now);
                self.waiting[i].offers.push(Offer {
                    agent: agent.clone(),
                    rang_at: now,
                    until: now + ring_timeout,
                });
                self.commands.push_back(AcdCommand::Ring {
                    call: self.waiting[i].call.clone(),
                    agent,
                });
            }
        }
    }

    /// An offer that was not answered: log it, and rest or retire the agent.
    fn missed(&mut self, queue: &str, call: &str, offer: Offer, now: DateTime<Utc>) {
        let max_missed = self.queues[queue].config.max_missed;
        if let Some(a) = self.agents.get_mut(&offer.agent) {
            if a.on_calls > 0 {
                // Busy on another call: a missed second offer is no sign of an empty seat.
                a.set(AgentState::OnCall, now);
            } else {
                a.missed_in_row += 1;
                if a.missed_in_row >= max_missed {
                    let reason = format!("missed {} calls in a row", a.missed_in_row);
                    a.set(AgentState::NotReady(reason), now);
                } else {
                    a.set(AgentState::Available, now);
                }
            }
        }
        let rang_ms = (now - offer.rang_at).num_milliseconds();
        self.record(
            now,
            queue,
            call,
            Some(&offer.agent),
            QueueLogKind::RingNoAnswer { rang_ms },
        );
    }

    /// Withdraws every open offer of a call; the agents are available again.
    fn withdraw_offers(&mut self, w: &Waiting, now: DateTime<Utc>) {
        for o in &w.offers {
            self.commands.push_back(AcdCommand::StopRinging {
                call: w.call.clone(),
                agent: o.agent.clone(),
            });
            if let Some(a) = self.agents.get_mut(&o.agent) {
                if a.state == AgentState::Ringing {
                    let back = if a.on_calls > 0 {
                        AgentState::OnCall
                    } else {
                        AgentState::Available
                    };
                    a.set(back, now);
                }
            }
        }
    }

    fn after_call(&mut self, c: &Connected, now: DateTime<Utc>) {
        let wrap = self
            .queues
            .get(&c.queue)
            .map(|q| q.config.wrap_up)
            .unwrap_or_default();
        if let Some(a) = self.agents.get_mut(&c.agent) {
            a.on_calls = a.on_calls.saturating_sub(1);
            if a.on_calls > 0 || a.state == AgentState::Ringing {
                // Still on another call, or being offered one: wrap-up waits for the last.
            } else if wrap.is_zero() {
                a.set(AgentState::Available, now);
            } else {
                a.wrap_up_until = Some(now + dur(wrap));
                a.set(AgentState::WrapUp, now);
            }
        }
    }

    fn take_waiting(&mut self, call: &str) -> Option<Waiting> {
        let i = self.waiting.iter().position(|w| w.call == call)?;
        Some(self.waiting.remove(i))
    }

    fn agent_mut(&mut self, id: &str) -> Result<&mut Agent, AcdError> {
        self.agents
            .get_mut(id)
            .ok_or_else(|| AcdError::UnknownAgent(id.to_string()))
    }

    fn record(
        &mut self,
        at: DateTime<Utc>,
        queue: &str,
        call: &str,
        agent: Option<&str>,
        kind: QueueLogKind,
    ) {
        self.log.push_back(QueueLogEntry {
            at,
            queue: queue.to_string(),
            call: call.to_string(),
            agent: agent.map(str::to_string),
            kind,
        });
    }
}

fn state_error(a: &Agent, action: &'static str) -> AcdError {
    AcdError::AgentState {
        agent: a.id.clone(),
        state: a.state.as_str(),
        action,
    }
}

fn dur(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

#[cfg(test)]
#[path = "engine/tests.rs"]
mod tests;
