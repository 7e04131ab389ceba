//! The calendar of the hotline, pure: which days are working days (weekends, public holidays
//! and the adjusted working weekends, 调休), when each platform is staffed, and deadline
//! arithmetic in working days and hours. Dates and an injected clock in, answers out; the
//! dialplan loader reads the files.

pub mod deadline;
pub mod staffing;
#[cfg(test)]
pub(crate) mod testing;
pub mod workdays;

pub use deadline::{Deadline, DeadlineRules};
pub use staffing::{DayHours, Period, StaffingError, StaffingHours};
pub use workdays::{CalendarEntry, CalendarError, DayKind, WorkingCalendar};
