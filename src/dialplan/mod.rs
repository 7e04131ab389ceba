//! The dialplan: plain files under `dialplan/` that say how the hotline runs, loaded and
//! validated at start-up (and by `hotline12345 check-dialplan`).
//!
//! | file | what |
//! |---|---|
//! | `hotline.toml` | service numbers, time zone |
//! | `platforms.toml` | the provincial platform and the prefecture platforms |
//! | `mobile-prefixes.csv` | mobile number prefixes and their platform |
//! | `holidays.csv` | public holidays and adjusted working weekends, by year |
//!
//! Every problem is reported with its file and line; a dialplan with any problem is refused
//! whole, so a running server never takes half of a bad file.

pub mod error;
mod hotline;
mod platforms;
mod tables;

use std::path::Path;

use chrono_tz::Tz;

pub use error::{DialplanError, Problem};

use crate::calendar::WorkingCalendar;
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
    let platforms = platforms::load(&dir.join("platforms.toml"), &mut problems);
    let prefixes = tables::load_mobile_prefixes(
        &dir.join("mobile-prefixes.csv"),
        platforms.as_deref().unwrap_or(&[]),
        &mut problems,
    );
    let calendar = tables::load_calendar(&dir.join("holidays.csv"), &mut problems);

    let (Some(settings), Some(platforms), Some(prefixes), Some(calendar)) =
        (settings, platforms, prefixes, calendar)
    else {
        return Err(DialplanError::new(problems));
    };
    if !problems.is_empty() {
        return Err(DialplanError::new(problems));
    }
    // The files were checked line by line; what is left is a contradiction across them.
    let router = Router::new(platforms, prefixes, settings.service_numbers).map_err(|e| {
        DialplanError::new(vec![Problem::file(
            &dir.join("platforms.toml"),
            e.to_string(),
        )])
    })?;
    Ok(Dialplan {
        router,
        calendar,
        time_zone: settings.time_zone,
    })
}

#[cfg(test)]
mod tests;
