//! N-party mixing for conferences, pure: each party hands in one 20 ms frame of linear
//! samples per tick and gets back the sum of what it may hear, clipped to 16 bits. What a party
//! says reaches everyone (a normal party), no one (muted, or listening in), or only the
//! parties named (a supervisor whispering to an operator); a party may also hear nothing (a
//! caller put on hold). Three-party calls with 110, monitoring, whispering and barging (issue
//! 14) are all these settings on one mixer.
//!
//! No allocation on the frame path: frames live in the mixer's own buffers, sums are
//! accumulated in a stack array of `i32`. G.711 is decoded before and encoded after, at the
//! edges ([`super::g711`]).

use super::rtp::FRAME_SAMPLES;

/// A party's handle in its mixer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(u32);

/// Who hears what a party says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every other party (a normal party; barging in).
    Everyone,
    /// No one (muted; listening in).
    Nobody,
    /// Only these parties (whispering).
    Only(Vec<PartyId>),
}

/// One party of a mixer.
#[derive(Debug)]
struct Party {
    id: PartyId,
    audience: Audience,
    hears: bool,
    frame: [i16; FRAME_SAMPLES],
    /// Whether a frame came this tick (none: the party is silent).
    spoke: bool,
}

/// A refused change: the party is not in the mixer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("party {0:?} is not in the mixer")]
pub struct NoSuchParty(pub PartyId);

/// The parties of one conference and this tick's frames.
#[derive(Debug, Default)]
pub struct Mixer {
    parties: Vec<Party>,
    next: u32,
}

impl Mixer {
    /// An empty mixer.
    pub fn new() -> Mixer {
        Mixer::default()
    }

    /// Adds a party heard by `audience`, hearing the others when `hears`.
    pub fn add(&mut self, audience: Audience, hears: bool) -> PartyId {
        let id = PartyId(self.next);
        self.next += 1;
        self.parties.push(Party {
            id,
            audience,
            hears,
            frame: [0; FRAME_SAMPLES],
            spoke: false,
        });
        id
    }

    /// Takes a party out (it is heard and hears no more; whispers to it reach nobody).
    pub fn remove(&mut self, id: PartyId) -> Result<(), NoSuchParty> {
        let before = self.parties.len();
        self.parties.retain(|p| p.id != id);
        if self.parties.len() == before {
            return Err(NoSuchParty(id));
        }
        Ok(())
    }

    /// The parties, in the order they joined.
    pub fn parties(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.parties.iter().map(|p| p.id)
    }

    fn party(&mut self, id: PartyId) -> Result<&mut Party, NoSuchParty> {
        self.parties
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or(NoSuchParty(id))
    }

    /// Changes who hears `id` (mute, unmute, whisper, barge in).
    pub fn set_audience(&mut self, id: PartyId, audience: Audience) -> Result<(), NoSuchParty> {
        self.party(id)?.audience = audience;
        Ok(())
    }

    /// Changes whether `id` hears the others (on hold: not).
    pub fn set_hears(&mut self, id: PartyId, hears: bool) -> Result<(), NoSuchParty> {
        self.party(id)?.hears = hears;
        Ok(())
    }

    /// This tick's frame of `id` (shorter frames are padded with silence, longer ones cut).
    pub fn put(&mut self, id: PartyId, samples: &[i16]) -> Result<(), NoSuchParty> {
        let party = self.party(id)?;
        let n = samples.len().min(FRAME_SAMPLES);
        party.frame[..n].copy_from_slice(&samples[..n]);
        party.frame[n..].fill(0);
        party.spoke = true;
        Ok(())
    }

