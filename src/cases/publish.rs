//! What a published case shows the public (the published-results page): its category,
//! district, summary and reply, never who called. The caller's number, name and address are
//! removed from the texts wherever they appear, and so is any other run of seven or more
//! digits (a telephone, ID card or account number an operator wrote into a summary).

use super::order::WorkOrder;

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
}
