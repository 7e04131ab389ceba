//! The case workflow over HTTP: lists with filters and pages, transitions by role, history,
//! supervision marks, and the unit registry.
//!
//! - `GET /api/workflow/cases?platform=&unit=&state=&category=&overdue=true&from=&to=&page=&per_page=`
//! - `GET /api/cases/{n}/history`
//! - `POST /api/cases/{n}/events` with a [`CaseEvent`] (`{"action": "dispatch", "unit": "kmhb"}`)
//! - `GET /api/supervision?platform=&unit=`
//! - `GET /api/units?platform=`

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::calendar::DeadlineRules;
use crate::cases::supervision::{marks, Mark};
use crate::cases::workflow::{CaseEvent, HistoryEntry, WorkflowError};
use crate::cases::{CaseState, Category, Role};
use crate::dialplan::Unit;
use crate::store::workflow::{CaseFilter, CaseSummary, StoredCase};
use crate::store::StoreError;

/// A case this user may see, or 404 (a case outside the user's reach is not revealed).
pub async fn visible_case(
    state: &ApiState,
    user: &Caller,
    number: &str,
) -> Result<StoredCase, ApiError> {
    let stored = state
        .store
        .load_case(number)
        .await
        .map_err(ApiError::internal)?
        .filter(|s| user.may_see(&s.case.platform, s.case.unit.as_deref()))
        .ok_or_else(|| ApiError::not_found(format!("no case {number}")))?;
    Ok(with_dispatch_deadline(state, stored))
}

pub(super) fn with_dispatch_deadline(state: &ApiState, stored: StoredCase) -> StoredCase {
    let plan = state.dialplan.current();
    stored.with_dispatch_deadline(&DeadlineRules::new(&plan.calendar, plan.time_zone))
}

/// Query of the workflow list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub platform: Option<String>,
    pub unit: Option<String>,
    pub state: Option<String>,
    pub category: Option<String>,
    pub overdue: Option<bool>,
    /// Created on or after this local date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Created on or before this local date.
    pub to: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// A page of cases.
#[derive(Debug, Serialize)]
pub struct Page {
    pub items: Vec<CaseSummary>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// The start of a local date, as UTC.
pub fn local_day_start(
    state: &ApiState,
    field: &'static str,
    day: &str,
) -> Result<DateTime<Utc>, ApiError> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, format!("{day:?} is not a date YYYY-MM-DD")))?;
    let zone = state.dialplan.current().time_zone;
    Ok(zone
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("midnight exists")
        .with_timezone(&Utc))
}

/// `GET /api/workflow/cases`.
pub async fn list(
    State(state): State<ApiState>,
    user: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    if let Some(s) = &q.state {
        CaseState::parse(s)
            .ok_or_else(|| ApiError::invalid("state", format!("unknown state {s:?}")))?;
    }
    if let Some(c) = &q.category {
        Category::parse(c)
            .ok_or_else(|| ApiError::invalid("category", format!("unknown category {c:?}")))?;
    }
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        return Err(ApiError::invalid("per_page", "1 to 200"));
    }
    let page = q.page.unwrap_or(1).max(1);
    // The user's reach narrows the filters.
    let platform = user.narrow_platform(q.platform.clone())?;
    let mut unit = q.unit.clone();
    if user.user.role == Role::Unit {
        if unit
            .as_ref()
            .is_some_and(|u| Some(u) != user.user.unit.as_ref())
        {
            return Err(ApiError::forbidden("a unit sees its own cases only"));
        }
        unit = user.user.unit.clone();
    }
    let from = q
        .from
        .as_deref()
        .map(|d| local_day_start(&state, "from", d))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|d| local_day_start(&state, "to", d).map(|t| t + chrono::Duration::days(1)))
            .transpose()?;
    let filter = CaseFilter {
        platform,
        unit,
        state: q.state,
        category: q.category,
        from,
        to,
        overdue_at: q.overdue.filter(|o| *o).map(|_| Utc::now()),
        page,
        per_page,
    };
    let (mut items, total) = state
        .store
        .list_cases(&filter)
        .await
        .map_err(ApiError::internal)?;
    // A unit never learns the number of a caller who asked for confidentiality.
    if user.user.role == Role::Unit {
        for c in items.iter_mut().filter(|c| c.confidential) {
            c.caller.clear();
        }
    }
    Ok(Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}

