//! The console's sessions, kept in memory by the SHA-256 of their cookie, and the failed
//! sign-ins: a leaf of `api/` (the state holds it; the sign-in handlers in `session` and the
//! token check in `auth` use it).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};

use crate::cases::Role;
use crate::dialplan::User;
use crate::registrar::LoginLimiter;

/// The cookie's name.
pub const COOKIE: &str = "hotline_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session's longest life, in seconds.
pub(super) const MAX_AGE: i64 = 12 * 3600;
/// A session unused this long ends, in seconds.
const IDLE: i64 = 2 * 3600;

/// Who a session signed in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIn {
    /// A seat (the operator console): an operator of its platform, acting on its own seat.
    Seat { id: String, platform: String },
    /// A user of `users.toml` (a knowledge-base editor, a supervisor, a unit's user), by id:
    /// their role and rights are read from the dialplan in force at each request.
    User { id: String },
}

impl SignedIn {
    /// The seat's or user's id (what failed sign-ins are counted by).
    pub fn id(&self) -> &str {
        match self {
            SignedIn::Seat { id, .. } | SignedIn::User { id } => id,
        }
    }
}

/// One signed-in session.
#[derive(Debug, Clone)]
struct Session {
    who: SignedIn,
    csrf: String,
    started: i64,
    last_seen: i64,
}

/// The sessions, by the SHA-256 of their cookie (the cookie itself is never kept), and the
/// failed sign-ins.
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
    /// Failed sign-ins per (address, seat) and per address.
    pub(super) limiter: Mutex<LoginLimiter>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            by_hash: Mutex::new(HashMap::new()),
            limiter: Mutex::new(LoginLimiter::new(5, 50, 600, 300)),
        }
    }
}

/// The SHA-256 of `s` in lower-case hex (session cookies, app keys).
pub(super) fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_token() -> String {
    (0..4)
        .map(|_| format!("{:016x}", rand::random::<u64>()))
        .collect()
}

/// The session cookie's value in `headers`, if any.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The operator a seat's session acts as.
pub fn seat_operator(id: &str, platform: &str) -> User {
    User {
        id: id.to_string(),
        role: Role::Operator,
        platform: platform.to_string(),
        unit: None,
        token_sha256: String::new(),
        knowledge_editor: false,
        seat: Some(id.to_string()),
    }
}

impl Sessions {
    /// Who a session cookie signed in as, at `now` (Unix seconds), with its CSRF token;
    /// refreshes its idle time. None for an unknown or ended session.
    pub fn session(&self, cookie: &str, now: i64) -> Option<(SignedIn, String)> {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| now - s.started < MAX_AGE && now - s.last_seen < IDLE);
        let session = map.get_mut(&sha256_hex(cookie))?;
        session.last_seen = now;
        Some((session.who.clone(), session.csrf.clone()))
    }

    /// Starts a session for `who`; its cookie and CSRF token.
    pub(super) fn start(&self, who: SignedIn, now: i64) -> (String, String) {
        let (cookie, csrf) = (random_token(), random_token());
        let session = Session {
            who,
            csrf: csrf.clone(),
            started: now,
            last_seen: now,
        };
        self.by_hash
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sha256_hex(&cookie), session);
        (cookie, csrf)
    }

    /// Ends the session of `cookie`.
    pub(super) fn end(&self, cookie: &str) {
        self.by_hash
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&sha256_hex(cookie));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_unused_for_two_hours_or_after_twelve() {
        let sessions = Sessions::default();
        let seat = SignedIn::Seat {
            id: "1001".into(),
            platform: "530100".into(),
        };
        let (cookie, csrf) = sessions.start(seat.clone(), 1_000);
        assert_eq!(sessions.session(&cookie, 1_000), Some((seat.clone(), csrf)));
        // Used every 1 h 59 min: it lives on, up to 12 hours after it started.
        let mut t = 1_000;
        while t + IDLE - 60 < 1_000 + MAX_AGE {
            t += IDLE - 60;
            assert!(sessions.session(&cookie, t).is_some(), "at {t}");
        }
        assert!(sessions.session(&cookie, 1_000 + MAX_AGE).is_none(), "12 h");
        // Unused for 2 hours: ended, and an ended session stays ended.
        let (idle, _) = sessions.start(seat, 5_000);
        assert!(sessions.session(&idle, 5_000 + IDLE - 1).is_some());
        assert!(sessions.session(&idle, 5_000 + 2 * IDLE).is_none());
        assert!(sessions.session(&idle, 5_000 + IDLE).is_none());
        assert!(sessions.session("not-a-cookie", 5_000).is_none());
    }
}
