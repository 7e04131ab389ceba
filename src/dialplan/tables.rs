//! The CSV tables of the dialplan: `mobile-prefixes.csv` and `holidays.csv`.
//! Lines starting with `#` are comments; the first other line is the header.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::error::Problem;
use crate::calendar::{CalendarEntry, DayKind, WorkingCalendar};
use crate::routing::router::MOBILE_PREFIX_LENGTHS;
use crate::routing::{MobilePrefix, Platform};

/// Reads the rows of a CSV file with their line numbers; notes malformed rows and goes on,
/// so that one run reports every bad row. None when the file cannot be read at all.
pub(super) fn rows<T: DeserializeOwned>(
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Option<Vec<(usize, T)>> {
    let mut reader = match csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
    {
        Ok(r) => r,
        Err(e) => {
            problems.push(Problem::file(path, format!("cannot read: {e}")));
            return None;
        }
    };
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(Problem::file(path, format!("cannot read the header: {e}")));
            return None;
        }
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(match e.position() {
                    Some(pos) => Problem::at(path, pos.line() as usize, e.to_string()),
                    None => Problem::file(path, e.to_string()),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        match record.deserialize::<T>(Some(&headers)) {
            Ok(row) => out.push((line, row)),
            Err(e) => {
                let message = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
                    _ => e.to_string(),
                };
                problems.push(Problem::at(path, line, message));
            }
        }
    }
    Some(out)
}

#[derive(Deserialize)]
struct PrefixRow {
    prefix: String,
    division_code: String,
    area_code: String,
}

pub(super) fn load_mobile_prefixes(
    path: &Path,
    platforms: &[Platform],
    problems: &mut Vec<Problem>,
) -> Option<Vec<MobilePrefix>> {
    let before = problems.len();
    let rows = rows::<PrefixRow>(path, problems)?;
    let by_code: HashMap<&str, &Platform> =
        platforms.iter().map(|p| (p.code.as_str(), p)).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let valid = MOBILE_PREFIX_LENGTHS.contains(&row.prefix.len())
            && row.prefix.starts_with('1')
            && row.prefix.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            problems.push(Problem::at(
                path,
                line,
                format!(
                    "prefix {:?} must be 5 to 7 digits starting with 1",
                    row.prefix
                ),
            ));
        }
        if let Some(first) = seen.insert(row.prefix.clone(), line) {
            problems.push(Problem::at(
                path,
                line,
                format!("prefix {} is already listed at line {first}", row.prefix),
            ));
        }
        if !platforms.is_empty() {
            match by_code.get(row.division_code.as_str()) {
                None => problems.push(Problem::at(
                    path,
                    line,
                    format!(
                        "division_code {} is not a platform in platforms.toml",
                        row.division_code
                    ),
                )),
                Some(p) if p.area_code.as_deref() != Some(row.area_code.as_str()) => {
                    problems.push(Problem::at(
                        path,
                        line,
                        format!(
                            "area_code {} does not match platform {} ({:?} in platforms.toml)",
                            row.area_code,
                            p.code,
                            p.area_code.as_deref().unwrap_or("")
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        out.push(MobilePrefix {
            prefix: row.prefix,
            platform: row.division_code,
        });
    }
    (problems.len() == before).then_some(out)
}

#[derive(Deserialize)]
struct HolidayRow {
    date: String,
    kind: String,
    name: String,
}

pub(super) fn load_calendar(path: &Path, problems: &mut Vec<Problem>) -> Option<WorkingCalendar> {
    let before = problems.len();
    let rows = rows::<HolidayRow>(path, problems)?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut lines = HashMap::new();
    for (line, row) in rows {
        let date = match NaiveDate::parse_from_str(&row.date, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                problems.push(Problem::at(
                    path,
                    line,
                    format!("date {:?} must be YYYY-MM-DD", row.date),
                ));
                continue;
            }
        };
        let kind = match row.kind.as_str() {
            "holiday" => DayKind::Holiday,
            "workday" => DayKind::Workday,
            other => {
                problems.push(Problem::at(
                    path,
                    line,
                    format!("kind {other:?} must be \"holiday\" or \"workday\""),
                ));
                continue;
            }
        };
        lines.insert(date, line);
        entries.push(CalendarEntry {
            date,
            kind,
            name: row.name,
        });
    }
    if problems.len() > before {
        return None;
    }
    match WorkingCalendar::new(entries) {
        Ok(cal) => Some(cal),
        Err(e) => {
            let date = match &e {
                crate::calendar::CalendarError::Duplicate(d) => *d,
                crate::calendar::CalendarError::WorkdayNotWeekend(d, _) => *d,
            };
            problems.push(match lines.get(&date) {
                Some(&line) => Problem::at(path, line, e.to_string()),
                None => Problem::file(path, e.to_string()),
            });
            None
        }
    }
}

#[derive(Deserialize)]
struct ExceptionRow {
    date: String,
    platform: String,
    hours: String,
}

/// Adds the dated exceptions of `staffing-exceptions.csv` to each platform's hours.
pub(super) fn load_staffing_exceptions(
    path: &Path,
    hours: &mut HashMap<String, crate::calendar::StaffingHours>,
    problems: &mut Vec<Problem>,
) {
    let Some(rows) = rows::<ExceptionRow>(path, problems) else {
        return;
    };
    let mut seen: HashMap<(NaiveDate, String), usize> = HashMap::new();
    for (line, row) in rows {
        let Ok(date) = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d") else {
            problems.push(Problem::at(
                path,
                line,
                format!("date {:?} must be YYYY-MM-DD", row.date),
            ));
            continue;
        };
        let day = if row.hours == "closed" {
            Ok(crate::calendar::DayHours::closed())
        } else {
            let periods: Vec<&str> = row.hours.split_whitespace().collect();
            if periods.is_empty() {
                problems.push(Problem::at(
                    path,
                    line,
                    "hours is empty: write \"closed\" or periods",
                ));
                continue;
            }
            crate::calendar::DayHours::parse(&periods)
        };
        let day = match day {
            Ok(d) => d,
            Err(e) => {
                problems.push(Problem::at(path, line, e.to_string()));
                continue;
            }
        };
        let targets: Vec<String> = if row.platform == "*" {
            hours.keys().cloned().collect()
        } else if hours.contains_key(&row.platform) {
            vec![row.platform.clone()]
        } else {
            problems.push(Problem::at(
                path,
                line,
                format!(
                    "platform {} is not in platforms.toml (use * for all)",
                    row.platform
                ),
            ));
            continue;
        };
        if let Some(first) = seen.insert((date, row.platform.clone()), line) {
            problems.push(Problem::at(
                path,
                line,
                format!(
                    "{} for {} is already given at line {first}",
                    row.date, row.platform
                ),
            ));
        }
        for code in targets {
            if let Some(h) = hours.get_mut(&code) {
                h.set_exception(date, day.clone());
            }
        }
    }
}
