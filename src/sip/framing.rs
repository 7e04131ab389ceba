//! Stream framing for SIP over TCP and TLS (RFC 3261 §18.3): a message ends after the blank line
//! that closes its headers plus `Content-Length` bytes of body. Pure and incremental: each byte
//! is looked at once, however slowly a peer sends, so a few slow senders with large headers
//! cost no more than fast ones. Tested without sockets.

/// Largest SIP message we accept on a stream; anything larger is a broken or hostile peer.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Why a byte stream cannot be split into SIP messages.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FramingError {
    /// The headers or the message grew beyond [`MAX_MESSAGE_BYTES`].
    #[error("SIP message larger than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
    /// A stream message must carry a Content-Length header (RFC 3261 §18.3).
    #[error("SIP message on a stream has no Content-Length header")]
    MissingContentLength,
    /// The Content-Length value is not a number.
    #[error("Content-Length {0:?} is not a number")]
    BadContentLength(String),
}

/// What came off the front of a stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Keep-alive CRLFs (RFC 5626 §4.4.1), already skipped.
    KeepAlive,
    /// One whole message.
    Message(Vec<u8>),
}

/// Splits one stream's bytes into SIP messages as they arrive.
///
/// It remembers how far it has searched for the end of the headers and, once found, the total
/// length of the message, so bytes are never scanned twice.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// How many bytes at the front were already searched for `\r\n\r\n`.
    scanned: usize,
    /// The whole message's length, once its headers are complete.
    total: Option<usize>,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// True while part of a message is waiting for the rest.
    pub fn is_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next frame, `None` until more bytes are needed. After an error the stream is beyond
    /// repair: the connection should be closed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FramingError> {
        if self.total.is_none() {
            let crlfs = self
                .buf
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            if crlfs > 0 {
                self.buf.drain(..crlfs);
                self.scanned = 0;
                return Ok(Some(Frame::KeepAlive));
            }
            let from = self.scanned.saturating_sub(3);
            let Some(at) = find(&self.buf[from..], b"\r\n\r\n") else {
                self.scanned = self.buf.len();
                return if self.buf.len() > MAX_MESSAGE_BYTES {
                    Err(FramingError::TooLarge)
                } else {
                    Ok(None)
                };
            };
            let header_end = from + at;
            let length = content_length(&self.buf[..header_end])?;
            let total = header_end + 4 + length;
            if total > MAX_MESSAGE_BYTES {
                return Err(FramingError::TooLarge);
            }
            self.total = Some(total);
        }
        let total = self.total.expect("set above");
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        let message = std::mem::replace(&mut self.buf, rest);
        self.total = None;
        self.scanned = 0;
        Ok(Some(Frame::Message(message)))
    }
}

/// The Content-Length of a message's header block (full or compact name).
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    let head = String::from_utf8_lossy(head);
    let mut length = None;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            let value = value.trim();
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| FramingError::BadContentLength(value.to_string()))?,
            );
        }
    }
    length.ok_or(FramingError::MissingContentLength)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nbody";

    fn frames(bytes: &[u8]) -> Result<Vec<Frame>, FramingError> {
        let mut f = Framer::new();
        f.push(bytes);
        let mut out = Vec::new();
        while let Some(frame) = f.next_frame()? {
            out.push(frame);
        }
        Ok(out)
    }

    #[test]
    fn whole_message_is_framed_by_content_length() {
        assert_eq!(frames(OPTIONS), Ok(vec![Frame::Message(OPTIONS.to_vec())]));
        let mut two = OPTIONS.to_vec();
        two.extend_from_slice(OPTIONS);
        assert_eq!(
            frames(&two),
            Ok(vec![
                Frame::Message(OPTIONS.to_vec()),
                Frame::Message(OPTIONS.to_vec())
            ])
        );
    }

    #[test]
    fn a_message_sent_one_byte_at_a_time_is_framed_once() {
        let mut f = Framer::new();
        let mut got = Vec::new();
        for (i, b) in OPTIONS.iter().enumerate() {
            f.push(&[*b]);
            if let Some(frame) = f.next_frame().unwrap() {
                got.push((i, frame));
            }
            assert!(f.scanned <= f.buf.len());
        }
        assert_eq!(
            got,
            vec![(OPTIONS.len() - 1, Frame::Message(OPTIONS.to_vec()))]
        );
        assert!(!f.is_partial());
    }

    #[test]
    fn partial_headers_or_body_wait_for_more() {
        assert_eq!(frames(&OPTIONS[..20]), Ok(vec![]));
        assert_eq!(frames(&OPTIONS[..OPTIONS.len() - 1]), Ok(vec![]));
        let mut f = Framer::new();
        f.push(&OPTIONS[..20]);
        assert_eq!(f.next_frame(), Ok(None));
        assert!(f.is_partial());
    }

    #[test]
    fn keepalive_crlfs_are_skipped() {
        let mut bytes = b"\r\n\r\n".to_vec();
        bytes.extend_from_slice(OPTIONS);
        assert_eq!(
            frames(&bytes),
            Ok(vec![Frame::KeepAlive, Frame::Message(OPTIONS.to_vec())])
        );
    }

    #[test]
    fn compact_header_form_is_understood() {
        let m = b"BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n";
        assert_eq!(frames(m), Ok(vec![Frame::Message(m.to_vec())]));
    }

    #[test]
    fn missing_or_bad_length_and_oversize_are_errors() {
        assert_eq!(
            frames(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"),
            Err(FramingError::MissingContentLength)
        );
        assert_eq!(
            frames(b"BYE sip:a@b SIP/2.0\r\nContent-Length: ten\r\n\r\n"),
            Err(FramingError::BadContentLength("ten".into()))
        );
        let big = vec![b'A'; MAX_MESSAGE_BYTES + 1];
        assert_eq!(frames(&big), Err(FramingError::TooLarge));
        assert_eq!(
            frames(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 999999\r\n\r\n"),
            Err(FramingError::TooLarge)
        );
    }
}
