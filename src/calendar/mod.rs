//! The calendar of the hotline: which days are working days (weekends, public holidays and the
//! adjusted working weekends, 调休). Pure: dates in, answers out; the dialplan loader reads the
//! file and the server injects the clock.

pub mod workdays;

pub use workdays::{CalendarEntry, CalendarError, DayKind, WorkingCalendar};
