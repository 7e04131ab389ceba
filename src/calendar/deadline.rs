//! Deadline arithmetic of the hotline, in working days and in hours, in the hotline's time zone.
//!
//! Conventions (one place for all of them):
//! - **Working days** count from the day after the start: a deadline of *n* working days from
//!   a moment on day D ends at 24:00 (local) of the n-th working day after D.
//! - **Hours** are clock hours (the 2-hour signing and 24-hour return limits run through nights
//!   and holidays, as the province's rules state them in hours).
//! - **Next-day deadlines** ("dispatch before 10:00 of the next day") mean the next *working*
//!   day: a case accepted at 18:01 on the eve of a holiday is due at 10:00 of the first working
//!   day after it.
//! - A deadline that reaches into a year the calendar does not hold is computed on weekends
//!   alone and marked **provisional**.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::workdays::WorkingCalendar;

/// A computed deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When it falls due.
    pub at: DateTime<Utc>,
    /// True when it depends on a year the calendar lacks (weekends only were counted).
    pub provisional: bool,
}

/// Deadline arithmetic over a working-day calendar in a time zone.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineRules<'a> {
    calendar: &'a WorkingCalendar,
    zone: Tz,
}

impl<'a> DeadlineRules<'a> {
    /// Rules over `calendar`, local times in `zone`.
    pub fn new(calendar: &'a WorkingCalendar, zone: Tz) -> Self {
        DeadlineRules { calendar, zone }
    }

    /// The end (24:00 local) of the `n`-th working day after the day of `from`.
    pub fn working_days_after(&self, from: DateTime<Utc>, n: u32) -> Deadline {
        let mut date = self.local_date(from);
        let mut provisional = false;
        let mut counted = 0;
        while counted < n {
            date = date.succ_opt().expect("date in range");
            provisional |= !self.calendar.covers(date);
            if self.calendar.is_working_day(date) {
                counted += 1;
            }
        }
        Deadline {
            at: self.local_midnight_after(date),
            provisional,
        }
    }

    /// `hours` clock hours after `from`.
    pub fn hours_after(&self, from: DateTime<Utc>, hours: i64) -> Deadline {
        Deadline {
            at: from + Duration::hours(hours),
            provisional: false,
        }
    }

    /// `time` (local) on the first working day after the day of `from`.
    pub fn next_working_day_at(&self, from: DateTime<Utc>, time: NaiveTime) -> Deadline {
        let mut date = self.local_date(from);
        let mut provisional = false;
        loop {
            date = date.succ_opt().expect("date in range");
            provisional |= !self.calendar.covers(date);
            if self.calendar.is_working_day(date) {
                break;
            }
        }
        Deadline {
            at: self.local(date, time),
            provisional,
        }
    }

    /// The end (24:00 local) of the day of `from`.
    pub fn end_of_day(&self, from: DateTime<Utc>) -> Deadline {
        let date = self.local_date(from);
        Deadline {
            at: self.local_midnight_after(date),
            provisional: !self.calendar.covers(date),
        }
    }

    /// True when the local day of `at` is a working day.
    pub fn is_working_day(&self, at: DateTime<Utc>) -> bool {
        self.calendar.is_working_day(self.local_date(at))
    }

    /// The local wall-clock time of `at`.
    pub fn local_time(&self, at: DateTime<Utc>) -> NaiveTime {
        at.with_timezone(&self.zone).time()
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    fn local(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        self.zone
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .expect("a local time that exists (no DST in the hotline's zone)")
            .with_timezone(&Utc)
    }

    fn local_midnight_after(&self, date: NaiveDate) -> DateTime<Utc> {
        self.local(date.succ_opt().expect("date in range"), NaiveTime::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::testing::shanghai as sh;
    use crate::calendar::workdays::{CalendarEntry, DayKind};

    /// The bundled calendar file, as the dialplan holds it (2025 and 2026).
    fn calendar() -> WorkingCalendar {
        let text = include_str!("../../dialplan/holidays.csv");
        let entries = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("date,") && !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                CalendarEntry {
                    date: f[0].parse().unwrap(),
                    kind: if f[1] == "holiday" {
                        DayKind::Holiday
                    } else {
                        DayKind::Workday
                    },
                    name: f[2].into(),
                }
            })
            .collect();
        WorkingCalendar::new(entries).unwrap()
    }

    #[test]
    fn five_working_days_over_a_weekend() {
        let cal = calendar();
        let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
        // Signed Wednesday 2026-11-25: Thu, Fri, Mon, Tue, Wed → end of Wed 2026-12-02.
        let d = rules.working_days_after(sh("2026-11-25 15:00"), 5);
        assert_eq!(d.at, sh("2026-12-03 00:00"));
        assert!(!d.provisional);
    }

    #[test]
    fn national_day_week_and_its_adjusted_saturday() {
        let cal = calendar();
        let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
        // 2026: Mid-Autumn 25–27 September and National Day 1–7 October off; Saturday
        // 10 October is worked. Signed Thursday 24 September: 28, 29, 30 Sep, 8, 9 Oct.
        let d = rules.working_days_after(sh("2026-09-24 10:00"), 5);
        assert_eq!(d.at, sh("2026-10-10 00:00"));
        // Signed Wednesday 30 September, 15 working days: 8, 9, 10 (Sat, worked), 12–16,
        // 19–23, 26, 27 October.
        let d = rules.working_days_after(sh("2026-09-30 10:00"), 15);
        assert_eq!(d.at, sh("2026-10-28 00:00"));
    }

    #[test]
    fn spring_festival() {
        let cal = calendar();
        let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
        // 2026 Spring Festival: 15–23 February off; Saturday 14 and Saturday 28 February worked.
        // Signed Friday 13 February: 14 (Sat, worked), 24, 25, 26, 27.
        let d = rules.working_days_after(sh("2026-02-13 09:00"), 5);
        assert_eq!(d.at, sh("2026-02-28 00:00"));
        let ten = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
        // The working day after Friday 13 February is the adjusted Saturday 14...
        let d = rules.next_working_day_at(sh("2026-02-13 18:01"), ten);
        assert_eq!(d.at, sh("2026-02-14 10:00"));
        // ...and after 14 February, the first working day is the 24th.
        let d = rules.next_working_day_at(sh("2026-02-14 18:01"), ten);
        assert_eq!(d.at, sh("2026-02-24 10:00"));
    }

    #[test]
    fn a_year_the_calendar_lacks_is_provisional() {
        let cal = calendar();
        let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
        // From Thursday 24 December 2026, 15 working days reach into 2027: weekends only.
        let d = rules.working_days_after(sh("2026-12-24 10:00"), 15);
        assert!(d.provisional);
        assert_eq!(d.at, sh("2027-01-15 00:00"));
        let d = rules.working_days_after(sh("2026-11-24 10:00"), 5);
        assert!(!d.provisional);
    }

    #[test]
    fn hours_run_through_nights_and_holidays() {
        let cal = calendar();
        let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
        let d = rules.hours_after(sh("2026-09-30 23:00"), 2);
        assert_eq!(d.at, sh("2026-10-01 01:00"));
        assert_eq!(
            rules.end_of_day(sh("2026-09-30 17:59")).at,
            sh("2026-10-01 00:00")
        );
    }
}
