//! The routing rule of the hotline: which platform takes a call, and why.
//!
//! Order (the first that applies wins):
//! 1. **Called area code**: the called number is an area code followed by a service number
//!    (`087212345`): that area's platform, whoever calls.
//! 2. **Caller area code**: a fixed-line caller's area code is one of our platforms'.
//! 3. **Caller mobile prefix**: the longest prefix (5 to 7 digits) of a mobile caller in the
//!    prefix table.
//! 4. **Provincial**: everything else (anonymous, out of province, unlisted mobiles).
//!
//! A called number that is neither a service number nor an area code plus one is not served
//! (the SIP front end answers 404).

use std::collections::HashMap;

use super::number::{normalize_number, NumberKind};
use super::platform::{Platform, PlatformLevel};

/// A mobile number prefix and the platform whose area it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilePrefix {
    /// 5 to 7 leading digits of a mobile number, e.g. `1301336`.
    pub prefix: String,
    /// The division code of the platform, e.g. `532900`.
    pub platform: String,
}

/// Why a call went where it went; stored with the call and logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteReason {
    /// The called number carried this area code.
    CalledAreaCode(String),
    /// The fixed-line caller's area code.
    CallerAreaCode(String),
    /// The mobile caller's prefix that matched.
    CallerMobilePrefix(String),
    /// No area rule applied; the provincial platform takes the call.
    Provincial(ProvincialWhy),
}

/// Why no area rule applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvincialWhy {
    /// The caller withheld or has no number.
    AnonymousCaller,
    /// A fixed line whose area code is not one of our platforms'.
    AreaOutsideProvince,
    /// A mobile whose prefix is not in the table.
    MobileNotListed,
    /// A number from abroad.
    ForeignCaller,
    /// A short or unusual number (an extension, a service number).
    UnusualCaller,
}

impl ProvincialWhy {
    fn as_str(self) -> &'static str {
        match self {
            ProvincialWhy::AnonymousCaller => "anonymous-caller",
            ProvincialWhy::AreaOutsideProvince => "area-outside-province",
            ProvincialWhy::MobileNotListed => "mobile-not-listed",
            ProvincialWhy::ForeignCaller => "foreign-caller",
            ProvincialWhy::UnusualCaller => "unusual-caller",
        }
    }
}

impl RouteReason {
    /// The stored form: `called-area-code:0872`, `caller-area-code:0871`,
    /// `caller-mobile-prefix:1301336`, `provincial:anonymous-caller`, …
    pub fn as_str(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for RouteReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteReason::CalledAreaCode(a) => write!(f, "called-area-code:{a}"),
            RouteReason::CallerAreaCode(a) => write!(f, "caller-area-code:{a}"),
            RouteReason::CallerMobilePrefix(p) => write!(f, "caller-mobile-prefix:{p}"),
            RouteReason::Provincial(why) => write!(f, "provincial:{}", why.as_str()),
        }
    }
}

/// Where a call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision {
    /// The division code of the platform that takes the call.
    pub platform: String,
    /// Why.
    pub reason: RouteReason,
}

/// A called number this hotline does not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{called:?} is not a number this hotline serves")]
pub struct NotServed {
    /// The called number as it came.
    pub called: String,
}

/// A routing table that contradicts itself (the dialplan loader reports these with lines).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    #[error("platform {0} is listed twice")]
    DuplicatePlatform(String),
    #[error("area code {area} belongs to both {first} and {second}")]
    DuplicateAreaCode {
        area: String,
        first: String,
        second: String,
    },
    #[error("there must be exactly one provincial platform, found {0}")]
    Provincial(usize),
    #[error("mobile prefix {prefix} points to {platform}, which is not a platform")]
    UnknownPlatform { prefix: String, platform: String },
    #[error("mobile prefix {0} is listed twice")]
    DuplicatePrefix(String),
    #[error("mobile prefix {0:?} must be 5 to 7 digits starting with 1")]
    BadPrefix(String),
    #[error("service number {0:?} must be 3 to 8 digits")]
    BadServiceNumber(String),
}

/// Mobile prefixes are 5 to 7 digits long.
pub const MOBILE_PREFIX_LENGTHS: std::ops::RangeInclusive<usize> = 5..=7;

/// Routes calls to platforms. Built once from the dialplan; cheap to share.
#[derive(Debug, Clone)]
pub struct Router {
    platforms: Vec<Platform>,
    provincial: usize,
    by_area: HashMap<String, usize>,
    by_code: HashMap<String, usize>,
    mobile: HashMap<String, usize>,
    service_numbers: Vec<String>,
}

