//! A conference: three or more parties of one call (a caller, an operator and 110; a caller, an
//! operator and a supervisor listening in). Each party's session relays what it receives into
//! the conference from its own receive task, through an [`Inlet`] (decoded on the stack, into
//! the party's small jitter buffer); every 20 ms the process's one pacer clock mixes
//! ([`super::mixer`]) and sends each party that hears its own mix on its own RTP stream. Who
//! hears whom is the mixer's [`Audience`]: listen, whisper and barge are settings, not code.
//!
//! The jitter buffer: packets and the mixing tick keep different clocks, so each party's
//! samples wait in a ring of [`RING`] samples. Mixing starts once two frames are there (then a
//! late packet is not a gap), a party that falls silent is mixed as silence until it has two
//! frames again, and a party that sends faster than the tick is cut back to two frames, so
//! that no delay builds up. Nothing on this path allocates.

use std::sync::{Arc, Mutex};

use super::mixer::{Audience, Mixer, PartyId};
use super::pacer::{Pacer, StreamId};
use super::rtp::FRAME_SAMPLES;
use super::stream::StreamHandle;

/// Samples a party's jitter buffer holds: 8 frames (160 ms).
pub const RING: usize = FRAME_SAMPLES * 8;
/// Frames buffered before mixing starts (and what a fast sender is cut back to).
const PRIME: usize = FRAME_SAMPLES * 2;
/// More than this waiting means the sender runs ahead: cut back to [`PRIME`].
const AHEAD: usize = FRAME_SAMPLES * 5;

/// One party's received samples, waiting for the tick.
struct Jitter {
    ring: [i16; RING],
    start: usize,
    len: usize,
    primed: bool,
}

impl Jitter {
    fn new() -> Jitter {
        Jitter {
            ring: [0; RING],
            start: 0,
            len: 0,
            primed: false,
        }
    }

    fn push(&mut self, samples: &[i16]) {
        for &s in samples {
            if self.len == RING {
                self.start = (self.start + 1) % RING;
                self.len -= 1;
            }
            self.ring[(self.start + self.len) % RING] = s;
            self.len += 1;
        }
        if self.len > AHEAD {
            let drop = self.len - PRIME;
            self.start = (self.start + drop) % RING;
            self.len = PRIME;
        }
    }

    /// The next frame, or None (silence) while the buffer fills.
    fn pop(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        if !self.primed {
            if self.len < PRIME {
                return false;
            }
            self.primed = true;
        }
        if self.len < FRAME_SAMPLES {
            self.primed = false;
            return false;
        }
        for (i, f) in frame.iter_mut().enumerate() {
            *f = self.ring[(self.start + i) % RING];
        }
        self.start = (self.start + FRAME_SAMPLES) % RING;
        self.len -= FRAME_SAMPLES;
        true
    }
}

/// A party: its buffer and where its mix goes.
struct Member {
    party: PartyId,
    stream: StreamHandle,
    jitter: Box<Jitter>,
}

/// The parties and their mixer.
struct Room {
    mixer: Mixer,
    members: Vec<Member>,
}

impl Room {
    /// One tick: each party's next frame into the mixer, each listener's mix out.
    fn tick(&mut self, due: tokio::time::Instant) {
        let Room { mixer, members } = self;
        let mut frame = [0i16; FRAME_SAMPLES];
        for m in members.iter_mut() {
            if m.jitter.pop(&mut frame) {
                let _ = mixer.put(m.party, &frame);
            }
        }
        mixer.mix(|party, mix| {
            if let Some(m) = members.iter().find(|m| m.party == party) {
                m.stream.send_samples(mix, due);
            }
        });
    }
}

/// Where a party's received audio enters the mix (held by its session's receive task).
#[derive(Clone)]
pub struct Inlet {
    room: Arc<Mutex<Room>>,
    party: PartyId,
}

impl Inlet {
    /// Adds received samples to the party's buffer.
    pub fn push(&self, samples: &[i16]) {
        let mut room = self.room.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = room.members.iter_mut().find(|m| m.party == self.party) {
            m.jitter.push(samples);
        }
    }
}

/// A conference, mixed on the pacer's clock until it is dropped.
pub struct Conference {
    room: Arc<Mutex<Room>>,
    ticker: StreamId,
}

impl Default for Conference {
    fn default() -> Self {
        Self::new()
    }
}

