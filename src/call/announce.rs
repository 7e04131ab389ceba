//! What a waiting caller hears every `announce_every_secs`: their position and an estimated
//! wait, in Mandarin, put together from short prompts:
//!
//! `queue-position.wav` 您前面还有 · *callers ahead* · `queue-callers.wav` 位来电，请耐心等候。
//! (the next in line hears `queue-next.wav` 您是下一位，请稍候。) ·
//! `queue-wait.wav` 预计等待 · *minutes* · `queue-minutes.wav` 分钟。 (or `queue-wait-short.wav`
//! 预计等待不到一分钟。 under a minute).
//!
//! Numbers are read as Mandarin numbers (二十三 = 2 · 10 · 3), not digit by digit; past 99
//! digit by digit.

use std::time::Duration;

/// The prompt files that say `n` in Mandarin: `digit-<d>.wav` and `digit-10.wav` (十).
pub fn number_prompts(n: usize) -> Vec<String> {
    let digit = |d: usize| format!("digit-{d}.wav");
    let ten = || "digit-10.wav".to_string();
    match n {
        0..=9 => vec![digit(n)],
        10..=19 => std::iter::once(ten())
            .chain((n > 10).then(|| digit(n - 10)))
            .collect(),
        20..=99 => [digit(n / 10), ten()]
            .into_iter()
            .chain((n % 10 != 0).then(|| digit(n % 10)))
            .collect(),
        _ => n
            .to_string()
            .bytes()
            .map(|b| digit((b - b'0') as usize))
            .collect(),
    }
}

/// The prompt files of one announcement: position (1 = next), then the estimated wait in
/// whole minutes, rounded up.
pub fn position_and_wait(position: usize, estimated_wait: Duration) -> Vec<String> {
    let mut out = Vec::new();
    if position <= 1 {
        out.push("queue-next.wav".to_string());
    } else {
        // "您前面还有 N 位来电": the callers ahead.
        out.push("queue-position.wav".into());
        out.extend(number_prompts(position - 1));
        out.push("queue-callers.wav".into());
    }
    let secs = estimated_wait.as_secs();
    if secs < 60 {
        out.push("queue-wait-short.wav".into());
    } else {
        out.push("queue-wait.wav".into());
        out.extend(number_prompts(secs.div_ceil(60) as usize));
        out.push("queue-minutes.wav".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(names: Vec<String>) -> String {
        names
            .iter()
            .map(|n| {
                n.trim_start_matches("digit-")
                    .trim_end_matches(".wav")
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn numbers_are_read_as_mandarin_numbers() {
        assert_eq!(said(number_prompts(0)), "0");
        assert_eq!(said(number_prompts(7)), "7");
        assert_eq!(said(number_prompts(10)), "10");
        assert_eq!(said(number_prompts(13)), "10 3");
        assert_eq!(said(number_prompts(20)), "2 10");
        assert_eq!(said(number_prompts(23)), "2 10 3");
        assert_eq!(said(number_prompts(99)), "9 10 9");
        assert_eq!(said(number_prompts(105)), "1 0 5");
    }

    #[test]
    fn the_announcement_says_who_is_ahead_and_the_wait_in_minutes() {
        assert_eq!(
            said(position_and_wait(3, Duration::from_secs(150))),
            "queue-position 2 queue-callers queue-wait 3 queue-minutes"
        );
        // The next caller has nobody ahead; under a minute is said as such.
        assert_eq!(
            said(position_and_wait(1, Duration::from_secs(59))),
            "queue-next queue-wait-short"
        );
        // Exactly two minutes is two, a second more is three.
        assert_eq!(
            said(position_and_wait(12, Duration::from_secs(120))),
            "queue-position 10 1 queue-callers queue-wait 2 queue-minutes"
        );
        assert_eq!(
            said(position_and_wait(12, Duration::from_secs(121))),
            "queue-position 10 1 queue-callers queue-wait 3 queue-minutes"
        );
    }
}
