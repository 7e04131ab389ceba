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
    #[serde(default)]
    voicemail: Option<Spanned<VoicemailFile>>,
    #[serde(default)]
    queue: Option<Spanned<QueueFile>>,
    #[serde(default)]
    kpi: Option<Spanned<KpiFile>>,
    #[serde(default)]
    rating: Option<Spanned<super::services::RatingFile>>,
    #[serde(default)]
    lookup: Option<Spanned<super::services::LookupFile>>,
    #[serde(default)]
    callbacks: Option<Spanned<super::services::CallbacksFile>>,
    #[serde(default)]
    reminders: Option<Spanned<super::services::RemindersFile>>,
}

/// `[kpi]`: what the call figures are measured and judged against.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KpiFile {
    short_abandon_secs: Option<u64>,
    service_level_target: Option<f64>,
    connection_rate_target: Option<f64>,
}

/// How the call figures are measured ([`crate::kpi::KpiRules`]) and their targets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KpiSettings {
    pub rules: crate::kpi::KpiRules,
    pub targets: crate::kpi::live::KpiTargets,
}

/// A queue's settings as written: `[queue]` of hotline.toml (the defaults of every queue), or
/// one `[[queue]]` of queues.toml (which also names the queue, its platform and skills).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueFile {
    pub name: Option<String>,
    pub platform: Option<String>,
    pub skills: Option<std::collections::BTreeMap<String, u8>>,
    strategy: Option<String>,
    ring_timeout_secs: Option<u64>,
    wrap_up_secs: Option<u64>,
    max_wait_secs: Option<u64>,
    max_missed: Option<u32>,
    announce_every_secs: Option<u64>,
    pub overflow: Option<String>,
}

/// How a queue works. `[queue]` of hotline.toml sets them for every queue; a `[[queue]]` of
/// queues.toml may change them for its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// How the next operator is picked.
    pub strategy: crate::acd::Strategy,
    /// How long one offer rings.
    pub ring_timeout: std::time::Duration,
    /// After-call work time.
    pub wrap_up: std::time::Duration,
    /// Longest wait before overflow.
    pub max_wait: std::time::Duration,
    /// Offers missed in a row before a seat is set not-ready.
    pub max_missed: u32,
    /// How often a waiting caller hears the position.
    pub announce_every: std::time::Duration,
    /// `voicemail`, or the name of the queue that takes the overflow (a platform's own queue is
    /// named by its division code, e.g. `530000` for the provincial platform).
    pub overflow: String,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            strategy: crate::acd::Strategy::LongestIdle,
            ring_timeout: std::time::Duration::from_secs(15),
            wrap_up: std::time::Duration::from_secs(10),
            max_wait: std::time::Duration::from_secs(120),
            max_missed: 3,
            announce_every: std::time::Duration::from_secs(30),
            overflow: "voicemail".into(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VoicemailFile {
    max_secs: Option<u64>,
    silence_secs: Option<u64>,
    callback_by: Option<String>,
}

/// How voice messages are taken after hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailSettings {
    /// Longest message.
    pub max: std::time::Duration,
    /// Silence that ends a message.
    pub silence: std::time::Duration,
    /// Callbacks are due before this local time of the next staffed day.
    pub callback_by: chrono::NaiveTime,
}

impl Default for VoicemailSettings {
    fn default() -> Self {
        VoicemailSettings {
            max: std::time::Duration::from_secs(120),
            silence: std::time::Duration::from_secs(5),
            callback_by: chrono::NaiveTime::from_hms_opt(10, 0, 0).expect("10:00"),
        }
    }
}

impl QueueFile {
    /// The settings written here over `base`; a value out of range is a problem at `line`
    /// (`prefix` names the table in messages, e.g. `queue.`).
    pub(super) fn settings_over(
        &self,
        base: &QueueSettings,
        prefix: &str,
        path: &Path,
        line: usize,
        problems: &mut Vec<Problem>,
    ) -> QueueSettings {
        let mut queue = base.clone();
        let mut secs = |v: Option<u64>, range: std::ops::RangeInclusive<u64>, name: &str| {
            v.map(|s| {
                if !range.contains(&s) {
                    problems.push(Problem::at(
                        path,
                        line,
                        format!(
                            "{prefix}{name} must be {} to {}",
                            range.start(),
                            range.end()
                        ),
                    ));
                }
                std::time::Duration::from_secs(s)
            })
        };
        if let Some(d) = secs(self.ring_timeout_secs, 1..=120, "ring_timeout_secs") {
            queue.ring_timeout = d;
        }
        if let Some(d) = secs(self.wrap_up_secs, 0..=600, "wrap_up_secs") {
            queue.wrap_up = d;
        }
        if let Some(d) = secs(self.max_wait_secs, 5..=3600, "max_wait_secs") {
            queue.max_wait = d;
        }
        if let Some(d) = secs(self.announce_every_secs, 5..=600, "announce_every_secs") {
            queue.announce_every = d;
        }
        if let Some(s) = &self.strategy {
            match s.parse() {
                Ok(st) => queue.strategy = st,
                Err(e) => problems.push(Problem::at(path, line, format!("{prefix}strategy: {e}"))),
            }
        }
        if let Some(m) = self.max_missed {
            queue.max_missed = m.max(1);
        }
        if let Some(o) = &self.overflow {
            queue.overflow = o.clone();
        }
        queue
    }
}

