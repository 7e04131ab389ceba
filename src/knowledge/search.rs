//! Search in Chinese: every entry in an in-memory tantivy index whose text fields are cut into
//! words by jieba (search mode, so 住房公积金 is also found as 公积金), without the words a
//! spoken question is made of (我想问一下, 怎么, 吗), ranked by BM25 with the title weighing most,
//! filtered by platform and validity inside the query, and returned with highlights.
//!
//! The index holds no data of its own: the store keeps the entries, and the index is built
//! from them at start-up and told of every change ([`KnowledgeIndex::upsert`]).

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Mutex;

use chrono::NaiveDate;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{StopWordFilter, TextAnalyzer, TokenStream};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::entry::Entry;

/// The tokenizer's name in the index.
const JIEBA: &str = "jieba";
/// `platform` of an entry for every platform.
const EVERY_PLATFORM: &str = "*";
/// The most hits a search returns.
pub const MAX_HITS: usize = 50;
/// Characters of a highlighted answer.
const SNIPPET_CHARS: usize = 160;
/// tantivy measures a snippet in bytes: a Chinese character is three.
const BYTES_PER_CHAR: usize = 3;

/// Words that carry no matter in a spoken question: function words, and the ways callers open
/// and close one. Kept out of the index and of every query.
const STOP_WORDS: &[&str] = &[
    "我",
    "你",
    "您",
    "他",
    "她",
    "它",
    "我们",
    "你们",
    "他们",
    "的",
    "地",
    "得",
    "了",
    "着",
    "过",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "嘛",
    "哦",
    "是",
    "在",
    "有",
    "和",
    "与",
    "及",
    "或",
    "也",
    "都",
    "就",
    "还",
    "又",
    "要",
    "想",
    "能",
    "会",
    "可以",
    "可",
    "应该",
    "需要",
    "请",
    "请问",
    "问",
    "问问",
    "问一下",
    "一下",
    "咨询",
    "咨询一下",
    "了解",
    "了解一下",
    "想问",
    "我想",
    "怎么",
    "怎么样",
    "怎样",
    "如何",
    "什么",
    "哪里",
    "哪儿",
    "哪些",
    "哪个",
    "多少",
    "几",
    "为什么",
    "这个",
    "那个",
    "这",
    "那",
    "一个",
    "个",
    "些",
    "一些",
    "吗？",
    "你好",
    "您好",
    "谢谢",
    "麻烦",
    "帮",
    "帮忙",
    "给",
    "把",
    "被",
    "让",
    "对",
    "从",
    "到",
    "向",
    "办",
    "办理",
    "，",
    "。",
    "？",
    "！",
    "、",
    "；",
    "：",
];

/// One hit: the entry, its score, and its title and answer with the matched words in `<b>`
/// (HTML-escaped otherwise).
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub entry: Entry,
    pub score: f32,
    pub title_html: String,
    pub answer_html: String,
}

/// Fields of the schema.
#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    question: Field,
    answer: Field,
    category: Field,
    platform: Field,
    valid_from: Field,
    valid_to: Field,
    json: Field,
}

/// The index of every entry, shared by the API's requests.
pub struct KnowledgeIndex {
    index: Index,
    reader: IndexReader,
    /// The writer, and the version of each entry indexed: two requests that change one entry
    /// may reach the index in either order, and the older version never replaces the newer.
    writer: Mutex<(IndexWriter, HashMap<i64, i64>)>,
    fields: Fields,
}