/// One history entry as shown.
#[derive(Debug, Serialize)]
pub struct HistoryView {
    pub at: DateTime<Utc>,
    pub actor_role: &'static str,
    pub actor_id: String,
    pub actor_unit: Option<String>,
    pub event: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub note: String,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> Self {
        HistoryView {
            at: h.at,
            actor_role: h.actor.role.as_str(),
            actor_id: h.actor.id.clone(),
            actor_unit: h.actor.unit.clone(),
            event: h.event,
            from: h.from.as_str(),
            to: h.to.as_str(),
            note: h.note.clone(),
        }
    }
}

/// A case's workflow as shown after a transition and by the history endpoint.
#[derive(Debug, Serialize)]
pub struct WorkflowView {
    pub case_number: String,
    pub platform: String,
    pub state: &'static str,
    pub category: Option<&'static str>,
    pub topic: String,
    pub unit: Option<String>,
    pub out_of_scope: Option<&'static str>,
    /// The channel an out-of-scope caller was sent to.
    pub channel: Option<&'static str>,
    pub extensions: u32,
    pub dispatch_due: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    pub return_until: Option<DateTime<Utc>>,
    pub handle_due: Option<DateTime<Utc>>,
    pub provisional: bool,
    pub mark: Option<Mark>,
    /// The work order's details; a unit does not see a confidential caller's name and address.
    pub order: crate::cases::WorkOrder,
    pub history: Vec<HistoryView>,
}

fn view(stored: &StoredCase, user: &Caller) -> WorkflowView {
    let c = &stored.case;
    WorkflowView {
        order: if user.user.role == Role::Unit {
            c.order.for_unit()
        } else {
            c.order.clone()
        },
        case_number: c.case_number.clone(),
        platform: c.platform.clone(),
        state: c.state.as_str(),
        category: c.category.map(|x| x.as_str()),
        topic: c.topic.clone(),
        unit: c.unit.clone(),
        out_of_scope: c.out_of_scope.map(|x| x.as_str()),
        channel: c.out_of_scope.map(|x| x.channel()),
        extensions: c.extensions,
        dispatch_due: c.deadlines.dispatch.map(|d| d.at),
        sign_due: c.deadlines.sign.map(|d| d.at),
        return_until: c.deadlines.return_until.map(|d| d.at),
        handle_due: c.deadlines.handle.map(|d| d.at),
        provisional: c.deadlines.provisional(),
        mark: marks(c, Utc::now()),
        history: c.history.iter().map(HistoryView::from).collect(),
    }
}

/// A work order's place lies in the case's platform (anywhere for the provincial one), and its
/// knowledge-base entry exists.
async fn check_order(
    state: &ApiState,
    plan: &crate::dialplan::Dialplan,
    platform: &str,
    order: &crate::cases::WorkOrder,
) -> Result<(), ApiError> {
    if let Some(code) = order
        .district
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let provincial = plan.router.provincial().code == platform;
        let known = plan
            .district(code)
            .is_some_and(|d| provincial || d.platform == platform);
        if !known {
            return Err(ApiError::invalid(
                "district",
                format!("{code:?} is not a district of platform {platform}"),
            ));
        }
    }
    if let Some(id) = order.knowledge_entry {
        let entry = state
            .store
            .knowledge_entry(id)
            .await
            .map_err(ApiError::internal)?;
        if entry.is_none() {
            return Err(ApiError::invalid(
                "knowledge_entry",
                format!("no knowledge-base entry {id}"),
            ));
        }
    }
    Ok(())
}

