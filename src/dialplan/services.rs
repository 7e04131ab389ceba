//! What `hotline.toml` says of the hotline's services beyond answering: the caller's rating of
//! the call (`[rating]`), the progress lookup by phone (`[lookup]`), the callbacks the hotline
//! owes (`[callbacks]`) and the phone reminders to units that have not signed (`[reminders]`).
//! Each table is optional; its defaults are those of [`Default`].

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::error::Problem;

/// `[rating]`: after the operator hangs up, the caller rates the call by a key (好差评).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingSettings {
    /// Whether the caller is asked.
    pub enabled: bool,
    /// How long a key is awaited after the prompt.
    pub wait: Duration,
}

impl Default for RatingSettings {
    fn default() -> Self {
        RatingSettings {
            enabled: true,
            wait: Duration::from_secs(5),
        }
    }
}

/// `[lookup]`: a caller who presses `key` during the greeting looks up a case of theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupSettings {
    /// The key (None: no lookup by phone).
    pub key: Option<char>,
    /// How long the caller has for each key of the case number.
    pub digit_wait: Duration,
    /// Tries before the caller goes on to an operator.
    pub tries: u32,
}

impl Default for LookupSettings {
    fn default() -> Self {
        LookupSettings {
            key: Some('0'),
            digit_wait: Duration::from_secs(10),
            tries: 3,
        }
    }
}

/// `[callbacks]`: how the hotline calls back those it owes a call (missed calls, voice
/// messages) and those whose case was handled (回访).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackSettings {
    /// Whether missed callers are offered to free seats by themselves (during staffed hours,
    /// when no caller waits); an operator may always call back from the list.
    pub automatic: bool,
    /// Attempts per caller before the list gives up on them.
    pub attempts: u32,
    /// The least time between two attempts at the same caller.
    pub spacing: Duration,
    /// How long the seat rings (it is called first).
    pub ring_seat: Duration,
    /// How long the caller's phone rings.
    pub ring_caller: Duration,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            automatic: true,
            attempts: 3,
            spacing: Duration::from_secs(30 * 60),
            ring_seat: Duration::from_secs(15),
            ring_caller: Duration::from_secs(40),
        }
    }
}

