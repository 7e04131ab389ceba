//! The edge of one answered call: it feeds the pure [`Call`] machine with what the caller, the
//! seats, the media, the ACD and the clock do, and performs every output the machine asks for
//! (SIP to seats, prompts, relaying and recording, store writes, ACD events). The rules are in
//! `flow/`; this file only translates.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::agent_leg::AgentLeg;
use super::context::InboundCall;
use super::directory::SignalRx;
use super::flow::{Call, Input, LegId, LegReply, Output, ReferRefusal, SeatEvent};
use super::queue::QueueNotice;
use super::recording::Recordings;
use super::signal::{CallSignal, EndCause, TransferTarget};
use crate::acd::AgentState;
use crate::media::recorder::WavRecorder;
use crate::media::session::{MediaEvent, MediaSession};
use crate::phone::signal::CallInfo;
use crate::phone::PhoneEvent;
use crate::routing::TransferRefused;
use crate::sip::dialog::Dialog;
use crate::sip::message::{self, response_for};
use crate::sip::transaction::TransactionKey;

/// What the caller hears: lists of prompts played by the media pacer, which reports each
/// list's end with its generation; only the end of the latest list is the machine's PlayDone.
struct Player {
    generation: u64,
    done: mpsc::Receiver<u64>,
}

/// The seat bridged with the caller: its media events and the recordings.
struct Bridged {
    leg: LegId,
    events: mpsc::Receiver<MediaEvent>,
    recordings: Recordings,
}

/// A voice message being recorded.
struct Message {
    id: i64,
    platform: String,
    rec: WavRecorder,
}

/// The edge's side of one call.
pub(super) struct Driver<'c, 'a> {
    call: &'c InboundCall<'a>,
    media: &'c MediaSession,
    case_number: &'c str,
    dialog: &'c mut Dialog,
    legs: HashMap<LegId, AgentLeg>,
    /// Seat legs by SIP Call-ID.
    leg_ids: HashMap<String, LegId>,
    /// Seats' BYEs and REFERs not answered yet, oldest first.
    requests: HashMap<LegId, VecDeque<(TransactionKey, rsip::Request)>>,
    notices: Option<mpsc::UnboundedReceiver<QueueNotice>>,
    queue: String,
    /// When the caller joined the queue, for the pop-up's waiting time.
    joined_at: Option<Instant>,
    /// The platform that took the call.
    platform: String,
    bridged: Option<Bridged>,
    message: Option<Message>,
    transfer_reply: Option<oneshot::Sender<Result<TransferTarget, TransferRefused>>>,
    hold_reply: Option<oneshot::Sender<Result<bool, &'static str>>>,
    /// Inputs the outputs gave rise to (a seat that cannot be rung, a message not started).
    inputs: VecDeque<Input>,
}

impl<'c, 'a> Driver<'c, 'a> {
    pub(super) fn new(
        call: &'c InboundCall<'a>,
        media: &'c MediaSession,
        case_number: &'c str,
        dialog: &'c mut Dialog,
    ) -> Self {
        Driver {
            call,
            media,
            case_number,
            dialog,
            legs: HashMap::new(),
            leg_ids: HashMap::new(),
            requests: HashMap::new(),
            notices: None,
            queue: String::new(),
            joined_at: None,
            platform: String::new(),
            bridged: None,
            message: None,
            transfer_reply: None,
            hold_reply: None,
            inputs: VecDeque::new(),
        }
    }

