//! Keeping the public form from being abused: how many requests one source address and one
//! phone number may send in a window, and the SMS codes that prove a phone number is the
//! sender's. Pure: the time is given, the code's digits are given by the caller's random
//! source.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

/// At most `max` events per key within `window`.
pub struct RateLimit {
    max: usize,
    window: Duration,
    seen: HashMap<String, VecDeque<DateTime<Utc>>>,
}

/// Keys tracked at most; beyond it the quietest are forgotten (an attacker rotating keys then
/// costs bounded memory, and a forgotten key starts afresh, which is the lenient side).
pub const MAX_KEYS: usize = 100_000;

impl RateLimit {
    pub fn new(max: usize, window: Duration) -> RateLimit {
        RateLimit {
            max,
            window,
            seen: HashMap::new(),
        }
    }

    /// Counts one event for `key` at `now` when it is within the limit; false (and nothing
    /// counted) when it is not.
    pub fn allow(&mut self, key: &str, now: DateTime<Utc>) -> bool {
        if self.seen.len() >= MAX_KEYS && !self.seen.contains_key(key) {
            let window = self.window;
            self.seen
                .retain(|_, times| times.back().is_some_and(|&t| now - t < window));
            if self.seen.len() >= MAX_KEYS {
                self.seen.clear();
            }
        }
        let times = self.seen.entry(key.to_string()).or_default();
        while times.front().is_some_and(|&t| now - t >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.max {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// How long a code is good for.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong tries before a code is void.
pub const CODE_TRIES: u32 = 5;

struct Issued {
    code: String,
    until: DateTime<Utc>,
    tries_left: u32,
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("no code was sent to this number, or it has expired")]
    NoCode,
    #[error("the code is wrong")]
    Wrong,
    #[error("too many wrong codes: ask for a new one")]
    Spent,
}

/// The codes sent to phone numbers and not yet used.
#[derive(Default)]
pub struct Codes {
    issued: HashMap<String, Issued>,
}

impl Codes {
    /// Keeps `code` as the one `number` must give back before `now + CODE_TTL`; a new code
    /// replaces the previous one.
    pub fn issue(&mut self, number: &str, code: String, now: DateTime<Utc>) {
        self.issued.retain(|_, i| i.until > now);
        self.issued.insert(
            number.to_string(),
            Issued {
                code,
                until: now + CODE_TTL,
                tries_left: CODE_TRIES,
            },
        );
    }

    /// Uses up the code of `number` when `code` is it.
    pub fn check(&mut self, number: &str, code: &str, now: DateTime<Utc>) -> Result<(), CodeError> {
        let issued = self.issued.get_mut(number).ok_or(CodeError::NoCode)?;
        if issued.until <= now {
            self.issued.remove(number);
            return Err(CodeError::NoCode);
        }
        if issued.tries_left == 0 {
            return Err(CodeError::Spent);
        }
        if issued.code != code.trim() {
            issued.tries_left -= 1;
            return Err(if issued.tries_left == 0 {
                CodeError::Spent
            } else {
                CodeError::Wrong
            });
        }
        self.issued.remove(number);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_key_gets_max_per_window_and_more_once_it_slides() {
        let mut limit = RateLimit::new(2, Duration::minutes(1));
        let now = t("2026-12-07T02:00:00Z");
        assert!(limit.allow("127.0.0.1", now));
        assert!(limit.allow("127.0.0.1", now + Duration::seconds(10)));
        assert!(!limit.allow("127.0.0.1", now + Duration::seconds(20)));
        assert!(
            limit.allow("127.0.0.2", now + Duration::seconds(20)),
            "per key"
        );
        assert!(limit.allow("127.0.0.1", now + Duration::seconds(61)));
        assert!(!limit.allow("127.0.0.1", now + Duration::seconds(62)));
    }

    #[test]
    fn a_code_is_good_once_within_its_time_and_tries() {
        let mut codes = Codes::default();
        let now = t("2026-12-07T02:00:00Z");
        assert_eq!(
            codes.check("13800138000", "123456", now),
            Err(CodeError::NoCode)
        );
        codes.issue("13800138000", "123456".into(), now);
        assert_eq!(
            codes.check("13800138000", "000000", now),
            Err(CodeError::Wrong)
        );
        assert_eq!(codes.check("13800138000", " 123456 ", now), Ok(()));
        assert_eq!(
            codes.check("13800138000", "123456", now),
            Err(CodeError::NoCode),
            "used"
        );

        codes.issue("13800138000", "222222".into(), now);
        assert_eq!(
            codes.check("13800138000", "222222", now + CODE_TTL),
            Err(CodeError::NoCode),
            "expired"
        );

        codes.issue("13800138000", "333333".into(), now);
        for _ in 0..CODE_TRIES - 1 {
            assert_eq!(codes.check("13800138000", "1", now), Err(CodeError::Wrong));
        }
        assert_eq!(codes.check("13800138000", "1", now), Err(CodeError::Spent));
        assert_eq!(
            codes.check("13800138000", "333333", now),
            Err(CodeError::Spent)
        );
    }
}
