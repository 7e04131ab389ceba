//! What a published case shows the public (the published-results page): its category,
//! district, summary and reply, never who called. The caller's number, name and address are
//! removed from the texts wherever they appear, and so is any other run of seven or more
//! digits (a telephone, ID card or account number an operator wrote into a summary).

use super::order::WorkOrder;
use super::workflow::Case;

/// What the public sees of a case's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicText {
    /// The work order's summary, or the case's keywords when it has none.
    pub summary: String,
    /// The unit's last reply, or the operator's direct answer.
    pub reply: String,
}

/// The public texts of `case`, whose caller called from `number`: redacted by [`redact`].
pub fn public_text(case: &Case, number: &str) -> PublicText {
    let summary = if case.order.summary.trim().is_empty() {
        &case.topic
    } else {
        &case.order.summary
    };
    let reply = case
        .history
        .iter()
        .rev()
        .find(|h| h.event == "reply" || h.event == "answer-directly")
        .map_or("", |h| h.note.as_str());
    PublicText {
        summary: redact(summary, number, &case.order),
        reply: redact(reply, number, &case.order),
    }
}

/// What stands for a removed detail.
pub const REMOVED: &str = "＊＊＊";

/// `text` without the caller's `number`, the work order's name and address, or any run of 7
/// or more digits (ASCII or full-width).
pub fn redact(text: &str, number: &str, order: &WorkOrder) -> String {
    let mut out = text.to_string();
    let personal = [
        Some(number),
        order.caller_name.as_deref(),
        order.address.as_deref(),
    ];
    for detail in personal.into_iter().flatten().map(str::trim) {
        if detail.chars().count() >= 2 {
            out = out.replace(detail, REMOVED);
        }
    }
    remove_digit_runs(&out)
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Replaces each run of 7 or more digits (spaces and hyphens inside a run count with it).
fn remove_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if is_digit(chars[i]) {
            let mut j = i;
            let mut digits = 0;
            while j < chars.len() && (is_digit(chars[j]) || matches!(chars[j], '-' | ' ')) {
                digits += is_digit(chars[j]) as usize;
                j += 1;
            }
            // A separator at the end belongs to the text.
            while j > i && !is_digit(chars[j - 1]) {
                j -= 1;
            }
            if digits >= 7 {
                out.push_str(REMOVED);
            } else {
                out.extend(&chars[i..j]);
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_and_long_numbers_are_removed() {
        let order = WorkOrder {
            caller_name: Some("张三".into()),
            address: Some("五华区某某路8号".into()),
            ..Default::default()
        };
        let text = "张三（13800001111）反映五华区某某路8号旁工地夜间施工，回电 0871-6512 3456，已于12月1日处理，涉及3栋。";
        let out = redact(text, "13800001111", &order);
        assert_eq!(
            out,
            "＊＊＊（＊＊＊）反映＊＊＊旁工地夜间施工，回电 ＊＊＊，已于12月1日处理，涉及3栋。"
        );
        // Full-width digits too; short numbers (dates, house numbers) stay.
        assert_eq!(
            redact("电话１３９１２３４５６７８", "", &order),
            "电话＊＊＊"
        );
        assert_eq!(
            redact("2026年12月1日 8号楼", "", &order),
            "2026年12月1日 8号楼"
        );
    }

    #[test]
    fn the_public_text_is_the_summary_and_the_last_reply_redacted() {
        use crate::cases::workflow::{Actor, HistoryEntry, Role};
        let entry = |event: &'static str, note: &str| HistoryEntry {
            at: "2026-12-01T02:00:00Z".parse().unwrap(),
            actor: Actor {
                role: Role::Unit,
                id: "clerk".into(),
                unit: Some("kmhb".into()),
            },
            event,
            from: crate::cases::CaseState::Signed,
            to: crate::cases::CaseState::Replied,
            note: note.into(),
        };
        let mut case = Case {
            case_number: "530100-20261201-000001".into(),
            platform: "530100".into(),
            state: crate::cases::CaseState::Published,
            category: None,
            out_of_scope: None,
            unit: Some("kmhb".into()),
            topic: "噪音扰民".into(),
            order: WorkOrder {
                caller_name: Some("李四".into()),
                ..Default::default()
            },
            legal_days: None,
            extensions: 0,
            deadlines: Default::default(),
            history: vec![
                entry("reply", "first answer"),
                entry("reply", "已告知李四，工地停工。"),
                entry("callback", "satisfied"),
            ],
        };
        let text = public_text(&case, "13008651111");
        assert_eq!(text.summary, "噪音扰民", "no summary: the keywords");
        assert_eq!(text.reply, "已告知＊＊＊，工地停工。");
        case.order.summary = "来电 13008651111 反映夜间施工".into();
        assert_eq!(
            public_text(&case, "13008651111").summary,
            "来电 ＊＊＊ 反映夜间施工"
        );
    }
}
