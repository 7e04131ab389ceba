//! Occupancy of the seats over a period, pure, from their state changes: the share of the
//! time a seat was staffed (available, ringing, talking or in after-call work) that it spent
//! talking or in after-call work. Time not ready (a break, training) or signed out is not
//! staffed time. A seat's state at the start of the period is its last change before it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One change of a seat's state, as the ACD logs it (`state` in its stored form:
/// `available`, `ringing`, `on-call`, `wrap-up`, `not-ready`, `logged-out`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatChange<'a> {
    pub at: DateTime<Utc>,
    pub seat: &'a str,
    pub state: &'a str,
}

/// Staffed and busy time of seats, and their share.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Occupancy {
    /// Seconds staffed (available, ringing, on a call, in after-call work).
    pub staffed_s: f64,
    /// Seconds on a call or in after-call work.
    pub busy_s: f64,
    /// busy over staffed, 0 to 1; None when no seat was staffed.
    pub occupancy: Option<f64>,
}

impl Occupancy {
    fn add(&mut self, staffed_ms: i64, busy_ms: i64) {
        self.staffed_s += staffed_ms as f64 / 1000.0;
        self.busy_s += busy_ms as f64 / 1000.0;
        self.occupancy = (self.staffed_s > 0.0).then(|| self.busy_s / self.staffed_s);
    }
}

fn staffed(state: &str) -> bool {
    matches!(state, "available" | "ringing" | "on-call" | "wrap-up")
}

fn busy(state: &str) -> bool {
    matches!(state, "on-call" | "wrap-up")
}

/// The occupancy of each seat over `[from, to)` and of all of them, from their state changes
/// (any order; those before `from` give the state the period starts in). `to` is the end of
/// the period or now, whichever is earlier: a seat's last state lasts until then.
pub fn occupancy(
    changes: &[SeatChange<'_>],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (BTreeMap<String, Occupancy>, Occupancy) {
    let mut sorted: Vec<&SeatChange> = changes.iter().filter(|c| c.at < to).collect();
    sorted.sort_by_key(|c| c.at);
    // Each seat's current state and since when (clipped to the period).
    let mut current: BTreeMap<&str, (&str, DateTime<Utc>)> = BTreeMap::new();
    let mut per_seat: BTreeMap<String, Occupancy> = BTreeMap::new();
    let mut all = Occupancy::default();
    let mut close = |seat: &str, state: &str, since: DateTime<Utc>, until: DateTime<Utc>| {
        let ms = (until - since).num_milliseconds().max(0);
        let (s, b) = (
            if staffed(state) { ms } else { 0 },
            if busy(state) { ms } else { 0 },
        );
        if staffed(state) || per_seat.contains_key(seat) {
            per_seat.entry(seat.to_string()).or_default().add(s, b);
        }
        all.add(s, b);
    };
    for c in sorted {
        let at = c.at.max(from);
        if let Some((state, since)) = current.insert(c.seat, (c.state, at)) {
            close(c.seat, state, since, at);
        }
    }
    for (seat, (state, since)) in current {
        close(seat, state, since, to.max(from));
    }
    (per_seat, all)
}
