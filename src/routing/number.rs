//! Phone numbers in one national form.
//!
//! Callers reach us with numbers written many ways: `+8687163601234`, `0086 871 6360 1234`,
//! `087163601234`, `+8613013361234`, or a mobile with a trunk `0` in front (`013013361234`,
//! as some carriers send calls from outside the area). [`normalize_number`] gives the one form
//! the hotline stores and routes on: fixed lines with their `0`-prefixed area code, mobiles as
//! their 11 digits, short service numbers as they are.

/// The national form of a number, or None when `raw` is not a phone number at all
/// (letters, nothing but punctuation, far too long).
pub fn normalize_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let (international, rest) = if let Some(rest) = trimmed.strip_prefix('+') {
        (true, rest)
    } else {
        (false, trimmed)
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let national = if international {
        // `+` must be followed by a country code; only China's is national for us.
        match digits.strip_prefix("86") {
            Some(n) => national_from_significant(n),
            None => return Some(format!("+{digits}")),
        }
    } else if let Some(n) = digits.strip_prefix("0086") {
        national_from_significant(n)
    } else if let Some(n) = digits.strip_prefix("00") {
        // Another country's international prefix: keep it recognisably foreign.
        return Some(format!("+{n}"));
    } else if digits.len() == 12 && digits.starts_with("01") && is_mobile(&digits[1..]) {
        digits[1..].to_string()
    } else {
        digits
    };
    if national.is_empty() {
        None
    } else {
        Some(national)
    }
}

/// After `+86`/`0086`: a mobile stays as it is, a fixed line gets its trunk `0` back.
fn national_from_significant(significant: &str) -> String {
    let significant = significant.strip_prefix('0').unwrap_or(significant);
    if is_mobile(significant) || significant.is_empty() {
        significant.to_string()
    } else {
        format!("0{significant}")
    }
}

/// Eleven digits starting with 1: a mainland mobile number.
fn is_mobile(digits: &str) -> bool {
    digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// What kind of number a national-form number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// A fixed line with its area code (`0871…`).
    FixedLine,
    /// A mainland mobile (11 digits, `1…`).
    Mobile,
    /// A number from abroad (`+…`).
    Foreign,
    /// A short or unusual number (a service number, an extension).
    Other,
}

impl NumberKind {
    /// Classifies a number already in national form.
    pub fn of(national: &str) -> NumberKind {
        if national.starts_with('+') {
            NumberKind::Foreign
        } else if is_mobile(national) {
            NumberKind::Mobile
        } else if national.starts_with('0') && national.len() >= 10 {
            NumberKind::FixedLine
        } else {
            NumberKind::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_lines_in_every_written_form() {
        for raw in [
            "087163601234",
            "+8687163601234",
            "+86 871 6360 1234",
            "008687163601234",
            "0086-871-63601234",
            "+86 (0871) 63601234",
        ] {
            assert_eq!(
                normalize_number(raw).as_deref(),
                Some("087163601234"),
                "{raw}"
            );
        }
    }

    #[test]
    fn mobiles_in_every_written_form() {
        for raw in [
            "13013361234",
            "+8613013361234",
            "008613013361234",
            "013013361234",
        ] {
            assert_eq!(
                normalize_number(raw).as_deref(),
                Some("13013361234"),
                "{raw}"
            );
        }
    }

    #[test]
    fn short_and_foreign_numbers() {
        assert_eq!(normalize_number("12345").as_deref(), Some("12345"));
        assert_eq!(normalize_number("087212345").as_deref(), Some("087212345"));
        assert_eq!(
            normalize_number("+14155550100").as_deref(),
            Some("+14155550100")
        );
        assert_eq!(
            normalize_number("0014155550100").as_deref(),
            Some("+14155550100")
        );
    }

    #[test]
    fn not_numbers() {
        for raw in ["", "  ", "anonymous", "12a45", "+", "---", &"1".repeat(21)] {
            assert_eq!(normalize_number(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(NumberKind::of("087163601234"), NumberKind::FixedLine);
        assert_eq!(NumberKind::of("13013361234"), NumberKind::Mobile);
        assert_eq!(NumberKind::of("+14155550100"), NumberKind::Foreign);
        assert_eq!(NumberKind::of("8001"), NumberKind::Other);
    }
}
