//! The call figures as series for the charts: per local hour (offered, answered, abandoned)
//! and per local day (the service level and connection rate), each computed by [`report`]
//! over its own hour or day, so that a series adds up to the period's figures. The log is
//! split once, each call's entries going to the hour or day in which it entered its queue,
//! so that a year of days costs one pass, not one pass a day.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use std::collections::HashMap;

use super::{report, KpiRules};
use crate::acd::engine::{QueueLogEntry, QueueLogKind};

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

/// The province-wide figures of each period `[starts[i], starts[i + 1])`, the last ending at
/// `end`: each call's entries go to the period in which it entered its queue.
fn by_period(
    log: &[QueueLogEntry],
    starts: &[DateTime<Utc>],
    end: DateTime<Utc>,
    rules: &KpiRules,
) -> Vec<super::Kpi> {
    let Some(first) = starts.first().copied() else {
        return Vec::new();
    };
    let mut period_of: HashMap<(&str, &str), usize> = HashMap::new();
    for e in log {
        if matches!(e.kind, QueueLogKind::EnterQueue) && e.at >= first && e.at < end {
            let i = starts.partition_point(|s| *s <= e.at) - 1;
            period_of.insert((e.queue.as_str(), e.call.as_str()), i);
        }
    }
    let mut parts: Vec<Vec<&QueueLogEntry>> = vec![Vec::new(); starts.len()];
    for e in log {
        if let Some(i) = period_of.get(&(e.queue.as_str(), e.call.as_str())) {
            parts[*i].push(e);
        }
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let until = starts.get(i + 1).copied().unwrap_or(end);
            report(part.iter().copied(), starts[i], until, rules, |_| None).province
        })
        .collect()
}

/// Calls per local hour of `[from, to)` (every hour, empty ones included).
pub fn hourly(
    log: &[QueueLogEntry],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: Tz,
    rules: &KpiRules,
) -> Vec<HourRow> {
    let mut hours = Vec::new();
    let mut start = hour_start(from, tz);
    while start < to {
        hours.push(start);
        start += Duration::hours(1);
    }
    let starts: Vec<DateTime<Utc>> = hours.iter().map(|h| (*h).max(from)).collect();
    by_period(log, &starts, to, rules)
        .into_iter()
        .zip(hours)
        .map(|(k, hour)| HourRow {
            hour: hour.with_timezone(&tz).format("%Y-%m-%d %H:00").to_string(),
            offered: k.offered,
            answered: k.answered,
            abandoned: k.abandoned,
        })
        .collect()
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
    let days: Vec<(NaiveDate, DateTime<Utc>)> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter_map(|day| Some((day, midnight(day)?)))
        .collect();
    let Some(end) = last.succ_opt().and_then(midnight) else {
        return Vec::new();
    };
    let starts: Vec<DateTime<Utc>> = days.iter().map(|(_, at)| *at).collect();
    by_period(log, &starts, end, rules)
        .into_iter()
        .zip(days)
        .map(|(k, (day, _))| DayRow {
            day,
            offered: k.offered,
            answered: k.answered,
            service_level: k.service_level,
            connection_rate: k.connection_rate,
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
