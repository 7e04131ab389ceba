//! The case workflow: states, transitions, who may do what, and the deadlines each transition
//! sets. Every transition is checked before anything changes and recorded in an append-only
//! history with its actor, time and note.
//!
//! ```text
//! accepted ──answer-directly──▶ answered-directly ──callback──▶ callback-done ──close──▶ closed ──publish──▶ published
//!    │  └──not-accepted──▶ not-accepted                            ▲
//!    └──dispatch──▶ dispatched ──sign──▶ signed ──start──▶ handling ─┐
//!          ▲                       │        └──extend (≤2)──▶ extended ─┴─reply──▶ replied ──callback──┘
//!          └─────dispatch──── returned ◀──return (≤24 h after signing)
//! ```
//!
//! Deadlines (see [`crate::calendar::deadline`] for how days and hours count):
//! - dispatch: accepted before 18:00 on a working day → by the end of that day; otherwise by
//!   10:00 of the next working day (again on each return);
//! - sign: 2 hours after dispatch (a later signing is allowed and recorded as late);
//! - return: only within 24 hours of signing;
//! - handle: 5 or 15 working days from signing by category, or the limit a law sets; each of at
//!   most two extensions, approved by the platform, adds 10 working days.

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::category::{Category, OutOfScope};
use crate::calendar::{Deadline, DeadlineRules};

/// Where a case is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseState {
    Accepted,
    AnsweredDirectly,
    NotAccepted,
    Dispatched,
    Signed,
    Returned,
    Handling,
    Extended,
    Replied,
    CallbackDone,
    Closed,
    Published,
}

impl CaseState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Accepted => "accepted",
            CaseState::AnsweredDirectly => "answered-directly",
            CaseState::NotAccepted => "not-accepted",
            CaseState::Dispatched => "dispatched",
            CaseState::Signed => "signed",
            CaseState::Returned => "returned",
            CaseState::Handling => "handling",
            CaseState::Extended => "extended",
            CaseState::Replied => "replied",
            CaseState::CallbackDone => "callback-done",
            CaseState::Closed => "closed",
            CaseState::Published => "published",
        }
    }

    /// The name the pages and tables show.
    pub fn name_zh(self) -> &'static str {
        match self {
            CaseState::Accepted => "已受理",
            CaseState::AnsweredDirectly => "已直接答复",
            CaseState::NotAccepted => "不予受理",
            CaseState::Dispatched => "已派单",
            CaseState::Signed => "已签收",
            CaseState::Returned => "已退回",
            CaseState::Handling => "办理中",
            CaseState::Extended => "已延期",
            CaseState::Replied => "已答复",
            CaseState::CallbackDone => "已回访",
            CaseState::Closed => "已办结",
            CaseState::Published => "已公开",
        }
    }

    /// Every state.
    pub const ALL: [CaseState; 12] = [
        CaseState::Accepted,
        CaseState::AnsweredDirectly,
        CaseState::NotAccepted,
        CaseState::Dispatched,
        CaseState::Signed,
        CaseState::Returned,
        CaseState::Handling,
        CaseState::Extended,
        CaseState::Replied,
        CaseState::CallbackDone,
        CaseState::Closed,
        CaseState::Published,
    ];

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True while a unit holds the case and its handling deadline runs.
    pub fn is_with_unit(self) -> bool {
        matches!(
            self,
            CaseState::Signed | CaseState::Handling | CaseState::Extended
        )
    }
}

impl Role {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Unit => "unit",
            Role::Supervisor => "supervisor",
        }
    }

    /// The role of a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Operator, Role::Unit, Role::Supervisor]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A hotline operator (accepts, answers, dispatches, calls back).
    Operator,
    /// A responsible unit (signs, returns, handles, replies) — only its own cases.
    Unit,
    /// The platform's supervisor (approves extensions, closes, publishes; may do what an
    /// operator does).
    Supervisor,
}