/// `GET /api/cases/{n}/history`.
pub async fn history(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
) -> Result<Json<WorkflowView>, ApiError> {
    let stored = visible_case(&state, &user, &number).await?;
    Ok(Json(view(&stored, &user)))
}

/// `POST /api/cases/{n}/events`.
pub async fn apply(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
    JsonBody(event): JsonBody<CaseEvent>,
) -> Result<Json<WorkflowView>, ApiError> {
    let stored = visible_case(&state, &user, &number).await?;
    let plan = state.dialplan.current();
    if let CaseEvent::Dispatch { unit, .. } = &event {
        let known = plan.units.iter().find(|u: &&Unit| &u.id == unit);
        match known {
            None => return Err(ApiError::invalid("unit", format!("no unit {unit:?} in the registry"))),
            Some(u) if u.platform != stored.case.platform && !user.province_wide => {
                return Err(ApiError::invalid(
                    "unit",
                    format!("unit {unit} serves platform {}; cross-platform cases go through the province", u.platform),
                ))
            }
            _ => {}
        }
    }
    if let CaseEvent::Classify {
        order: Some(order), ..
    } = &event
    {
        check_order(&state, &plan, &stored.case.platform, order).await?;
    }
    let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
    let event = match event {
        // Escalation always goes to the provincial platform.
        CaseEvent::Escalate { reason, .. } => CaseEvent::Escalate {
            to_platform: Some(plan.router.provincial().code.clone()),
            reason,
        },
        CaseEvent::Link { .. } => {
            return Err(ApiError::invalid(
                "action",
                "link repeated calls with POST /api/cases/{n}/link",
            ))
        }
        other => other,
    };
    let mut next = stored.case.clone();
    match next.apply(&user.actor(), event, Utc::now(), &rules) {
        Ok(_) => {}
        Err(e @ WorkflowError::NotAllowed { .. }) | Err(e @ WorkflowError::NotYourCase { .. }) => {
            return Err(ApiError::forbidden(e.to_string()))
        }
        Err(
            e @ (WorkflowError::Empty { field }
            | WorkflowError::OutOfRange { field, .. }
            | WorkflowError::TooLong { field, .. }),
        ) => return Err(ApiError::invalid(field, e.to_string())),
        Err(e) => return Err(ApiError::conflict(e.to_string())),
    }
    // What the step sends (the answer to a written request, the unit's SMS reminder) is queued
    // in the step's own commit.
    let notices = state.intake.step_notices(&stored, &next).await;
    let sends = !notices.is_empty();
    match state
        .store
        .save_transition_sending(&stored, &next, notices)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(m)) => return Err(ApiError::conflict(m)),
        Err(e) => return Err(ApiError::internal(e)),
    }
    if sends {
        state.intake.wake.all();
    }
    // A unit that returned a case, or an operator who escalated it, no longer sees it: show
    // what they did.
    let saved = match visible_case(&state, &user, &number).await {
        Ok(saved) => saved,
        Err(_) => StoredCase {
            case: next,
            ..stored
        },
    };
    Ok(Json(view(&saved, &user)))
}

/// Query of the supervision list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionQuery {
    pub platform: Option<String>,
    pub unit: Option<String>,
}

/// One marked case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marked {
    pub case_number: String,
    pub platform: String,
    pub unit: Option<String>,
    pub state: &'static str,
    #[serde(flatten)]
    pub mark: Mark,
    /// When the supervision scheduler first marked it (None until its next round).
    pub marked_at: Option<DateTime<Utc>>,
}