    /// Runs the machine from the 200 OK to the end of the call.
    pub(super) async fn run(
        mut self,
        machine: &mut Call,
        signals: &mut SignalRx,
        negotiated: &crate::media::sdp::Negotiated,
        platform: &str,
    ) -> EndCause {
        self.platform = platform.to_string();
        let media = self.media;
        let mut media_events = media.events();
        let mut player = Player {
            generation: 0,
            done: media.played(),
        };
        let mut staffing = tokio::time::interval(Duration::from_secs(1));
        let now = || Instant::now().into_std();
        loop {
            while let Some(output) = machine.poll_output() {
                if let Some(cause) = self.perform(output, &mut player).await {
                    self.let_go_all().await;
                    return cause;
                }
            }
            // A transfer the machine did not answer is dropped: the API says the caller is not
            // talking with an operator.
            self.transfer_reply = None;
            self.hold_reply = None;
            if let Some(input) = self.inputs.pop_front() {
                machine.handle(input, now());
                continue;
            }
            let deadline = machine.poll_timeout().map(Instant::from_std);
            let waiting_on = machine.waiting_on().map(str::to_string);
            // In this order: what has already arrived (a hang-up, audio queued while an
            // output was performed) is taken in before a deadline that passed meanwhile.
            tokio::select! {
                biased;
                signal = signals.recv() => {
                    let input = match signal {
                        Some(CallSignal::Ack) => {
                            media.start(negotiated.remote_rtp, negotiated.codec,
                                        negotiated.telephone_event_pt, self.call.peer.addr.ip());
                            let open = self.call.dialplan.is_staffed(platform, Utc::now());
                            if !open {
                                info!(call_id = self.call.call_id, platform, "outside staffed hours: voice message");
                            }
                            Some(Input::Ack { open })
                        }
                        Some(CallSignal::Bye { key, request }) => {
                            self.call.answer_bye(&key, &request);
                            // Whatever media is still queued arrived before the hang-up.
                            while let Ok(event) = media_events.try_recv() {
                                if let Some(input) = self.caller_media(event) {
                                    self.inputs.push_back(input);
                                }
                            }
                            self.inputs.push_back(Input::CallerBye);
                            None
                        }
                        None => Some(Input::CallerBye),
                        Some(CallSignal::Timeout) => Some(Input::AckTimeout),
                        Some(signal) => self.seat_signal(signal),
                    };
                    if let Some(input) = input {
                        machine.handle(input, now());
                    }
                }
                Some(notice) = or_pending(self.notices.as_mut().map(|rx| rx.recv())) => {
                    if let QueueNotice::Announce { position, estimated_wait } = &notice {
                        info!(call_id = self.call.call_id, position, wait_s = estimated_wait.as_secs(), "position announced");
                    }
                    machine.handle(Input::Queue(notice), now());
                }
                event = media_events.recv() => match event {
                    Some(event) => {
                        if let Some(input) = self.caller_media(event) {
                            machine.handle(input, now());
                        }
                    }
                    None => std::future::pending::<()>().await,
                },
                event = or_pending(self.bridged.as_mut().map(|b| b.events.recv())) => {
                    if let Some(input) = self.seat_media(event) {
                        machine.handle(input, now());
                    }
                }
                Some(generation) = player.done.recv() => {
                    if generation == player.generation {
                        machine.handle(Input::PlayDone, now());
                    }
                }
                _ = staffing.tick(), if waiting_on.is_some() => {
                    let platform = waiting_on.expect("checked");
                    if !self.call.services.dialplan().is_staffed(&platform, Utc::now()) {
                        let seats_signed_in = self.call.services.queue.snapshot().await.is_some_and(|s| {
                            s.agents.iter().any(|a| a.platform == platform && a.state != AgentState::LoggedOut)
                        });
                        machine.handle(Input::Staffing { open: false, seats_signed_in }, now());
                    }
                }
                _ = or_pending(deadline.map(tokio::time::sleep_until)) => machine.handle_timeout(now()),
            }
        }
    }

