//! `queues.toml` (optional): the queues beyond each platform's own, and the few menus.
//!
//! Every platform has a queue named by its division code, answered by all of its seats, with
//! the settings of `[queue]` in hotline.toml. This file may change a platform's own queue
//! (a `[[queue]]` with its code as name), add queues for skills (a dialect desk, complaints),
//! named `<code>-<word>`, and give a platform a menu that leads to them. The national service
//! standard wants callers to reach a person without menus, so a platform without a `[[menu]]`
//! sends every caller straight to its own queue after the greeting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};
use super::hotline::{QueueFile, QueueSettings};
use super::people::Seat;

/// One queue: who answers it and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDef {
    /// The platform's division code, or that code, `-` and a word (`532900-bai`).
    pub name: String,
    /// The platform whose seats answer it.
    pub platform: String,
    /// Skills a seat needs, with minimum levels (none: every seat of the platform).
    pub skills: BTreeMap<String, u8>,
    /// Strategy, timeouts, overflow.
    pub settings: QueueSettings,
}

/// A platform's menu: a prompt, then the queue each key leads to. No key within the timeout,
/// or a key not listed, leads to the platform's own queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// The platform (division code).
    pub platform: String,
    /// The prompt file (under prompts/) that says the choices.
    pub prompt: String,
    /// How long after the prompt a key is awaited.
    pub timeout: Duration,
    /// Key (`0`–`9`, `*`, `#`) → queue name.
    pub choices: BTreeMap<char, String>,
}

/// What `queues.toml` and the platforms give: every queue, and the menus by platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queues {
    /// Every queue: each platform's own first, in platform order, then the others.
    pub queues: Vec<QueueDef>,
    /// Menus, by platform.
    pub menus: HashMap<String, Menu>,
}

impl Queues {
    /// A queue by name.
    pub fn get(&self, name: &str) -> Option<&QueueDef> {
        self.queues.iter().find(|q| q.name == name)
    }
}

