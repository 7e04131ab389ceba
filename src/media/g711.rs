//! G.711 (PCMU and PCMA), the codecs every phone speaks. The companding itself comes from the
//! `audio-codec-algorithms` crate (small, CC0, no_std, exhaustively tested against the ITU
//! tables); this file maps codecs to RTP payload types and works on whole buffers.

/// A G.711 law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// μ-law, RTP payload type 0.
    Pcmu,
    /// A-law, RTP payload type 8.
    Pcma,
}

impl Codec {
    /// The static RTP payload type (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec of a static payload type.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The encoding name in SDP.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec of an SDP encoding name.
    pub fn from_name(name: &str) -> Option<Codec> {
        match name.to_ascii_uppercase().as_str() {
            "PCMU" => Some(Codec::Pcmu),
            "PCMA" => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// Encodes 16-bit linear samples.
    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        let f = match self {
            Codec::Pcmu => audio_codec_algorithms::encode_ulaw,
            Codec::Pcma => audio_codec_algorithms::encode_alaw,
        };
        samples.iter().map(|&s| f(s)).collect()
    }

    /// Decodes to 16-bit linear samples.
    pub fn decode(self, bytes: &[u8]) -> Vec<i16> {
        let f = match self {
            Codec::Pcmu => audio_codec_algorithms::decode_ulaw,
            Codec::Pcma => audio_codec_algorithms::decode_alaw,
        };
        bytes.iter().map(|&b| f(b)).collect()
    }

    /// The byte that decodes to silence.
    pub fn silence(self) -> u8 {
        self.encode(&[0])[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_round_trips() {
        assert_eq!(Codec::Pcmu.encode(&[0]), [0xFF]);
        assert_eq!(Codec::Pcma.encode(&[0]), [0xD5]);
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for s in (i16::MIN..=i16::MAX).step_by(7) {
                let back = codec.decode(&codec.encode(&[s]))[0];
                let err = (back as i32 - s as i32).abs();
                // The quantisation step grows with the level: at most 1/16 of it, plus a bit.
                assert!(err <= (s as i32).abs() / 16 + 16, "{codec:?} {s} -> {back}");
            }
            assert_eq!(Codec::from_payload_type(codec.payload_type()), Some(codec));
            assert_eq!(Codec::from_name(codec.name()), Some(codec));
        }
    }
}
