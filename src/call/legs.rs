//! The legs a call places (to seats, out over trunks), at the edge: which SIP Call-ID is
//! which [`LegId`], the seats' BYEs and REFERs waiting for the machine's answer, and the legs'
//! media events merged into one stream. Every call task that places legs (a caller's call, a
//! callback, a reminder) keeps one [`Legs`] and turns what its legs do into
//! [`SeatEvent`]s for its pure machine.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::agent_leg::{AgentLeg, EventsTo};
use super::flow::{LegId, LegReply, Party, SeatEvent};
use super::services::CallServices;
use super::signal::CallSignal;
use crate::media::session::{MediaEvent, MediaSession};
use crate::phone::PhoneEvent;
use crate::sip::message::{self, response_for};
use crate::sip::transaction::TransactionKey;

/// Media events of the legs, tagged, that a call may leave unread.
const MEDIA_EVENTS: usize = 64;

/// What a watched leg's media did.
pub(super) enum LegMedia {
    /// A media event (None: the session closed).
    Event(LegId, Option<MediaEvent>),
    /// A prompt list of this generation played out.
    Played(LegId, u64),
}

/// A call's legs.
pub(super) struct Legs {
    legs: HashMap<LegId, AgentLeg>,
    /// Legs by SIP Call-ID.
    ids: HashMap<String, LegId>,
    /// Seats' BYEs and REFERs not answered yet, oldest first.
    requests: HashMap<LegId, VecDeque<(TransactionKey, rsip::Request)>>,
    media_tx: mpsc::Sender<(LegId, Option<MediaEvent>)>,
    media_rx: mpsc::Receiver<(LegId, Option<MediaEvent>)>,
    /// The ends of prompt lists played on legs, with their generation.
    played_tx: mpsc::Sender<(LegId, u64)>,
    played_rx: mpsc::Receiver<(LegId, u64)>,
}

impl Default for Legs {
    fn default() -> Self {
        let (media_tx, media_rx) = mpsc::channel(MEDIA_EVENTS);
        let (played_tx, played_rx) = mpsc::channel(MEDIA_EVENTS);
        Legs {
            legs: HashMap::new(),
            ids: HashMap::new(),
            requests: HashMap::new(),
            media_tx,
            media_rx,
            played_tx,
            played_rx,
        }
    }
}

impl Legs {
    /// Keeps a leg that was dialled.
    pub fn insert(&mut self, id: LegId, leg: AgentLeg) {
        self.ids.insert(leg.call_id.clone(), id);
        self.legs.insert(id, leg);
    }

    /// Takes a leg out without ending it (it goes on in another call); its held requests
    /// get 481.
    pub fn take(&mut self, id: LegId) -> Option<AgentLeg> {
        let leg = self.legs.remove(&id)?;
        self.ids.remove(&leg.call_id);
        self.requests.remove(&id);
        Some(leg)
    }

    pub fn get(&self, id: LegId) -> Option<&AgentLeg> {
        self.legs.get(&id)
    }

