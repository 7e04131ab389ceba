//! The ACD at the edge: one task owns the pure [`Acd`], feeds it calls, agents' answers and the
//! clock, sends each call the commands meant for it, and stores the queue log.
//!
//! Every queue of the dialplan: each platform's own (named by its division code) and those of
//! `queues.toml` (skills, a dialect desk). A seat joins when its softphone registers and leaves
//! when it un-registers. A reloaded dialplan changes the queues' settings and the seats'
//! skills in place; a queue taken out of the dialplan keeps serving until the next start.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::acd::{Acd, AcdCommand, AcdEvent, Agent, AgentState, Overflow, QueueConfig};
use crate::dialplan::{Dialplan, QueueDef, Seat};
use crate::store::Store;

pub use super::signal::QueueNotice;

enum Request {
    Join {
        call: String,
        queue: String,
        notices: mpsc::UnboundedSender<QueueNotice>,
    },
    Event(AcdEvent),
    Snapshot(oneshot::Sender<QueueSnapshot>),
    Reconfigure {
        queues: Vec<QueueConfig>,
        seats: Vec<Seat>,
    },
    /// Take this seat for a call outside the queues.
    Reserve {
        call: String,
        agent: String,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Take a free seat of the platform for a callback, when no caller waits.
    Pick {
        call: String,
        platform: String,
        reply: oneshot::Sender<Option<String>>,
    },
    /// The waiting caller leaves the queue for self-service.
    SelfService {
        call: String,
    },
}

/// Live queue state for supervisors.
#[derive(Debug, Clone, Serialize)]
pub struct QueueSnapshot {
    pub waiting: Vec<crate::acd::engine::WaitingView>,
    /// Callers talking with operators.
    pub connected: Vec<crate::acd::engine::ConnectedView>,
    pub agents: Vec<AgentView>,
}

/// One seat's live state.
#[derive(Debug, Clone, Serialize)]
pub struct AgentView {
    pub id: String,
    pub platform: String,
    pub state: AgentState,
    pub since: chrono::DateTime<Utc>,
    pub calls_taken: u32,
    /// Calls the seat is connected to now.
    pub on_calls: u32,
    /// Calls it takes at once.
    pub max_calls: u32,
}

/// Talks to the ACD task.
///
/// Its channels have no fixed capacity, because the ACD's facts must never be dropped (a lost
/// "seat answered" would leave the seat reserved) and the senders cannot wait (they are state
/// machines' edges, and the ACD task itself). What bounds them is what feeds them: a call
/// sends the ACD a handful of events in its life (joined, each seat's answer or refusal,
/// ended), at most `--max-calls` calls are up, and the ACD sends a call one notice per ring,
/// per announcement interval, or per connect. A peer cannot add to them directly: each of its
/// requests reaches the call first, through the call's bounded signal queue.
#[derive(Clone)]
pub struct QueueHandle {
    tx: mpsc::UnboundedSender<Request>,
}

impl QueueHandle {
    /// Puts a call in a queue; its notices arrive on the returned channel.
    pub fn join(&self, call: &str, queue: &str) -> mpsc::UnboundedReceiver<QueueNotice> {
        let (notices, rx) = mpsc::unbounded_channel();
        let _ = self.tx.send(Request::Join {
            call: call.into(),
            queue: queue.into(),
            notices,
        });
        rx
    }

    /// Passes an event to the ACD.
    pub fn event(&self, event: AcdEvent) {
        let _ = self.tx.send(Request::Event(event));
    }

    /// Takes `agent` for `call`, a call outside the queues (a consultation, an operator's own
    /// callback); why not, when it cannot be (not signed in, on a call).
    pub async fn reserve(&self, call: &str, agent: &str) -> Result<(), String> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Reserve {
                call: call.into(),
                agent: agent.into(),
                reply,
            })
            .map_err(|_| "the ACD is not running".to_string())?;
        rx.await
            .unwrap_or_else(|_| Err("the ACD is not running".into()))
    }

    /// Takes the longest-idle free seat of `platform` for the callback `call`, unless a caller
    /// waits in one of its queues.
    pub async fn pick_for(&self, call: &str, platform: &str) -> Option<String> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Pick {
                call: call.into(),
                platform: platform.into(),
                reply,
            })
            .ok()?;
        rx.await.ok().flatten()
    }

    /// Takes a waiting caller out of the queue for self-service (its notices stop).
    pub fn self_service(&self, call: &str) {
        let _ = self.tx.send(Request::SelfService { call: call.into() });
    }

    /// Applies a reloaded dialplan's queues and seats.
    pub fn reconfigure(&self, plan: &Dialplan) {
        let _ = self.tx.send(Request::Reconfigure {
            queues: plan.queues.queues.iter().map(queue_config).collect(),
            seats: plan
                .seats
                .iter()
                .filter(|s| s.takes_calls)
                .cloned()
                .collect(),
        });
    }

    /// The live state.
    pub async fn snapshot(&self) -> Option<QueueSnapshot> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Request::Snapshot(tx)).ok()?;
        rx.await.ok()
    }
}

