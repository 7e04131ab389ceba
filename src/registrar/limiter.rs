//! Slows down password guessing without locking out the guesser's neighbours.
//!
//! Each failure for a key within the window counts; from `free_failures` on, the key is
//! refused for a delay that doubles with each further failure (capped), before its credentials
//! are even checked. A success clears the key.
//!
//! [`LoginLimiter`] counts per (source address, user) and, with a much higher ceiling, per
//! source address: a guesser behind an office NAT slows down its own guesses for one seat and,
//! past the ceiling, everything it tries; colleagues behind the same address keep signing in
//! to their own seats with their right passwords.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

/// Failure counts per key.
#[derive(Debug, Clone)]
pub struct FailureLimiter<K = IpAddr> {
    free_failures: u32,
    window_secs: i64,
    max_delay_secs: i64,
    sources: HashMap<K, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: i64,
}

impl<K: Hash + Eq + Clone> FailureLimiter<K> {
    /// After `free_failures` failures within `window_secs`, refuse with growing delays up to
    /// `max_delay_secs`.
    pub fn new(free_failures: u32, window_secs: i64, max_delay_secs: i64) -> FailureLimiter<K> {
        FailureLimiter {
            free_failures,
            window_secs,
            max_delay_secs,
            sources: HashMap::new(),
        }
    }

    /// None when `source` may try now; otherwise the seconds it must wait.
    pub fn check(&self, source: &K, now: i64) -> Option<i64> {
        let f = self.sources.get(source)?;
        if now - f.last > self.window_secs || f.count < self.free_failures {
            return None;
        }
        // Times are whole seconds: the failure at `last` may have come at the end of its
        // second, so the wait runs to the end of second `last + delay` and lasts at least
        // `delay` full seconds (with `now < until` a retry in the next second, a few
        // milliseconds later, was let through).
        let delay = self.delay(f.count);
        let until = f.last + delay;
        (now <= until).then_some(until - now + 1)
    }

    /// Notes a failed attempt.
    pub fn failed(&mut self, source: &K, now: i64) {
        let window = self.window_secs;
        let f = self.sources.entry(source.clone()).or_insert(Failures {
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
    pub fn succeeded(&mut self, source: &K) {
        self.sources.remove(source);
    }

    fn delay(&self, count: u32) -> i64 {
        let over = count.saturating_sub(self.free_failures).min(20);
        (1i64 << over).min(self.max_delay_secs)
    }
}

/// Failures per (source, user) and, with a higher ceiling, per source.
#[derive(Debug, Clone)]
pub struct LoginLimiter {
    per_user: FailureLimiter<(IpAddr, String)>,
    per_source: FailureLimiter<IpAddr>,
}

impl LoginLimiter {
    /// `free_per_user` failures for one user from one address, `free_per_source` in all from
    /// one address, within `window_secs`; delays up to `max_delay_secs`.
    pub fn new(
        free_per_user: u32,
        free_per_source: u32,
        window_secs: i64,
        max_delay_secs: i64,
    ) -> LoginLimiter {
        LoginLimiter {
            per_user: FailureLimiter::new(free_per_user, window_secs, max_delay_secs),
            per_source: FailureLimiter::new(free_per_source, window_secs, max_delay_secs),
        }
    }

    /// None when `user` may try from `source` now; otherwise the seconds to wait.
    pub fn check(&self, source: IpAddr, user: &str, now: i64) -> Option<i64> {
        let mine = self.per_user.check(&(source, user.to_string()), now);
        let all = self.per_source.check(&source, now);
        mine.max(all)
    }

    /// Notes a failed attempt of `user` from `source`.
    pub fn failed(&mut self, source: IpAddr, user: &str, now: i64) {
        self.per_user.failed(&(source, user.to_string()), now);
        self.per_source.failed(&source, now);
    }

    /// Notes a success: that user from that source starts afresh (the source's other
    /// failures still count towards its ceiling).
    pub fn succeeded(&mut self, source: IpAddr, user: &str) {
        self.per_user.succeeded(&(source, user.to_string()));
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
            assert_eq!(l.check(&ip, t), None);
            l.failed(&ip, t);
        }
        // 3 failures: a wait of 1 s, counted in whole seconds, so it lasts to the end of the
        // second after the last failure's (a retry early in second 3 may be 5 ms later).
        assert_eq!(
            l.check(&ip, 2),
            Some(2),
            "3 failures: wait 1 s, after second 2"
        );
        assert_eq!(l.check(&ip, 3), Some(1), "second 3 is within the wait");
        assert_eq!(l.check(&ip, 4), None);
        l.failed(&ip, 4);
        assert_eq!(l.check(&ip, 4), Some(3), "4 failures: 2 s after second 4");
        assert_eq!(l.check(&ip, 7), None);
        l.failed(&ip, 7);
        assert_eq!(l.check(&ip, 7), Some(5), "5 failures: 4 s after second 7");
        for t in 8..20 {
            l.failed(&ip, t);
        }
        assert_eq!(l.check(&ip, 19), Some(61), "capped at 60 s after second 19");
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(l.check(&other, 19), None, "other sources unaffected");
        assert_eq!(l.check(&ip, 19 + 601), None, "the window passed");
        l.succeeded(&ip);
        assert_eq!(l.check(&ip, 20), None);
    }

    #[test]
    fn a_guesser_does_not_lock_out_colleagues_behind_the_same_address() {
        let nat: IpAddr = "198.51.100.7".parse().unwrap();
        let mut l = LoginLimiter::new(5, 50, 600, 300);
        for t in 0..10 {
            l.failed(nat, "1001", t);
        }
        assert!(l.check(nat, "1001", 10).is_some(), "the guessed seat waits");
        assert_eq!(
            l.check(nat, "1002", 10),
            None,
            "a colleague's seat does not"
        );
        // Past the source's ceiling everything from it waits.
        for t in 10..60 {
            l.failed(nat, &format!("seat{t}"), t);
        }
        assert!(l.check(nat, "1002", 60).is_some());
        assert_eq!(l.check("198.51.100.8".parse().unwrap(), "1002", 60), None);
    }
}
