//! Who hears whom in a call, at the edge: the machine's room ([`Member`]s) made real. Two who
//! hear each other are relayed socket to socket from their receive tasks (the cheapest path,
//! most calls' only one); three or more, or anyone heard by only some, are mixed in a
//! [`Conference`] on the pacer's clock. A party left out of the room relays nothing and hears
//! nothing of the others (a caller on hold hears the hold music its own stream plays).

use std::collections::HashMap;

use crate::call::flow::{Hearers, Member, Party};
use crate::media::conference::Conference;
use crate::media::mixer::{Audience, PartyId};
use crate::media::session::{Frame, MediaSession};

/// Where a party's received audio is recorded (the caller's side, the operator's side).
pub(super) type Recorder = Option<std::sync::mpsc::SyncSender<Frame>>;

/// The room as it is now.
#[derive(Default)]
pub(super) struct Room {
    conference: Option<Conference>,
    /// Each party's place in the conference.
    places: HashMap<Party, PartyId>,
    /// The parties whose sessions relay now.
    relaying: Vec<Party>,
}

/// Two who simply talk with each other: a relay both ways will do.
fn is_pair(members: &[Member]) -> bool {
    let [a, b] = members else {
        return false;
    };
    let heard_by_other = |m: &Member, other: &Member| match &m.heard_by {
        Hearers::Everyone => true,
        Hearers::Only(ps) => ps.contains(&other.party),
        Hearers::Nobody => false,
    };
    a.hears && b.hears && heard_by_other(a, b) && heard_by_other(b, a)
}

impl Room {
    /// Makes `members` the room. `session` gives each party's media session (a party without
    /// one is left out), `record` the recording queue of its side, if any.
    pub fn apply<'s>(
        &mut self,
        members: &[Member],
        session: impl Fn(Party) -> Option<&'s MediaSession>,
        record: impl Fn(Party) -> Recorder,
    ) {
        let members: Vec<Member> = members
            .iter()
            .filter(|m| session(m.party).is_some())
            .cloned()
            .collect();
        for p in &self.relaying {
            if !members.iter().any(|m| m.party == *p) {
                if let Some(s) = session(*p) {
                    s.stop_relay();
                }
            }
        }
        self.relaying = members.iter().map(|m| m.party).collect();
        if is_pair(&members) {
            self.conference = None;
            self.places.clear();
            let (a, b) = (&members[0], &members[1]);
            let (sa, sb) = (
                session(a.party).expect("kept"),
                session(b.party).expect("kept"),
            );
            sa.stop_playing();
            sb.stop_playing();
            sa.relay_to(sb, record(a.party));
            sb.relay_to(sa, record(b.party));
            return;
        }
        if members.len() < 2 {
            self.conference = None;
            self.places.clear();
            for m in &members {
                session(m.party).expect("kept").stop_relay();
            }
            self.relaying.clear();
            return;
        }
        let conference = self.conference.get_or_insert_with(Conference::new);
        self.places.retain(|party, place| {
            let stays = members.iter().any(|m| m.party == *party);
            if !stays {
                conference.leave(*place);
            }
            stays
        });
        for m in &members {
            let s = session(m.party).expect("kept");
            let place = *self
                .places
                .entry(m.party)
                .or_insert_with(|| conference.join(s.stream(), Audience::Everyone, m.hears));
            if m.hears {
                s.stop_playing();
            }
            s.relay_into(conference.inlet(place), record(m.party));
        }
        for m in &members {
            let audience = match &m.heard_by {
                Hearers::Everyone => Audience::Everyone,
                Hearers::Nobody => Audience::Nobody,
                Hearers::Only(ps) => Audience::Only(
                    ps.iter()
                        .filter_map(|p| self.places.get(p).copied())
                        .collect(),
                ),
            };
            conference.set(self.places[&m.party], audience, m.hears);
        }
    }

    /// Nobody hears anybody any more.
    pub fn clear<'s>(&mut self, session: impl Fn(Party) -> Option<&'s MediaSession>) {
        for p in self.relaying.drain(..) {
            if let Some(s) = session(p) {
                s.stop_relay();
            }
        }
        self.conference = None;
        self.places.clear();
    }

    /// Whether the parties are mixed now (for logs).
    pub fn mixed(&self) -> bool {
        self.conference.is_some()
    }
}
