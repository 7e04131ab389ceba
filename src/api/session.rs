//! Operators sign in from the browser with their seat's id and password (the console of issue
//! 12): `POST /api/session` with `{"seat": "1001", "password": "…"}` sets a session cookie
//! (`HttpOnly`, `SameSite=Strict`, `Path=/`) and answers the session's CSRF token;
//! `GET /api/session` says who is signed in; `DELETE /api/session` signs out.
//!
//! A request with the cookie acts as an operator of the seat's platform, as a bearer token
//! would, except that it changes its own seat's state only. Every request that changes something (not GET or HEAD) must also carry the token in
//! `X-CSRF-Token`: another site can make a browser send the cookie, never read the token.
//! Wrong passwords count per (address, seat) and per address, as for SIP registrations, and
//! an address that keeps failing waits. Sessions live in memory: a restart signs operators out
//! (their calls, cases and registrations are kept); a session ends after 12 hours, or after 2
//! hours without a request.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::ApiError;
use super::sessions::MAX_AGE;
pub use super::sessions::{cookie, Sessions, COOKIE, CSRF_HEADER};
use super::state::ApiState;

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
