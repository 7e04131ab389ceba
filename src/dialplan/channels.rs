//! `channels.toml` (optional): requests that do not come by phone. Each platform's mailbox and
//! the relay that takes our mail, the SMS centre (SMPP) and what is sent by SMS, the public
//! form's limits, the keys of the province's own apps, and the official account's token.
//! Without the file there is no mail, SMS, app or official account; the web form still takes
//! requests whose number was confirmed by a code only when an SMS centre is configured.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::{line_of, parse_toml, Problem};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ChannelsFile {
    #[serde(default)]
    mail: Option<Spanned<MailFile>>,
    #[serde(default)]
    sms: Option<Spanned<SmsFile>>,
    #[serde(default)]
    web: Option<Spanned<WebFile>>,
    #[serde(default)]
    app: Vec<Spanned<AppFile>>,
    #[serde(default)]
    wechat: Option<Spanned<WechatFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailFile {
    host_name: String,
    #[serde(default)]
    relay: String,
    #[serde(default)]
    relay_user: String,
    #[serde(default)]
    relay_password: String,
    #[serde(default)]
    max_message_kb: Option<u64>,
    #[serde(default)]
    max_attachment_kb: Option<u64>,
    #[serde(default)]
    max_attachments: Option<u64>,
    #[serde(default)]
    voicemail_notice: bool,
    mailboxes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsFile {
    smsc: String,
    system_id: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    system_type: String,
    number: String,
    #[serde(default)]
    enquire_link_secs: Option<u64>,
    #[serde(default = "yes")]
    remind_units: bool,
    #[serde(default = "yes")]
    acknowledge: bool,
    #[serde(default = "yes")]
    notify_reply: bool,
    #[serde(default = "yes")]
    acknowledge_callers: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WebFile {
    per_source_per_hour: Option<u64>,
    per_number_per_day: Option<u64>,
    codes_per_number_per_hour: Option<u64>,
    max_photos: Option<u64>,
    max_photo_kb: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    name: String,
    key_sha256: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WechatFile {
    token: String,
    platform: String,
}

/// Mail: the platforms' mailboxes, the relay, and what mail may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The name the SMTP listener greets with and our Message-IDs end in.
    pub host_name: String,
    /// The relay's `host:port` for outgoing mail; empty sends none.
    pub relay: String,
    /// Credentials at the relay, when it asks (sent only after STARTTLS).
    pub relay_user: String,
    pub relay_password: String,
    /// The largest mail taken, in bytes.
    pub max_message: usize,
    /// The largest attachment kept, in bytes.
    pub max_attachment: usize,
    pub max_attachments: usize,
    /// Mail the platform's mailbox a notice, with the audio, when a voice message is left.
    pub voicemail_notice: bool,
    /// Mailbox (lower case) by platform code.
    pub mailboxes: BTreeMap<String, String>,
}

impl MailSettings {
    /// The platform whose mailbox `address` is.
    pub fn platform_of(&self, address: &str) -> Option<&str> {
        let address = address.trim().trim_matches(['<', '>']).to_ascii_lowercase();
        self.mailboxes
            .iter()
            .find(|(_, m)| **m == address)
            .map(|(p, _)| p.as_str())
    }
}

/// SMS: the SMS centre and what is sent through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsSettings {
    /// The SMS centre's `host:port` (SMPP 3.4).
    pub smsc: String,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    /// The hotline's SMS number: the source of what we send, the destination of requests.
    pub number: String,
    pub enquire_link: std::time::Duration,
    /// An SMS to the unit's liaison after a dispatch, with the case number and deadline.
    pub remind_units: bool,
    /// The acknowledgement with the case number to requesters by SMS and web.
    pub acknowledge: bool,
    /// The answer and the reply to requesters who wrote by SMS or asked for notices.
    pub notify_reply: bool,
    /// An SMS with the case number to a caller from a mobile once the operator registers
    /// the call's case (its first classification).
    pub acknowledge_callers: bool,
}

/// The public form's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebSettings {
    pub per_source_per_hour: usize,
    pub per_number_per_day: usize,
    pub codes_per_number_per_hour: usize,
    pub max_photos: usize,
    pub max_photo: usize,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            per_source_per_hour: 20,
            per_number_per_day: 5,
            codes_per_number_per_hour: 3,
            max_photos: 3,
            max_photo: 2 * 1024 * 1024,
        }
    }
}