    /// The caller's media events: audio (only while a message is recorded: a bridge relays in
    /// the receive task), keys (passed on to a bridged seat) and the media timeout.
    fn caller_media(&mut self, event: MediaEvent) -> Option<Input> {
        match event {
            MediaEvent::Audio { samples } => {
                // While bridged the receive task relays and records the audio itself (see
                // `MediaSession::relay_to`); what was queued before is not relayed late.
                let message = self.message.as_mut()?;
                if let Err(e) = message.rec.write(&samples) {
                    error!(call_id = self.call.call_id, error = %e, "voice message not written");
                    return Some(Input::MediaTimeout);
                }
                super::voicemail::is_voice(&samples).then_some(Input::Voice)
            }
            MediaEvent::Dtmf { digit } => {
                info!(call_id = self.call.call_id, %digit, "DTMF received");
                if let Some(leg) = self.bridged.as_ref().and_then(|b| self.legs.get(&b.leg)) {
                    leg.media.send_dtmf(digit);
                }
                Some(Input::Dtmf(digit))
            }
            MediaEvent::Timeout => {
                warn!(call_id = self.call.call_id, "no RTP from the caller");
                Some(Input::MediaTimeout)
            }
        }
    }

    /// The bridged seat's media events: keys, passed on to the caller, and the media timeout
    /// (its audio is relayed and recorded by its receive task).
    fn seat_media(&mut self, event: Option<MediaEvent>) -> Option<Input> {
        let bridged = self.bridged.as_mut()?;
        match event {
            // Not sent: a seat's session never wants audio events.
            Some(MediaEvent::Audio { .. }) => None,
            Some(MediaEvent::Dtmf { digit }) => {
                self.media.send_dtmf(digit);
                None
            }
            Some(MediaEvent::Timeout) | None => Some(Input::Seat {
                leg: bridged.leg,
                event: SeatEvent::MediaTimeout,
            }),
        }
    }

    /// A signal about a seat's leg, or the API's transfer, as an input.
    fn seat_signal(&mut self, signal: CallSignal) -> Option<Input> {
        let services = self.call.services;
        match signal {
            CallSignal::AgentResponse(resp) => {
                let leg_call_id = message::call_id(&*resp).unwrap_or_default();
                let Some(&id) = self.leg_ids.get(&leg_call_id) else {
                    // A leg let go while this response was on its way to us.
                    services.answer_late(&resp);
                    return None;
                };
                let leg = self.legs.get_mut(&id)?;
                let code = resp.status_code.code();
                if code < 200 || message::cseq(&*resp).is_none_or(|(_, m)| m != "INVITE") {
                    return None;
                }
                if leg.is_answered() {
                    if code < 300 {
                        leg.ack_again(services, &resp);
                    }
                    return None;
                }
                let event = if code >= 300 {
                    info!(
                        call_id = self.call.call_id,
                        agent = leg.agent,
                        code,
                        "seat did not take the call"
                    );
                    SeatEvent::Declined(code)
                } else {
                    match leg.answered(services, &resp) {
                        Ok(()) => {
                            store_answer(services, leg_call_id.clone());
                            SeatEvent::Answered
                        }
                        Err(e) => {
                            warn!(call_id = self.call.call_id, agent = leg.agent, error = %e, "seat's answer unusable");
                            SeatEvent::Unusable
                        }
                    }
                };
                Some(Input::Seat { leg: id, event })
            }
            CallSignal::Phone { call_id, event } => {
                let id = *self.leg_ids.get(&call_id)?;
                let leg = self.legs.get_mut(&id)?;
                let event = match event {
                    PhoneEvent::Answered {
                        codec,
                        telephone_event_pt,
                    } => match leg.answered_in_browser(services, codec, telephone_event_pt) {
                        Ok(()) => {
                            store_answer(services, call_id);
                            SeatEvent::Answered
                        }
                        Err(e) => {
                            warn!(call_id = self.call.call_id, error = %e, "browser answer unusable");
                            SeatEvent::Unusable
                        }
                    },
                    PhoneEvent::Declined => SeatEvent::Declined(603),
                    PhoneEvent::HungUp => SeatEvent::Bye,
                    PhoneEvent::Failed if leg.is_answered() => SeatEvent::MediaTimeout,
                    PhoneEvent::Failed => SeatEvent::Declined(480),
                };
                info!(
                    call_id = self.call.call_id,
                    agent = leg.agent,
                    ?event,
                    "browser phone"
                );
                Some(Input::Seat { leg: id, event })
            }
            CallSignal::AgentTimeout { call_id } => {
                let leg = *self.leg_ids.get(&call_id)?;
                Some(Input::Seat {
                    leg,
                    event: SeatEvent::NoResponse,
                })
            }
            CallSignal::AgentBye { key, request } => {
                let leg = self.hold_request(key, *request)?;
                Some(Input::Seat {
                    leg,
                    event: SeatEvent::Bye,
                })
            }
            CallSignal::AgentRefer { key, request } => {
                let target = message::header_value(&*request, "Refer-To")
                    .as_deref()
                    .and_then(message::uri_user);
                let leg = self.hold_request(key, *request)?;
                let to = match target {
                    None => Err(ReferRefusal {
                        status: 400,
                        warning: "Refer-To is missing".into(),
                    }),
                    Some(target) => super::transfer::resolve(
                        &services.dialplan(),
                        &self.queue,
                        &target,
                    )
                    .map_err(|refused| {
                        info!(call_id = self.call.call_id, %target, %refused, "transfer refused");
                        ReferRefusal {
                            status: 403,
                            warning: refused.to_string(),
                        }
                    }),
                };
                Some(Input::Seat {
                    leg,
                    event: SeatEvent::Refer(to),
                })
            }
            CallSignal::Hold { on, reply } => {
                self.hold_reply = Some(reply);
                Some(Input::Hold(on))
            }
            CallSignal::Transfer { to, by, reply } => {
                let to = super::transfer::resolve(&services.dialplan(), &self.queue, &to);
                self.transfer_reply = Some(reply);
                Some(Input::Transfer { to, by })
            }
            CallSignal::Ack | CallSignal::Bye { .. } | CallSignal::Cancel | CallSignal::Timeout => {
                None
            }
        }
    }

