//! Seat-to-seat calls, at the edge: an operator's softphone dials a colleague's extension
//! through the server (`INVITE sip:1002@…`), authenticated by its seat's digest (407 first,
//! like any proxy), to consult before an attended transfer. The colleague's seat is reserved
//! in the ACD for the call's length, so that no queue call is offered to it meanwhile. The
//! rules are in [`flow`]; this file runs them. When the operator then sends REFER with
//! Replaces naming this call on their call with a caller, the caller's call takes the
//! colleague's leg over (`CallSignal::TakeOver`) and this call ends.

pub mod flow;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::time::Instant;
use tracing::{info, warn};

use super::agent_leg::AgentLeg;
use super::directory::{SignalRx, SignalTx};
use super::driver::or_pending;
use super::flow::{Hearers, LegId, Member, Party, SeatEvent};
use super::legs::Legs;
use super::room::Room;
use super::services::CallServices;
use super::signal::{CallSignal, TakenLeg};
use crate::media::session::{MediaEvent, MediaSession};
use crate::phone::signal::CallInfo;
use crate::sip::dialog::Dialog;
use crate::sip::message::{self, response_for};
use crate::sip::transaction::{Peer, TransactionKey};
use flow::{Input, Internal, Output};

/// The colleague's leg.
const LEG: LegId = LegId(1);

/// Runs one seat-to-seat call to its end; it leaves the call directory then.
pub async fn run_internal_call(
    services: Arc<CallServices>,
    key: TransactionKey,
    request: rsip::Request,
    peer: Peer,
    (me, signals): (SignalTx, SignalRx),
) {
    let call_id = message::call_id_of(&request).unwrap_or_default();
    let reservation = run(&services, &key, &request, peer, &me, signals).await;
    if let Some(reservation) = reservation {
        services
            .queue
            .event(crate::acd::AcdEvent::Released { call: reservation });
    }
    let mut calls = services.calls.lock();
    if calls.get(&call_id).is_some_and(|tx| tx.same_channel(&me)) {
        calls.remove(&call_id);
    }
}

/// The call; the ACD reservation still to let go at its end (None: none, or taken over).
async fn run(
    services: &Arc<CallServices>,
    key: &TransactionKey,
    request: &rsip::Request,
    peer: Peer,
    me: &SignalTx,
    mut signals: SignalRx,
) -> Option<String> {
    let respond = |status: rsip::StatusCode, tag: Option<&str>| {
        services
            .endpoint
            .respond(key, response_for(request, status, tag));
    };
    respond(rsip::StatusCode::Trying, None);
    let plan = services.dialplan();
    let from = match services.registrar.authorize(&plan, request, peer) {
        Ok(seat) => seat,
        Err(refusal) => {
            services.endpoint.respond(key, refusal);
            return None;
        }
    };
    let call_id = message::call_id_of(request).unwrap_or_default();
    let target = message::request_uri_user(request).unwrap_or_default();
    if target == from || !plan.seats.iter().any(|s| s.id == target && s.takes_calls) {
        info!(call_id, from, target, "a seat dialled no colleague: 404");
        respond(rsip::StatusCode::NotFound, Some(&message::new_tag()));
        return None;
    }
    let reservation = format!("internal:{call_id}");
    if let Err(e) = services.queue.reserve(&reservation, &target).await {
        info!(call_id, from, target, error = %e, "the colleague is busy: 486");
        respond(rsip::StatusCode::BusyHere, Some(&message::new_tag()));
        return None;
    }
    let local_ip = services.advertise_ip.unwrap_or_else(|| {
        crate::net::route::local_ip_towards(peer.addr)
            .unwrap_or(services.endpoint.local_addr().ip())
    });
    let media = match MediaSession::open(
        &services.rtp_ports,
        local_ip,
        services.limits.media_timeout,
    )
    .await
    {
        Ok(m) => m,
        Err(e) => {
            warn!(call_id, error = %e, "no media port: 503");
            services.reply_retry_later(key, request);
            return Some(reservation);
        }
    };
    let offer = String::from_utf8_lossy(&request.body).to_string();
    let negotiated = match crate::media::sdp::negotiate(
        &offer,
        local_ip,
        media.local_port(),
        rand::random::<u32>() as u64,
    ) {
        Ok(n) => n,
        Err(e) => {
            info!(call_id, error = %e, "SDP offer not acceptable: 488");
            respond(
                rsip::StatusCode::NotAcceptableHere,
                Some(&message::new_tag()),
            );
            return Some(reservation);
        }
    };
    info!(call_id, from, to = target, "a seat calls a colleague");
    let mut edge = Edge {
        services: services.clone(),
        key: key.clone(),
        request: request.clone(),
        peer,
        me: me.clone(),
        call_id,
        from,
        to_tag: message::new_tag(),
        local_ip,
        media,
        negotiated,
        dialog: None,
        legs: Legs::default(),
        room: Room::default(),
        reservation: Some(reservation),
        taker: None,
    };
    let mut machine = Internal::new(&target, plan.callbacks.ring_seat);
    let now = || Instant::now().into_std();
    machine.handle(Input::Start, now());
    let mut caller_events = edge.media.events();
    loop {
        let mut done = false;
        while let Some(output) = machine.poll_output() {
            if let Some(input) = edge.perform(output, &mut done).await {
                machine.handle(input, now());
            }
        }
        if done {
            break;
        }
        let deadline = machine.poll_timeout().map(Instant::from_std);
        tokio::select! {
            biased;
            signal = signals.recv() => {
                let input = match signal {
                    None => Some(Input::CallerBye),
                    Some(signal) => edge.signal(signal, machine.is_up()).await,
                };
                if let Some(input) = input {
                    machine.handle(input, now());
                }
            }
            event = caller_events.recv() => {
                if matches!(event, Some(MediaEvent::Timeout)) {
                    machine.handle(Input::CallerLost, now());
                } else if event.is_none() {
                    caller_events = tokio::sync::mpsc::channel(1).1;
                }
            }
            (_, event) = edge.legs.media_event() => {
                if matches!(event, None | Some(MediaEvent::Timeout)) {
                    machine.handle(Input::Leg(SeatEvent::MediaTimeout), now());
                }
            }
            _ = or_pending(deadline.map(tokio::time::sleep_until)) => machine.handle_timeout(now()),
        }
    }
    edge.finish().await
}

