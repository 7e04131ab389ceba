//! The statistics page's data: `GET /api/statistics/report?from=&to=&platform=` (JSON: calls
//! per hour of the day, the service level by day, cases by category, platform, unit and
//! state, each unit's on-time rate, the callers' ratings, seat occupancy, and the hot topics:
//! the hottest terms, those rising most against the previous period of the same length, and
//! each district's), its charts as SVG (`GET /api/statistics/charts/{chart}`), and each of
//! its tables as CSV or XLSX (`GET /api/statistics/tables/{table}?format=csv|xlsx`).
//! Supervisors only; a prefecture's supervisor sees its platform.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::state::ApiState;
use super::workflow::local_day_start;
use crate::cases::statistics::{compute, CaseFacts, Statistics};
use crate::cases::{CaseState, Category, Role};
use crate::charts::{self, Scale, Series};
use crate::dialplan::queues::platform_of_queue;
use crate::kpi::series::{by_hour_of_day, daily, hourly, DayRow, HourRow};
use crate::topics::{self, Doc, Rising, Segmenter, TermCount};

/// Terms listed in each hot-topic table.
const TOP_TERMS: usize = 15;
/// The longest period, in days.
const MAX_DAYS: i64 = 366;

/// The period and platform asked for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day, YYYY-MM-DD (local).
    pub from: String,
    /// Last day, included.
    pub to: String,
    pub platform: Option<String>,
    /// For tables: `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The statistics of a period.
#[derive(Debug, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub platform: Option<String>,
    /// The period before, of the same length (what rising terms are measured against).
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    pub calls_by_hour: Vec<HourRow>,
    pub service_by_day: Vec<DayRow>,
    pub service_level_target: f64,
    pub occupancy: Option<f64>,
    pub cases: Statistics,
    /// The callers' ratings of their calls after the operator hung up (`satisfied`,
    /// `basicallysatisfied`, `dissatisfied`, `none` for an operator's call not rated).
    pub call_ratings: BTreeMap<String, u64>,
    pub hot_terms: Vec<TermCount>,
    pub rising_terms: Vec<Rising>,
    /// By district name.
    pub terms_by_district: BTreeMap<String, Vec<TermCount>>,
    /// Names of platforms and units, for the labels.
    pub names: BTreeMap<String, String>,
}

async fn segmenter(state: &ApiState) -> Result<Arc<Segmenter>, ApiError> {
    let plan = state.dialplan.current();
    let mut names: Vec<String> = plan
        .districts
        .iter()
        .map(|d| d.name.clone())
        .chain(plan.units.iter().map(|u| u.name.clone()))
        .chain(plan.router.platforms().iter().map(|p| p.name_zh.clone()))
        .collect();
    names.sort();
    if let Some((built_from, seg)) = &*state.segmenter.lock().unwrap_or_else(|e| e.into_inner()) {
        if *built_from == names {
            return Ok(seg.clone());
        }
    }
    let for_build = names.clone();
    let seg = tokio::task::spawn_blocking(move || {
        Arc::new(Segmenter::new(for_build.iter().map(String::as_str)))
    })
    .await
    .map_err(ApiError::internal)?;
    *state.segmenter.lock().unwrap_or_else(|e| e.into_inner()) = Some((names, seg.clone()));
    Ok(seg)
}

fn docs<'a>(
    facts: &'a [CaseFacts],
    district_name: &impl Fn(&str) -> Option<&'a str>,
) -> Vec<(String, Option<&'a str>)> {
    facts
        .iter()
        .map(|f| {
            // The caller's name and address never become a term.
            let text = format!("{} {}", f.order.summary, f.topic);
            (
                crate::cases::publish::redact(&text, "", &f.order),
                f.order.district.as_deref().and_then(district_name),
            )
        })
        .collect()
}

