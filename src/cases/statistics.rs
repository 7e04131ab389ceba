//! Statistics of a period, pure: counts by platform, category, unit, state and day; each unit's
//! on-time rate (replies before the handling deadline); hot topics (the most frequent
//! categories and keywords). The store gathers the facts, this file counts them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// What statistics need of one case.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub platform: String,
    pub category: Option<String>,
    pub unit: Option<String>,
    pub state: String,
    /// The local day the case was created.
    pub day: NaiveDate,
    pub topic: String,
    /// The handling deadline, when the case reached a unit.
    pub handle_due: Option<DateTime<Utc>>,
    /// When the unit replied.
    pub replied_at: Option<DateTime<Utc>>,
    /// The work order (its summary and district feed the hot topics).
    pub order: super::order::WorkOrder,
    /// The caller's rating at the latest callback, when given.
    pub satisfaction: Option<super::workflow::Satisfaction>,
    /// The channel it came in on (`phone`, `email`, `sms`, `web`, `app`, `wechat`).
    pub channel: String,
}

/// A unit's punctuality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnTime {
    /// Cases replied to.
    pub replied: u64,
    /// Of those, replied by the deadline.
    pub on_time: u64,
    /// on_time / replied (0 when nothing was replied).
    pub rate: f64,
}

/// The statistics of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    pub total: u64,
    pub by_platform: BTreeMap<String, u64>,
    pub by_category: BTreeMap<String, u64>,
    pub by_unit: BTreeMap<String, u64>,
    pub by_state: BTreeMap<String, u64>,
    /// By the channel the request came in on.
    pub by_channel: BTreeMap<String, u64>,
    pub by_day: BTreeMap<NaiveDate, u64>,
    pub on_time_by_unit: BTreeMap<String, OnTime>,
    /// Callers' ratings at the callback (`satisfied`, `basicallysatisfied`, `dissatisfied`).
    pub by_satisfaction: BTreeMap<String, u64>,
    /// The most frequent categories, most first.
    pub hot_categories: Vec<(String, u64)>,
    /// The most frequent topic keywords, most first.
    pub hot_keywords: Vec<(String, u64)>,
}

/// Keywords of a topic: words split at spaces and at ASCII or Chinese punctuation, at least two
/// characters long, lower-cased.
pub fn keywords(topic: &str) -> Vec<String> {
    topic
        .split(|c: char| {
            c.is_whitespace()
                || c.is_ascii_punctuation()
                || "，。、；：？！（）【】《》“”".contains(c)
        })
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase())
        .collect()
}

/// Counts the facts; `top` limits the hot lists.
pub fn compute(facts: &[CaseFacts], top: usize) -> Statistics {
    let mut s = Statistics {
        total: facts.len() as u64,
        by_platform: BTreeMap::new(),
        by_category: BTreeMap::new(),
        by_unit: BTreeMap::new(),
        by_state: BTreeMap::new(),
        by_channel: BTreeMap::new(),
        by_day: BTreeMap::new(),
        on_time_by_unit: BTreeMap::new(),
        by_satisfaction: BTreeMap::new(),
        hot_categories: Vec::new(),
        hot_keywords: Vec::new(),
    };
    let mut words: BTreeMap<String, u64> = BTreeMap::new();
    for f in facts {
        *s.by_platform.entry(f.platform.clone()).or_default() += 1;
        *s.by_state.entry(f.state.clone()).or_default() += 1;
        *s.by_channel.entry(f.channel.clone()).or_default() += 1;
        *s.by_day.entry(f.day).or_default() += 1;
        if let Some(c) = &f.category {
            *s.by_category.entry(c.clone()).or_default() += 1;
        }
        if let Some(u) = &f.unit {
            *s.by_unit.entry(u.clone()).or_default() += 1;
            if let Some(replied) = f.replied_at {
                let entry = s.on_time_by_unit.entry(u.clone()).or_insert(OnTime {
                    replied: 0,
                    on_time: 0,
                    rate: 0.0,
                });
                entry.replied += 1;
                if f.handle_due.is_none_or(|due| replied <= due) {
                    entry.on_time += 1;
                }
            }
        }
        if let Some(r) = f.satisfaction {
            *s.by_satisfaction.entry(r.as_str().to_string()).or_default() += 1;
        }
        for w in keywords(&f.topic) {
            *words.entry(w).or_default() += 1;
        }
    }
    for t in s.on_time_by_unit.values_mut() {
        t.rate = t.on_time as f64 / t.replied as f64;
    }
    s.hot_categories = most_first(&s.by_category, top);
    s.hot_keywords = most_first(&words, top);
    s
}

