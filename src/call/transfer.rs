//! Transfers: an operator hands the caller on (SIP REFER from their softphone). The target is a
//! queue of the dialplan (`530000`, `532900-bai`) or a number with an area code in front of the
//! service number (`087212345`: Dali's own queue); [`crate::routing::transfer`] says which are
//! allowed. A call handed to the provincial platform takes its case along: the case is
//! escalated there (the province then dispatches it, or passes the call on to a prefecture).
//! The API (`POST /api/calls/{call_id}/transfer`) asks the same of a call, by the same rule.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::agent_leg::AgentLeg;
use super::context::InboundCall;
use super::services::CallServices;
use super::signal::{CallSignal, EndCause};
use crate::calendar::DeadlineRules;
use crate::cases::workflow::{Actor, CaseEvent};
use crate::dialplan::Dialplan;
use crate::routing::{check_transfer, RouteReason, TransferRefused};
use crate::sip::message::{self, response_for};
use crate::sip::transaction::TransactionKey;

pub use super::signal::TransferTarget;

/// The queue `target` names for a call that is in `from_queue`, if the rule allows it.
pub fn resolve(
    plan: &Dialplan,
    from_queue: &str,
    target: &str,
) -> Result<TransferTarget, TransferRefused> {
    let to = match plan.queues.get(target) {
        Some(q) => TransferTarget {
            queue: q.name.clone(),
            platform: q.platform.clone(),
        },
        None => match plan.router.route(target, "") {
            Ok(d) if matches!(d.reason, RouteReason::CalledAreaCode(_)) => TransferTarget {
                queue: d.platform.clone(),
                platform: d.platform,
            },
            _ => return Err(TransferRefused::UnknownTarget(target.to_string())),
        },
    };
    let from_platform = plan
        .queues
        .get(from_queue)
        .map_or(from_queue, |q| q.platform.as_str());
    check_transfer(
        from_platform,
        from_queue,
        &to.platform,
        &to.queue,
        &plan.router.provincial().code,
    )?;
    Ok(to)
}

/// The case goes with a call handed up to the provincial platform: it is escalated there, by the
/// operator who transferred it. A case that cannot be escalated (already at the province, or
/// past acceptance) stays as it is; the transfer happens all the same.
pub async fn escalate_with_call(
    services: &CallServices,
    case_number: &str,
    actor: &Actor,
    to: &TransferTarget,
) {
    let agent = actor.id.as_str();
    let plan = services.dialplan();
    let provincial = plan.router.provincial().code.clone();
    if to.platform != provincial {
        return;
    }
    let store = &services.store;
    let stored = match store.load_case(case_number).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return,
        Err(e) => {
            warn!(case_number, error = %e, "case not read for escalation");
            return;
        }
    };
    let event = CaseEvent::Escalate {
        to_platform: Some(provincial),
        reason: format!("call transferred by {agent} to queue {}", to.queue),
    };
    let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
    let mut next = stored.case.clone();
    if let Err(e) = next.apply(actor, event, Utc::now(), &rules) {
        info!(case_number, error = %e, "case not escalated with its call");
        return;
    }
    match store.save_transition(&stored, &next).await {
        Ok(()) => info!(case_number, %agent, "case escalated with its call"),
        Err(e) => warn!(case_number, error = %e, "case escalation not saved"),
    }
}

impl InboundCall<'_> {
    /// Answers a seat's REFER: 202 when the rule allows its target (returned), 403 naming the
    /// rule otherwise, 400 without a Refer-To; a refused transfer leaves the call as it was.
    pub(super) fn answer_refer(
        &self,
        leg: &AgentLeg,
        queue: &str,
        key: &TransactionKey,
        request: &rsip::Request,
    ) -> Option<TransferTarget> {
        let target = message::header_value(request, "Refer-To")
            .as_deref()
            .and_then(message::uri_user);
        let respond = |status: rsip::StatusCode, warning: Option<String>| {
            let mut response = response_for(request, status, None);
            if let Some(w) = warning {
                response.headers.push(rsip::Header::Other(
                    "Warning".into(),
                    format!("399 hotline12345 \"{}\"", w.replace('"', "'")),
                ));
            }
            self.services.endpoint.respond(key, response);
        };
        let Some(target) = target else {
            respond(
                rsip::StatusCode::BadRequest,
                Some("Refer-To is missing".into()),
            );
            return None;
        };
        match resolve(&self.services.dialplan(), queue, &target) {
            Ok(to) => {
                info!(
                    call_id = self.call_id,
                    agent = leg.agent,
                    from = queue,
                    to = to.queue,
                    "transfer accepted"
                );
                // 202 Accepted (RFC 3515). Not rsip's `StatusCode::Accepted`: rsip 0.4 gives
                // that the code 201.
                respond(rsip::StatusCode::Other(202, "Accepted".into()), None);
                Some(to)
            }
            Err(refused) => {
                info!(call_id = self.call_id, agent = leg.agent, %target, %refused, "transfer refused");
                respond(rsip::StatusCode::Forbidden, Some(refused.to_string()));
                None
            }
        }
    }

    /// Ends the transferring seat's leg: the NOTIFY that its transfer succeeded, then its BYE
    /// (or ours after 2 s). Some(cause) when the caller hung up meanwhile.
    pub(super) async fn hand_over(
        &self,
        leg: &mut AgentLeg,
        signals: &mut mpsc::UnboundedReceiver<CallSignal>,
    ) -> Option<EndCause> {
        leg.notify_transfer(self.services, "200 OK").await;
        let wait = tokio::time::sleep(Duration::from_secs(2));
        tokio::pin!(wait);
        loop {
            tokio::select! {
                signal = signals.recv() => match signal {
                    Some(CallSignal::AgentBye { key, request }) => {
                        leg.answer_bye(self.services, &key, &request);
                        return None;
                    }
                    Some(CallSignal::Bye { key, request }) => {
                        self.answer_bye(&key, &request);
                        leg.hang_up(self.services).await;
                        return Some(EndCause::CallerHangup);
                    }
                    None => {
                        leg.hang_up(self.services).await;
                        return Some(EndCause::CallerHangup);
                    }
                    Some(_) => {}
                },
                _ = &mut wait => {
                    leg.hang_up(self.services).await;
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Dialplan {
        crate::dialplan::load(
            &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dialplan"),
        )
        .unwrap()
    }

    #[test]
    fn targets_are_queues_or_numbers_with_an_area_code() {
        let plan = plan();
        let to = |from: &str, target: &str| resolve(&plan, from, target);
        assert_eq!(
            to("530100", "530000").unwrap(),
            TransferTarget {
                queue: "530000".into(),
                platform: "530000".into()
            }
        );
        // The province passes a call on to Dali by its number.
        assert_eq!(to("530000", "087212345").unwrap().queue, "532900");
        // Dali's operators may use their own Bai desk.
        assert_eq!(to("532900", "532900-bai").unwrap().platform, "532900");
        // Kunming cannot go straight to Dali, and nobody to a queue that is not there.
        assert!(matches!(
            to("530100", "087212345"),
            Err(TransferRefused::AcrossPrefectures { .. })
        ));
        assert!(matches!(
            to("530100", "12345678"),
            Err(TransferRefused::UnknownTarget(_))
        ));
        assert!(matches!(
            to("530100", "12345"),
            Err(TransferRefused::UnknownTarget(_))
        ));
    }
}