    /// Each party's media session, for the room: `caller`'s for the caller (None in a call
    /// nobody dialled in), each leg's own.
    pub fn sessions<'a>(
        &'a self,
        caller: Option<&'a MediaSession>,
    ) -> impl Fn(Party) -> Option<&'a MediaSession> + 'a {
        move |p| match p {
            Party::Caller => caller,
            Party::Leg(l) => self.get(l).map(|s| &s.media),
        }
    }

    pub fn get_mut(&mut self, id: LegId) -> Option<&mut AgentLeg> {
        self.legs.get_mut(&id)
    }

    /// The leg of a SIP Call-ID.
    fn by_call_id(&self, call_id: &str) -> Option<LegId> {
        self.ids.get(call_id).copied()
    }

    /// From now on the leg's media events (DTMF, media timeout) come from
    /// [`Legs::media_event`], with its id (its audio is relayed by its receive task). A leg
    /// watched in another call before (taken over) has its events sent here from now on.
    pub fn watch_media(&mut self, id: LegId) {
        let tx = self.media_tx.clone();
        let Some(leg) = self.legs.get_mut(&id) else {
            return;
        };
        if let Some(to) = &leg.events_to {
            *to.lock().unwrap_or_else(|e| e.into_inner()) = (id, tx);
            return;
        }
        let to: EventsTo = Arc::new(std::sync::Mutex::new((id, tx)));
        leg.events_to = Some(to.clone());
        let mut events = leg.media.events();
        tokio::spawn(async move {
            loop {
                let event = events.recv().await;
                let end = matches!(event, None | Some(MediaEvent::Timeout));
                let (id, tx) = to.lock().unwrap_or_else(|e| e.into_inner()).clone();
                // A call that let go of the leg, or is about to pass it on, drops the event;
                // the loop ends with the leg's session.
                let _ = tx.send((id, event)).await;
                if end {
                    return;
                }
            }
        });
    }

    /// The next media event of a watched leg (None: its session closed).
    pub async fn media_event(&mut self) -> (LegId, Option<MediaEvent>) {
        match self.media_rx.recv().await {
            Some(event) => event,
            None => std::future::pending().await,
        }
    }

    /// From now on the ends of what plays on the leg come from [`Legs::played_event`].
    pub fn watch_played(&self, id: LegId) {
        let Some(leg) = self.legs.get(&id) else {
            return;
        };
        let mut played = leg.media.played();
        let tx = self.played_tx.clone();
        tokio::spawn(async move {
            while let Some(generation) = played.recv().await {
                if tx.send((id, generation)).await.is_err() {
                    return;
                }
            }
        });
    }

    /// The next media event or end of a prompt list of a watched leg.
    pub async fn event(&mut self) -> LegMedia {
        tokio::select! {
            Some((leg, event)) = self.media_rx.recv() => LegMedia::Event(leg, event),
            Some((leg, generation)) = self.played_rx.recv() => LegMedia::Played(leg, generation),
        }
    }

    /// The signals every call that places legs treats alike, as a leg's event: a response to
    /// its INVITE, its browser phone, no answer in time, its BYE (held for the machine's
    /// answer). An answered leg's media is watched from then on. `Ok(None)` when the signal
    /// says nothing to the machine; any other signal comes back as `Err`.
    pub async fn on_signal(
        &mut self,
        services: &CallServices,
        signal: CallSignal,
        owner: &str,
    ) -> Result<Option<(LegId, SeatEvent)>, CallSignal> {
        let seen = match signal {
            CallSignal::AgentResponse(resp) => self.on_response(services, &resp, owner).await,
            CallSignal::Phone { call_id, event } => self.on_phone(services, &call_id, event, owner),
            CallSignal::AgentTimeout { call_id } => self
                .by_call_id(&call_id)
                .map(|leg| (leg, SeatEvent::NoResponse)),
            CallSignal::AgentBye { key, request } => self
                .hold_request(services, key, *request)
                .map(|leg| (leg, SeatEvent::Bye)),
            other => return Err(other),
        };
        if let Some((leg, SeatEvent::Answered)) = seen {
            self.watch_media(leg);
        }
        Ok(seen)
    }

    /// A response on one of the legs, as the machine's event: an answer (ACKed, media
    /// started), a refusal, or nothing (a provisional response, a retransmitted 2xx ACKed
    /// again, a carrier's challenge answered).
    async fn on_response(
        &mut self,
        services: &CallServices,
        resp: &rsip::Response,
        owner: &str,
    ) -> Option<(LegId, SeatEvent)> {
        let leg_call_id = message::call_id(resp).unwrap_or_default();
        let Some(&id) = self.ids.get(&leg_call_id) else {
            // A leg let go while this response was on its way to us.
            services.answer_late(resp);
            return None;
        };
        let leg = self.legs.get_mut(&id)?;
        let code = resp.status_code.code();
        if code < 200 || message::cseq(resp).is_none_or(|(_, m)| m != "INVITE") {
            return None;
        }
        if leg.is_answered() {
            if code < 300 {
                leg.ack_again(services, resp);
            }
            return None;
        }
        if matches!(code, 401 | 407) && leg.answer_challenge(services, resp).await {
            return None;
        }
        let event = if code >= 300 {
            info!(
                call_id = owner,
                to = leg.agent,
                code,
                "the leg was not answered"
            );
            SeatEvent::Declined(code)
        } else {
            match leg.answered(services, resp) {
                Ok(()) => {
                    store_answer(services, leg_call_id);
                    SeatEvent::Answered
                }
                Err(e) => {
                    warn!(call_id = owner, to = leg.agent, error = %e, "the leg's answer is unusable");
                    SeatEvent::Unusable
                }
            }
        };
        Some((id, event))
    }

    /// What happened on a leg's browser phone, as the machine's event.
    fn on_phone(
        &mut self,
        services: &CallServices,
        call_id: &str,
        event: PhoneEvent,
        owner: &str,
    ) -> Option<(LegId, SeatEvent)> {
        let id = *self.ids.get(call_id)?;
        let leg = self.legs.get_mut(&id)?;
        let event = match event {
            PhoneEvent::Answered {
                codec,
                telephone_event_pt,
            } => match leg.answered_in_browser(services, codec, telephone_event_pt) {
                Ok(()) => {
                    store_answer(services, call_id.to_string());
                    SeatEvent::Answered
                }
                Err(e) => {
                    warn!(call_id = owner, error = %e, "browser answer unusable");
                    SeatEvent::Unusable
                }
            },
            PhoneEvent::Declined => SeatEvent::Declined(603),
            PhoneEvent::HungUp => SeatEvent::Bye,
            PhoneEvent::Failed if leg.is_answered() => SeatEvent::MediaTimeout,
            PhoneEvent::Failed => SeatEvent::Declined(480),
        };
        info!(call_id = owner, agent = leg.agent, ?event, "browser phone");
        Some((id, event))
    }

    /// Keeps a BYE or REFER on one of the legs for the machine's answer; one on a leg we do
    /// not know gets 481.
    pub fn hold_request(
        &mut self,
        services: &CallServices,
        key: TransactionKey,
        request: rsip::Request,
    ) -> Option<LegId> {
        let leg_call_id = message::call_id_of(&request).unwrap_or_default();
        match self.ids.get(&leg_call_id) {
            Some(&leg) => {
                self.requests
                    .entry(leg)
                    .or_default()
                    .push_back((key, request));
                Some(leg)
            }
            None => {
                let response = response_for(
                    &request,
                    rsip::StatusCode::CallTransactionDoesNotExist,
                    None,
                );
                services.endpoint.respond(&key, response);
                None
            }
        }
    }

    /// Answers the oldest request held for a leg.
    pub fn answer(&mut self, services: &CallServices, leg: LegId, reply: LegReply) {
        if let Some((key, request)) = self.requests.get_mut(&leg).and_then(VecDeque::pop_front) {
            services.endpoint.respond(&key, leg_reply(&request, reply));
        }
    }

    /// Stores a leg's outcome and lets go of it; requests it still holds get 481.
    pub async fn release(
        &mut self,
        services: &CallServices,
        leg: LegId,
        outcome: &str,
        owner: &str,
    ) {
        for (key, request) in self.requests.remove(&leg).unwrap_or_default() {
            services
                .endpoint
                .respond(&key, leg_reply(&request, LegReply::NoDialog));
        }
        let Some(seat) = self.legs.remove(&leg) else {
            return;
        };
        self.ids.remove(&seat.call_id);
        if let Err(e) = services
            .store
            .leg_ended(&seat.call_id, outcome, Utc::now())
            .await
        {
            warn!(call_id = owner, leg = seat.call_id, error = %e, "leg's end not stored");
        }
        seat.release(services);
    }

    /// Every leg still held.
    pub fn ids(&self) -> Vec<LegId> {
        self.legs.keys().copied().collect()
    }
}

/// Stores the answer of leg `leg_call_id` without holding up the call.
fn store_answer(services: &CallServices, leg_call_id: String) {
    let store = services.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.leg_answered(&leg_call_id, Utc::now()).await {
            warn!(leg = leg_call_id, error = %e, "leg's answer not stored");
        }
    });
}

/// The SIP answer to a seat's BYE or REFER.
pub(super) fn leg_reply(request: &rsip::Request, reply: LegReply) -> rsip::Response {
    let (status, warning) = match reply {
        LegReply::Ok => (rsip::StatusCode::OK, None),
        LegReply::NoDialog => (rsip::StatusCode::CallTransactionDoesNotExist, None),
        // Not rsip's `StatusCode::Accepted`: rsip 0.4 gives that the code 201.
        LegReply::Accepted => (rsip::StatusCode::Other(202, "Accepted".into()), None),
        LegReply::Refused(r) => (rsip::StatusCode::from(r.status), Some(r.warning)),
    };
    let mut response = response_for(request, status, None);
    if let Some(w) = warning {
        response.headers.push(rsip::Header::Other(
            "Warning".into(),
            format!("399 hotline12345 \"{}\"", w.replace('"', "'")),
        ));
    }
    response
}
