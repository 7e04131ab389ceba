//! The edge of one outbound call (a callback, a reminder): it feeds the pure machine with what
//! its legs, their media and the clock do, and performs what the machine asks (SIP to the seat
//! and out over the trunk, prompts on a leg, the two relayed and recorded, the attempt, the
//! rating, the signing and the reminder stored). The rules are in `callback.rs` and
//! `reminder.rs`; this file only translates.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::Utc;
use tokio::time::Instant;
use tracing::{info, warn};

use super::callback::Callback;
use super::io::{CallbackOutcome, Input, Output};
use super::reminder::Reminder;
use crate::call::agent_leg::AgentLeg;
use crate::call::directory::{SignalRx, SignalTx};
use crate::call::driver::or_pending;
use crate::call::flow::{Dest, Hearers, LegId, Member, Party, SeatEvent};
use crate::call::legs::{LegMedia, Legs};
use crate::call::recording::Recordings;
use crate::call::room::Room;
use crate::call::services::CallServices;
use crate::call::signal::CallSignal;
use crate::cases::workflow::{Actor, CaseEvent, Role};
use crate::media::session::MediaEvent;
use crate::phone::signal::CallInfo;

/// The machine an outbound call runs.
pub(super) enum Machine {
    Callback(Callback),
    Reminder(Reminder),
}

impl Machine {
    fn handle(&mut self, input: Input, now: std::time::Instant) {
        match self {
            Machine::Callback(m) => m.handle(input, now),
            Machine::Reminder(m) => m.handle(input, now),
        }
    }

    fn handle_timeout(&mut self, now: std::time::Instant) {
        match self {
            Machine::Callback(m) => m.handle_timeout(now),
            Machine::Reminder(m) => m.handle_timeout(now),
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        match self {
            Machine::Callback(m) => m.poll_output(),
            Machine::Reminder(m) => m.poll_output(),
        }
    }

    fn poll_timeout(&self) -> Option<std::time::Instant> {
        match self {
            Machine::Callback(m) => m.poll_timeout(),
            Machine::Reminder(m) => m.poll_timeout(),
        }
    }
}

/// What an outbound call is about.
pub(super) enum Purpose {
    /// Calling a caller back: the operator, the seat reserved under `reservation`, and what
    /// for (`missed`, `voicemail`, `return-visit`).
    Callback {
        operator: String,
        reservation: String,
        kind: &'static str,
        /// A voice message the callback answers (it is marked called back once reached).
        voicemail: Option<i64>,
    },
    /// Reminding `unit` of a case it has not signed, on its liaison's `number`.
    Reminder { unit: String, number: String },
}

/// One outbound call's edge.
pub(super) struct Outbound {
    pub services: Arc<CallServices>,
    /// Its id in the store (its calls row) and in logs.
    pub call_id: String,
    pub case_number: String,
    pub platform: String,
    /// The number called (the caller's, the liaison's).
    pub number: String,
    pub purpose: Purpose,
    pub me: SignalTx,
    pub legs: Legs,
    pub room: Room,
    pub bridged: Option<(LegId, Recordings)>,
    /// The latest prompt list played on each leg.
    pub playing: HashMap<LegId, u64>,
}

impl Outbound {
    /// Runs the machine until the call is over, then lets go of everything and stores its end.
    pub async fn run(mut self, mut machine: Machine, mut signals: SignalRx) {
        let now = || Instant::now().into_std();
        machine.handle(Input::Start, now());
        let mut inputs: Vec<Input> = Vec::new();
        'call: loop {
            while let Some(output) = machine.poll_output() {
                if output == Output::End {
                    break 'call;
                }
                if let Some(input) = self.perform(output).await {
                    inputs.push(input);
                }
            }
            if !inputs.is_empty() {
                for input in std::mem::take(&mut inputs) {
                    machine.handle(input, now());
                }
                continue;
            }
            let deadline = machine.poll_timeout().map(Instant::from_std);
            let services = self.services.clone();
            tokio::select! {
                biased;
                signal = signals.recv() => {
                    let Some(signal) = signal else { break 'call };
                    if let Some(input) = self.signal(&services, signal).await {
                        machine.handle(input, now());
                    }
                }
                media = self.legs.event() => {
                    let input = match media {
                        LegMedia::Event(leg, Some(MediaEvent::Dtmf { digit })) => {
                            info!(call_id = self.call_id, %digit, "DTMF from the called party");
                            Some(Input::Dtmf { leg, digit })
                        }
                        LegMedia::Event(_, Some(MediaEvent::Audio { .. })) => None,
                        LegMedia::Event(leg, Some(MediaEvent::Timeout) | None) => {
                            Some(Input::Leg { leg, event: SeatEvent::MediaTimeout })
                        }
                        LegMedia::Played(leg, generation) => {
                            (self.playing.get(&leg) == Some(&generation)).then_some(Input::PlayDone { leg })
                        }
                    };
                    if let Some(input) = input {
                        machine.handle(input, now());
                    }
                }
                _ = or_pending(deadline.map(tokio::time::sleep_until)) => machine.handle_timeout(now()),
            }
        }
        self.finish().await;
    }

