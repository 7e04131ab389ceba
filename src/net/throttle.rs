//! Summarises repeated warnings per source: the first of a kind from a source is logged, the
//! ones after it within the period are counted, and the next one logged says how many were
//! left out. Pure: the caller passes the time. Bounded: at most `MAX_SOURCES` sources are
//! remembered, the quietest forgotten first.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Sources remembered at most.
const MAX_SOURCES: usize = 10_000;

/// Which warnings to log now, per key (a source address, or a source and a kind).
#[derive(Debug)]
pub struct WarnThrottle<K> {
    period: Duration,
    seen: HashMap<K, (Instant, u64)>,
}

impl<K: Hash + Eq + Clone> WarnThrottle<K> {
    /// At most one warning per key and `period`.
    pub fn new(period: Duration) -> Self {
        WarnThrottle {
            period,
            seen: HashMap::new(),
        }
    }

    /// `Some(suppressed)` when a warning for `key` at `now` should be logged, with how many
    /// were left out since the last one logged; `None` when it should be counted only.
    pub fn allow(&mut self, key: &K, now: Instant) -> Option<u64> {
        if let Some((last, suppressed)) = self.seen.get_mut(key) {
            if now.duration_since(*last) < self.period {
                *suppressed += 1;
                return None;
            }
            let left_out = *suppressed;
            *last = now;
            *suppressed = 0;
            return Some(left_out);
        }
        if self.seen.len() >= MAX_SOURCES {
            let period = self.period;
            self.seen
                .retain(|_, (last, _)| now.duration_since(*last) < period);
            if self.seen.len() >= MAX_SOURCES {
                self.seen.clear();
            }
        }
        self.seen.insert(key.clone(), (now, 0));
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_period_and_source_with_the_count_left_out() {
        let t0 = Instant::now();
        let mut w = WarnThrottle::new(Duration::from_secs(10));
        assert_eq!(w.allow(&"a", t0), Some(0));
        for i in 1..=500 {
            assert_eq!(w.allow(&"a", t0 + Duration::from_millis(i)), None);
        }
        assert_eq!(w.allow(&"b", t0), Some(0), "another source is told apart");
        assert_eq!(w.allow(&"a", t0 + Duration::from_secs(10)), Some(500));
        assert_eq!(w.allow(&"a", t0 + Duration::from_secs(11)), None);
    }

    #[test]
    fn memory_is_bounded() {
        let t0 = Instant::now();
        let mut w = WarnThrottle::new(Duration::from_secs(10));
        for i in 0..(MAX_SOURCES as u32 * 3) {
            w.allow(&i, t0);
        }
        assert!(w.seen.len() <= MAX_SOURCES);
    }
}