/// What went wrong inside the index (never the user's query: a query is read leniently).
#[derive(Debug, thiserror::Error)]
#[error("knowledge index: {0}")]
pub struct IndexError(#[from] tantivy::TantivyError);

/// Days since 1970-01-01, the form validity is indexed in.
fn day_number(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}

impl KnowledgeIndex {
    /// An empty index.
    pub fn new() -> Result<KnowledgeIndex, IndexError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(JIEBA)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let number = NumericOptions::default().set_indexed().set_fast();
        let fields = Fields {
            id: schema.add_i64_field("id", number.clone().set_stored()),
            title: schema.add_text_field("title", text.clone()),
            question: schema.add_text_field("question", text.clone()),
            answer: schema.add_text_field("answer", text.clone()),
            category: schema.add_text_field("category", text),
            platform: schema.add_text_field("platform", STRING),
            valid_from: schema.add_i64_field("valid_from", number.clone()),
            valid_to: schema.add_i64_field("valid_to", number),
            json: schema.add_text_field("json", tantivy::schema::STORED),
        };
        let index = Index::create_in_ram(schema.build());
        let analyzer = TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new())
            .filter(StopWordFilter::remove(
                STOP_WORDS.iter().map(|w| w.to_string()),
            ))
            .build();
        index.tokenizers().register(JIEBA, analyzer);
        // One indexing thread with tantivy's smallest budget: editors change a few entries
        // a day, and an import is a few thousand.
        let writer = index.writer_with_num_threads(1, 15_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(KnowledgeIndex {
            index,
            reader,
            writer: Mutex::new((writer, HashMap::new())),
            fields,
        })
    }

    /// Adds or replaces entries (by id; an entry's older version is ignored), then makes
    /// them searchable.
    pub fn upsert<'a>(
        &self,
        entries: impl IntoIterator<Item = &'a Entry>,
    ) -> Result<(), IndexError> {
        let f = self.fields;
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let (writer, versions) = &mut *guard;
        for e in entries {
            if versions.get(&e.id).is_some_and(|&v| v > e.version) {
                continue;
            }
            versions.insert(e.id, e.version);
            writer.delete_term(Term::from_field_i64(f.id, e.id));
            let d = &e.fields;
            writer.add_document(doc!(
                f.id => e.id,
                f.title => d.title.clone(),
                f.question => d.question.clone(),
                f.answer => d.answer.clone(),
                f.category => d.category.clone(),
                f.platform => d.platform.clone().unwrap_or_else(|| EVERY_PLATFORM.into()),
                f.valid_from => d.valid_from.map_or(i64::MIN, day_number),
                f.valid_to => d.valid_to.map_or(i64::MAX, day_number),
                f.json => serde_json::to_string(e).unwrap_or_default(),
            ))?;
        }
        writer.commit()?;
        drop(guard);
        self.reader.reload()?;
        Ok(())
    }

    /// Entries in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// True when no entry is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries that best answer `text` on `day`, for `platform` (its own entries and
    /// those for every platform; None: every platform's), best first, at most `limit`.
    pub fn search(
        &self,
        text: &str,
        platform: Option<&str>,
        day: NaiveDate,
        limit: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let f = self.fields;
        // The caller's words as the index cut them, each looked for in every text field with
        // the field's weight: any may match, more and rarer ones rank higher (BM25). Not
        // tantivy's query parser: it reads a sentence without spaces as one phrase, and its
        // syntax has no place in a caller's words.
        let mut analyzer = self
            .index
            .tokenizers()
            .get(JIEBA)
            .expect("the jieba analyzer is registered in new()");
        let mut words: Vec<String> = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            if !token.text.trim().is_empty() && !words.contains(&token.text) {
                words.push(token.text.clone());
            }
        }
        let weighted = [
            (f.title, 3.0),
            (f.question, 2.0),
            (f.category, 1.5),
            (f.answer, 1.0),
        ];
        let matched: Box<dyn Query> = Box::new(BooleanQuery::new(
            words
                .iter()
                .flat_map(|w| {
                    weighted.iter().map(move |&(field, weight)| {
                        let term: Box<dyn Query> = Box::new(TermQuery::new(
                            Term::from_field_text(field, w),
                            IndexRecordOption::WithFreqs,
                        ));
                        (
                            Occur::Should,
                            Box::new(BoostQuery::new(term, weight)) as Box<dyn Query>,
                        )
                    })
                })
                .collect(),
        ));
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let day = day_number(day);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, matched.box_clone()),
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Included(Term::from_field_i64(f.valid_from, day)),
                )),
            ),
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.valid_to, day)),
                    Bound::Unbounded,
                )),
            ),
        ];
        if let Some(p) = platform {
            let term = |v: &str| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_text(f.platform, v),
                    IndexRecordOption::Basic,
                ))
            };
            clauses.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, term(p)),
                    (Occur::Should, term(EVERY_PLATFORM)),
                ])),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &query,
            &TopDocs::with_limit(limit.clamp(1, MAX_HITS)).order_by_score(),
        )?;
        let mut titles = SnippetGenerator::create(&searcher, &*matched, f.title)?;
        titles.set_max_num_chars(super::entry::MAX_TITLE * BYTES_PER_CHAR);
        let mut answers = SnippetGenerator::create(&searcher, &*matched, f.answer)?;
        answers.set_max_num_chars(SNIPPET_CHARS * BYTES_PER_CHAR);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let Some(entry) = doc
                .get_first(f.json)
                .and_then(|v| v.as_str())
                .and_then(|s| serde_json::from_str::<Entry>(s).ok())
            else {
                continue;
            };
            let title_html = marked(&entry.fields.title, &titles.snippet_from_doc(&doc));
            let answer_html = marked(&entry.fields.answer, &answers.snippet_from_doc(&doc));
            hits.push(Hit {
                entry,
                score,
                title_html,
                answer_html,
            });
        }
        Ok(hits)
    }
}

