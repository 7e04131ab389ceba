//! Duplicate requests across channels (国办函〔2025〕66号: 并单): a request from a phone number
//! or address that already has an open case about the same matter is proposed to the operator
//! for linking. The operator decides; nothing is merged by itself.
//!
//! "The same matter" is measured on the texts: the share of the shorter text's character
//! pairs (two Chinese characters in a row, or a Latin word or number) that the other text
//! also has. Requests about one blocked drain or one unpaid wage share most of their pairs
//! whatever the words around them; two matters from one requester share few.

use std::collections::HashSet;

use serde::Serialize;

/// The share of shared pairs from which two texts are proposed as one matter.
pub const SAME_MATTER: f64 = 0.4;

/// An open case proposed as the same matter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub case_number: String,
    /// Shared pairs over the shorter text's pairs, 0 to 1.
    pub score: f64,
}

/// The pairs a text is compared by.
fn pairs(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut previous: Option<char> = None;
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_han(c) {
            if let Some(p) = previous {
                out.insert([p, c].iter().collect());
            }
            previous = Some(c);
        } else {
            previous = None;
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        } else if !word.is_empty() {
            if word.len() >= 2 {
                out.insert(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    out
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// How much of the same matter two texts are, 0 to 1.
pub fn same_matter(a: &str, b: &str) -> f64 {
    let (a, b) = (pairs(a), pairs(b));
    let shorter = a.len().min(b.len());
    if shorter == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / shorter as f64
}

/// The open cases (number, text) of the same requester that look like the same matter as
/// `request`, most alike first.
pub fn propose<'a>(
    request: &str,
    open: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<Proposal> {
    let mut found: Vec<Proposal> = open
        .into_iter()
        .map(|(case_number, text)| Proposal {
            case_number: case_number.to_string(),
            score: same_matter(request, text),
        })
        .filter(|p| p.score >= SAME_MATTER)
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_drain_in_other_words_is_the_same_matter() {
        let call = "盘龙区北京路小区门口下水道堵塞，污水外溢";
        let mail = "您好，北京路小区门口的下水道堵塞好几天了，污水外溢很臭，请尽快处理";
        assert!(
            same_matter(call, mail) >= SAME_MATTER,
            "{}",
            same_matter(call, mail)
        );
        let other = "反映公司拖欠三个月工资";
        assert!(same_matter(call, other) < 0.1);
    }

    #[test]
    fn proposals_are_the_alike_open_cases_most_alike_first() {
        let open = [
            ("530100-20261206-000001", "公司拖欠工资三个月"),
            ("530100-20261206-000002", "北京路下水道堵塞"),
            ("530100-20261206-000003", "北京路小区下水道堵塞污水外溢"),
        ];
        let found = propose("北京路小区下水道堵塞，污水外溢", open);
        let numbers: Vec<&str> = found.iter().map(|p| p.case_number.as_str()).collect();
        assert_eq!(
            numbers,
            ["530100-20261206-000003", "530100-20261206-000002"]
        );
        assert!(found[0].score > found[1].score || found[0].score == 1.0);
    }

    #[test]
    fn empty_or_punctuation_only_texts_match_nothing() {
        assert_eq!(same_matter("", "下水道堵塞"), 0.0);
        assert_eq!(same_matter("？？", "！！"), 0.0);
        assert!(propose("", [("x", "")]).is_empty());
    }

    #[test]
    fn latin_words_and_numbers_count() {
        assert!(same_matter("WiFi 密码 12345 无法登录", "wifi 无法登录 12345") >= SAME_MATTER);
    }
}