/// An actor: a role, an id, and for units the unit's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The role acted in.
    pub role: Role,
    /// Who (login id).
    pub id: String,
    /// The unit a unit user belongs to.
    pub unit: Option<String>,
}

/// A request to move a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CaseEvent {
    /// Set or correct the category (and the topic, a few keywords) while the case is at the
    /// platform, with the work order's details when given (they replace the earlier ones).
    Classify {
        category: Category,
        #[serde(default)]
        topic: Option<String>,
        #[serde(default)]
        order: Option<super::order::WorkOrder>,
    },
    /// A consultation answered by the operator from the knowledge base.
    AnswerDirectly { answer: String },
    /// Not for the hotline: the caller was sent to the right channel.
    NotAccepted { reason: OutOfScope },
    /// Cases that span prefectures or concern provincial departments go to the provincial
    /// platform (`to_platform`, filled in by the API), which then dispatches them.
    Escalate {
        #[serde(default)]
        to_platform: Option<String>,
        reason: String,
    },
    /// A repeated call about the same matter: the call of case `from_case` joins this case
    /// (confirmed by an operator).
    Link { from_case: String },
    /// Sent to a responsible unit; `legal_days` when a law sets the handling limit.
    Dispatch {
        unit: String,
        legal_days: Option<u32>,
    },
    /// The unit takes the case.
    Sign,
    /// The unit is not responsible and gives the case back, with the reason.
    Return { reason: String },
    /// The unit starts work.
    StartHandling,
    /// The unit asks for an extension, with the reason (the platform's supervisor grants it
    /// with `extend`); the case and its deadlines do not change.
    RequestExtension { reason: String },
    /// A complex case gets 10 more working days (at most twice), approved by the platform.
    Extend { reason: String },
    /// The unit's answer.
    Reply { reply: String },
    /// The platform called the caller back.
    Callback {
        reached: bool,
        satisfaction: Option<Satisfaction>,
    },
    /// The case is finished.
    Close,
    /// The result is published.
    Publish,
}

/// The names of every event, as stored in the history.
pub const EVENT_NAMES: [&str; 15] = [
    "classify",
    "escalate",
    "link",
    "answer-directly",
    "not-accepted",
    "dispatch",
    "sign",
    "return",
    "start-handling",
    "request-extension",
    "extend",
    "reply",
    "callback",
    "close",
    "publish",
];

/// The static name of a stored event name.
pub fn event_name(s: &str) -> Option<&'static str> {
    EVENT_NAMES.into_iter().find(|n| *n == s)
}

impl CaseEvent {
    /// The event's name, as in the history.
    pub fn name(&self) -> &'static str {
        match self {
            CaseEvent::Classify { .. } => "classify",
            CaseEvent::Escalate { .. } => "escalate",
            CaseEvent::Link { .. } => "link",
            CaseEvent::AnswerDirectly { .. } => "answer-directly",
            CaseEvent::NotAccepted { .. } => "not-accepted",
            CaseEvent::Dispatch { .. } => "dispatch",
            CaseEvent::Sign => "sign",
            CaseEvent::Return { .. } => "return",
            CaseEvent::StartHandling => "start-handling",
            CaseEvent::RequestExtension { .. } => "request-extension",
            CaseEvent::Extend { .. } => "extend",
            CaseEvent::Reply { .. } => "reply",
            CaseEvent::Callback { .. } => "callback",
            CaseEvent::Close => "close",
            CaseEvent::Publish => "publish",
        }
    }
}

/// The caller's verdict at callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

impl Satisfaction {
    /// The stored form (the note of a callback that reached the caller).
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::BasicallySatisfied => "basicallysatisfied",
            Satisfaction::Dissatisfied => "dissatisfied",
        }
    }

    /// The rating a callback's note records, if it records one.
    pub fn from_note(note: &str) -> Option<Satisfaction> {
        [
            Satisfaction::Satisfied,
            Satisfaction::BasicallySatisfied,
            Satisfaction::Dissatisfied,
        ]
        .into_iter()
        .find(|s| s.as_str() == note)
    }
}

