//! Helpers over rsip messages: header lookup by name (full or compact form), header
//! parameters, the parts of Via, From, To, CSeq and URIs, and building responses.
//!
//! rsip parses the message; these helpers read header values as text, which keeps the rest of
//! the SIP code independent of which headers rsip happens to type and tolerant of what real
//! phones send (compact names, odd spacing, `tel:` URIs).

use rand::Rng;
use rsip::message::HasHeaders;

/// The full name of a compact header name (RFC 3261 §7.3.3), lower-case.
fn canonical(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "v" => "via",
        "f" => "from",
        "t" => "to",
        "i" => "call-id",
        "m" => "contact",
        "l" => "content-length",
        "c" => "content-type",
        "k" => "supported",
        "s" => "subject",
        "e" => "content-encoding",
        _ => return lower,
    }
    .to_string()
}

/// Every value of header `name` in order; a header line with several comma-separated Via
/// values gives each one.
pub fn header_values(msg: &impl HasHeaders, name: &str) -> Vec<String> {
    let want = canonical(name);
    let mut out = Vec::new();
    for h in msg.headers().iter() {
        let text = h.to_string();
        let Some((n, v)) = text.split_once(':') else {
            continue;
        };
        if canonical(n) != want {
            continue;
        }
        if want == "via" {
            out.extend(split_commas(v).into_iter().map(|s| s.trim().to_string()));
        } else {
            out.push(v.trim().to_string());
        }
    }
    out
}

/// The first value of header `name`.
pub fn header_value(msg: &impl HasHeaders, name: &str) -> Option<String> {
    header_values(msg, name).into_iter().next()
}

/// Splits a header value on commas outside quotes and angle brackets.
pub fn split_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A header parameter (`;tag=…`, `;branch=…`) of a value, outside any `<…>` URI.
pub fn param(value: &str, name: &str) -> Option<String> {
    let params = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value.split_once(';').map_or("", |(_, p)| p),
    };
    params
        .split(';')
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_string())
        })
        .next()
}

/// True when a header value has parameter `name`, with or without a value (e.g. `rport`).
pub fn has_param(value: &str, name: &str) -> bool {
    param(value, name).is_some()
}

/// The top Via.
pub fn top_via(msg: &impl HasHeaders) -> Option<String> {
    header_values(msg, "via").into_iter().next()
}

/// The branch of a Via value.
pub fn via_branch(via: &str) -> Option<String> {
    param(via, "branch").filter(|b| !b.is_empty())
}

/// The sent-by (host and port) of a Via value: `SIP/2.0/UDP 10.0.0.1:5060;…` → `10.0.0.1:5060`.
pub fn via_sent_by(via: &str) -> Option<String> {
    let rest = via.trim();
    let (_proto, rest) = rest.split_once(char::is_whitespace)?;
    let sent_by = rest.trim().split(';').next()?.trim();
    (!sent_by.is_empty()).then(|| sent_by.to_ascii_lowercase())
}

/// The Call-ID.
pub fn call_id(msg: &impl HasHeaders) -> Option<String> {
    header_value(msg, "call-id").filter(|v| !v.is_empty())
}

/// The Call-ID of a request.
pub fn call_id_of(req: &rsip::Request) -> Option<String> {
    call_id(req)
}

/// The CSeq number and method.
pub fn cseq(msg: &impl HasHeaders) -> Option<(u32, String)> {
    let v = header_value(msg, "cseq")?;
    let mut parts = v.split_whitespace();
    let n = parts.next()?.parse().ok()?;
    let method = parts.next()?.to_ascii_uppercase();
    Some((n, method))
}

/// The tag of the To header.
pub fn to_tag(msg: &impl HasHeaders) -> Option<String> {
    header_value(msg, "to")
        .and_then(|v| param(&v, "tag"))
        .filter(|t| !t.is_empty())
}

/// The tag of the From header.
pub fn from_tag(msg: &impl HasHeaders) -> Option<String> {
    header_value(msg, "from")
        .and_then(|v| param(&v, "tag"))
        .filter(|t| !t.is_empty())
}

/// The URI inside a name-addr (`"A" <sip:a@b>;tag=x` → `sip:a@b`) or an addr-spec.
pub fn addr_uri(value: &str) -> String {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if b > a => value[a + 1..b].trim().to_string(),
        _ => value.split(';').next().unwrap_or("").trim().to_string(),
    }
}

/// The user part of a `sip:`, `sips:` or `tel:` URI (anywhere in `value`).
pub fn uri_user(value: &str) -> Option<String> {
    let uri = addr_uri(value);
    let lower = uri.to_ascii_lowercase();
    let rest = if lower.starts_with("sips:") {
        &uri[5..]
    } else if lower.starts_with("sip:") || lower.starts_with("tel:") {
        &uri[4..]
    } else {
        return None;
    };
    let user = if lower.starts_with("tel:") {
        rest.split(';').next()?
    } else {
        rest.split_once('@')?.0.split(';').next()?
    };
    let user = user.trim();
    (!user.is_empty()).then(|| user.to_string())
}

