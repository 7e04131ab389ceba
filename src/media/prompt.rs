//! Prompts: WAV files under `prompts/`, read with hound at start-up and kept in memory.
//! Every prompt must be 8000 Hz, mono, 16-bit PCM; anything else is refused at start-up with
//! the file, what it is, and the command that converts it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The sample rate of prompts and of G.711.
pub const SAMPLE_RATE: u32 = 8000;

/// A prompt's samples, cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// The file name, e.g. `welcome-530100.wav`.
    pub name: String,
    samples: Arc<[i16]>,
}

impl Prompt {
    /// A prompt from samples (8 kHz).
    pub fn from_samples(name: &str, samples: Vec<i16>) -> Prompt {
        Prompt {
            name: name.to_string(),
            samples: samples.into(),
        }
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// How long it plays.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.samples.len() as u64 * 1000 / SAMPLE_RATE as u64)
    }
}

/// A prompt folder that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read the prompts folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
    #[error("{0}: not a readable WAV file: {1}")]
    Unreadable(PathBuf, hound::Error),
    #[error(
        "{file}: {found}; prompts must be 8000 Hz mono 16-bit PCM \
         (convert with: sox {file} -r 8000 -c 1 -b 16 -e signed-integer out.wav)"
    )]
    Format { file: PathBuf, found: String },
    #[error("missing prompts: {0}")]
    Missing(String),
}

/// Every prompt of a folder.
#[derive(Debug, Clone, Default)]
pub struct PromptLibrary {
    prompts: BTreeMap<String, Prompt>,
}

impl PromptLibrary {
    /// Reads every `*.wav` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<PromptLibrary, PromptError> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| PromptError::Folder(dir.to_path_buf(), e))?;
        let mut prompts = BTreeMap::new();
        for entry in entries {
            let path = entry
                .map_err(|e| PromptError::Folder(dir.to_path_buf(), e))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("wav") {
                continue;
            }
            let prompt = read(&path)?;
            prompts.insert(prompt.name.clone(), prompt);
        }
        Ok(PromptLibrary { prompts })
    }

    /// A prompt by file name.
    pub fn get(&self, name: &str) -> Option<Prompt> {
        self.prompts.get(name).cloned()
    }

    /// Fails naming every prompt of `names` that is missing.
    pub fn require(&self, names: &[String]) -> Result<(), PromptError> {
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !self.prompts.contains_key(n.as_str()))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(PromptError::Missing(missing.join(", ")))
        }
    }

    /// Every prompt name.
    pub fn names(&self) -> Vec<String> {
        self.prompts.keys().cloned().collect()
    }
}

fn read(path: &Path) -> Result<Prompt, PromptError> {
    let reader =
        hound::WavReader::open(path).map_err(|e| PromptError::Unreadable(path.to_path_buf(), e))?;
    let spec = reader.spec();
    if spec.sample_rate != SAMPLE_RATE
        || spec.channels != 1
        || spec.bits_per_sample != 16
        || spec.sample_format != hound::SampleFormat::Int
    {
        return Err(PromptError::Format {
            file: path.to_path_buf(),
            found: format!(
                "{} Hz, {} channel(s), {}-bit {:?}",
                spec.sample_rate, spec.channels, spec.bits_per_sample, spec.sample_format
            ),
        });
    }
    let samples = reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PromptError::Unreadable(path.to_path_buf(), e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    Ok(Prompt::from_samples(&name, samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, rate: u32, channels: u16) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.join(name), spec).unwrap();
        for i in 0..800 {
            w.write_sample((i * 10) as i16).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn loads_good_prompts_and_names_the_missing() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "hello.wav", 8000, 1);
        std::fs::write(dir.path().join("README.md"), "not a prompt").unwrap();
        let lib = PromptLibrary::load_dir(dir.path()).unwrap();
        let p = lib.get("hello.wav").unwrap();
        assert_eq!(p.samples().len(), 800);
        assert_eq!(p.samples()[3], 30);
        assert_eq!(p.duration(), Duration::from_millis(100));
        let err = lib
            .require(&["hello.wav".into(), "a.wav".into(), "b.wav".into()])
            .unwrap_err();
        assert_eq!(err.to_string(), "missing prompts: a.wav, b.wav");
    }

    #[test]
    fn refuses_other_formats_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "cd.wav", 44100, 2);
        let err = PromptLibrary::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("cd.wav: 44100 Hz, 2 channel(s)"), "{err}");
        assert!(err.contains("sox"), "{err}");
        std::fs::write(dir.path().join("cd.wav"), b"RIFFnonsense").unwrap();
        let err = PromptLibrary::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a readable WAV"), "{err}");
        let err = PromptLibrary::load_dir(Path::new("/nonexistent")).unwrap_err();
        assert!(matches!(err, PromptError::Folder(..)));
    }
}