/// `GET /api/supervision`: cases due soon or overdue now, computed from stored deadlines.
pub async fn supervision(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<SupervisionQuery>,
) -> Result<Json<Vec<Marked>>, ApiError> {
    let platform = user.narrow_platform(q.platform)?;
    let unit = if user.user.role == Role::Unit {
        user.user.unit.clone()
    } else {
        q.unit
    };
    let now = Utc::now();
    let cases = state
        .store
        .open_cases(platform.as_deref(), unit.as_deref())
        .await
        .map_err(ApiError::internal)?;
    let mut out: Vec<Marked> = Vec::new();
    for s in cases.into_iter().map(|s| with_dispatch_deadline(&state, s)) {
        let Some(mark) = marks(&s.case, now) else {
            continue;
        };
        let marked_at = state
            .store
            .mark_recorded_at(s.id, mark.kind.as_str(), mark.level.as_str(), mark.due)
            .await
            .map_err(ApiError::internal)?;
        out.push(Marked {
            case_number: s.case.case_number.clone(),
            platform: s.case.platform.clone(),
            unit: s.case.unit.clone(),
            state: s.case.state.as_str(),
            mark,
            marked_at,
        });
    }
    out.sort_by(|a, b| {
        b.mark
            .level
            .cmp(&a.mark.level)
            .then(a.mark.due.cmp(&b.mark.due))
    });
    Ok(Json(out))
}

/// Query of the unit registry.
#[derive(Debug, Deserialize)]
pub struct UnitsQuery {
    pub platform: Option<String>,
}

/// `GET /api/units`.
pub async fn units(
    State(state): State<ApiState>,
    _user: Caller,
    Query(q): Query<UnitsQuery>,
) -> Json<Vec<Unit>> {
    let plan = state.dialplan.current();
    Json(
        plan.units
            .iter()
            .filter(|u| q.platform.as_ref().is_none_or(|p| *p == u.platform))
            .cloned()
            .collect(),
    )
}

/// `GET /api/districts?platform=`: the county-level divisions a work order's place is picked
/// from (all of them without a platform, or for the provincial platform).
pub async fn districts(
    State(state): State<ApiState>,
    _user: Caller,
    Query(q): Query<UnitsQuery>,
) -> Json<Vec<crate::dialplan::districts::District>> {
    let plan = state.dialplan.current();
    let provincial = plan.router.provincial().code.clone();
    Json(
        plan.districts
            .iter()
            .filter(|d| {
                q.platform
                    .as_ref()
                    .is_none_or(|p| *p == provincial || *p == d.platform)
            })
            .cloned()
            .collect(),
    )
}

/// A proposed link: an open case of the same caller, with why it looks like the same matter.
#[derive(Debug, Serialize)]
pub struct Related {
    pub case_number: String,
    pub state: &'static str,
    pub category: Option<&'static str>,
    pub topic: String,
    pub created_at: DateTime<Utc>,
    /// Shared category and topic keywords.
    pub score: usize,
}

/// The open cases of the requester of `case` (the same phone number, or the same mail address
/// or official-account user), whatever channel each came in on, leaving `case` out.
async fn open_cases_of_requester(
    state: &ApiState,
    case: &StoredCase,
) -> Result<Vec<StoredCase>, ApiError> {
    let mut open = if case.caller.is_empty() {
        Vec::new()
    } else {
        state
            .store
            .open_cases_of_caller(&case.caller)
            .await
            .map_err(ApiError::internal)?
    };
    let contact = state
        .store
        .requester_of(&case.case.case_number)
        .await
        .map_err(ApiError::internal)?
        .and_then(|r| r.contact);
    if let Some(contact) = contact.filter(|c| !c.is_empty()) {
        for other in state
            .store
            .open_cases_of_contact(&contact)
            .await
            .map_err(ApiError::internal)?
        {
            if !open.iter().any(|o| o.id == other.id) {
                open.push(other);
            }
        }
    }
    open.retain(|o| o.case.case_number != case.case.case_number);
    Ok(open)
}