fn as_docs<'a>(texts: &'a [(String, Option<&'a str>)]) -> Vec<Doc<'a>> {
    texts
        .iter()
        .map(|(text, district)| Doc {
            text,
            district: *district,
        })
        .collect()
}

/// Builds the report of the period asked for.
async fn report(state: &ApiState, user: &Caller, q: &ReportQuery) -> Result<Report, ApiError> {
    if user.user.role != Role::Supervisor {
        return Err(ApiError::forbidden("statistics are for supervisors"));
    }
    let platform = user.narrow_platform(q.platform.clone().filter(|p| !p.is_empty()))?;
    let from = local_day_start(state, "from", &q.from)?;
    let to = local_day_start(state, "to", &q.to)? + chrono::Duration::days(1);
    if to <= from {
        return Err(ApiError::invalid("to", "must not be before from"));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("a period is at most {MAX_DAYS} days"),
        ));
    }
    let plan = state.dialplan.current();
    let zone = plan.time_zone;
    let rules = plan.kpi.rules;
    let (previous_from, previous_to) = (from - (to - from), from);
    let facts = state
        .store
        .case_facts(from, to, platform.as_deref(), zone)
        .await
        .map_err(ApiError::internal)?;
    let before = state
        .store
        .case_facts(previous_from, previous_to, platform.as_deref(), zone)
        .await
        .map_err(ApiError::internal)?;
    let call_ratings = state
        .store
        .call_ratings(from, to, platform.as_deref())
        .await
        .map_err(ApiError::internal)?;
    let now = Utc::now();
    let log: Vec<_> = state
        .store
        .queue_log_between(from, to + chrono::Duration::hours(2))
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .filter(|e| {
            platform
                .as_deref()
                .is_none_or(|p| platform_of_queue(&e.queue) == p)
        })
        .collect();
    let local = |t: DateTime<Utc>| t.with_timezone(&zone).date_naive();
    let (first, last) = (local(from), local(to - chrono::Duration::days(1)));
    let calls_by_hour = by_hour_of_day(&hourly(&log, from, to, zone, &rules));
    let service_by_day = daily(&log, first, last, zone, &rules);
    let occupancy =
        super::queues::seat_occupancy(state, from, to.min(now).max(from), platform.as_deref())
            .await?;
    let seg = segmenter(state).await?;
    let districts: std::collections::HashMap<String, String> = plan
        .districts
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    // Segmenting a long period's summaries is CPU work: off the async threads.
    let (facts, (hot_terms, rising_terms, terms_by_district)) =
        tokio::task::spawn_blocking(move || {
            let district_name = |code: &str| districts.get(code).map(String::as_str);
            let (now_texts, before_texts) =
                (docs(&facts, &district_name), docs(&before, &district_name));
            let (now_docs, before_docs) = (as_docs(&now_texts), as_docs(&before_texts));
            let terms = (
                topics::hot(&seg, &now_docs, TOP_TERMS),
                topics::rising(&seg, &now_docs, &before_docs, TOP_TERMS),
                topics::by_district(&seg, &now_docs, 5),
            );
            (facts, terms)
        })
        .await
        .map_err(ApiError::internal)?;
    let names = plan
        .router
        .platforms()
        .iter()
        .map(|p| (p.code.clone(), p.name_zh.clone()))
        .chain(plan.units.iter().map(|u| (u.id.clone(), u.name.clone())))
        .collect();
    Ok(Report {
        from: first,
        to: last,
        platform,
        previous_from: local(previous_from),
        previous_to: local(previous_to - chrono::Duration::days(1)),
        calls_by_hour,
        service_by_day,
        service_level_target: plan.kpi.targets.service_level,
        occupancy,
        cases: compute(&facts, 10),
        call_ratings,
        hot_terms,
        rising_terms,
        terms_by_district,
        names,
    })
}

fn read_query(
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ReportQuery, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::invalid("query", e.body_text()))
}

/// `GET /api/statistics/report`.
pub async fn json(
    State(state): State<ApiState>,
    user: Caller,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let q = read_query(query)?;
    report(&state, &user, &q).await.map(Json)
}

/// A cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// A share, 0 to 1 (a percentage in the spreadsheet).
    Share(Option<f64>),
}

/// A table of the report.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// Every table's name, in the page's order.
pub const TABLES: [&str; 13] = [
    "calls-by-hour",
    "service-by-day",
    "cases-by-category",
    "cases-by-platform",
    "cases-by-unit",
    "cases-by-state",
    "cases-by-channel",
    "on-time-by-unit",
    "satisfaction",
    "call-ratings",
    "hot-terms",
    "rising-terms",
    "terms-by-district",
];

fn name_of<'a>(r: &'a Report, id: &'a str) -> &'a str {
    r.names.get(id).map_or(id, String::as_str)
}

fn counts(
    title: &'static str,
    column: &'static str,
    m: &BTreeMap<String, u64>,
    label: impl Fn(&str) -> String,
) -> Table {
    Table {
        title,
        columns: vec![column, "件数"],
        rows: m
            .iter()
            .map(|(k, n)| vec![Cell::Text(label(k)), Cell::Number(*n as f64)])
            .collect(),
    }
}

fn category_name(c: &str) -> String {
    Category::parse(c).map_or(c.to_string(), |c| c.name_zh().to_string())
}

fn state_name(s: &str) -> String {
    CaseState::parse(s).map_or(s.to_string(), |s| s.name_zh().to_string())
}

