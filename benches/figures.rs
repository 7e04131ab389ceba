//! What the supervisors' figures cost, without the store: the KPIs of a busy day's queue log,
//! a week's hourly and daily series, the seats' occupancy over a day, the hot topics of a month's summaries (jieba), and a
//! chart drawn as SVG. `cargo bench --bench figures` prints the time of each, the median of
//! a few runs. The wallboard computes the KPIs of the day (and of the last 24 hours) at most
//! every 2 seconds per platform watched; the statistics page once per request.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use hotline12345::acd::engine::{QueueLogEntry, QueueLogKind};
use hotline12345::charts::{self, Scale, Series};
use hotline12345::kpi::occupancy::{occupancy, SeatChange};
use hotline12345::kpi::{report, series, KpiRules};
use hotline12345::topics::{self, Doc, Segmenter};

/// The median of `runs` timings of `f`.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn at(day_start: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    day_start + chrono::Duration::milliseconds(ms)
}

/// A day of `calls` calls over 17 platforms: each enters, 90 % are answered after a wait and
/// complete, the rest abandon.
fn day_log(calls: usize, day_start: DateTime<Utc>) -> Vec<QueueLogEntry> {
    let queues: Vec<String> = (0..17).map(|i| format!("53{:02}00", i + 1)).collect();
    let mut log = Vec::with_capacity(calls * 3);
    let entry = |ms: i64, queue: &str, call: &str, kind| QueueLogEntry {
        at: at(day_start, ms),
        queue: queue.to_string(),
        call: call.to_string(),
        agent: None,
        kind,
    };
    for i in 0..calls {
        let t = (i as i64 * 86_400_000) / calls as i64;
        let (q, call) = (&queues[i % queues.len()], format!("call-{i}"));
        let wait = ((i * 7919) % 40_000) as i64;
        log.push(entry(t, q, &call, QueueLogKind::EnterQueue));
        if i % 10 == 9 {
            log.push(entry(
                t + wait,
                q,
                &call,
                QueueLogKind::Abandon {
                    position: 1,
                    wait_ms: wait,
                },
            ));
        } else {
            log.push(entry(
                t + wait,
                q,
                &call,
                QueueLogKind::Connect { wait_ms: wait },
            ));
            log.push(entry(
                t + wait + 180_000,
                q,
                &call,
                QueueLogKind::Complete {
                    by_agent: false,
                    talk_ms: 180_000,
                },
            ));
        }
    }
    log
}

fn main() {
    let day = Utc.with_ymd_and_hms(2026, 12, 1, 16, 0, 0).unwrap();
    let rules = KpiRules::default();
    for calls in [10_000usize, 50_000] {
        let log = day_log(calls, day);
        let t = time(7, || {
            report(&log, day, day + chrono::Duration::hours(24), &rules, |q| {
                Some(q.to_string())
            })
        });
        println!(
            "kpi::report, a day of {calls} calls ({} log entries): {:.1} ms",
            log.len(),
            t.as_secs_f64() * 1000.0
        );
    }

    // A week of 10,000 calls a day, as the statistics page charts it: per hour and per day.
    let week: Vec<QueueLogEntry> = (0..7)
        .flat_map(|d| day_log(10_000, day + chrono::Duration::days(d)))
        .collect();
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let end = day + chrono::Duration::days(7);
    let t = time(5, || series::hourly(&week, day, end, tz, &rules));
    println!(
        "kpi::series::hourly, a week of 70,000 calls ({} entries, 168 hours): {:.1} ms",
        week.len(),
        t.as_secs_f64() * 1000.0
    );
    let (first, last) = (
        day.with_timezone(&tz).date_naive(),
        (end - chrono::Duration::days(1))
            .with_timezone(&tz)
            .date_naive(),
    );
    let t = time(5, || series::daily(&week, first, last, tz, &rules));
    println!(
        "kpi::series::daily, the same week (7 days): {:.1} ms",
        t.as_secs_f64() * 1000.0
    );

    // 300 seats, each changing state 200 times in the day.
    let seats: Vec<String> = (0..300).map(|i| format!("{}", 1000 + i)).collect();
    let states = ["available", "ringing", "on-call", "wrap-up", "not-ready"];
    let mut changes = Vec::new();
    for (s, seat) in seats.iter().enumerate() {
        for k in 0..200 {
            changes.push(SeatChange {
                at: at(day, (k * 400_000 + s * 1000) as i64),
                seat,
                state: states[k % states.len()],
            });
        }
    }
    let t = time(7, || {
        occupancy(&changes, day, day + chrono::Duration::hours(24))
    });
    println!(
        "kpi::occupancy, 300 seats x 200 changes: {:.1} ms",
        t.as_secs_f64() * 1000.0
    );

    let start = Instant::now();
    let seg = Segmenter::new([
        "五华区",
        "盘龙区",
        "官渡区",
        "昆明市生态环境局",
        "昆明市住房和城乡建设局",
    ]);
    println!(
        "topics::Segmenter::new (jieba's dictionary and the user words): {:.0} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    let samples = [
        "五华区某小区旁工地夜间施工噪音扰民，希望相关部门尽快处理",
        "住房公积金提取需要哪些材料，办理流程是什么",
        "盘龙区某路段路灯不亮已有一周，夜间出行不便",
        "官渡区某商铺预付卡无法退费，商家已关门",
        "小区物业费上涨未经业主大会同意，要求核实",
    ];
    let texts: Vec<String> = (0..5000)
        .map(|i| format!("{}（第{}件）", samples[i % samples.len()], i))
        .collect();
    let docs: Vec<Doc> = texts
        .iter()
        .map(|t| Doc {
            text: t,
            district: Some("五华区"),
        })
        .collect();
    let t = time(3, || topics::hot(&seg, &docs, 15));
    println!(
        "topics::hot over 5000 summaries: {:.0} ms ({:.1} µs a summary)",
        t.as_secs_f64() * 1000.0,
        t.as_secs_f64() * 1e6 / 5000.0
    );
    let t = time(3, || topics::rising(&seg, &docs, &docs[..2500], 15));
    println!(
        "topics::rising, 5000 against 2500: {:.0} ms",
        t.as_secs_f64() * 1000.0
    );

    let labels: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let series: Vec<Series> = ["呼入", "接通", "放弃"]
        .iter()
        .map(|n| Series {
            name: n.to_string(),
            values: (0..24).map(|h| (h * 37 % 500) as f64).collect(),
        })
        .collect();
    let t = time(101, || {
        charts::bars("每小时来电", &labels, &series, Scale::Count, None)
    });
    let svg = charts::bars("每小时来电", &labels, &series, Scale::Count, None);
    println!(
        "charts::bars, 24 groups x 3 series: {:.0} µs, {} bytes of SVG",
        t.as_secs_f64() * 1e6,
        svg.len()
    );
}