/// An app of the province's that may submit requests with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKey {
    pub name: String,
    /// The SHA-256 of the key, in hex (the file never holds the key itself).
    pub key_sha256: String,
}

/// The official account's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatSettings {
    /// The token set in the platform's console, which signs each request.
    pub token: String,
    /// The platform whose cases its messages open.
    pub platform: String,
}

/// Everything `channels.toml` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Channels {
    pub mail: Option<MailSettings>,
    pub sms: Option<SmsSettings>,
    pub web: WebSettings,
    pub apps: Vec<AppKey>,
    pub wechat: Option<WechatSettings>,
}

fn is_mailbox(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

fn is_host_port(s: &str) -> bool {
    s.rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0))
}

pub(super) fn load(path: &Path, platforms: &[String], problems: &mut Vec<Problem>) -> Channels {
    if !path.exists() {
        return Channels::default();
    }
    let Some((text, file)) = parse_toml::<ChannelsFile>(path, problems) else {
        return Channels::default();
    };
    let known = |p: &str| platforms.is_empty() || platforms.iter().any(|c| c == p);
    let mut channels = Channels::default();
    if let Some(spanned) = file.mail {
        let line = line_of(&text, spanned.span().start);
        let m = spanned.into_inner();
        let mut problem = |s: String| problems.push(Problem::at(path, line, s));
        if m.host_name.trim().is_empty() || m.host_name.contains(char::is_whitespace) {
            problem("mail.host_name must be a host name".into());
        }
        if !m.relay.is_empty() && !is_host_port(&m.relay) {
            problem(format!("mail.relay {:?} must be host:port", m.relay));
        }
        let mut mailboxes = BTreeMap::new();
        for (platform, mailbox) in m.mailboxes {
            if !known(&platform) {
                problem(format!(
                    "mail.mailboxes: platform {platform} is not in platforms.toml"
                ));
            }
            if !is_mailbox(&mailbox) {
                problem(format!("mail.mailboxes: {mailbox:?} is not a mail address"));
            }
            mailboxes.insert(platform, mailbox.to_ascii_lowercase());
        }
        let kb = |v: Option<u64>, d: u64, max: u64, name: &str, problem: &mut dyn FnMut(String)| {
            let v = v.unwrap_or(d);
            if v == 0 || v > max {
                problem(format!("mail.{name} must be 1 to {max}"));
            }
            v as usize * 1024
        };
        let max_message = kb(
            m.max_message_kb,
            10 * 1024,
            50 * 1024,
            "max_message_kb",
            &mut problem,
        );
        let max_attachment = kb(
            m.max_attachment_kb,
            5 * 1024,
            50 * 1024,
            "max_attachment_kb",
            &mut problem,
        );
        let max_attachments = m.max_attachments.unwrap_or(10) as usize;
        channels.mail = Some(MailSettings {
            host_name: m.host_name,
            relay: m.relay,
            relay_user: m.relay_user,
            relay_password: m.relay_password,
            max_message,
            max_attachment,
            max_attachments,
            voicemail_notice: m.voicemail_notice,
            mailboxes,
        });
    }
    if let Some(spanned) = file.sms {
        let line = line_of(&text, spanned.span().start);
        let s = spanned.into_inner();
        let mut problem = |m: String| problems.push(Problem::at(path, line, m));
        if !is_host_port(&s.smsc) {
            problem(format!("sms.smsc {:?} must be host:port", s.smsc));
        }
        if s.system_id.is_empty() || s.system_id.len() > 15 {
            problem("sms.system_id must be 1 to 15 characters (SMPP 3.4)".into());
        }
        if s.password.len() > 8 {
            problem("sms.password is at most 8 characters (SMPP 3.4)".into());
        }
        if s.number.is_empty()
            || !s.number.bytes().all(|b| b.is_ascii_digit())
            || s.number.len() > 20
        {
            problem(format!("sms.number {:?} must be digits", s.number));
        }
        let every = s.enquire_link_secs.unwrap_or(30);
        if !(1..=600).contains(&every) {
            problem("sms.enquire_link_secs must be 1 to 600".into());
        }
        channels.sms = Some(SmsSettings {
            smsc: s.smsc,
            system_id: s.system_id,
            password: s.password,
            system_type: s.system_type,
            number: s.number,
            enquire_link: std::time::Duration::from_secs(every),
            remind_units: s.remind_units,
            acknowledge: s.acknowledge,
            notify_reply: s.notify_reply,
            acknowledge_callers: s.acknowledge_callers,
        });
    }
    if let Some(spanned) = file.web {
        let line = line_of(&text, spanned.span().start);
        let w = spanned.into_inner();
        let d = WebSettings::default();
        let mut bad = Vec::new();
        let mut pick = |v: Option<u64>, d: usize, name: &str, max: u64| {
            let v = v.unwrap_or(d as u64);
            if v > max {
                bad.push(format!("web.{name} must be at most {max}"));
            }
            v as usize
        };
        channels.web = WebSettings {
            per_source_per_hour: pick(
                w.per_source_per_hour,
                d.per_source_per_hour,
                "per_source_per_hour",
                100_000,
            ),
            per_number_per_day: pick(
                w.per_number_per_day,
                d.per_number_per_day,
                "per_number_per_day",
                1000,
            ),
            codes_per_number_per_hour: pick(
                w.codes_per_number_per_hour,
                d.codes_per_number_per_hour,
                "codes_per_number_per_hour",
                100,
            ),
            max_photos: pick(w.max_photos, d.max_photos, "max_photos", 9),
            max_photo: pick(
                w.max_photo_kb,
                d.max_photo / 1024,
                "max_photo_kb",
                20 * 1024,
            ) * 1024,
        };
        for b in bad {
            problems.push(Problem::at(path, line, b));
        }
    }
    for spanned in file.app {
        let line = line_of(&text, spanned.span().start);
        let a = spanned.into_inner();
        let hex = a.key_sha256.to_ascii_lowercase();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push(Problem::at(
                path,
                line,
                format!(
                    "app {}: key_sha256 must be 64 hex digits (sha256sum of the key)",
                    a.name
                ),
            ));
        }
        channels.apps.push(AppKey {
            name: a.name,
            key_sha256: hex,
        });
    }
    if let Some(spanned) = file.wechat {
        let line = line_of(&text, spanned.span().start);
        let w = spanned.into_inner();
        if w.token.len() < 3 || w.token.len() > 32 {
            problems.push(Problem::at(
                path,
                line,
                "wechat.token must be 3 to 32 characters",
            ));
        }
        if !known(&w.platform) {
            problems.push(Problem::at(
                path,
                line,
                format!("wechat.platform {} is not in platforms.toml", w.platform),
            ));
        }
        channels.wechat = Some(WechatSettings {
            token: w.token,
            platform: w.platform,
        });
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> (Channels, Vec<Problem>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("channels.toml");
        std::fs::write(&path, text).unwrap();
        let mut problems = Vec::new();
        let c = load(&path, &["530000".into(), "530100".into()], &mut problems);
        (c, problems)
    }

    #[test]
    fn a_full_file_reads() {
        let (c, problems) = load_text(
            r#"
[mail]
host_name = "12345.example.cn"
relay = "127.0.0.1:25"
[mail.mailboxes]
"530100" = "12345@KM.example.cn"

[sms]
smsc = "127.0.0.1:2775"
system_id = "hotline"
password = "secret"
number = "12345"

[[app]]
name = "yn-app"
key_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let mail = c.mail.unwrap();
        assert_eq!(mail.platform_of("<12345@km.example.cn>"), Some("530100"));
        assert_eq!(mail.platform_of("other@km.example.cn"), None);
        assert_eq!(c.sms.unwrap().enquire_link.as_secs(), 30);
        assert_eq!(c.apps.len(), 1);
        assert_eq!(c.web, WebSettings::default());
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let (_, problems) = load_text(
            "[mail]\nhost_name = \"x\"\nrelay = \"nowhere\"\n[mail.mailboxes]\n\"539900\" = \"not-an-address\"\n\n[sms]\nsmsc = \"127.0.0.1:2775\"\nsystem_id = \"a-system-id-too-long\"\nnumber = \"12a45\"\n",
        );
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let all = text.join("\n");
        assert!(all.contains("mail.relay"), "{all}");
        assert!(all.contains("platform 539900"), "{all}");
        assert!(all.contains("not a mail address"), "{all}");
        assert!(all.contains("system_id"), "{all}");
        assert!(all.contains("sms.number"), "{all}");
        assert!(all.contains(":7:") || all.contains("line 7"), "{all}");
    }
}
