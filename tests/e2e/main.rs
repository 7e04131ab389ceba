//! The end-to-end suite, one test binary: each test runs the real server binary on loopback
//! (ports the OS hands out) against real SIP phones, SIPp and baresip, and waits for events.
//! One binary runs every scenario side by side (see `.cargo/config.toml`) and links once.

mod common;

mod agents;
mod baresip;
mod call_routing;
mod calls_out;
mod channels;
mod channels_web;
mod console_actions;
mod console_call;
mod console_firefox;
mod console_page;
mod console_session;
mod exposure;
mod in_call;
mod knowledge;
mod knowledge_page;
mod limits_and_cli;
mod metrics;
mod queues;
mod registration;
mod sipp_caller;
mod sipp_calls_out;
mod sipp_voicemail;
mod statistics_page;
mod transfer;
mod trunks;
mod unit_portal;
mod voicemail;
mod wallboard_page;
mod workflow_api;
