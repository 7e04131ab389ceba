//! A staffed call: the caller waits in the platform's queue, or the one its menu led to
//! (greeting, hold music, position and wait announcements) while the ACD rings seats; the first seat that answers is bridged with the
//! caller, audio relayed both ways and recorded, one file per side.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::agent_leg::AgentLeg;
use super::context::{InboundCall, Waited};
use super::menu::Chosen;
use super::queue::QueueNotice;
use super::signal::{CallSignal, EndCause};
use super::transfer::TransferTarget;
use crate::acd::{AcdEvent, AgentState};
use crate::cases::workflow::{Actor, Role};
use crate::media::prompt::Prompt;
use crate::media::recorder::WavRecorder;
use crate::media::session::{MediaEvent, MediaSession};

/// The seat leg (Call-ID) a seat's request belongs to.
/// The prompt every call falls back to while it waits.
pub const HOLD_PROMPT: &str = "hold-music.wav";

fn signal_leg(signal: &CallSignal) -> Option<String> {
    match signal {
        CallSignal::AgentBye { request, .. } | CallSignal::AgentRefer { request, .. } => {
            crate::sip::message::call_id_of(request)
        }
        _ => None,
    }
}

/// How a bridged call ended.
#[derive(Debug)]
pub(super) enum Bridged {
    /// The call is over.
    Ended(EndCause),
    /// The operator transferred the caller, who now waits in another queue.
    Transferred(TransferTarget),
}

/// Why the bridge loop stopped.
enum BridgeEnd {
    /// Someone hung up (the cause; true when the operator's side ended).
    Hangup(EndCause, bool),
    /// A transfer was accepted: the operator's REFER (None), or the API's for this user.
    Transfer(TransferTarget, Option<Actor>),
}

/// How a caller comes to wait in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Entry {
    /// A new call: the greeting, the platform's menu if it has one, then its queue.
    Platform,
    /// Transferred by an operator into this queue: a short "transferring you" prompt.
    Transferred(String),
}

/// The prompt a transferred caller hears: 正在为您转接，请稍候。
pub const TRANSFER_PROMPT: &str = "transfer.wav";

/// The prompts of "N callers ahead of you, about M minutes".
fn announcement(call: &InboundCall<'_>, position: usize, wait: Duration) -> Vec<Prompt> {
    let prompts = &call.services.prompts;
    super::announce::position_and_wait(position, wait)
        .iter()
        .filter_map(|name| prompts.get(name))
        .collect()
}

