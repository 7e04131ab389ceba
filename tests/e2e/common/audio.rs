//! Audio checks: what the caller should hear, as it arrives through G.711.

use hotline12345::media::g711::Codec;

use super::phone::RtpSeen;
use super::server::project_dir;

/// The longest prompt the tests play: the bundled prompts cut to this (the real ones run to
/// 23 s, and tests would mostly wait for them to end).
pub const TEST_PROMPT_SECONDS: usize = 1;

/// The prompts folder the test servers use: the bundled prompts, each cut to
/// [`TEST_PROMPT_SECONDS`] (made once per test binary).
pub fn test_prompts() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(project_dir("prompts")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("wav") {
                continue;
            }
            let mut reader = hound::WavReader::open(&path).unwrap();
            let spec = reader.spec();
            let keep = TEST_PROMPT_SECONDS * spec.sample_rate as usize;
            let samples: Vec<i16> = reader
                .samples::<i16>()
                .take(keep)
                .map(Result::unwrap)
                .collect();
            let mut writer =
                hound::WavWriter::create(dir.path().join(path.file_name().unwrap()), spec).unwrap();
            for s in samples {
                writer.write_sample(s).unwrap();
            }
            writer.finalize().unwrap();
        }
        dir
    })
    .path()
}

/// A prompt's samples as the test servers play it (from [`test_prompts`]), read with hound.
pub fn prompt_samples(name: &str) -> Vec<i16> {
    let mut reader = hound::WavReader::open(test_prompts().join(name)).expect("prompt");
    reader.samples::<i16>().map(Result::unwrap).collect()
}

/// The samples a caller hears of `samples` after G.711 coding (what exact comparison needs).
pub fn through_codec(codec: Codec, samples: &[i16]) -> Vec<i16> {
    codec.decode(&codec.encode(samples))
}

/// Checks an RTP stream: one SSRC, consecutive sequence numbers, timestamps +160 per packet
/// within a talkspurt. A new talkspurt (marker bit set) may move the timestamp on by the gap's
/// length (8 samples a millisecond): that is how the sender marks a gap (RFC 3551 §4.1), as
/// its pacer does when the machine stalled it for more than 100 ms (`src/media/pacer.rs`); it
/// never goes back.
pub fn assert_rtp_stream_is_well_formed(packets: &[RtpSeen]) {
    assert!(!packets.is_empty(), "no RTP arrived");
    let ssrc = packets[0].ssrc;
    for pair in packets.windows(2) {
        assert_eq!(pair[1].ssrc, ssrc, "SSRC changed within a stream");
        assert_eq!(
            pair[1].seq,
            pair[0].seq.wrapping_add(1),
            "sequence numbers not consecutive"
        );
        let step = pair[1].timestamp.wrapping_sub(pair[0].timestamp);
        if pair[1].marker && step != 160 {
            assert!(
                step > 160 && step < 8000 * 60,
                "a new talkspurt moves the timestamp on by its gap, not by {step}"
            );
        } else {
            assert_eq!(
                step, 160,
                "timestamps not +160 per 20 ms packet within a talkspurt"
            );
        }
        assert_eq!(pair[1].payload.len(), 160, "payload is not 20 ms of G.711");
    }
}

/// Decodes the audio payloads of a stream in order.
pub fn decode_stream(codec: Codec, packets: &[RtpSeen]) -> Vec<i16> {
    packets
        .iter()
        .filter(|p| p.payload_type == codec.payload_type())
        .flat_map(|p| codec.decode(&p.payload))
        .collect()
}

/// Where (sample offset) the first `len` samples of a prompt start in `heard`, as they arrive
/// through `codec`; None when they never do. Prompts start on a frame boundary, so the match
/// is exact.
pub fn find_prompt(heard: &[i16], codec: Codec, name: &str, len: usize) -> Option<usize> {
    let samples = prompt_samples(name);
    let wanted = through_codec(codec, &samples[..len.min(samples.len())]);
    heard
        .windows(wanted.len())
        .position(|w| w == wanted.as_slice())
}

/// A sine tone at `freq` Hz, 8 kHz, of `samples` samples.
pub fn tone(freq: f64, samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|i| (f64::sin(2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0) * 7000.0) as i16)
        .collect()
}

/// Best normalised correlation of `needle` inside `hay` (1.0: found as it is). Searched at
/// every 20 ms frame first, then sample by sample around the best frame: audio that crosses
/// the server keeps its frames, and a full search of every lag is too slow for a debug build.
pub fn correlation(hay: &[i16], needle: &[i16]) -> f64 {
    let energy = |s: &[i16]| s.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let ne = energy(needle);
    let at = |lag: usize| {
        let w = &hay[lag..lag + needle.len()];
        let dot: f64 = w
            .iter()
            .zip(needle)
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum();
        dot / (energy(w) * ne).max(1.0)
    };
    let last = hay.len().saturating_sub(needle.len());
    if hay.len() < needle.len() {
        return 0.0;
    }
    let (best_lag, _) = (0..=last)
        .step_by(160)
        .map(|lag| (lag, at(lag)))
        .fold((0, f64::MIN), |b, c| if c.1 > b.1 { c } else { b });
    (best_lag.saturating_sub(160)..=(best_lag + 160).min(last))
        .map(at)
        .fold(0.0, f64::max)
}

/// How much of the energy of `samples` (8 kHz) lies at `freq` Hz, from 0 to 1: the Goertzel
/// power at `freq` over the whole signal's, for audio that went through a browser (resampled,
/// so no longer sample-exact) and must still carry a known tone.
pub fn tone_share(samples: &[i16], freq: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = x as f64 + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let energy: f64 = samples.iter().map(|&x| (x as f64).powi(2)).sum();
    // A pure tone of N samples and amplitude A: power (N·A/2)², energy N·A²/2.
    (2.0 * power / (samples.len() as f64 * energy.max(1.0))).min(1.0)
}