/// The ACD's form of a dialplan queue.
fn queue_config(def: &QueueDef) -> QueueConfig {
    let q = &def.settings;
    let mut config = QueueConfig::new(&def.name, &def.platform);
    config.skills = def.skills.iter().map(|(k, v)| (k.clone(), *v)).collect();
    config.strategy = q.strategy;
    config.ring_timeout = q.ring_timeout;
    config.wrap_up = q.wrap_up;
    config.max_wait = Some(q.max_wait);
    config.max_missed = q.max_missed;
    config.announce_every = q.announce_every;
    config.overflow = if q.overflow == "voicemail" || q.overflow == def.name {
        Overflow::Voicemail
    } else {
        Overflow::Queue(q.overflow.clone())
    };
    config
}

/// Adds a seat to the ACD, or updates the skills and calls at once of one it has.
fn configure_seat(acd: &mut Acd, seat: &Seat, now: chrono::DateTime<Utc>) {
    let skills: HashMap<String, u8> = seat.skills.iter().map(|(k, v)| (k.clone(), *v)).collect();
    if !acd.update_agent(&seat.id, skills.clone(), seat.max_calls) {
        acd.add_agent(
            Agent::new(&seat.id, &seat.platform, skills, now).with_max_calls(seat.max_calls),
        );
    }
}

/// Builds the queues and seats of `plan` and starts the ACD task.
pub fn start(plan: &Dialplan, store: Store) -> QueueHandle {
    let now = Utc::now();
    let mut acd = Acd::new();
    for def in &plan.queues.queues {
        acd.add_queue(queue_config(def));
    }
    for seat in plan.seats.iter().filter(|s| s.takes_calls) {
        configure_seat(&mut acd, seat, now);
    }
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(acd, rx, store));
    QueueHandle { tx }
}

/// One step of the queue log, in words (`step=ring-no-answer`); a caller who enters a queue
/// with no seat to ring is said to wait for one.
fn log_step(e: &crate::acd::engine::QueueLogEntry, waiting: &[crate::acd::engine::WaitingView]) {
    use crate::acd::engine::QueueLogKind as K;
    let secs = |ms: i64| ms as f64 / 1000.0;
    let (call, queue, agent) = (&e.call, &e.queue, e.agent.as_deref().unwrap_or(""));
    let step = e.kind.step();
    match &e.kind {
        K::EnterQueue => {
            info!(call_id = %call, %queue, step, "caller entered the queue");
            if waiting
                .iter()
                .any(|w| w.call == *call && w.queue == *queue && w.ringing.is_empty())
            {
                info!(call_id = %call, %queue, step = "no-seat-available", "no seat available: the caller waits");
            }
        }
        K::RingNoAnswer { rang_ms } => {
            info!(call_id = %call, %queue, agent, step, rang_s = secs(*rang_ms), "the seat did not answer")
        }
        K::Connect { wait_ms } => {
            info!(call_id = %call, %queue, agent, step, wait_s = secs(*wait_ms), "caller connected to a seat")
        }
        K::Complete { by_agent, talk_ms } => info!(
            call_id = %call, %queue, agent, step, talk_s = secs(*talk_ms),
            hung_up_by = if *by_agent { "seat" } else { "caller" }, "call completed"
        ),
        K::Abandon { position, wait_ms } => info!(
            call_id = %call, %queue, step, position, wait_s = secs(*wait_ms),
            "caller hung up while waiting"
        ),
        K::Transfer { to } => {
            info!(call_id = %call, %queue, agent, step, %to, "call transferred to another queue")
        }
        K::Overflow { to } => {
            info!(call_id = %call, %queue, step, %to, "longest wait reached: the call overflows")
        }
        K::Handed { to } => {
            info!(call_id = %call, %queue, agent, step, %to, "the operator handed the caller to a colleague")
        }
        K::SelfService => {
            info!(call_id = %call, %queue, step, "the caller left the queue for self-service")
        }
    }
}

