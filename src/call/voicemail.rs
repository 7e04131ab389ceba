//! Outside staffed hours: the caller leaves a voice message, which becomes a callback case.
//!
//! The flow (greeting, `*` and `#`, beep, silence and maximum length) is the pure phase in
//! [`super::flow::voicemail`]; this file is its edge. A message with no voice in it leaves no
//! voicemail record (the call keeps its case). Otherwise the WAV is sealed (fsync, atomic
//! rename), and the case awaits its callback before 10:00 of the platform's next staffed day.
//!
//! The message's row is written before recording starts, so a crash mid-message is recovered
//! at the next start ([`recover_interrupted`]).

use std::path::Path;

use chrono::Utc;
use tracing::{error, info, warn};

use super::context::InboundCall;
use super::flow::recovery::{interrupted_message, MessageRecovery};
use crate::dialplan::Dialplan;
use crate::media::recorder::{self, WavRecorder};
use crate::store::{FinishedVoicemail, Store};

pub use super::flow::io::{BEEP_PROMPT, SAVED_PROMPT};
/// A 20 ms frame louder than this (RMS of 16-bit samples) counts as voice.
const VOICE_RMS: f64 = 300.0;

/// True when a frame holds voice, not silence or line noise.
pub(super) fn is_voice(samples: &[i16]) -> bool {
    if samples.is_empty() {
        return false;
    }
    let energy: f64 = samples.iter().map(|&s| (s as f64) * (s as f64)).sum();
    (energy / samples.len() as f64).sqrt() > VOICE_RMS
}

/// Starts a voice message: its row (so that a crash mid-message is recovered), then its file.
pub(super) async fn start(
    call: &InboundCall<'_>,
    platform: &str,
    case_number: &str,
) -> Option<(i64, WavRecorder)> {
    let store = &call.services.store;
    let file = format!(
        "voicemail/{platform}/{case_number}-{}.wav",
        Utc::now().timestamp_millis()
    );
    let id = match store.start_voicemail(call.call_id, &file, Utc::now()).await {
        Ok(id) => id,
        Err(e) => {
            error!(call_id = call.call_id, error = %e, "cannot record a voice message");
            return None;
        }
    };
    match WavRecorder::create(&call.services.data_dir.join(&file)) {
        Ok(rec) => {
            info!(
                call_id = call.call_id,
                id, file, "recording a voice message"
            );
            Some((id, rec))
        }
        Err(e) => {
            error!(call_id = call.call_id, error = %e, file, "cannot create the voice message file");
            let _ = store.discard_voicemail(id).await;
            None
        }
    }
}

/// Seals a message with voice in it, or throws away one without.
pub(super) async fn keep_or_drop(
    call: &InboundCall<'_>,
    platform: &str,
    id: i64,
    rec: WavRecorder,
    voiced: bool,
) {
    let store = &call.services.store;
    if !voiced {
        info!(
            call_id = call.call_id,
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
            let due = call.dialplan.callback_due(platform, Utc::now());
            let finished = FinishedVoicemail {
                duration_ms: done.duration_ms,
                size_bytes: done.size as i64,
                sha256: done.sha256,
                callback_due: due,
            };
            match store.finish_voicemail(id, finished).await {
                Ok(()) => {
                    info!(call_id = call.call_id, id, duration_ms = done.duration_ms, %due, "voice message saved");
                    mail_notice(store, &call.dialplan, id).await;
                }
                Err(e) => {
                    error!(call_id = call.call_id, id, error = %e, "voice message not recorded as finished")
                }
            }
        }
        Err(e) => error!(call_id = call.call_id, id, error = %e, "voice message not sealed"),
    }
}

/// Mails the platform's mailbox that a voice message was left, with its audio, when
/// channels.toml asks for it (`voicemail_notice`).
async fn mail_notice(store: &Store, plan: &Dialplan, id: i64) {
    let Some(mail) = plan
        .channels
        .mail
        .clone()
        .filter(|m| m.voicemail_notice && !m.relay.is_empty())
    else {
        return;
    };
    let names: std::collections::HashMap<String, String> = plan
        .router
        .platforms()
        .iter()
        .map(|p| (p.code.clone(), p.name_zh.clone()))
        .collect();
    let queued = store
        .queue_voicemail_notice(
            id,
            move |case, caller, platform, file, secs| {
                let to = mail.mailboxes.get(platform)?.clone();
                let name = names.get(platform).cloned().unwrap_or_default();
                let caller = if caller.is_empty() { "未显示号码" } else { caller };
                Some(crate::store::requests::Outgoing {
                    channel: crate::intake::Channel::Email,
                    kind: "voicemail".into(),
                    recipient: to,
                    subject: format!("新留言：{caller}（诉求编号 {case}）"),
                    body: format!(
                        "{name}12345热线收到一条留言。\n\n来电号码：{caller}\n诉求编号：{case}\n时长：{secs} 秒\n\n录音见附件；请在回拨时限前回拨。\n"
                    ),
                    attachment: Some(file.to_string()),
                    in_reply_to: None,
                })
            },
            Utc::now(),
        )
        .await;
    if let Err(e) = queued {
        warn!(id, error = %e, "voice message notice not queued");
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
            Ok(rec) => {
                let samples = rec.as_ref().map_or(0, |r| r.samples);
                let rule = interrupted_message(dialplan, &vm.platform, vm.started_at, samples);
                match (rule, rec) {
                    (MessageRecovery::Keep { callback_due }, Some(rec)) => {
                        let finished = FinishedVoicemail {
                            duration_ms: rec.duration_ms,
                            size_bytes: rec.size as i64,
                            sha256: rec.sha256,
                            callback_due,
                        };
                        if store.finish_voicemail(vm.id, finished).await.is_ok() {
                            kept += 1;
                        }
                    }
                    _ => {
                        info!(
                            id = vm.id,
                            file = vm.file,
                            "interrupted voice message held no audio"
                        );
                        let _ = std::fs::remove_file(&target);
                        let _ = store.discard_voicemail(vm.id).await;
                    }
                }
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
