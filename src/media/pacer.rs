//! One clock for every prompt: a thread that sends the next frame of whatever each session
//! plays (a list of prompts, then a prompt on repeat such as hold music), instead of one timer
//! and one task wake-up per frame per call. Frames are encoded and built on the stack
//! ([`super::session`]'s send path).
//!
//! The 20 ms frame period is cut into [`SLOTS`] slots of 1 ms, and each stream keeps one slot
//! for its life: the thread wakes every millisecond and sends the frames of that slot's
//! streams only. So a tick's work is a twentieth of all streams, and a stream's frames leave
//! on their own 20 ms grid however many streams there are; when all streams shared one tick,
//! the last of 600 left 6 ms after the first, and where a stream fell in that order changed
//! from frame to frame (BENCHMARKS.md, late packets).
//!
//! A session tells the pacer what to play ([`Pacer::play`], [`Pacer::enqueue`],
//! [`Pacer::hold`], [`Pacer::stop`]) and hears, on its own channel, when a list has played out
//! (with the list's generation, so that a list replaced meanwhile is not taken for the new one).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::prompt::Prompt;
use super::rtp::{FRAME, FRAME_SAMPLES};

/// Sends one frame of a session's stream, due at the tick's instant.
pub type FrameOut = Box<dyn FnMut(&[i16], tokio::time::Instant) + Send>;

/// Called every 20 ms on its slot's tick (a conference mixes then).
pub type Ticker = Box<dyn FnMut(tokio::time::Instant) + Send>;

/// What one session plays.
struct Stream {
    out: FrameOut,
    queue: VecDeque<Prompt>,
    /// The prompt playing and the next sample to send.
    current: Option<(Prompt, usize)>,
    hold: Option<Prompt>,
    /// Report when the list runs out.
    report: bool,
    generation: u64,
    done: mpsc::Sender<u64>,
    /// A stream that plays nothing but is called each tick (a conference's mix).
    ticker: Option<Ticker>,
}

impl Stream {
    /// A stream that plays nothing yet.
    fn new(out: FrameOut, done: mpsc::Sender<u64>) -> Stream {
        Stream {
            out,
            queue: VecDeque::new(),
            current: None,
            hold: None,
            report: false,
            generation: 0,
            done,
            ticker: None,
        }
    }

    /// Sends the next frame, if anything plays.
    fn tick(&mut self, now: tokio::time::Instant) {
        if let Some(ticker) = self.ticker.as_mut() {
            ticker(now);
            return;
        }
        if self.current.is_none() {
            if let Some(next) = self.queue.pop_front() {
                self.current = Some((next, 0));
            } else {
                if std::mem::take(&mut self.report) {
                    let _ = self.done.try_send(self.generation);
                }
                self.current = self.hold.clone().map(|p| (p, 0));
            }
        }
        let Some((prompt, at)) = self.current.as_mut() else {
            return;
        };
        let samples = prompt.samples();
        let end = (*at + FRAME_SAMPLES).min(samples.len());
        let mut frame = [0i16; FRAME_SAMPLES];
        frame[..end - *at].copy_from_slice(&samples[*at..end]);
        *at = end;
        let finished = *at >= samples.len();
        if end > 0 {
            (self.out)(&frame, now);
        }
        if finished {
            self.current = None;
        }
    }
}

/// The pacer: every playing session's stream, by slot. Each stream has a lock of its own, so
/// that a tick holds its slot's table only to list the streams, and a session changing what
/// it plays waits at most for its own stream's frame, never for all the others to be sent.
pub struct Pacer {
    /// The streams of each slot; a stream's slot is its id modulo [`SLOTS`].
    slots: Vec<Mutex<HashMap<u64, Arc<Mutex<Stream>>>>>,
    next_id: std::sync::atomic::AtomicU64,
}

/// Slots in a frame period: the pacer wakes every `FRAME / SLOTS` (1 ms).
pub const SLOTS: usize = 20;

/// A session's place in the pacer.
pub type StreamId = u64;

