//! `trunks.toml` (optional): the carriers' SIP trunks. Calls to 12345 come in over them, and the
//! hotline's own calls go out over them: callbacks, hand-overs to 110/119/120/122 and the
//! retained departmental hotlines, phone reminders to units.
//!
//! A trunk names the carrier's gateway (address, transport), the addresses its calls come from,
//! the caller ID the hotline presents (12345, or the platform's own number), the codecs it
//! carries, its channel limit, the platforms whose calls go out over it, and how the carrier
//! knows us: IP authentication (nothing to write), or a registration and digest credentials.
//! With `accept_calls = "trunks"`, calls to the service numbers are taken only from a trunk's
//! addresses (or a seat's registered phone); `"anywhere"` (the default) takes every caller, for
//! a lab without a carrier.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};

/// Who may call the service numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AcceptCalls {
    /// Any source (a lab, or a server behind an edge proxy that already filters).
    #[default]
    Anywhere,
    /// Only a trunk's addresses, and seats' registered phones.
    Trunks,
}

/// The transport towards a carrier's gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrunkTransport {
    Udp,
    Tcp,
    Tls,
}

/// A G.711 codec a trunk carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrunkCodec {
    Pcmu,
    Pcma,
}

/// An address block (`203.0.113.10`, `203.0.113.0/28`, `2001:db8::/48`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBlock {
    pub ip: IpAddr,
    pub prefix: u8,
}

impl AddressBlock {
    /// Parses `ip` or `ip/prefix`.
    pub fn parse(s: &str) -> Option<AddressBlock> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (
                ip.trim().parse::<IpAddr>().ok()?,
                Some(p.trim().parse::<u8>().ok()?),
            ),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(AddressBlock { ip, prefix })
    }

    /// True when `ip` is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.ip, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// A user name and password the carrier challenges for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkCredentials {
    pub username: String,
    pub password: String,
}

/// How the hotline registers with a carrier that wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkRegistration {
    /// The account (the user part of the registered address).
    pub username: String,
    /// The carrier's domain in the registered address (the gateway's address by default).
    pub domain: Option<String>,
    /// The registration's lifetime asked for; refreshed before it ends.
    pub expires_secs: u32,
}

/// One carrier trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    /// Its name, in logs and in the other files (letters, digits and `-`).
    pub name: String,
    /// The carrier's gateway: where outgoing INVITEs (and REGISTERs) go.
    pub gateway: SocketAddr,
    pub transport: TrunkTransport,
    /// Where the carrier's calls come from (the gateway's address when not given).
    pub addresses: Vec<AddressBlock>,
    /// The caller ID presented on calls out (the hotline's 12345 by default).
    pub caller_id: String,
    /// A platform's own caller ID, by division code, over `caller_id`.
    pub caller_ids: BTreeMap<String, String>,
    /// The codecs offered on calls out, in order of preference.
    pub codecs: Vec<TrunkCodec>,
    /// Calls at once over the trunk, in and out.
    pub channels: u32,
    /// The platforms whose calls go out over this trunk (none listed: every platform).
    pub platforms: Vec<String>,
    /// Registration with the carrier, when it wants one.
    pub register: Option<TrunkRegistration>,
    /// What answers the carrier's digest challenges (to REGISTER or INVITE).
    pub credentials: Option<TrunkCredentials>,
}

impl Trunk {
    /// The caller ID a platform's calls present.
    pub fn caller_id_for(&self, platform: &str) -> &str {
        self.caller_ids
            .get(platform)
            .map_or(self.caller_id.as_str(), String::as_str)
    }

    /// True when calls from `ip` come over this trunk.
    pub fn admits(&self, ip: IpAddr) -> bool {
        self.addresses.iter().any(|b| b.contains(ip))
    }

    /// True when `platform`'s calls go out over this trunk.
    pub fn serves(&self, platform: &str) -> bool {
        self.platforms.is_empty() || self.platforms.iter().any(|p| p == platform)
    }
}

/// The trunks of `trunks.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trunks {
    /// Who may call the service numbers.
    pub accept_calls: AcceptCalls,
    /// Every trunk, in file order.
    pub trunks: Vec<Trunk>,
}

impl Trunks {
    /// The trunk a platform's calls go out over: the first that serves it.
    pub fn for_platform(&self, platform: &str) -> Option<&Trunk> {
        self.trunks.iter().find(|t| t.serves(platform))
    }

    /// The trunk whose addresses `ip` is in.
    pub fn by_source(&self, ip: IpAddr) -> Option<&Trunk> {
        self.trunks.iter().find(|t| t.admits(ip))
    }

