//! The recordings of a bridged call, one WAV per side (caller, operator): each row is stored
//! before its file is written, sealed (fsync, hash) when the bridge ends, and a recording that
//! a crash interrupted is sealed at the next start ([`recover_recordings`]).

use chrono::Utc;
use tracing::{error, warn};

use super::agent_leg::AgentLeg;
use super::services::CallServices;
use crate::media::recorder::WavRecorder;

/// Both sides' recordings of one bridge (a side whose row or file failed is not recorded).
pub(super) struct Recordings {
    sides: Vec<Option<(i64, WavRecorder)>>,
}

impl Recordings {
    /// Starts recording the caller (side 0) and the operator on `seat` (side 1).
    pub(super) async fn start(
        services: &CallServices,
        call_id: &str,
        seat: &AgentLeg,
        queue: &str,
        case_number: &str,
    ) -> Recordings {
        let platform = crate::dialplan::queues::platform_of_queue(queue);
        let mut sides = Vec::new();
        for side in ["caller", "agent"] {
            let file = format!(
                "recordings/{platform}/{case_number}-{}-{side}.wav",
                Utc::now().timestamp_millis()
            );
            let id = services
                .store
                .start_recording(call_id, &seat.call_id, &seat.agent, side, &file, Utc::now())
                .await;
            let rec = WavRecorder::create(&services.data_dir.join(&file));
            match (id, rec) {
                (Ok(id), Ok(rec)) => sides.push(Some((id, rec))),
                (id, rec) => {
                    error!(
                        call_id,
                        side,
                        ?id,
                        ok = rec.is_ok(),
                        "recording not started"
                    );
                    sides.push(None);
                }
            }
        }
        Recordings { sides }
    }

    /// Appends one frame to a side.
    pub(super) fn write(&mut self, side: usize, samples: &[i16]) {
        if let Some(Some((_, rec))) = self.sides.get_mut(side) {
            if let Err(e) = rec.write(samples) {
                error!(error = %e, "recording write failed");
            }
        }
    }

    /// Seals both sides and marks them complete.
    pub(super) async fn finish(self, services: &CallServices) {
        for (id, rec) in self.sides.into_iter().flatten() {
            match rec.finish() {
                Ok(done) => {
                    if let Err(e) = services
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