    /// A signal about a leg, as an input.
    async fn signal(&mut self, services: &CallServices, signal: CallSignal) -> Option<Input> {
        let owner = self.call_id.clone();
        match self.legs.on_signal(services, signal, &owner).await {
            Ok(seen) => {
                let (leg, event) = seen?;
                if event == SeatEvent::Answered {
                    self.legs.watch_played(leg);
                }
                Some(Input::Leg { leg, event })
            }
            Err(CallSignal::AgentRefer { key, request }) => {
                // Nothing to transfer in an outbound call.
                let leg = self.legs.hold_request(services, key, *request)?;
                self.legs
                    .answer(services, leg, crate::call::flow::LegReply::NoDialog);
                None
            }
            Err(_) => None,
        }
    }

    /// The local address a seat reaches us on.
    fn local_ip_for_seat(&self, agent: &str) -> IpAddr {
        let services = &self.services;
        services.advertise_ip.unwrap_or_else(|| {
            services
                .registrar
                .contacts(agent)
                .last()
                .and_then(|b| crate::net::route::local_ip_towards(b.source))
                .unwrap_or(services.endpoint.local_addr().ip())
        })
    }

    /// Performs one output; an input it gave rise to.
    async fn perform(&mut self, output: Output) -> Option<Input> {
        let services = self.services.clone();
        let call_id = self.call_id.clone();
        match output {
            Output::Dial { leg, to } => {
                let placed = match &to {
                    Dest::Seat(agent) => {
                        let info = CallInfo {
                            call_id: call_id.clone(),
                            case_number: self.case_number.clone(),
                            caller: self.number.clone(),
                            platform: self.platform.clone(),
                            platform_name: services.dialplan().platform_name(&self.platform),
                            queue: "callback".into(),
                            waited_seconds: 0,
                            phone: "sip",
                        };
                        let ip = self.local_ip_for_seat(agent);
                        AgentLeg::dial(&services, agent, info, ip, &self.me).await
                    }
                    Dest::Number(number) => {
                        AgentLeg::dial_number(
                            &services,
                            number,
                            &self.platform,
                            services.endpoint.local_addr().ip(),
                            &self.me,
                        )
                        .await
                    }
                };
                match placed {
                    Ok(placed) => {
                        if let Err(e) = services
                            .store
                            .leg_rang(&call_id, &placed.call_id, &placed.agent, Utc::now())
                            .await
                        {
                            warn!(call_id, error = %e, "leg not stored");
                        }
                        self.legs.insert(leg, placed);
                    }
                    Err(e) => {
                        warn!(call_id, ?to, error = %e, "cannot place the leg");
                        return Some(Input::Leg {
                            leg,
                            event: SeatEvent::DialFailed,
                        });
                    }
                }
            }
            Output::Cancel(leg) => {
                if let Some(l) = self.legs.get(leg) {
                    l.cancel(&services).await;
                }
            }
            Output::HangUp(leg) => {
                if let Some(l) = self.legs.get_mut(leg) {
                    l.hang_up(&services).await;
                }
            }
            Output::AnswerLeg { leg, reply } => self.legs.answer(&services, leg, reply),
            Output::Release { leg, outcome } => {
                self.legs.release(&services, leg, &outcome, &call_id).await
            }
            Output::Play { leg, prompts } => {
                if let Some(l) = self.legs.get(leg) {
                    let prompts = prompts
                        .iter()
                        .filter_map(|n| services.prompts.get(n))
                        .collect();
                    self.playing.insert(leg, l.media.play_list(prompts));
                }
            }
            Output::Hold { leg, prompt } => {
                if let Some(l) = self.legs.get(leg) {
                    l.media.hold(prompt.and_then(|p| services.prompts.get(&p)));
                }
            }
            Output::Connect { caller, operator } => {
                let seat = self.legs.get(operator)?;
                info!(
                    call_id,
                    operator = seat.agent,
                    "caller and operator connected (callback)"
                );
                let recordings =
                    Recordings::start(&services, &call_id, seat, &self.platform, &self.case_number)
                        .await;
                let members = [caller, operator].map(|l| Member {
                    party: Party::Leg(l),
                    heard_by: Hearers::Everyone,
                    hears: true,
                });
                let legs = &self.legs;
                self.room.apply(&members, legs.sessions(None), |p| match p {
                    Party::Leg(l) if l == caller => recordings.queue(0),
                    Party::Leg(l) if l == operator => recordings.queue(1),
                    _ => None,
                });
                self.bridged = Some((operator, recordings));
            }
            Output::Disconnect => self.disconnect().await,
            Output::Outcome(outcome) => self.store_outcome(outcome).await,
            Output::RateHandling(rating) => self.rate_handling(rating).await,
            Output::Sign => return Some(Input::Signed(self.sign().await)),
            Output::ReminderOutcome(outcome) => {
                if let Purpose::Reminder { unit, number } = &self.purpose {
                    info!(
                        call_id,
                        case = self.case_number,
                        unit,
                        outcome,
                        "reminder call"
                    );
                    if let Err(e) = services
                        .store
                        .record_reminder(
                            &self.case_number,
                            unit,
                            number,
                            outcome,
                            &call_id,
                            Utc::now(),
                        )
                        .await
                    {
                        warn!(call_id, error = %e, "reminder not stored");
                    }
                }
            }
            Output::End => {}
        }
        None
    }

