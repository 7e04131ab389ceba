//! `GET /api/phone`: the console's WebSocket. A signed-in console opens it to pop up the calls
//! offered to its seat and, with `?phone=browser`, to take them in the page (the server's
//! WebRTC offer, the page's answer, hang-ups; see [`crate::phone::signal`]). While a console's
//! phone is open the seat is signed in to the ACD; when it closes and no SIP phone is
//! registered for the seat, the seat is signed out.
//!
//! A supervisor with a phone of their own (users.toml `seat`, a seat that takes no queue
//! calls) opens it from the wallboard: listening in, whispering and barging in then ring in
//! the page instead of on a SIP phone. That seat is never signed in to the ACD.

use std::net::SocketAddr;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use tracing::info;

use super::auth::Caller;
use super::error::ApiError;
use super::state::ApiState;
use crate::cases::Role;
use crate::phone::signal::{self, ToBrowser};

/// The socket's query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneQuery {
    /// `browser` to take calls in the page; absent for pop-ups only.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A page of another site may not open a console's socket with its cookie (WebSockets are
/// not bound by the same-origin rule): the Origin, when sent, must name the Host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

/// `GET /api/phone`: upgrades a console session's request to its phone socket.
pub async fn socket(
    State(state): State<ApiState>,
    caller: Caller,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<PhoneQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let seat = phone_seat(&state, &caller)?;
    if !same_origin(&headers) {
        return Err(ApiError::forbidden(
            "the phone socket opens from the console's own origin",
        ));
    }
    let phone = match query.phone.as_deref() {
        None => false,
        Some("browser") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "phone",
                format!("{other:?}: the phone is \"browser\" or absent"),
            ))
        }
    };
    let local_ip =
        crate::net::route::local_ip_towards(remote).unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
    Ok(ws
        .max_message_size(signal::MAX_MESSAGE)
        .on_upgrade(move |socket| serve(state, socket, seat, local_ip, phone)))
}

/// The seat whose phone the socket is: a console session's seat, or a supervisor's own phone.
fn phone_seat(state: &ApiState, caller: &Caller) -> Result<String, ApiError> {
    if let Some(seat) = &caller.console_seat {
        return Ok(seat.clone());
    }
    let seat = match (&caller.user.role, &caller.user.seat) {
        (Role::Supervisor, Some(seat)) => seat,
        _ => return Err(ApiError::forbidden(
            "the phone socket is for a console session, or a supervisor with a seat in users.toml",
        )),
    };
    let plan = state.dialplan.current();
    match plan.seats.iter().find(|s| &s.id == seat) {
        Some(s) if !s.takes_calls => Ok(seat.clone()),
        Some(_) => Err(ApiError::forbidden(format!(
            "seat {seat} takes queue calls: its phone is its console's (give the supervisor a seat with takes_calls = false)"
        ))),
        None => Err(ApiError::forbidden(format!("seat {seat} is not in agents.toml"))),
    }
}

/// Whether `seat` takes queue calls, so that its phone signs it in to the ACD.
fn takes_calls(state: &ApiState, seat: &str) -> bool {
    state
        .dialplan
        .current()
        .seats
        .iter()
        .any(|s| s.id == seat && s.takes_calls)
}

async fn serve(
    state: ApiState,
    mut socket: WebSocket,
    seat: String,
    local_ip: std::net::IpAddr,
    phone: bool,
) {
    let mut conn = state.phones.connect(&seat, local_ip, phone);
    let in_acd = takes_calls(&state, &seat);
    if in_acd && conn.first && state.registrar.contacts(&seat).is_empty() {
        state.queue.event(crate::acd::AcdEvent::Login {
            agent: seat.clone(),
        });
    }
    loop {
        tokio::select! {
            out = conn.rx.recv() => {
                let Some(out) = out else { break };
                let replaced = out == ToBrowser::Replaced;
                let text = serde_json::to_string(&out).unwrap_or_default();
                if socket.send(Message::Text(text.into())).await.is_err() || replaced {
                    break;
                }
            }
            inbound = socket.recv() => {
                match inbound {
                    Some(Ok(Message::Text(text))) => match signal::parse(&text) {
                        Ok(message) => state.phones.from_browser(&seat, conn.line, message).await,
                        Err(message) => {
                            let text = serde_json::to_string(&ToBrowser::Error { message })
                                .unwrap_or_default();
                            if socket.send(Message::Text(text.into())).await.is_err() {
                                break;
                            }
                        }
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    // Pings are answered by axum; binary frames mean nothing here.
                    Some(Ok(_)) => {}
                }
            }
        }
    }
    let was_phone = state.phones.disconnect(&seat, conn.line);
    if !in_acd {
        info!(%seat, "supervisor's page phone closed");
    } else if was_phone
        && !state.phones.has_phone(&seat)
        && state.registrar.contacts(&seat).is_empty()
    {
        info!(%seat, "console phone closed: seat signed out");
        state
            .queue
            .event(crate::acd::AcdEvent::Logout { agent: seat });
    } else if was_phone {
        info!(%seat, "console phone closed; the seat's SIP phone stays registered");
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    #[test]
    fn only_the_consoles_own_origin_opens_the_socket() {
        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1:8080".parse().unwrap());
        assert!(super::same_origin(&h), "no Origin: not a browser page");
        h.insert("origin", "http://127.0.0.1:8080".parse().unwrap());
        assert!(super::same_origin(&h));
        h.insert("origin", "http://evil.example".parse().unwrap());
        assert!(!super::same_origin(&h));
        h.insert(
            "origin",
            "http://127.0.0.1:8080.evil.example".parse().unwrap(),
        );
        assert!(!super::same_origin(&h));
    }
}
