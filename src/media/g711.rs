//! G.711 (PCMU and PCMA), the codecs every phone speaks. The companding itself comes from the
//! `audio-codec-algorithms` crate (small, CC0, no_std, exhaustively tested against the ITU
//! tables); this file maps codecs to RTP payload types and works on whole buffers. On the
//! packet path each law is a table lookup: the crate's functions are evaluated once for every
//! 16-bit sample and every byte (64 KiB + 512 B per law, built on first use).

use std::sync::OnceLock;

/// One law's lookup tables, filled from `audio-codec-algorithms`.
struct Tables {
    /// Indexed by the sample's bits (`s as u16`).
    encode: Box<[u8; 65536]>,
    decode: [i16; 256],
}

impl Tables {
    fn build(encode: fn(i16) -> u8, decode: fn(u8) -> i16) -> Tables {
        let mut enc = Box::new([0u8; 65536]);
        for (i, e) in enc.iter_mut().enumerate() {
            *e = encode(i as u16 as i16);
        }
        let mut dec = [0i16; 256];
        for (i, d) in dec.iter_mut().enumerate() {
            *d = decode(i as u8);
        }
        Tables {
            encode: enc,
            decode: dec,
        }
    }
}

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

    fn tables(self) -> &'static Tables {
        static ULAW: OnceLock<Tables> = OnceLock::new();
        static ALAW: OnceLock<Tables> = OnceLock::new();
        match self {
            Codec::Pcmu => ULAW.get_or_init(|| {
                Tables::build(
                    audio_codec_algorithms::encode_ulaw,
                    audio_codec_algorithms::decode_ulaw,
                )
            }),
            Codec::Pcma => ALAW.get_or_init(|| {
                Tables::build(
                    audio_codec_algorithms::encode_alaw,
                    audio_codec_algorithms::decode_alaw,
                )
            }),
        }
    }

    /// Encodes 16-bit linear samples.
    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        let t = self.tables();
        samples
            .iter()
            .map(|&s| t.encode[s as u16 as usize])
            .collect()
    }

    /// Decodes to 16-bit linear samples.
    pub fn decode(self, bytes: &[u8]) -> Vec<i16> {
        let t = self.tables();
        bytes.iter().map(|&b| t.decode[b as usize]).collect()
    }

    /// Encodes into `out` (as many samples as both hold); no allocation.
    pub fn encode_into(self, samples: &[i16], out: &mut [u8]) -> usize {
        let t = self.tables();
        for (o, &s) in out.iter_mut().zip(samples) {
            *o = t.encode[s as u16 as usize];
        }
        samples.len().min(out.len())
    }

    /// Decodes into `out` (as many bytes as both hold); no allocation.
    pub fn decode_into(self, bytes: &[u8], out: &mut [i16]) -> usize {
        let t = self.tables();
        for (o, &b) in out.iter_mut().zip(bytes) {
            *o = t.decode[b as usize];
        }
        bytes.len().min(out.len())
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
    fn the_tables_are_the_crates_laws_for_every_sample_and_byte() {
        for s in i16::MIN..=i16::MAX {
            assert_eq!(
                Codec::Pcmu.encode(&[s])[0],
                audio_codec_algorithms::encode_ulaw(s)
            );
            assert_eq!(
                Codec::Pcma.encode(&[s])[0],
                audio_codec_algorithms::encode_alaw(s)
            );
        }
        for b in 0..=255u8 {
            assert_eq!(
                Codec::Pcmu.decode(&[b])[0],
                audio_codec_algorithms::decode_ulaw(b)
            );
            assert_eq!(
                Codec::Pcma.decode(&[b])[0],
                audio_codec_algorithms::decode_alaw(b)
            );
        }
    }

    #[test]
    fn coding_in_place_matches_coding_to_a_vec() {
        let samples: Vec<i16> = (0..160).map(|i| (i * 409 - 32000) as i16).collect();
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut bytes = [0u8; 160];
            assert_eq!(codec.encode_into(&samples, &mut bytes), 160);
            assert_eq!(bytes.to_vec(), codec.encode(&samples));
            let mut back = [0i16; 160];
            assert_eq!(codec.decode_into(&bytes, &mut back), 160);
            assert_eq!(back.to_vec(), codec.decode(&bytes));
        }
    }

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
