//! `users.toml` (API users, their roles and token hashes) and `units.csv` (the registry of
//! responsible units per platform).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};
use crate::cases::Role;
use crate::registrar::digest::Secret;

/// A responsible unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unit {
    /// Short id, e.g. `kmhb`.
    pub id: String,
    /// The platform it serves.
    pub platform: String,
    /// Its name, e.g. `昆明市生态环境局`.
    pub name: String,
    /// The liaison's phone (联络员), called to remind the unit of a case it has not signed;
    /// empty when the unit has none on file.
    pub liaison: String,
}

/// An API user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub role: Role,
    pub platform: String,
    /// For unit users.
    pub unit: Option<String>,
    /// SHA-256 of the bearer token, lower-case hex.
    pub token_sha256: String,
    /// May write the knowledge base (besides what the role allows).
    pub knowledge_editor: bool,
    /// A supervisor's phone: the seat of agents.toml that rings when they listen in.
    pub seat: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    user: Vec<Spanned<UserEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    id: String,
    role: String,
    platform: String,
    unit: Option<String>,
    token_sha256: String,
    #[serde(default)]
    knowledge_editor: bool,
    seat: Option<String>,
}

pub(super) fn load_units(
    path: &Path,
    platforms: &[String],
    problems: &mut Vec<Problem>,
) -> Vec<Unit> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        platform: String,
        name: String,
        #[serde(default)]
        liaison: String,
    }
    let Some(rows) = super::tables::rows::<Row>(path, problems) else {
        return Vec::new();
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut units = Vec::new();
    for (line, r) in rows {
        if r.id.is_empty() || !r.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            problems.push(Problem::at(
                path,
                line,
                format!("unit id {:?} must be letters, digits and -", r.id),
            ));
        }
        if let Some(first) = seen.insert(r.id.clone(), line) {
            problems.push(Problem::at(
                path,
                line,
                format!("unit {} is already listed at line {first}", r.id),
            ));
        }
        if !platforms.is_empty() && !platforms.contains(&r.platform) {
            problems.push(Problem::at(
                path,
                line,
                format!("platform {} is not in platforms.toml", r.platform),
            ));
        }
        let liaison = r.liaison.trim().to_string();
        if !liaison.is_empty() && !super::trunks::is_dialable(&liaison) {
            problems.push(Problem::at(
                path,
                line,
                format!("liaison {liaison:?} must be a phone number (digits)"),
            ));
        }
        units.push(Unit {
            id: r.id,
            platform: r.platform,
            name: r.name,
            liaison,
        });
    }
    units
}

pub(super) fn load_users(
    path: &Path,
    platforms: &[String],
    units: &[Unit],
    problems: &mut Vec<Problem>,
) -> Vec<User> {
    let Some((text, file)) = parse_toml::<UsersFile>(path, problems) else {
        return Vec::new();
    };
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut tokens: HashMap<String, usize> = HashMap::new();
    let mut users = Vec::new();
    for spanned in file.user {
        let line = line_of(&text, spanned.span().start);
        let u = spanned.into_inner();
        let mut problem = |m: String| problems.push(Problem::at(path, line, m));
        let Some(role) = Role::parse(&u.role) else {
            problem(format!(
                "role {:?} must be operator, unit or supervisor",
                u.role
            ));
            continue;
        };
        if let Some(first) = ids.insert(u.id.clone(), line) {
            problem(format!("user {} is already defined at line {first}", u.id));
        }
        if u.token_sha256.len() != 64 || !u.token_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            problem("token_sha256 must be 64 hex digits (the SHA-256 of the token)".into());
        }
        let hash = u.token_sha256.to_ascii_lowercase();
        if let Some(first) = tokens.insert(hash.clone(), line) {
            problem(format!("the same token as the user at line {first}"));
        }
        if !platforms.is_empty() && !platforms.contains(&u.platform) {
            problem(format!("platform {} is not in platforms.toml", u.platform));
        }
        match (role, &u.unit) {
            (Role::Unit, None) => problem("a unit user needs unit = \"…\"".into()),
            (Role::Unit, Some(unit)) if !units.iter().any(|x| &x.id == unit) => {
                problem(format!("unit {unit} is not in units.csv"))
            }
            (Role::Operator | Role::Supervisor, Some(_)) => {
                problem("only unit users have a unit".into())
            }
            _ => {}
        }
        users.push(User {
            id: u.id,
            role,
            platform: u.platform,
            unit: u.unit,
            token_sha256: hash,
            knowledge_editor: u.knowledge_editor,
            seat: u.seat,
        });
    }
    users
}

