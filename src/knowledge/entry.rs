//! A knowledge-base entry and the rules for writing one: what an editor sends ([`Draft`]), the
//! entry as kept ([`Entry`]), and what changed between two versions.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest question or answer, in characters.
pub const MAX_TEXT: usize = 20_000;
/// The longest category or source department, in characters.
pub const MAX_LABEL: usize = 100;

/// What an editor writes: a new entry, or the next version of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// A short title (住房公积金提取条件).
    pub title: String,
    /// The question as callers ask it.
    pub question: String,
    /// The answer an operator gives.
    pub answer: String,
    /// The category (the same words as a case's category).
    pub category: String,
    /// The platform it applies to (a division code); none: every platform.
    #[serde(default)]
    pub platform: Option<String>,
    /// The department the answer comes from (市住房公积金管理中心).
    #[serde(default)]
    pub source_department: Option<String>,
    /// First day it applies (China Standard Time); none: from ever.
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// Last day it applies; none: until withdrawn.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
}

/// An entry as kept: the draft's fields, its id and version, and who last changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The entry's number.
    pub id: i64,
    /// 1 for a new entry, one more for each change.
    pub version: i64,
    #[serde(flatten)]
    pub fields: Draft,
    /// When the current version was written.
    pub updated_at: DateTime<Utc>,
    /// Who wrote it (a user id).
    pub updated_by: String,
}

/// One version in an entry's history: who wrote it, when, which fields changed, and the entry
/// as it then was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    /// The fields that differ from the version before (every field for version 1).
    pub changed: Vec<String>,
    pub entry: Draft,
}

/// A field an editor got wrong, and why (shown next to the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub why: String,
}

impl Draft {
    /// Trims the text fields and checks the draft; `platforms` are the division codes the
    /// dialplan knows.
    pub fn validated<P: AsRef<str>>(mut self, platforms: &[P]) -> Result<Draft, FieldError> {
        let err = |field, why: &str| {
            Err(FieldError {
                field,
                why: why.to_string(),
            })
        };
        for (field, value, max) in [
            ("title", &mut self.title, MAX_TITLE),
            ("question", &mut self.question, MAX_TEXT),
            ("answer", &mut self.answer, MAX_TEXT),
            ("category", &mut self.category, MAX_LABEL),
        ] {
            *value = value.trim().to_string();
            if value.is_empty() {
                return err(field, "必填 (required)");
            }
            if value.chars().count() > max {
                return err(
                    field,
                    &format!("最多 {max} 个字 (at most {max} characters)"),
                );
            }
        }
        if let Some(dept) = &mut self.source_department {
            *dept = dept.trim().to_string();
            if dept.chars().count() > MAX_LABEL {
                return err(
                    "source_department",
                    &format!("最多 {MAX_LABEL} 个字 (at most {MAX_LABEL} characters)"),
                );
            }
        }
        if self.source_department.as_deref() == Some("") {
            self.source_department = None;
        }
        if let Some(p) = &self.platform {
            if !platforms.iter().any(|known| known.as_ref() == p) {
                return err(
                    "platform",
                    &format!("{p:?} 不是本省的平台 (not a platform of the dialplan)"),
                );
            }
        }
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to) {
            if to < from {
                return err("valid_to", "早于生效日期 (before valid_from)");
            }
        }
        Ok(self)
    }

    /// Does the entry apply on `day` on `platform`?
    pub fn applies(&self, platform: Option<&str>, day: NaiveDate) -> bool {
        let place = match (&self.platform, platform) {
            (None, _) | (_, None) => true,
            (Some(mine), Some(asked)) => mine == asked,
        };
        place
            && self.valid_from.is_none_or(|from| from <= day)
            && self.valid_to.is_none_or(|to| day <= to)
    }

    /// The fields in which `self` differs from `before`.
    pub fn changed_since(&self, before: &Draft) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, differs: bool| {
            if differs {
                out.push(name.to_string());
            }
        };
        check("title", self.title != before.title);
        check("question", self.question != before.question);
        check("answer", self.answer != before.answer);
        check("category", self.category != before.category);
        check("platform", self.platform != before.platform);
        check(
            "source_department",
            self.source_department != before.source_department,
        );
        check("valid_from", self.valid_from != before.valid_from);
        check("valid_to", self.valid_to != before.valid_to);
        out
    }

    /// Every field's name, for the first version's history.
    pub fn all_fields() -> Vec<String> {
        [
            "title",
            "question",
            "answer",
            "category",
            "platform",
            "source_department",
            "valid_from",
            "valid_to",
        ]
        .map(String::from)
        .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            title: " 住房公积金提取 ".into(),
            question: "怎么提取住房公积金？".into(),
            answer: "携带身份证到公积金中心办理。".into(),
            category: "住房".into(),
            platform: Some("530100".into()),
            source_department: Some("".into()),
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1),
            valid_to: NaiveDate::from_ymd_opt(2026, 12, 31),
        }
    }

    #[test]
    fn a_draft_is_trimmed_and_checked_field_by_field() {
        let ok = draft().validated(&["530100"]).unwrap();
        assert_eq!(ok.title, "住房公积金提取");
        assert_eq!(ok.source_department, None);

        let mut d = draft();
        d.answer = "  ".into();
        assert_eq!(d.validated(&["530100"]).unwrap_err().field, "answer");
        let mut d = draft();
        d.title = "长".repeat(MAX_TITLE + 1);
        assert_eq!(d.validated(&["530100"]).unwrap_err().field, "title");
        assert_eq!(
            draft().validated(&["532900"]).unwrap_err().field,
            "platform"
        );
        let mut d = draft();
        d.valid_to = NaiveDate::from_ymd_opt(2025, 12, 31);
        assert_eq!(d.validated(&["530100"]).unwrap_err().field, "valid_to");
    }

    #[test]
    fn an_entry_applies_on_its_platform_and_days_only() {
        let d = draft();
        let day = |m, dd| NaiveDate::from_ymd_opt(2026, m, dd).unwrap();
        assert!(d.applies(Some("530100"), day(6, 1)));
        assert!(d.applies(None, day(6, 1)), "a province-wide search sees it");
        assert!(!d.applies(Some("532900"), day(6, 1)));
        assert!(!d.applies(Some("530100"), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
        let everywhere = Draft {
            platform: None,
            valid_from: None,
            valid_to: None,
            ..draft()
        };
        assert!(everywhere.applies(Some("532900"), day(6, 1)));
    }

    #[test]
    fn the_history_names_the_fields_that_changed() {
        let before = draft();
        let mut after = draft();
        after.answer = "新的答复".into();
        after.valid_to = None;
        assert_eq!(after.changed_since(&before), ["answer", "valid_to"]);
        assert!(before.changed_since(&before).is_empty());
    }
}
