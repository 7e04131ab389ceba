//! The call figures as series for the charts: per local hour (offered, answered, abandoned)
//! and per local day (the service level and connection rate), each computed by [`report`]
//! over its own hour or day, so that a series adds up to the period's figures.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{report, KpiRules};
use crate::acd::engine::QueueLogEntry;

/// One hour of calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourRow {
    /// The hour's start, local time (`2026-12-01 09:00`).
    pub hour: String,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
}

/// One day's service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayRow {
    /// The local date.
    pub day: NaiveDate,
    pub offered: u64,
    pub answered: u64,
    pub service_level: Option<f64>,
    pub connection_rate: Option<f64>,
}

/// The start of the local hour that holds `t`.
fn hour_start(t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local = t.with_timezone(&tz);
    let start = local
        .with_minute(0)
        .and_then(|l| l.with_second(0))
        .and_then(|l| l.with_nanosecond(0))
        .unwrap_or(local);
    start.with_timezone(&Utc)
}

/// Calls per local hour of `[from, to)` (every hour, empty ones included).
pub fn hourly(
    log: &[QueueLogEntry],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: Tz,
    rules: &KpiRules,
) -> Vec<HourRow> {
    let mut rows = Vec::new();
    let mut start = hour_start(from, tz);
    while start < to {
        let end = start + Duration::hours(1);
        let k = report(log, start.max(from), end.min(to), rules, |_| None).province;
        rows.push(HourRow {
            hour: start
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:00")
                .to_string(),
            offered: k.offered,
            answered: k.answered,
            abandoned: k.abandoned,
        });
        start = end;
    }
    rows
}

/// The service of each local day from `first` to `last`, both included.
pub fn daily(
    log: &[QueueLogEntry],
    first: NaiveDate,
    last: NaiveDate,
    tz: Tz,
    rules: &KpiRules,
) -> Vec<DayRow> {
    let midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|m| tz.from_local_datetime(&m).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter_map(|day| {
            let (from, to) = (midnight(day)?, midnight(day.succ_opt()?)?);
            let k = report(log, from, to, rules, |_| None).province;
            Some(DayRow {
                day,
                offered: k.offered,
                answered: k.answered,
                service_level: k.service_level,
                connection_rate: k.connection_rate,
            })
        })
        .collect()
}

/// The hours folded onto the 24 hours of the day (`00:00` … `23:00`): each hour of the day's
/// calls over every day of the period.
pub fn by_hour_of_day(hours: &[HourRow]) -> Vec<HourRow> {
    let mut day: Vec<HourRow> = (0..24)
        .map(|h| HourRow {
            hour: format!("{h:02}:00"),
            offered: 0,
            answered: 0,
            abandoned: 0,
        })
        .collect();
    for row in hours {
        let Some(h) = row
            .hour
            .get(11..13)
            .and_then(|h| h.parse::<usize>().ok())
            .filter(|h| *h < 24)
        else {
            continue;
        };
        day[h].offered += row.offered;
        day[h].answered += row.answered;
        day[h].abandoned += row.abandoned;
    }
    day
}