impl Conference {
    /// An empty conference; it mixes from now on.
    pub fn new() -> Conference {
        let room = Arc::new(Mutex::new(Room {
            mixer: Mixer::new(),
            members: Vec::new(),
        }));
        let ticking = room.clone();
        let ticker = Pacer::get().add_ticker(Box::new(move |due| {
            ticking.lock().unwrap_or_else(|e| e.into_inner()).tick(due)
        }));
        Conference { room, ticker }
    }

    fn room(&self) -> std::sync::MutexGuard<'_, Room> {
        self.room.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a party heard by `audience`, hearing the others when `hears` (its mix then goes
    /// out on `stream`, its session's: nothing else may play on it). The session still has to
    /// relay into the conference ([`Conference::inlet`]).
    pub fn join(&self, stream: StreamHandle, audience: Audience, hears: bool) -> PartyId {
        let mut room = self.room();
        let party = room.mixer.add(audience, hears);
        room.members.push(Member {
            party,
            stream,
            jitter: Box::new(Jitter::new()),
        });
        party
    }

    /// Where `party`'s session relays what it receives.
    pub fn inlet(&self, party: PartyId) -> Inlet {
        Inlet {
            room: self.room.clone(),
            party,
        }
    }

    /// Changes who hears `party` and whether it hears the others.
    pub fn set(&self, party: PartyId, audience: Audience, hears: bool) {
        let mut room = self.room();
        let _ = room.mixer.set_audience(party, audience);
        let _ = room.mixer.set_hears(party, hears);
    }

    /// Takes `party` out.
    pub fn leave(&self, party: PartyId) {
        let mut room = self.room();
        let _ = room.mixer.remove(party);
        room.members.retain(|m| m.party != party);
    }

    /// The parties, in the order they joined.
    pub fn parties(&self) -> Vec<PartyId> {
        self.room().mixer.parties().collect()
    }
}

impl Drop for Conference {
    fn drop(&mut self) {
        Pacer::get().remove(self.ticker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jitter_buffer_primes_drains_and_catches_up() {
        let mut j = Jitter::new();
        let mut frame = [0i16; FRAME_SAMPLES];
        j.push(&[1; FRAME_SAMPLES]);
        assert!(!j.pop(&mut frame), "one frame is not yet enough");
        j.push(&[2; FRAME_SAMPLES]);
        assert!(j.pop(&mut frame));
        assert_eq!(frame, [1; FRAME_SAMPLES]);
        assert!(j.pop(&mut frame));
        assert_eq!(frame, [2; FRAME_SAMPLES]);
        assert!(!j.pop(&mut frame), "empty: silence, and primed again later");
        // A 30 ms packet is 240 samples: frames are cut across packets.
        j.push(&[3; 240]);
        j.push(&[4; 240]);
        assert!(j.pop(&mut frame));
        assert_eq!(frame, [3; FRAME_SAMPLES]);
        assert!(j.pop(&mut frame));
        assert_eq!(frame[..80], [3; 80]);
        assert_eq!(frame[80..], [4; 80]);
        // A sender far ahead is cut back to two frames, keeping the newest: the sixth frame
        // is one too many, the fourth and fifth stay, then the seventh joins them.
        let mut j = Jitter::new();
        for k in 0..6 {
            j.push(&[k; FRAME_SAMPLES]);
        }
        assert_eq!(j.len, PRIME);
        j.push(&[6; FRAME_SAMPLES]);
        for k in 4..7 {
            assert!(j.pop(&mut frame));
            assert_eq!(frame, [k; FRAME_SAMPLES]);
        }
    }

    /// The share of `samples`' energy at `freq` Hz (Goertzel), 0 to 1.
    fn share(samples: &[i16], freq: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &x in samples {
            let s0 = f64::from(x) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
        let energy: f64 = samples.iter().map(|&x| f64::from(x).powi(2)).sum();
        (2.0 * power / (samples.len() as f64 * energy.max(1.0))).min(1.0)
    }

    /// Three phones, each saying its own tone for a second into a conference: each hears
    /// the two others and not itself; then a listener who is heard by nobody, and a whisper
    /// heard by one party only.
    #[tokio::test]
    async fn each_party_hears_whom_its_audience_allows() {
        use crate::media::g711::Codec;
        use crate::media::rtp::{RtpPortPool, RtpSender};
        use crate::media::session::MediaSession;
        use std::time::Duration;
        use tokio::net::UdpSocket;
        let pool = RtpPortPool::new(43000 + (rand::random::<u16>() % 1500) * 2, 49998).unwrap();
        let ip: std::net::IpAddr = [127, 0, 0, 1].into();
        let mut sessions = Vec::new();
        let mut phones = Vec::new();
        for codec in [Codec::Pcmu, Codec::Pcma, Codec::Pcmu] {
            let s = MediaSession::open(&pool, ip, Duration::from_secs(5))
                .await
                .unwrap();
            let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            s.start(phone.local_addr().unwrap(), codec, None, ip);
            sessions.push((s, codec));
            phones.push(phone);
        }
        let tones = [500.0, 900.0, 1300.0];
        let run = |audiences: [Audience; 3]| {
            let conference = Conference::new();
            let parties: Vec<PartyId> = sessions
                .iter()
                .zip(audiences.clone())
                .map(|((s, _), a)| conference.join(s.stream(), a, true))
                .collect();
            for ((s, _), p) in sessions.iter().zip(&parties) {
                s.relay_into(conference.inlet(*p), None);
            }
            (conference, parties)
        };
        let speak_and_hear = |round: u32| {
            let phones = &phones;
            let sessions = &sessions;
            async move {
                let mut heard: Vec<Vec<i16>> = vec![Vec::new(); 3];
                let send = async {
                    let mut senders: Vec<RtpSender> = sessions
                        .iter()
                        .map(|(_, c)| RtpSender::new(c.payload_type()))
                        .collect();
                    let mut tick = tokio::time::interval(Duration::from_millis(20));
                    for n in 0..50u32 {
                        tick.tick().await;
                        for i in 0..3 {
                            let frame: Vec<i16> = (0..160)
                                .map(|k| {
                                    let t = f64::from(n * 160 + k + round) / 8000.0;
                                    (f64::sin(2.0 * std::f64::consts::PI * tones[i] * t) * 6000.0)
                                        as i16
                                })
                                .collect();
                            let codec = sessions[i].1;
                            let packet = senders[i].packet(&codec.encode(&frame), n == 0, 160);
                            let to = std::net::SocketAddr::new(ip, sessions[i].0.local_port());
                            phones[i].send_to(&packet, to).await.unwrap();
                        }
                    }
                };
                let receive = async {
                    let mut buf = [0u8; 2048];
                    let deadline = tokio::time::Instant::now() + Duration::from_millis(1300);
                    loop {
                        let mut got = false;
                        for (i, phone) in phones.iter().enumerate() {
                            if let Ok(Ok((n, _))) = tokio::time::timeout(
                                Duration::from_millis(1),
                                phone.recv_from(&mut buf),
                            )
                            .await
                            {
                                let p = crate::media::rtp::parse(&buf[..n]).unwrap();
                                heard[i].extend(sessions[i].1.decode(&p.payload));
                                got = true;
                            }
                        }
                        if !got && tokio::time::Instant::now() > deadline {
                            break;
                        }
                    }
                };
                tokio::join!(send, receive);
                heard
            }
        };

        // Everyone hears everyone else.
        let (conference, _) = run([Audience::Everyone, Audience::Everyone, Audience::Everyone]);
        let heard = speak_and_hear(0).await;
        for (i, heard) in heard.iter().enumerate() {
            for (j, tone) in tones.iter().enumerate() {
                let got = share(heard, *tone);
                if i == j {
                    assert!(got < 0.02, "party {i} does not hear itself: {got}");
                } else {
                    assert!(got > 0.25, "party {i} hears party {j}: {got}");
                }
            }
        }
        drop(conference);

        // Party 2 listens (heard by nobody) and then whispers to party 1 only.
        let (conference, parties) = run([Audience::Everyone, Audience::Everyone, Audience::Nobody]);
        let heard = speak_and_hear(1).await;
        assert!(share(&heard[2], tones[0]) > 0.25 && share(&heard[2], tones[1]) > 0.25);
        assert!(share(&heard[0], tones[2]) < 0.02 && share(&heard[1], tones[2]) < 0.02);
        conference.set(parties[2], Audience::Only(vec![parties[1]]), true);
        let heard = speak_and_hear(2).await;
        assert!(
            share(&heard[1], tones[2]) > 0.25,
            "the whisper reaches party 1"
        );
        assert!(share(&heard[0], tones[2]) < 0.02, "and not party 0");
    }
}
