//! Hot topics, pure: the terms of the case summaries, segmented with jieba (Chinese word
//! segmentation, its bundled dictionary plus a user dictionary of the dialplan's places and
//! departments and of the hotline's own terms in `words.txt`), without the stop words of
//! `stopwords.txt`. A term counts once per case; the hot terms are those in the most cases,
//! the rising terms those whose count grew most against the previous period of the same
//! length, and each district has its own hot terms.

use std::collections::{BTreeMap, HashSet};

use jieba_rs::Jieba;
use serde::Serialize;

/// The hotline's own terms, one per line (kept whole by the segmentation).
const WORDS: &str = include_str!("words.txt");
/// Words that say nothing about the matter: function words and the hotline's formulas.
const STOP_WORDS: &str = include_str!("stopwords.txt");

/// Segments case texts into terms.
pub struct Segmenter {
    jieba: Jieba,
    stop: HashSet<&'static str>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter").finish_non_exhaustive()
    }
}

/// Lines of a word list, without blanks and `#` comments.
fn lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

impl Segmenter {
    /// A segmenter that keeps `names` (places, departments) and the hotline's terms whole.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Segmenter {
        let mut jieba = Jieba::new();
        let words = lines(WORDS).map(str::to_string);
        for w in words.chain(names.into_iter().map(str::to_string)) {
            let w = w.trim();
            if w.chars().count() >= 2 {
                // A high frequency: the whole name wins over its parts.
                jieba.add_word(w, Some(100_000), None);
            }
        }
        Segmenter {
            jieba,
            stop: lines(STOP_WORDS).collect(),
        }
    }

    /// The distinct terms of `text`, in order of first appearance: words of at least two
    /// characters holding a letter, not stop words, lower-cased.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        self.jieba
            .cut(text, true)
            .into_iter()
            .map(|t| t.word.trim())
            .filter(|w| w.chars().count() >= 2 && w.chars().any(char::is_alphabetic))
            .filter(|w| !self.stop.contains(w))
            .map(str::to_lowercase)
            .filter(|w| seen.insert(w.clone()))
            .collect()
    }
}

/// A case's text and where it happened.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    pub text: &'a str,
    /// The district (county-level division) named on the work order.
    pub district: Option<&'a str>,
}

/// A term and the number of cases it appears in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermCount {
    pub term: String,
    pub cases: u64,
}

/// A term's cases now and in the previous period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rising {
    pub term: String,
    pub now: u64,
    pub before: u64,
    /// now − before.
    pub change: i64,
}

fn counts(seg: &Segmenter, docs: &[Doc<'_>]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for d in docs {
        for t in seg.terms(d.text) {
            *counts.entry(t).or_default() += 1;
        }
    }
    counts
}

fn most_first(counts: BTreeMap<String, u64>, top: usize) -> Vec<TermCount> {
    let mut v: Vec<TermCount> = counts
        .into_iter()
        .map(|(term, cases)| TermCount { term, cases })
        .collect();
    v.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.term.cmp(&b.term)));
    v.truncate(top);
    v
}

/// The `top` terms in the most cases, most first (ties by term).
pub fn hot(seg: &Segmenter, docs: &[Doc<'_>], top: usize) -> Vec<TermCount> {
    most_first(counts(seg, docs), top)
}

/// The `top` terms whose case count grew most from `before` to `now` (only terms that grew;
/// the larger count first on a tie, then by term).
pub fn rising(seg: &Segmenter, now: &[Doc<'_>], before: &[Doc<'_>], top: usize) -> Vec<Rising> {
    let before = counts(seg, before);
    let mut v: Vec<Rising> = counts(seg, now)
        .into_iter()
        .map(|(term, n)| {
            let b = before.get(&term).copied().unwrap_or(0);
            Rising {
                change: n as i64 - b as i64,
                term,
                now: n,
                before: b,
            }
        })
        .filter(|r| r.change > 0)
        .collect();
    v.sort_by(|a, b| {
        b.change
            .cmp(&a.change)
            .then(b.now.cmp(&a.now))
            .then_with(|| a.term.cmp(&b.term))
    });
    v.truncate(top);
    v
}

/// The `top` hot terms of each district named, the district's own name left out (cases
/// without a district are left out).
pub fn by_district(
    seg: &Segmenter,
    docs: &[Doc<'_>],
    top: usize,
) -> BTreeMap<String, Vec<TermCount>> {
    let mut groups: BTreeMap<&str, Vec<Doc>> = BTreeMap::new();
    for d in docs {
        if let Some(district) = d.district.filter(|s| !s.is_empty()) {
            groups.entry(district).or_default().push(*d);
        }
    }
    groups
        .into_iter()
        .map(|(district, docs)| {
            let mut c = counts(seg, &docs);
            c.remove(district);
            (district.to_string(), most_first(c, top))
        })
        .collect()
}

#[cfg(test)]
mod tests;