/// `text` with the snippet's matched words in `<b>`, HTML-escaped otherwise. A text that fits
/// in a snippet is shown whole: tantivy's fragment ends at the last word it indexed, which
/// leaves off a trailing stop word (办理。). A longer one is the fragment around the matches.
fn marked(text: &str, snippet: &tantivy::snippet::Snippet) -> String {
    let whole = text.chars().count() <= SNIPPET_CHARS;
    let (shown, shift) = if snippet.is_empty() {
        (text, 0)
    } else if whole {
        (text, snippet.fragment_range().start)
    } else {
        (snippet.fragment(), 0)
    };
    let shown = if snippet.is_empty() && !whole {
        let end = shown
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(shown.len(), |(i, _)| i);
        &shown[..end]
    } else {
        shown
    };
    // Search mode matches overlapping words (公积, 公积金, 住房公积金): one mark for each run.
    let mut ranges: Vec<(usize, usize)> = snippet
        .highlighted()
        .iter()
        .map(|r| (r.start + shift, r.end + shift))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let mut out = String::new();
    let mut at = 0;
    for (start, end) in merged {
        if start < at
            || end > shown.len()
            || !shown.is_char_boundary(start)
            || !shown.is_char_boundary(end)
        {
            continue;
        }
        out.push_str(&escape(&shown[at..start]));
        out.push_str("<b>");
        out.push_str(&escape(&shown[start..end]));
        out.push_str("</b>");
        at = end;
    }
    out.push_str(&escape(&shown[at..]));
    out
}