impl Pacer {
    /// The process's pacer (its thread starts on first use).
    pub fn get() -> &'static Arc<Pacer> {
        static PACER: OnceLock<Arc<Pacer>> = OnceLock::new();
        PACER.get_or_init(|| {
            let pacer = Arc::new(Pacer {
                slots: (0..SLOTS).map(|_| Mutex::new(HashMap::new())).collect(),
                next_id: Default::default(),
            });
            let ticking = pacer.clone();
            std::thread::Builder::new()
                .name("prompt-pacer".into())
                .spawn(move || ticking.run())
                .expect("the prompt pacer thread");
            pacer
        })
    }

    fn run(&self) {
        let step = FRAME / SLOTS as u32;
        let mut next = Instant::now();
        let mut slot = 0;
        loop {
            next += step;
            slot = (slot + 1) % SLOTS;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else if now - next > Duration::from_millis(100) {
                // Far behind (the machine stalled): start a new grid rather than burst.
                next = now;
            }
            let at = tokio::time::Instant::from_std(next);
            let streams: Vec<Arc<Mutex<Stream>>> = self.slot(slot).values().cloned().collect();
            for stream in streams {
                stream.lock().unwrap_or_else(|e| e.into_inner()).tick(at);
            }
        }
    }

    /// The table of `slot`'s streams.
    fn slot(&self, slot: usize) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Mutex<Stream>>>> {
        self.slots[slot].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The table that holds stream `id`.
    fn table(&self, id: StreamId) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Mutex<Stream>>>> {
        self.slot((id % SLOTS as u64) as usize)
    }

    /// Adds a stream that sends its frames through `out`; list ends go to `done`.
    pub fn add(&self, out: FrameOut, done: mpsc::Sender<u64>) -> StreamId {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.table(id)
            .insert(id, Arc::new(Mutex::new(Stream::new(out, done))));
        id
    }

    /// Adds a ticker: `tick` is called every 20 ms, on its own slot, until it is removed.
    pub fn add_ticker(&self, tick: Ticker) -> StreamId {
        let (done, _) = mpsc::channel(1);
        let mut stream = Stream::new(Box::new(|_, _| {}), done);
        stream.ticker = Some(tick);
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.table(id).insert(id, Arc::new(Mutex::new(stream)));
        id
    }

    /// Removes a stream.
    pub fn remove(&self, id: StreamId) {
        self.table(id).remove(&id);
    }

    fn with<T>(&self, id: StreamId, f: impl FnOnce(&mut Stream) -> T) -> Option<T> {
        let stream = self.table(id).get(&id).cloned()?;
        let mut stream = stream.lock().unwrap_or_else(|e| e.into_inner());
        Some(f(&mut stream))
    }

    /// Stops what plays and plays `prompts`; their end is reported. The list's generation.
    pub fn play(&self, id: StreamId, prompts: Vec<Prompt>) -> u64 {
        self.with(id, |s| {
            s.generation += 1;
            s.queue = prompts.into();
            s.current = None;
            s.report = true;
            s.generation
        })
        .unwrap_or(0)
    }

    /// Plays `prompts` after what plays now; the end of the list is reported.
    pub fn enqueue(&self, id: StreamId, prompts: Vec<Prompt>) {
        self.with(id, |s| {
            s.queue.extend(prompts);
            s.report = true;
        });
    }

    /// Repeats `prompt` once the list runs out (None: silence).
    pub fn hold(&self, id: StreamId, prompt: Option<Prompt>) {
        self.with(id, |s| s.hold = prompt);
    }

    /// Stops playing altogether (a bridge begins).
    pub fn stop(&self, id: StreamId) {
        self.with(id, |s| {
            s.generation += 1;
            s.queue.clear();
            s.current = None;
            s.hold = None;
            s.report = false;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Sent = Arc<Mutex<Vec<Vec<i16>>>>;

    fn stream() -> (Stream, Sent, mpsc::Receiver<u64>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let sink = sent.clone();
        let (done, rx) = mpsc::channel(4);
        let s = Stream::new(
            Box::new(move |frame, _| sink.lock().unwrap().push(frame.to_vec())),
            done,
        );
        (s, sent, rx)
    }

    #[test]
    fn a_list_plays_frame_by_frame_reports_its_end_then_holds() {
        let (mut s, sent, mut done) = stream();
        let a = Prompt::from_samples("a", vec![1; 320]);
        let b = Prompt::from_samples("b", vec![2; 100]);
        s.queue = vec![a, b].into();
        s.report = true;
        s.generation = 7;
        s.hold = Some(Prompt::from_samples("h", vec![3; 160]));
        let t = tokio::time::Instant::now();
        for _ in 0..5 {
            s.tick(t);
        }
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 5);
        assert_eq!(sent[0], vec![1; 160]);
        assert_eq!(sent[1], vec![1; 160]);
        // The short prompt is padded with silence to a whole frame.
        assert_eq!(&sent[2][..100], &[2; 100][..]);
        assert_eq!(&sent[2][100..], &[0; 60][..]);
        // Then the end is reported once, and hold music repeats.
        assert_eq!(done.try_recv(), Ok(7));
        assert!(done.try_recv().is_err());
        assert_eq!(sent[3], vec![3; 160]);
        assert_eq!(sent[4], vec![3; 160]);
    }
}
