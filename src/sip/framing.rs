//! Stream framing for SIP over TCP (RFC 3261 §18.3): a message ends after the blank line that
//! closes its headers plus `Content-Length` bytes of body. Pure functions, tested without sockets.

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

/// What the front of a stream buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet for a whole message.
    Incomplete,
    /// `n` bytes of keep-alive CRLFs (RFC 5626 §4.4.1) to skip.
    KeepAlive(usize),
    /// A complete message occupies the first `n` bytes.
    Message(usize),
}

/// Looks at the start of `buf` and says whether a whole SIP message is there.
pub fn next_frame(buf: &[u8]) -> Result<Frame, FramingError> {
    let crlfs = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    if crlfs > 0 {
        return Ok(Frame::KeepAlive(crlfs));
    }
    let Some(header_end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_MESSAGE_BYTES {
            Err(FramingError::TooLarge)
        } else {
            Ok(Frame::Incomplete)
        };
    };
    let head = String::from_utf8_lossy(&buf[..header_end]);
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
    let length = length.ok_or(FramingError::MissingContentLength)?;
    let total = header_end + 4 + length;
    if total > MAX_MESSAGE_BYTES {
        return Err(FramingError::TooLarge);
    }
    Ok(if buf.len() >= total {
        Frame::Message(total)
    } else {
        Frame::Incomplete
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nbody";

    #[test]
    fn whole_message_is_framed_by_content_length() {
        assert_eq!(next_frame(OPTIONS), Ok(Frame::Message(OPTIONS.len())));
        let mut two = OPTIONS.to_vec();
        two.extend_from_slice(OPTIONS);
        assert_eq!(next_frame(&two), Ok(Frame::Message(OPTIONS.len())));
    }

    #[test]
    fn partial_headers_or_body_wait_for_more() {
        assert_eq!(next_frame(&OPTIONS[..20]), Ok(Frame::Incomplete));
        assert_eq!(
            next_frame(&OPTIONS[..OPTIONS.len() - 1]),
            Ok(Frame::Incomplete)
        );
    }

    #[test]
    fn keepalive_crlfs_are_skipped() {
        assert_eq!(next_frame(b"\r\n\r\nOPT"), Ok(Frame::KeepAlive(4)));
    }

    #[test]
    fn compact_header_form_is_understood() {
        let m = b"BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n";
        assert_eq!(next_frame(m), Ok(Frame::Message(m.len())));
    }

    #[test]
    fn missing_or_bad_length_and_oversize_are_errors() {
        assert_eq!(
            next_frame(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"),
            Err(FramingError::MissingContentLength)
        );
        assert_eq!(
            next_frame(b"BYE sip:a@b SIP/2.0\r\nContent-Length: ten\r\n\r\n"),
            Err(FramingError::BadContentLength("ten".into()))
        );
        let big = vec![b'A'; MAX_MESSAGE_BYTES + 1];
        assert_eq!(next_frame(&big), Err(FramingError::TooLarge));
        assert_eq!(
            next_frame(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 999999\r\n\r\n"),
            Err(FramingError::TooLarge)
        );
    }
}