    /// Mixes this tick: `out(party, frame)` for each party that hears, with the sum of the
    /// frames of the others it may hear, clipped; then the tick's frames are cleared.
    pub fn mix(&mut self, mut out: impl FnMut(PartyId, &[i16; FRAME_SAMPLES])) {
        let mut sum = [0i32; FRAME_SAMPLES];
        let mut frame = [0i16; FRAME_SAMPLES];
        for listener in self.parties.iter().filter(|p| p.hears) {
            sum.fill(0);
            for speaker in &self.parties {
                let heard = speaker.id != listener.id
                    && speaker.spoke
                    && match &speaker.audience {
                        Audience::Everyone => true,
                        Audience::Nobody => false,
                        Audience::Only(ids) => ids.contains(&listener.id),
                    };
                if heard {
                    for (s, x) in sum.iter_mut().zip(speaker.frame.iter()) {
                        *s += i32::from(*x);
                    }
                }
            }
            for (f, s) in frame.iter_mut().zip(sum.iter()) {
                *f = (*s).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
            out(listener.id, &frame);
        }
        for p in &mut self.parties {
            p.spoke = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A frame whose every sample is `v`.
    fn flat(v: i16) -> [i16; FRAME_SAMPLES] {
        [v; FRAME_SAMPLES]
    }

    /// One tick: what each party hears (the first sample of its frame, all samples checked to
    /// be equal since the inputs are flat).
    fn tick(m: &mut Mixer, said: &[(PartyId, i16)]) -> BTreeMap<PartyId, i16> {
        for (id, v) in said {
            m.put(*id, &flat(*v)).unwrap();
        }
        let mut heard = BTreeMap::new();
        m.mix(|id, frame| {
            assert!(frame.iter().all(|s| *s == frame[0]), "a flat sum");
            heard.insert(id, frame[0]);
        });
        heard
    }

    #[test]
    fn each_party_hears_the_sum_of_the_others() {
        let mut m = Mixer::new();
        let caller = m.add(Audience::Everyone, true);
        let operator = m.add(Audience::Everyone, true);
        let police = m.add(Audience::Everyone, true);
        let heard = tick(&mut m, &[(caller, 100), (operator, 20), (police, 3)]);
        assert_eq!(heard[&caller], 23);
        assert_eq!(heard[&operator], 103);
        assert_eq!(heard[&police], 120);
        // A party that sent nothing this tick is silence; the next tick starts afresh.
        let heard = tick(&mut m, &[(caller, 100)]);
        assert_eq!(
            (heard[&caller], heard[&operator], heard[&police]),
            (0, 100, 100)
        );
        let heard = tick(&mut m, &[]);
        assert!(heard.values().all(|v| *v == 0));
    }

    #[test]
    fn sums_are_clipped_to_sixteen_bits() {
        let mut m = Mixer::new();
        let a = m.add(Audience::Everyone, true);
        let b = m.add(Audience::Everyone, true);
        let c = m.add(Audience::Everyone, true);
        let heard = tick(&mut m, &[(a, 30_000), (b, 30_000), (c, -30_000)]);
        assert_eq!(heard[&c], i16::MAX, "60000 clipped");
        assert_eq!(heard[&a], 0);
        let heard = tick(&mut m, &[(a, -30_000), (b, -30_000)]);
        assert_eq!(heard[&c], i16::MIN, "-60000 clipped");
    }

    #[test]
    fn listen_whisper_and_barge() {
        let mut m = Mixer::new();
        let caller = m.add(Audience::Everyone, true);
        let operator = m.add(Audience::Everyone, true);
        // Listening in: hears both, heard by none.
        let supervisor = m.add(Audience::Nobody, true);
        let heard = tick(&mut m, &[(caller, 100), (operator, 20), (supervisor, 3)]);
        assert_eq!(
            (heard[&caller], heard[&operator], heard[&supervisor]),
            (20, 100, 120)
        );
        // Whispering: heard by the operator, not by the caller.
        m.set_audience(supervisor, Audience::Only(vec![operator]))
            .unwrap();
        let heard = tick(&mut m, &[(caller, 100), (operator, 20), (supervisor, 3)]);
        assert_eq!(
            (heard[&caller], heard[&operator], heard[&supervisor]),
            (20, 103, 120)
        );
        // Barging in: a three-way call.
        m.set_audience(supervisor, Audience::Everyone).unwrap();
        let heard = tick(&mut m, &[(caller, 100), (operator, 20), (supervisor, 3)]);
        assert_eq!(
            (heard[&caller], heard[&operator], heard[&supervisor]),
            (23, 103, 120)
        );
    }

    #[test]
    fn mute_hold_and_leaving() {
        let mut m = Mixer::new();
        let caller = m.add(Audience::Everyone, true);
        let operator = m.add(Audience::Everyone, true);
        let police = m.add(Audience::Everyone, true);
        // The operator mutes: the others hear only each other.
        m.set_audience(operator, Audience::Nobody).unwrap();
        let heard = tick(&mut m, &[(caller, 100), (operator, 20), (police, 3)]);
        assert_eq!((heard[&caller], heard[&police]), (3, 100));
        // The caller on hold hears nothing (and gets no frame), and is still heard if not
        // muted: here muted too.
        m.set_hears(caller, false).unwrap();
        m.set_audience(caller, Audience::Nobody).unwrap();
        let heard = tick(&mut m, &[(caller, 100), (operator, 20), (police, 3)]);
        assert!(!heard.contains_key(&caller));
        assert_eq!((heard[&operator], heard[&police]), (3, 0));
        // The operator leaves once the hand-over is done: caller and police talk on.
        m.set_hears(caller, true).unwrap();
        m.set_audience(caller, Audience::Everyone).unwrap();
        m.remove(operator).unwrap();
        assert_eq!(m.remove(operator), Err(NoSuchParty(operator)));
        assert_eq!(m.put(operator, &flat(1)), Err(NoSuchParty(operator)));
        let heard = tick(&mut m, &[(caller, 100), (police, 3)]);
        assert_eq!(heard.len(), 2);
        assert_eq!((heard[&caller], heard[&police]), (3, 100));
        assert_eq!(m.parties().collect::<Vec<_>>(), [caller, police]);
    }

    #[test]
    fn short_frames_are_padded_and_long_ones_cut() {
        let mut m = Mixer::new();
        let a = m.add(Audience::Everyone, true);
        let b = m.add(Audience::Everyone, true);
        m.put(a, &[7; 80]).unwrap();
        m.put(b, &[1; 400]).unwrap();
        let mut frames = Vec::new();
        m.mix(|id, f| frames.push((id, *f)));
        let (_, to_b) = frames.iter().find(|(id, _)| *id == b).unwrap();
        assert!(to_b[..80].iter().all(|s| *s == 7) && to_b[80..].iter().all(|s| *s == 0));
        let (_, to_a) = frames.iter().find(|(id, _)| *id == a).unwrap();
        assert!(to_a.iter().all(|s| *s == 1));
    }
}
