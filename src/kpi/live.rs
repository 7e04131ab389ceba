//! The figures of this moment, pure, from the ACD's snapshot: callers waiting and the longest
//! wait, seats by state, and the occupancy now (seats talking or in after-call work over the
//! seats staffed). With the period's figures ([`super::report`]), the callers owed a callback
//! and the targets, they make what the wallboard shows.

use std::collections::BTreeMap;

use serde::Serialize;

/// The moment's figures of one platform or the province.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveFigures {
    /// Callers waiting in a queue.
    pub waiting: u64,
    /// The longest wait of a caller waiting now, in seconds (0 when nobody waits).
    pub longest_wait_s: f64,
    /// Seats by state (`available`, `on-call`, …), signed-out seats included.
    pub seats: BTreeMap<String, u64>,
    /// Seats on a call or in after-call work over the seats staffed, 0 to 1.
    pub occupancy_now: Option<f64>,
}

/// The figures of the waits (in milliseconds) and seat states given.
pub fn live<'a>(
    waits_ms: impl IntoIterator<Item = i64>,
    seat_states: impl IntoIterator<Item = &'a str>,
) -> LiveFigures {
    let mut f = LiveFigures::default();
    for w in waits_ms {
        f.waiting += 1;
        f.longest_wait_s = f.longest_wait_s.max(w as f64 / 1000.0);
    }
    let (mut staffed, mut busy) = (0u64, 0u64);
    for s in seat_states {
        *f.seats.entry(s.to_string()).or_default() += 1;
        staffed += matches!(s, "available" | "ringing" | "on-call" | "wrap-up") as u64;
        busy += matches!(s, "on-call" | "wrap-up") as u64;
    }
    f.occupancy_now = (staffed > 0).then(|| busy as f64 / staffed as f64);
    f
}

/// The targets the figures are shown against (`[kpi]` of hotline.toml).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KpiTargets {
    /// Share of calls answered within the standard's 15 s (90 % unless set).
    pub service_level: f64,
    /// The standard's connection rate over 24 hours: at least 95 %.
    pub connection_rate: f64,
}

impl Default for KpiTargets {
    fn default() -> Self {
        KpiTargets {
            service_level: 0.90,
            connection_rate: 0.95,
        }
    }
}

/// Whether a rate meets its target (None, nothing measured, misses nothing).
pub fn meets(rate: Option<f64>, target: f64) -> bool {
    rate.is_none_or(|r| r >= target)
}
