//! Where an operator may transfer a caller, by the province's rule: a prefecture platform hands
//! a call up to the provincial platform, and only the provincial platform passes calls on to
//! another prefecture (so a call between prefectures goes through the province). A platform's
//! own queues (a skill desk) are always open to its operators.

/// Why a transfer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferRefused {
    /// The target names no queue and no number with an area code.
    #[error("no queue or platform {0:?} to transfer to")]
    UnknownTarget(String),
    /// A prefecture's operator asked for another prefecture.
    #[error(
        "platform {from} transfers to the provincial platform {provincial}, which passes calls \
         on to {to}"
    )]
    AcrossPrefectures {
        from: String,
        to: String,
        provincial: String,
    },
    /// The caller is in that queue already.
    #[error("the call is already in queue {0}")]
    SameQueue(String),
}

/// Checks a transfer by an operator of `from_platform`, whose call came through `from_queue`,
/// to the queue `to_queue` of `to_platform`; `provincial` is the provincial platform's code.
pub fn check_transfer(
    from_platform: &str,
    from_queue: &str,
    to_platform: &str,
    to_queue: &str,
    provincial: &str,
) -> Result<(), TransferRefused> {
    if from_queue == to_queue {
        return Err(TransferRefused::SameQueue(to_queue.to_string()));
    }
    if from_platform == provincial || to_platform == provincial || to_platform == from_platform {
        return Ok(());
    }
    Err(TransferRefused::AcrossPrefectures {
        from: from_platform.to_string(),
        to: to_platform.to_string(),
        provincial: provincial.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCE: &str = "530000";

    #[test]
    fn a_prefecture_hands_calls_up_and_the_province_passes_them_on() {
        // Kunming to the province, and the province on to Dali.
        assert_eq!(
            check_transfer("530100", "530100", "530000", "530000", PROVINCE),
            Ok(())
        );
        assert_eq!(
            check_transfer("530000", "530000", "532900", "532900", PROVINCE),
            Ok(())
        );
        // Kunming straight to Dali is refused, naming the way through the province.
        let refused = check_transfer("530100", "530100", "532900", "532900", PROVINCE).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "platform 530100 transfers to the provincial platform 530000, which passes calls on to 532900"
        );
    }

    #[test]
    fn a_platform_may_use_its_own_desks_but_not_the_queue_the_call_is_in() {
        assert_eq!(
            check_transfer("532900", "532900", "532900", "532900-bai", PROVINCE),
            Ok(())
        );
        assert_eq!(
            check_transfer("532900", "532900-bai", "532900", "532900-bai", PROVINCE),
            Err(TransferRefused::SameQueue("532900-bai".into()))
        );
    }
}
