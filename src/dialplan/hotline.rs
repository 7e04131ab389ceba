//! `hotline.toml`: settings of the whole hotline.

use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};
use crate::calendar::DayHours;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HotlineFile {
    service_numbers: Spanned<Vec<String>>,
    time_zone: Spanned<String>,
    default_hours: Spanned<Vec<String>>,
}

/// The settings in `hotline.toml`.
pub(super) struct HotlineSettings {
    pub service_numbers: Vec<String>,
    pub time_zone: Tz,
    pub default_hours: DayHours,
}

pub(super) fn load(path: &Path, problems: &mut Vec<Problem>) -> Option<HotlineSettings> {
    let (text, file) = parse_toml::<HotlineFile>(path, problems)?;
    let before = problems.len();
    let numbers_line = line_of(&text, file.service_numbers.span().start);
    let service_numbers = file.service_numbers.into_inner();
    if service_numbers.is_empty() {
        problems.push(Problem::at(path, numbers_line, "service_numbers is empty"));
    }
    for n in &service_numbers {
        if !(3..=8).contains(&n.len()) || !n.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(Problem::at(
                path,
                numbers_line,
                format!("service number {n:?} must be 3 to 8 digits"),
            ));
        }
    }
    let tz_line = line_of(&text, file.time_zone.span().start);
    let time_zone = match file.time_zone.get_ref().parse::<Tz>() {
        Ok(tz) => Some(tz),
        Err(_) => {
            problems.push(Problem::at(
                path,
                tz_line,
                format!(
                    "unknown time zone {:?} (an IANA name such as \"Asia/Shanghai\")",
                    file.time_zone.get_ref()
                ),
            ));
            None
        }
    };
    let hours_line = line_of(&text, file.default_hours.span().start);
    let default_hours = match DayHours::parse(file.default_hours.get_ref()) {
        Ok(h) => Some(h),
        Err(e) => {
            problems.push(Problem::at(path, hours_line, format!("default_hours: {e}")));
            None
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(HotlineSettings {
        service_numbers,
        time_zone: time_zone?,
        default_hours: default_hours?,
    })
}
