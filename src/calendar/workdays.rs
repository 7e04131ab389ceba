//! Working days in China: Monday to Friday, except public holidays, plus the weekend days the
//! State Council declares worked (调休) to bridge a holiday. Each year's schedule is published
//! late in the year before; a year the calendar lacks is known to be missing ([`WorkingCalendar::covers`]),
//! so that deadlines reaching into it can be marked provisional.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, Weekday};

/// What a listed date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A public holiday: no work, even on a weekday.
    Holiday,
    /// An adjusted working day: a Saturday or Sunday that is worked.
    Workday,
}

/// One listed date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    /// The date.
    pub date: NaiveDate,
    /// Holiday or adjusted working day.
    pub kind: DayKind,
    /// The holiday it belongs to, e.g. `Spring Festival`.
    pub name: String,
}

/// A calendar whose entries contradict themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} is listed twice")]
    Duplicate(NaiveDate),
    #[error("{0} is a {1} and cannot be an adjusted working day: only weekends are")]
    WorkdayNotWeekend(NaiveDate, Weekday),
}

/// Working days by the official schedule of the years it holds.
#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {
    entries: HashMap<NaiveDate, CalendarEntry>,
    years: BTreeSet<i32>,
}

impl WorkingCalendar {
    /// Builds a calendar from the listed dates; the years covered are those with any entry.
    pub fn new(entries: Vec<CalendarEntry>) -> Result<WorkingCalendar, CalendarError> {
        let mut map = HashMap::with_capacity(entries.len());
        let mut years = BTreeSet::new();
        for e in entries {
            if e.kind == DayKind::Workday && !is_weekend(e.date) {
                return Err(CalendarError::WorkdayNotWeekend(e.date, e.date.weekday()));
            }
            years.insert(e.date.year());
            if map.insert(e.date, e.clone()).is_some() {
                return Err(CalendarError::Duplicate(e.date));
            }
        }
        Ok(WorkingCalendar {
            entries: map,
            years,
        })
    }

    /// True when people work on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.entries.get(&date).map(|e| e.kind) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(date),
        }
    }

    /// The holiday `date` belongs to, if it is one.
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.entries
            .get(&date)
            .filter(|e| e.kind == DayKind::Holiday)
            .map(|e| e.name.as_str())
    }

    /// True when the official schedule of `date`'s year is in the calendar; otherwise only
    /// weekends are known and answers about that year are provisional.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains(&date.year())
    }

    /// The years whose schedule the calendar holds.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn entry(date: &str, kind: DayKind) -> CalendarEntry {
        CalendarEntry {
            date: d(date),
            kind,
            name: "National Day".into(),
        }
    }

    #[test]
    fn holidays_and_adjusted_weekends() {
        let cal = WorkingCalendar::new(vec![
            entry("2026-10-01", DayKind::Holiday),
            entry("2026-10-10", DayKind::Workday),
        ])
        .unwrap();
        assert!(!cal.is_working_day(d("2026-10-01")), "a Thursday holiday");
        assert!(cal.is_working_day(d("2026-10-10")), "an adjusted Saturday");
        assert!(!cal.is_working_day(d("2026-10-11")), "an ordinary Sunday");
        assert!(cal.is_working_day(d("2026-10-12")), "an ordinary Monday");
        assert_eq!(cal.holiday_name(d("2026-10-01")), Some("National Day"));
        assert!(cal.covers(d("2026-01-05")));
        assert!(!cal.covers(d("2027-01-05")));
    }

    #[test]
    fn contradictions_are_refused() {
        let err = WorkingCalendar::new(vec![
            entry("2026-10-01", DayKind::Holiday),
            entry("2026-10-01", DayKind::Holiday),
        ])
        .unwrap_err();
        assert_eq!(err, CalendarError::Duplicate(d("2026-10-01")));
        let err = WorkingCalendar::new(vec![entry("2026-10-08", DayKind::Workday)]).unwrap_err();
        assert!(matches!(err, CalendarError::WorkdayNotWeekend(..)));
    }
}
