//! Helpers for tests of the calendar and of rules built on it.

use chrono::{DateTime, TimeZone, Utc};

/// A Shanghai wall-clock time (`YYYY-MM-DD HH:MM`) as UTC.
pub fn shanghai(s: &str) -> DateTime<Utc> {
    let naive =
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("YYYY-MM-DD HH:MM");
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&naive)
        .single()
        .expect("a local time that exists")
        .with_timezone(&Utc)
}
