//! Signing in from the browser. Operators use their seat's id and password (the console of
//! issue 12): `POST /api/session` with `{"seat": "1001", "password": "…"}`; the users of
//! `users.toml` (knowledge-base editors, supervisors, units' users) their id and token:
//! `{"user": "kb-kunming", "token": "…"}`. Either sets a session cookie (`HttpOnly`,
//! `SameSite=Strict`, `Path=/`) and answers the session's CSRF token; `GET /api/session` says
//! who is signed in; `DELETE /api/session` signs out.
//!
//! A seat's cookie acts as an operator of the seat's platform, as a bearer token would, except
//! that it changes its own seat's state only; a user's cookie acts as that user's token. Every
//! request that changes something (not GET or HEAD) must also carry the CSRF token in
//! `X-CSRF-Token`: another site can make a browser send the cookie, never read the token.
//! Wrong passwords and tokens count per (address, name) and per address, as for SIP
//! registrations, and
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

/// A sign-in: a seat with its password (the operator console), or a user of `users.toml`
/// with their token (the knowledge-base editor's page, and the pages of other roles).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[serde(default)]
    pub seat: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

/// Who is signed in.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The seat, for a console session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat: Option<String>,
    /// The user, for a user's session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub role: &'static str,
    pub platform: String,
    /// The platform's name (昆明市).
    pub platform_name: String,
    /// A supervisor of the provincial platform: sees every platform.
    pub province_wide: bool,
    /// A unit's user: the unit's id and name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    /// Whether the user edits the knowledge base.
    pub knowledge_editor: bool,
    /// A supervisor's own phone (users.toml `seat`, taking no queue calls): the wallboard may
    /// take the calls it makes to listen in on it, in the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_seat: Option<String>,
    pub csrf_token: String,
}

/// The view of a session's identity, as the dialplan in force has it.
fn view(state: &ApiState, who: &super::sessions::SignedIn, csrf: String) -> Option<SessionView> {
    use super::sessions::SignedIn;
    let plan = state.dialplan.current();
    let platform_name = |code: &str| plan.platform_name(code);
    match who {
        SignedIn::Seat { id, platform } => Some(SessionView {
            seat: Some(id.clone()),
            user: None,
            role: crate::cases::Role::Operator.as_str(),
            platform: platform.clone(),
            platform_name: platform_name(platform),
            province_wide: false,
            unit: None,
            unit_name: None,
            knowledge_editor: false,
            phone_seat: None,
            csrf_token: csrf,
        }),
        SignedIn::User { id } => {
            let u = plan.users.iter().find(|u| &u.id == id)?;
            Some(SessionView {
                seat: None,
                user: Some(u.id.clone()),
                role: u.role.as_str(),
                platform: u.platform.clone(),
                platform_name: platform_name(&u.platform),
                province_wide: u.role == crate::cases::Role::Supervisor
                    && plan.router.provincial().code == u.platform,
                unit: u.unit.clone(),
                unit_name: u.unit.as_ref().and_then(|id| {
                    plan.units
                        .iter()
                        .find(|x| &x.id == id)
                        .map(|x| x.name.clone())
                }),
                knowledge_editor: u.knowledge_editor,
                phone_seat: u.seat.clone().filter(|seat| {
                    u.role == crate::cases::Role::Supervisor
                        && plan.seats.iter().any(|s| &s.id == seat && !s.takes_calls)
                }),
                csrf_token: csrf,
            })
        }
    }
}

/// Who the form's credentials sign in as, if they are right.
fn check(state: &ApiState, form: &SignIn) -> Result<Option<super::sessions::SignedIn>, ApiError> {
    use super::sessions::SignedIn;
    let plan = state.dialplan.current();
    match (&form.seat, &form.password, &form.user, &form.token) {
        (Some(seat), Some(password), None, None) => Ok(plan
            .seats
            .iter()
            .find(|s| {
                &s.id == seat
                    && s.secret
                        .matches_password(&s.id, crate::call::register::REALM, password)
            })
            .map(|s| SignedIn::Seat {
                id: s.id.clone(),
                platform: s.platform.clone(),
            })),
        (None, None, Some(user), Some(token)) => Ok(plan
            .user_by_token(token)
            .filter(|u| &u.id == user)
            .map(|u| SignedIn::User { id: u.id.clone() })),
        _ => Err(ApiError::invalid(
            "seat",
            "sign in with seat and password, or with user and token",
        )),
    }
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
    let name = form
        .seat
        .clone()
        .or_else(|| form.user.clone())
        .unwrap_or_default();
    if let Some(wait) = state
        .sessions
        .limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .check(ip, &name, t)
    {
        return Err(ApiError::status(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many wrong passwords: try again in {wait} s"),
        ));
    }
    let Some(who) = check(&state, &form)? else {
        state
            .sessions
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failed(ip, &name, t);
        tracing::warn!(%ip, name, "sign-in refused");
        return Err(ApiError::status(
            StatusCode::UNAUTHORIZED,
            if form.seat.is_some() {
                "wrong seat or password"
            } else {
                "wrong user or token"
            },
        ));
    };
    state
        .sessions
        .limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .succeeded(ip, who.id());
    let (cookie, csrf) = state.sessions.start(who.clone(), t);
    tracing::info!(%ip, id = who.id(), "sign-in");
    let view = view(&state, &who, csrf).ok_or_else(|| ApiError::internal("no such user"))?;
    Ok((
        [(header::SET_COOKIE, set_cookie(&cookie, MAX_AGE))],
        Json(view),
    ))
}

/// `GET /api/session`.
pub async fn current(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Json<SessionView>, ApiError> {
    cookie(&headers)
        .and_then(|c| state.sessions.session(&c, now()))
        .and_then(|(who, csrf)| view(&state, &who, csrf))
        .map(Json)
        .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "not signed in"))
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
        .session(&value, now())
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
        // A forged request (another page using the cookie), or a page that lost its token.
        tracing::warn!("a change with a session cookie but without its CSRF token refused");
        Err(ApiError::forbidden(
            "a change from the console needs its X-CSRF-Token",
        ))
    }
}
