//! Delivery receipts: the SMS centre's deliver_sm with esm_class "SMSC delivery receipt",
//! whose text is `id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done
//! date:YYMMDDhhmm stat:DDDDDDD err:E text:…` (SMPP 3.4 appendix B), or whose TLVs carry
//! receipted_message_id and message_state.

/// The (message id, state) a receipt's text names; None when it names neither.
pub fn parse(text: &str) -> Option<(String, String)> {
    let field = |name: &str| {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .map(str::to_string)
    };
    let id = field("id:")?;
    let state = field("stat:")?;
    (!id.is_empty() && !state.is_empty()).then_some((id, state.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_appendix_b_form() {
        assert_eq!(
            parse("id:0123456789 sub:001 dlvrd:001 submit date:2612071000 done date:2612071001 stat:DELIVRD err:000 text:hello"),
            Some(("0123456789".into(), "DELIVRD".into()))
        );
        assert_eq!(parse("hello"), None);
        assert_eq!(parse("id: stat:DELIVRD"), None);
    }
}
