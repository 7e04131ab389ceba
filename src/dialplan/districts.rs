//! `districts.csv`: the county-level divisions (区县) each prefecture platform serves, by their
//! 6-digit division code: the places an operator picks for the matter of a work order.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::Problem;

/// A county-level division.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct District {
    /// Its division code, e.g. `530102`.
    pub code: String,
    /// Its name, e.g. `五华区`.
    pub name: String,
    /// The prefecture platform that serves it.
    pub platform: String,
}

/// Reads the districts; each must be a 6-digit code inside its platform's (the same first
/// four digits), listed once, of a prefecture platform.
pub(super) fn load(
    path: &Path,
    prefectures: &[String],
    problems: &mut Vec<Problem>,
) -> Vec<District> {
    let Some(rows) = super::tables::rows::<District>(path, problems) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (line, d) in rows {
        let mut problem = |m: String| problems.push(Problem::at(path, line, m));
        if d.code.len() != 6 || !d.code.bytes().all(|b| b.is_ascii_digit()) {
            problem(format!("district code {:?} must be 6 digits", d.code));
        } else if !prefectures.contains(&d.platform) {
            problem(format!(
                "platform {} is not a prefecture platform in platforms.toml",
                d.platform
            ));
        } else if d.code[..4] != d.platform[..4] || d.code == d.platform {
            problem(format!(
                "district {} does not lie inside platform {}",
                d.code, d.platform
            ));
        } else if !seen.insert(d.code.clone()) {
            problem(format!("district {} is listed twice", d.code));
        } else if d.name.is_empty() {
            problem(format!("district {} has no name", d.code));
        }
        out.push(d);
    }
    out
}
