//! The call manager: one task that receives every SIP transaction-user event and either answers
//! it directly (OPTIONS, stray requests, overload) or hands it to the call it belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::directory::{deliver, signal_channel, SignalTx, Undelivered};
use super::inbound::run_inbound_call;
use super::services::CallServices;
use super::signal::CallSignal;
use crate::dialplan::trunks::AcceptCalls;
use crate::sip::message::{self, response_for};
use crate::sip::transaction::{TransactionKey, TuEvent};

pub use super::signal::ALLOWED_METHODS;

/// Routes SIP events to call tasks until the endpoint closes.
pub async fn run_call_manager(services: Arc<CallServices>, mut events: mpsc::Receiver<TuEvent>) {
    let calls = services.calls.clone();
    while let Some(event) = events.recv().await {
        on_event(&services, &mut calls.lock(), event);
    }
}

fn on_event(services: &Arc<CallServices>, calls: &mut HashMap<String, SignalTx>, event: TuEvent) {
    match event {
        TuEvent::Request { key, request, peer } => {
            let call_id = message::call_id_of(&request).unwrap_or_default();
            let leg = services.legs.lock().expect("legs").get(&call_id).cloned();
            if let Some(leg) = leg {
                // A request from a seat within our call to it.
                if request.method == rsip::Method::Bye {
                    deliver_or_refuse(
                        services,
                        &leg,
                        CallSignal::AgentBye {
                            key,
                            request: Box::new(request),
                        },
                    );
                } else if request.method == rsip::Method::Refer {
                    deliver_or_refuse(
                        services,
                        &leg,
                        CallSignal::AgentRefer {
                            key,
                            request: Box::new(request),
                        },
                    );
                } else {
                    let status = if request.method == rsip::Method::Invite {
                        rsip::StatusCode::NotAcceptableHere
                    } else {
                        rsip::StatusCode::OK
                    };
                    reply(services, &key, &request, status);
                }
                return;
            }
            let in_dialog = message::to_tag(&request).is_some();
            match (&request.method, in_dialog) {
                (rsip::Method::Invite, false) => {
                    if calls.contains_key(&call_id) {
                        // A second INVITE with a new branch for a call we already handle: a loop
                        // or a fork that came back (RFC 3261 §8.2.2.2).
                        reply(services, &key, &request, rsip::StatusCode::LoopDetected);
                    } else if services.draining.load(std::sync::atomic::Ordering::Relaxed) {
                        info!(%call_id, "shutting down: refusing INVITE with 503");
                        services.reply_retry_later(&key, &request);
                    } else if services.live.get() >= services.limits.max_calls {
                        warn!(
                            active = services.live.get(),
                            "at max calls: refusing INVITE with 503"
                        );
                        services.reply_retry_later(&key, &request);
                    } else if is_seat_dialled(services, &request) {
                        // A seat dials a colleague (to consult before an attended transfer).
                        let (tx, rx) = signal_channel();
                        calls.insert(call_id.clone(), tx.clone());
                        tokio::spawn(super::internal::run_internal_call(
                            services.clone(),
                            key,
                            request,
                            peer,
                            (tx, rx),
                        ));
                    } else if let Some(channel) = admit(services, &key, &request, peer) {
                        let (tx, rx) = signal_channel();
                        calls.insert(call_id.clone(), tx.clone());
                        tokio::spawn(run_inbound_call(
                            services.clone(),
                            key,
                            request,
                            peer,
                            (tx, rx),
                            channel,
                        ));
                    }
                }
                (rsip::Method::Invite, true) => {
                    // Re-INVITE: the session stays as negotiated (RFC 3261 §14.2 lets a UAS refuse
                    // with 488 and the call goes on unchanged).
                    let status = if calls.contains_key(&call_id) {
                        rsip::StatusCode::NotAcceptableHere
                    } else {
                        rsip::StatusCode::CallTransactionDoesNotExist
                    };
                    reply(services, &key, &request, status);
                }
                (rsip::Method::Bye, _) => match calls.get(&call_id) {
                    Some(call) => {
                        deliver_or_refuse(
                            services,
                            call,
                            CallSignal::Bye {
                                key,
                                request: Box::new(request),
                            },
                        );
                    }
                    None => reply(
                        services,
                        &key,
                        &request,
                        rsip::StatusCode::CallTransactionDoesNotExist,
                    ),
                },
                (rsip::Method::Refer, _) => {
                    // Only an operator's seat transfers a call (REFER in our call to it).
                    reply(services, &key, &request, rsip::StatusCode::Forbidden)
                }
                (rsip::Method::Register, _) => services.registrar.handle(
                    (&services.endpoint, &services.queue, &services.dialplan()),
                    &key,
                    &request,
                    peer,
                ),
                (rsip::Method::Options, _) => {
                    let mut response = response_for(&request, rsip::StatusCode::OK, None);
                    response
                        .headers
                        .push(rsip::Header::Other("Allow".into(), ALLOWED_METHODS.into()));
                    response.headers.push(rsip::Header::Other(
                        "Accept".into(),
                        "application/sdp".into(),
                    ));
                    services.endpoint.respond(&key, response);
                }
                (rsip::Method::Info, _) => {
                    let status = if calls.contains_key(&call_id) {
                        info!(%call_id, body = %String::from_utf8_lossy(&request.body), "SIP INFO in call");
                        rsip::StatusCode::OK
                    } else {
                        rsip::StatusCode::CallTransactionDoesNotExist
                    };
                    reply(services, &key, &request, status);
                }
                _ => {
                    let mut response =
                        response_for(&request, rsip::StatusCode::MethodNotAllowed, None);
                    response
                        .headers
                        .push(rsip::Header::Other("Allow".into(), ALLOWED_METHODS.into()));
                    services.endpoint.respond(&key, response);
                }
            }
        }
        TuEvent::Ack { request, .. } => {
            let call_id = message::call_id_of(&request).unwrap_or_default();
            forward(services, calls, &call_id, CallSignal::Ack);
        }
        TuEvent::Cancelled { request, .. } => {
            let call_id = message::call_id_of(&request).unwrap_or_default();
            forward(services, calls, &call_id, CallSignal::Cancel);
        }
        TuEvent::Timeout { call_id, .. } => {
            let leg = services.legs.lock().expect("legs").get(&call_id).cloned();
            match leg {
                Some(leg) => {
                    deliver_or_refuse(services, &leg, CallSignal::AgentTimeout { call_id });
                }
                None => forward(services, calls, &call_id, CallSignal::Timeout),
            }
        }
        TuEvent::Response { response, .. } => {
            let call_id = message::call_id(&response).unwrap_or_default();
            let leg = services.legs.lock().expect("legs").get(&call_id).cloned();
            match leg {
                Some(leg) => {
                    deliver_or_refuse(
                        services,
                        &leg,
                        CallSignal::AgentResponse(Box::new(response)),
                    );
                }
                None => {
                    if !services.answer_late(&response) {
                        debug!(status = %response.status_code, "response for a call that has ended")
                    }
                }
            }
        }
    }
}

