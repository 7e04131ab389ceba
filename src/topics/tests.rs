use super::*;

fn seg() -> Segmenter {
    Segmenter::new(["五华区", "盘龙区", "昆明市生态环境局"])
}

fn doc<'a>(text: &'a str, district: &'a str) -> Doc<'a> {
    Doc {
        text,
        district: Some(district),
    }
}

#[test]
fn terms_are_words_without_stop_words_and_keep_names_whole() {
    let s = seg();
    let terms = s.terms("市民来电反映五华区某小区夜间施工噪音扰民，希望相关部门尽快处理。");
    assert!(terms.contains(&"五华区".to_string()), "{terms:?}");
    assert!(terms.contains(&"夜间施工".to_string()), "{terms:?}");
    assert!(terms.contains(&"噪音扰民".to_string()), "{terms:?}");
    for stop in [
        "市民", "来电", "反映", "希望", "相关", "部门", "尽快", "处理",
    ] {
        assert!(!terms.contains(&stop.to_string()), "{stop} in {terms:?}");
    }
    // Punctuation and single characters are no terms.
    assert!(terms.iter().all(|t| t.chars().count() >= 2), "{terms:?}");
    // A department's full name is one term, not 昆明 + 市 + 生态 + 环境 + 局.
    let terms = s.terms("要求昆明市生态环境局查处");
    assert!(terms.contains(&"昆明市生态环境局".to_string()), "{terms:?}");
    // Each term once per text.
    let terms = s.terms("公积金 公积金 公积金提取");
    assert_eq!(
        terms.iter().filter(|t| *t == "公积金").count(),
        1,
        "{terms:?}"
    );
}

#[test]
fn hot_terms_count_cases_and_rising_terms_compare_periods() {
    let s = seg();
    let now = [
        doc("五华区某工地夜间施工噪音扰民", "五华区"),
        doc("盘龙区小区夜间施工，噪音很大", "盘龙区"),
        doc("五华区夜间施工影响休息", "五华区"),
        doc("住房公积金提取需要什么材料", "盘龙区"),
    ];
    let before = [
        doc("住房公积金提取进度", "五华区"),
        doc("住房公积金贷款额度", "五华区"),
        doc("盘龙区夜间施工", "盘龙区"),
    ];
    let hot = hot(&s, &now, 3);
    assert_eq!(
        hot[0],
        TermCount {
            term: "夜间施工".into(),
            cases: 3
        },
        "{hot:?}"
    );
    // 夜间施工 rose from 1 case to 3; 住房公积金 fell from 2 to 1 and is not rising.
    let up = rising(&s, &now, &before, 5);
    assert_eq!(
        up[0],
        Rising {
            term: "夜间施工".into(),
            now: 3,
            before: 1,
            change: 2
        },
        "{up:?}"
    );
    assert!(up.iter().all(|r| r.term != "住房公积金"), "{up:?}");
    assert!(up.iter().all(|r| r.change > 0));
    // By district: 五华区's cases are about the building site, 盘龙区's include the fund; a
    // district's own name is not one of its terms.
    let districts = by_district(&s, &now, 5);
    assert_eq!(
        districts["五华区"][0],
        TermCount {
            term: "夜间施工".into(),
            cases: 2
        }
    );
    assert!(!districts["五华区"].iter().any(|t| t.term == "五华区"));
    assert!(districts["盘龙区"].iter().any(|t| t.term == "住房公积金"));
    assert!(!districts["五华区"].iter().any(|t| t.term == "住房公积金"));
}
