//! The edge of one answered call: it feeds the pure [`Call`] machine with what the caller, the
//! legs, the media, the ACD, the API and the clock do, and performs every output the machine
//! asks for (SIP to seats and out over trunks, prompts, who hears whom, recordings, store
//! writes, ACD events). The rules are in `flow/`; this file only translates.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::agent_leg::AgentLeg;
use super::context::InboundCall;
use super::directory::SignalRx;
use super::flow::{
    Action, Call, Dest, Hotline, Input, LegId, LookedUp, Output, Party, ReferRefusal, SeatEvent,
};
use super::legs::Legs;
use super::queue::QueueNotice;
use super::recording::Recordings;
use super::room::Room;
use super::signal::{CallDescription, CallRequest, CallSignal, EndCause, TransferTarget};
use crate::acd::AgentState;
use crate::cases::workflow::Actor;
use crate::media::recorder::WavRecorder;
use crate::media::session::{MediaEvent, MediaSession};
use crate::phone::signal::CallInfo;
use crate::routing::TransferRefused;
use crate::sip::dialog::Dialog;
use crate::sip::message;

/// What the caller hears: lists of prompts played by the media pacer, which reports each
/// list's end with its generation; only the end of the latest list is the machine's PlayDone.
struct Player {
    generation: u64,
    done: mpsc::Receiver<u64>,
}

