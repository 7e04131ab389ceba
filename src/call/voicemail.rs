//! Outside staffed hours: the caller leaves a voice message, which becomes a callback case.
//!
//! 1. The platform's after-hours greeting (it says when operators are back); `*` replays it,
//!    `#` skips to the beep.
//! 2. A beep, then recording until `#` (saved), a hang-up (saved), the configured silence
//!    (saved), or the maximum length (saved). `*` while recording throws the message away and
//!    starts again after a new beep.
//! 3. A message with no voice in it leaves no voicemail record (the call keeps its case).
//!    Otherwise the WAV is sealed (fsync, atomic rename), and the case awaits its callback
//!    before 10:00 of the platform's next staffed day. A caller still on the line hears that
//!    the message is saved, and the server hangs up.
//!
//! The message's row is written before recording starts, so a crash mid-message is recovered
//! at the next start ([`recover_interrupted`]).

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::context::InboundCall;
use super::signal::{CallSignal, EndCause};
use crate::dialplan::Dialplan;
use crate::media::recorder::{self, WavRecorder};
use crate::media::session::{MediaEvent, MediaSession};
use crate::store::{FinishedVoicemail, Store};

/// The beep before recording.
pub const BEEP_PROMPT: &str = "beep.wav";
/// Said after a message is saved.
pub const SAVED_PROMPT: &str = "vm-saved.wav";
/// A 20 ms frame louder than this (RMS of 16-bit samples) counts as voice.
const VOICE_RMS: f64 = 300.0;

/// How a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `#`.
    Confirmed,
    /// Silence for the configured time.
    Silence,
    /// The maximum length.
    MaxLength,
    /// The caller hung up.
    HungUp,
    /// The caller's media stopped.
    MediaLost,
}

/// What the greeting phase ended with.
enum Greeting {
    Record,
    HungUp,
    MediaLost,
}

/// True when a frame holds voice, not silence or line noise.
fn is_voice(samples: &[i16]) -> bool {
    if samples.is_empty() {
        return false;
    }
    let energy: f64 = samples.iter().map(|&s| (s as f64) * (s as f64)).sum();
    (energy / samples.len() as f64).sqrt() > VOICE_RMS
}