/// `GET /api/cases/{n}/related`: open cases of the same requester (by phone, mail, SMS, web,
/// app or official account), most alike first, to propose linking a repeated request (并单;
/// an operator confirms with `POST /api/cases/{n}/link`). Alike: the same category, shared
/// topic keywords, and the texts' share of the same matter
/// ([`crate::intake::duplicates::same_matter`]).
pub async fn related(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
) -> Result<Json<Vec<Related>>, ApiError> {
    let this = visible_case(&state, &user, &number).await?;
    let words = crate::cases::statistics::keywords(&this.case.topic);
    let text = |c: &StoredCase| format!("{} {}", c.case.topic, c.case.order.summary);
    let mut out: Vec<Related> = open_cases_of_requester(&state, &this)
        .await?
        .into_iter()
        .filter(|o| user.may_see(&o.case.platform, o.case.unit.as_deref()))
        .map(|o| {
            let same_category =
                (o.case.category.is_some() && o.case.category == this.case.category) as usize;
            let shared = crate::cases::statistics::keywords(&o.case.topic)
                .iter()
                .filter(|w| words.contains(w))
                .count();
            let matter = crate::intake::duplicates::same_matter(&text(&this), &text(&o));
            let same_matter = (matter >= crate::intake::duplicates::SAME_MATTER) as usize * 2;
            Related {
                case_number: o.case.case_number.clone(),
                state: o.case.state.as_str(),
                category: o.case.category.map(|c| c.as_str()),
                topic: o.case.topic.clone(),
                created_at: o.created_at,
                score: same_category + shared + same_matter,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then(b.created_at.cmp(&a.created_at)));
    Ok(Json(out))
}

/// Body of a link.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The open case the repeated call joins.
    pub into: String,
}

/// `POST /api/cases/{n}/link`: the repeated request's fresh case `n` (a call, a mail, an SMS…)
/// joins the open case `into` of the same requester.
pub async fn link(
    State(state): State<ApiState>,
    user: Caller,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<LinkBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    if body.into == number {
        return Err(ApiError::invalid("into", "a case cannot join itself"));
    }
    let from = visible_case(&state, &user, &number).await?;
    let into = visible_case(&state, &user, &body.into).await?;
    let same_requester = open_cases_of_requester(&state, &from)
        .await?
        .iter()
        .any(|o| o.id == into.id);
    if !same_requester {
        return Err(ApiError::invalid(
            "into",
            "only open cases of the same caller or requester are linked",
        ));
    }
    if from.case.state != CaseState::Accepted || !from.case.history.is_empty() {
        return Err(ApiError::conflict(format!(
            "case {number} is already being worked: it stays a case of its own"
        )));
    }
    let plan = state.dialplan.current();
    let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
    let mut next = into.case.clone();
    next.apply(
        &user.actor(),
        CaseEvent::Link {
            from_case: number.clone(),
        },
        Utc::now(),
        &rules,
    )
    .map_err(|e| match e {
        WorkflowError::NotAllowed { .. } => ApiError::forbidden(e.to_string()),
        other => ApiError::conflict(other.to_string()),
    })?;
    match state.store.link_case(&from, &into, &next).await {
        Ok(()) => {}
        Err(StoreError::Conflict(m)) => return Err(ApiError::conflict(m)),
        Err(e) => return Err(ApiError::internal(e)),
    }
    let saved = visible_case(&state, &user, &body.into).await?;
    Ok(Json(view(&saved, &user)))
}

/// `GET /api/calendar`: the years the holiday calendar holds, and a warning for supervisors
/// when deadlines soon reach a year it lacks (they are then provisional).
pub async fn calendar(State(state): State<ApiState>, _user: Caller) -> Json<serde_json::Value> {
    let plan = state.dialplan.current();
    let years: Vec<i32> = plan.calendar.years().collect();
    Json(serde_json::json!({
        "years": years,
        "warning": crate::dialplan::calendar_warning(&plan, Utc::now()),
    }))
}
