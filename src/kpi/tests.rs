use super::*;
use chrono::TimeZone;

fn at(s: f64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap()
        + chrono::Duration::milliseconds((s * 1000.0) as i64)
}

fn e(s: f64, queue: &str, call: &str, kind: QueueLogKind) -> QueueLogEntry {
    QueueLogEntry {
        at: at(s),
        queue: queue.into(),
        call: call.into(),
        agent: None,
        kind,
    }
}

/// A call that waits `wait` seconds and is answered, then talks `talk` seconds.
fn answered(log: &mut Vec<QueueLogEntry>, queue: &str, call: &str, t: f64, wait: f64, talk: f64) {
    log.push(e(t, queue, call, QueueLogKind::EnterQueue));
    log.push(e(
        t + wait,
        queue,
        call,
        QueueLogKind::Connect {
            wait_ms: (wait * 1000.0) as i64,
        },
    ));
    log.push(e(
        t + wait + talk,
        queue,
        call,
        QueueLogKind::Complete {
            by_agent: false,
            talk_ms: (talk * 1000.0) as i64,
        },
    ));
}

fn abandoned(log: &mut Vec<QueueLogEntry>, queue: &str, call: &str, t: f64, wait: f64) {
    log.push(e(t, queue, call, QueueLogKind::EnterQueue));
    log.push(e(
        t + wait,
        queue,
        call,
        QueueLogKind::Abandon {
            position: 1,
            wait_ms: (wait * 1000.0) as i64,
        },
    ));
}

fn platform_of(queue: &str) -> Option<String> {
    Some(queue.split('-').next().unwrap_or(queue).to_string())
}

#[test]
fn the_15_second_boundary_and_short_abandons() {
    let mut log = Vec::new();
    answered(&mut log, "530100", "a", 0.0, 15.0, 60.0); // exactly 15 s: within
    answered(&mut log, "530100", "b", 10.0, 15.001, 120.0); // a millisecond late
    answered(&mut log, "530100", "c", 20.0, 30.0, 30.0); // within 30 s only
    abandoned(&mut log, "530100", "d", 30.0, 4.999); // short
    abandoned(&mut log, "530100", "e", 40.0, 5.0); // not short
    let r = report(&log, at(0.0), at(3600.0), &KpiRules::default(), platform_of);
    let k = &r.queues["530100"];
    assert_eq!(
        (k.offered, k.answered, k.abandoned, k.short_abandoned),
        (5, 3, 2, 1)
    );
    assert_eq!((k.answered_within, k.answered_within_long), (1, 3));
    // Over offered minus short abandons: 4.
    assert_eq!(k.service_level, Some(0.25));
    assert_eq!(k.service_level_long, Some(0.75));
    assert_eq!(k.connection_rate, Some(0.75));
    let asa = k.average_speed_of_answer.unwrap();
    assert!((asa - (15.0 + 15.001 + 30.0) / 3.0).abs() < 1e-9, "{asa}");
    assert_eq!(k.average_handling_time, Some(70.0));
}

#[test]
fn queues_add_up_per_platform_and_province() {
    let mut log = Vec::new();
    answered(&mut log, "530100", "a", 0.0, 3.0, 10.0);
    answered(&mut log, "530100-complaints", "b", 0.0, 20.0, 10.0);
    abandoned(&mut log, "532900", "c", 0.0, 40.0);
    log.push(e(1.0, "532900", "d", QueueLogKind::EnterQueue));
    log.push(e(
        301.0,
        "532900",
        "d",
        QueueLogKind::Overflow {
            to: "voicemail".into(),
        },
    ));
    let r = report(&log, at(0.0), at(3600.0), &KpiRules::default(), platform_of);
    let kunming = &r.platforms["530100"];
    assert_eq!((kunming.offered, kunming.answered), (2, 2));
    assert_eq!(kunming.service_level, Some(0.5));
    let dali = &r.platforms["532900"];
    assert_eq!((dali.offered, dali.abandoned, dali.overflowed), (2, 1, 1));
    assert_eq!(dali.connection_rate, Some(0.0));
    assert_eq!(dali.average_speed_of_answer, None, "nothing answered");
    assert_eq!(r.province.offered, 4);
    assert_eq!(r.province.connection_rate, Some(0.5));
}

