//! How soon a request must first be answered (GB/T 33358 《政务服务便民热线服务规范》): SMS, web
//! and other network media within 3 minutes, mail within 24 hours. A call is answered when an
//! operator picks it up (15 s, measured by the call figures in [`crate::kpi`]); this is the
//! written channels' counterpart, measured per case.
//!
//! The first answer is the first message a person sends the requester about the case (an
//! operator's reply, the answer, the refusal with the right channel, the notice of dispatch),
//! not the automatic acknowledgement with the case number.

use chrono::{DateTime, Duration, Utc};

use super::Channel;

/// The longest a request on `channel` may wait for its first answer; None for a call, whose
/// answer is the operator picking up.
pub fn answer_within(channel: Channel) -> Option<Duration> {
    match channel {
        Channel::Phone => None,
        Channel::Email => Some(Duration::hours(24)),
        Channel::Sms | Channel::Web | Channel::App | Channel::Wechat => Some(Duration::minutes(3)),
    }
}

/// When a request that arrived at `at` must first be answered.
pub fn answer_due(channel: Channel, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    answer_within(channel).map(|d| at + d)
}

/// Whether a request was first answered in time: `Some(true)` answered by its due time,
/// `Some(false)` answered late or still unanswered past it, None while it may still be
/// answered in time (or has no due time).
pub fn answered_in_time(
    due: Option<DateTime<Utc>>,
    answered: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<bool> {
    let due = due?;
    match answered {
        Some(at) => Some(at <= due),
        None if now > due => Some(false),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn sms_and_web_in_three_minutes_mail_in_a_day() {
        let at = t("2026-12-07T02:00:00Z");
        assert_eq!(
            answer_due(Channel::Sms, at),
            Some(t("2026-12-07T02:03:00Z"))
        );
        assert_eq!(
            answer_due(Channel::Web, at),
            Some(t("2026-12-07T02:03:00Z"))
        );
        assert_eq!(
            answer_due(Channel::App, at),
            Some(t("2026-12-07T02:03:00Z"))
        );
        assert_eq!(
            answer_due(Channel::Wechat, at),
            Some(t("2026-12-07T02:03:00Z"))
        );
        assert_eq!(
            answer_due(Channel::Email, at),
            Some(t("2026-12-08T02:00:00Z"))
        );
        assert_eq!(answer_due(Channel::Phone, at), None);
    }

    #[test]
    fn in_time_is_judged_at_the_due_time() {
        let due = Some(t("2026-12-07T02:03:00Z"));
        let now = t("2026-12-07T02:02:00Z");
        assert_eq!(
            answered_in_time(due, None, now),
            None,
            "may still be in time"
        );
        assert_eq!(
            answered_in_time(due, Some(t("2026-12-07T02:03:00Z")), now),
            Some(true)
        );
        assert_eq!(
            answered_in_time(due, Some(t("2026-12-07T02:03:01Z")), now),
            Some(false)
        );
        assert_eq!(
            answered_in_time(due, None, t("2026-12-07T02:03:01Z")),
            Some(false)
        );
        assert_eq!(answered_in_time(None, None, now), None);
    }
}
