//! The call manager: one task that receives every SIP transaction-user event and either answers
//! it directly (OPTIONS, stray requests, overload) or hands it to the call it belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::inbound::run_inbound_call;
use super::services::CallServices;
use super::signal::CallSignal;
use crate::sip::message::{self, response_for};
use crate::sip::transaction::{TransactionKey, TuEvent};

pub use super::signal::ALLOWED_METHODS;

/// Routes SIP events to call tasks until the endpoint closes.
pub async fn run_call_manager(services: Arc<CallServices>, mut events: mpsc::Receiver<TuEvent>) {
    let calls = services.calls.clone();
    while let Some(event) = events.recv().await {
        on_event(&services, &mut calls.lock().expect("calls"), event);
    }
}

fn on_event(
    services: &Arc<CallServices>,
    calls: &mut HashMap<String, mpsc::UnboundedSender<CallSignal>>,
    event: TuEvent,
) {
    match event {
        TuEvent::Request { key, request, peer } => {
            let call_id = message::call_id_of(&request).unwrap_or_default();
            let leg = services.legs.lock().expect("legs").get(&call_id).cloned();
            if let Some(leg) = leg {
                // A request from a seat within our call to it.
                if request.method == rsip::Method::Bye {
                    let _ = leg.send(CallSignal::AgentBye {
                        key,
                        request: Box::new(request),
                    });
                } else if request.method == rsip::Method::Refer {
                    let _ = leg.send(CallSignal::AgentRefer {
                        key,
                        request: Box::new(request),
                    });
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
                    } else {
                        let (tx, rx) = mpsc::unbounded_channel();
                        calls.insert(call_id.clone(), tx.clone());
                        tokio::spawn(run_inbound_call(
                            services.clone(),
                            key,
                            request,
                            peer,
                            (tx, rx),
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
                        let _ = call.send(CallSignal::Bye {
                            key,
                            request: Box::new(request),
                        });
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
            forward(calls, &call_id, CallSignal::Ack);
        }
        TuEvent::Cancelled { request, .. } => {
            let call_id = message::call_id_of(&request).unwrap_or_default();
            forward(calls, &call_id, CallSignal::Cancel);
        }
        TuEvent::Timeout { call_id, .. } => {
            let leg = services.legs.lock().expect("legs").get(&call_id).cloned();
            match leg {
                Some(leg) => {
                    let _ = leg.send(CallSignal::AgentTimeout { call_id });
                }
                None => forward(calls, &call_id, CallSignal::Timeout),
            }
        }
        TuEvent::Response { response, .. } => {
            let call_id = message::call_id(&response).unwrap_or_default();
            let leg = services.legs.lock().expect("legs").get(&call_id).cloned();
            match leg {
                Some(leg) => {
                    let _ = leg.send(CallSignal::AgentResponse(Box::new(response)));
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

fn forward(
    calls: &HashMap<String, mpsc::UnboundedSender<CallSignal>>,
    call_id: &str,
    signal: CallSignal,
) {
    match calls.get(call_id) {
        Some(call) => {
            let _ = call.send(signal);
        }
        None => debug!(%call_id, ?signal, "event for a call that has ended"),
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
