//! A long SMS arrives as several short messages, each starting with a user data header (UDH,
//! 3GPP TS 23.040 9.2.3.24) that names the message (a reference), how many parts it has and
//! which part this is. [`Reassembly`] keeps the parts until all have come and then gives the
//! whole; [`text_of`] reads the bytes in their data coding (UCS-2 for Chinese).
//!
//! A peer may send anything: a header longer than its message, part 0 of 0, parts that never
//! complete. Such input is refused or expires; what is kept at once is bounded.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// What the UDH says of one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The message's reference (8 or 16 bits), the same on every part.
    pub reference: u16,
    /// How many parts in all.
    pub total: u8,
    /// This part, from 1.
    pub number: u8,
}

/// Why a short message's bytes cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    #[error("the user data header is longer than the message")]
    HeaderTooLong,
    #[error("part {number} of {total} is not a part")]
    BadPart { number: u8, total: u8 },
    #[error("the message is not valid {0}")]
    BadText(&'static str),
}

/// Splits a short message into its concatenation part (when its UDH has one) and its text
/// bytes. `udhi` is the UDH indicator of its esm_class (0x40).
pub fn split_udh(udhi: bool, message: &[u8]) -> Result<(Option<Part>, &[u8]), PartError> {
    if !udhi {
        return Ok((None, message));
    }
    let length = *message.first().ok_or(PartError::HeaderTooLong)? as usize;
    let header = message.get(1..1 + length).ok_or(PartError::HeaderTooLong)?;
    let body = &message[1 + length..];
    let mut part = None;
    let mut i = 0;
    while i + 2 <= header.len() {
        let (id, len) = (header[i], header[i + 1] as usize);
        let value = header
            .get(i + 2..i + 2 + len)
            .ok_or(PartError::HeaderTooLong)?;
        part = match (id, value) {
            (0x00, [r, total, number]) => Some((u16::from(*r), *total, *number)),
            (0x08, [hi, lo, total, number]) => {
                Some((u16::from_be_bytes([*hi, *lo]), *total, *number))
            }
            _ => part,
        };
        i += 2 + len;
    }
    let part = match part {
        None => None,
        Some((reference, total, number)) => {
            if total == 0 || number == 0 || number > total {
                return Err(PartError::BadPart { number, total });
            }
            Some(Part {
                reference,
                total,
                number,
            })
        }
    };
    Ok((part, body))
}

/// Parts kept at most, across every sender: a peer that sends first parts only cannot grow
/// the server's memory past this.
pub const MAX_PENDING: usize = 1024;

/// How long the other parts of a message are waited for.
pub const PART_WAIT: Duration = Duration::minutes(10);

struct Pending {
    first_at: DateTime<Utc>,
    parts: Vec<Option<Vec<u8>>>,
}

/// Long messages being put back together, by sender and reference.
#[derive(Default)]
pub struct Reassembly {
    pending: HashMap<(String, u16, u8), Pending>,
}

impl Reassembly {
    /// Takes one part from `sender`; returns the whole message's bytes once every part has
    /// come. A part that comes twice keeps its first copy.
    pub fn add(
        &mut self,
        sender: &str,
        part: Part,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Option<Vec<u8>> {
        self.expire(now);
        let key = (sender.to_string(), part.reference, part.total);
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING {
            // Full: the oldest message gives way.
            if let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.first_at)
                .map(|(k, _)| k.clone())
            {
                self.pending.remove(&oldest);
            }
        }
        let entry = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            first_at: now,
            parts: vec![None; usize::from(part.total)],
        });
        let slot = &mut entry.parts[usize::from(part.number) - 1];
        if slot.is_none() {
            *slot = Some(bytes.to_vec());
        }
        if entry.parts.iter().all(Option::is_some) {
            let done = self.pending.remove(&key)?;
            return Some(done.parts.into_iter().flatten().flatten().collect());
        }
        None
    }

    /// Drops messages whose parts stopped coming.
    pub fn expire(&mut self, now: DateTime<Utc>) {
        self.pending.retain(|_, p| now - p.first_at < PART_WAIT);
    }

    /// Messages waiting for parts.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }
}