/// The settings in `hotline.toml`.
pub(super) struct HotlineSettings {
    pub service_numbers: Vec<String>,
    pub time_zone: Tz,
    pub default_hours: DayHours,
    pub voicemail: VoicemailSettings,
    pub queue: QueueSettings,
    pub kpi: KpiSettings,
    pub rating: super::services::RatingSettings,
    pub lookup: super::services::LookupSettings,
    pub callbacks: super::services::CallbackSettings,
    pub reminders: super::services::ReminderSettings,
}

/// Reads `[kpi]`, noting its problems.
fn kpi_settings(
    file: &KpiFile,
    path: &Path,
    line: usize,
    problems: &mut Vec<Problem>,
) -> KpiSettings {
    let mut kpi = KpiSettings::default();
    if let Some(s) = file.short_abandon_secs {
        if s > 60 {
            problems.push(Problem::at(
                path,
                line,
                "kpi.short_abandon_secs must be 0 to 60",
            ));
        }
        kpi.rules.short_abandon = std::time::Duration::from_secs(s);
    }
    for (key, value, target) in [
        (
            "service_level_target",
            file.service_level_target,
            &mut kpi.targets.service_level,
        ),
        (
            "connection_rate_target",
            file.connection_rate_target,
            &mut kpi.targets.connection_rate,
        ),
    ] {
        if let Some(v) = value {
            if !(v > 0.0 && v <= 1.0) {
                problems.push(Problem::at(
                    path,
                    line,
                    format!("kpi.{key} must be a share above 0 and at most 1 (0.95 for 95 %)"),
                ));
            }
            *target = v;
        }
    }
    kpi
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
    let mut voicemail = VoicemailSettings::default();
    if let Some(vm) = &file.voicemail {
        let line = line_of(&text, vm.span().start);
        let vm = vm.get_ref();
        if let Some(max) = vm.max_secs {
            if !(5..=600).contains(&max) {
                problems.push(Problem::at(
                    path,
                    line,
                    "voicemail.max_secs must be 5 to 600",
                ));
            }
            voicemail.max = std::time::Duration::from_secs(max);
        }
        if let Some(silence) = vm.silence_secs {
            if !(1..=60).contains(&silence) {
                problems.push(Problem::at(
                    path,
                    line,
                    "voicemail.silence_secs must be 1 to 60",
                ));
            }
            voicemail.silence = std::time::Duration::from_secs(silence);
        }
        if let Some(by) = &vm.callback_by {
            match chrono::NaiveTime::parse_from_str(by, "%H:%M") {
                Ok(t) => voicemail.callback_by = t,
                Err(_) => problems.push(Problem::at(
                    path,
                    line,
                    format!("voicemail.callback_by {by:?} must be HH:MM"),
                )),
            }
        }
    }
    let mut queue = QueueSettings::default();
    if let Some(q) = &file.queue {
        let line = line_of(&text, q.span().start);
        let q = q.get_ref();
        for (key, set) in [
            ("name", q.name.is_some()),
            ("platform", q.platform.is_some()),
            ("skills", q.skills.is_some()),
        ] {
            if set {
                problems.push(Problem::at(
                    path,
                    line,
                    format!(
                        "queue.{key} belongs in a [[queue]] of queues.toml, not in the defaults"
                    ),
                ));
            }
        }
        queue = q.settings_over(&queue, "queue.", path, line, problems);
    }
    let kpi = match &file.kpi {
        Some(k) => kpi_settings(k.get_ref(), path, line_of(&text, k.span().start), problems),
        None => KpiSettings::default(),
    };
    let table = |span: std::ops::Range<usize>| line_of(&text, span.start);
    let rating = file.rating.as_ref().map_or_else(Default::default, |f| {
        super::services::rating(f.get_ref(), path, table(f.span()), problems)
    });
    let lookup = file.lookup.as_ref().map_or_else(Default::default, |f| {
        super::services::lookup(f.get_ref(), path, table(f.span()), problems)
    });
    let callbacks = file.callbacks.as_ref().map_or_else(Default::default, |f| {
        super::services::callbacks(f.get_ref(), path, table(f.span()), problems)
    });
    let reminders = file.reminders.as_ref().map_or_else(Default::default, |f| {
        super::services::reminders(f.get_ref(), path, table(f.span()), problems)
    });
    if problems.len() > before {
        return None;
    }
    Some(HotlineSettings {
        rating,
        lookup,
        callbacks,
        reminders,
        kpi,
        queue,
        voicemail,
        service_numbers,
        time_zone: time_zone?,
        default_hours: default_hours?,
    })
}
