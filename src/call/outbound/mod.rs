//! The hotline's own calls: callbacks (国办函〔2025〕66号: call back missed callers; 回访 after
//! handling) and phone reminders to units that have not signed a dispatched case. Each is a
//! pure machine ([`callback`], [`reminder`], sharing [`io`]) run by one edge ([`driver`]), and
//! starts from the API or by itself ([`schedule`]'s rules, run by [`run_callback_list`] and
//! [`run_reminders`]). A case has at most one outbound call at a time.
//!
//! Every outbound call is stored with its case before it is dialled (a call row with direction
//! `out`), its legs with their outcomes, its recordings, and what came of it: a callback
//! attempt (reached, no answer, busy, refused, failed), a rating of the handling, a signing, a
//! reminder's outcome.

pub mod callback;
mod driver;
pub mod io;
pub mod reminder;
pub mod schedule;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tracing::{info, warn};

use super::directory::signal_channel;
use super::services::CallServices;
use crate::sip::message;
use driver::{Machine, Outbound, Purpose};

/// Why an outbound call was not placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPlaced {
    #[error("no case {0}")]
    NoCase(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the store failed: {0}")]
    Store(String),
}

/// What a callback is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackKind {
    /// A missed call (an abandoned wait) or a voice message: the case owed a callback.
    Missed,
    /// A return visit (回访) after the unit replied: the caller rates the handling.
    ReturnVisit,
}

impl CallbackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackKind::Missed => "missed",
            CallbackKind::ReturnVisit => "return-visit",
        }
    }
}

/// Marks `case_number` as having an outbound call; false when it already has one.
fn claim(services: &CallServices, case_number: &str) -> bool {
    services
        .outbound
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(case_number.to_string())
}

fn unclaim(services: &CallServices, case_number: &str) {
    services
        .outbound
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(case_number);
}

/// Calls the caller of `case_number` back: the operator at `seat` (a free seat of the
/// platform when None) is rung first, then the caller through the platform's trunk. Returns
/// the outbound call's id once it is placed (its progress is on the case).
pub async fn call_back(
    services: &Arc<CallServices>,
    case_number: &str,
    seat: Option<&str>,
    kind: CallbackKind,
) -> Result<String, NotPlaced> {
    let store = &services.store;
    let case = store
        .case_by_number(case_number)
        .await
        .map_err(|e| NotPlaced::Store(e.to_string()))?
        .ok_or_else(|| NotPlaced::NoCase(case_number.to_string()))?;
    if case.caller.is_empty() {
        return Err(NotPlaced::Conflict(
            "the caller was anonymous: there is no number to call back".into(),
        ));
    }
    if kind == CallbackKind::Missed && case.callback_status.as_deref() != Some("awaiting") {
        return Err(NotPlaced::Conflict(format!(
            "case {case_number} is not awaiting a callback"
        )));
    }
    let plan = services.dialplan();
    if plan.trunks.for_platform(&case.platform).is_none() {
        return Err(NotPlaced::Conflict(format!(
            "no trunk in trunks.toml serves platform {}",
            case.platform
        )));
    }
    if !claim(services, case_number) {
        return Err(NotPlaced::Conflict(format!(
            "case {case_number} has a call out in progress"
        )));
    }
    let call_id = message::new_call_id("callback");
    let reservation = format!("callback:{call_id}");
    let operator = match seat {
        Some(seat) => match services.queue.reserve(&reservation, seat).await {
            Ok(()) => seat.to_string(),
            Err(e) => {
                unclaim(services, case_number);
                return Err(NotPlaced::Conflict(format!(
                    "seat {seat} cannot call back now: {e}"
                )));
            }
        },
        None => match services.queue.pick_for(&reservation, &case.platform).await {
            Some(seat) => seat,
            None => {
                unclaim(services, case_number);
                return Err(NotPlaced::Conflict(format!(
                    "no seat of platform {} is free now",
                    case.platform
                )));
            }
        },
    };
    let release = |services: &CallServices| {
        services.queue.event(crate::acd::AcdEvent::Released {
            call: reservation.clone(),
        });
        unclaim(services, case_number);
    };
    if let Err(e) = store
        .open_outbound_call(
            case_number,
            &call_id,
            &case.caller,
            kind.as_str(),
            Utc::now(),
        )
        .await
    {
        release(services);
        return Err(NotPlaced::Store(e.to_string()));
    }
    let voicemail = case
        .voicemails
        .iter()
        .find(|v| v.status == "awaiting-callback")
        .map(|v| v.id);
    let kind_name = match (kind, voicemail) {
        (CallbackKind::Missed, Some(_)) => "voicemail",
        (kind, _) => kind.as_str(),
    };
    let times = callback::CallbackTimes {
        ring_seat: plan.callbacks.ring_seat,
        ring_caller: plan.callbacks.ring_caller,
        rating: (kind == CallbackKind::ReturnVisit && plan.rating.enabled)
            .then_some(plan.rating.wait),
    };
    let machine = Machine::Callback(callback::Callback::new(&operator, &case.caller, times));
    info!(
        call_id,
        case = case_number,
        operator,
        kind = kind_name,
        "calling back"
    );
    spawn(
        services,
        &call_id,
        case_number,
        &case.platform,
        &case.caller,
        Purpose::Callback {
            operator,
            reservation: reservation.clone(),
            kind: kind_name,
            voicemail,
        },
        machine,
    );
    Ok(call_id)
}