fn satisfaction_name(s: &str) -> String {
    match s {
        "satisfied" => "满意",
        "basicallysatisfied" => "基本满意",
        "dissatisfied" => "不满意",
        "none" => "未评价",
        other => other,
    }
    .to_string()
}

/// The table `name` of a report.
pub fn table(r: &Report, name: &str) -> Option<Table> {
    let n = |v: u64| Cell::Number(v as f64);
    Some(match name {
        "calls-by-hour" => Table {
            title: "每小时来电",
            columns: vec!["时段", "呼入", "接通", "放弃"],
            rows: r
                .calls_by_hour
                .iter()
                .map(|h| {
                    vec![
                        Cell::Text(h.hour.clone()),
                        n(h.offered),
                        n(h.answered),
                        n(h.abandoned),
                    ]
                })
                .collect(),
        },
        "service-by-day" => Table {
            title: "每日服务水平",
            columns: vec!["日期", "呼入", "接通", "15 秒接通率", "接通率"],
            rows: r
                .service_by_day
                .iter()
                .map(|d| {
                    vec![
                        Cell::Text(d.day.to_string()),
                        n(d.offered),
                        n(d.answered),
                        Cell::Share(d.service_level),
                        Cell::Share(d.connection_rate),
                    ]
                })
                .collect(),
        },
        "cases-by-category" => counts("按类别", "类别", &r.cases.by_category, category_name),
        "cases-by-platform" => counts("按平台", "平台", &r.cases.by_platform, |p| {
            name_of(r, p).to_string()
        }),
        "cases-by-unit" => counts("按承办单位", "承办单位", &r.cases.by_unit, |u| {
            name_of(r, u).to_string()
        }),
        "cases-by-state" => counts("按状态", "状态", &r.cases.by_state, state_name),
        "cases-by-channel" => counts("按受理渠道", "渠道", &r.cases.by_channel, |c| {
            crate::intake::Channel::parse(c).map_or(c.to_string(), |c| c.name_zh().to_string())
        }),
        "on-time-by-unit" => Table {
            title: "承办单位按时办结率",
            columns: vec!["承办单位", "已答复", "按时", "按时率"],
            rows: r
                .cases
                .on_time_by_unit
                .iter()
                .map(|(u, t)| {
                    vec![
                        Cell::Text(name_of(r, u).to_string()),
                        n(t.replied),
                        n(t.on_time),
                        Cell::Share(Some(t.rate)),
                    ]
                })
                .collect(),
        },
        "satisfaction" => counts(
            "回访满意度",
            "评价",
            &r.cases.by_satisfaction,
            satisfaction_name,
        ),
        "call-ratings" => Table {
            title: "来电服务评价",
            columns: vec!["评价", "通数"],
            rows: r
                .call_ratings
                .iter()
                .map(|(k, v)| vec![Cell::Text(satisfaction_name(k)), n(*v)])
                .collect(),
        },
        "hot-terms" => Table {
            title: "热点词",
            columns: vec!["词", "件数"],
            rows: r
                .hot_terms
                .iter()
                .map(|t| vec![Cell::Text(t.term.clone()), n(t.cases)])
                .collect(),
        },
        "rising-terms" => Table {
            title: "上升最快的词",
            columns: vec!["词", "本期", "上期", "增加"],
            rows: r
                .rising_terms
                .iter()
                .map(|t| {
                    vec![
                        Cell::Text(t.term.clone()),
                        n(t.now),
                        n(t.before),
                        Cell::Number(t.change as f64),
                    ]
                })
                .collect(),
        },
        "terms-by-district" => Table {
            title: "各区县热点词",
            columns: vec!["区县", "词", "件数"],
            rows: r
                .terms_by_district
                .iter()
                .flat_map(|(d, terms)| {
                    terms.iter().map(|t| {
                        vec![
                            Cell::Text(d.clone()),
                            Cell::Text(t.term.clone()),
                            n(t.cases),
                        ]
                    })
                })
                .collect(),
        },
        _ => return None,
    })
}

fn share_text(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{:.1}%", v * 100.0))
}

/// A table as CSV (UTF-8 with a byte-order mark, which spreadsheet programs need to read
/// Chinese).
pub fn to_csv(t: &Table) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(&t.columns).map_err(ApiError::internal)?;
    for row in &t.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Number(v) => charts_number(*v),
                Cell::Share(v) => share_text(*v),
            })
            .collect();
        w.write_record(&cells).map_err(ApiError::internal)?;
    }
    w.into_inner().map_err(ApiError::internal)
}