    /// A trunk by name.
    pub fn get(&self, name: &str) -> Option<&Trunk> {
        self.trunks.iter().find(|t| t.name == name)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TrunksFile {
    accept_calls: Option<Spanned<String>>,
    #[serde(default)]
    trunk: Vec<Spanned<TrunkEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrunkEntry {
    name: String,
    gateway: String,
    transport: Option<String>,
    addresses: Option<Vec<String>>,
    caller_id: Option<String>,
    #[serde(default)]
    caller_ids: BTreeMap<String, String>,
    codecs: Option<Vec<String>>,
    channels: Option<u32>,
    #[serde(default)]
    platforms: Vec<String>,
    register: Option<RegisterEntry>,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterEntry {
    domain: Option<String>,
    expires_secs: Option<u32>,
}

/// True for a number the carrier can take: digits, an optional leading `+`.
pub fn is_dialable(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Loads `trunks.toml` when the file exists (none: no trunk, calls taken from anywhere).
pub(super) fn load(path: &Path, platforms: &[String], problems: &mut Vec<Problem>) -> Trunks {
    if !path.exists() {
        return Trunks::default();
    }
    let Some((text, file)) = parse_toml::<TrunksFile>(path, problems) else {
        return Trunks::default();
    };
    let accept_calls = match &file.accept_calls {
        None => AcceptCalls::Anywhere,
        Some(v) => match v.get_ref().as_str() {
            "anywhere" => AcceptCalls::Anywhere,
            "trunks" => AcceptCalls::Trunks,
            other => {
                problems.push(Problem::at(
                    path,
                    line_of(&text, v.span().start),
                    format!("accept_calls {other:?} must be \"anywhere\" or \"trunks\""),
                ));
                AcceptCalls::Anywhere
            }
        },
    };
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut trunks = Vec::new();
    for spanned in file.trunk {
        let line = line_of(&text, spanned.span().start);
        let t = spanned.into_inner();
        let mut problem = |m: String| problems.push(Problem::at(path, line, m));
        if t.name.is_empty()
            || !t
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            problem(format!(
                "trunk name {:?} must be letters, digits and -",
                t.name
            ));
        }
        if let Some(first) = names.insert(t.name.clone(), line) {
            problem(format!(
                "trunk {} is already defined at line {first}",
                t.name
            ));
        }
        let gateway = parse_gateway(&t.gateway).unwrap_or_else(|| {
            problem(format!(
                "gateway {:?} must be an IP address with an optional port (203.0.113.10:5060)",
                t.gateway
            ));
            SocketAddr::from(([0, 0, 0, 0], 5060))
        });
        let transport = match t.transport.as_deref().unwrap_or("udp") {
            "udp" => TrunkTransport::Udp,
            "tcp" => TrunkTransport::Tcp,
            "tls" => TrunkTransport::Tls,
            other => {
                problem(format!("transport {other:?} must be udp, tcp or tls"));
                TrunkTransport::Udp
            }
        };
        let addresses = match &t.addresses {
            None => vec![AddressBlock {
                ip: gateway.ip(),
                prefix: if gateway.is_ipv4() { 32 } else { 128 },
            }],
            Some(list) => list
                .iter()
                .filter_map(|a| {
                    let block = AddressBlock::parse(a);
                    if block.is_none() {
                        problem(format!(
                            "address {a:?} must be an IP address or a block (203.0.113.0/28)"
                        ));
                    }
                    block
                })
                .collect(),
        };
        let caller_id = t.caller_id.clone().unwrap_or_else(|| "12345".into());
        for (what, id) in std::iter::once(("caller_id", &caller_id))
            .chain(t.caller_ids.values().map(|v| ("caller_ids", v)))
        {
            if !is_dialable(id) {
                problem(format!(
                    "{what} {id:?} must be digits (a leading + allowed)"
                ));
            }
        }
        for platform in t.caller_ids.keys().chain(&t.platforms) {
            if !platforms.is_empty() && !platforms.contains(platform) {
                problem(format!("platform {platform} is not in platforms.toml"));
            }
        }
        let codecs: Vec<TrunkCodec> = t
            .codecs
            .clone()
            .unwrap_or_else(|| vec!["PCMU".into(), "PCMA".into()])
            .iter()
            .filter_map(|c| match c.to_ascii_uppercase().as_str() {
                "PCMU" => Some(TrunkCodec::Pcmu),
                "PCMA" => Some(TrunkCodec::Pcma),
                _ => {
                    problem(format!("codec {c:?} must be PCMU or PCMA"));
                    None
                }
            })
            .collect();
        if codecs.is_empty() && t.codecs.as_ref().is_some_and(Vec::is_empty) {
            problem("codecs must name at least one of PCMU and PCMA".into());
        }
        let channels = t.channels.unwrap_or(30);
        if !(1..=10_000).contains(&channels) {
            problem(format!("channels {channels} must be 1 to 10000"));
        }
        let credentials = match (&t.username, &t.password) {
            (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Some(TrunkCredentials {
                username: u.clone(),
                password: p.clone(),
            }),
            (None, None) => None,
            _ => {
                problem("username and password go together, neither empty".into());
                None
            }
        };
        let register = t.register.as_ref().map(|r| {
            let expires_secs = r.expires_secs.unwrap_or(3600);
            if !(60..=86_400).contains(&expires_secs) {
                problem(format!(
                    "register.expires_secs {expires_secs} must be 60 to 86400"
                ));
            }
            TrunkRegistration {
                username: t.username.clone().unwrap_or_default(),
                domain: r.domain.clone(),
                expires_secs,
            }
        });
        if register.is_some() && credentials.is_none() {
            problem("a trunk that registers needs username and password".into());
        }
        trunks.push(Trunk {
            name: t.name,
            gateway,
            transport,
            addresses,
            caller_id,
            caller_ids: t.caller_ids,
            codecs,
            channels,
            platforms: t.platforms,
            register,
            credentials,
        });
    }
    Trunks {
        accept_calls,
        trunks,
    }
}

/// `203.0.113.10`, `203.0.113.10:5080`, `[2001:db8::1]:5060`.
fn parse_gateway(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 5060)))
        .filter(|a| !a.ip().is_unspecified() && a.port() != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> (Trunks, Vec<Problem>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trunks.toml");
        std::fs::write(&path, text).unwrap();
        let mut problems = Vec::new();
        let trunks = load(&path, &["530000".into(), "530100".into()], &mut problems);
        (trunks, problems)
    }

    #[test]
    fn a_trunk_with_its_defaults_and_one_with_everything() {
        let (trunks, problems) = load_text(
            r#"accept_calls = "trunks"

[[trunk]]
name = "telecom"
gateway = "203.0.113.10"

[[trunk]]
name = "unicom"
gateway = "198.51.100.7:5080"
transport = "tcp"
addresses = ["198.51.100.0/28", "2001:db8::/48"]
caller_id = "12345"
caller_ids = { "530100" = "087112345" }
codecs = ["PCMA"]
channels = 60
platforms = ["530100"]
username = "yn12345"
password = "secret-pw"
register = { expires_secs = 600 }
"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(trunks.accept_calls, AcceptCalls::Trunks);
        let telecom = &trunks.trunks[0];
        assert_eq!(
            telecom.gateway,
            "203.0.113.10:5060".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(telecom.transport, TrunkTransport::Udp);
        assert!(telecom.admits("203.0.113.10".parse().unwrap()));
        assert!(!telecom.admits("203.0.113.11".parse().unwrap()));
        assert_eq!(telecom.codecs, [TrunkCodec::Pcmu, TrunkCodec::Pcma]);
        assert_eq!(telecom.channels, 30);
        assert_eq!(telecom.caller_id_for("530100"), "12345");
        let unicom = &trunks.trunks[1];
        assert!(unicom.admits("198.51.100.15".parse().unwrap()));
        assert!(!unicom.admits("198.51.100.16".parse().unwrap()));
        assert!(unicom.admits("2001:db8:0:1::5".parse().unwrap()));
        assert_eq!(unicom.caller_id_for("530100"), "087112345");
        assert_eq!(unicom.caller_id_for("530000"), "12345");
        assert_eq!(unicom.register.as_ref().unwrap().expires_secs, 600);
        assert_eq!(unicom.credentials.as_ref().unwrap().username, "yn12345");
        // Kunming's calls take the first trunk that serves it: telecom serves every platform.
        assert_eq!(trunks.for_platform("530100").unwrap().name, "telecom");
        assert_eq!(
            trunks
                .by_source("198.51.100.3".parse().unwrap())
                .unwrap()
                .name,
            "unicom"
        );
        assert!(trunks.by_source("192.0.2.1".parse().unwrap()).is_none());
    }

    #[test]
    fn every_mistake_is_named_with_its_line() {
        let (_, problems) = load_text(
            r#"accept_calls = "everyone"

[[trunk]]
name = "bad name"
gateway = "carrier.example"
transport = "sctp"
addresses = ["10.0.0.0/33"]
caller_id = "12345a"
codecs = ["G729"]
channels = 0
platforms = ["539999"]
register = {}

[[trunk]]
name = "bad name"
gateway = "192.0.2.1"
username = "only-a-name"
"#,
        );
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let at = |line: usize, what: &str| {
            assert!(
                text.iter()
                    .any(|t| t.contains(&format!("trunks.toml:{line}: ")) && t.contains(what)),
                "line {line}: {what} in {text:#?}"
            )
        };
        at(1, "accept_calls \"everyone\"");
        at(3, "trunk name \"bad name\"");
        at(3, "gateway \"carrier.example\"");
        at(3, "transport \"sctp\"");
        at(3, "address \"10.0.0.0/33\"");
        at(3, "caller_id \"12345a\"");
        at(3, "codec \"G729\"");
        at(3, "channels 0");
        at(3, "platform 539999");
        at(3, "needs username and password");
        at(14, "already defined at line 3");
        at(14, "username and password go together");
    }

    #[test]
    fn no_file_is_no_trunk() {
        let mut problems = Vec::new();
        let trunks = load(Path::new("/nonexistent/trunks.toml"), &[], &mut problems);
        assert!(problems.is_empty());
        assert_eq!(trunks, Trunks::default());
        assert!(trunks.for_platform("530100").is_none());
    }
}
