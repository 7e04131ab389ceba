//! The recordings of a bridged call, one WAV per side (caller, operator): each row is stored
//! before its file is written, the frames come from the packet path through a bounded queue to
//! the one writer thread, each side is sealed (fsync, hash) when the bridge ends, and a recording
//! that a crash interrupted is sealed at the next start ([`recover_recordings`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use tracing::{error, warn};

use super::agent_leg::AgentLeg;
use super::services::CallServices;
use crate::media::recorder::WavRecorder;
use crate::media::session::{Frame, MAX_PAYLOAD};

/// Frames a recording's queue holds before the packet path drops frames: 32 × 20 ms, more
/// than ten drains' worth. The ring is allocated whole (about 15 KiB per side).
const QUEUE_FRAMES: usize = 32;
/// How often the writer drains every queue (frames wait at most this long).
const DRAIN_EVERY: Duration = Duration::from_millis(50);

/// One side's recording: its row, and its queue, which the packet path fills and the writer
/// thread drains.
struct Side {
    id: i64,
    key: u64,
    queue: SyncSender<Frame>,
}

/// What the writer thread is asked.
enum Command {
    Add {
        key: u64,
        rec: WavRecorder,
        frames: Receiver<Frame>,
    },
    /// Write what is queued, and hand the recording back to be sealed.
    Stop {
        key: u64,
        done: tokio::sync::oneshot::Sender<std::io::Result<WavRecorder>>,
    },
}

/// The one thread that writes every bridge's recordings: it drains all queues every
/// [`DRAIN_EVERY`], so that a relayed packet costs a copy into a ring, never a wake-up or a
/// system call; a thousand bridges need no thousand threads.
struct Writer {
    commands: std::sync::mpsc::Sender<Command>,
    next_key: AtomicU64,
}

fn writer() -> &'static Writer {
    static WRITER: OnceLock<Writer> = OnceLock::new();
    WRITER.get_or_init(|| {
        let (commands, inbox) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("recordings".into())
            .spawn(move || write_all(inbox))
            .expect("the recording writer thread");
        Writer {
            commands,
            next_key: AtomicU64::new(0),
        }
    })
}

fn write_all(inbox: Receiver<Command>) {
    struct Active {
        rec: WavRecorder,
        frames: Receiver<Frame>,
        failed: Option<std::io::Error>,
    }
    fn drain(a: &mut Active) {
        let mut samples = [0i16; MAX_PAYLOAD];
        while let Ok(frame) = a.frames.try_recv() {
            if a.failed.is_none() {
                let n = frame.decode_into(&mut samples);
                if let Err(e) = a.rec.write(&samples[..n]) {
                    error!(error = %e, "recording write failed");
                    a.failed = Some(e);
                }
            }
        }
    }
    let mut active: HashMap<u64, Active> = HashMap::new();
    loop {
        let first = match inbox.recv_timeout(DRAIN_EVERY) {
            Ok(command) => Some(command),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        for command in first
            .into_iter()
            .chain(std::iter::from_fn(|| inbox.try_recv().ok()))
        {
            match command {
                Command::Add { key, rec, frames } => {
                    active.insert(
                        key,
                        Active {
                            rec,
                            frames,
                            failed: None,
                        },
                    );
                }
                Command::Stop { key, done } => {
                    if let Some(mut a) = active.remove(&key) {
                        drain(&mut a);
                        let _ = done.send(match a.failed {
                            Some(e) => Err(e),
                            None => Ok(a.rec),
                        });
                    }
                }
            }
        }
        active.values_mut().for_each(drain);
    }
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
                (Ok(id), Ok(rec)) => sides.push(Side::start(id, rec)),
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

    /// Seals both sides (what is queued is written first, the fsync and hash off the async
    /// runtime) and marks them complete.
    pub(super) async fn finish(self, services: &CallServices) {
        for side in self.sides.into_iter().flatten() {
            drop(side.queue);
            let (done, sealed) = tokio::sync::oneshot::channel();
            if send(Command::Stop {
                key: side.key,
                done,
            })
            .is_err()
            {
                continue;
            }
            let rec = match sealed.await {
                Ok(Ok(rec)) => rec,
                Ok(Err(e)) => {
                    error!(error = %e, "recording not written");
                    continue;
                }
                Err(_) => continue,
            };
            match tokio::task::spawn_blocking(move || rec.finish()).await {
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
                Err(e) => error!(error = %e, "recording sealing failed"),
            }
        }
    }
}

/// Hands the writer a command; Err when its thread is gone.
fn send(command: Command) -> Result<(), ()> {
    writer()
        .commands
        .send(command)
        .map_err(|_| error!("the recording writer is gone"))
}

impl Side {
    fn start(id: i64, rec: WavRecorder) -> Option<Side> {
        let (queue, frames) = sync_channel::<Frame>(QUEUE_FRAMES);
        let key = writer().next_key.fetch_add(1, Ordering::Relaxed);
        send(Command::Add { key, rec, frames }).ok()?;
        Some(Side { id, key, queue })
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
