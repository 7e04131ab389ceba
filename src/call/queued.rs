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
use super::inbound::{CallSignal, EndCause, InboundCall, Waited};
use super::menu::Chosen;
use super::queue::QueueNotice;
use crate::acd::{AcdEvent, AgentState};
use crate::media::prompt::Prompt;
use crate::media::recorder::WavRecorder;
use crate::media::session::{MediaEvent, MediaSession};

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
    ) -> Waited {
        // The menu, where the platform has one, chooses the queue and plays the greeting.
        let (queue_name, greeted) = match self.dialplan.queues.menus.get(platform) {
            Some(menu) => match self.choose_queue(signals, media, media_events, menu).await {
                Chosen::Queue(q) => (q, true),
                Chosen::Ended(cause) => return Waited::Ended(cause),
            },
            None => (platform.to_string(), false),
        };
        let queue = &self.services.queue;
        let mut notices = queue.join(self.call_id, &queue_name);
        let prompts = &self.services.prompts;
        let welcome = self
            .dialplan
            .router
            .platform(platform)
            .filter(|_| !greeted)
            .and_then(|p| prompts.get(&p.welcome_prompt));
        let hold = prompts.get(crate::server::HOLD_PROMPT);
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
        let limit = tokio::time::sleep(self.services.limits.max_call_duration);
        tokio::pin!(limit);
        let mut staffing = tokio::time::interval(Duration::from_secs(1));
        let mut legs: HashMap<String, AgentLeg> = HashMap::new();
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
                            continue;
                        };
                        if code < 200 {
                            continue;
                        }
                        if code < 300 {
                            let leg = legs.get_mut(&agent).expect("found above");
                            match leg.answered(self.services, &resp) {
                                Ok(()) => {
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
                        if let Some(leg) = legs.remove(&agent) {
                            leg.cancel(self.services).await;
                            self.leg_ended(&leg, "no-answer").await;
                            leg.release(self.services);
                        }
                    }
                    Some(QueueNotice::Connect { agent }) => {
                        if let Some(leg) = legs.remove(&agent) {
                            break Waited::Connected(Box::new(leg));
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
        for (_, leg) in legs.drain() {
            leg.cancel(self.services).await;
            self.leg_ended(&leg, "no-answer").await;
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
        platform: &str,
        case_number: &str,
    ) -> EndCause {
        info!(
            call_id = self.call_id,
            agent = leg.agent,
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
        let limit = tokio::time::sleep(self.services.limits.max_call_duration);
        tokio::pin!(limit);
        let write =
            |recorders: &mut Vec<Option<(i64, WavRecorder)>>, side: usize, samples: &[i16]| {
                if let Some((_, rec)) = recorders[side].as_mut() {
                    if let Err(e) = rec.write(samples) {
                        error!(error = %e, "recording write failed");
                    }
                }
            };
        let (cause, by_agent) = loop {
            tokio::select! {
                event = caller_events.recv() => match event {
                    Some(MediaEvent::Audio { samples }) => {
                        leg.media.send_frame(&samples, Instant::now());
                        write(&mut recorders, 0, &samples);
                    }
                    Some(MediaEvent::Dtmf { digit }) => leg.media.send_dtmf(digit),
                    Some(MediaEvent::Timeout) | None => break (EndCause::MediaTimeout, false),
                },
                event = agent_events.recv() => match event {
                    Some(MediaEvent::Audio { samples }) => {
                        media.send_frame(&samples, Instant::now());
                        write(&mut recorders, 1, &samples);
                    }
                    Some(MediaEvent::Dtmf { digit }) => media.send_dtmf(digit),
                    Some(MediaEvent::Timeout) | None => break (EndCause::MediaTimeout, true),
                },
                signal = signals.recv() => match signal {
                    Some(CallSignal::Bye { key, request }) => {
                        self.answer_bye(&key, &request);
                        break (EndCause::CallerHangup, false);
                    }
                    Some(CallSignal::AgentBye { key, request }) => {
                        leg.answer_bye(self.services, &key, &request);
                        break (EndCause::AgentHangup, true);
                    }
                    Some(CallSignal::AgentResponse(resp)) if resp.status_code.code() / 100 == 2 => {
                        leg.ack_again(self.services, &resp);
                    }
                    Some(_) => {}
                    None => break (EndCause::CallerHangup, false),
                },
                _ = &mut limit => break (EndCause::MaxDuration, false),
            }
        };
        if cause != EndCause::AgentHangup {
            leg.hang_up(self.services).await;
        }
        self.leg_ended(&leg, "completed").await;
        leg.release(self.services);
        self.services.queue.event(AcdEvent::CallEnded {
            call: self.call_id.into(),
            by_agent,
        });
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
        info!(call_id = self.call_id, ?cause, "bridged call ended");
        cause
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