    /// Keeps a seat's request for the machine's answer; one on a leg we do not know gets 481.
    fn hold_request(&mut self, key: TransactionKey, request: rsip::Request) -> Option<LegId> {
        let leg_call_id = message::call_id_of(&request).unwrap_or_default();
        match self.leg_ids.get(&leg_call_id) {
            Some(&leg) => {
                self.requests
                    .entry(leg)
                    .or_default()
                    .push_back((key, request));
                Some(leg)
            }
            None => {
                let response = response_for(
                    &request,
                    rsip::StatusCode::CallTransactionDoesNotExist,
                    None,
                );
                self.call.services.endpoint.respond(&key, response);
                None
            }
        }
    }

    /// Performs one output; the cause when it ends the call.
    async fn perform(&mut self, output: Output, player: &mut Player) -> Option<EndCause> {
        let services = self.call.services;
        let call_id = self.call.call_id;
        let prompts =
            |names: Vec<String>| names.into_iter().filter_map(|n| services.prompts.get(&n));
        match output {
            Output::Play(names) => {
                player.generation = self.media.play_list(prompts(names).collect());
            }
            Output::Enqueue(names) => self.media.enqueue(prompts(names).collect()),
            Output::Hold(name) => self.media.hold(name.and_then(|n| services.prompts.get(&n))),
            Output::JoinQueue(queue) => {
                self.notices = Some(services.queue.join(call_id, &queue));
                self.joined_at = Some(Instant::now());
                self.queue = queue;
            }
            Output::Acd(event) => services.queue.event(event),
            Output::Dial { leg, agent } => {
                let call = CallInfo {
                    call_id: call_id.to_string(),
                    case_number: self.case_number.to_string(),
                    caller: super::identity::call_identity(self.call.request).caller,
                    platform: self.platform.clone(),
                    platform_name: self
                        .call
                        .dialplan
                        .router
                        .platform(&self.platform)
                        .map(|p| p.name_zh.clone())
                        .unwrap_or_default(),
                    queue: self.queue.clone(),
                    waited_seconds: self.joined_at.map_or(0, |t| t.elapsed().as_secs()),
                    phone: "sip",
                };
                match AgentLeg::dial(services, &agent, call, self.call.local_ip(), &self.call.me)
                    .await
                {
                    Ok(seat) => {
                        if let Err(e) = services
                            .store
                            .leg_rang(call_id, &seat.call_id, &agent, Utc::now())
                            .await
                        {
                            warn!(call_id, %agent, error = %e, "seat's leg not stored");
                        }
                        self.leg_ids.insert(seat.call_id.clone(), leg);
                        self.legs.insert(leg, seat);
                    }
                    Err(e) => {
                        warn!(call_id, %agent, error = %e, "cannot ring the seat");
                        self.inputs.push_back(Input::Seat {
                            leg,
                            event: SeatEvent::DialFailed,
                        });
                    }
                }
            }
            Output::CancelLeg(leg) => {
                if let Some(seat) = self.legs.get(&leg) {
                    seat.cancel(services).await;
                }
            }
            Output::HangUpLeg(leg) => {
                if let Some(seat) = self.legs.get_mut(&leg) {
                    seat.hang_up(services).await;
                }
            }
            Output::NotifyTransferred(leg) => {
                if let Some(seat) = self.legs.get_mut(&leg) {
                    seat.notify_transfer(services, "200 OK").await;
                }
            }
            Output::AnswerLeg { leg, reply } => {
                if let Some((key, request)) =
                    self.requests.get_mut(&leg).and_then(VecDeque::pop_front)
                {
                    services.endpoint.respond(&key, leg_reply(&request, reply));
                }
            }
            Output::ReleaseLeg { leg, outcome } => self.release(leg, &outcome).await,
            Output::Bridge(leg) => {
                self.media.stop_playing();
                if let Some(seat) = self.legs.get(&leg) {
                    info!(
                        call_id,
                        agent = seat.agent,
                        queue = self.queue,
                        phone = seat.phone_kind(),
                        "caller and operator connected"
                    );
                    // The seat's DTMF and media timeout (its audio is relayed by its receive
                    // task, and was never queued while the greeting played).
                    let events = seat.media.events();
                    let recordings =
                        Recordings::start(services, call_id, seat, &self.queue, self.case_number)
                            .await;
                    relay_both(self.media, seat, &recordings);
                    self.bridged = Some(Bridged {
                        leg,
                        events,
                        recordings,
                    });
                }
            }
            Output::Unbridge => self.unbridge().await,
            Output::HoldCaller => {
                info!(call_id, "caller on hold");
                self.media.stop_relay();
                if let Some(seat) = self.bridged.as_ref().and_then(|b| self.legs.get(&b.leg)) {
                    seat.media.stop_relay();
                }
            }
            Output::ResumeCaller => {
                info!(call_id, "caller taken back from hold");
                self.media.stop_playing();
                if let Some(bridged) = &self.bridged {
                    if let Some(seat) = self.legs.get(&bridged.leg) {
                        relay_both(self.media, seat, &bridged.recordings);
                    }
                }
            }
            Output::ReplyHold(result) => {
                if let Some(reply) = self.hold_reply.take() {
                    let _ = reply.send(result);
                }
            }
            Output::RequestCallback => {
                if let Err(e) = services
                    .store
                    .request_callback(call_id, "abandoned", Utc::now())
                    .await
                {
                    error!(call_id, error = %e, "callback not requested");
                }
            }
            Output::Escalate { to, by } => {
                super::transfer::escalate_with_call(services, self.case_number, &by, &to).await
            }
            Output::ReplyTransfer(result) => {
                if let Some(reply) = self.transfer_reply.take() {
                    let _ = reply.send(result);
                }
            }
            Output::StartMessage { platform } => {
                // The caller speaks from the beep's end: take the audio from then on, while
                // the message's row is made durable (on a loaded database that took 3 s, and
                // the start of what was said was lost). It waits in the media events (10 s
                // of room) and is written once the recording exists.
                self.media.want_audio(true);
                match super::voicemail::start(self.call, &platform, self.case_number).await {
                    Some((id, rec)) => self.message = Some(Message { id, platform, rec }),
                    None => {
                        self.media.want_audio(false);
                        self.inputs.push_back(Input::MessageFailed);
                    }
                }
            }
            Output::DiscardMessage => {
                self.media.want_audio(false);
                if let Some(message) = self.message.take() {
                    info!(call_id, "caller re-records the message");
                    let _ = message.rec.discard();
                    let _ = services.store.discard_voicemail(message.id).await;
                }
            }
            Output::FinishMessage { voiced } => {
                self.media.want_audio(false);
                if let Some(message) = self.message.take() {
                    super::voicemail::keep_or_drop(
                        self.call,
                        &message.platform,
                        message.id,
                        message.rec,
                        voiced,
                    )
                    .await;
                }
            }
            Output::HangUpCaller => self.call.send_bye(self.dialog, self.call.local_ip()).await,
            Output::End(cause) => return Some(cause),
        }
        None
    }