impl InboundCall<'_> {
    /// Stores how a seat's leg ended; a store failure is logged and the call goes on.
    async fn leg_ended(&self, leg: &AgentLeg, outcome: &str) {
        if let Err(e) = self
            .services
            .store
            .leg_ended(&leg.call_id, outcome, Utc::now())
            .await
        {
            warn!(call_id = self.call_id, leg = leg.call_id, error = %e, "seat leg's end not stored");
        }
    }

    /// Waits in the queue until a seat answers, the caller leaves, or voicemail takes over.
    pub(super) async fn wait_in_queue(
        &self,
        signals: &mut mpsc::UnboundedReceiver<CallSignal>,
        media: &MediaSession,
        media_events: &mut mpsc::UnboundedReceiver<MediaEvent>,
        platform: &str,
        entry: &Entry,
    ) -> Waited {
        let prompts = &self.services.prompts;
        // A transferred caller goes straight to the queue; a new one may meet the platform's
        // menu, which chooses the queue and plays the greeting.
        let (queue_name, welcome) = match (entry, self.dialplan.queues.menus.get(platform)) {
            (Entry::Transferred(q), _) => (q.clone(), prompts.get(TRANSFER_PROMPT)),
            (Entry::Platform, Some(menu)) => {
                match self.choose_queue(signals, media, media_events, menu).await {
                    Chosen::Queue(q) => (q, None),
                    Chosen::Ended(cause) => return Waited::Ended(cause),
                }
            }
            (Entry::Platform, None) => (
                platform.to_string(),
                self.dialplan
                    .router
                    .platform(platform)
                    .and_then(|p| prompts.get(&p.welcome_prompt)),
            ),
        };
        let queue = &self.services.queue;
        let mut notices = queue.join(self.call_id, &queue_name);
        let hold = prompts.get(HOLD_PROMPT);
        let (announce_tx, mut announce_rx) = mpsc::unbounded_channel::<Vec<Prompt>>();
        let playback = async {
            if let Some(welcome) = welcome {
                media.play(welcome).await;
            }
            loop {
                while let Ok(announcement) = announce_rx.try_recv() {
                    for p in announcement {
                        media.play(p).await;
                    }
                }
                match &hold {
                    Some(hold) => media.play(hold.clone()).await,
                    None => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        };
        tokio::pin!(playback);
        let limit = tokio::time::sleep_until(self.hang_up_at);
        tokio::pin!(limit);
        let mut staffing = tokio::time::interval(Duration::from_secs(1));
        let mut legs: HashMap<String, AgentLeg> = HashMap::new();
        // Legs (Call-IDs) whose seat answered, and their requests held for the bridge.
        let mut answered: std::collections::HashSet<String> = Default::default();
        let mut deferred: Vec<CallSignal> = Vec::new();
        let caller = super::identity::call_identity(self.request).caller;

        let outcome = loop {
            tokio::select! {
                signal = signals.recv() => match signal {
                    Some(CallSignal::Bye { key, request }) => {
                        self.answer_bye(&key, &request);
                        queue.event(AcdEvent::CallAbandoned { call: self.call_id.into() });
                        // A caller who gave up waiting is owed a callback.
                        if let Err(e) = self.services.store.request_callback(self.call_id, "abandoned", Utc::now()).await {
                            error!(call_id = self.call_id, error = %e, "callback not requested");
                        }
                        break Waited::Ended(EndCause::CallerHangup);
                    }
                    Some(CallSignal::AgentResponse(resp)) => {
                        let code = resp.status_code.code();
                        let leg_id = crate::sip::message::call_id(&*resp).unwrap_or_default();
                        let Some(agent) = legs.values().find(|l| l.call_id == leg_id).map(|l| l.agent.clone()) else {
                            // A leg let go while this response was on its way to us.
                            self.services.answer_late(&resp);
                            continue;
                        };
                        if code < 200 {
                            continue;
                        }
                        if code < 300 {
                            let leg = legs.get_mut(&agent).expect("found above");
                            match leg.answered(self.services, &resp) {
                                Ok(()) => {
                                    answered.insert(leg_id.clone());
                                    if let Err(e) = self.services.store.leg_answered(&leg_id, Utc::now()).await {
                                        warn!(call_id = self.call_id, leg = leg_id, error = %e, "seat's answer not stored");
                                    }
                                    queue.event(AcdEvent::Answered { call: self.call_id.into(), agent })
                                }
                                Err(e) => {
                                    warn!(call_id = self.call_id, %agent, error = %e, "seat's answer unusable");
                                    let mut leg = legs.remove(&agent).expect("found above");
                                    leg.hang_up(self.services).await;
                                    self.leg_ended(&leg, "unusable answer").await;
                                    leg.release(self.services);
                                    queue.event(AcdEvent::Declined { call: self.call_id.into(), agent });
                                }
                            }
                        } else if let Some(leg) = legs.remove(&agent) {
                            info!(call_id = self.call_id, %agent, code, "seat did not take the call");
                            self.leg_ended(&leg, &format!("declined {code}")).await;
                            leg.release(self.services);
                            queue.event(AcdEvent::Declined { call: self.call_id.into(), agent });
                        }
                    }
                    Some(CallSignal::AgentTimeout { call_id }) => {
                        if let Some(agent) = legs.values().find(|l| l.call_id == call_id).map(|l| l.agent.clone()) {
                            if let Some(leg) = legs.remove(&agent) {
                                self.leg_ended(&leg, "no-response").await;
                                leg.release(self.services);
                            }
                            queue.event(AcdEvent::Declined { call: self.call_id.into(), agent });
                        }
                    }
                    // The seat that answered may hang up or transfer before the bridge is up:
                    // the bridge takes its requests, in order.
                    Some(signal @ (CallSignal::AgentBye { .. } | CallSignal::AgentRefer { .. }))
                        if signal_leg(&signal).is_some_and(|id| answered.contains(&id)) =>
                    {
                        deferred.push(signal);
                    }
                    Some(CallSignal::AgentRefer { key, request }) => {
                        // No dialog with that seat: nothing to transfer.
                        let response = crate::sip::message::response_for(
                            &request,
                            rsip::StatusCode::CallTransactionDoesNotExist,
                            None,
                        );
                        self.services.endpoint.respond(&key, response);
                    }
                    Some(CallSignal::AgentBye { key, request }) => {
                        let leg_id = crate::sip::message::call_id_of(&request).unwrap_or_default();
                        if let Some(agent) = legs.values().find(|l| l.call_id == leg_id).map(|l| l.agent.clone()) {
                            let leg = legs.remove(&agent).expect("found above");
                            leg.answer_bye(self.services, &key, &request);
                            self.leg_ended(&leg, "hung-up").await;
                            leg.release(self.services);
                            queue.event(AcdEvent::Declined { call: self.call_id.into(), agent });
                        }
                    }
                    Some(_) => {}
                    None => break Waited::Ended(EndCause::CallerHangup),
                },
                notice = notices.recv() => match notice {
                    Some(QueueNotice::Ring { agent }) => {
                        match AgentLeg::dial(self.services, &agent, &caller, self.local_ip(), &self.me).await {
                            Ok(leg) => {
                                if let Err(e) = self.services.store.leg_rang(self.call_id, &leg.call_id, &agent, Utc::now()).await {
                                    warn!(call_id = self.call_id, %agent, error = %e, "seat's leg not stored");
                                }
                                legs.insert(agent, leg);
                            }
                            Err(e) => {
                                warn!(call_id = self.call_id, %agent, error = %e, "cannot ring the seat");
                                queue.event(AcdEvent::Declined { call: self.call_id.into(), agent });
                            }
                        }
                    }
                    Some(QueueNotice::StopRinging { agent }) => {
                        // Its answer may have come in just before the ring timeout: then it
                        // is hung up (the ACD has moved on), else cancelled; the caller keeps
                        // its place.
                        if let Some(mut leg) = legs.remove(&agent) {
                            let ended = leg.give_up(self.services).await;
                            answered.remove(&leg.call_id);
                            let (its, others): (Vec<_>, Vec<_>) = deferred
                                .drain(..)
                                .partition(|s| signal_leg(s).as_deref() == Some(leg.call_id.as_str()));
                            deferred = others;
                            for signal in its {
                                match signal {
                                    CallSignal::AgentBye { key, request } => {
                                        leg.answer_bye(self.services, &key, &request)
                                    }
                                    CallSignal::AgentRefer { key, request } => self.services.endpoint.respond(
                                        &key,
                                        crate::sip::message::response_for(
                                            &request,
                                            rsip::StatusCode::CallTransactionDoesNotExist,
                                            None,
                                        ),
                                    ),
                                    _ => {}
                                }
                            }
                            leg.release(self.services);
                            self.leg_ended(&leg, if ended == "caller-gone" { "answered-too-late" } else { ended }).await;
                        }
                    }
                    Some(QueueNotice::Connect { agent }) => {
                        if let Some(leg) = legs.remove(&agent) {
                            for signal in deferred.drain(..) {
                                let _ = self.me.send(signal);
                            }
                            break Waited::Connected { leg: Box::new(leg), queue: queue_name.clone() };
                        }
                    }
                    Some(QueueNotice::Overflow) => {
                        info!(call_id = self.call_id, "waited too long: voicemail");
                        break Waited::Closed;
                    }
                    Some(QueueNotice::Announce { position, estimated_wait }) => {
                        info!(call_id = self.call_id, position, wait_s = estimated_wait.as_secs(), "position announced");
                        let _ = announce_tx.send(announcement(self, position, estimated_wait));
                    }
                    None => {}
                },
                event = media_events.recv() => match event {
                    Some(MediaEvent::Dtmf { digit }) => info!(call_id = self.call_id, %digit, "DTMF received"),
                    Some(MediaEvent::Timeout) => {
                        warn!(call_id = self.call_id, "no RTP from the caller: ending the call");
                        queue.event(AcdEvent::CallAbandoned { call: self.call_id.into() });
                        break Waited::Ended(EndCause::MediaTimeout);
                    }
                    Some(_) => {}
                    None => std::future::pending::<()>().await,
                },
                _ = staffing.tick() => {
                    // At closing time a caller is still answered while seats of the platform
                    // are signed in, and offered voicemail otherwise.
                    if !self.services.dialplan().is_staffed(platform, Utc::now()) {
                        let staffed = queue.snapshot().await.is_some_and(|s| {
                            s.agents.iter().any(|a| a.platform == platform && a.state != AgentState::LoggedOut)
                        });
                        if !staffed {
                            queue.event(AcdEvent::CallAbandoned { call: self.call_id.into() });
                            break Waited::Closed;
                        }
                    }
                }
                _ = &mut playback => {}
                _ = &mut limit => {
                    queue.event(AcdEvent::CallAbandoned { call: self.call_id.into() });
                    break Waited::Ended(EndCause::MaxDuration);
                }
            }
        };
        // A seat that answered but is not to be bridged is hung up (it was ACKed: a CANCEL
        // would not end its call); one still ringing is cancelled.
        let connected = matches!(outcome, Waited::Connected { .. });
        for (_, mut leg) in legs.drain() {
            let ended = leg.give_up(self.services).await;
            // The ACD already counts an answering seat as on this call: unless the call goes
            // on to another seat, the call ended, and the seat is free (it stayed on-call).
            if ended == "caller-gone" && !connected {
                queue.event(AcdEvent::CallEnded {
                    call: self.call_id.into(),
                    by_agent: false,
                });
            }
            self.leg_ended(&leg, ended).await;
            leg.release(self.services);
        }
        outcome
    }

    /// Relays audio between the caller and the seat, and records both sides, until either
    /// hangs up.
    pub(super) async fn bridge(
        &self,
        signals: &mut mpsc::UnboundedReceiver<CallSignal>,
        media: &MediaSession,
        caller_events: &mut mpsc::UnboundedReceiver<MediaEvent>,
        mut leg: AgentLeg,
        queue: &str,
        case_number: &str,
    ) -> Bridged {
        let platform = crate::dialplan::queues::platform_of_queue(queue);
        info!(
            call_id = self.call_id,
            agent = leg.agent,
            queue,
            "caller and operator connected"
        );
        let mut agent_events = leg.media.events();
        let mut recorders = Vec::new();
        for side in ["caller", "agent"] {
            let file = format!(
                "recordings/{platform}/{case_number}-{}-{side}.wav",
                Utc::now().timestamp_millis()
            );
            let store = &self.services.store;
            let id = store
                .start_recording(
                    self.call_id,
                    &leg.call_id,
                    &leg.agent,
                    side,
                    &file,
                    Utc::now(),
                )
                .await;
            let rec = WavRecorder::create(&self.services.data_dir.join(&file));
            match (id, rec) {
                (Ok(id), Ok(rec)) => recorders.push(Some((id, rec))),
                (id, rec) => {
                    error!(
                        call_id = self.call_id,
                        side,
                        ?id,
                        ok = rec.is_ok(),
                        "recording not started"
                    );
                    recorders.push(None);
                }
            }
        }
        let limit = tokio::time::sleep_until(self.hang_up_at);
        tokio::pin!(limit);
        let write =
            |recorders: &mut Vec<Option<(i64, WavRecorder)>>, side: usize, samples: &[i16]| {
                if let Some((_, rec)) = recorders[side].as_mut() {
                    if let Err(e) = rec.write(samples) {
                        error!(error = %e, "recording write failed");
                    }
                }
            };
        let end = loop {
            tokio::select! {
                event = caller_events.recv() => match event {
                    Some(MediaEvent::Audio { samples }) => {
                        leg.media.send_frame(&samples, Instant::now());
                        write(&mut recorders, 0, &samples);
                    }
                    Some(MediaEvent::Dtmf { digit }) => leg.media.send_dtmf(digit),
                    Some(MediaEvent::Timeout) | None => break BridgeEnd::Hangup(EndCause::MediaTimeout, false),
                },
                event = agent_events.recv() => match event {
                    Some(MediaEvent::Audio { samples }) => {
                        media.send_frame(&samples, Instant::now());
                        write(&mut recorders, 1, &samples);
                    }
                    Some(MediaEvent::Dtmf { digit }) => media.send_dtmf(digit),
                    Some(MediaEvent::Timeout) | None => break BridgeEnd::Hangup(EndCause::MediaTimeout, true),
                },
                signal = signals.recv() => match signal {
                    Some(CallSignal::Bye { key, request }) => {
                        self.answer_bye(&key, &request);
                        break BridgeEnd::Hangup(EndCause::CallerHangup, false);
                    }
                    Some(CallSignal::AgentBye { key, request }) => {
                        leg.answer_bye(self.services, &key, &request);
                        break BridgeEnd::Hangup(EndCause::AgentHangup, true);
                    }
                    Some(CallSignal::AgentRefer { key, request }) => {
                        if let Some(to) = self.answer_refer(&leg, queue, &key, &request) {
                            break BridgeEnd::Transfer(to, None);
                        }
                    }
                    Some(CallSignal::Transfer { to, by, reply }) => {
                        match super::transfer::resolve(&self.services.dialplan(), queue, &to) {
                            Ok(target) => {
                                let _ = reply.send(Ok(target.clone()));
                                break BridgeEnd::Transfer(target, Some(by));
                            }
                            Err(refused) => {
                                let _ = reply.send(Err(refused));
                            }
                        }
                    }
                    Some(CallSignal::AgentResponse(resp))
                        if resp.status_code.code() / 100 == 2
                            && crate::sip::message::cseq(&*resp).is_some_and(|(_, m)| m == "INVITE") =>
                    {
                        leg.ack_again(self.services, &resp);
                    }
                    Some(_) => {}
                    None => break BridgeEnd::Hangup(EndCause::CallerHangup, false),
                },
                _ = &mut limit => break BridgeEnd::Hangup(EndCause::MaxDuration, false),
            }
        };
        let outcome = match end {
            BridgeEnd::Hangup(cause, by_agent) => {
                if cause != EndCause::AgentHangup {
                    leg.hang_up(self.services).await;
                }
                self.leg_ended(&leg, "completed").await;
                self.services.queue.event(AcdEvent::CallEnded {
                    call: self.call_id.into(),
                    by_agent,
                });
                Bridged::Ended(cause)
            }
            BridgeEnd::Transfer(to, by_api) => {
                // The seat that sent a REFER hears how it went; one transferred by the API is
                // simply hung up.
                let caller_left = match by_api {
                    None => self.hand_over(&mut leg, signals).await,
                    Some(_) => {
                        leg.hang_up(self.services).await;
                        None
                    }
                };
                self.leg_ended(&leg, "transferred").await;
                self.services.queue.event(AcdEvent::Transferred {
                    call: self.call_id.into(),
                    to: to.queue.clone(),
                });
                let actor = by_api.unwrap_or_else(|| Actor {
                    role: Role::Operator,
                    id: leg.agent.clone(),
                    unit: None,
                });
                super::transfer::escalate_with_call(self.services, case_number, &actor, &to).await;
                match caller_left {
                    Some(cause) => Bridged::Ended(cause),
                    None => Bridged::Transferred(to),
                }
            }
        };
        leg.release(self.services);
        for (id, rec) in recorders.into_iter().flatten() {
            match rec.finish() {
                Ok(done) => {
                    if let Err(e) = self
                        .services
                        .store
                        .finish_recording(id, done.duration_ms, done.size as i64, &done.sha256)
                        .await
                    {
                        error!(error = %e, "recording not marked complete");
                    }
                }
                Err(e) => error!(error = %e, "recording not sealed"),
            }
        }
        info!(call_id = self.call_id, ?outcome, "bridged call ended");
        outcome
    }
}

/// At start-up: seals the recordings a crash interrupted (all but the last second is kept).
pub async fn recover_recordings(store: &crate::store::Store, data_dir: &std::path::Path) -> usize {
    let pending = match store.interrupted_recordings().await {
        Ok(p) => p,
        Err(e) => {
            error!(error = %e, "cannot list interrupted recordings");
            return 0;
        }
    };
    let mut kept = 0;
    for (id, file) in pending {
        match crate::media::recorder::recover(&data_dir.join(&file)) {
            Ok(Some(rec)) => {
                if store
                    .finish_recording(id, rec.duration_ms, rec.size as i64, &rec.sha256)
                    .await
                    .is_ok()
                {
                    kept += 1;
                }
            }
            Ok(None) => warn!(id, file, "interrupted recording has no file"),
            Err(e) => error!(id, file, error = %e, "interrupted recording not recovered"),
        }
    }
    kept
}
