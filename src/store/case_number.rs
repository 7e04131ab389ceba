//! Case numbers: readable and unique, `{platform}-{YYYYMMDD}-{seq:06}` (the platform's division
//! code, the local date in Shanghai, the day's sequence for that platform), e.g.
//! `530100-20261125-000042`. The sequence comes from `case_counters`, incremented in the same
//! transaction that writes the case.

use chrono::{DateTime, FixedOffset, Utc};

/// China Standard Time (no daylight saving).
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// The counter day of a moment: `YYYYMMDD` in China Standard Time.
pub fn day_of(at: DateTime<Utc>) -> String {
    at.with_timezone(&china()).format("%Y%m%d").to_string()
}

/// Formats a case number.
pub fn format(platform: &str, day: &str, seq: i64) -> String {
    format!("{platform}-{day}-{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_day_decides() {
        let late_utc: DateTime<Utc> = "2026-11-24T16:30:00Z".parse().unwrap();
        assert_eq!(day_of(late_utc), "20261125", "00:30 in Shanghai");
        assert_eq!(format("530100", "20261125", 42), "530100-20261125-000042");
    }
}