fn charts_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// A table as an XLSX workbook of one sheet (numbers as numbers, shares as percentages).
pub fn to_xlsx(t: &Table) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(t.title).map_err(ApiError::internal)?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    for (c, name) in t.columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *name, &bold)
            .map_err(ApiError::internal)?;
        sheet
            .set_column_width(c as u16, 16)
            .map_err(ApiError::internal)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => sheet.write_string(r, c, s).map(|_| ()),
                Cell::Number(v) => sheet.write_number(r, c, *v).map(|_| ()),
                Cell::Share(Some(v)) => sheet
                    .write_number_with_format(r, c, *v, &percent)
                    .map(|_| ()),
                Cell::Share(None) => Ok(()),
            }
            .map_err(ApiError::internal)?;
        }
    }
    book.save_to_buffer().map_err(ApiError::internal)
}

/// 404 unless `name` is one of `names` (checked before the report is built).
fn known(what: &str, name: &str, names: &[&str]) -> Result<(), ApiError> {
    if names.contains(&name) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no {what} {name}: one of {}",
            names.join(", ")
        )))
    }
}

/// `GET /api/statistics/tables/{table}?from=&to=&format=csv|xlsx`.
pub async fn download(
    State(state): State<ApiState>,
    user: Caller,
    Path(name): Path<String>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = read_query(query)?;
    known("table", &name, &TABLES)?;
    let format = q.format.clone().unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "xlsx" {
        return Err(ApiError::invalid("format", "csv or xlsx"));
    }
    let r = report(&state, &user, &q).await?;
    let t = table(&r, &name).ok_or_else(|| ApiError::not_found(format!("no table {name}")))?;
    let file = format!("{name}-{}-{}.{format}", r.from, r.to);
    let (kind, body) = if format == "csv" {
        ("text/csv; charset=utf-8", to_csv(&t)?)
    } else {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            to_xlsx(&t)?,
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Every chart's name.
pub const CHARTS: [&str; 5] = [
    "calls-by-hour",
    "service-by-day",
    "cases-by-category",
    "on-time-by-unit",
    "hot-terms",
];

/// The chart `name` of a report, as SVG.
pub fn chart(r: &Report, name: &str) -> Option<String> {
    let pairs = |t: Table, col: usize| -> Vec<(String, f64)> {
        t.rows
            .iter()
            .map(|row| {
                let label = match &row[0] {
                    Cell::Text(s) => s.clone(),
                    _ => String::new(),
                };
                let v = match row.get(col) {
                    Some(Cell::Number(v)) => *v,
                    Some(Cell::Share(v)) => v.unwrap_or(0.0),
                    _ => 0.0,
                };
                (label, v)
            })
            .collect()
    };
    Some(match name {
        "calls-by-hour" => {
            let labels: Vec<String> = r
                .calls_by_hour
                .iter()
                .map(|h| h.hour[..2].to_string())
                .collect();
            let series = |name: &str, f: fn(&HourRow) -> u64| Series {
                name: name.into(),
                values: r.calls_by_hour.iter().map(|h| f(h) as f64).collect(),
            };
            charts::bars(
                "每小时来电（呼入 / 接通 / 放弃）",
                &labels,
                &[
                    series("呼入", |h| h.offered),
                    series("接通", |h| h.answered),
                    series("放弃", |h| h.abandoned),
                ],
                Scale::Count,
                None,
            )
        }
        "service-by-day" => {
            let labels: Vec<String> = r
                .service_by_day
                .iter()
                .map(|d| d.day.format("%m-%d").to_string())
                .collect();
            charts::bars(
                "每日 15 秒接通率",
                &labels,
                &[Series {
                    name: "15 秒接通率".into(),
                    values: r
                        .service_by_day
                        .iter()
                        .map(|d| d.service_level.unwrap_or(0.0))
                        .collect(),
                }],
                Scale::Percent,
                Some(r.service_level_target),
            )
        }
        "cases-by-category" => charts::rows(
            "工单按类别",
            &pairs(table(r, "cases-by-category")?, 1),
            Scale::Count,
        ),
        "on-time-by-unit" => charts::rows(
            "承办单位按时办结率",
            &pairs(table(r, "on-time-by-unit")?, 3),
            Scale::Percent,
        ),
        "hot-terms" => charts::rows(
            "热点词（涉及工单数）",
            &pairs(table(r, "hot-terms")?, 1),
            Scale::Count,
        ),
        _ => return None,
    })
}

/// `GET /api/statistics/charts/{chart}?from=&to=`: the chart as SVG.
pub async fn svg(
    State(state): State<ApiState>,
    user: Caller,
    Path(name): Path<String>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = read_query(query)?;
    known("chart", &name, &CHARTS)?;
    let r = report(&state, &user, &q).await?;
    let svg = chart(&r, &name).ok_or_else(|| ApiError::not_found(format!("no chart {name}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}
