//! Runs each call's flow across the edges (SIP, media, store) and the pure core (routing).
//!
//! [`manager`] receives every transaction-user event from the SIP endpoint and hands each call's
//! events to that call's own task; [`inbound`] is the flow of one call to 12345: route, record
//! the case, answer, play the platform's greeting, and end the call with its cause.
//!
//! Imports go one way: [`signal`] (the shared types) is the leaf; [`context`] (one call's
//! facts and common helpers) and [`services`] build on it; the phases ([`menu`], [`queued`]
//! with the bridge, [`transfer`], [`voicemail`]) build on those; [`inbound`] runs the phases;
//! [`manager`] starts the calls. `../shared/tools/import-circles src` finds no circle.

pub mod agent_leg;
pub mod announce;
pub mod context;
pub mod flow;
pub mod guard;
pub mod identity;
pub mod inbound;
pub mod late;
pub mod manager;
pub mod menu;
pub mod queue;
pub mod queued;
pub mod register;
pub mod services;
pub mod signal;
pub mod transfer;
pub mod voicemail;

pub use manager::run_call_manager;
pub use services::{CallLimits, CallServices};