/// A transition that is not allowed; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot {event} a case that is {state}")]
    WrongState {
        event: &'static str,
        state: &'static str,
    },
    #[error("a {role} cannot {event}")]
    NotAllowed {
        role: &'static str,
        event: &'static str,
    },
    #[error("this case is with unit {owner}, not {actor_unit}")]
    NotYourCase { owner: String, actor_unit: String },
    #[error("a case needs a category before it can be {0}")]
    NoCategory(&'static str),
    #[error("only consultations are answered directly; this is a {0}")]
    NotAConsultation(&'static str),
    #[error("the 24 hours to return the case ended at {0}")]
    ReturnWindowClosed(DateTime<Utc>),
    #[error("a case may be extended at most twice")]
    TooManyExtensions,
    /// A text the event needs is empty; `field` is its name in the event.
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    /// A text longer than the rules allow; `field` is its name in the event.
    #[error("{field} is at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    /// A number outside what the rules allow; `field` is its name in the event.
    #[error("{field} must be between {min} and {max}, not {got}")]
    OutOfRange {
        field: &'static str,
        min: u64,
        max: u64,
        got: u64,
    },
}

/// The deadlines in force; None where none runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deadlines {
    /// Dispatch to a unit.
    pub dispatch: Option<Deadline>,
    /// Signing by the unit.
    pub sign: Option<Deadline>,
    /// The end of the unit's window to return the case.
    pub return_until: Option<Deadline>,
    /// Handling by the unit.
    pub handle: Option<Deadline>,
}

impl Deadlines {
    /// True when any deadline in force depends on a year the calendar lacks.
    pub fn provisional(&self) -> bool {
        [self.dispatch, self.sign, self.return_until, self.handle]
            .iter()
            .flatten()
            .any(|d| d.provisional)
    }
}

/// One recorded transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What (the event's name).
    pub event: &'static str,
    /// State before.
    pub from: CaseState,
    /// State after.
    pub to: CaseState,
    /// The reason, answer or reply given; for a late signing, says so.
    pub note: String,
}

/// Accepted before this local time on a working day → dispatched the same day.
const SAME_DAY_DISPATCH_BEFORE: (u32, u32) = (18, 0);
/// Otherwise dispatched before this local time of the next working day.
const NEXT_DAY_DISPATCH_BY: (u32, u32) = (10, 0);
/// Hours a unit has to sign for a dispatched case.
pub const SIGN_HOURS: i64 = 2;
/// Hours after signing in which a unit may return a case.
pub const RETURN_HOURS: i64 = 24;
/// Working days each extension adds.
pub const EXTENSION_DAYS: u32 = 10;
/// The longest handling limit a law may set for a dispatched case, in working days. The
/// longest statutory limits a hotline case meets are about 60 days plus a 30-day extension
/// (the Regulations on Letters and Visits, administrative reconsideration): 90 covers them,
/// and anything longer is a typing error, refused before it reaches the deadlines.
pub const MAX_LEGAL_DAYS: u32 = 90;
/// Extensions allowed.
pub const MAX_EXTENSIONS: u32 = 2;

/// A case as the workflow sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The readable, unique case number.
    pub case_number: String,
    /// The platform (division code) that holds the case.
    pub platform: String,
    /// Current state.
    pub state: CaseState,
    /// Category, once classified.
    pub category: Option<Category>,
    /// Why it was not accepted, with the channel named.
    pub out_of_scope: Option<OutOfScope>,
    /// The unit the case is dispatched to.
    pub unit: Option<String>,
    /// What the request is about, in a few keywords (for statistics and linking).
    pub topic: String,
    /// The work order's details.
    pub order: super::order::WorkOrder,
    /// A handling limit set by law, in working days, overriding the category's.
    pub legal_days: Option<u32>,
    /// Extensions granted so far.
    pub extensions: u32,
    /// Deadlines in force.
    pub deadlines: Deadlines,
    /// Every transition, oldest first.
    pub history: Vec<HistoryEntry>,
}

