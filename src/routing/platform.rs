//! A hotline platform: the provincial one or a prefecture's.

/// Where a platform sits in the province.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformLevel {
    /// The provincial platform: takes what no area rule routes, and escalations.
    Province,
    /// A prefecture (city or autonomous prefecture) platform.
    Prefecture,
}

/// One platform behind 12345.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// The 6-digit administrative division code, e.g. `530100` for Kunming.
    pub code: String,
    /// The Chinese name, e.g. `昆明市`.
    pub name_zh: String,
    /// The English name, e.g. `Kunming`.
    pub name_en: String,
    /// The fixed-line area code with its `0`, e.g. `0871`; None for the provincial platform.
    pub area_code: Option<String>,
    /// Province or prefecture.
    pub level: PlatformLevel,
    /// The prompt file a caller hears on answer, e.g. `welcome-530100.wav`.
    pub welcome_prompt: String,
    /// The prompt a caller hears outside staffed hours, e.g. `after-hours.wav`.
    pub after_hours_prompt: String,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.name_en)
    }
}
