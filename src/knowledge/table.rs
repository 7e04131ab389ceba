//! Import and export as JSON or CSV: one row per entry, with the same columns either way, so
//! that an export edited in a spreadsheet imports back. A row with the `id` of an entry that
//! exists is its next version; any other row is a new entry. `version`, `updated_at` and
//! `updated_by` are written on export and ignored on import.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::entry::{Draft, Entry, FieldError};

/// One row of a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub version: Option<i64>,
    pub title: String,
    pub question: String,
    pub answer: String,
    pub category: String,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub source_department: Option<String>,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// A row that cannot be imported: its number (1 for the first entry) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub why: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}: {}", self.row, self.field, self.why)
    }
}

impl From<&Entry> for Row {
    fn from(e: &Entry) -> Row {
        let d = e.fields.clone();
        Row {
            id: Some(e.id),
            version: Some(e.version),
            title: d.title,
            question: d.question,
            answer: d.answer,
            category: d.category,
            platform: d.platform,
            source_department: d.source_department,
            valid_from: d.valid_from,
            valid_to: d.valid_to,
            updated_at: Some(e.updated_at),
            updated_by: Some(e.updated_by.clone()),
        }
    }
}

impl Row {
    fn draft(self) -> Draft {
        Draft {
            title: self.title,
            question: self.question,
            answer: self.answer,
            category: self.category,
            platform: self.platform.filter(|p| !p.trim().is_empty()),
            source_department: self.source_department,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        }
    }
}

/// The entries as CSV, with a byte-order mark so that spreadsheets read the Chinese as UTF-8.
pub fn to_csv(entries: &[Entry]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    for e in entries {
        // Writing to memory fails only for a row that cannot be serialised, which ours can.
        let _ = out.serialize(Row::from(e));
    }
    let bytes = out.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
}

/// Reads CSV rows (with a header line; a byte-order mark is skipped) into checked drafts.
pub fn from_csv<P: AsRef<str>>(
    text: &str,
    platforms: &[P],
) -> Result<Vec<(Option<i64>, Draft)>, RowError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let row = row.map_err(|e| RowError {
            row: i + 1,
            field: "csv".into(),
            why: e.to_string(),
        })?;
        rows.push(row);
    }
    checked(rows, platforms)
}

/// Checks rows read from JSON or CSV.
pub fn checked<P: AsRef<str>>(
    rows: Vec<Row>,
    platforms: &[P],
) -> Result<Vec<(Option<i64>, Draft)>, RowError> {
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let id = row.id;
            row.draft().validated(platforms).map(|d| (id, d)).map_err(
                |FieldError { field, why }| RowError {
                    row: i + 1,
                    field: field.to_string(),
                    why,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dialplan's platform list left empty: any platform code is refused.
    const NO_PLATFORMS: &[&str] = &[];

    fn entry(id: i64, title: &str, platform: Option<&str>) -> Entry {
        Entry {
            id,
            version: 3,
            fields: Draft {
                title: title.into(),
                question: "问题，带逗号和\"引号\"".into(),
                answer: "第一行\n第二行".into(),
                category: "住房".into(),
                platform: platform.map(String::from),
                source_department: Some("市住房公积金管理中心".into()),
                valid_from: NaiveDate::from_ymd_opt(2026, 1, 1),
                valid_to: None,
            },
            updated_at: "2026-12-01T02:00:00Z".parse().unwrap(),
            updated_by: "kb-kunming".into(),
        }
    }

    #[test]
    fn an_export_imports_back_as_it_was() {
        let entries = [
            entry(1, "公积金提取", Some("530100")),
            entry(2, "社保卡", None),
        ];
        let text = to_csv(&entries);
        assert!(text.starts_with('\u{feff}'));
        let back = from_csv(&text, &["530100"]).unwrap();
        assert_eq!(back.len(), 2);
        for ((id, draft), e) in back.iter().zip(&entries) {
            assert_eq!(*id, Some(e.id));
            assert_eq!(draft, &e.fields);
        }
    }

    #[test]
    fn a_bad_row_is_named_with_its_field() {
        let text = "title,question,answer,category,platform\n\
                    社保卡,丢了,补办,社保,\n\
                    公积金,怎么取,,住房,530100\n";
        let err = from_csv(text, &["530100"]).unwrap_err();
        assert_eq!((err.row, err.field.as_str()), (2, "answer"));
        let err = from_csv(
            "title,question,answer,category,colour\na,b,c,d,red\n",
            NO_PLATFORMS,
        )
        .unwrap_err();
        assert_eq!((err.row, err.field.as_str()), (1, "csv"));
        assert!(err.why.contains("colour"), "{}", err.why);
        let err = from_csv(
            "title,question,answer,category,valid_from\na,b,c,d,2026-13-01\n",
            NO_PLATFORMS,
        )
        .unwrap_err();
        assert_eq!(err.row, 1);
        let ok = from_csv(
            "title,question,answer,category\n社保卡,丢了,补办,社保\n",
            NO_PLATFORMS,
        )
        .unwrap();
        assert_eq!(ok[0].0, None);
        assert_eq!(ok[0].1.platform, None);
    }
}