/// Reads a message's bytes in its SMPP data coding: 8 is UCS-2 (UTF-16BE, Chinese), 15 is
/// GBK (as Chinese SMS centres send it), 0, 1 and 3 are read as ASCII/Latin-1.
pub fn text_of(data_coding: u8, bytes: &[u8]) -> Result<String, PartError> {
    match data_coding {
        0x08 => {
            if bytes.len() % 2 != 0 {
                return Err(PartError::BadText("UCS-2"));
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).map_err(|_| PartError::BadText("UCS-2"))
        }
        0x0F => {
            let (text, _, bad) = encoding_rs::GBK.decode(bytes);
            if bad {
                return Err(PartError::BadText("GBK"));
            }
            Ok(text.into_owned())
        }
        _ => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn ucs2(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn two_parts_in_any_order_make_the_message() {
        let text = ucs2("北京路下水道堵塞，请尽快处理");
        let (a, b) = text.split_at(10);
        let mut first = vec![5, 0x00, 3, 0x2A, 2, 1];
        first.extend_from_slice(a);
        let mut second = vec![6, 0x08, 4, 0x01, 0x2A, 2, 2];
        second.extend_from_slice(b);
        let now = t("2026-12-07T02:00:00Z");
        let mut r = Reassembly::default();
        // Part 2 with a 16-bit reference: a different message from part 1's 8-bit one
        // unless the references agree, which they do here only by value (0x012A != 0x2A).
        let (p2, body2) = split_udh(true, &second).unwrap();
        assert_eq!(
            p2,
            Some(Part {
                reference: 0x012A,
                total: 2,
                number: 2
            })
        );
        assert_eq!(r.add("13800138000", p2.unwrap(), body2, now), None);
        let (p1, body1) = split_udh(true, &first).unwrap();
        assert_eq!(
            r.add("13800138000", p1.unwrap(), body1, now),
            None,
            "other reference"
        );
        let p1b = Part {
            reference: 0x012A,
            ..p1.unwrap()
        };
        let whole = r.add("13800138000", p1b, body1, now).expect("complete");
        assert_eq!(text_of(8, &whole).unwrap(), "北京路下水道堵塞，请尽快处理");
        assert_eq!(r.waiting(), 1, "the 8-bit one still waits");
        r.expire(now + PART_WAIT);
        assert_eq!(r.waiting(), 0);
    }

    #[test]
    fn bad_headers_and_texts_are_refused() {
        assert_eq!(split_udh(true, &[9, 0, 3]), Err(PartError::HeaderTooLong));
        assert_eq!(split_udh(true, &[]), Err(PartError::HeaderTooLong));
        assert_eq!(
            split_udh(true, &[5, 0, 3, 1, 2, 3]),
            Err(PartError::BadPart {
                number: 3,
                total: 2
            })
        );
        assert_eq!(split_udh(true, &[2, 0, 9]), Err(PartError::HeaderTooLong));
        assert_eq!(text_of(8, &[0x4E]), Err(PartError::BadText("UCS-2")));
        assert_eq!(text_of(8, &[0xD8, 0x00]), Err(PartError::BadText("UCS-2")));
        assert_eq!(split_udh(false, b"hi").unwrap(), (None, &b"hi"[..]));
    }

    #[test]
    fn first_parts_alone_cannot_grow_memory() {
        let now = t("2026-12-07T02:00:00Z");
        let mut r = Reassembly::default();
        for i in 0..(MAX_PENDING as u32 + 50) {
            let part = Part {
                reference: (i % 65536) as u16,
                total: 2,
                number: 1,
            };
            r.add(&format!("1380013{i:04}"), part, b"x", now);
        }
        assert_eq!(r.waiting(), MAX_PENDING);
    }

    #[test]
    fn gbk_reads() {
        let (bytes, _, _) = encoding_rs::GBK.encode("路灯不亮");
        assert_eq!(text_of(15, &bytes).unwrap(), "路灯不亮");
    }
}