impl Case {
    /// A case accepted at `accepted_at`, with its dispatch deadline.
    pub fn accept(
        case_number: &str,
        platform: &str,
        category: Option<Category>,
        accepted_at: DateTime<Utc>,
        rules: &DeadlineRules<'_>,
    ) -> Case {
        Case {
            case_number: case_number.to_string(),
            platform: platform.to_string(),
            state: CaseState::Accepted,
            category,
            out_of_scope: None,
            unit: None,
            topic: String::new(),
            order: Default::default(),
            legal_days: None,
            extensions: 0,
            deadlines: Deadlines {
                dispatch: Some(dispatch_deadline(accepted_at, rules)),
                ..Deadlines::default()
            },
            history: Vec::new(),
        }
    }

    /// Applies `event` by `actor` at `now`; on error nothing changes.
    pub fn apply(
        &mut self,
        actor: &Actor,
        event: CaseEvent,
        now: DateTime<Utc>,
        rules: &DeadlineRules<'_>,
    ) -> Result<&HistoryEntry, WorkflowError> {
        let name = event.name();
        check_role(actor.role, name)?;
        let from = self.state;
        let mut next = self.clone();
        let note = next.transition(actor, event, now, rules)?;
        next.history.push(HistoryEntry {
            at: now,
            actor: actor.clone(),
            event: name,
            from,
            to: next.state,
            note,
        });
        *self = next;
        Ok(self.history.last().expect("just pushed"))
    }

