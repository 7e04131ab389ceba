//! Transfers: an operator hands the caller on (SIP REFER from their softphone). The target is a
//! queue of the dialplan (`530000`, `532900-bai`) or a number with an area code in front of the
//! service number (`087212345`: Dali's own queue); [`crate::routing::transfer`] says which are
//! allowed. A call handed to the provincial platform takes its case along: the case is
//! escalated there (the province then dispatches it, or passes the call on to a prefecture).
//! The API (`POST /api/calls/{call_id}/transfer`) asks the same of a call, by the same rule.

use chrono::Utc;
use tracing::{info, warn};

use super::services::CallServices;
use crate::calendar::DeadlineRules;
use crate::cases::workflow::{Actor, CaseEvent};
use crate::dialplan::Dialplan;
use crate::routing::{check_transfer, RouteReason, TransferRefused};

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

/// A caller handed to another hotline (it answered): the case records the hand-over in its
/// history and, unless the matter is also the hotline's own (`also_ours`), closes as not
/// accepted with the other hotline named. A case past acceptance stays as it is (the audit
/// has the hand-over all the same).
pub async fn hand_over_case(
    services: &CallServices,
    case_number: &str,
    actor: &Actor,
    hotline: &super::flow::Hotline,
    also_ours: bool,
) {
    info!(
        case_number,
        by = actor.id,
        hotline = hotline.number,
        also_ours,
        "caller handed to another hotline"
    );
    if also_ours {
        return;
    }
    let plan = services.dialplan();
    let Some(reason) = plan.hotlines.get(&hotline.number).map(|h| h.reason) else {
        return;
    };
    let store = &services.store;
    let stored = match store.load_case(case_number).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return,
        Err(e) => {
            warn!(case_number, error = %e, "case not read for the hand-over");
            return;
        }
    };
    let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
    let mut next = stored.case.clone();
    if let Err(e) = next.apply(actor, CaseEvent::NotAccepted { reason }, Utc::now(), &rules) {
        info!(case_number, error = %e, "case not closed with the hand-over");
        return;
    }
    if let Some(entry) = next.history.last_mut() {
        entry.note = format!(
            "{}; handed over to {} {}",
            entry.note, hotline.number, hotline.name
        );
    }
    if let Err(e) = store.save_transition(&stored, &next).await {
        warn!(case_number, error = %e, "hand-over not saved on the case");
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
