//! Bearer tokens and what each role may see. Every endpoint but `/healthz` needs
//! `Authorization: Bearer <token>`, where the token names a user of `dialplan/users.toml`, or
//! the console's session cookie of a signed-in seat (an operator; see `session`).
//!
//! Who sees which cases: a unit only the cases dispatched to it; an operator or a supervisor
//! the cases of their platform; the provincial platform's supervisor every case.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

use super::error::ApiError;
use super::sessions::SignedIn;
use super::state::ApiState;
use crate::cases::{Actor, Role};
use crate::dialplan::User;

/// The provincial platform's division code in the reference deployment is found from the
/// dialplan; its supervisors see every platform.
fn is_provincial(state: &ApiState, platform: &str) -> bool {
    state.dialplan.current().router.provincial().code == platform
}

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// A supervisor of the provincial platform: sees everything.
    pub province_wide: bool,
    /// The seat a console session signed in as (None for a bearer token): it changes that
    /// seat's state only.
    pub console_seat: Option<String>,
}

impl Caller {
    /// The workflow actor this user acts as.
    pub fn actor(&self) -> Actor {
        Actor {
            role: self.user.role,
            id: self.user.id.clone(),
            unit: self.user.unit.clone(),
        }
    }

    /// May this user see a case of `platform` held by `unit`?
    pub fn may_see(&self, platform: &str, unit: Option<&str>) -> bool {
        match self.user.role {
            Role::Unit => unit.is_some() && unit == self.user.unit.as_deref(),
            _ => self.province_wide || self.user.platform == platform,
        }
    }

    /// The platform a list is limited to: the one `asked`, narrowed to this user's reach
    /// (403 when asking for a platform outside it). None: any platform.
    pub fn narrow_platform(&self, asked: Option<String>) -> Result<Option<String>, ApiError> {
        match self.platform_scope() {
            Some(scope) if asked.as_ref().is_some_and(|p| *p != scope) => Err(ApiError::forbidden(
                format!("you see platform {scope} only"),
            )),
            Some(scope) => Ok(Some(scope)),
            None => Ok(asked),
        }
    }

    /// The platform filter this user's lists are limited to (None: any).
    pub fn platform_scope(&self) -> Option<String> {
        match self.user.role {
            Role::Unit => None,
            _ if self.province_wide => None,
            _ => Some(self.user.platform.clone()),
        }
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The console's session cookie, when no token is sent: a change must carry the
        // session's CSRF token as well (see `session`).
        if header.is_empty() {
            if let Some(cookie) = super::session::cookie(&parts.headers) {
                let now = chrono::Utc::now().timestamp();
                let (who, csrf) = state.sessions.session(&cookie, now).ok_or_else(|| {
                    ApiError::status(
                        StatusCode::UNAUTHORIZED,
                        "the session has ended: sign in again",
                    )
                })?;
                if !matches!(
                    parts.method,
                    axum::http::Method::GET | axum::http::Method::HEAD
                ) {
                    super::session::check_csrf(&parts.headers, &csrf)?;
                }
                return match who {
                    SignedIn::Seat { id, platform } => Ok(Caller {
                        console_seat: Some(id.clone()),
                        user: super::sessions::seat_operator(&id, &platform),
                        province_wide: false,
                    }),
                    SignedIn::User { id } => {
                        let plan = state.dialplan.current();
                        let user =
                            plan.users
                                .iter()
                                .find(|u| u.id == id)
                                .cloned()
                                .ok_or_else(|| {
                                    ApiError::status(
                                        StatusCode::UNAUTHORIZED,
                                        "the session's user is no longer in users.toml",
                                    )
                                })?;
                        let province_wide =
                            user.role == Role::Supervisor && is_provincial(state, &user.platform);
                        Ok(Caller {
                            user,
                            province_wide,
                            console_seat: None,
                        })
                    }
                };
            }
        }
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::status(StatusCode::UNAUTHORIZED, "a bearer token is required")
            })?;
        let plan = state.dialplan.current();
        let user = plan
            .user_by_token(token)
            .cloned()
            .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "unknown token"))?;
        let province_wide = user.role == Role::Supervisor && is_provincial(state, &user.platform);
        Ok(Caller {
            user,
            province_wide,
            console_seat: None,
        })
    }
}