    fn transition(
        &mut self,
        actor: &Actor,
        event: CaseEvent,
        now: DateTime<Utc>,
        rules: &DeadlineRules<'_>,
    ) -> Result<String, WorkflowError> {
        use CaseState as S;
        let name = event.name();
        let wrong = |state: CaseState| WorkflowError::WrongState {
            event: name,
            state: state.as_str(),
        };
        match event {
            CaseEvent::Classify {
                category,
                topic,
                order,
            } => {
                if !matches!(self.state, S::Accepted | S::Returned) {
                    return Err(wrong(self.state));
                }
                if let Some(order) = order {
                    self.order = order.checked().map_err(|e| WorkflowError::TooLong {
                        field: e.field,
                        max: e.max,
                    })?;
                }
                self.category = Some(category);
                if let Some(topic) = topic {
                    self.topic = topic.trim().to_string();
                }
                let mut note = format!("{} {}", category.as_str(), self.topic)
                    .trim()
                    .to_string();
                if let Some(id) = self.order.knowledge_entry {
                    note.push_str(&format!(" [knowledge-base entry {id}]"));
                }
                if self.order.confidential {
                    note.push_str(" [confidential]");
                }
                Ok(note)
            }
            CaseEvent::Escalate {
                to_platform,
                reason,
            } => {
                self.require(&[S::Accepted, S::Returned], name)?;
                non_empty(&reason, "reason")?;
                let to = to_platform.ok_or(WorkflowError::Empty {
                    field: "to_platform",
                })?;
                if to == self.platform {
                    return Err(WorkflowError::WrongState {
                        event: name,
                        state: "already at the provincial platform",
                    });
                }
                let from = std::mem::replace(&mut self.platform, to);
                self.unit = None;
                self.deadlines = Deadlines {
                    dispatch: Some(dispatch_deadline(now, rules)),
                    ..Deadlines::default()
                };
                Ok(format!("from {from}: {reason}"))
            }
            CaseEvent::Link { from_case } => {
                if matches!(self.state, S::Closed | S::Published | S::NotAccepted) {
                    return Err(wrong(self.state));
                }
                non_empty(&from_case, "from_case")?;
                Ok(format!("the call of {from_case} joins this case"))
            }
            CaseEvent::AnswerDirectly { answer } => {
                self.require(&[S::Accepted], name)?;
                match self.category {
                    Some(Category::Consultation) => {}
                    Some(other) => return Err(WorkflowError::NotAConsultation(other.as_str())),
                    None => return Err(WorkflowError::NoCategory("answered")),
                }
                non_empty(&answer, "answer")?;
                self.state = S::AnsweredDirectly;
                self.deadlines = Deadlines::default();
                Ok(answer)
            }
            CaseEvent::NotAccepted { reason } => {
                self.require(&[S::Accepted], name)?;
                self.state = S::NotAccepted;
                self.out_of_scope = Some(reason);
                self.deadlines = Deadlines::default();
                Ok(format!(
                    "{}: refer to {}",
                    reason.as_str(),
                    reason.channel()
                ))
            }
            CaseEvent::Dispatch { unit, legal_days } => {
                self.require(&[S::Accepted, S::Returned], name)?;
                if self.category.is_none() {
                    return Err(WorkflowError::NoCategory("dispatched"));
                }
                non_empty(&unit, "unit")?;
                if let Some(days) = legal_days {
                    if !(1..=MAX_LEGAL_DAYS).contains(&days) {
                        return Err(WorkflowError::OutOfRange {
                            field: "legal_days",
                            min: 1,
                            max: MAX_LEGAL_DAYS as u64,
                            got: days as u64,
                        });
                    }
                }
                self.state = S::Dispatched;
                self.unit = Some(unit.clone());
                self.legal_days = legal_days;
                self.deadlines = Deadlines {
                    dispatch: None,
                    sign: Some(rules.hours_after(now, SIGN_HOURS)),
                    ..Deadlines::default()
                };
                Ok(unit)
            }
            CaseEvent::Sign => {
                self.require(&[S::Dispatched], name)?;
                self.check_unit(actor)?;
                let due = self.deadlines.sign.map(|d| d.at);
                let days = self.handling_days();
                self.state = S::Signed;
                self.deadlines = Deadlines {
                    return_until: Some(rules.hours_after(now, RETURN_HOURS)),
                    handle: Some(rules.working_days_after(now, days)),
                    ..Deadlines::default()
                };
                Ok(match due {
                    Some(due) if now > due => format!("signed late: due {due}"),
                    _ => String::new(),
                })
            }
            CaseEvent::Return { reason } => {
                self.require(&[S::Signed, S::Handling], name)?;
                self.check_unit(actor)?;
                non_empty(&reason, "reason")?;
                if let Some(window) = self.deadlines.return_until {
                    if now > window.at {
                        return Err(WorkflowError::ReturnWindowClosed(window.at));
                    }
                }
                self.state = S::Returned;
                self.unit = None;
                self.deadlines = Deadlines {
                    dispatch: Some(dispatch_deadline(now, rules)),
                    ..Deadlines::default()
                };
                Ok(reason)
            }
            CaseEvent::StartHandling => {
                self.require(&[S::Signed], name)?;
                self.check_unit(actor)?;
                self.state = S::Handling;
                Ok(String::new())
            }
            CaseEvent::RequestExtension { reason } => {
                self.require(&[S::Signed, S::Handling, S::Extended], name)?;
                self.check_unit(actor)?;
                non_empty(&reason, "reason")?;
                if self.extensions >= MAX_EXTENSIONS {
                    return Err(WorkflowError::TooManyExtensions);
                }
                Ok(reason)
            }
            CaseEvent::Extend { reason } => {
                self.require(&[S::Signed, S::Handling, S::Extended], name)?;
                non_empty(&reason, "reason")?;
                if self.extensions >= MAX_EXTENSIONS {
                    return Err(WorkflowError::TooManyExtensions);
                }
                let current = self.deadlines.handle.map_or(now, |d| d.at);
                // The current deadline is 24:00 of a working day: count on from that day.
                let from = current - chrono::Duration::seconds(1);
                let extended = rules.working_days_after(from, EXTENSION_DAYS);
                self.extensions += 1;
                self.state = S::Extended;
                self.deadlines.handle = Some(extended);
                Ok(reason)
            }
            CaseEvent::Reply { reply } => {
                self.require(&[S::Signed, S::Handling, S::Extended], name)?;
                self.check_unit(actor)?;
                non_empty(&reply, "reply")?;
                self.state = S::Replied;
                // The handling deadline stays on record: it says whether the reply was on time.
                self.deadlines = Deadlines {
                    handle: self.deadlines.handle,
                    ..Deadlines::default()
                };
                Ok(reply)
            }
            CaseEvent::Callback {
                reached,
                satisfaction,
            } => {
                self.require(&[S::Replied, S::AnsweredDirectly], name)?;
                if reached {
                    self.state = S::CallbackDone;
                }
                Ok(match (reached, satisfaction) {
                    (false, _) => "caller not reached".to_string(),
                    (true, Some(s)) => s.as_str().to_string(),
                    (true, None) => "reached".to_string(),
                })
            }
            CaseEvent::Close => {
                self.require(&[S::CallbackDone, S::AnsweredDirectly], name)?;
                if actor.role == Role::Operator && self.unit.is_some() {
                    return Err(WorkflowError::NotAllowed {
                        role: "operator",
                        event: "close a case a unit handled",
                    });
                }
                self.state = S::Closed;
                Ok(String::new())
            }
            CaseEvent::Publish => {
                self.require(&[S::Closed], name)?;
                self.state = S::Published;
                Ok(String::new())
            }
        }
    }

