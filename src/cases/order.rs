//! The work order's details: what the caller told the operator besides the category and the
//! keywords. The caller's name and address when given, the place the matter concerns (a
//! county-level division of the platform, by its code), a summary, the knowledge-base entry
//! the operator used, and the caller's request for confidentiality (GB/T 33358: a caller may
//! ask that their identity be kept from the units handling the case).

use serde::{Deserialize, Serialize};

/// The longest caller's name, in characters.
pub const MAX_NAME: usize = 50;
/// The longest address, in characters.
pub const MAX_ADDRESS: usize = 200;
/// The longest summary, in characters.
pub const MAX_SUMMARY: usize = 2000;

/// A work order's details, as the operator filled them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrder {
    /// The caller's name, when given.
    #[serde(default)]
    pub caller_name: Option<String>,
    /// The caller's address, when given.
    #[serde(default)]
    pub address: Option<String>,
    /// The county-level division (code) the matter concerns.
    #[serde(default)]
    pub district: Option<String>,
    /// What the caller asks, in the operator's words.
    #[serde(default)]
    pub summary: String,
    /// The caller asked that their identity be kept confidential.
    #[serde(default)]
    pub confidential: bool,
    /// The knowledge-base entry the operator answered from or relied on.
    #[serde(default)]
    pub knowledge_entry: Option<i64>,
}

/// A detail that is too long: the field and its limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is at most {max} characters")]
pub struct TooLong {
    pub field: &'static str,
    pub max: usize,
}

fn trimmed(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl WorkOrder {
    /// The details with blanks trimmed (an empty name is no name), or the first one too long.
    pub fn checked(self) -> Result<WorkOrder, TooLong> {
        let order = WorkOrder {
            caller_name: trimmed(self.caller_name),
            address: trimmed(self.address),
            district: trimmed(self.district),
            summary: self.summary.trim().to_string(),
            ..self
        };
        for (field, value, max) in [
            ("caller_name", order.caller_name.as_deref(), MAX_NAME),
            ("address", order.address.as_deref(), MAX_ADDRESS),
            ("summary", Some(order.summary.as_str()), MAX_SUMMARY),
        ] {
            if value.is_some_and(|v| v.chars().count() > max) {
                return Err(TooLong { field, max });
            }
        }
        Ok(order)
    }

    /// What a reader who may not know the caller sees: name and address removed when the
    /// caller asked for confidentiality.
    pub fn for_unit(&self) -> WorkOrder {
        if !self.confidential {
            return self.clone();
        }
        WorkOrder {
            caller_name: None,
            address: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_trimmed_and_bounded_in_characters() {
        let order = WorkOrder {
            caller_name: Some("  ".into()),
            address: Some(" 五华区 ".into()),
            summary: "一".repeat(MAX_SUMMARY),
            ..WorkOrder::default()
        }
        .checked()
        .unwrap();
        assert_eq!(order.caller_name, None);
        assert_eq!(order.address.as_deref(), Some("五华区"));
        let long = WorkOrder {
            caller_name: Some("张".repeat(MAX_NAME + 1)),
            ..WorkOrder::default()
        };
        assert_eq!(
            long.checked(),
            Err(TooLong {
                field: "caller_name",
                max: MAX_NAME
            })
        );
    }

    #[test]
    fn a_confidential_callers_name_and_address_stay_at_the_platform() {
        let order = WorkOrder {
            caller_name: Some("张三".into()),
            address: Some("五华区某路".into()),
            summary: "噪音".into(),
            confidential: true,
            ..WorkOrder::default()
        };
        let seen = order.for_unit();
        assert_eq!((seen.caller_name, seen.address), (None, None));
        assert_eq!(seen.summary, "噪音");
        let open = WorkOrder {
            confidential: false,
            ..order.clone()
        };
        assert_eq!(open.for_unit(), open);
    }
}