async fn run(mut acd: Acd, mut requests: mpsc::UnboundedReceiver<Request>, store: Store) {
    let mut calls: HashMap<String, mpsc::UnboundedSender<QueueNotice>> = HashMap::new();
    loop {
        let deadline = acd.next_deadline();
        let sleep = async {
            match deadline {
                Some(at) => {
                    let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::time::sleep(wait).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            request = requests.recv() => match request {
                None => return,
                Some(Request::Join { call, queue, notices }) => {
                    calls.insert(call.clone(), notices);
                    if let Err(e) = acd.handle(AcdEvent::CallArrived { call: call.clone(), queue }, Utc::now()) {
                        warn!(%call, error = %e, "call not queued");
                    }
                }
                Some(Request::Event(event)) => {
                    if let AcdEvent::CallAbandoned { call } | AcdEvent::CallEnded { call, .. } = &event {
                        calls.remove(call);
                    }
                    if let Err(e) = acd.handle(event, Utc::now()) {
                        debug!(error = %e, "ACD event not applied");
                    }
                }
                Some(Request::Reconfigure { queues, seats }) => {
                    for config in queues {
                        acd.add_queue(config);
                    }
                    for seat in &seats {
                        configure_seat(&mut acd, seat, Utc::now());
                    }
                }
                Some(Request::Reserve { call, agent, reply }) => {
                    let _ = reply.send(acd.reserve(&call, &agent, Utc::now()).map_err(|e| e.to_string()));
                }
                Some(Request::Pick { call, platform, reply }) => {
                    let _ = reply.send(acd.pick_for(&call, &platform, Utc::now()));
                }
                Some(Request::SelfService { call }) => {
                    calls.remove(&call);
                    if let Err(e) = acd.self_service(&call, Utc::now()) {
                        debug!(%call, error = %e, "not in a queue for self-service");
                    }
                }
                Some(Request::Snapshot(reply)) => {
                    let now = Utc::now();
                    let _ = reply.send(QueueSnapshot {
                        waiting: acd.waiting(now),
                        connected: acd.connected(now),
                        agents: acd
                            .agents()
                            .map(|a| AgentView {
                                id: a.id.clone(),
                                platform: a.platform.clone(),
                                state: a.state.clone(),
                                since: a.since,
                                calls_taken: a.calls_taken,
                                on_calls: a.on_calls,
                                max_calls: a.max_calls,
                            })
                            .collect(),
                    });
                }
            },
            _ = sleep => acd.tick(Utc::now()),
        }
        while let Some(command) = acd.poll_command() {
            let (call, notice) = match command {
                AcdCommand::Ring { call, agent } => (call, QueueNotice::Ring { agent }),
                AcdCommand::StopRinging { call, agent } => {
                    (call, QueueNotice::StopRinging { agent })
                }
                AcdCommand::Connect { call, agent } => (call, QueueNotice::Connect { agent }),
                AcdCommand::Overflow { call, .. } => (call, QueueNotice::Overflow),
                AcdCommand::Announce {
                    call,
                    position,
                    estimated_wait,
                } => (
                    call,
                    QueueNotice::Announce {
                        position,
                        estimated_wait,
                    },
                ),
            };
            if let Some(tx) = calls.get(&call) {
                let _ = tx.send(notice);
            }
        }
        let mut log = Vec::new();
        while let Some(entry) = acd.poll_log() {
            log.push(entry);
        }
        if !log.is_empty() {
            let waiting = acd.waiting(Utc::now());
            for entry in &log {
                log_step(entry, &waiting);
            }
        }
        let mut states = Vec::new();
        while let Some(change) = acd.poll_state_change() {
            tracing::info!(
                seat = %change.agent,
                platform = %change.platform,
                state = change.state.as_str(),
                reason = match &change.state {
                    crate::acd::agent::AgentState::NotReady(r) => r.as_str(),
                    _ => "",
                },
                "seat state"
            );
            states.push(change);
        }
        if !states.is_empty() {
            let store = store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.log_agent_states(states).await {
                    warn!(error = %e, "seat states not stored");
                }
            });
        }
        if !log.is_empty() {
            let store = store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.log_queue(log).await {
                    warn!(error = %e, "queue log not stored");
                }
            });
        }
    }
}
