//! Transfers: an operator hands the caller on (SIP REFER from their softphone). The target is a
//! queue of the dialplan (`530000`, `532900-bai`) or a number with an area code in front of the
//! service number (`087212345`: Dali's own queue); [`crate::routing::transfer`] says which are
//! allowed. A call handed to the provincial platform takes its case along: the case is
//! escalated there (the province then dispatches it, or passes the call on to a prefecture).
//! The API (`POST /api/calls/{call_id}/transfer`) asks the same of a call, by the same rule.

use tracing::{info, warn};

use super::case_step::{self, StepFailed};
use super::services::CallServices;
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
    let provincial = services.dialplan().router.provincial().code.clone();
    if to.platform != provincial {
        return;
    }
    let event = CaseEvent::Escalate {
        to_platform: Some(provincial),
        reason: format!("call transferred by {agent} to queue {}", to.queue),
    };
    match case_step::take(services, case_number, actor, event, None).await {
        Ok(()) => info!(case_number, %agent, "case escalated with its call"),
        Err(StepFailed::NoCase) => {}
        Err(StepFailed::Refused(e)) => {
            info!(case_number, error = %e, "case not escalated with its call")
        }
        Err(StepFailed::Store(e)) => warn!(case_number, error = %e, "case escalation not saved"),
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
    let Some(reason) = services
        .dialplan()
        .hotlines
        .get(&hotline.number)
        .map(|h| h.reason)
    else {
        return;
    };
    let note = format!("handed over to {} {}", hotline.number, hotline.name);
    let event = CaseEvent::NotAccepted { reason };
    match case_step::take(services, case_number, actor, event, Some(note)).await {
        Ok(()) | Err(StepFailed::NoCase) => {}
        Err(StepFailed::Refused(e)) => {
            info!(case_number, error = %e, "case not closed with the hand-over")
        }
        Err(StepFailed::Store(e)) => {
            warn!(case_number, error = %e, "hand-over not saved on the case")
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
