//! The case a follow-up belongs to: a mail whose subject names a case number (`Re: 您的诉求
//! 530100-20261206-000042 已受理`), an SMS that quotes one. Case numbers are
//! `{division code}-{YYYYMMDD}-{sequence}` ([`crate::store::case_number`]); the dashes may be
//! left out by a requester typing it back.

/// The first case number in `text`, in its stored form with dashes.
pub fn case_number_in(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
            if let Some(found) = case_number_at(&bytes[i..]) {
                return Some(found);
            }
        }
        i += 1;
    }
    None
}

/// A case number starting at the front of `b`: 6 digits, an optional dash, 8 digits, an
/// optional dash, 6 digits, and no digit after.
fn case_number_at(b: &[u8]) -> Option<String> {
    let mut pos = 0;
    let mut groups = Vec::with_capacity(3);
    for (n, len) in [6usize, 8, 6].into_iter().enumerate() {
        if n > 0 && b.get(pos) == Some(&b'-') {
            pos += 1;
        }
        let group = b.get(pos..pos + len)?;
        if !group.iter().all(u8::is_ascii_digit) {
            return None;
        }
        groups.push(std::str::from_utf8(group).ok()?);
        pos += len;
    }
    if b.get(pos).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let (division, day) = (groups[0], groups[1]);
    // A division code ends in 00 for a platform; a day starts 20…
    if !division.ends_with("00") || !day.starts_with("20") {
        return None;
    }
    Some(groups.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_case_number_in_a_subject_or_a_message() {
        assert_eq!(
            case_number_in("Re: 您的诉求 530100-20261206-000042 已受理").as_deref(),
            Some("530100-20261206-000042")
        );
        assert_eq!(
            case_number_in("查询53010020261206000042进度").as_deref(),
            Some("530100-20261206-000042")
        );
    }

    #[test]
    fn other_numbers_are_not_case_numbers() {
        assert_eq!(case_number_in("电话 13800138000，门牌 12 号"), None);
        assert_eq!(case_number_in("530100-20261206-0000421"), None, "too long");
        assert_eq!(
            case_number_in("530101-20261206-000042"),
            None,
            "not a platform"
        );
        assert_eq!(case_number_in(""), None);
    }
}
