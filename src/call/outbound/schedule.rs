//! When the hotline calls by itself, pure: the automatic callback list (a missed caller is
//! offered to a free seat at most `attempts` times, `spacing` apart, until reached or until
//! they called again) and the reminders to units (a dispatched case not signed `after` its
//! dispatch, at most `attempts` calls, `spacing` apart, until signed).

use chrono::{DateTime, Duration, Utc};

use crate::cases::workflow::SIGN_HOURS;
use crate::dialplan::services::{CallbackSettings, ReminderSettings};

fn dur(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

/// Whether a caller owed a callback is due an automatic attempt at `now`.
pub fn callback_due(
    attempts: i64,
    last_attempt: Option<DateTime<Utc>>,
    rules: &CallbackSettings,
    now: DateTime<Utc>,
) -> bool {
    rules.automatic
        && attempts < i64::from(rules.attempts)
        && last_attempt.is_none_or(|t| now - t >= dur(rules.spacing))
}

/// Whether a case not yet signed, due to be signed at `sign_due`, is due a reminder at `now`:
/// its dispatch (two hours before `sign_due`) was `after` ago or more.
pub fn reminder_due(
    sign_due: DateTime<Utc>,
    reminders: i64,
    last_reminder: Option<DateTime<Utc>>,
    rules: &ReminderSettings,
    now: DateTime<Utc>,
) -> bool {
    let dispatched = sign_due - Duration::hours(SIGN_HOURS);
    rules.enabled
        && reminders < i64::from(rules.attempts)
        && now - dispatched >= dur(rules.after)
        && last_reminder.is_none_or(|t| now - t >= dur(rules.spacing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn callbacks_are_tried_so_often_so_far_apart() {
        let rules = CallbackSettings::default();
        let now = at("2026-12-07T03:00:00Z");
        assert!(callback_due(0, None, &rules, now));
        // 30 minutes apart by default.
        assert!(!callback_due(
            1,
            Some(now - Duration::minutes(29)),
            &rules,
            now
        ));
        assert!(callback_due(
            1,
            Some(now - Duration::minutes(30)),
            &rules,
            now
        ));
        // Three attempts at most.
        assert!(!callback_due(
            3,
            Some(now - Duration::hours(5)),
            &rules,
            now
        ));
        let manual = CallbackSettings {
            automatic: false,
            ..rules
        };
        assert!(!callback_due(0, None, &manual, now));
    }

    #[test]
    fn a_unit_is_reminded_an_hour_after_dispatch_then_twenty_minutes_later_at_most_twice() {
        let rules = ReminderSettings::default();
        // Dispatched at 09:00 (sign due at 11:00).
        let sign_due = at("2026-12-07T03:00:00Z");
        let dispatched = sign_due - Duration::hours(2);
        assert!(!reminder_due(
            sign_due,
            0,
            None,
            &rules,
            dispatched + Duration::minutes(59)
        ));
        assert!(reminder_due(
            sign_due,
            0,
            None,
            &rules,
            dispatched + Duration::minutes(60)
        ));
        let first = dispatched + Duration::minutes(60);
        assert!(!reminder_due(
            sign_due,
            1,
            Some(first),
            &rules,
            first + Duration::minutes(19)
        ));
        assert!(reminder_due(
            sign_due,
            1,
            Some(first),
            &rules,
            first + Duration::minutes(20)
        ));
        assert!(!reminder_due(
            sign_due,
            2,
            Some(first),
            &rules,
            first + Duration::hours(3)
        ));
        let off = ReminderSettings {
            enabled: false,
            ..rules
        };
        assert!(!reminder_due(sign_due, 0, None, &off, first));
    }
}
