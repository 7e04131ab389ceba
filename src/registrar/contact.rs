//! The Contact values of a REGISTER (RFC 3261 §20.10, §25.1): `<uri>;params` or a bare URI,
//! with parameters split outside quotes, so that a quoted `+sip.instance="<urn:uuid:…>"`
//! cannot hide the `expires` beside it. Contacts no phone can be called at (`<>`, `tel:`,
//! a URI without a host) are refused.

/// One parsed contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The URI, e.g. `sip:1001@192.0.2.7:5062;transport=tcp`.
    pub uri: String,
    /// `expires=` of the contact, when given.
    pub expires: Option<u32>,
    /// `+sip.instance` (quotes removed), when given.
    pub instance: Option<String>,
    /// `reg-id`, when given.
    pub reg_id: Option<u32>,
}

/// Why a contact cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("empty contact URI")]
    Empty,
    #[error("contact {0:?} is not a sip: or sips: URI")]
    Scheme(String),
    #[error("contact {0:?} has no host")]
    NoHost(String),
    #[error("contact {0:?} is not closed by '>'")]
    Unclosed(String),
    #[error("contact parameter {name}={value:?} is not a number")]
    BadNumber { name: &'static str, value: String },
}

/// Parses one contact (already split from its siblings at top-level commas).
pub fn parse(value: &str) -> Result<Contact, ContactError> {
    let value = value.trim();
    let (uri, params) = match value.find('<') {
        Some(open) => {
            let close = value[open..]
                .find('>')
                .map(|i| open + i)
                .ok_or_else(|| ContactError::Unclosed(value.to_string()))?;
            (value[open + 1..close].trim(), &value[close + 1..])
        }
        // A bare URI: its parameters are the contact's (RFC 3261 §20.10).
        None => match value.split_once(';') {
            Some((uri, params)) => (uri.trim(), params),
            None => (value, ""),
        },
    };
    if uri.is_empty() {
        return Err(ContactError::Empty);
    }
    let lower = uri.to_ascii_lowercase();
    let rest = match lower.split_once(':') {
        Some(("sip", rest)) | Some(("sips", rest)) => rest,
        _ => return Err(ContactError::Scheme(uri.to_string())),
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = host.split([';', '?']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(ContactError::NoHost(uri.to_string()));
    }
    let mut contact = Contact {
        uri: uri.to_string(),
        expires: None,
        instance: None,
        reg_id: None,
    };
    for param in split_params(params) {
        let (name, val) = param.split_once('=').unwrap_or((param, ""));
        let (name, val) = (name.trim(), val.trim());
        let number = |name: &'static str| {
            val.parse::<u32>().map_err(|_| ContactError::BadNumber {
                name,
                value: val.to_string(),
            })
        };
        match name.to_ascii_lowercase().as_str() {
            "expires" => contact.expires = Some(number("expires")?),
            "reg-id" => contact.reg_id = Some(number("reg-id")?),
            "+sip.instance" => contact.instance = Some(val.trim_matches('"').to_string()),
            _ => {}
        }
    }
    Ok(contact)
}

/// Splits `;a=1;b="x;y"` on the semicolons outside quotes.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_instance_hides_no_parameter() {
        let c = parse(r#"<sip:1001@192.0.2.7:5062;transport=tcp>;expires=0;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1"#).unwrap();
        assert_eq!(c.uri, "sip:1001@192.0.2.7:5062;transport=tcp");
        assert_eq!(c.expires, Some(0));
        assert_eq!(c.reg_id, Some(1));
        assert_eq!(
            c.instance.as_deref(),
            Some("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>")
        );
        let c = parse(r#"<sip:1001@h>;+sip.instance="<urn:uuid:1;x>";expires=120"#).unwrap();
        assert_eq!(c.expires, Some(120));
        let c = parse("sip:1001@h:5060;expires=300").unwrap();
        assert_eq!((c.uri.as_str(), c.expires), ("sip:1001@h:5060", Some(300)));
    }

    #[test]
    fn contacts_no_phone_answers_at_are_refused() {
        assert_eq!(parse("<>"), Err(ContactError::Empty));
        assert!(matches!(
            parse("<tel:+8687163111111>"),
            Err(ContactError::Scheme(_))
        ));
        assert!(matches!(parse("<sip:1001@>"), Err(ContactError::NoHost(_))));
        assert!(matches!(
            parse("<sip:1001@h"),
            Err(ContactError::Unclosed(_))
        ));
        assert!(matches!(
            parse("<sip:1001@h>;expires=soon"),
            Err(ContactError::BadNumber {
                name: "expires",
                ..
            })
        ));
    }
}
