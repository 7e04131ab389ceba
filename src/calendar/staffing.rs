//! Staffed hours of a platform (the hotline's "7×12": operators answer every day, 08:00–20:00
//! by default; some platforms 7×24), with dated exceptions (a closed day, special hours).
//!
//! Opening is inclusive and closing exclusive: with 08:00–20:00, 08:00:00 is staffed and
//! 20:00:00 is not. Hours are local wall-clock times in the hotline's time zone; a period may
//! not cross midnight (write two periods instead), so every answer is about one local day.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone};

/// One staffed period of a day, `from` inclusive, `until` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Opening time.
    pub from: NaiveTime,
    /// Closing time; `None` means midnight at the end of the day.
    pub until: Option<NaiveTime>,
}

impl Period {
    /// A period from `from` to `until` (None: to the end of the day); refuses an empty one.
    pub fn new(from: NaiveTime, until: Option<NaiveTime>) -> Result<Period, StaffingError> {
        if let Some(until) = until {
            if until <= from {
                return Err(StaffingError::EmptyPeriod { from, until });
            }
        }
        Ok(Period { from, until })
    }

    /// The whole day.
    pub fn all_day() -> Period {
        Period {
            from: NaiveTime::MIN,
            until: None,
        }
    }

    /// Parses `HH:MM-HH:MM` (`24:00` allowed as the end), e.g. `08:00-20:00`.
    pub fn parse(text: &str) -> Result<Period, StaffingError> {
        let bad = || StaffingError::Syntax(text.to_string());
        let (from, until) = text.trim().split_once('-').ok_or_else(bad)?;
        let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
        let until = match until.trim() {
            "24:00" => None,
            other => Some(time(other)?),
        };
        Period::new(time(from)?, until)
    }

    fn contains(&self, t: NaiveTime) -> bool {
        t >= self.from && self.until.is_none_or(|u| t < u)
    }
}

/// Hours that cannot be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffingError {
    #[error("{0:?} is not a period: write HH:MM-HH:MM, such as 08:00-20:00 (24:00 may end one)")]
    Syntax(String),
    #[error("period {from}–{until} is empty or crosses midnight (write two periods instead)")]
    EmptyPeriod { from: NaiveTime, until: NaiveTime },
    #[error("periods {0} and {1} overlap")]
    Overlap(String, String),
}

/// The hours of one day: closed, or one or more periods.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayHours {
    periods: Vec<Period>,
}

impl DayHours {
    /// Closed all day.
    pub fn closed() -> DayHours {
        DayHours::default()
    }

    /// Open in these periods (sorted; overlapping periods are refused).
    pub fn open(mut periods: Vec<Period>) -> Result<DayHours, StaffingError> {
        periods.sort_by_key(|p| p.from);
        for pair in periods.windows(2) {
            if pair[0].until.is_none_or(|u| u > pair[1].from) {
                return Err(StaffingError::Overlap(
                    describe(&pair[0]),
                    describe(&pair[1]),
                ));
            }
        }
        Ok(DayHours { periods })
    }

    /// Parses periods such as `["08:00-12:00", "14:00-20:00"]`; an empty list is closed.
    pub fn parse<S: AsRef<str>>(periods: &[S]) -> Result<DayHours, StaffingError> {
        let periods = periods
            .iter()
            .map(|p| Period::parse(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        DayHours::open(periods)
    }

    /// True when nobody answers on this day.
    pub fn is_closed(&self) -> bool {
        self.periods.is_empty()
    }

    /// The periods, in order.
    pub fn periods(&self) -> &[Period] {
        &self.periods
    }
}

fn describe(p: &Period) -> String {
    match p.until {
        Some(u) => format!("{}–{}", p.from.format("%H:%M"), u.format("%H:%M")),
        None => format!("{}–24:00", p.from.format("%H:%M")),
    }
}

/// A platform's staffed hours: a weekly pattern and dated exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffingHours {
    /// Monday first.
    weekly: [DayHours; 7],
    exceptions: HashMap<NaiveDate, DayHours>,
}

impl StaffingHours {
    /// Hours from a weekly pattern (Monday first) and dated exceptions.
    pub fn new(weekly: [DayHours; 7], exceptions: HashMap<NaiveDate, DayHours>) -> StaffingHours {
        StaffingHours { weekly, exceptions }
    }

    /// The hotline's default: every day 08:00–20:00.
    pub fn seven_by_twelve() -> StaffingHours {
        let day = DayHours::open(vec![Period::new(
            NaiveTime::from_hms_opt(8, 0, 0).expect("08:00"),
            NaiveTime::from_hms_opt(20, 0, 0),
        )
        .expect("08:00-20:00")])
        .expect("one period");
        StaffingHours::new(std::array::from_fn(|_| day.clone()), HashMap::new())
    }