/// One seat-to-seat call's edge.
struct Edge {
    services: Arc<CallServices>,
    key: TransactionKey,
    request: rsip::Request,
    peer: Peer,
    me: SignalTx,
    call_id: String,
    /// The operator who dialled.
    from: String,
    to_tag: String,
    local_ip: IpAddr,
    /// The operator's side.
    media: MediaSession,
    negotiated: crate::media::sdp::Negotiated,
    dialog: Option<Dialog>,
    legs: Legs,
    room: Room,
    /// The colleague's seat's reservation, until another call takes it over.
    reservation: Option<String>,
    /// The call that asked to take the colleague's leg over, waiting for it.
    taker: Option<tokio::sync::oneshot::Sender<Option<TakenLeg>>>,
}

impl Edge {
    fn via_host(&self) -> String {
        let port = self
            .services
            .endpoint
            .local_addr_for(self.peer.transport)
            .port();
        SocketAddr::new(self.local_ip, port).to_string()
    }

    /// A signal of the call as an input.
    async fn signal(&mut self, signal: CallSignal, up: bool) -> Option<Input> {
        let services = self.services.clone();
        let signal = match self.legs.on_signal(&services, signal, &self.call_id).await {
            Ok(seen) => return seen.map(|(_, event)| Input::Leg(event)),
            Err(other) => other,
        };
        match signal {
            CallSignal::Bye { key, request } => {
                services
                    .endpoint
                    .respond(&key, response_for(&request, rsip::StatusCode::OK, None));
                Some(Input::CallerBye)
            }
            CallSignal::Cancel => Some(Input::CallerCancel),
            CallSignal::Timeout => Some(Input::CallerLost),
            CallSignal::Ack => None,
            CallSignal::AgentRefer { key, request } => {
                let leg = self.legs.hold_request(&services, key, *request)?;
                self.legs
                    .answer(&services, leg, crate::call::flow::LegReply::NoDialog);
                None
            }
            CallSignal::TakeOver {
                from_tag,
                to_tag,
                reply,
            } => {
                // The dialog named must be this one: the operator's From tag and ours.
                let ours = message::from_tag(&self.request).as_deref() == Some(from_tag.as_str())
                    && to_tag == self.to_tag;
                if !ours || !up {
                    let _ = reply.send(None);
                    return None;
                }
                self.taker = Some(reply);
                Some(Input::TakeOver)
            }
            CallSignal::Hold { reply, .. } => {
                let _ = reply.send(Err("not a caller's call"));
                None
            }
            CallSignal::Transfer { .. }
            | CallSignal::Request { .. }
            | CallSignal::Describe { .. } => None,
            // Taken by `Legs::on_signal` above.
            CallSignal::AgentResponse(_)
            | CallSignal::Phone { .. }
            | CallSignal::AgentTimeout { .. }
            | CallSignal::AgentBye { .. } => None,
        }
    }

