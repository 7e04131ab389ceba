//! RFC 4733 telephone-events: DTMF digits sent as RTP. One key press is a run of packets with
//! the same RTP timestamp, ending with (usually three) packets that carry the end bit; a digit
//! is reported once, at its first packet.

/// Finds digits in telephone-event payloads.
#[derive(Debug, Default)]
pub struct DtmfDetector {
    last_timestamp: Option<u32>,
}

/// The digit of an event code (0–9, *, #, A–D).
pub fn digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

/// The event code of a digit.
pub fn event_of(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        _ => None,
    }
}

/// A telephone-event payload: event, end bit, volume, duration (in timestamp units).
pub fn payload(event: u8, end: bool, volume: u8, duration: u16) -> [u8; 4] {
    let d = duration.to_be_bytes();
    [
        event,
        (if end { 0x80 } else { 0 }) | (volume & 0x3f),
        d[0],
        d[1],
    ]
}

impl DtmfDetector {
    /// A detector.
    pub fn new() -> DtmfDetector {
        DtmfDetector::default()
    }

    /// Takes one telephone-event packet; returns a digit the first time its event is seen.
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        if payload.len() < 4 {
            return None;
        }
        if self.last_timestamp == Some(timestamp) {
            return None;
        }
        self.last_timestamp = Some(timestamp);
        digit(payload[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_digit_per_key_press() {
        let mut d = DtmfDetector::new();
        // '5' pressed: three updates, three end packets, all with timestamp 1000.
        let mut seen = Vec::new();
        for (end, dur) in [
            (false, 160),
            (false, 320),
            (false, 480),
            (true, 640),
            (true, 640),
            (true, 640),
        ] {
            seen.extend(d.on_packet(1000, &payload(5, end, 10, dur)));
        }
        // '#' then '5' again.
        seen.extend(d.on_packet(5000, &payload(11, false, 10, 160)));
        seen.extend(d.on_packet(5000, &payload(11, true, 10, 800)));
        seen.extend(d.on_packet(9000, &payload(5, true, 10, 800)));
        assert_eq!(seen, ['5', '#', '5']);
        assert_eq!(d.on_packet(9999, &[1, 2]), None);
        for c in "0123456789*#ABCD".chars() {
            assert_eq!(digit(event_of(c).unwrap()), Some(c));
        }
    }
}
