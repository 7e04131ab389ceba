//! Automatic call distribution, pure: queues of callers, agent seats and their states, and the
//! strategies that pick who rings next. Driven by events with their time ([`Acd::handle`]) and
//! by the clock ([`Acd::tick`]); it answers with commands for the call layer (ring this seat,
//! stop ringing, connect, overflow, announce) and with queue-log events. No sockets, no timers:
//! the edge calls `tick` when [`Acd::next_deadline`] comes.

pub mod agent;
pub mod engine;
pub mod queue;
pub mod strategy;

pub use agent::{Agent, AgentState};
pub use engine::{Acd, AcdCommand, AcdError, AcdEvent, QueueLogEntry, QueueLogKind};
pub use queue::{Overflow, QueueConfig};
pub use strategy::Strategy;
