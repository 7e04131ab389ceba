//! `hotlines.toml` (optional): the other hotlines an operator hands a caller to in one click,
//! blind or in a three-party call (国办发〔2022〕12号: 110, 119, 120 and 122 at once; the
//! retained departmental hotlines such as 12315 or 12366 by two-way transfer). Each names the
//! number the operator picks, the number the trunk dials (per platform where it differs, e.g.
//! with the area code of the provincial centre), and how a case handed over is recorded: the
//! reason it is not accepted by 12345, with the channel named.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};
use super::trunks::is_dialable;
use crate::cases::category::OutOfScope;

/// Another hotline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherHotline {
    /// The number the operator picks (`110`).
    pub number: String,
    /// Its name (公安报警).
    pub name: String,
    /// An emergency service (110, 119, 120, 122): handed over at once, whatever the hours.
    pub emergency: bool,
    /// How a case handed over closes: not accepted, with this channel.
    pub reason: OutOfScope,
    /// The number the trunk dials (the operator's `number` by default).
    pub dial: String,
    /// A platform's own number to dial, by division code.
    pub dial_by_platform: BTreeMap<String, String>,
}

impl OtherHotline {
    /// What a platform's trunk dials to reach this hotline.
    pub fn dial_for(&self, platform: &str) -> &str {
        self.dial_by_platform
            .get(platform)
            .map_or(self.dial.as_str(), String::as_str)
    }
}

/// The hotlines of `hotlines.toml`, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtherHotlines {
    pub hotlines: Vec<OtherHotline>,
}

impl OtherHotlines {
    /// The hotline an operator picked by its number.
    pub fn get(&self, number: &str) -> Option<&OtherHotline> {
        self.hotlines.iter().find(|h| h.number == number)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HotlinesFile {
    #[serde(default)]
    hotline: Vec<Spanned<HotlineEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HotlineEntry {
    number: String,
    name: String,
    #[serde(default)]
    emergency: bool,
    reason: String,
    dial: Option<String>,
    #[serde(default)]
    dial_by_platform: BTreeMap<String, String>,
}

/// Loads `hotlines.toml` when the file exists.
pub(super) fn load(
    path: &Path,
    platforms: &[String],
    problems: &mut Vec<Problem>,
) -> OtherHotlines {
    if !path.exists() {
        return OtherHotlines::default();
    }
    let Some((text, file)) = parse_toml::<HotlinesFile>(path, problems) else {
        return OtherHotlines::default();
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut hotlines = Vec::new();
    for spanned in file.hotline {
        let line = line_of(&text, spanned.span().start);
        let h = spanned.into_inner();
        let mut problem = |m: String| problems.push(Problem::at(path, line, m));
        if !is_dialable(&h.number) {
            problem(format!("number {:?} must be digits", h.number));
        }
        if let Some(first) = seen.insert(h.number.clone(), line) {
            problem(format!(
                "hotline {} is already defined at line {first}",
                h.number
            ));
        }
        if h.name.trim().is_empty() {
            problem("name must not be empty".into());
        }
        let reason = OutOfScope::parse(&h.reason).unwrap_or_else(|| {
            problem(format!(
                "reason {:?} is not a reason a case is not accepted for (e.g. police-emergency, \
                 department-hotline)",
                h.reason
            ));
            OutOfScope::DepartmentHotline
        });
        let dial = h.dial.clone().unwrap_or_else(|| h.number.clone());
        for d in std::iter::once(&dial).chain(h.dial_by_platform.values()) {
            if !is_dialable(d) {
                problem(format!("dial {d:?} must be digits"));
            }
        }
        for p in h.dial_by_platform.keys() {
            if !platforms.is_empty() && !platforms.contains(p) {
                problem(format!("platform {p} is not in platforms.toml"));
            }
        }
        hotlines.push(OtherHotline {
            number: h.number,
            name: h.name,
            emergency: h.emergency,
            reason,
            dial,
            dial_by_platform: h.dial_by_platform,
        });
    }
    OtherHotlines { hotlines }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotlines_and_their_mistakes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hotlines.toml");
        std::fs::write(
            &path,
            r#"[[hotline]]
number = "110"
name = "公安报警"
emergency = true
reason = "police-emergency"
dial_by_platform = { "530000" = "0871110" }

[[hotline]]
number = "12315"
name = "市场监管"
reason = "department-hotline"

[[hotline]]
number = "110"
name = ""
reason = "because"
dial = "1-1-0"
dial_by_platform = { "539999" = "110" }
"#,
        )
        .unwrap();
        let mut problems = Vec::new();
        let h = load(&path, &["530000".into(), "530100".into()], &mut problems);
        assert_eq!(h.hotlines.len(), 3);
        let police = h.get("110").unwrap();
        assert!(police.emergency);
        assert_eq!(police.reason, OutOfScope::PoliceEmergency);
        assert_eq!(police.dial_for("530000"), "0871110");
        assert_eq!(police.dial_for("530100"), "110");
        assert_eq!(
            h.get("12315").unwrap().reason,
            OutOfScope::DepartmentHotline
        );
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        for what in [
            "already defined at line 1",
            "name must not be empty",
            "reason \"because\"",
            "dial \"1-1-0\"",
            "platform 539999",
        ] {
            assert!(
                text.iter()
                    .any(|t| t.contains("hotlines.toml:13: ") && t.contains(what)),
                "{what} in {text:#?}"
            );
        }
        assert_eq!(problems.len(), 5, "{text:#?}");
    }
}