/// Whether an INVITE dials a seat's extension (a seat to seat call), not a service number.
fn is_seat_dialled(services: &CallServices, request: &rsip::Request) -> bool {
    let user = message::request_uri_user(request).unwrap_or_default();
    services.dialplan().seats.iter().any(|s| s.id == user)
}

/// Whether a new call may come in from `peer`: with `accept_calls = "trunks"` only from a
/// trunk's addresses or a seat's registered phone (403 otherwise), and over a trunk only while
/// one of its channels is free (503 otherwise). Some(the trunk channel it holds, if any).
fn admit(
    services: &CallServices,
    key: &TransactionKey,
    request: &rsip::Request,
    peer: crate::sip::transaction::Peer,
) -> Option<Option<super::trunk::ChannelGuard>> {
    static REFUSED: std::sync::LazyLock<
        std::sync::Mutex<crate::net::WarnThrottle<std::net::IpAddr>>,
    > = std::sync::LazyLock::new(|| {
        std::sync::Mutex::new(crate::net::WarnThrottle::new(
            std::time::Duration::from_secs(10),
        ))
    });
    let plan = services.dialplan();
    let ip = peer.addr.ip();
    match plan.trunks.by_source(ip) {
        Some(trunk) => match services.trunk_channels.take(trunk) {
            Some(channel) => Some(Some(channel)),
            None => {
                warn!(
                    trunk = trunk.name,
                    channels = trunk.channels,
                    "every channel of the trunk is in use: 503"
                );
                services.reply_retry_later(key, request);
                None
            }
        },
        None if plan.trunks.accept_calls == AcceptCalls::Trunks
            && !services.registrar.is_seat_source(ip) =>
        {
            let log = REFUSED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .allow(&ip, std::time::Instant::now());
            if let Some(left_out) = log {
                warn!(source = %ip, left_out, "a call from outside the trunks refused (accept_calls = trunks): 403");
            }
            reply(services, key, request, rsip::StatusCode::Forbidden);
            None
        }
        None => Some(None),
    }
}

fn forward(
    services: &CallServices,
    calls: &HashMap<String, SignalTx>,
    call_id: &str,
    signal: CallSignal,
) {
    match calls.get(call_id) {
        Some(call) => deliver_or_refuse(services, call, signal),
        None => debug!(%call_id, ?signal, "event for a call that has ended"),
    }
}

/// Hands `signal` to its call; when the call's queue is full, a request in it is answered 503
/// (the peer retries) and anything else is dropped (responses and ACKs are retransmitted).
/// A peer flooding a call would flood the log too: the warning is written at the 1st, 2nd,
/// 4th, 8th... signal refused, with the count so far.
fn deliver_or_refuse(services: &CallServices, call: &SignalTx, signal: CallSignal) {
    static REFUSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    match deliver(call, signal) {
        Ok(()) => {}
        Err(Undelivered::Ended(signal)) => {
            debug!(?signal, "event for a call that is ending")
        }
        Err(Undelivered::Full(signal)) => {
            let refused = REFUSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let log = refused.is_power_of_two();
            match signal {
                CallSignal::Bye { key, request }
                | CallSignal::AgentBye { key, request }
                | CallSignal::AgentRefer { key, request } => {
                    if log {
                        warn!(method = %request.method, refused,
                              "call busy: its signal queue is full, answering 503");
                    }
                    services.reply_retry_later(&key, &request);
                }
                other => {
                    if log {
                        warn!(signal = ?other, refused,
                              "call busy: its signal queue is full, dropping");
                    }
                }
            }
        }
    }
}

fn reply(
    services: &CallServices,
    key: &TransactionKey,
    request: &rsip::Request,
    status: rsip::StatusCode,
) {
    services
        .endpoint
        .respond(key, response_for(request, status, None));
}