/// The platform a queue name belongs to: the part before the first `-`.
pub fn platform_of_queue(name: &str) -> &str {
    name.split('-').next().unwrap_or(name)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct QueuesFile {
    #[serde(default)]
    queue: Vec<Spanned<QueueFile>>,
    #[serde(default)]
    menu: Vec<Spanned<MenuEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MenuEntry {
    platform: String,
    prompt: String,
    timeout_secs: Option<u64>,
    choices: BTreeMap<String, String>,
}

/// Seconds a menu waits for a key after its prompt, unless it says otherwise.
const DEFAULT_MENU_TIMEOUT_SECS: u64 = 5;

/// Builds every queue: each platform's own from `defaults`, changed and added to by
/// `queues.toml` when the file exists. `seats` are checked to answer each skill queue.
pub(super) fn load(
    path: &Path,
    platforms: &[String],
    defaults: &QueueSettings,
    seats: &[Seat],
    problems: &mut Vec<Problem>,
) -> Queues {
    let mut queues: Vec<QueueDef> = platforms
        .iter()
        .map(|code| QueueDef {
            name: code.clone(),
            platform: code.clone(),
            skills: BTreeMap::new(),
            settings: defaults.clone(),
        })
        .collect();
    // The line that defines each queue of queues.toml, and the queues that name their own
    // overflow (the others take hotline.toml's, checked once).
    let mut defined: HashMap<String, usize> = HashMap::new();
    let mut own_overflow: HashSet<String> = HashSet::new();
    let mut menus = HashMap::new();
    if path.exists() {
        let Some((text, file)) = parse_toml::<QueuesFile>(path, problems) else {
            return Queues::default();
        };
        for spanned in &file.queue {
            let line = line_of(&text, spanned.span().start);
            let q = spanned.get_ref();
            if let Some(def) = queue_entry(q, path, line, platforms, defaults, problems) {
                if let Some(first) = defined.insert(def.name.clone(), line) {
                    problems.push(Problem::at(
                        path,
                        line,
                        format!("queue {} is already defined at line {first}", def.name),
                    ));
                    continue;
                }
                if q.overflow.is_some() {
                    own_overflow.insert(def.name.clone());
                }
                match queues.iter_mut().find(|o| o.name == def.name) {
                    Some(own) => *own = def,
                    None => queues.push(def),
                }
            }
        }
        let names: HashSet<&str> = queues.iter().map(|q| q.name.as_str()).collect();
        for spanned in &file.menu {
            let line = line_of(&text, spanned.span().start);
            if let Some(menu) =
                menu_entry(spanned.get_ref(), path, line, platforms, &names, problems)
            {
                if menus.contains_key(&menu.platform) {
                    problems.push(Problem::at(
                        path,
                        line,
                        format!("platform {} already has a menu", menu.platform),
                    ));
                } else {
                    menus.insert(menu.platform.clone(), menu);
                }
            }
        }
    }
    let at = |name: &str, message: String| match defined.get(name) {
        Some(line) => Problem::at(path, *line, message),
        None => Problem::file(
            &path.with_file_name("hotline.toml"),
            format!("[queue]: {message}"),
        ),
    };
    check_skills_answerable(&queues, seats, &at, problems);
    check_overflows(&queues, &own_overflow, defaults, &at, problems);
    Queues { queues, menus }
}

fn queue_entry(
    q: &QueueFile,
    path: &Path,
    line: usize,
    platforms: &[String],
    defaults: &QueueSettings,
    problems: &mut Vec<Problem>,
) -> Option<QueueDef> {
    let before = problems.len();
    let mut problem = |m: String| problems.push(Problem::at(path, line, m));
    let Some(name) = q.name.clone() else {
        problem("a [[queue]] needs a name".into());
        return None;
    };
    let known = |p: &str| platforms.is_empty() || platforms.iter().any(|c| c == p);
    let platform = match &q.platform {
        Some(p) => {
            if !known(p) {
                problem(format!("platform {p} is not in platforms.toml"));
            }
            p.clone()
        }
        None => {
            let p = platform_of_queue(&name);
            let leading: String = name.chars().take_while(char::is_ascii_digit).collect();
            if !known(p) && !known(&leading) {
                problem(format!(
                    "queue name {name:?} must start with the code of a platform in \
                     platforms.toml (530100, 530100-complaints)"
                ));
                return None;
            }
            if known(p) {
                p.to_string()
            } else {
                leading
            }
        }
    };
    let word = name.strip_prefix(&platform);
    let well_named = match word {
        Some("") => true,
        Some(rest) => rest.strip_prefix('-').is_some_and(|w| {
            !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }),
        None => false,
    };
    if !well_named {
        problem(format!(
            "queue name {name:?} must be its platform's code {platform}, or {platform}-<word> \
             (letters, digits, -), e.g. {platform}-complaints"
        ));
    }
    let skills = q.skills.clone().unwrap_or_default();
    for (skill, level) in &skills {
        if !(1..=10).contains(level) {
            problem(format!("skill {skill} level {level} must be 1 to 10"));
        }
    }
    let settings = q.settings_over(defaults, "", path, line, problems);
    (problems.len() == before).then_some(QueueDef {
        name,
        platform,
        skills,
        settings,
    })
}

fn menu_entry(
    m: &MenuEntry,
    path: &Path,
    line: usize,
    platforms: &[String],
    queues: &HashSet<&str>,
    problems: &mut Vec<Problem>,
) -> Option<Menu> {
    let before = problems.len();
    let mut problem = |msg: String| problems.push(Problem::at(path, line, msg));
    if !platforms.is_empty() && !platforms.contains(&m.platform) {
        problem(format!("platform {} is not in platforms.toml", m.platform));
    }
    if m.prompt.is_empty() || m.prompt.contains('/') || !m.prompt.ends_with(".wav") {
        problem(format!(
            "prompt {:?} must be a .wav file name in the prompts folder",
            m.prompt
        ));
    }
    let timeout = m.timeout_secs.unwrap_or(DEFAULT_MENU_TIMEOUT_SECS);
    if !(1..=30).contains(&timeout) {
        problem("timeout_secs must be 1 to 30".into());
    }
    if m.choices.is_empty() {
        problem("a menu needs at least one choice".into());
    }
    let mut choices = BTreeMap::new();
    for (key, queue) in &m.choices {
        let mut chars = key.chars();
        match (chars.next(), chars.next()) {
            (Some(k @ ('0'..='9' | '*' | '#')), None) => {
                choices.insert(k, queue.clone());
            }
            _ => problem(format!("menu key {key:?} must be one of 0-9, * or #")),
        }
        if !queues.contains(queue.as_str()) {
            problem(format!(
                "menu key {key} leads to queue {queue}, which is not defined"
            ));
        }
    }
    (problems.len() == before).then(|| Menu {
        platform: m.platform.clone(),
        prompt: m.prompt.clone(),
        timeout: Duration::from_secs(timeout),
        choices,
    })
}

/// A queue that asks for skills no seat of its platform has would keep its callers waiting
/// until they overflow: refuse it.
fn check_skills_answerable(
    queues: &[QueueDef],
    seats: &[Seat],
    at: &dyn Fn(&str, String) -> Problem,
    problems: &mut Vec<Problem>,
) {
    for q in queues.iter().filter(|q| !q.skills.is_empty()) {
        let answerable = seats.iter().any(|s| {
            s.platform == q.platform
                && q.skills
                    .iter()
                    .all(|(k, min)| s.skills.get(k).is_some_and(|l| l >= min))
        });
        if !answerable {
            let wanted: Vec<String> = q.skills.iter().map(|(k, l)| format!("{k} {l}")).collect();
            problems.push(at(
                &q.name,
                format!(
                    "no seat of platform {} in agents.toml has the skills of queue {} ({})",
                    q.platform,
                    q.name,
                    wanted.join(", ")
                ),
            ));
        }
    }
}

/// Each overflow names `voicemail` or a queue, and following overflows never comes back to a
/// queue already passed (a caller would go round for ever).
fn check_overflows(
    queues: &[QueueDef],
    own_overflow: &HashSet<String>,
    defaults: &QueueSettings,
    at: &dyn Fn(&str, String) -> Problem,
    problems: &mut Vec<Problem>,
) {
    let by_name: HashMap<&str, &QueueDef> = queues.iter().map(|q| (q.name.as_str(), q)).collect();
    fn goes_on(q: &QueueDef) -> Option<&str> {
        let to = q.settings.overflow.as_str();
        (to != "voicemail" && to != q.name).then_some(to)
    }
    let unknown = |to: &str| to != "voicemail" && !by_name.contains_key(to);
    if unknown(&defaults.overflow) {
        problems.push(at(
            "",
            format!(
                "overflow {:?} is neither \"voicemail\" nor a queue",
                defaults.overflow
            ),
        ));
    }
    let mut circles: HashSet<Vec<&str>> = HashSet::new();
    for q in queues {
        let Some(to) = goes_on(q) else { continue };
        if !by_name.contains_key(to) {
            if own_overflow.contains(&q.name) {
                problems.push(at(
                    &q.name,
                    format!(
                        "queue {} overflows to {to:?}, which is neither \"voicemail\" nor a queue",
                        q.name
                    ),
                ));
            }
            continue;
        }
        let mut path = vec![q.name.as_str()];
        let mut next = Some(to);
        while let Some(name) = next {
            if let Some(i) = path.iter().position(|p| *p == name) {
                let mut circle = path[i..].to_vec();
                circle.sort_unstable();
                if circles.insert(circle) {
                    let mut shown = path[i..].to_vec();
                    shown.push(name);
                    problems.push(at(
                        path[i],
                        format!(
                            "queue overflows go round in a circle: {}",
                            shown.join(" → ")
                        ),
                    ));
                }
                break;
            }
            path.push(name);
            next = by_name.get(name).and_then(|q| goes_on(q));
        }
    }
}