impl InboundCall<'_> {
    /// Runs the after-hours flow to the end of the call.
    pub(super) async fn take_message(
        &self,
        signals: &mut mpsc::UnboundedReceiver<CallSignal>,
        media: &MediaSession,
        events: &mut mpsc::UnboundedReceiver<MediaEvent>,
        dialplan: &Dialplan,
        platform: &str,
        case_number: &str,
    ) -> EndCause {
        let prompts = &self.services.prompts;
        let greeting = dialplan
            .router
            .platform(platform)
            .and_then(|p| prompts.get(&p.after_hours_prompt));
        match self.greet(signals, media, events, greeting).await {
            Greeting::Record => {}
            Greeting::HungUp => return EndCause::CallerHangup,
            Greeting::MediaLost => return EndCause::MediaTimeout,
        }
        let settings = &dialplan.voicemail;
        let store = &self.services.store;
        loop {
            if let Some(beep) = prompts.get(BEEP_PROMPT) {
                media.play(beep).await;
            }
            let file = format!(
                "voicemail/{platform}/{case_number}-{}.wav",
                Utc::now().timestamp_millis()
            );
            let target = self.services.data_dir.join(&file);
            let id = match store.start_voicemail(self.call_id, &file, Utc::now()).await {
                Ok(id) => id,
                Err(e) => {
                    error!(call_id = self.call_id, error = %e, "cannot record a voice message");
                    return EndCause::CallerHangup;
                }
            };
            let mut rec = match WavRecorder::create(&target) {
                Ok(r) => r,
                Err(e) => {
                    error!(call_id = self.call_id, error = %e, file, "cannot create the voice message file");
                    let _ = store.discard_voicemail(id).await;
                    return EndCause::CallerHangup;
                }
            };
            info!(
                call_id = self.call_id,
                id, file, "recording a voice message"
            );
            let (stop, voiced) = match self
                .record(signals, events, &mut rec, settings.silence, settings.max)
                .await
            {
                Ok(Some(result)) => result,
                Ok(None) => {
                    // `*`: start again.
                    let _ = rec.discard();
                    let _ = store.discard_voicemail(id).await;
                    info!(call_id = self.call_id, "caller re-records the message");
                    continue;
                }
                Err(e) => {
                    error!(call_id = self.call_id, error = %e, "voice message not written");
                    (Stop::MediaLost, false)
                }
            };
            info!(
                call_id = self.call_id,
                ?stop,
                voiced,
                samples = rec.samples(),
                "recording ended"
            );
            self.keep_or_drop(store, dialplan, platform, id, rec, voiced)
                .await;
            return match stop {
                Stop::HungUp => EndCause::CallerHangup,
                Stop::MediaLost => EndCause::MediaTimeout,
                Stop::Confirmed | Stop::Silence | Stop::MaxLength => {
                    if voiced {
                        if let Some(saved) = prompts.get(SAVED_PROMPT) {
                            media.play(saved).await;
                        }
                    }
                    EndCause::VoicemailDone
                }
            };
        }
    }

    /// Plays the greeting; `*` replays it, `#` skips it.
    async fn greet(
        &self,
        signals: &mut mpsc::UnboundedReceiver<CallSignal>,
        media: &MediaSession,
        events: &mut mpsc::UnboundedReceiver<MediaEvent>,
        greeting: Option<crate::media::prompt::Prompt>,
    ) -> Greeting {
        let Some(greeting) = greeting else {
            return Greeting::Record;
        };
        'replay: loop {
            let play = media.play(greeting.clone());
            tokio::pin!(play);
            loop {
                tokio::select! {
                    _ = &mut play => return Greeting::Record,
                    signal = signals.recv() => match signal {
                        Some(CallSignal::Bye { key, request }) => {
                            self.answer_bye(&key, &request);
                            return Greeting::HungUp;
                        }
                        None => return Greeting::HungUp,
                        Some(_) => {}
                    },
                    event = events.recv() => match event {
                        Some(MediaEvent::Dtmf { digit: '*' }) => continue 'replay,
                        Some(MediaEvent::Dtmf { digit: '#' }) => return Greeting::Record,
                        Some(MediaEvent::Timeout) => return Greeting::MediaLost,
                        Some(_) => {}
                        None => std::future::pending::<()>().await,
                    },
                }
            }
        }
    }

    /// Records until a stop; Ok(None) when the caller pressed `*` to start again.
    async fn record(
        &self,
        signals: &mut mpsc::UnboundedReceiver<CallSignal>,
        events: &mut mpsc::UnboundedReceiver<MediaEvent>,
        rec: &mut WavRecorder,
        silence: Duration,
        max: Duration,
    ) -> std::io::Result<Option<(Stop, bool)>> {
        // Audio that arrived during the greeting and beep is not part of the message.
        while let Ok(MediaEvent::Audio { .. }) = events.try_recv() {}
        let started = Instant::now();
        let mut last_voice = started;
        let mut voiced = false;
        loop {
            let silence_end = last_voice + silence;
            let max_end = started + max;
            tokio::select! {
                _ = tokio::time::sleep_until(silence_end) => return Ok(Some((Stop::Silence, voiced))),
                _ = tokio::time::sleep_until(max_end) => return Ok(Some((Stop::MaxLength, voiced))),
                signal = signals.recv() => match signal {
                    Some(CallSignal::Bye { key, request }) => {
                        // Whatever is still queued arrived before the hang-up.
                        while let Ok(MediaEvent::Audio { samples }) = events.try_recv() {
                            voiced |= is_voice(&samples);
                            rec.write(&samples)?;
                        }
                        self.answer_bye(&key, &request);
                        return Ok(Some((Stop::HungUp, voiced)));
                    }
                    None => return Ok(Some((Stop::HungUp, voiced))),
                    Some(_) => {}
                },
                event = events.recv() => match event {
                    Some(MediaEvent::Audio { samples }) => {
                        if is_voice(&samples) {
                            voiced = true;
                            last_voice = Instant::now();
                        }
                        rec.write(&samples)?;
                    }
                    Some(MediaEvent::Dtmf { digit: '#' }) => return Ok(Some((Stop::Confirmed, voiced))),
                    Some(MediaEvent::Dtmf { digit: '*' }) => return Ok(None),
                    Some(MediaEvent::Dtmf { .. }) => {}
                    Some(MediaEvent::Timeout) | None => return Ok(Some((Stop::MediaLost, voiced))),
                },
            }
        }
    }

    /// Seals a message with voice in it, or throws away one without.
    async fn keep_or_drop(
        &self,
        store: &Store,
        dialplan: &Dialplan,
        platform: &str,
        id: i64,
        rec: WavRecorder,
        voiced: bool,
    ) {
        if !voiced {
            info!(
                call_id = self.call_id,
                "no voice in the message: nothing kept"
            );
            if let Err(e) = rec.discard() {
                warn!(error = %e, "empty message file not removed");
            }
            if let Err(e) = store.discard_voicemail(id).await {
                warn!(error = %e, "empty message record not removed");
            }
            return;
        }
        match rec.finish() {
            Ok(done) => {
                let due = dialplan.callback_due(platform, Utc::now());
                let finished = FinishedVoicemail {
                    duration_ms: done.duration_ms,
                    size_bytes: done.size as i64,
                    sha256: done.sha256,
                    callback_due: due,
                };
                match store.finish_voicemail(id, finished).await {
                    Ok(()) => {
                        info!(call_id = self.call_id, id, duration_ms = done.duration_ms, %due, "voice message saved")
                    }
                    Err(e) => {
                        error!(call_id = self.call_id, id, error = %e, "voice message not recorded as finished")
                    }
                }
            }
            Err(e) => error!(call_id = self.call_id, id, error = %e, "voice message not sealed"),
        }
    }
}