    async fn disconnect(&mut self) {
        let legs = &self.legs;
        self.room.clear(legs.sessions(None));
        if let Some((_, recordings)) = self.bridged.take() {
            recordings.finish(&self.services).await;
        }
    }

    /// The callback attempt, stored with its call and outcome; a voice message whose caller
    /// was reached is called back.
    async fn store_outcome(&mut self, outcome: CallbackOutcome) {
        let Purpose::Callback {
            operator,
            kind,
            voicemail,
            ..
        } = &self.purpose
        else {
            return;
        };
        let services = &self.services;
        info!(
            call_id = self.call_id,
            case = self.case_number,
            outcome = outcome.as_str(),
            kind,
            "callback attempt"
        );
        let now = Utc::now();
        if let Err(e) = services
            .store
            .record_phone_callback(
                &self.case_number,
                &self.call_id,
                operator,
                outcome.as_str(),
                kind,
                now,
            )
            .await
        {
            warn!(call_id = self.call_id, error = %e, "callback attempt not stored");
        }
        if let Some(id) = voicemail {
            let reached = outcome == CallbackOutcome::Reached;
            let note = format!("by phone: {}", outcome.as_str());
            if let Err(e) = services
                .store
                .record_callback(*id, reached, operator, &note, now)
                .await
            {
                warn!(call_id = self.call_id, error = %e, "voice message's callback not stored");
            }
        }
    }

    /// The caller's rating of the handling: on the case, and (when the unit has replied) as
    /// the return visit of the workflow, with the satisfaction.
    async fn rate_handling(&mut self, rating: u8) {
        let Purpose::Callback { operator, .. } = &self.purpose else {
            return;
        };
        let services = &self.services;
        info!(
            call_id = self.call_id,
            case = self.case_number,
            rating,
            "the caller rated the handling"
        );
        if let Err(e) = services
            .store
            .rate_handling(&self.case_number, rating)
            .await
        {
            warn!(call_id = self.call_id, error = %e, "handling rating not stored");
        }
        let satisfaction = match rating {
            1 => crate::cases::workflow::Satisfaction::Satisfied,
            2 => crate::cases::workflow::Satisfaction::BasicallySatisfied,
            _ => crate::cases::workflow::Satisfaction::Dissatisfied,
        };
        let actor = Actor {
            role: Role::Operator,
            id: operator.clone(),
            unit: None,
        };
        let event = CaseEvent::Callback {
            reached: true,
            satisfaction: Some(satisfaction),
        };
        if let Err(e) = self.apply(&actor, event, None).await {
            info!(call_id = self.call_id, error = %e, "return visit not recorded in the workflow");
        }
    }

    /// Signs the case as the unit's liaison.
    async fn sign(&mut self) -> Result<(), String> {
        let Purpose::Reminder { unit, number } = &self.purpose else {
            return Err("not a reminder".into());
        };
        let actor = Actor {
            role: Role::Unit,
            id: format!("{unit}-liaison"),
            unit: Some(unit.clone()),
        };
        let note = format!("signed by phone ({number}) after a reminder call");
        let result = self.apply(&actor, CaseEvent::Sign, Some(note)).await;
        info!(
            call_id = self.call_id,
            case = self.case_number,
            ok = result.is_ok(),
            "signing by phone"
        );
        result
    }

    /// Takes a workflow step on the case; `note` is added to its history.
    async fn apply(
        &self,
        actor: &Actor,
        event: CaseEvent,
        note: Option<String>,
    ) -> Result<(), String> {
        crate::call::case_step::take(&self.services, &self.case_number, actor, event, note)
            .await
            .map_err(|e| e.to_string())
    }

    /// The end: nothing stays behind, the seat is free again, the call's end is stored.
    async fn finish(mut self) {
        self.disconnect().await;
        let services = self.services.clone();
        for leg in self.legs.ids() {
            self.legs
                .release(&services, leg, "call-ended", &self.call_id)
                .await;
        }
        if let Purpose::Callback { reservation, .. } = &self.purpose {
            services.queue.event(crate::acd::AcdEvent::Released {
                call: reservation.clone(),
            });
        }
        let cause = match &self.purpose {
            Purpose::Callback { .. } => "callback-done",
            Purpose::Reminder { .. } => "reminder-done",
        };
        if let Err(e) = services
            .store
            .end_call(&self.call_id, Utc::now(), cause)
            .await
        {
            warn!(call_id = self.call_id, error = %e, "outbound call's end not stored");
        }
        services
            .outbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.case_number);
        info!(
            call_id = self.call_id,
            case = self.case_number,
            "outbound call ended"
        );
    }
}