impl Router {
    /// Builds a router; refuses a table that contradicts itself.
    pub fn new(
        platforms: Vec<Platform>,
        mobile_prefixes: Vec<MobilePrefix>,
        service_numbers: Vec<String>,
    ) -> Result<Router, RouterError> {
        let mut by_code = HashMap::new();
        let mut by_area: HashMap<String, usize> = HashMap::new();
        for (i, p) in platforms.iter().enumerate() {
            if by_code.insert(p.code.clone(), i).is_some() {
                return Err(RouterError::DuplicatePlatform(p.code.clone()));
            }
            if let Some(area) = &p.area_code {
                if let Some(&first) = by_area.get(area) {
                    return Err(RouterError::DuplicateAreaCode {
                        area: area.clone(),
                        first: platforms[first].code.clone(),
                        second: p.code.clone(),
                    });
                }
                by_area.insert(area.clone(), i);
            }
        }
        let provincial: Vec<usize> = (0..platforms.len())
            .filter(|&i| platforms[i].level == PlatformLevel::Province)
            .collect();
        if provincial.len() != 1 {
            return Err(RouterError::Provincial(provincial.len()));
        }
        let mut mobile = HashMap::with_capacity(mobile_prefixes.len());
        for m in mobile_prefixes {
            if !MOBILE_PREFIX_LENGTHS.contains(&m.prefix.len())
                || !m.prefix.starts_with('1')
                || !m.prefix.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(RouterError::BadPrefix(m.prefix));
            }
            let Some(&i) = by_code.get(&m.platform) else {
                return Err(RouterError::UnknownPlatform {
                    prefix: m.prefix,
                    platform: m.platform,
                });
            };
            if mobile.insert(m.prefix.clone(), i).is_some() {
                return Err(RouterError::DuplicatePrefix(m.prefix));
            }
        }
        for s in &service_numbers {
            if !(3..=8).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RouterError::BadServiceNumber(s.clone()));
            }
        }
        Ok(Router {
            platforms,
            provincial: provincial[0],
            by_area,
            by_code,
            mobile,
            service_numbers,
        })
    }

    /// Every platform, in dialplan order.
    pub fn platforms(&self) -> &[Platform] {
        &self.platforms
    }

    /// The platform with this division code.
    pub fn platform(&self, code: &str) -> Option<&Platform> {
        self.by_code.get(code).map(|&i| &self.platforms[i])
    }

    /// The provincial platform.
    pub fn provincial(&self) -> &Platform {
        &self.platforms[self.provincial]
    }

    /// How many mobile prefixes the table holds.
    pub fn mobile_prefix_count(&self) -> usize {
        self.mobile.len()
    }

    /// Decides which platform takes a call from `caller` (any written form; empty when
    /// anonymous) to `called`.
    pub fn route(&self, called: &str, caller: &str) -> Result<RouteDecision, NotServed> {
        let not_served = || NotServed {
            called: called.to_string(),
        };
        let called_n = normalize_number(called).ok_or_else(not_served)?;
        if !self.service_numbers.contains(&called_n) {
            let area = self
                .service_numbers
                .iter()
                .find_map(|s| called_n.strip_suffix(s.as_str()))
                .filter(|area| !area.is_empty())
                .ok_or_else(not_served)?;
            let &i = self.by_area.get(area).ok_or_else(not_served)?;
            return Ok(self.decide(i, RouteReason::CalledAreaCode(area.to_string())));
        }

        let Some(caller_n) = normalize_number(caller) else {
            return Ok(self.to_province(ProvincialWhy::AnonymousCaller));
        };
        Ok(match NumberKind::of(&caller_n) {
            NumberKind::FixedLine => match self.area_of(&caller_n) {
                Some((area, i)) => self.decide(i, RouteReason::CallerAreaCode(area.to_string())),
                None => self.to_province(ProvincialWhy::AreaOutsideProvince),
            },
            NumberKind::Mobile => {
                let found = MOBILE_PREFIX_LENGTHS.rev().find_map(|len| {
                    let prefix = &caller_n[..len];
                    self.mobile.get(prefix).map(|&i| (prefix, i))
                });
                match found {
                    Some((prefix, i)) => {
                        self.decide(i, RouteReason::CallerMobilePrefix(prefix.to_string()))
                    }
                    None => self.to_province(ProvincialWhy::MobileNotListed),
                }
            }
            NumberKind::Foreign => self.to_province(ProvincialWhy::ForeignCaller),
            NumberKind::Other => self.to_province(ProvincialWhy::UnusualCaller),
        })
    }

    /// The area code (3 or 4 digits with the `0`) of a fixed line, if it is one of ours.
    fn area_of<'n>(&self, fixed: &'n str) -> Option<(&'n str, usize)> {
        [4, 3]
            .into_iter()
            .filter(|&len| fixed.len() > len)
            .find_map(|len| self.by_area.get(&fixed[..len]).map(|&i| (&fixed[..len], i)))
    }

    fn decide(&self, i: usize, reason: RouteReason) -> RouteDecision {
        RouteDecision {
            platform: self.platforms[i].code.clone(),
            reason,
        }
    }

    fn to_province(&self, why: ProvincialWhy) -> RouteDecision {
        self.decide(self.provincial, RouteReason::Provincial(why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(code: &str, area: Option<&str>, level: PlatformLevel) -> Platform {
        Platform {
            code: code.into(),
            name_zh: String::new(),
            name_en: code.into(),
            area_code: area.map(Into::into),
            level,
            welcome_prompt: format!("welcome-{code}.wav"),
            after_hours_prompt: "after-hours.wav".into(),
        }
    }

    fn yunnan_sample() -> Router {
        let platforms = vec![
            platform("530000", None, PlatformLevel::Province),
            platform("530100", Some("0871"), PlatformLevel::Prefecture),
            platform("532900", Some("0872"), PlatformLevel::Prefecture),
            platform("532800", Some("0691"), PlatformLevel::Prefecture),
        ];
        let prefixes = vec![
            MobilePrefix {
                prefix: "1301336".into(),
                platform: "532900".into(),
            },
            MobilePrefix {
                prefix: "13987".into(),
                platform: "530100".into(),
            },
            MobilePrefix {
                prefix: "139871".into(),
                platform: "532800".into(),
            },
        ];
        Router::new(platforms, prefixes, vec!["12345".into()]).unwrap()
    }

    fn route(r: &Router, called: &str, caller: &str) -> (String, String) {
        let d = r.route(called, caller).unwrap();
        (d.platform, d.reason.to_string())
    }

    #[test]
    fn fixed_line_caller_goes_to_its_area() {
        let r = yunnan_sample();
        assert_eq!(
            route(&r, "12345", "087163601234"),
            ("530100".into(), "caller-area-code:0871".into())
        );
        assert_eq!(
            route(&r, "12345", "+86 691 2123456"),
            ("532800".into(), "caller-area-code:0691".into())
        );
    }

    #[test]
    fn called_area_code_wins_over_the_caller() {
        let r = yunnan_sample();
        assert_eq!(
            route(&r, "087212345", "087163601234"),
            ("532900".into(), "called-area-code:0872".into())
        );
        assert_eq!(
            route(&r, "+8687212345", ""),
            ("532900".into(), "called-area-code:0872".into())
        );
    }

    #[test]
    fn mobile_longest_prefix_wins() {
        let r = yunnan_sample();
        assert_eq!(
            route(&r, "12345", "13013361234"),
            ("532900".into(), "caller-mobile-prefix:1301336".into())
        );
        assert_eq!(
            route(&r, "12345", "13987100000"),
            ("532800".into(), "caller-mobile-prefix:139871".into())
        );
        assert_eq!(
            route(&r, "12345", "13987200000"),
            ("530100".into(), "caller-mobile-prefix:13987".into())
        );
    }

    #[test]
    fn everything_else_goes_to_the_province() {
        let r = yunnan_sample();
        for (caller, why) in [
            ("", "anonymous-caller"),
            ("anonymous", "anonymous-caller"),
            ("02155556666", "area-outside-province"),
            ("19912345678", "mobile-not-listed"),
            ("+14155550100", "foreign-caller"),
            ("8001", "unusual-caller"),
        ] {
            assert_eq!(
                route(&r, "12345", caller),
                ("530000".into(), format!("provincial:{why}")),
                "{caller}"
            );
        }
    }

    #[test]
    fn numbers_not_served() {
        let r = yunnan_sample();
        for called in ["12346", "02112345", "0875123456", "", "sip", "12345678901"] {
            assert!(r.route(called, "087163601234").is_err(), "{called:?}");
        }
    }

    #[test]
    fn contradictory_tables_are_refused() {
        let p = |c, a| platform(c, a, PlatformLevel::Prefecture);
        let prov = platform("530000", None, PlatformLevel::Province);
        let err = Router::new(
            vec![
                prov.clone(),
                p("530100", Some("0871")),
                p("530300", Some("0871")),
            ],
            vec![],
            vec!["12345".into()],
        )
        .unwrap_err();
        assert!(
            matches!(err, RouterError::DuplicateAreaCode { .. }),
            "{err}"
        );
        let err = Router::new(vec![p("530100", Some("0871"))], vec![], vec![]).unwrap_err();
        assert_eq!(err, RouterError::Provincial(0));
        let err = Router::new(
            vec![prov.clone()],
            vec![MobilePrefix {
                prefix: "1301336".into(),
                platform: "539999".into(),
            }],
            vec![],
        )
        .unwrap_err();
        assert!(matches!(err, RouterError::UnknownPlatform { .. }));
        let err = Router::new(
            vec![prov],
            vec![MobilePrefix {
                prefix: "130".into(),
                platform: "530000".into(),
            }],
            vec![],
        )
        .unwrap_err();
        assert_eq!(err, RouterError::BadPrefix("130".into()));
    }
}