    /// Always staffed.
    pub fn seven_by_twenty_four() -> StaffingHours {
        let day = DayHours::open(vec![Period::all_day()]).expect("one period");
        StaffingHours::new(std::array::from_fn(|_| day.clone()), HashMap::new())
    }

    /// Replaces the hours of one date (a closed day, special hours).
    pub fn set_exception(&mut self, date: NaiveDate, hours: DayHours) {
        self.exceptions.insert(date, hours);
    }

    /// The hours in force on a local date.
    pub fn hours_on(&self, date: NaiveDate) -> &DayHours {
        self.exceptions
            .get(&date)
            .unwrap_or(&self.weekly[date.weekday().num_days_from_monday() as usize])
    }

    /// True when operators answer at `at` (any time zone; judged in `at`'s zone).
    pub fn is_staffed<Tz: TimeZone>(&self, at: &DateTime<Tz>) -> bool {
        let local = at.naive_local();
        self.hours_on(local.date())
            .periods()
            .iter()
            .any(|p| p.contains(local.time()))
    }

    /// The first date after `date` with staffed hours (within a year).
    pub fn next_staffed_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        (1..=366)
            .map(|d| date + Duration::days(d))
            .find(|d| !self.hours_on(*d).is_closed())
    }

    /// When a voice message left at `at` must be called back, by the hotline's rule "before
    /// `callback_by` (10:00) of the next staffed day": a message left while the platform is
    /// staffed (an overflow) is due at `callback_by` of the next staffed day; one left outside
    /// staffed hours at `callback_by` of the day the platform next opens (a message left at
    /// 02:00 on Saturday is due on Saturday, not Sunday), and never before that opening (a
    /// platform opening at 11:00 is due at 11:00). None when nothing opens within a year.
    pub fn callback_due<Tz: TimeZone>(
        &self,
        at: &DateTime<Tz>,
        callback_by: NaiveTime,
    ) -> Option<DateTime<Tz>> {
        let zone = at.timezone();
        let on = |date: NaiveDate| {
            zone.from_local_datetime(&date.and_time(callback_by))
                .earliest()
        };
        if self.is_staffed(at) {
            return on(self.next_staffed_day(at.naive_local().date())?);
        }
        let opening = self.next_opening(at)?;
        let due = on(opening.naive_local().date())?;
        Some(if due < opening { opening } else { due })
    }

