//! Operators sign in from the browser with their seat's id and password (the console of issue
//! 12): `POST /api/session` with `{"seat": "1001", "password": "…"}` sets a session cookie
//! (`HttpOnly`, `SameSite=Strict`, `Path=/`) and answers the session's CSRF token;
//! `GET /api/session` says who is signed in; `DELETE /api/session` signs out.
//!
//! A request with the cookie acts as an operator of the seat's platform, as a bearer token
//! would. Every request that changes something (not GET or HEAD) must also carry the token in
//! `X-CSRF-Token`: another site can make a browser send the cookie, never read the token.
//! Wrong passwords count per (address, seat) and per address, as for SIP registrations, and
//! an address that keeps failing waits. Sessions live in memory: a restart signs operators out
//! (their calls, cases and registrations are kept); a session ends after 12 hours, or after 2
//! hours without a request.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::cases::Role;
use crate::dialplan::User;
use crate::registrar::LoginLimiter;

/// The cookie's name.
pub const COOKIE: &str = "hotline_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session's longest life, in seconds.
const MAX_AGE: i64 = 12 * 3600;
/// A session unused this long ends, in seconds.
const IDLE: i64 = 2 * 3600;

/// One signed-in seat.
#[derive(Debug, Clone)]
struct Session {
    seat: String,
    platform: String,
    csrf: String,
    started: i64,
    last_seen: i64,
}

/// The sessions, by the SHA-256 of their cookie (the cookie itself is never kept), and the
/// failed sign-ins.
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
    limiter: Mutex<LoginLimiter>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            by_hash: Mutex::new(HashMap::new()),
            limiter: Mutex::new(LoginLimiter::new(5, 50, 600, 300)),
        }
    }
}

fn sha256_hex(s: &str) -> String {
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

impl Sessions {
    /// The user a session cookie signs in as, at `now` (Unix seconds); refreshes its idle
    /// time. None for an unknown or ended session.
    pub fn user(&self, cookie: &str, now: i64) -> Option<(User, String)> {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| now - s.started < MAX_AGE && now - s.last_seen < IDLE);
        let session = map.get_mut(&sha256_hex(cookie))?;
        session.last_seen = now;
        Some((
            User {
                id: session.seat.clone(),
                role: Role::Operator,
                platform: session.platform.clone(),
                unit: None,
                token_sha256: String::new(),
                knowledge_editor: false,
            },
            session.csrf.clone(),
        ))
    }

    fn start(&self, seat: &str, platform: &str, now: i64) -> (String, String) {
        let (cookie, csrf) = (random_token(), random_token());
        let session = Session {
            seat: seat.to_string(),
            platform: platform.to_string(),
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

    fn end(&self, cookie: &str) {
        self.by_hash
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&sha256_hex(cookie));
    }
}

/// A sign-in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub seat: String,
    pub password: String,
}

/// Who is signed in.
#[derive(Debug, Serialize)]
pub struct SessionView {
    pub seat: String,
    pub platform: String,
    pub csrf_token: String,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn set_cookie(value: &str, max_age: i64) -> String {
    format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}")
}

/// `POST /api/session`.
pub async fn sign_in(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(form): JsonBody<SignIn>,
) -> Result<impl IntoResponse, ApiError> {
    let ip: IpAddr = peer.ip();
    let t = now();
    if let Some(wait) = state
        .sessions
        .limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .check(ip, &form.seat, t)
    {
        return Err(ApiError::status(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many wrong passwords: try again in {wait} s"),
        ));
    }
    let plan = state.dialplan.current();
    let seat = plan.seats.iter().find(|s| s.id == form.seat);
    let Some(seat) = seat.filter(|s| {
        s.secret
            .matches_password(&s.id, crate::call::register::REALM, &form.password)
    }) else {
        state
            .sessions
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failed(ip, &form.seat, t);
        tracing::warn!(%ip, seat = form.seat, "console sign-in refused");
        return Err(ApiError::status(
            StatusCode::UNAUTHORIZED,
            "wrong seat or password",
        ));
    };
    state
        .sessions
        .limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .succeeded(ip, &seat.id);
    let (cookie, csrf) = state.sessions.start(&seat.id, &seat.platform, t);
    tracing::info!(%ip, seat = seat.id, "console sign-in");
    Ok((
        [(header::SET_COOKIE, set_cookie(&cookie, MAX_AGE))],
        Json(SessionView {
            seat: seat.id.clone(),
            platform: seat.platform.clone(),
            csrf_token: csrf,
        }),
    ))
}

/// `GET /api/session`.
pub async fn current(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Json<SessionView>, ApiError> {
    let (user, csrf) = cookie(&headers)
        .and_then(|c| state.sessions.user(&c, now()))
        .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "not signed in"))?;
    Ok(Json(SessionView {
        seat: user.id,
        platform: user.platform,
        csrf_token: csrf,
    }))
}

/// `DELETE /api/session`: needs the CSRF token like every change.
pub async fn sign_out(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let value = cookie(&headers)
        .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "not signed in"))?;
    let (_, csrf) = state
        .sessions
        .user(&value, now())
        .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "not signed in"))?;
    check_csrf(&headers, &csrf)?;
    state.sessions.end(&value);
    Ok((
        [(header::SET_COOKIE, set_cookie("", 0))],
        StatusCode::NO_CONTENT,
    ))
}

/// Refuses a change that does not carry the session's CSRF token.
pub fn check_csrf(headers: &HeaderMap, csrf: &str) -> Result<(), ApiError> {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent.len() == csrf.len()
        && sent
            .bytes()
            .zip(csrf.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "a change from the console needs its X-CSRF-Token",
        ))
    }
}

/// Shared by the state: one set of sessions per server.
pub type SharedSessions = Arc<Sessions>;