    /// Stops the relay both ways and seals the recordings.
    async fn unbridge(&mut self) {
        let Some(bridged) = self.bridged.take() else {
            return;
        };
        self.media.stop_relay();
        if let Some(seat) = self.legs.get(&bridged.leg) {
            seat.media.stop_relay();
        }
        bridged.recordings.finish(self.call.services).await;
    }

    /// Stores a leg's outcome and lets go of it; requests it still holds get 481.
    async fn release(&mut self, leg: LegId, outcome: &str) {
        let services = self.call.services;
        for (key, request) in self.requests.remove(&leg).unwrap_or_default() {
            services
                .endpoint
                .respond(&key, leg_reply(&request, LegReply::NoDialog));
        }
        let Some(seat) = self.legs.remove(&leg) else {
            return;
        };
        self.leg_ids.remove(&seat.call_id);
        if let Err(e) = services
            .store
            .leg_ended(&seat.call_id, outcome, Utc::now())
            .await
        {
            warn!(call_id = self.call.call_id, leg = seat.call_id, error = %e, "seat leg's end not stored");
        }
        seat.release(services);
    }

    /// At the end: nothing may stay behind (the machine releases every leg; this is the net).
    async fn let_go_all(&mut self) {
        self.unbridge().await;
        let legs: Vec<LegId> = self.legs.keys().copied().collect();
        for leg in legs {
            self.release(leg, "call-ended").await;
        }
    }
}

