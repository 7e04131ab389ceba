//! Slows down sources that keep failing authentication (password guessing).
//!
//! Each failure from a source within the window counts; from `free_failures` on, the source is
//! refused for a delay that doubles with each further failure (capped), before its credentials
//! are even checked. A success clears the source.

use std::collections::HashMap;
use std::net::IpAddr;

/// Failure counts per source address.
#[derive(Debug, Clone)]
pub struct FailureLimiter {
    free_failures: u32,
    window_secs: i64,
    max_delay_secs: i64,
    sources: HashMap<IpAddr, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: i64,
}

impl FailureLimiter {
    /// After `free_failures` failures within `window_secs`, refuse with growing delays up to
    /// `max_delay_secs`.
    pub fn new(free_failures: u32, window_secs: i64, max_delay_secs: i64) -> FailureLimiter {
        FailureLimiter {
            free_failures,
            window_secs,
            max_delay_secs,
            sources: HashMap::new(),
        }
    }

    /// None when `source` may try now; otherwise the seconds it must wait.
    pub fn check(&self, source: IpAddr, now: i64) -> Option<i64> {
        let f = self.sources.get(&source)?;
        if now - f.last > self.window_secs || f.count < self.free_failures {
            return None;
        }
        let delay = self.delay(f.count);
        let until = f.last + delay;
        (now < until).then_some(until - now)
    }

    /// Notes a failed attempt.
    pub fn failed(&mut self, source: IpAddr, now: i64) {
        let window = self.window_secs;
        let f = self.sources.entry(source).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now - f.last > window {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        // Bound memory: forget sources quiet for longer than the window.
        if self.sources.len() > 100_000 {
            self.sources.retain(|_, f| now - f.last <= window);
        }
    }

    /// Notes a success: the source starts afresh.
    pub fn succeeded(&mut self, source: IpAddr) {
        self.sources.remove(&source);
    }

    fn delay(&self, count: u32) -> i64 {
        let over = count.saturating_sub(self.free_failures).min(20);
        (1i64 << over).min(self.max_delay_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_failures_and_success_clears() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut l = FailureLimiter::new(3, 600, 60);
        for t in 0..3 {
            assert_eq!(l.check(ip, t), None);
            l.failed(ip, t);
        }
        assert_eq!(l.check(ip, 2), Some(1), "3 failures: wait 1 s");
        assert_eq!(l.check(ip, 3), None);
        l.failed(ip, 3);
        assert_eq!(l.check(ip, 3), Some(2));
        l.failed(ip, 5);
        assert_eq!(l.check(ip, 5), Some(4));
        for t in 6..20 {
            l.failed(ip, t);
        }
        assert_eq!(l.check(ip, 19), Some(60), "capped");
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(l.check(other, 19), None, "other sources unaffected");
        assert_eq!(l.check(ip, 19 + 601), None, "the window passed");
        l.succeeded(ip);
        assert_eq!(l.check(ip, 20), None);
    }
}