    /// Performs one output; an input it gave rise to. `done` is set at the end.
    async fn perform(&mut self, output: Output, done: &mut bool) -> Option<Input> {
        let services = self.services.clone();
        match output {
            Output::Dial(agent) => {
                let info = CallInfo {
                    call_id: self.call_id.clone(),
                    case_number: String::new(),
                    caller: self.from.clone(),
                    platform: String::new(),
                    platform_name: String::new(),
                    queue: "internal".into(),
                    waited_seconds: 0,
                    phone: "sip",
                };
                match AgentLeg::dial(&services, &agent, info, self.local_ip, &self.me).await {
                    Ok(leg) => self.legs.insert(LEG, leg),
                    Err(e) => {
                        warn!(call_id = self.call_id, %agent, error = %e, "cannot ring the colleague");
                        return Some(Input::Leg(SeatEvent::DialFailed));
                    }
                }
            }
            Output::Ringing => services.endpoint.respond(
                &self.key,
                response_for(&self.request, rsip::StatusCode::Ringing, Some(&self.to_tag)),
            ),
            Output::Answer => {
                let mut ok = response_for(&self.request, rsip::StatusCode::OK, Some(&self.to_tag));
                ok.headers.push(rsip::Header::Other(
                    "Contact".into(),
                    format!(
                        "<sip:12345@{}{}>",
                        self.via_host(),
                        self.peer.transport.uri_param()
                    ),
                ));
                ok.headers.push(rsip::Header::Other(
                    "Allow".into(),
                    super::signal::ALLOWED_METHODS.into(),
                ));
                message::set_body(
                    &mut ok,
                    "application/sdp",
                    self.negotiated.answer.clone().into_bytes(),
                );
                self.dialog = Some(Dialog::new_uas(&self.request, &ok));
                services.endpoint.respond(&self.key, ok);
                let n = &self.negotiated;
                self.media.start(
                    n.remote_rtp,
                    n.codec,
                    n.telephone_event_pt,
                    self.peer.addr.ip(),
                );
            }
            Output::Reject(code) => services.endpoint.respond(
                &self.key,
                response_for(
                    &self.request,
                    rsip::StatusCode::from(code),
                    Some(&self.to_tag),
                ),
            ),
            Output::CancelLeg => {
                if let Some(l) = self.legs.get(LEG) {
                    l.cancel(&services).await;
                }
            }
            Output::HangUpLeg => {
                if let Some(l) = self.legs.get_mut(LEG) {
                    l.hang_up(&services).await;
                }
            }
            Output::AnswerLeg(reply) => self.legs.answer(&services, LEG, reply),
            Output::ReleaseLeg(outcome) => {
                // The colleague's leg of a call between seats is no case's: nothing stored.
                info!(call_id = self.call_id, outcome, "the colleague's leg ends");
                if let Some(leg) = self.legs.take(LEG) {
                    leg.release(&services);
                }
            }
            Output::Connect => {
                let everyone = |party| Member {
                    party,
                    heard_by: Hearers::Everyone,
                    hears: true,
                };
                let (legs, media) = (&self.legs, &self.media);
                self.room.apply(
                    &[everyone(Party::Caller), everyone(Party::Leg(LEG))],
                    legs.sessions(Some(media)),
                    |_| None,
                );
            }
            Output::Disconnect => {
                let (legs, media) = (&self.legs, &self.media);
                self.room.clear(legs.sessions(Some(media)));
            }
            Output::GiveLeg(give) => {
                let taken = give.then(|| self.legs.take(LEG)).flatten();
                let answer = match (taken, self.reservation.take()) {
                    (Some(leg), Some(reservation)) => Some(TakenLeg {
                        agent: leg.agent.clone(),
                        leg: Box::new(leg),
                        reservation,
                    }),
                    (_, reservation) => {
                        self.reservation = reservation;
                        None
                    }
                };
                if let Some(reply) = self.taker.take() {
                    let _ = reply.send(answer);
                }
            }
            Output::HangUpCaller => {
                let via = self.via_host();
                if let Some(d) = self.dialog.as_mut() {
                    let bye = d.new_request(rsip::Method::Bye, &via, self.peer.transport);
                    if let Err(e) = services.endpoint.send_request(bye, self.peer).await {
                        warn!(call_id = self.call_id, error = %e, "BYE to the operator not sent");
                    }
                }
            }
            Output::End(how) => {
                info!(call_id = self.call_id, how, "seat-to-seat call ended");
                *done = true;
            }
        }
        None
    }

    /// The end: nothing stays behind; the reservation still held, to let go.
    async fn finish(mut self) -> Option<String> {
        let (legs, media) = (&self.legs, &self.media);
        self.room.clear(legs.sessions(Some(media)));
        if let Some(leg) = self.legs.take(LEG) {
            leg.release(&self.services);
        }
        self.media.close();
        self.reservation.take()
    }
}
