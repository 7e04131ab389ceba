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
