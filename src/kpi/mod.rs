//! The hotline standard's call figures (GB/T 33358), pure: computed from the ACD's queue log
//! for a period, per queue, per platform and province-wide. Definitions:
//!
//! - **offered**: calls that entered the queue within the period (a call counts in the period
//!   in which it entered; a transferred call is offered to each queue it enters);
//! - **answered**: offered calls an operator answered; **abandoned**: offered calls whose
//!   caller hung up while waiting, of which **short abandons** hung up within
//!   [`KpiRules::short_abandon`] (5 s by default: a misdial, not a caller turned away);
//!   **overflowed**: offered calls sent to voicemail after the longest wait;
//! - **service level** at 15 s and at 30 s: calls answered within that wait (the limit
//!   included) over offered minus short abandons (the standard: answered within 15 s);
//! - **connection rate**: answered over offered minus short abandons (the standard: at least
//!   95 % over any 24 hours; see [`connection_rate_24h`]);
//! - **average speed of answer**: the mean wait of the answered calls;
//! - **average handling time**: the mean talk time of the offered calls once completed.
//!
//! Everything that happens to a call counts in the period in which it entered the queue.
//!
//! Rates are None when nothing was offered. Time is an argument; nothing here reads a clock.
//!
//! Beside them: [`occupancy`] of the seats over a period, the [`live`] figures of the moment
//! (callers waiting, the longest wait, seats by state) with the targets, and [`series`] per
//! hour and per day for the charts. The callers owed a callback are the store's callback list.

pub mod live;
pub mod occupancy;
pub mod series;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::acd::engine::{QueueLogEntry, QueueLogKind};

/// The limits the figures are measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KpiRules {
    /// A caller who hangs up within this wait is a short abandon.
    pub short_abandon: Duration,
    /// The standard's answer time (15 s).
    pub answer_within: Duration,
    /// The second service-level mark (30 s).
    pub answer_within_long: Duration,
}

impl Default for KpiRules {
    fn default() -> Self {
        KpiRules {
            short_abandon: Duration::from_secs(5),
            answer_within: Duration::from_secs(15),
            answer_within_long: Duration::from_secs(30),
        }
    }
}

/// The figures of one queue, platform or the province over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpi {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub overflowed: u64,
    /// Answered within the standard's time (15 s).
    pub answered_within: u64,
    /// Answered within the longer mark (30 s).
    pub answered_within_long: u64,
    /// Service level at 15 s, 0 to 1.
    pub service_level: Option<f64>,
    /// Service level at 30 s, 0 to 1.
    pub service_level_long: Option<f64>,
    /// Answered over offered minus short abandons, 0 to 1.
    pub connection_rate: Option<f64>,
    /// Mean wait of the answered calls, in seconds.
    pub average_speed_of_answer: Option<f64>,
    /// Mean talk time of the completed calls, in seconds (talk only: the log has no wrap-up).
    pub average_handling_time: Option<f64>,
    #[serde(skip)]
    wait_ms_total: i64,
    #[serde(skip)]
    talk_ms_total: i64,
    #[serde(skip)]
    completed: u64,
}

impl Kpi {
    fn add(&mut self, other: &Kpi) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.abandoned += other.abandoned;
        self.short_abandoned += other.short_abandoned;
        self.overflowed += other.overflowed;
        self.answered_within += other.answered_within;
        self.answered_within_long += other.answered_within_long;
        self.wait_ms_total += other.wait_ms_total;
        self.talk_ms_total += other.talk_ms_total;
        self.completed += other.completed;
    }

    /// Fills in the rates and averages from the counts.
    fn finish(mut self) -> Kpi {
        let base = self.offered.saturating_sub(self.short_abandoned);
        let rate = |n: u64| (base > 0).then(|| n as f64 / base as f64);
        self.service_level = rate(self.answered_within);
        self.service_level_long = rate(self.answered_within_long);
        self.connection_rate = rate(self.answered);
        self.average_speed_of_answer =
            (self.answered > 0).then(|| self.wait_ms_total as f64 / 1000.0 / self.answered as f64);
        self.average_handling_time = (self.completed > 0)
            .then(|| self.talk_ms_total as f64 / 1000.0 / self.completed as f64);
        self
    }
}

