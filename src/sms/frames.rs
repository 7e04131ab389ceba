//! SMPP framing: each PDU is cut from the stream by its command_length (16 bytes to
//! [`MAX_PDU`]) and only then decoded by rusmpp, so that a PDU rusmpp cannot read is one
//! [`Frame::Bad`] (answered with generic_nack) rather than a broken stream. A length outside
//! the bounds cannot be framed at all: that ends the session.

use bytes::{Buf, BytesMut};
use rusmpp::decode::DecodeWithLength;
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::Command;
use tokio_util::codec::{Decoder, Encoder};

/// The largest PDU taken (a submit_sm or deliver_sm with a full message and TLVs is far
/// below).
pub const MAX_PDU: usize = 8192;

/// One PDU off the wire.
#[derive(Debug)]
pub enum Frame {
    Command(Box<Command>),
    /// A PDU rusmpp could not read: its header, for the generic_nack.
    Bad {
        command_id: u32,
        sequence: u32,
        reason: String,
    },
}

/// Why the stream cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("PDU length {0} outside 16..={MAX_PDU}")]
    Length(usize),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The codec: our framing in, rusmpp's encoder out.
#[derive(Default)]
pub struct Frames {
    out: CommandCodec,
}

impl Decoder for Frames {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let length = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if !(16..=MAX_PDU).contains(&length) {
            return Err(FrameError::Length(length));
        }
        if src.len() < length {
            src.reserve(length - src.len());
            return Ok(None);
        }
        let mut pdu = src.split_to(length);
        let command_id = u32::from_be_bytes([pdu[4], pdu[5], pdu[6], pdu[7]]);
        let sequence = u32::from_be_bytes([pdu[12], pdu[13], pdu[14], pdu[15]]);
        pdu.advance(4);
        let body = length - 4;
        Ok(Some(match Command::decode(&mut pdu, body) {
            Ok((command, used)) if used == body => Frame::Command(Box::new(command)),
            Ok((_, used)) => Frame::Bad {
                command_id,
                sequence,
                reason: format!("{} bytes left over", body - used),
            },
            Err(e) => Frame::Bad {
                command_id,
                sequence,
                reason: e.to_string(),
            },
        }))
    }
}

impl Encoder<Command> for Frames {
    type Error = std::io::Error;

    fn encode(&mut self, command: Command, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        self.out.encode(command, dst).map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusmpp::{CommandStatus, Pdu};

    #[test]
    fn good_bad_and_unframeable_pdus() {
        let mut codec = Frames::default();
        let mut buf = BytesMut::new();
        codec
            .encode(
                Command::new(CommandStatus::EsmeRok, 7, Pdu::EnquireLink),
                &mut buf,
            )
            .unwrap();
        // A submit_sm whose body is cut short: framed, but not readable.
        buf.extend_from_slice(&[0, 0, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, 0xFF, 0xFF]);
        match codec.decode(&mut buf).unwrap() {
            Some(Frame::Command(c)) => assert_eq!(c.sequence_number(), 7),
            other => panic!("{other:?}"),
        }
        match codec.decode(&mut buf).unwrap() {
            Some(Frame::Bad {
                command_id,
                sequence,
                ..
            }) => {
                assert_eq!((command_id, sequence), (4, 9));
            }
            other => panic!("{other:?}"),
        }
        assert!(buf.is_empty(), "the bad PDU was consumed whole");
        buf.extend_from_slice(&[0, 0, 0, 3]);
        assert!(matches!(codec.decode(&mut buf), Err(FrameError::Length(3))));
        let mut half = BytesMut::from(&[0u8, 0, 0, 16, 0, 0][..]);
        assert!(
            codec.decode(&mut half).unwrap().is_none(),
            "waits for the rest"
        );
    }
}