/// Text made safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Draft;
    use chrono::Utc;

    fn entry(id: i64, title: &str, question: &str, answer: &str, platform: Option<&str>) -> Entry {
        Entry {
            id,
            version: 1,
            fields: Draft {
                title: title.into(),
                question: question.into(),
                answer: answer.into(),
                category: "政务服务".into(),
                platform: platform.map(String::from),
                source_department: None,
                valid_from: None,
                valid_to: None,
            },
            updated_at: Utc::now(),
            updated_by: "kb1".into(),
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    /// A few entries of a prefecture's knowledge base, two of them about the housing fund.
    fn sample() -> KnowledgeIndex {
        let index = KnowledgeIndex::new().unwrap();
        let entries = [
            entry(
                1,
                "社保卡挂失补办",
                "我的社保卡丢了怎么办？",
                "携带身份证到社保经办机构或银行网点挂失补办。",
                None,
            ),
            entry(
                2,
                "住房公积金提取条件",
                "什么情况下可以提取住房公积金？",
                "购房、租房、退休等情形可申请提取住房公积金，携带身份证和相关证明到管理中心办理。",
                Some("530100"),
            ),
            entry(
                3,
                "个人所得税汇算清缴",
                "我想问一下个税怎么退？",
                "通过个人所得税APP在每年3月至6月办理汇算清缴。",
                None,
            ),
            entry(
                4,
                "公积金贷款额度",
                "住房公积金贷款最多能贷多少？",
                "贷款额度与缴存余额和缴存年限有关。",
                Some("530100"),
            ),
            entry(
                5,
                "我想问一下户口迁移",
                "户口怎么迁移？",
                "到迁入地派出所申请，我想问一下的事都可以咨询。",
                None,
            ),
            entry(
                6,
                "大理住房公积金提取",
                "在大理怎么提取住房公积金？",
                "到大理州住房公积金管理中心办理提取。",
                Some("532900"),
            ),
        ];
        index.upsert(entries.iter()).unwrap();
        index
    }

    #[test]
    fn a_spoken_question_finds_the_housing_fund_withdrawal_first() {
        let index = sample();
        let hits = index
            .search("我想问一下住房公积金怎么提取", Some("530100"), day(), 10)
            .unwrap();
        let ids: Vec<i64> = hits.iter().map(|h| h.entry.id).collect();
        assert_eq!(ids[0], 2, "the withdrawal entry first: {ids:?}");
        assert!(
            ids.contains(&4),
            "the housing fund loan is found too: {ids:?}"
        );
        // The filler words match nothing by themselves: the entry titled with them, and the
        // tax entry that asks 我想问一下, are not found for them.
        assert!(!ids.contains(&5) && !ids.contains(&3), "{ids:?}");
        // Dali's entry is Dali's.
        assert!(!ids.contains(&6), "{ids:?}");
        // Overlapping and adjacent matches make one mark; the unmatched word stays plain.
        assert_eq!(hits[0].title_html, "<b>住房公积金提取</b>条件");
        assert!(
            hits[0].answer_html.contains("<b>提取住房公积金</b>"),
            "{}",
            hits[0].answer_html
        );
        // A short answer is shown whole, its last words (stop words, not indexed) included.
        assert!(
            hits[0].answer_html.ends_with("到管理中心办理。"),
            "{}",
            hits[0].answer_html
        );
        assert_eq!(
            hits[0].answer_html.replace("<b>", "").replace("</b>", ""),
            hits[0].entry.fields.answer
        );
    }

    #[test]
    fn platform_and_validity_filter_inside_the_query() {
        let index = sample();
        let dali: Vec<i64> = index
            .search("住房公积金提取", Some("532900"), day(), 10)
            .unwrap()
            .iter()
            .map(|h| h.entry.id)
            .collect();
        assert_eq!(dali[0], 6, "{dali:?}");
        assert!(!dali.contains(&2), "{dali:?}");
        let province: Vec<i64> = index
            .search("住房公积金提取", None, day(), 10)
            .unwrap()
            .iter()
            .map(|h| h.entry.id)
            .collect();
        assert!(
            province.contains(&2) && province.contains(&6),
            "{province:?}"
        );

        // A new version that expired yesterday replaces the old one and is no longer found.
        let mut expired = entry(1, "社保卡挂失补办", "社保卡丢了", "到网点挂失。", None);
        expired.version = 2;
        expired.fields.valid_to = day().pred_opt();
        index.upsert([&expired]).unwrap();
        assert_eq!(index.len(), 6, "replaced, not added");
        assert!(index.search("社保卡", None, day(), 10).unwrap().is_empty());
        let before = index
            .search("社保卡", None, day().pred_opt().unwrap(), 10)
            .unwrap();
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].entry.version, 2);
        // Not yet valid: found from its first day.
        let mut later = entry(
            7,
            "新生儿医保登记",
            "孩子出生后怎么办医保？",
            "出生后三个月内登记。",
            None,
        );
        later.fields.valid_from = day().succ_opt();
        index.upsert([&later]).unwrap();
        assert!(index.search("医保", None, day(), 10).unwrap().is_empty());
        assert_eq!(
            index
                .search("医保", None, day().succ_opt().unwrap(), 10)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn any_text_is_a_query_and_markup_is_escaped() {
        let index = sample();
        for text in [
            "",
            "   ",
            "title:社保",
            "\"未闭合",
            "((",
            "AND OR NOT",
            "-+^~*",
            "12345:投诉",
            "我想问一下",
        ] {
            let hits = index.search(text, None, day(), 10).unwrap();
            assert!(hits.len() <= 6, "{text:?}");
        }
        assert!(
            index
                .search("我想问一下", None, day(), 10)
                .unwrap()
                .is_empty(),
            "filler alone finds nothing"
        );
        let odd = entry(9, "<script>社保</script>", "社保", "a < b & c", None);
        index.upsert([&odd]).unwrap();
        let hit = index
            .search("社保", None, day(), 10)
            .unwrap()
            .into_iter()
            .find(|h| h.entry.id == 9)
            .unwrap();
        assert!(!hit.title_html.contains("<script>"), "{}", hit.title_html);
        assert!(!hit.answer_html.contains("< b"), "{}", hit.answer_html);
    }
}
