//! hotline12345: a telephony-integrated contact-center backend for a Chinese provincial 12345
//! government service hotline.
//!
//! The pure core (no I/O; events and an injected clock in, decisions out):
//! [`routing`], [`calendar`]. The edges: [`sip`], [`media`], [`store`], [`api`]; [`dialplan`]
//! loads the configuration; [`call`] runs each call's flow across them; [`server`] assembles it.

pub mod acd;
pub mod calendar;
pub mod cases;
pub mod dialplan;
pub mod registrar;
pub mod routing;
pub mod sip;
pub mod store;
