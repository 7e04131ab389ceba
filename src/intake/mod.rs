//! Requests that do not come by phone: mail, SMS, the web form, the province's app and a
//! messaging platform's official account. Each becomes the same case as a call, with its
//! channel recorded; this folder holds the rules that do not depend on how it arrived, free of
//! I/O (the listeners and senders are in [`crate::mail`], [`crate::sms`] and
//! [`crate::requests`]).
//!
//! - [`answer`]: how soon a request must first be answered, per channel (GB/T 33358).
//! - [`reference`]: finding the case a follow-up belongs to (a case number in its text).
//! - [`duplicates`]: open cases of the same requester about the same matter (并单).
//! - [`concat`]: putting a long SMS back together from its parts (UDH).
//! - [`limits`]: rate limits per source and per number, and the SMS codes that confirm a
//!   web form's phone number.

pub mod answer;
pub mod concat;
pub mod duplicates;
pub mod limits;
pub mod reference;

use serde::Serialize;

/// The channel a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A call to 12345 (and its voice messages).
    Phone,
    /// A mail to a platform's mailbox.
    Email,
    /// An SMS to the platform's number.
    Sms,
    /// The public request form on the website.
    Web,
    /// The province's own app or mini-program, through the JSON API with its key.
    App,
    /// A message to the hotline's official account on WeChat.
    Wechat,
}

impl Channel {
    /// Every channel, in the order tables show them.
    pub const ALL: [Channel; 6] = [
        Channel::Phone,
        Channel::Email,
        Channel::Sms,
        Channel::Web,
        Channel::App,
        Channel::Wechat,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Wechat => "wechat",
        }
    }

    /// The stored form read back; None for anything else.
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The name pages show.
    pub fn name_zh(self) -> &'static str {
        match self {
            Channel::Phone => "电话",
            Channel::Email => "电子邮件",
            Channel::Sms => "短信",
            Channel::Web => "网站",
            Channel::App => "手机APP",
            Channel::Wechat => "微信",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_read_back_what_is_stored() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
