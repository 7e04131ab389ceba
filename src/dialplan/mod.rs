//! The dialplan: plain files under `dialplan/` that say how the hotline runs, loaded and
//! validated at start-up (and by `hotline12345 check-dialplan`).
//!
//! | file | what |
//! |---|---|
//! | `hotline.toml` | service numbers, time zone, default staffed hours |
//! | `platforms.toml` | the provincial platform and the prefecture platforms |
//! | `mobile-prefixes.csv` | mobile number prefixes and their platform |
//! | `holidays.csv` | public holidays and adjusted working weekends, by year |
//! | `staffing-exceptions.csv` | dated exceptions to staffed hours (closed days, special hours) |
//! | `units.csv` | responsible units per platform |
//! | `districts.csv` | the county-level divisions (区县) each prefecture platform serves |
//! | `users.toml` | API users: role, platform, unit, token hash |
//! | `agents.toml` | operator seats: SIP login, digest HA1 (or password), platform, skills |
//! | `queues.toml` | optional: queues beyond each platform's own (skills, a dialect desk), menus |
//! | `trunks.toml` | optional: the carriers' SIP trunks, and who may call the service numbers |
//! | `hotlines.toml` | optional: other hotlines a caller is handed to (110, 119, 120, 122, 12315…) |
//!
//! Every problem is reported with its file and line; a dialplan with any problem is refused
//! whole, so a running server never takes half of a bad file.

pub mod channels;
pub mod districts;
pub mod error;
pub mod hotline;
pub mod hotlines;
pub mod people;
mod platforms;
pub mod queues;
pub mod services;
mod tables;
pub mod trunks;

use std::collections::HashMap;
use std::path::Path;

use chrono_tz::Tz;

pub use error::{DialplanError, Problem};
pub use hotline::{QueueSettings, VoicemailSettings};
pub use people::{Seat, Unit, User};
pub use queues::{Menu, QueueDef, Queues};

use crate::calendar::{StaffingHours, WorkingCalendar};
use crate::routing::Router;

/// A loaded, validated dialplan.
#[derive(Debug, Clone)]
pub struct Dialplan {
    /// Routes calls to platforms; knows the platforms.
    pub router: Router,
    /// Working days (holidays and adjusted weekends).
    pub calendar: WorkingCalendar,
    /// The time zone of hours and deadlines.
    pub time_zone: Tz,
    /// Staffed hours by platform (division code).
    pub staffing: HashMap<String, StaffingHours>,
    /// How voice messages are taken after hours.
    pub voicemail: VoicemailSettings,
    /// How the call figures are measured and their targets (`[kpi]` of hotline.toml).
    pub kpi: hotline::KpiSettings,
    /// Responsible units, per platform.
    pub units: Vec<Unit>,
    /// The county-level divisions of the prefecture platforms.
    pub districts: Vec<districts::District>,
    /// API users.
    pub users: Vec<User>,
    /// Operator seats (SIP softphones).
    pub seats: Vec<Seat>,
    /// Every queue (each platform's own, named by its code, and those of queues.toml) and the
    /// platforms' menus.
    pub queues: Queues,
    /// The carriers' trunks, and who may call the service numbers.
    pub trunks: trunks::Trunks,
    /// Other hotlines a caller is handed to.
    pub hotlines: hotlines::OtherHotlines,
    /// The caller's rating after a call (`[rating]` of hotline.toml).
    pub rating: services::RatingSettings,
    /// The progress lookup by phone (`[lookup]`).
    pub lookup: services::LookupSettings,
    /// Callbacks the hotline owes (`[callbacks]`).
    pub callbacks: services::CallbackSettings,
    /// Phone reminders to units (`[reminders]`).
    pub reminders: services::ReminderSettings,
    /// Mail, SMS, the web form, apps and the official account (`channels.toml`).
    pub channels: channels::Channels,
}

impl Dialplan {
    /// A platform's Chinese name (昆明市), or its code when the dialplan does not know it.
    pub fn platform_name(&self, code: &str) -> String {
        self.router
            .platform(code)
            .map_or(code.to_string(), |p| p.name_zh.clone())
    }

    /// The county-level division with this code.
    pub fn district(&self, code: &str) -> Option<&districts::District> {
        self.districts.iter().find(|d| d.code == code)
    }

    /// The staffed hours of a platform; a platform the dialplan does not know is never staffed.
    pub fn staffing(&self, platform: &str) -> StaffingHours {
        self.staffing.get(platform).cloned().unwrap_or_else(|| {
            StaffingHours::new(std::array::from_fn(|_| Default::default()), HashMap::new())
        })
    }

    /// When a voice message left at `at` must be called back (the rule is
    /// [`StaffingHours::callback_due`]); a day later when the platform never opens.
    pub fn callback_due(
        &self,
        platform: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        self.staffing(platform)
            .callback_due(
                &at.with_timezone(&self.time_zone),
                self.voicemail.callback_by,
            )
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(at + chrono::Duration::days(1))
    }

    /// The user whose bearer token this is.
    pub fn user_by_token(&self, token: &str) -> Option<&User> {
        use sha2::Digest;
        let hash: String = sha2::Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.users.iter().find(|u| u.token_sha256 == hash)
    }

    /// True when operators of `platform` answer at `now`.
    pub fn is_staffed(&self, platform: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.staffing
            .get(platform)
            .is_some_and(|h| h.is_staffed(&now.with_timezone(&self.time_zone)))
    }
}