/// An operator seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Login id and SIP user name.
    pub id: String,
    /// The platform whose queue it serves.
    pub platform: String,
    /// What checks the seat's SIP digest: its password, or only HA1 values.
    pub secret: Secret,
    /// Skill levels 1–10.
    pub skills: std::collections::BTreeMap<String, u8>,
    /// Calls taken at once.
    pub max_calls: u32,
    /// Challenge with MD5 only, for softphones that read only the first challenge and cannot
    /// do SHA-256 (by default both are offered, SHA-256 first).
    pub md5_only: bool,
    /// Whether the ACD offers it the queues' calls (false: a supervisor's phone, rung only to
    /// listen in).
    pub takes_calls: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentsFile {
    #[serde(default)]
    agent: Vec<Spanned<AgentEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentEntry {
    id: String,
    platform: String,
    password: Option<String>,
    ha1_md5: Option<String>,
    ha1_sha256: Option<String>,
    #[serde(default)]
    skills: std::collections::BTreeMap<String, u8>,
    max_calls: Option<u32>,
    /// `"md5"` to challenge with MD5 only.
    digest: Option<String>,
    takes_calls: Option<bool>,
}

pub(super) fn load_seats(
    path: &Path,
    platforms: &[String],
    problems: &mut Vec<Problem>,
) -> Vec<Seat> {
    let Some((text, file)) = parse_toml::<AgentsFile>(path, problems) else {
        return Vec::new();
    };
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut seats = Vec::new();
    for spanned in file.agent {
        let line = line_of(&text, spanned.span().start);
        let a = spanned.into_inner();
        let mut problem = |m: String| problems.push(Problem::at(path, line, m));
        if a.id.is_empty()
            || !a
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            problem(format!(
                "agent id {:?} must be letters, digits, - or .",
                a.id
            ));
        }
        if let Some(first) = ids.insert(a.id.clone(), line) {
            problem(format!("agent {} is already defined at line {first}", a.id));
        }
        if !platforms.is_empty() && !platforms.contains(&a.platform) {
            problem(format!("platform {} is not in platforms.toml", a.platform));
        }
        let hex = |v: &Option<String>, len: usize| {
            v.as_ref()
                .is_none_or(|h| h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        let secret = match (&a.password, &a.ha1_md5, &a.ha1_sha256) {
            (Some(p), None, None) => {
                if p.len() < 6 {
                    problem("password must have at least 6 characters".into());
                }
                Secret::Password(p.clone())
            }
            (None, None, None) => {
                problem("a seat needs password = \"…\", or ha1_md5 / ha1_sha256 (hotline12345 digest-ha1)".into());
                Secret::Password(String::new())
            }
            (Some(_), _, _) => {
                problem("give password or HA1 values, not both".into());
                Secret::Password(String::new())
            }
            (None, md5, sha256) => {
                if !hex(md5, 32) {
                    problem("ha1_md5 must be 32 hex digits".into());
                }
                if !hex(sha256, 64) {
                    problem("ha1_sha256 must be 64 hex digits".into());
                }
                Secret::Ha1 {
                    md5: md5.as_ref().map(|h| h.to_ascii_lowercase()),
                    sha256: sha256.as_ref().map(|h| h.to_ascii_lowercase()),
                }
            }
        };
        for (skill, level) in &a.skills {
            if !(1..=10).contains(level) {
                problem(format!("skill {skill} level {level} must be 1 to 10"));
            }
        }
        let max_calls = a.max_calls.unwrap_or(1);
        if !(1..=4).contains(&max_calls) {
            problem("max_calls must be 1 to 4".into());
        }
        let md5_only = match a.digest.as_deref() {
            None | Some("sha-256") => false,
            Some("md5") => true,
            Some(other) => {
                problem(format!("digest {other:?} must be \"md5\" or \"sha-256\""));
                false
            }
        };
        if secret.algorithms(md5_only).is_empty() {
            problem("digest = \"md5\" needs password or ha1_md5".into());
        }
        seats.push(Seat {
            takes_calls: a.takes_calls.unwrap_or(true),
            md5_only,
            id: a.id,
            platform: a.platform,
            secret,
            skills: a.skills,
            max_calls,
        });
    }
    seats
}
