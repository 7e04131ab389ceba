//! A queue's configuration: who may answer it, how they are picked, and how long a caller waits.

use std::collections::HashMap;
use std::time::Duration;

use super::strategy::Strategy;

/// Where a caller goes after the maximum wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overflow {
    /// Into another queue (e.g. the provincial platform's), keeping their place in time.
    Queue(String),
    /// To voicemail, which becomes a callback case.
    Voicemail,
}

/// One queue.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Name, e.g. `530100` or `530100-complaints`.
    pub name: String,
    /// The platform whose seats answer it.
    pub platform: String,
    /// How the next agent is picked.
    pub strategy: Strategy,
    /// Skills (with minimum levels) an agent needs.
    pub skills: HashMap<String, u8>,
    /// How long one offer rings before moving on.
    pub ring_timeout: Duration,
    /// Offers an agent may miss in a row before being set not-ready.
    pub max_missed: u32,
    /// After-call work time.
    pub wrap_up: Duration,
    /// Longest wait before overflow; None waits for ever.
    pub max_wait: Option<Duration>,
    /// Where callers go after `max_wait`.
    pub overflow: Overflow,
    /// How often a waiting caller hears their position and estimated wait.
    pub announce_every: Duration,
}

impl QueueConfig {
    /// A queue of a platform with the hotline's defaults: longest idle agent, 15 s ring,
    /// 3 missed offers, 10 s wrap-up, 120 s maximum wait then voicemail, announcements every
    /// 30 s.
    pub fn new(name: &str, platform: &str) -> QueueConfig {
        QueueConfig {
            name: name.to_string(),
            platform: platform.to_string(),
            strategy: Strategy::LongestIdle,
            skills: HashMap::new(),
            ring_timeout: Duration::from_secs(15),
            max_missed: 3,
            wrap_up: Duration::from_secs(10),
            max_wait: Some(Duration::from_secs(120)),
            overflow: Overflow::Voicemail,
            announce_every: Duration::from_secs(30),
        }
    }
}