/// Stores the seat's answer of leg `leg_call_id` without holding up the call.
fn store_answer(services: &super::services::CallServices, leg_call_id: String) {
    let store = services.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.leg_answered(&leg_call_id, Utc::now()).await {
            warn!(leg = leg_call_id, error = %e, "seat's answer not stored");
        }
    });
}

/// From here audio goes socket to socket in the receive tasks, both ways, each side recorded.
fn relay_both(caller: &MediaSession, seat: &AgentLeg, recordings: &Recordings) {
    caller.relay_to(&seat.media, recordings.queue(0));
    seat.media.relay_to(caller, recordings.queue(1));
}

/// The SIP answer to a seat's BYE or REFER.
fn leg_reply(request: &rsip::Request, reply: LegReply) -> rsip::Response {
    let (status, warning) = match reply {
        LegReply::Ok => (rsip::StatusCode::OK, None),
        LegReply::NoDialog => (rsip::StatusCode::CallTransactionDoesNotExist, None),
        // Not rsip's `StatusCode::Accepted`: rsip 0.4 gives that the code 201.
        LegReply::Accepted => (rsip::StatusCode::Other(202, "Accepted".into()), None),
        LegReply::Refused(r) => (rsip::StatusCode::from(r.status), Some(r.warning)),
    };
    let mut response = response_for(request, status, None);
    if let Some(w) = warning {
        response.headers.push(rsip::Header::Other(
            "Warning".into(),
            format!("399 hotline12345 \"{}\"", w.replace('"', "'")),
        ));
    }
    response
}

/// Waits for `future`, or for ever when there is none (a select branch with nothing to wait
/// for yet: no queue joined, no seat bridged, no deadline).
async fn or_pending<T>(future: Option<impl std::future::Future<Output = T>>) -> T {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}
