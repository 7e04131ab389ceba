//! `platforms.toml`: the platforms behind 12345.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};
use crate::calendar::{DayHours, StaffingHours};
use crate::routing::{Platform, PlatformLevel};

/// The platforms with their staffed hours (dated exceptions are added later).
pub(super) struct LoadedPlatforms {
    pub platforms: Vec<Platform>,
    pub hours: HashMap<String, StaffingHours>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformsFile {
    platform: Vec<Spanned<PlatformEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformEntry {
    code: String,
    name_zh: String,
    name_en: String,
    area_code: Option<String>,
    level: Level,
    welcome_prompt: Option<String>,
    after_hours_prompt: Option<String>,
    /// Staffed periods of every day, e.g. `["08:00-20:00"]`; default from `hotline.toml`.
    hours: Option<Vec<String>>,
    /// Per-weekday periods overriding `hours`, e.g. `sat = ["09:00-17:00"]`.
    weekly: Option<HashMap<Weekday, Vec<String>>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Level {
    Province,
    Prefecture,
}

pub(super) fn load(
    path: &Path,
    default_hours: Option<&DayHours>,
    problems: &mut Vec<Problem>,
) -> Option<LoadedPlatforms> {
    let (text, file) = parse_toml::<PlatformsFile>(path, problems)?;
    let before = problems.len();
    let mut codes: HashMap<String, usize> = HashMap::new();
    let mut areas: HashMap<String, usize> = HashMap::new();
    let mut provincial = Vec::new();
    let mut platforms = Vec::new();
    let mut hours = HashMap::new();
    for spanned in file.platform {
        let line = line_of(&text, spanned.span().start);
        let entry = spanned.into_inner();
        let mut problem = |message: String| problems.push(Problem::at(path, line, message));
        if entry.code.len() != 6 || !entry.code.bytes().all(|b| b.is_ascii_digit()) {
            problem(format!(
                "code {:?} must be a 6-digit division code such as \"530100\"",
                entry.code
            ));
        }
        if let Some(first) = codes.insert(entry.code.clone(), line) {
            problem(format!(
                "code {} is already used at line {first}",
                entry.code
            ));
        }
        if entry.name_zh.trim().is_empty() || entry.name_en.trim().is_empty() {
            problem("name_zh and name_en must not be empty".into());
        }
        match (entry.level, &entry.area_code) {
            (Level::Province, Some(_)) => problem(
                "the provincial platform has no area_code: it takes what no area rule routes"
                    .into(),
            ),
            (Level::Prefecture, None) => problem("a prefecture platform needs an area_code".into()),
            (_, Some(area)) => {
                let valid = (3..=4).contains(&area.len())
                    && area.starts_with('0')
                    && area.bytes().all(|b| b.is_ascii_digit());
                if !valid {
                    problem(format!(
                        "area_code {area:?} must be 3 or 4 digits starting with 0, such as \"0871\""
                    ));
                }
                if let Some(first) = areas.insert(area.clone(), line) {
                    problem(format!("area_code {area} is already used at line {first}"));
                }
            }
            (Level::Province, None) => provincial.push(line),
        }
        for (field, prompt) in [
            ("welcome_prompt", &entry.welcome_prompt),
            ("after_hours_prompt", &entry.after_hours_prompt),
        ] {
            if let Some(prompt) = prompt {
                if !prompt.ends_with(".wav") || prompt.contains('/') || prompt.contains('\\') {
                    problem(format!(
                        "{field} {prompt:?} must be a .wav file name in the prompts folder"
                    ));
                }
            }
        }
        let mut parse_day = |periods: &[String], what: &str| match DayHours::parse(periods) {
            Ok(day) => Some(day),
            Err(e) => {
                problem(format!("{what}: {e}"));
                None
            }
        };
        let every_day = match &entry.hours {
            Some(periods) => parse_day(periods, "hours"),
            None => default_hours.cloned(),
        };
        if let Some(every_day) = every_day {
            let mut week: [DayHours; 7] = std::array::from_fn(|_| every_day.clone());
            for (day, periods) in entry.weekly.iter().flatten() {
                if let Some(h) = parse_day(periods, "weekly") {
                    week[*day as usize] = h;
                }
            }
            hours.insert(entry.code.clone(), StaffingHours::new(week, HashMap::new()));
        }
        platforms.push(Platform {
            after_hours_prompt: entry
                .after_hours_prompt
                .unwrap_or_else(|| "after-hours.wav".to_string()),
            welcome_prompt: entry
                .welcome_prompt
                .unwrap_or_else(|| format!("welcome-{}.wav", entry.code)),
            code: entry.code,
            name_zh: entry.name_zh,
            name_en: entry.name_en,
            area_code: entry.area_code,
            level: match entry.level {
                Level::Province => PlatformLevel::Province,
                Level::Prefecture => PlatformLevel::Prefecture,
            },
        });
    }
    match provincial.len() {
        1 => {}
        0 => problems.push(Problem::file(
            path,
            "no platform has level = \"province\": exactly one provincial platform is needed",
        )),
        _ => problems.push(Problem::at(
            path,
            provincial[1],
            format!(
                "a second provincial platform (the first is at line {}): exactly one is allowed",
                provincial[0]
            ),
        )),
    }
    (problems.len() == before).then_some(LoadedPlatforms { platforms, hours })
}
