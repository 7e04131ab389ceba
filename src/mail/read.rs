//! Reading a mail with mail-parser: the sender, the subject, the text (a text part, or the
//! HTML part turned into text), the ids it answers, and its attachments, in whatever charset
//! it was written (GB18030, GBK, GB2312, UTF-8, through encoding_rs), refused with a reason
//! when it is not a mail a request can be read from.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// A mail as a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMail {
    /// The From address (lower case).
    pub from: String,
    pub subject: String,
    pub text: String,
    pub message_id: Option<String>,
    /// In-Reply-To and References, nearest first.
    pub answers: Vec<String>,
    /// (file name, content type, bytes).
    pub attachments: Vec<(String, String, Vec<u8>)>,
    /// An automatic reply or a bounce: not a request (RFC 3834 Auto-Submitted, a null sender).
    pub automatic: bool,
}

/// Why a mail was refused; each is told to the sending server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not a mail: no header could be read")]
    Malformed,
    #[error("no sender address in From")]
    NoSender,
    #[error("the mail has neither subject nor text")]
    Empty,
    #[error("attachment {name:?} is {size} bytes, more than the {max} allowed")]
    AttachmentTooLarge {
        name: String,
        size: usize,
        max: usize,
    },
    #[error("{count} attachments, more than the {max} allowed")]
    TooManyAttachments { count: usize, max: usize },
}

/// Limits on what a mail may carry.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_attachment: usize,
    pub max_attachments: usize,
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().rev().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Reads `raw` (the DATA of an SMTP transaction); `envelope_from` is MAIL FROM.
pub fn read(raw: &[u8], envelope_from: &str, limits: Limits) -> Result<ReadMail, Refused> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Refused::Malformed)?;
    if message.headers().is_empty() {
        return Err(Refused::Malformed);
    }
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| a.contains('@'))
        .or_else(|| {
            let e = envelope_from
                .trim()
                .trim_matches(['<', '>'])
                .to_ascii_lowercase();
            e.contains('@').then_some(e)
        });
    let automatic = envelope_from.trim().trim_matches(['<', '>']).is_empty()
        || message
            .header("Auto-Submitted")
            .and_then(|h| h.as_text())
            .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
    let from = match from {
        Some(f) => f,
        None if automatic => String::new(),
        None => return Err(Refused::NoSender),
    };
    let subject = message.subject().unwrap_or("").trim().to_string();
    let text = message
        .body_text(0)
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    if subject.is_empty() && text.is_empty() && message.attachment_count() == 0 {
        return Err(Refused::Empty);
    }
    let mut answers = ids(message.in_reply_to());
    for r in ids(message.references()) {
        if !answers.contains(&r) {
            answers.push(r);
        }
    }
    let count = message.attachment_count();
    if count > limits.max_attachments {
        return Err(Refused::TooManyAttachments {
            count,
            max: limits.max_attachments,
        });
    }
    let mut attachments = Vec::with_capacity(count);
    for part in message.attachments() {
        let name = part.attachment_name().unwrap_or("附件").to_string();
        let bytes = part.contents();
        if bytes.len() > limits.max_attachment {
            return Err(Refused::AttachmentTooLarge {
                name,
                size: bytes.len(),
                max: limits.max_attachment,
            });
        }
        let ctype = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        attachments.push((name, ctype, bytes.to_vec()));
    }
    Ok(ReadMail {
        from,
        subject,
        text,
        message_id: message.message_id().map(str::to_string),
        answers,
        attachments,
        automatic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_attachment: 1024,
        max_attachments: 2,
    };

    fn gb18030(s: &str) -> Vec<u8> {
        encoding_rs::GB18030.encode(s).0.into_owned()
    }

    #[test]
    fn a_gb18030_mail_with_an_attachment_reads() {
        let mut raw = b"From: =?GB18030?B?".to_vec();
        raw.extend(base64(&gb18030("张三")));
        raw.extend(b"?= <Zhang@Example.cn>\r\nTo: 12345@km.example.cn\r\nSubject: =?GB18030?B?");
        raw.extend(base64(&gb18030("路灯不亮")));
        raw.extend(b"?=\r\nMessage-ID: <a1@example.cn>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=GB18030\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        raw.extend(gb18030("北京路的路灯坏了一周。"));
        raw.extend(b"\r\n--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"door.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n");
        let mail = read(&raw, "zhang@example.cn", LIMITS).unwrap();
        assert_eq!(mail.from, "zhang@example.cn");
        assert_eq!(mail.subject, "路灯不亮");
        assert_eq!(mail.text, "北京路的路灯坏了一周。");
        assert_eq!(mail.message_id.as_deref(), Some("a1@example.cn"));
        assert_eq!(
            mail.attachments,
            vec![("door.jpg".into(), "image/jpeg".into(), b"hello".to_vec())]
        );
        assert!(!mail.automatic);
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let raw = b"From: a@example.cn\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>\xe4\xbd\xa0\xe5\xa5\xbd<b>world</b></p>\r\n";
        let mail = read(raw, "a@example.cn", LIMITS).unwrap();
        assert!(mail.text.contains("你好"), "{:?}", mail.text);
        assert!(!mail.text.contains("<p>"));
    }

    #[test]
    fn bad_mail_is_refused_with_its_reason() {
        assert_eq!(read(b"", "a@example.cn", LIMITS), Err(Refused::Malformed));
        assert_eq!(
            read(b"Subject: hi\r\n\r\nbody\r\n", "", LIMITS).map(|m| m.automatic),
            Ok(true),
            "a bounce is read but is automatic"
        );
        assert_eq!(
            read(b"Subject: hi\r\n\r\nbody\r\n", "nobody", LIMITS),
            Err(Refused::NoSender)
        );
        assert_eq!(
            read(
                b"From: a@example.cn\r\nSubject: \r\n\r\n",
                "a@example.cn",
                LIMITS
            ),
            Err(Refused::Empty)
        );
        let big = format!(
            "From: a@example.cn\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nt\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=big.pdf\r\n\r\n{}\r\n--b--\r\n",
            "x".repeat(2000)
        );
        assert!(matches!(
            read(big.as_bytes(), "a@example.cn", LIMITS),
            Err(Refused::AttachmentTooLarge { size: 2000, .. })
        ));
    }

    #[test]
    fn auto_replies_are_automatic() {
        let raw = b"From: a@example.cn\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\naway\r\n";
        assert!(read(raw, "a@example.cn", LIMITS).unwrap().automatic);
    }

    fn base64(b: &[u8]) -> Vec<u8> {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for c in b.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize]);
                } else {
                    out.push(b'=');
                }
            }
        }
        out
    }
}