/// `[reminders]`: a unit that has not signed a dispatched case is called on its liaison's
/// number (units.csv), hears the case number and the deadline, and may sign by pressing 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSettings {
    pub enabled: bool,
    /// After how long unsigned the first call is made (the sign limit is 2 hours).
    pub after: Duration,
    /// Calls per case at most.
    pub attempts: u32,
    /// The least time between two calls about the same case.
    pub spacing: Duration,
    /// How long the liaison's phone rings.
    pub ring: Duration,
    /// How long a key is awaited after the message (it is said twice).
    pub wait: Duration,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        ReminderSettings {
            enabled: true,
            after: Duration::from_secs(60 * 60),
            attempts: 2,
            spacing: Duration::from_secs(20 * 60),
            ring: Duration::from_secs(40),
            wait: Duration::from_secs(8),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RatingFile {
    enabled: Option<bool>,
    wait_secs: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct LookupFile {
    key: Option<String>,
    digit_wait_secs: Option<u64>,
    tries: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct CallbacksFile {
    automatic: Option<bool>,
    attempts: Option<u32>,
    spacing_mins: Option<u64>,
    ring_seat_secs: Option<u64>,
    ring_caller_secs: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RemindersFile {
    enabled: Option<bool>,
    after_mins: Option<u64>,
    attempts: Option<u32>,
    spacing_mins: Option<u64>,
    ring_secs: Option<u64>,
    wait_secs: Option<u64>,
}

/// Checks a number against its range, noting a problem at `line`; the value as a Duration
/// of `unit` seconds.
struct Check<'p> {
    path: &'p Path,
    line: usize,
    problems: &'p mut Vec<Problem>,
}

impl Check<'_> {
    fn within(&mut self, name: &str, v: u64, range: std::ops::RangeInclusive<u64>) -> u64 {
        if !range.contains(&v) {
            self.problems.push(Problem::at(
                self.path,
                self.line,
                format!("{name} must be {} to {}", range.start(), range.end()),
            ));
        }
        v
    }

    fn secs(
        &mut self,
        name: &str,
        v: Option<u64>,
        range: std::ops::RangeInclusive<u64>,
        unit: u64,
        default: Duration,
    ) -> Duration {
        v.map_or(default, |v| {
            Duration::from_secs(self.within(name, v, range) * unit)
        })
    }
}

pub(super) fn rating(
    f: &RatingFile,
    path: &Path,
    line: usize,
    problems: &mut Vec<Problem>,
) -> RatingSettings {
    let d = RatingSettings::default();
    let mut c = Check {
        path,
        line,
        problems,
    };
    RatingSettings {
        enabled: f.enabled.unwrap_or(d.enabled),
        wait: c.secs("rating.wait_secs", f.wait_secs, 1..=30, 1, d.wait),
    }
}

pub(super) fn lookup(
    f: &LookupFile,
    path: &Path,
    line: usize,
    problems: &mut Vec<Problem>,
) -> LookupSettings {
    let d = LookupSettings::default();
    let key = match f.key.as_deref() {
        None => d.key,
        Some("") => None,
        Some(k) if k.len() == 1 && "0123456789*#".contains(k) => k.chars().next(),
        Some(k) => {
            problems.push(Problem::at(
                path,
                line,
                format!("lookup.key {k:?} must be one key: 0-9, * or # (\"\" for none)"),
            ));
            None
        }
    };
    let mut c = Check {
        path,
        line,
        problems,
    };
    LookupSettings {
        key,
        digit_wait: c.secs(
            "lookup.digit_wait_secs",
            f.digit_wait_secs,
            3..=60,
            1,
            d.digit_wait,
        ),
        tries: f.tries.map_or(d.tries, |t| {
            c.within("lookup.tries", u64::from(t), 1..=5) as u32
        }),
    }
}

pub(super) fn callbacks(
    f: &CallbacksFile,
    path: &Path,
    line: usize,
    problems: &mut Vec<Problem>,
) -> CallbackSettings {
    let d = CallbackSettings::default();
    let mut c = Check {
        path,
        line,
        problems,
    };
    CallbackSettings {
        automatic: f.automatic.unwrap_or(d.automatic),
        attempts: f.attempts.map_or(d.attempts, |a| {
            c.within("callbacks.attempts", u64::from(a), 1..=10) as u32
        }),
        spacing: c.secs(
            "callbacks.spacing_mins",
            f.spacing_mins,
            0..=1440,
            60,
            d.spacing,
        ),
        ring_seat: c.secs(
            "callbacks.ring_seat_secs",
            f.ring_seat_secs,
            5..=120,
            1,
            d.ring_seat,
        ),
        ring_caller: c.secs(
            "callbacks.ring_caller_secs",
            f.ring_caller_secs,
            5..=180,
            1,
            d.ring_caller,
        ),
    }
}

pub(super) fn reminders(
    f: &RemindersFile,
    path: &Path,
    line: usize,
    problems: &mut Vec<Problem>,
) -> ReminderSettings {
    let d = ReminderSettings::default();
    let mut c = Check {
        path,
        line,
        problems,
    };
    ReminderSettings {
        enabled: f.enabled.unwrap_or(d.enabled),
        after: c.secs("reminders.after_mins", f.after_mins, 0..=120, 60, d.after),
        attempts: f.attempts.map_or(d.attempts, |a| {
            c.within("reminders.attempts", u64::from(a), 1..=10) as u32
        }),
        spacing: c.secs(
            "reminders.spacing_mins",
            f.spacing_mins,
            0..=240,
            60,
            d.spacing,
        ),
        ring: c.secs("reminders.ring_secs", f.ring_secs, 5..=180, 1, d.ring),
        wait: c.secs("reminders.wait_secs", f.wait_secs, 2..=30, 1, d.wait),
    }
}
