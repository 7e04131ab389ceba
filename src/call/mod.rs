//! Runs each call's flow across the edges (SIP, media, store) and the pure core.
//!
//! [`manager`] receives every transaction-user event from the SIP endpoint and hands each call's
//! events to that call's own task; [`inbound`] takes one call to 12345 up to its 200 OK: route,
//! negotiate media, record the case and the call durably, answer. From there the call is the
//! pure state machine of [`flow`] (one file per phase: menu, queue wait, bridge, transfer
//! hand-over, voicemail), and [`driver`] feeds it and performs what it asks: seat legs
//! ([`agent_leg`]), prompts, relaying, [`recording`]s, voice messages ([`voicemail`]), the ACD
//! ([`queue`]) and the case going along with a transfer ([`transfer`]). The legs a call places
//! ([`legs`]: to seats, and out over the carriers' [`trunk`]s within their [`channels`]) are
//! put in one [`room`] (relayed two by two, or mixed: three-party calls, monitoring). The
//! hotline's own calls (callbacks, return visits, reminders to units) are [`outbound`]; a
//! seat dialling a colleague to consult before an attended transfer is [`internal`].
//!
//! Imports go one way: [`signal`] (the shared types) is the leaf; [`flow`] builds on it alone,
//! and so does [`directory`] (the calls in progress, each with its bounded signal queue: what
//! the API may ask of a call);
//! [`context`] (one call's facts and common helpers) and [`services`] build on it; the edges
//! build on those; [`inbound`] runs the driver; [`manager`] starts the calls.
//! `../shared/tools/import-circles src` finds no circle.

pub mod agent_leg;
pub mod announce;
pub mod case_step;
pub mod channels;
pub mod context;
pub mod directory;
pub mod driver;
pub mod flow;
pub mod guard;
pub mod identity;
pub mod inbound;
pub mod internal;
pub mod late;
pub mod legs;
pub mod manager;
pub mod outbound;
pub mod queue;
pub mod recording;
pub mod register;
pub mod room;
pub mod services;
pub mod signal;
pub mod transfer;
pub mod trunk;
pub mod voicemail;

pub use manager::run_call_manager;
pub use services::{CallLimits, CallServices};