fn most_first(counts: &BTreeMap<String, u64>, top: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(top);
    v
}

/// The statistics as CSV rows: `dimension,key,value`.
pub fn to_csv(s: &Statistics) -> String {
    let mut out = String::from("dimension,key,value\n");
    let mut row = |dim: &str, key: &str, value: String| {
        let key = if key.contains([',', '"', '\n']) {
            format!("\"{}\"", key.replace('"', "\"\""))
        } else {
            key.to_string()
        };
        out.push_str(&format!("{dim},{key},{value}\n"));
    };
    row("total", "", s.total.to_string());
    for (k, n) in &s.by_platform {
        row("platform", k, n.to_string());
    }
    for (k, n) in &s.by_category {
        row("category", k, n.to_string());
    }
    for (k, n) in &s.by_unit {
        row("unit", k, n.to_string());
    }
    for (k, n) in &s.by_state {
        row("state", k, n.to_string());
    }
    for (k, n) in &s.by_day {
        row("day", &k.to_string(), n.to_string());
    }
    for (k, t) in &s.on_time_by_unit {
        row("on-time-rate", k, format!("{:.4}", t.rate));
    }
    for (k, n) in &s.by_satisfaction {
        row("satisfaction", k, n.to_string());
    }
    for (k, n) in &s.hot_keywords {
        row("keyword", k, n.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(
        platform: &str,
        category: &str,
        unit: Option<&str>,
        topic: &str,
        replied_late: Option<bool>,
    ) -> CaseFacts {
        let due: DateTime<Utc> = "2026-11-30T16:00:00Z".parse().unwrap();
        CaseFacts {
            platform: platform.into(),
            category: Some(category.into()),
            unit: unit.map(Into::into),
            state: if replied_late.is_some() {
                "replied"
            } else {
                "accepted"
            }
            .into(),
            day: "2026-11-25".parse().unwrap(),
            topic: topic.into(),
            handle_due: unit.map(|_| due),
            replied_at: replied_late
                .map(|late| due + chrono::Duration::hours(if late { 1 } else { -1 })),
            order: Default::default(),
            channel: "phone".into(),
            satisfaction: replied_late.map(|late| {
                if late {
                    super::super::workflow::Satisfaction::Dissatisfied
                } else {
                    super::super::workflow::Satisfaction::Satisfied
                }
            }),
        }
    }

    #[test]
    fn counts_rates_and_hot_topics() {
        let facts = vec![
            fact(
                "530100",
                "complaint",
                Some("kmhb"),
                "噪音扰民 夜间施工",
                Some(false),
            ),
            fact(
                "530100",
                "complaint",
                Some("kmhb"),
                "噪音扰民，广场舞",
                Some(true),
            ),
            fact("530100", "consultation", None, "社保 转移", None),
            fact("532900", "complaint", Some("dlhb"), "噪音扰民", Some(false)),
        ];
        let s = compute(&facts, 2);
        assert_eq!(s.total, 4);
        assert_eq!(s.by_platform["530100"], 3);
        assert_eq!(s.by_category["complaint"], 3);
        assert_eq!(s.by_unit["kmhb"], 2);
        assert_eq!(s.by_state["replied"], 3);
        assert_eq!(
            s.on_time_by_unit["kmhb"],
            OnTime {
                replied: 2,
                on_time: 1,
                rate: 0.5
            }
        );
        assert_eq!(s.on_time_by_unit["dlhb"].rate, 1.0);
        assert_eq!(s.by_satisfaction["satisfied"], 2);
        assert_eq!(s.by_satisfaction["dissatisfied"], 1);
        assert_eq!(s.hot_categories[0], ("complaint".to_string(), 3));
        assert_eq!(s.hot_keywords[0], ("噪音扰民".to_string(), 3));
        let csv = to_csv(&s);
        assert!(csv.starts_with("dimension,key,value\ntotal,,4\n"));
        assert!(csv.contains("on-time-rate,kmhb,0.5000\n"));
    }

    #[test]
    fn keywords_split_at_chinese_and_ascii_punctuation() {
        assert_eq!(
            keywords("噪音扰民，广场舞; Noise a"),
            ["噪音扰民", "广场舞", "noise"]
        );
    }
}