#[test]
fn a_call_counts_in_the_period_it_entered() {
    let mut log = Vec::new();
    // Entered before the period, answered within it: not the period's.
    answered(&mut log, "530100", "early", -10.0, 20.0, 5.0);
    // Entered within the period, answered after it: the period's.
    answered(&mut log, "530100", "late", 3590.0, 20.0, 5.0);
    let r = report(&log, at(0.0), at(3600.0), &KpiRules::default(), platform_of);
    let k = &r.queues["530100"];
    assert_eq!((k.offered, k.answered), (1, 1));
    // A transferred call is offered to each queue it enters.
    let mut log = Vec::new();
    log.push(e(0.0, "530100", "t", QueueLogKind::EnterQueue));
    log.push(e(
        5.0,
        "530100",
        "t",
        QueueLogKind::Transfer {
            to: "530000".into(),
        },
    ));
    answered(&mut log, "530000", "t", 6.0, 2.0, 30.0);
    let r = report(&log, at(0.0), at(3600.0), &KpiRules::default(), platform_of);
    assert_eq!(r.queues["530100"].offered, 1);
    assert_eq!(r.queues["530000"].answered, 1);
    assert_eq!(r.province.offered, 2);
    // Nothing offered: no rates, not zero.
    let empty = report(&[], at(0.0), at(1.0), &KpiRules::default(), platform_of);
    assert_eq!(empty.province.service_level, None);
}

#[test]
fn the_24_hour_connection_rate_is_the_standards_95_percent_check() {
    let mut log = Vec::new();
    for i in 0..19 {
        answered(
            &mut log,
            "530100",
            &format!("a{i}"),
            i as f64 * 60.0,
            10.0,
            60.0,
        );
    }
    abandoned(&mut log, "530100", "gone", 2000.0, 60.0);
    abandoned(&mut log, "530100", "misdial", 2100.0, 1.0);
    // 25 hours earlier: outside the 24 hours.
    abandoned(&mut log, "530100", "old", -25.0 * 3600.0, 60.0);
    let rate = connection_rate_24h(&log, at(3600.0), &KpiRules::default()).unwrap();
    assert!((rate - 19.0 / 20.0).abs() < 1e-9, "{rate}");
    assert!(rate >= 0.95, "meets the standard");
}

