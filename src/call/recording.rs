//! The recordings of a bridged call, one WAV per side (caller, operator): each row is stored
//! before its file is written, the frames come from the packet path through a bounded queue to
//! a blocking writer, each side is sealed (fsync, hash) when the bridge ends, and a recording
//! that a crash interrupted is sealed at the next start ([`recover_recordings`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tracing::{error, warn};

use super::agent_leg::AgentLeg;
use super::services::CallServices;
use crate::media::recorder::WavRecorder;
use crate::media::session::{Frame, MAX_PAYLOAD};

/// Frames a recording's queue holds (10 s) before the packet path drops frames.
const QUEUE_FRAMES: usize = 500;

/// One side's recording: its row, the queue the packet path fills, and the blocking writer
/// that drains it (decoding, writing and, at the end, fsync and hash, off the async runtime).
struct Side {
    id: i64,
    queue: SyncSender<Frame>,
    stop: Arc<AtomicBool>,
    writer: tokio::task::JoinHandle<std::io::Result<crate::media::recorder::Recording>>,
}

/// Both sides' recordings of one bridge (a side whose row or file failed is not recorded).
pub(super) struct Recordings {
    sides: Vec<Option<Side>>,
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
                (Ok(id), Ok(rec)) => sides.push(Some(Side::start(id, rec))),
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

    /// The queue of a side (0: caller, 1: operator), for [`MediaSession::relay_to`].
    ///
    /// [`MediaSession::relay_to`]: crate::media::session::MediaSession::relay_to
    pub(super) fn queue(&self, side: usize) -> Option<SyncSender<Frame>> {
        self.sides.get(side)?.as_ref().map(|s| s.queue.clone())
    }

    /// Seals both sides (what is queued is written first) and marks them complete.
    pub(super) async fn finish(self, services: &CallServices) {
        for side in self.sides.into_iter().flatten() {
            side.stop.store(true, Ordering::Relaxed);
            drop(side.queue);
            match side.writer.await {
                Ok(Ok(done)) => {
                    if let Err(e) = services
                        .store
                        .finish_recording(side.id, done.duration_ms, done.size as i64, &done.sha256)
                        .await
                    {
                        error!(error = %e, "recording not marked complete");
                    }
                }
                Ok(Err(e)) => error!(error = %e, "recording not sealed"),
                Err(e) => error!(error = %e, "recording writer failed"),
            }
        }
    }
}

impl Side {
    fn start(id: i64, mut rec: WavRecorder) -> Side {
        let (queue, frames) = sync_channel::<Frame>(QUEUE_FRAMES);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let writer = tokio::task::spawn_blocking(move || {
            let mut samples = [0i16; MAX_PAYLOAD];
            let mut write = |frame: Frame| {
                let n = frame.decode_into(&mut samples);
                rec.write(&samples[..n])
            };
            loop {
                match frames.recv_timeout(Duration::from_millis(100)) {
                    Ok(frame) => write(frame)?,
                    Err(RecvTimeoutError::Timeout) if !stopping.load(Ordering::Relaxed) => {}
                    // Stopped (a relay may still hold a sender) or every sender gone: write
                    // what is queued, then seal.
                    Err(_) => {
                        while let Ok(frame) = frames.try_recv() {
                            write(frame)?;
                        }
                        break;
                    }
                }
            }
            rec.finish()
        });
        Side {
            id,
            queue,
            stop,
            writer,
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
