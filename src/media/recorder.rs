//! Recording a caller to a WAV file (8 kHz, mono, 16-bit) with hound, so that a crash loses at
//! most the last second: samples go to `<name>.wav.part`, whose header hound rewrites on every
//! flush (once a second of audio), so the partial file is always a valid WAV. When the message
//! ends the file is finalised, fsynced, renamed to `<name>.wav` atomically, and the folder is
//! fsynced so the rename itself survives a power cut. [`recover`] finishes `.part` files a crash
//! left behind.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::prompt::SAMPLE_RATE;

/// Samples between flushes: one second.
const FLUSH_EVERY: usize = SAMPLE_RATE as usize;

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The final file.
    pub path: PathBuf,
    /// Samples written.
    pub samples: u64,
    /// Length in milliseconds.
    pub duration_ms: i64,
    /// File size in bytes.
    pub size: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

/// A recording in progress.
pub struct WavRecorder {
    part: PathBuf,
    target: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
    since_flush: usize,
    samples: u64,
}

fn spec() -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

/// The `.part` path of a target.
pub fn part_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

impl WavRecorder {
    /// Starts recording to `target` (written as `target.part` until finished).
    pub fn create(target: &Path) -> std::io::Result<WavRecorder> {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let part = part_path(target);
        let writer = hound::WavWriter::create(&part, spec()).map_err(to_io)?;
        Ok(WavRecorder {
            part,
            target: target.to_path_buf(),
            writer,
            since_flush: 0,
            samples: 0,
        })
    }

    /// Appends samples; the file is made valid on disk every second of audio.
    pub fn write(&mut self, samples: &[i16]) -> std::io::Result<()> {
        for &s in samples {
            self.writer.write_sample(s).map_err(to_io)?;
        }
        self.samples += samples.len() as u64;
        self.since_flush += samples.len();
        if self.since_flush >= FLUSH_EVERY {
            self.writer.flush().map_err(to_io)?;
            self.since_flush = 0;
        }
        Ok(())
    }

    /// Samples so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Finalises, fsyncs and renames the file into place.
    pub fn finish(self) -> std::io::Result<Recording> {
        self.writer.finalize().map_err(to_io)?;
        seal(&self.part, &self.target)
    }

    /// Throws the recording away.
    pub fn discard(self) -> std::io::Result<()> {
        drop(self.writer);
        std::fs::remove_file(&self.part)
    }
}

/// Makes a finished `.part` file durable under its final name.
fn seal(part: &Path, target: &Path) -> std::io::Result<Recording> {
    File::open(part)?.sync_all()?;
    std::fs::rename(part, target)?;
    if let Some(dir) = target.parent() {
        File::open(dir)?.sync_all()?;
    }
    describe(target)
}

/// Duration, size and checksum of a recording on disk.
pub fn describe(path: &Path) -> std::io::Result<Recording> {
    let reader = hound::WavReader::open(path).map_err(to_io)?;
    let samples = reader.duration() as u64;
    let mut hasher = Sha256::new();
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(Recording {
        path: path.to_path_buf(),
        samples,
        duration_ms: (samples * 1000 / SAMPLE_RATE as u64) as i64,
        size,
        sha256: hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    })
}

/// Finishes a recording a crash interrupted: whatever reached the disk up to the last flush is
/// kept. The header is repaired from the file's length, then the file is sealed.
pub fn recover(target: &Path) -> std::io::Result<Option<Recording>> {
    let part = part_path(target);
    if !part.exists() {
        return if target.exists() {
            describe(target).map(Some)
        } else {
            Ok(None)
        };
    }
    // Read what is readable (hound stops at the length its header states, which the last
    // flush wrote), and write it out again as a complete file.
    let samples: Vec<i16> = match hound::WavReader::open(&part) {
        Ok(r) => r.into_samples::<i16>().map_while(Result::ok).collect(),
        Err(_) => Vec::new(),
    };
    let fixed = part.with_extension("fix");
    {
        let mut w = hound::WavWriter::create(&fixed, spec()).map_err(to_io)?;
        for s in &samples {
            w.write_sample(*s).map_err(to_io)?;
        }
        w.finalize().map_err(to_io)?;
    }
    std::fs::rename(&fixed, &part)?;
    seal(&part, target).map(Some)
}

fn to_io(e: hound::Error) -> std::io::Error {
    match e {
        hound::Error::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                ((i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin() * 8000.0) as i16
            })
            .collect()
    }

    #[test]
    fn records_seals_and_describes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("vm/1.wav");
        let mut r = WavRecorder::create(&target).unwrap();
        let audio = tone(12_000);
        for chunk in audio.chunks(160) {
            r.write(chunk).unwrap();
        }
        let rec = r.finish().unwrap();
        assert!(!part_path(&target).exists());
        assert_eq!(rec.samples, 12_000);
        assert_eq!(rec.duration_ms, 1500);
        assert_eq!(rec.size, std::fs::metadata(&target).unwrap().len());
        assert_eq!(rec.sha256.len(), 64);
        let back: Vec<i16> = hound::WavReader::open(&target)
            .unwrap()
            .into_samples()
            .map(Result::unwrap)
            .collect();
        assert_eq!(back, audio);
    }

    #[test]
    fn a_crash_keeps_what_was_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("2.wav");
        let audio = tone(20_000);
        let mut r = WavRecorder::create(&target).unwrap();
        for chunk in audio.chunks(160) {
            r.write(chunk).unwrap();
        }
        // A crash: the writer vanishes without finalising (no destructor runs on SIGKILL).
        std::mem::forget(r);
        let rec = recover(&target).unwrap().unwrap();
        // Flushes happen each 8000 samples: at least 16 000 of the 20 000 are kept.
        assert!(
            rec.samples >= 16_000 && rec.samples <= 20_000,
            "{}",
            rec.samples
        );
        let back: Vec<i16> = hound::WavReader::open(&target)
            .unwrap()
            .into_samples()
            .map(Result::unwrap)
            .collect();
        assert_eq!(back[..], audio[..back.len()]);
        assert_eq!(recover(&dir.path().join("none.wav")).unwrap(), None);
    }

    #[test]
    fn discard_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("3.wav");
        let mut r = WavRecorder::create(&target).unwrap();
        r.write(&tone(100)).unwrap();
        r.discard().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