fn m(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

#[test]
fn occupancy_counts_talk_and_wrap_up_over_staffed_time() {
    use occupancy::{occupancy, SeatChange};
    let c = |min: i64, seat: &'static str, state: &'static str| SeatChange {
        at: m(min),
        seat,
        state,
    };
    let changes = vec![
        // Seat 1001: available before the period, 10 min on a call, 5 in wrap-up, then a
        // break from minute 30 to the end: 30 min staffed, 15 busy.
        c(-60, "1001", "available"),
        c(10, "1001", "on-call"),
        c(20, "1001", "wrap-up"),
        c(25, "1001", "available"),
        c(30, "1001", "not-ready"),
        // Seat 1002: signs in at minute 30, rings, talks 20 min, is still in wrap-up at the end.
        c(30, "1002", "available"),
        c(35, "1002", "ringing"),
        c(36, "1002", "on-call"),
        c(56, "1002", "wrap-up"),
        // Seat 1003 never works.
        c(-10, "1003", "logged-out"),
        // After the period: ignored.
        c(61, "1002", "available"),
    ];
    let (seats, all) = occupancy(&changes, m(0), m(60));
    assert_eq!(seats["1001"].staffed_s, 1800.0);
    assert_eq!(seats["1001"].busy_s, 900.0);
    assert_eq!(seats["1001"].occupancy, Some(0.5));
    assert_eq!(seats["1002"].staffed_s, 1800.0);
    assert_eq!(seats["1002"].busy_s, 1440.0);
    assert!(!seats.contains_key("1003"));
    assert_eq!(all.staffed_s, 3600.0);
    assert_eq!(all.occupancy, Some(2340.0 / 3600.0));
    // Nobody staffed: no figure rather than 0 %.
    let (_, none) = occupancy(&[c(0, "1003", "logged-out")], m(0), m(60));
    assert_eq!(none.occupancy, None);
}

#[test]
fn hourly_and_daily_series_add_up_to_the_period() {
    let mut log = Vec::new();
    // at(0) is 10:00 CST. Two calls in the 10 o'clock hour, one abandoned in the 11 o'clock.
    answered(&mut log, "530100", "a", 60.0, 10.0, 30.0);
    answered(&mut log, "530100", "b", 3000.0, 20.0, 30.0);
    abandoned(&mut log, "530100", "c", 3700.0, 40.0);
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let rules = KpiRules::default();
    let hours = series::hourly(&log, at(0.0), at(3.0 * 3600.0), tz, &rules);
    let brief: Vec<(&str, u64, u64, u64)> = hours
        .iter()
        .map(|h| (h.hour.as_str(), h.offered, h.answered, h.abandoned))
        .collect();
    assert_eq!(
        brief,
        [
            ("2026-12-01 10:00", 2, 2, 0),
            ("2026-12-01 11:00", 1, 0, 1),
            ("2026-12-01 12:00", 0, 0, 0)
        ]
    );
    let profile = series::by_hour_of_day(&hours);
    assert_eq!(profile.len(), 24);
    assert_eq!(
        (profile[10].hour.as_str(), profile[10].offered),
        ("10:00", 2)
    );
    assert_eq!(profile[11].abandoned, 1);
    assert_eq!(profile.iter().map(|h| h.offered).sum::<u64>(), 3);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let days = series::daily(&log, day, day.succ_opt().unwrap(), tz, &rules);
    assert_eq!(days.len(), 2);
    assert_eq!((days[0].offered, days[0].answered), (3, 2));
    // One of three answered within 15 s.
    assert_eq!(days[0].service_level, Some(1.0 / 3.0));
    assert_eq!(days[1].offered, 0);
    assert_eq!(days[1].service_level, None);
}

#[test]
fn the_live_figures_and_targets() {
    let f = live::live(
        [4_000, 31_500, 12_000],
        [
            "available",
            "on-call",
            "wrap-up",
            "not-ready",
            "logged-out",
            "on-call",
        ],
    );
    assert_eq!(f.waiting, 3);
    assert_eq!(f.longest_wait_s, 31.5);
    assert_eq!(f.seats["on-call"], 2);
    assert_eq!(f.seats["logged-out"], 1);
    // Three of four staffed seats busy; the seat on a break is not staffed.
    assert_eq!(f.occupancy_now, Some(0.75));
    let quiet = live::live([], ["logged-out"]);
    assert_eq!((quiet.waiting, quiet.longest_wait_s), (0, 0.0));
    assert_eq!(quiet.occupancy_now, None);
    let t = live::KpiTargets::default();
    assert!(live::meets(Some(0.95), t.connection_rate));
    assert!(!live::meets(Some(0.949), t.connection_rate));
    assert!(live::meets(None, t.service_level));
}

#[test]
fn a_caller_who_left_for_self_service_and_came_back_is_offered_once() {
    let mut log = Vec::new();
    // Enters, leaves for a progress lookup, comes back and is answered.
    log.push(e(0.0, "530100", "s", QueueLogKind::EnterQueue));
    log.push(e(1.0, "530100", "s", QueueLogKind::SelfService));
    answered(&mut log, "530100", "s", 30.0, 5.0, 60.0);
    // Another leaves for a lookup and hangs up there.
    log.push(e(2.0, "530100", "q", QueueLogKind::EnterQueue));
    log.push(e(3.0, "530100", "q", QueueLogKind::SelfService));
    let r = report(&log, at(0.0), at(3600.0), &KpiRules::default(), platform_of);
    let k = &r.queues["530100"];
    assert_eq!((k.offered, k.answered, k.abandoned), (1, 1, 0));
    assert_eq!(k.connection_rate, Some(1.0));
}