/// Calls the liaison of the unit holding `case_number`, dispatched and not signed, with the
/// case number and the sign deadline; key 1 signs it. Returns the call's id once placed.
pub async fn remind(services: &Arc<CallServices>, case_number: &str) -> Result<String, NotPlaced> {
    let stored = services
        .store
        .load_case(case_number)
        .await
        .map_err(|e| NotPlaced::Store(e.to_string()))?
        .ok_or_else(|| NotPlaced::NoCase(case_number.to_string()))?;
    let case = &stored.case;
    if case.state != crate::cases::workflow::CaseState::Dispatched {
        return Err(NotPlaced::Conflict(format!(
            "case {case_number} is {}, not waiting for its unit to sign",
            case.state.as_str()
        )));
    }
    let plan = services.dialplan();
    let unit = case.unit.clone().unwrap_or_default();
    let number = plan
        .units
        .iter()
        .find(|u| u.id == unit)
        .map(|u| u.liaison.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            NotPlaced::Conflict(format!("unit {unit} has no liaison number in units.csv"))
        })?;
    let sign_due = case
        .deadlines
        .sign
        .ok_or_else(|| NotPlaced::Conflict("the case has no sign deadline".into()))?
        .at;
    if plan.trunks.for_platform(&case.platform).is_none() {
        return Err(NotPlaced::Conflict(format!(
            "no trunk in trunks.toml serves platform {}",
            case.platform
        )));
    }
    if !claim(services, case_number) {
        return Err(NotPlaced::Conflict(format!(
            "case {case_number} has a call out in progress"
        )));
    }
    let call_id = message::new_call_id("reminder");
    if let Err(e) = services
        .store
        .open_outbound_call(case_number, &call_id, &number, "reminder", Utc::now())
        .await
    {
        unclaim(services, case_number);
        return Err(NotPlaced::Store(e.to_string()));
    }
    let message = reminder::message(case_number, sign_due, plan.time_zone);
    let machine = Machine::Reminder(reminder::Reminder::new(
        &number,
        message,
        plan.reminders.ring,
        plan.reminders.wait,
    ));
    info!(
        call_id,
        case = case_number,
        unit,
        "reminding the unit by phone"
    );
    spawn(
        services,
        &call_id,
        case_number,
        &case.platform,
        &number,
        Purpose::Reminder {
            unit,
            number: number.clone(),
        },
        machine,
    );
    Ok(call_id)
}

fn spawn(
    services: &Arc<CallServices>,
    call_id: &str,
    case_number: &str,
    platform: &str,
    number: &str,
    purpose: Purpose,
    machine: Machine,
) {
    let (me, signals) = signal_channel();
    let outbound = Outbound {
        services: services.clone(),
        call_id: call_id.to_string(),
        case_number: case_number.to_string(),
        platform: platform.to_string(),
        number: number.to_string(),
        purpose,
        me,
        legs: Default::default(),
        room: Default::default(),
        bridged: None,
        playing: Default::default(),
    };
    tokio::spawn(outbound.run(machine, signals));
}

/// The automatic callback list, while the server runs: every `every`, each caller owed a
/// callback whose platform is staffed, whose attempts and spacing allow one, is offered to a
/// free seat of the platform (none while callers wait there).
pub async fn run_callback_list(services: Arc<CallServices>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let plan = services.dialplan();
        if !plan.callbacks.automatic {
            continue;
        }
        let owed = match services.store.owed_callbacks().await {
            Ok(owed) => owed,
            Err(e) => {
                warn!(error = %e, "callbacks owed not read");
                continue;
            }
        };
        let now = Utc::now();
        for c in owed {
            if c.caller.is_empty()
                || !plan.is_staffed(&c.platform, now)
                || plan.trunks.for_platform(&c.platform).is_none()
                || !schedule::callback_due(c.attempts, c.last_attempt, &plan.callbacks, now)
            {
                continue;
            }
            match call_back(&services, &c.case_number, None, CallbackKind::Missed).await {
                Ok(call_id) => info!(call_id, case = c.case_number, "automatic callback"),
                // No free seat, or a call in progress: next round.
                Err(e) => {
                    tracing::debug!(case = c.case_number, error = %e, "no automatic callback now")
                }
            }
        }
    }
}

/// The reminders to units, while the server runs: every `every`, each dispatched case not
/// signed is reminded when the rules say so.
pub async fn run_reminders(services: Arc<CallServices>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let plan = services.dialplan();
        if !plan.reminders.enabled {
            continue;
        }
        let cases = match services.store.unsigned_cases().await {
            Ok(cases) => cases,
            Err(e) => {
                warn!(error = %e, "unsigned cases not read");
                continue;
            }
        };
        let now = Utc::now();
        for c in cases {
            if !schedule::reminder_due(
                c.sign_due,
                c.reminders,
                c.last_reminder,
                &plan.reminders,
                now,
            ) {
                continue;
            }
            match remind(&services, &c.case_number).await {
                Ok(call_id) => info!(call_id, case = c.case_number, "automatic reminder"),
                Err(e) => tracing::debug!(case = c.case_number, error = %e, "no reminder now"),
            }
        }
    }
}
