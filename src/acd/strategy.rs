//! Strategies: which available agents a waiting call is offered to.
//!
//! - **longest-idle** (default): the agent available the longest;
//! - **ring-all**: every available agent at once, the first to answer takes it;
//! - **round-robin**: the next agent after the one offered last, in seat order;
//! - **fewest-calls**: the agent who has answered the fewest calls;
//! - **skill-based**: the agent with the highest level in the queue's skills, longest idle
//!   among equals.

use std::collections::HashMap;

use super::agent::Agent;

/// How the next agent is picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    LongestIdle,
    RingAll,
    RoundRobin,
    FewestCalls,
    SkillBased,
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "longest-idle" => Strategy::LongestIdle,
            "ring-all" => Strategy::RingAll,
            "round-robin" => Strategy::RoundRobin,
            "fewest-calls" => Strategy::FewestCalls,
            "skill-based" => Strategy::SkillBased,
            other => {
                return Err(format!(
                    "unknown strategy {other:?}: longest-idle, ring-all, round-robin, fewest-calls or skill-based"
                ))
            }
        })
    }
}

/// Picks from `candidates` (available, qualified, in seat order) the agents to offer a call to.
/// `last_offered` is the seat index the queue offered last (round-robin).
pub fn pick<'a>(
    strategy: Strategy,
    candidates: &[&'a Agent],
    skills: &HashMap<String, u8>,
    last_offered: Option<&str>,
) -> Vec<&'a Agent> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let chosen = match strategy {
        Strategy::RingAll => return candidates.to_vec(),
        Strategy::LongestIdle => candidates
            .iter()
            .min_by_key(|a| (a.idle_since, a.id.clone())),
        Strategy::FewestCalls => candidates
            .iter()
            .min_by_key(|a| (a.calls_taken, a.idle_since, a.id.clone())),
        Strategy::SkillBased => candidates.iter().min_by_key(|a| {
            let score: u32 = skills.keys().map(|s| a.level(s) as u32).sum();
            (std::cmp::Reverse(score), a.idle_since, a.id.clone())
        }),
        Strategy::RoundRobin => {
            let after =
                last_offered.and_then(|last| candidates.iter().position(|a| a.id.as_str() > last));
            Some(&candidates[after.unwrap_or(0)])
        }
    };
    chosen.into_iter().copied().collect()
}