/// At start-up: finishes the messages a crash interrupted (what reached the disk is kept).
pub async fn recover_interrupted(store: &Store, dialplan: &Dialplan, data_dir: &Path) -> usize {
    let pending = match store.recording_voicemails().await {
        Ok(p) => p,
        Err(e) => {
            error!(error = %e, "cannot list interrupted voice messages");
            return 0;
        }
    };
    let mut kept = 0;
    if !pending.is_empty() {
        info!(
            messages = pending.len(),
            "voice messages interrupted by the previous run"
        );
    }
    for vm in pending {
        let target = data_dir.join(&vm.file);
        match recorder::recover(&target) {
            Ok(Some(rec)) if rec.samples > 0 => {
                let finished = FinishedVoicemail {
                    duration_ms: rec.duration_ms,
                    size_bytes: rec.size as i64,
                    sha256: rec.sha256,
                    callback_due: dialplan.callback_due(&vm.platform, vm.started_at),
                };
                if store.finish_voicemail(vm.id, finished).await.is_ok() {
                    kept += 1;
                }
            }
            Ok(_) => {
                info!(
                    id = vm.id,
                    file = vm.file,
                    "interrupted voice message held no audio"
                );
                let _ = std::fs::remove_file(&target);
                let _ = store.discard_voicemail(vm.id).await;
            }
            Err(e) => {
                error!(id = vm.id, file = vm.file, error = %e, "interrupted voice message not recovered")
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    #[test]
    fn voice_is_told_from_silence() {
        assert!(!super::is_voice(&[0; 160]));
        assert!(!super::is_voice(&[150; 160]));
        assert!(super::is_voice(&[2000; 160]));
        assert!(!super::is_voice(&[]));
    }
}