/// Loads and validates the dialplan in `dir`.
pub fn load(dir: &Path) -> Result<Dialplan, DialplanError> {
    let mut problems = Vec::new();
    if !dir.is_dir() {
        return Err(DialplanError::new(vec![Problem::file(
            dir,
            "is not a folder (expected a dialplan folder with hotline.toml, platforms.toml, \
             mobile-prefixes.csv and holidays.csv)",
        )]));
    }
    let settings = hotline::load(&dir.join("hotline.toml"), &mut problems);
    let loaded = platforms::load(
        &dir.join("platforms.toml"),
        settings.as_ref().map(|s| &s.default_hours),
        &mut problems,
    );
    let prefixes = tables::load_mobile_prefixes(
        &dir.join("mobile-prefixes.csv"),
        loaded.as_ref().map_or(&[][..], |l| &l.platforms[..]),
        &mut problems,
    );
    let calendar = tables::load_calendar(&dir.join("holidays.csv"), &mut problems);
    let mut staffing = loaded.as_ref().map(|l| l.hours.clone()).unwrap_or_default();
    tables::load_staffing_exceptions(
        &dir.join("staffing-exceptions.csv"),
        &mut staffing,
        &mut problems,
    );

    let codes: Vec<String> = loaded
        .as_ref()
        .map(|l| l.platforms.iter().map(|p| p.code.clone()).collect())
        .unwrap_or_default();
    let units = people::load_units(&dir.join("units.csv"), &codes, &mut problems);
    let prefectures: Vec<String> = loaded
        .as_ref()
        .map(|l| {
            l.platforms
                .iter()
                .filter(|p| p.level == crate::routing::PlatformLevel::Prefecture)
                .map(|p| p.code.clone())
                .collect()
        })
        .unwrap_or_default();
    let districts = districts::load(&dir.join("districts.csv"), &prefectures, &mut problems);
    let users = people::load_users(&dir.join("users.toml"), &codes, &units, &mut problems);
    let seats = people::load_seats(&dir.join("agents.toml"), &codes, &mut problems);
    for user in &users {
        if let Some(seat) = &user.seat {
            if !seats.iter().any(|s| &s.id == seat) {
                problems.push(Problem::file(
                    &dir.join("users.toml"),
                    format!("user {}: seat {seat} is not in agents.toml", user.id),
                ));
            }
        }
    }
    let queues = settings.as_ref().map(|s| {
        queues::load(
            &dir.join("queues.toml"),
            &codes,
            &s.queue,
            &seats,
            &mut problems,
        )
    });
    let trunks = trunks::load(&dir.join("trunks.toml"), &codes, &mut problems);
    let hotlines = hotlines::load(&dir.join("hotlines.toml"), &codes, &mut problems);
    let channels = channels::load(&dir.join("channels.toml"), &codes, &mut problems);
    let (Some(settings), Some(loaded), Some(prefixes), Some(calendar), Some(queues)) =
        (settings, loaded, prefixes, calendar, queues)
    else {
        return Err(DialplanError::new(problems));
    };
    if !problems.is_empty() {
        return Err(DialplanError::new(problems));
    }
    // The files were checked line by line; what is left is a contradiction across them.
    let router =
        Router::new(loaded.platforms, prefixes, settings.service_numbers).map_err(|e| {
            DialplanError::new(vec![Problem::file(
                &dir.join("platforms.toml"),
                e.to_string(),
            )])
        })?;
    Ok(Dialplan {
        router,
        calendar,
        time_zone: settings.time_zone,
        staffing,
        voicemail: settings.voicemail,
        kpi: settings.kpi,
        units,
        districts,
        users,
        seats,
        queues,
        trunks,
        hotlines,
        rating: settings.rating,
        lookup: settings.lookup,
        callbacks: settings.callbacks,
        reminders: settings.reminders,
        channels,
    })
}

#[cfg(test)]
mod tests;

/// Days ahead within which a missing calendar year is warned about.
pub const CALENDAR_WARNING_DAYS: i64 = 60;

/// A warning when the holiday calendar lacks a year that deadlines reach within
/// [`CALENDAR_WARNING_DAYS`] of `now` (their working days then count weekends only and are
/// marked provisional).
pub fn calendar_warning(plan: &Dialplan, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let today = now.with_timezone(&plan.time_zone).date_naive();
    let ahead = today + chrono::Duration::days(CALENDAR_WARNING_DAYS);
    [today, ahead]
        .into_iter()
        .find(|d| !plan.calendar.covers(*d))
        .map(|d| {
            format!(
                "holidays.csv has no schedule for {}: deadlines reaching into it count weekends only \
                 and are provisional until the year's official schedule is added",
                chrono::Datelike::year(&d)
            )
        })
}

/// The dialplan in force, replaceable while the server runs (reload by SIGHUP or the API).
/// A reload validates the new files completely first; a bad dialplan leaves the running one
/// untouched and says why.
pub struct LiveDialplan {
    dir: std::path::PathBuf,
    current: std::sync::RwLock<std::sync::Arc<Dialplan>>,
}

impl LiveDialplan {
    /// Loads the dialplan in `dir`.
    pub fn load(dir: &Path) -> Result<LiveDialplan, DialplanError> {
        Ok(LiveDialplan {
            dir: dir.to_path_buf(),
            current: std::sync::RwLock::new(std::sync::Arc::new(load(dir)?)),
        })
    }

    /// The dialplan in force now; calls keep the one they started with.
    pub fn current(&self) -> std::sync::Arc<Dialplan> {
        self.current.read().expect("dialplan lock").clone()
    }

    /// Loads the files again; `check` adds checks of its own (e.g. that prompts exist).
    /// On any problem the running dialplan stays.
    pub fn reload(
        &self,
        check: impl Fn(&Dialplan) -> Result<(), String>,
    ) -> Result<std::sync::Arc<Dialplan>, String> {
        let next = load(&self.dir).map_err(|e| e.to_string())?;
        check(&next)?;
        let next = std::sync::Arc::new(next);
        *self.current.write().expect("dialplan lock") = next.clone();
        Ok(next)
    }
}
