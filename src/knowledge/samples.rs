//! Generic sample entries for development and demonstrations, compiled in from
//! `samples.json`: each title starts with 【样例】 and each names itself sample data in its
//! source department, so that nobody takes one for a real policy. `serve --sample-knowledge`
//! adds them to an empty knowledge base.

use super::entry::Draft;

const SAMPLES: &str = include_str!("samples.json");

/// The sample entries, every one for every platform.
pub fn drafts() -> Vec<Draft> {
    serde_json::from_str(SAMPLES).expect("samples.json is checked by its test")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sample_is_valid_and_says_it_is_one() {
        let drafts = super::drafts();
        assert!(drafts.len() >= 5);
        for d in drafts {
            assert!(d.title.starts_with("【样例】"), "{}", d.title);
            assert!(
                d.source_department
                    .as_deref()
                    .is_some_and(|s| s.contains("样例数据")),
                "{}",
                d.title
            );
            assert_eq!(d.platform, None);
            d.validated(&["530000"]).unwrap();
        }
    }

    #[test]
    fn the_spoken_question_finds_the_sample_about_it_first() {
        let index = crate::knowledge::KnowledgeIndex::new().unwrap();
        let entries: Vec<crate::knowledge::Entry> = super::drafts()
            .into_iter()
            .enumerate()
            .map(|(i, fields)| crate::knowledge::Entry {
                id: i as i64 + 1,
                version: 1,
                fields,
                updated_at: chrono::Utc::now(),
                updated_by: "samples".into(),
            })
            .collect();
        index.upsert(entries.iter()).unwrap();
        let hits = index
            .search(
                "我想问一下住房公积金怎么提取",
                None,
                chrono::Utc::now().date_naive(),
                3,
            )
            .unwrap();
        assert_eq!(hits[0].entry.fields.title, "【样例】住房公积金提取");
    }
}