    fn require(&self, allowed: &[CaseState], event: &'static str) -> Result<(), WorkflowError> {
        if allowed.contains(&self.state) {
            Ok(())
        } else {
            Err(WorkflowError::WrongState {
                event,
                state: self.state.as_str(),
            })
        }
    }

    fn check_unit(&self, actor: &Actor) -> Result<(), WorkflowError> {
        if actor.role != Role::Unit {
            return Ok(());
        }
        let owner = self.unit.clone().unwrap_or_default();
        let mine = actor.unit.clone().unwrap_or_default();
        if owner == mine {
            Ok(())
        } else {
            Err(WorkflowError::NotYourCase {
                owner,
                actor_unit: mine,
            })
        }
    }

    /// Working days of handling: the law's limit if one applies, else the category's.
    fn handling_days(&self) -> u32 {
        self.legal_days
            .or(self.category.map(Category::handling_days))
            .unwrap_or(5)
    }
}

/// Who may do what.
fn check_role(role: Role, event: &'static str) -> Result<(), WorkflowError> {
    let allowed = match event {
        "sign" | "return" | "start-handling" | "request-extension" | "reply" => &[Role::Unit][..],
        "extend" | "publish" => &[Role::Supervisor][..],
        _ => &[Role::Operator, Role::Supervisor][..],
    };
    if allowed.contains(&role) {
        Ok(())
    } else {
        Err(WorkflowError::NotAllowed {
            role: match role {
                Role::Operator => "operator",
                Role::Unit => "unit",
                Role::Supervisor => "supervisor",
            },
            event,
        })
    }
}

fn non_empty(text: &str, field: &'static str) -> Result<(), WorkflowError> {
    if text.trim().is_empty() {
        Err(WorkflowError::Empty { field })
    } else {
        Ok(())
    }
}

/// Accepted before 18:00 on a working day: by the end of that day; otherwise by 10:00 of the
/// next working day.
pub fn dispatch_deadline(accepted_at: DateTime<Utc>, rules: &DeadlineRules<'_>) -> Deadline {
    let (h, m) = SAME_DAY_DISPATCH_BEFORE;
    let cutoff = NaiveTime::from_hms_opt(h, m, 0).expect("valid time");
    if rules.is_working_day(accepted_at) && rules.local_time(accepted_at) < cutoff {
        rules.end_of_day(accepted_at)
    } else {
        let (h, m) = NEXT_DAY_DISPATCH_BY;
        rules.next_working_day_at(
            accepted_at,
            NaiveTime::from_hms_opt(h, m, 0).expect("valid time"),
        )
    }
}

#[cfg(test)]
#[path = "workflow/tests.rs"]
mod tests;
