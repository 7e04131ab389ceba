//! hotline12345: a telephony-integrated contact-center backend for a Chinese provincial 12345
//! government service hotline.
//!
//! The pure core (no I/O; events and an injected clock in, decisions out): [`routing`],
//! [`calendar`], [`cases`], [`acd`], [`registrar`], [`knowledge`], [`kpi`], [`topics`], [`charts`]. The edges: [`sip`],
//! [`media`], [`phone`] (the consoles' browser phones), [`store`], [`api`], [`web`] (the pages);
//! [`dialplan`] loads and validates the configuration; [`call`] runs each call's flow across
//! them; [`server`] assembles the whole.

pub mod acd;
pub mod api;
pub mod calendar;
pub mod call;
pub mod cases;
pub mod charts;
pub mod dialplan;
pub mod intake;
pub mod knowledge;
pub mod kpi;
pub mod mail;
pub mod media;
pub mod net;
pub mod phone;
pub mod registrar;
pub mod requests;
pub mod routing;
pub mod scheduler;
pub mod server;
pub mod sip;
pub mod sms;
pub mod store;
pub mod topics;
pub mod web;