/// The leg the caller talks with (an operator, another hotline), and both sides' recordings.
struct Bridged {
    leg: LegId,
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
    legs: Legs,
    notices: Option<mpsc::UnboundedReceiver<QueueNotice>>,
    queue: String,
    /// When the caller joined the queue, for the pop-up's waiting time.
    joined_at: Option<Instant>,
    /// The platform that took the call.
    platform: String,
    bridged: Option<Bridged>,
    /// Who hears whom.
    room: Room,
    message: Option<Message>,
    transfer_reply: Option<oneshot::Sender<Result<TransferTarget, TransferRefused>>>,
    hold_reply: Option<oneshot::Sender<Result<bool, &'static str>>>,
    action_reply: Option<oneshot::Sender<Result<&'static str, String>>>,
    /// Consultations asked so far (each reserves its seat under its own name).
    consultations: u32,
    /// A colleague's leg taken over from a seat-to-seat call (REFER with Replaces), with the
    /// reservation of its seat, until the machine adopts it.
    adopting: Option<(AgentLeg, String)>,
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
            legs: Legs::default(),
            notices: None,
            queue: String::new(),
            joined_at: None,
            platform: String::new(),
            bridged: None,
            room: Room::default(),
            message: None,
            transfer_reply: None,
            hold_reply: None,
            action_reply: None,
            consultations: 0,
            adopting: None,
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
            // A request the machine did not answer is dropped: the API says the caller is not
            // talking with an operator.
            self.transfer_reply = None;
            self.hold_reply = None;
            self.action_reply = None;
            // A colleague's leg the machine did not adopt is hung up, its seat let go.
            if let Some((mut leg, reservation)) = self.adopting.take() {
                let services = self.call.services;
                leg.hang_up(services).await;
                leg.release(services);
                services
                    .queue
                    .event(crate::acd::AcdEvent::Released { call: reservation });
            }
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
                        Some(CallSignal::Describe { reply }) => {
                            let _ = reply.send(CallDescription {
                                call_id: self.call.call_id.to_string(),
                                case_number: self.case_number.to_string(),
                                phase: machine.phase(),
                                parties: machine.parties(),
                            });
                            None
                        }
                        Some(signal) => self.seat_signal(signal).await,
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
                (leg, event) = self.legs.media_event() => {
                    if let Some(input) = self.leg_media(leg, event) {
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
    /// the receive task), keys (passed on to the leg the caller talks with) and the media
    /// timeout.
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
                if let Some(leg) = self.bridged.as_ref().and_then(|b| self.legs.get(b.leg)) {
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

    /// A leg's media events: keys of the leg the caller talks with go to the caller; a leg
    /// silent for the media timeout is the machine's (its audio is relayed by its receive
    /// task).
    fn leg_media(&mut self, leg: LegId, event: Option<MediaEvent>) -> Option<Input> {
        self.legs.get(leg)?;
        match event {
            Some(MediaEvent::Audio { .. }) => None,
            Some(MediaEvent::Dtmf { digit }) => {
                if self.bridged.as_ref().is_some_and(|b| b.leg == leg) {
                    self.media.send_dtmf(digit);
                }
                None
            }
            Some(MediaEvent::Timeout) | None => Some(Input::Seat {
                leg,
                event: SeatEvent::MediaTimeout,
            }),
        }
    }

    /// A signal about a leg, or a request of the API, as an input.
    async fn seat_signal(&mut self, signal: CallSignal) -> Option<Input> {
        let services = self.call.services;
        let owner = self.call.call_id;
        let signal = match self.legs.on_signal(services, signal, owner).await {
            Ok(seen) => return seen.map(|(leg, event)| Input::Seat { leg, event }),
            Err(other) => other,
        };
        match signal {
            CallSignal::AgentRefer { key, request } => {
                let refer_to = message::header_value(&*request, "Refer-To");
                let target = refer_to.as_deref().and_then(message::uri_user);
                let leg = self.legs.hold_request(services, key, *request)?;
                if let Some((dialog, to_tag, from_tag)) =
                    refer_to.as_deref().and_then(message::replaces_of)
                {
                    return Some(Input::Seat {
                        leg,
                        event: self.take_over(&dialog, &to_tag, &from_tag).await,
                    });
                }
                let to = match target {
                    None => Err(ReferRefusal {
                        status: 400,
                        warning: "Refer-To is missing".into(),
                    }),
                    Some(target) => {
                        super::transfer::resolve(&services.dialplan(), &self.queue, &target)
                            .map_err(|refused| {
                                info!(call_id = owner, %target, %refused, "transfer refused");
                                ReferRefusal {
                                    status: 403,
                                    warning: refused.to_string(),
                                }
                            })
                    }
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
            CallSignal::Request { request, by, reply } => match self.resolve(request, by).await {
                Ok(action) => {
                    self.action_reply = Some(reply);
                    Some(Input::Action(action))
                }
                Err(why) => {
                    let _ = reply.send(Err(why));
                    None
                }
            },
            CallSignal::TakeOver { reply, .. } => {
                // A caller's call gives no leg away.
                let _ = reply.send(None);
                None
            }
            CallSignal::Ack
            | CallSignal::Bye { .. }
            | CallSignal::Cancel
            | CallSignal::Timeout
            | CallSignal::Describe { .. } => None,
            // Taken by `Legs::on_signal` above.
            CallSignal::AgentResponse(_)
            | CallSignal::Phone { .. }
            | CallSignal::AgentTimeout { .. }
            | CallSignal::AgentBye { .. } => None,
        }
    }

    /// An attended transfer from the operator's softphone: takes the colleague's leg over
    /// from the seat-to-seat call the Replaces names; the machine's event.
    async fn take_over(&mut self, dialog: &str, to_tag: &str, from_tag: &str) -> SeatEvent {
        let services = self.call.services;
        let refused = |warning: &str| {
            SeatEvent::Refer(Err(ReferRefusal {
                status: 481,
                warning: warning.into(),
            }))
        };
        let Some(taken) = services.calls.take_over(dialog, from_tag, to_tag).await else {
            info!(
                call_id = self.call.call_id,
                dialog, "REFER with Replaces names no call to take over"
            );
            return refused("no answered call to a colleague is named by Replaces");
        };
        let Ok(leg) = taken.leg.downcast::<AgentLeg>() else {
            return refused("the call named cannot be taken over");
        };
        info!(
            call_id = self.call.call_id,
            dialog,
            colleague = taken.agent,
            "attended transfer: the colleague's leg is taken over"
        );
        self.adopting = Some((*leg, taken.reservation.clone()));
        SeatEvent::Replaces {
            agent: taken.agent,
            reservation: taken.reservation,
        }
    }

    /// The API's request, resolved against the dialplan and the ACD, as the machine's action.
    async fn resolve(&mut self, request: CallRequest, by: Actor) -> Result<Action, String> {
        let services = self.call.services;
        let plan = services.dialplan();
        Ok(match request {
            CallRequest::HandOver {
                number,
                three_party,
                also_ours,
            } => {
                let hotline = plan
                    .hotlines
                    .get(&number)
                    .ok_or_else(|| format!("no hotline {number} in hotlines.toml"))?;
                if plan.trunks.for_platform(&self.platform).is_none() {
                    return Err(format!(
                        "no trunk in trunks.toml serves platform {}",
                        self.platform
                    ));
                }
                Action::HandOver {
                    hotline: Hotline {
                        number: hotline.number.clone(),
                        name: hotline.name.clone(),
                        dial: hotline.dial_for(&self.platform).to_string(),
                    },
                    three_party,
                    also_ours,
                    by,
                }
            }
            CallRequest::Leave => Action::Leave { by },
            CallRequest::Consult { to } => {
                self.consultations += 1;
                let reservation = format!("{}#consult-{}", self.call.call_id, self.consultations);
                let agent = if plan.seats.iter().any(|s| s.id == to) {
                    services
                        .queue
                        .reserve(&reservation, &to)
                        .await
                        .map_err(|e| format!("seat {to} cannot take a consultation now: {e}"))?;
                    to
                } else if let Some(queue) = plan.queues.get(&to) {
                    services
                        .queue
                        .pick_for(&reservation, &queue.platform)
                        .await
                        .ok_or_else(|| format!("no seat of {to} is free now"))?
                } else {
                    return Err(format!("{to} is neither a seat nor a queue"));
                };
                Action::Consult {
                    agent,
                    reservation,
                    by,
                }
            }
            CallRequest::CompleteConsult => Action::CompleteConsult { by },
            CallRequest::CancelConsult => Action::CancelConsult { by },
            CallRequest::Monitor { mode, seat } => Action::Monitor { seat, mode, by },
            CallRequest::StopMonitor => Action::StopMonitor { by },
        })
    }

    /// Calls a seat or a number for the machine's leg `leg`.
    async fn dial(&mut self, leg: LegId, to: Dest) {
        let services = self.call.services;
        let call_id = self.call.call_id;
        let dialled = match &to {
            Dest::Seat(agent) => {
                let call = CallInfo {
                    call_id: call_id.to_string(),
                    case_number: self.case_number.to_string(),
                    caller: super::identity::call_identity(self.call.request).caller,
                    platform: self.platform.clone(),
                    platform_name: self.call.dialplan.platform_name(&self.platform),
                    queue: self.queue.clone(),
                    waited_seconds: self.joined_at.map_or(0, |t| t.elapsed().as_secs()),
                    phone: "sip",
                };
                AgentLeg::dial(services, agent, call, self.call.local_ip(), &self.call.me).await
            }
            Dest::Number(number) => {
                AgentLeg::dial_number(
                    services,
                    number,
                    &self.platform,
                    self.call.local_ip(),
                    &self.call.me,
                )
                .await
            }
        };
        match dialled {
            Ok(placed) => {
                if let Err(e) = services
                    .store
                    .leg_rang(call_id, &placed.call_id, &placed.agent, Utc::now())
                    .await
                {
                    warn!(call_id, to = placed.agent, error = %e, "leg not stored");
                }
                self.legs.insert(leg, placed);
            }
            Err(e) => {
                warn!(call_id, ?to, error = %e, "cannot place the leg");
                self.inputs.push_back(Input::Seat {
                    leg,
                    event: SeatEvent::DialFailed,
                });
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
            Output::Dial { leg, to } => self.dial(leg, to).await,
            Output::CancelLeg(leg) => {
                if let Some(seat) = self.legs.get(leg) {
                    seat.cancel(services).await;
                }
            }
            Output::HangUpLeg(leg) => {
                if let Some(seat) = self.legs.get_mut(leg) {
                    seat.hang_up(services).await;
                }
            }
            Output::NotifyTransferred(leg) => {
                if let Some(seat) = self.legs.get_mut(leg) {
                    seat.notify_transfer(services, "200 OK").await;
                }
            }
            Output::AnswerLeg { leg, reply } => self.legs.answer(services, leg, reply),
            Output::Adopt(leg) => {
                if let Some((adopted, _)) = self.adopting.take() {
                    // Its SIP now comes to this call.
                    services
                        .legs
                        .lock()
                        .expect("legs")
                        .insert(adopted.call_id.clone(), self.call.me.clone());
                    let (leg_call_id, agent) = (adopted.call_id.clone(), adopted.agent.clone());
                    self.legs.insert(leg, adopted);
                    self.legs.watch_media(leg);
                    let now = Utc::now();
                    if let Err(e) = services
                        .store
                        .leg_rang(call_id, &leg_call_id, &agent, now)
                        .await
                    {
                        warn!(call_id, error = %e, "adopted leg not stored");
                    }
                    if let Err(e) = services.store.leg_answered(&leg_call_id, now).await {
                        warn!(call_id, error = %e, "adopted leg's answer not stored");
                    }
                }
            }
            Output::ReleaseLeg { leg, outcome } => {
                self.legs.release(services, leg, &outcome, call_id).await
            }
            Output::Bridge(leg) => self.bridge(leg).await,
            Output::Unbridge => self.unbridge().await,
            Output::Room(members) => {
                let parties = members.len();
                self.perform_room(members);
                info!(
                    call_id,
                    parties,
                    mixed = self.room.mixed(),
                    "who hears whom"
                );
            }
            Output::ReplyHold(result) => {
                if let Some(reply) = self.hold_reply.take() {
                    let _ = reply.send(result);
                }
            }
            Output::ReplyAction(result) => {
                if let Some(reply) = self.action_reply.take() {
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
            Output::HandedOver {
                hotline,
                also_ours,
                by,
            } => {
                super::transfer::hand_over_case(
                    services,
                    self.case_number,
                    &by,
                    &hotline,
                    also_ours,
                )
                .await
            }
            Output::Audit { by, action, detail } => {
                info!(call_id, by = by.id, action, detail, "call audit");
                if let Err(e) = services
                    .store
                    .audit_call(call_id, &by, action, &detail, Utc::now())
                    .await
                {
                    warn!(call_id, error = %e, "audit step not stored");
                }
            }
            Output::Rate(rating) => {
                info!(call_id, rating, "the caller rated the call");
                if let Err(e) = services.store.rate_call(call_id, rating).await {
                    warn!(call_id, error = %e, "rating not stored");
                }
            }
            Output::SelfService => {
                info!(call_id, "the caller looks up a case: out of the queue");
                services.queue.self_service(call_id);
                self.notices = None;
            }
            Output::LookUp(digits) => {
                let found = self.look_up(&digits).await;
                info!(call_id, found = found.is_some(), "progress lookup");
                self.inputs.push_back(Input::LookedUp(found));
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

    /// The caller and `leg` talk from now on: the prompts stop, both sides are recorded.
    async fn bridge(&mut self, leg: LegId) {
        let services = self.call.services;
        let call_id = self.call.call_id;
        self.media.stop_playing();
        let Some(seat) = self.legs.get(leg) else {
            return;
        };
        info!(
            call_id,
            agent = seat.agent,
            queue = self.queue,
            phone = seat.phone_kind(),
            "caller connected"
        );
        let recording_queue = if self.queue.is_empty() {
            self.platform.clone()
        } else {
            self.queue.clone()
        };
        let recordings =
            Recordings::start(services, call_id, seat, &recording_queue, self.case_number).await;
        self.bridged = Some(Bridged { leg, recordings });
        let everyone = |party| super::flow::Member {
            party,
            heard_by: super::flow::Hearers::Everyone,
            hears: true,
        };
        self.perform_room(vec![everyone(Party::Caller), everyone(Party::Leg(leg))]);
        // A caller who got through is no longer owed the callbacks of their earlier calls.
        let caller = crate::routing::normalize_number(
            &super::identity::call_identity(self.call.request).caller,
        )
        .unwrap_or_default();
        let store = services.store.clone();
        let id = call_id.to_string();
        tokio::spawn(async move {
            match store.settle_callbacks_of(&caller, &id, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => info!(
                    call_id = id,
                    settled = n,
                    "the caller called again: callbacks owed are done"
                ),
                Err(e) => warn!(call_id = id, error = %e, "callbacks owed not settled"),
            }
        });
    }

    /// Makes `members` the room (relayed, or mixed), each side recorded as it talks.
    fn perform_room(&mut self, members: Vec<super::flow::Member>) {
        let legs = &self.legs;
        let media = self.media;
        let bridged = self.bridged.as_ref();
        self.room.apply(&members, legs.sessions(Some(media)), |p| {
            let b = bridged?;
            match p {
                Party::Caller => b.recordings.queue(0),
                Party::Leg(l) if l == b.leg => b.recordings.queue(1),
                Party::Leg(_) => None,
            }
        });
    }

    /// Stops every relay and mix, and seals the recordings.
    async fn unbridge(&mut self) {
        let legs = &self.legs;
        let media = self.media;
        self.room.clear(legs.sessions(Some(media)));
        if let Some(bridged) = self.bridged.take() {
            bridged.recordings.finish(self.call.services).await;
        }
    }

    /// Looks among the caller's own cases for the one whose number has these digits (all 20,
    /// or the last 14: date and sequence): its state and the deadline in force.
    async fn look_up(&self, digits: &str) -> Option<LookedUp> {
        let services = self.call.services;
        let caller = crate::routing::normalize_number(
            &super::identity::call_identity(self.call.request).caller,
        )?;
        if caller.is_empty() || digits.len() < 14 {
            return None;
        }
        let cases = services.store.cases_by_caller(&caller).await.ok()?;
        let case = cases.into_iter().find(|c| {
            let own: String = c.case_number.chars().filter(char::is_ascii_digit).collect();
            own == digits || (digits.len() == 14 && own.ends_with(digits))
        })?;
        let stored = services.store.load_case(&case.case_number).await.ok()??;
        let plan = services.dialplan();
        let d = stored.case.deadlines;
        let due = d
            .handle
            .or(d.sign)
            .or(d.dispatch)
            .filter(|_| !matches!(case.state.as_str(), "closed" | "published" | "not-accepted"))
            .map(|deadline| {
                let local = deadline.at.with_timezone(&plan.time_zone);
                (
                    chrono::Datelike::month(&local),
                    chrono::Datelike::day(&local),
                )
            });
        Some(LookedUp {
            state: case.state,
            due,
        })
    }

    /// At the end: nothing may stay behind (the machine releases every leg; this is the net).
    async fn let_go_all(&mut self) {
        self.unbridge().await;
        for leg in self.legs.ids() {
            self.legs
                .release(self.call.services, leg, "call-ended", self.call.call_id)
                .await;
        }
    }
}

/// Waits for `future`, or for ever when there is none (a select branch with nothing to wait
/// for yet: no queue joined, no seat bridged, no deadline).
pub(super) async fn or_pending<T>(future: Option<impl std::future::Future<Output = T>>) -> T {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}