    /// The next moment, at or after `at`, when operators answer; None if no period opens in
    /// the next 366 days.
    pub fn next_opening<Tz: TimeZone>(&self, at: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        if self.is_staffed(at) {
            return Some(at.clone());
        }
        let zone = at.timezone();
        let local = at.naive_local();
        for offset in 0..=366 {
            let date = local.date() + Duration::days(offset);
            for p in self.hours_on(date).periods() {
                let start = date.and_time(p.from);
                if start >= local {
                    if let Some(t) = zone.from_local_datetime(&start).earliest() {
                        return Some(t);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    #[test]
    fn a_message_is_due_before_ten_of_the_day_the_platform_next_opens() {
        let h = StaffingHours::seven_by_twelve();
        let ten = t(10, 0);
        let due = |s: &str| h.callback_due(&at(s), ten).unwrap();
        // Saturday 2026-11-28, 02:00: the platform opens at 08:00 the same day.
        assert_eq!(due("2026-11-28 02:00:00"), at("2026-11-28 10:00:00"));
        assert_eq!(due("2026-11-28 07:59:59"), at("2026-11-28 10:00:00"));
        // After closing: the next morning.
        assert_eq!(due("2026-11-28 20:00:00"), at("2026-11-29 10:00:00"));
        assert_eq!(due("2026-11-28 23:30:00"), at("2026-11-29 10:00:00"));
        // Left while staffed (an overflow at 15:00): the next staffed day.
        assert_eq!(due("2026-11-28 15:00:00"), at("2026-11-29 10:00:00"));
        // A platform that opens at 11:00 is not due before it opens.
        let late = StaffingHours::new(
            std::array::from_fn(|_| DayHours::parse(&["11:00-20:00"]).unwrap()),
            HashMap::new(),
        );
        assert_eq!(
            late.callback_due(&at("2026-11-28 02:00:00"), ten).unwrap(),
            at("2026-11-28 11:00:00")
        );
        // Closed on Sunday: a Saturday-night message waits for Monday.
        let mut weekly: [DayHours; 7] =
            std::array::from_fn(|_| DayHours::parse(&["08:00-20:00"]).unwrap());
        weekly[6] = DayHours::closed();
        let no_sunday = StaffingHours::new(weekly, HashMap::new());
        assert_eq!(
            no_sunday
                .callback_due(&at("2026-11-28 21:00:00"), ten)
                .unwrap(),
            at("2026-11-30 10:00:00")
        );
    }

    fn at(s: &str) -> DateTime<chrono_tz::Tz> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        Shanghai.from_local_datetime(&naive).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn opening_and_closing_are_exact_to_the_minute() {
        let hours = StaffingHours::seven_by_twelve();
        assert!(!hours.is_staffed(&at("2026-11-25 07:59:00")));
        assert!(!hours.is_staffed(&at("2026-11-25 07:59:59")));
        assert!(hours.is_staffed(&at("2026-11-25 08:00:00")));
        assert!(hours.is_staffed(&at("2026-11-25 08:01:00")));
        assert!(hours.is_staffed(&at("2026-11-25 19:59:00")));
        assert!(hours.is_staffed(&at("2026-11-25 19:59:59")));
        assert!(!hours.is_staffed(&at("2026-11-25 20:00:00")));
        assert!(!hours.is_staffed(&at("2026-11-25 20:01:00")));
    }

    #[test]
    fn judged_in_local_time_whatever_the_zone_of_the_clock() {
        let hours = StaffingHours::seven_by_twelve();
        // 00:30 UTC is 08:30 in Shanghai.
        let utc: DateTime<chrono::Utc> = "2026-11-25T00:30:00Z".parse().unwrap();
        assert!(hours.is_staffed(&utc.with_timezone(&Shanghai)));
        assert!(
            !hours.is_staffed(&utc),
            "the same instant judged as UTC is 00:30"
        );
    }

    #[test]
    fn a_closed_day_and_special_hours() {
        let mut exceptions = HashMap::new();
        exceptions.insert("2026-02-16".parse().unwrap(), DayHours::closed());
        exceptions.insert(
            "2026-02-17".parse().unwrap(),
            DayHours::open(vec![Period::new(t(9, 0), Some(t(12, 0))).unwrap()]).unwrap(),
        );
        let base = StaffingHours::seven_by_twelve();
        let hours = StaffingHours::new(base.weekly.clone(), exceptions);
        assert!(!hours.is_staffed(&at("2026-02-16 10:00:00")));
        assert!(!hours.is_staffed(&at("2026-02-17 08:30:00")));
        assert!(hours.is_staffed(&at("2026-02-17 09:00:00")));
        assert!(!hours.is_staffed(&at("2026-02-17 12:00:00")));
        assert!(hours.is_staffed(&at("2026-02-18 08:00:00")));
        assert_eq!(
            hours.next_opening(&at("2026-02-15 21:00:00")),
            Some(at("2026-02-17 09:00:00"))
        );
        assert_eq!(
            hours.next_opening(&at("2026-02-17 12:00:00")),
            Some(at("2026-02-18 08:00:00"))
        );
    }

    #[test]
    fn next_staffed_day_skips_closed_days() {
        let mut hours = StaffingHours::seven_by_twelve();
        hours.set_exception("2026-11-26".parse().unwrap(), DayHours::closed());
        let d: NaiveDate = "2026-11-25".parse().unwrap();
        assert_eq!(
            hours.next_staffed_day(d),
            Some("2026-11-27".parse().unwrap())
        );
    }

    #[test]
    fn always_staffed_and_never_staffed() {
        let hours = StaffingHours::seven_by_twenty_four();
        assert!(hours.is_staffed(&at("2026-11-25 00:00:00")));
        assert!(hours.is_staffed(&at("2026-11-25 23:59:59")));
        let never = StaffingHours::new(std::array::from_fn(|_| DayHours::closed()), HashMap::new());
        assert_eq!(never.next_opening(&at("2026-11-25 12:00:00")), None);
    }

    #[test]
    fn periods_are_parsed() {
        let day = DayHours::parse(&["14:00-20:00", "08:00-12:00"]).unwrap();
        assert_eq!(
            day.periods()[0],
            Period::new(t(8, 0), Some(t(12, 0))).unwrap()
        );
        assert_eq!(Period::parse("00:00-24:00").unwrap(), Period::all_day());
        assert!(DayHours::parse::<&str>(&[]).unwrap().is_closed());
        for bad in ["8-20", "08:00", "08:00-25:00", "20:00-08:00", "eight-ten"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn impossible_hours_are_refused() {
        assert!(Period::new(t(20, 0), Some(t(8, 0))).is_err());
        assert!(Period::new(t(8, 0), Some(t(8, 0))).is_err());
        let err = DayHours::open(vec![
            Period::new(t(8, 0), Some(t(12, 0))).unwrap(),
            Period::new(t(11, 0), Some(t(14, 0))).unwrap(),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            StaffingError::Overlap("08:00–12:00".into(), "11:00–14:00".into())
        );
    }
}
