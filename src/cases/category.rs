//! What a request is. The province's rules give consultations, service requests and suggestions
//! 5 working days of handling, complaints and reports 15; some requests are not for the
//! hotline at all, and the caller is told which channel is.

use serde::{Deserialize, Serialize};

/// The category of an accepted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// 咨询: a question.
    Consultation,
    /// 求助: a request for a service.
    ServiceRequest,
    /// 建议: a suggestion.
    Suggestion,
    /// 投诉: a complaint.
    Complaint,
    /// 举报: a report of wrongdoing.
    Report,
}

impl Category {
    /// Working days a unit has to handle a case, counted from signing, unless a law sets
    /// another limit.
    pub fn handling_days(self) -> u32 {
        match self {
            Category::Consultation | Category::ServiceRequest | Category::Suggestion => 5,
            Category::Complaint | Category::Report => 15,
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Consultation => "consultation",
            Category::ServiceRequest => "service-request",
            Category::Suggestion => "suggestion",
            Category::Complaint => "complaint",
            Category::Report => "report",
        }
    }

    /// The name the pages and tables show.
    pub fn name_zh(self) -> &'static str {
        match self {
            Category::Consultation => "咨询",
            Category::ServiceRequest => "求助",
            Category::Suggestion => "建议",
            Category::Complaint => "投诉",
            Category::Report => "举报",
        }
    }

    /// The category of a stored name.
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Every category.
    pub const ALL: [Category; 5] = [
        Category::Consultation,
        Category::ServiceRequest,
        Category::Suggestion,
        Category::Complaint,
        Category::Report,
    ];
}

/// Why a request is not accepted; each names the channel the caller is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutOfScope {
    /// A crime or a threat to safety now.
    PoliceEmergency,
    /// A fire.
    FireEmergency,
    /// A medical emergency.
    MedicalEmergency,
    /// A traffic accident (the traffic police, 122).
    TrafficEmergency,
    /// A matter of a retained departmental hotline (12315, 12366, …), handed over to it.
    DepartmentHotline,
    /// A civil dispute outside administrative powers.
    CivilDispute,
    /// A matter already before a court.
    InLitigation,
    /// A matter in arbitration.
    InArbitration,
    /// A matter in administrative review.
    InAdministrativeReview,
    /// A matter in the petition (信访) procedure.
    InPetition,
    /// Matters of the Party, people's congresses, CPPCC, courts, procuratorates, army and armed
    /// police.
    OtherInstitution,
    /// State or commercial secrets, or another person's privacy.
    SecretOrPrivacy,
}

impl OutOfScope {
    /// The channel the caller is told to use.
    pub fn channel(self) -> &'static str {
        match self {
            OutOfScope::PoliceEmergency => "110 (police)",
            OutOfScope::FireEmergency => "119 (fire and rescue)",
            OutOfScope::MedicalEmergency => "120 (medical emergency)",
            OutOfScope::TrafficEmergency => "122 (traffic accidents)",
            OutOfScope::DepartmentHotline => "the departmental hotline it was handed over to",
            OutOfScope::CivilDispute => "a people's mediation committee or a court",
            OutOfScope::InLitigation => "the court hearing the case",
            OutOfScope::InArbitration => "the arbitration body",
            OutOfScope::InAdministrativeReview => "the administrative review body",
            OutOfScope::InPetition => "the letters and visits (信访) office handling it",
            OutOfScope::OtherInstitution => {
                "the institution itself (Party, people's congress, CPPCC, court, procuratorate, army or armed police)"
            }
            OutOfScope::SecretOrPrivacy => "the competent secrecy or data-protection authority",
        }
    }

    /// The reason of a stored name.
    pub fn parse(s: &str) -> Option<OutOfScope> {
        use OutOfScope::*;
        [
            PoliceEmergency,
            FireEmergency,
            MedicalEmergency,
            TrafficEmergency,
            DepartmentHotline,
            CivilDispute,
            InLitigation,
            InArbitration,
            InAdministrativeReview,
            InPetition,
            OtherInstitution,
            SecretOrPrivacy,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            OutOfScope::PoliceEmergency => "police-emergency",
            OutOfScope::FireEmergency => "fire-emergency",
            OutOfScope::MedicalEmergency => "medical-emergency",
            OutOfScope::TrafficEmergency => "traffic-emergency",
            OutOfScope::DepartmentHotline => "department-hotline",
            OutOfScope::CivilDispute => "civil-dispute",
            OutOfScope::InLitigation => "in-litigation",
            OutOfScope::InArbitration => "in-arbitration",
            OutOfScope::InAdministrativeReview => "in-administrative-review",
            OutOfScope::InPetition => "in-petition",
            OutOfScope::OtherInstitution => "other-institution",
            OutOfScope::SecretOrPrivacy => "secret-or-privacy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handling_limits() {
        assert_eq!(Category::Consultation.handling_days(), 5);
        assert_eq!(Category::ServiceRequest.handling_days(), 5);
        assert_eq!(Category::Suggestion.handling_days(), 5);
        assert_eq!(Category::Complaint.handling_days(), 15);
        assert_eq!(Category::Report.handling_days(), 15);
    }

    #[test]
    fn emergencies_name_their_numbers() {
        assert!(OutOfScope::PoliceEmergency.channel().starts_with("110"));
        assert!(OutOfScope::FireEmergency.channel().starts_with("119"));
        assert!(OutOfScope::MedicalEmergency.channel().starts_with("120"));
        let json = serde_json::to_string(&OutOfScope::InLitigation).unwrap();
        assert_eq!(json, "\"in-litigation\"");
    }
}
