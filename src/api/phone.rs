//! `GET /api/phone`: the console's WebSocket. A signed-in console opens it to pop up the calls
//! offered to its seat and, with `?phone=browser`, to take them in the page (the server's
//! WebRTC offer, the page's answer, hang-ups; see [`crate::phone::signal`]). While a console's
//! phone is open the seat is signed in to the ACD; when it closes and no SIP phone is
//! registered for the seat, the seat is signed out.

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
    let seat = caller
        .console_seat
        .clone()
        .ok_or_else(|| ApiError::forbidden("the phone socket is for a console session"))?;
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

async fn serve(
    state: ApiState,
    mut socket: WebSocket,
    seat: String,
    local_ip: std::net::IpAddr,
    phone: bool,
) {
    let mut conn = state.phones.connect(&seat, local_ip, phone);
    if conn.first && state.registrar.contacts(&seat).is_empty() {
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
    if was_phone && !state.phones.has_phone(&seat) && state.registrar.contacts(&seat).is_empty() {
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
