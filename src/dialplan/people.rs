//! `users.toml` (API users, their roles and token hashes) and `units.csv` (the registry of
//! responsible units per platform).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};
use crate::cases::Role;

/// A responsible unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unit {
    /// Short id, e.g. `kmhb`.
    pub id: String,
    /// The platform it serves.
    pub platform: String,
    /// Its name, e.g. `昆明市生态环境局`.
    pub name: String,
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
        units.push(Unit {
            id: r.id,
            platform: r.platform,
            name: r.name,
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
        });
    }
    users
}