/// The figures of a period: per queue, per platform, province-wide.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KpiReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub queues: BTreeMap<String, Kpi>,
    pub platforms: BTreeMap<String, Kpi>,
    pub province: Kpi,
}

/// Computes the figures of `[from, to)` from the queue log (any order); `platform_of` names a
/// queue's platform (a queue it does not know counts in the province only).
pub fn report<'a>(
    log: impl IntoIterator<Item = &'a QueueLogEntry>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    rules: &KpiRules,
    platform_of: impl Fn(&str) -> Option<String>,
) -> KpiReport {
    let ms = |d: Duration| d.as_millis() as i64;
    // A call's entry into a queue within the period, by (queue, call).
    let mut offered: HashSet<(&str, &str)> = HashSet::new();
    let mut entries: Vec<&QueueLogEntry> = log.into_iter().collect();
    entries.sort_by_key(|e| e.at);
    let mut queues: BTreeMap<String, Kpi> = BTreeMap::new();
    for e in &entries {
        let key = (e.queue.as_str(), e.call.as_str());
        if let QueueLogKind::EnterQueue = e.kind {
            if e.at >= from && e.at < to {
                offered.insert(key);
                queues.entry(e.queue.clone()).or_default().offered += 1;
            }
            continue;
        }
        // Only what happened to a call offered in the period counts.
        if !offered.contains(&key) {
            continue;
        }
        let k = queues.entry(e.queue.clone()).or_default();
        match &e.kind {
            QueueLogKind::Connect { wait_ms } => {
                k.answered += 1;
                k.wait_ms_total += wait_ms;
                k.answered_within += (*wait_ms <= ms(rules.answer_within)) as u64;
                k.answered_within_long += (*wait_ms <= ms(rules.answer_within_long)) as u64;
            }
            QueueLogKind::Abandon { wait_ms, .. } => {
                k.abandoned += 1;
                k.short_abandoned += (*wait_ms < ms(rules.short_abandon)) as u64;
            }
            QueueLogKind::Overflow { .. } => k.overflowed += 1,
            QueueLogKind::Complete { talk_ms, .. } => {
                k.completed += 1;
                k.talk_ms_total += talk_ms;
            }
            // A caller who left for self-service was not offered after all (if they come
            // back, their new entry is).
            QueueLogKind::SelfService => {
                k.offered = k.offered.saturating_sub(1);
                offered.remove(&key);
            }
            QueueLogKind::EnterQueue
            | QueueLogKind::RingNoAnswer { .. }
            | QueueLogKind::Transfer { .. }
            | QueueLogKind::Handed { .. } => {}
        }
    }
    let mut platforms: BTreeMap<String, Kpi> = BTreeMap::new();
    let mut province = Kpi::default();
    for (queue, k) in &queues {
        if let Some(p) = platform_of(queue) {
            platforms.entry(p).or_default().add(k);
        }
        province.add(k);
    }
    KpiReport {
        from,
        to,
        queues: queues.into_iter().map(|(q, k)| (q, k.finish())).collect(),
        platforms: platforms
            .into_iter()
            .map(|(p, k)| (p, k.finish()))
            .collect(),
        province: province.finish(),
    }
}

/// The standard's connection rate over the 24 hours before `now`, province-wide.
pub fn connection_rate_24h<'a>(
    log: impl IntoIterator<Item = &'a QueueLogEntry>,
    now: DateTime<Utc>,
    rules: &KpiRules,
) -> Option<f64> {
    report(log, now - chrono::Duration::hours(24), now, rules, |_| None)
        .province
        .connection_rate
}

#[cfg(test)]
mod tests;
