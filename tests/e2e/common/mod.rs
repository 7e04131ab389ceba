//! Shared helpers of the integration tests.
#![allow(dead_code)]

pub mod audio;
pub mod browser;
pub mod carrier;
pub mod cases;
pub mod console;
pub mod harness;
pub mod mail;
pub mod phone;
pub mod queue_log;
pub mod server;
pub mod sipp;
pub mod smsc;
pub mod softphone;