/// The user of the Request-URI (the called number).
pub fn request_uri_user(req: &rsip::Request) -> Option<String> {
    uri_user(&req.uri.to_string())
}

/// The user of the From header (the caller as the phone states it).
pub fn from_user(req: &rsip::Request) -> Option<String> {
    header_value(req, "from").and_then(|v| uri_user(&v))
}

/// The user of the first P-Asserted-Identity (the caller as the network asserts it).
pub fn asserted_identity_user(req: &rsip::Request) -> Option<String> {
    header_values(req, "p-asserted-identity")
        .iter()
        .flat_map(|v| split_commas(v))
        .find_map(uri_user)
}

/// A response to `req`: Via, From, To (with `to_tag` added when it has none), Call-ID and
/// CSeq copied (RFC 3261 §8.2.6.2), an empty body.
pub fn response_for(
    req: &rsip::Request,
    status: rsip::StatusCode,
    to_tag: Option<&str>,
) -> rsip::Response {
    let mut headers = rsip::Headers::default();
    for via in header_values(req, "via") {
        headers.push(rsip::Header::Other("Via".into(), via));
    }
    if let Some(from) = header_value(req, "from") {
        headers.push(rsip::Header::Other("From".into(), from));
    }
    if let Some(mut to) = header_value(req, "to") {
        if let Some(tag) = to_tag {
            if param(&to, "tag").is_none() && status.code() > 100 {
                to = format!("{to};tag={tag}");
            }
        }
        headers.push(rsip::Header::Other("To".into(), to));
    }
    if let Some(cid) = header_value(req, "call-id") {
        headers.push(rsip::Header::Other("Call-ID".into(), cid));
    }
    if let Some(cseq) = header_value(req, "cseq") {
        headers.push(rsip::Header::Other("CSeq".into(), cseq));
    }
    headers.push(rsip::Header::Other("Server".into(), "hotline12345".into()));
    headers.push(rsip::Header::Other("Content-Length".into(), "0".into()));
    rsip::Response {
        status_code: status,
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}

/// Replaces the body of a message and its Content-Type and Content-Length.
pub fn set_body(msg: &mut impl BodyMut, content_type: &str, body: Vec<u8>) {
    msg.headers_mut().retain(|h| {
        let text = h.to_string();
        let name = text.split_once(':').map_or("", |(n, _)| n);
        !matches!(canonical(name).as_str(), "content-type" | "content-length")
    });
    msg.headers_mut().push(rsip::Header::Other(
        "Content-Type".into(),
        content_type.into(),
    ));
    msg.headers_mut().push(rsip::Header::Other(
        "Content-Length".into(),
        body.len().to_string(),
    ));
    *msg.body_mut() = body;
}

/// Messages with a body (requests and responses).
pub trait BodyMut: HasHeaders {
    /// The body.
    fn body_mut(&mut self) -> &mut Vec<u8>;
}

impl BodyMut for rsip::Response {
    fn body_mut(&mut self) -> &mut Vec<u8> {
        &mut self.body
    }
}

impl BodyMut for rsip::Request {
    fn body_mut(&mut self) -> &mut Vec<u8> {
        &mut self.body
    }
}

/// Removes every header named `name` (any form).
pub fn remove_header(msg: &mut impl HasHeaders, name: &str) {
    let want = canonical(name);
    msg.headers_mut().retain(|h| {
        let text = h.to_string();
        let n = text.split_once(':').map_or("", |(n, _)| n);
        canonical(n) != want
    });
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// The dialog a Refer-To's `Replaces` names (RFC 3891, escaped in the URI's headers part):
/// its Call-ID, to-tag and from-tag. None when the Refer-To has no Replaces.
pub fn replaces_of(refer_to: &str) -> Option<(String, String, String)> {
    let uri = refer_to.trim().trim_start_matches('<');
    let uri = uri.split('>').next().unwrap_or(uri);
    let (_, headers) = uri.split_once('?')?;
    let value = headers.split('&').find_map(|h| {
        let (name, value) = h.split_once('=')?;
        name.eq_ignore_ascii_case("replaces").then_some(value)
    })?;
    let value = percent_decode(value);
    let mut parts = value.split(';');
    let call_id = parts.next()?.trim().to_string();
    let (mut to_tag, mut from_tag) = (None, None);
    for p in parts {
        match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("to-tag") => {
                to_tag = Some(v.trim().to_string())
            }
            Some((k, v)) if k.trim().eq_ignore_ascii_case("from-tag") => {
                from_tag = Some(v.trim().to_string())
            }
            _ => {}
        }
    }
    if call_id.is_empty() || call_id.contains('%') {
        return None;
    }
    Some((call_id, to_tag?, from_tag?))
}

/// `%xx` escapes decoded (bytes that do not make UTF-8 are replaced).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A fresh From/To tag.
pub fn new_tag() -> String {
    random_hex(6)
}

/// A fresh Via branch (RFC 3261 magic cookie first).
pub fn new_branch() -> String {
    format!("z9hG4bK{}", random_hex(10))
}

/// A fresh Call-ID at `host`.
pub fn new_call_id(host: &str) -> String {
    format!("{}@{host}", random_hex(12))
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_dialog_a_refer_to_replaces() {
        let refer_to = "<sip:1002@127.0.0.1:5060?Replaces=b%2F%2F%2Fabc%40host%3Bto-tag%3Dours%3Bfrom-tag%3Dtheirs>";
        assert_eq!(
            super::replaces_of(refer_to),
            Some(("b///abc@host".into(), "ours".into(), "theirs".into()))
        );
        // Parameters in either order, other headers around it.
        let refer_to = "<sip:1002@host?X=1&replaces=id1%3Bfrom-tag%3Df%3Bto-tag%3Dt>;method=INVITE";
        assert_eq!(
            super::replaces_of(refer_to),
            Some(("id1".into(), "t".into(), "f".into()))
        );
        assert_eq!(super::replaces_of("<sip:530000@host>"), None);
        assert_eq!(
            super::replaces_of("<sip:1002@host?Replaces=id1%3Bto-tag%3Dt>"),
            None
        );
        assert_eq!(super::replaces_of("<sip:1002@host?Replaces=%zz>"), None);
        // A hostile escape beside a multi-byte character is no panic.
        assert_eq!(
            super::replaces_of("<sip:1002@host?Replaces=%中%文;to-tag=a;from-tag=b>"),
            None
        );
    }

    use super::*;

    fn invite() -> rsip::Request {
        let text = "INVITE sip:087212345@127.0.0.1:5060 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport\r\n\
            v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy\r\n\
            Max-Forwards: 70\r\n\
            f: \"Caller\" <sip:+8687163601234@127.0.0.1>;tag=ft1\r\n\
            To: <sip:087212345@127.0.0.1>\r\n\
            i: call-1@127.0.0.1\r\n\
            CSeq: 7 INVITE\r\n\
            P-Asserted-Identity: \"PBX\" <tel:+8687163605555>, <sip:x@y>\r\n\
            Content-Length: 0\r\n\r\n";
        rsip::Request::try_from(text).unwrap()
    }

    #[test]
    fn reads_headers_in_any_form() {
        let req = invite();
        assert_eq!(header_values(&req, "Via").len(), 2);
        assert_eq!(
            via_branch(&top_via(&req).unwrap()).as_deref(),
            Some("z9hG4bKabc")
        );
        assert_eq!(
            via_sent_by(&top_via(&req).unwrap()).as_deref(),
            Some("127.0.0.1:5070")
        );
        assert!(has_param(&top_via(&req).unwrap(), "rport"));
        assert_eq!(call_id_of(&req).as_deref(), Some("call-1@127.0.0.1"));
        assert_eq!(cseq(&req), Some((7, "INVITE".into())));
        assert_eq!(from_tag(&req).as_deref(), Some("ft1"));
        assert_eq!(to_tag(&req), None);
        assert_eq!(request_uri_user(&req).as_deref(), Some("087212345"));
        assert_eq!(from_user(&req).as_deref(), Some("+8687163601234"));
        assert_eq!(
            asserted_identity_user(&req).as_deref(),
            Some("+8687163605555")
        );
    }

    #[test]
    fn builds_responses() {
        let req = invite();
        let mut ok = response_for(&req, rsip::StatusCode::OK, Some("tt1"));
        assert_eq!(to_tag(&ok).as_deref(), Some("tt1"));
        assert_eq!(header_values(&ok, "via").len(), 2, "all Vias, in order");
        set_body(&mut ok, "application/sdp", b"v=0\r\n".to_vec());
        let text = ok.to_string();
        assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Length: 5\r\n"), "{text}");
        assert_eq!(header_values(&ok, "content-length").len(), 1);
        // It parses back.
        let back = rsip::Response::try_from(text.as_str()).unwrap();
        assert_eq!(cseq(&back), Some((7, "INVITE".into())));
        // 100 Trying carries no tag.
        let trying = response_for(&req, rsip::StatusCode::Trying, Some("tt1"));
        assert_eq!(to_tag(&trying), None);
    }

    #[test]
    fn uri_users() {
        assert_eq!(
            uri_user("<sips:alice@example.com;transport=tls>").as_deref(),
            Some("alice")
        );
        assert_eq!(
            uri_user("tel:+8687163605555;phone-context=x").as_deref(),
            Some("+8687163605555")
        );
        assert_eq!(uri_user("sip:example.com"), None);
        assert_eq!(uri_user("mailto:a@b"), None);
        assert!(new_branch().starts_with("z9hG4bK"));
        assert_ne!(new_tag(), new_tag());
    }
}
