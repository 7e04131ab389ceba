//! The workflow's rules, each with an injected clock (Shanghai wall-clock times).

use super::*;
use crate::calendar::testing::shanghai as sh;
use crate::calendar::{CalendarEntry, DayKind, WorkingCalendar};
use crate::cases::supervision::{marks, DeadlineKind, MarkLevel};

/// 2026's National Day week (1–7 October off, Saturday 10 October worked) and Mid-Autumn.
fn calendar() -> WorkingCalendar {
    let mut entries = Vec::new();
    for day in [25, 26, 27] {
        entries.push(entry(&format!("2026-09-{day}"), DayKind::Holiday));
    }
    for day in 1..=7 {
        entries.push(entry(&format!("2026-10-0{day}"), DayKind::Holiday));
    }
    entries.push(entry("2026-10-10", DayKind::Workday));
    WorkingCalendar::new(entries).unwrap()
}

fn entry(date: &str, kind: DayKind) -> CalendarEntry {
    CalendarEntry {
        date: date.parse().unwrap(),
        kind,
        name: "holiday".into(),
    }
}

fn operator() -> Actor {
    Actor {
        role: Role::Operator,
        id: "op1".into(),
        unit: None,
    }
}

fn supervisor() -> Actor {
    Actor {
        role: Role::Supervisor,
        id: "sup1".into(),
        unit: None,
    }
}

fn unit(id: &str) -> Actor {
    Actor {
        role: Role::Unit,
        id: format!("{id}-clerk"),
        unit: Some(id.into()),
    }
}

fn dispatch(unit: &str) -> CaseEvent {
    CaseEvent::Dispatch {
        unit: unit.into(),
        legal_days: None,
    }
}

/// A complaint accepted, dispatched and signed at the given times.
fn signed_complaint(rules: &DeadlineRules<'_>, at: &str) -> Case {
    let mut case = Case::accept(
        "530100-1",
        "530100",
        Some(Category::Complaint),
        sh(at),
        rules,
    );
    case.apply(&operator(), dispatch("kmhb"), sh(at), rules)
        .unwrap();
    case.apply(&unit("kmhb"), CaseEvent::Sign, sh(at), rules)
        .unwrap();
    case
}

#[test]
fn dispatch_deadline_at_1759_and_1801_on_the_eve_of_a_holiday() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    // Wednesday 30 September 2026, the eve of National Day.
    let before = Case::accept("a", "530100", None, sh("2026-09-30 17:59"), &rules);
    assert_eq!(
        before.deadlines.dispatch.unwrap().at,
        sh("2026-10-01 00:00")
    );
    let after = Case::accept("b", "530100", None, sh("2026-09-30 18:01"), &rules);
    assert_eq!(
        after.deadlines.dispatch.unwrap().at,
        sh("2026-10-08 10:00"),
        "10:00 of the first working day after the holiday"
    );
    // On a holiday itself, whatever the hour: the next working day.
    let holiday = Case::accept("c", "530100", None, sh("2026-10-03 09:00"), &rules);
    assert_eq!(
        holiday.deadlines.dispatch.unwrap().at,
        sh("2026-10-08 10:00")
    );
}

#[test]
fn sign_at_two_hours_and_one_minute_is_late_and_overdue_meanwhile() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let mut case = Case::accept(
        "a",
        "530100",
        Some(Category::Suggestion),
        sh("2026-11-25 09:00"),
        &rules,
    );
    case.apply(
        &operator(),
        dispatch("kmjt"),
        sh("2026-11-25 10:00"),
        &rules,
    )
    .unwrap();
    assert_eq!(case.deadlines.sign.unwrap().at, sh("2026-11-25 12:00"));

    assert_eq!(marks(&case, sh("2026-11-25 11:29")), None);
    let soon = marks(&case, sh("2026-11-25 11:30")).unwrap();
    assert_eq!(
        (soon.kind, soon.level),
        (DeadlineKind::Sign, MarkLevel::DueSoon)
    );
    assert_eq!(
        marks(&case, sh("2026-11-25 12:00")).unwrap().level,
        MarkLevel::DueSoon
    );
    let overdue = marks(&case, sh("2026-11-25 12:01")).unwrap();
    assert_eq!(overdue.level, MarkLevel::Overdue);

    let entry = case
        .apply(
            &unit("kmjt"),
            CaseEvent::Sign,
            sh("2026-11-25 12:01"),
            &rules,
        )
        .unwrap();
    assert!(entry.note.starts_with("signed late"), "{}", entry.note);
    assert_eq!(case.state, CaseState::Signed);

    // At exactly two hours it is on time.
    let mut on_time = Case::accept(
        "b",
        "530100",
        Some(Category::Suggestion),
        sh("2026-11-25 09:00"),
        &rules,
    );
    on_time
        .apply(
            &operator(),
            dispatch("kmjt"),
            sh("2026-11-25 10:00"),
            &rules,
        )
        .unwrap();
    let entry = on_time
        .apply(
            &unit("kmjt"),
            CaseEvent::Sign,
            sh("2026-11-25 12:00"),
            &rules,
        )
        .unwrap();
    assert_eq!(entry.note, "");
}

#[test]
fn handling_limits_by_category_from_signing() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    // Signed Wednesday 25 November 2026: 15 working days end on Wednesday 16 December.
    let case = signed_complaint(&rules, "2026-11-25 10:00");
    assert_eq!(case.deadlines.handle.unwrap().at, sh("2026-12-17 00:00"));
    // A consultation: 5 working days, Wednesday 2 December.
    let mut c = Case::accept(
        "c",
        "530100",
        Some(Category::Consultation),
        sh("2026-11-25 10:00"),
        &rules,
    );
    c.apply(&operator(), dispatch("u"), sh("2026-11-25 10:00"), &rules)
        .unwrap();
    c.apply(&unit("u"), CaseEvent::Sign, sh("2026-11-25 10:00"), &rules)
        .unwrap();
    assert_eq!(c.deadlines.handle.unwrap().at, sh("2026-12-03 00:00"));
    // A law's own limit wins: 3 working days.
    let mut l = Case::accept(
        "l",
        "530100",
        Some(Category::Complaint),
        sh("2026-11-25 10:00"),
        &rules,
    );
    l.apply(
        &operator(),
        CaseEvent::Dispatch {
            unit: "u".into(),
            legal_days: Some(3),
        },
        sh("2026-11-25 10:00"),
        &rules,
    )
    .unwrap();
    l.apply(&unit("u"), CaseEvent::Sign, sh("2026-11-25 10:00"), &rules)
        .unwrap();
    assert_eq!(l.deadlines.handle.unwrap().at, sh("2026-12-01 00:00"));
}

#[test]
fn two_extensions_of_ten_working_days_and_a_third_refused() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let mut case = signed_complaint(&rules, "2026-11-25 10:00");
    let extend = || CaseEvent::Extend {
        reason: "needs a site survey".into(),
    };
    // A unit cannot grant itself an extension: the platform approves.
    assert!(matches!(
        case.apply(&unit("kmhb"), extend(), sh("2026-12-01 10:00"), &rules),
        Err(WorkflowError::NotAllowed { .. })
    ));
    // It asks for one: recorded, nothing else changes; another unit cannot ask, nor anyone
    // without a reason.
    let ask = |reason: &str| CaseEvent::RequestExtension {
        reason: reason.into(),
    };
    let before = case.clone();
    assert!(matches!(
        case.apply(&unit("other"), ask("x"), sh("2026-12-01 09:00"), &rules),
        Err(WorkflowError::NotYourCase { .. })
    ));
    assert!(matches!(
        case.apply(&unit("kmhb"), ask(" "), sh("2026-12-01 09:00"), &rules),
        Err(WorkflowError::Empty { field: "reason" })
    ));
    assert!(matches!(
        case.apply(&operator(), ask("x"), sh("2026-12-01 09:00"), &rules),
        Err(WorkflowError::NotAllowed { .. })
    ));
    case.apply(
        &unit("kmhb"),
        ask("需要现场勘查"),
        sh("2026-12-01 09:00"),
        &rules,
    )
    .unwrap();
    assert_eq!(
        (case.state, case.deadlines, case.extensions),
        (before.state, before.deadlines, before.extensions)
    );
    assert_eq!(case.history.last().unwrap().event, "request-extension");
    case.apply(&supervisor(), extend(), sh("2026-12-01 10:00"), &rules)
        .unwrap();
    // From Wednesday 16 December, 10 working days: Thursday 17 … Wednesday 30 December.
    assert_eq!(case.deadlines.handle.unwrap().at, sh("2026-12-31 00:00"));
    case.apply(&supervisor(), extend(), sh("2026-12-20 10:00"), &rules)
        .unwrap();
    assert_eq!(case.extensions, 2);
    let before = case.clone();
    let err = case
        .apply(&supervisor(), extend(), sh("2026-12-28 10:00"), &rules)
        .unwrap_err();
    assert_eq!(err, WorkflowError::TooManyExtensions);
    assert_eq!(case, before, "a refused transition changes nothing");
}

#[test]
fn return_within_24_hours_of_signing_then_dispatch_again() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let mut case = signed_complaint(&rules, "2026-11-25 10:00");
    // Another unit cannot return it.
    let err = case
        .apply(
            &unit("other"),
            CaseEvent::Return {
                reason: "not ours".into(),
            },
            sh("2026-11-25 11:00"),
            &rules,
        )
        .unwrap_err();
    assert!(matches!(err, WorkflowError::NotYourCase { .. }));
    // An empty reason is refused.
    let err = case
        .apply(
            &unit("kmhb"),
            CaseEvent::Return { reason: " ".into() },
            sh("2026-11-25 11:00"),
            &rules,
        )
        .unwrap_err();
    assert_eq!(err, WorkflowError::Empty { field: "reason" });
    // At 24 hours and one minute it is too late.
    let mut late = case.clone();
    let err = late
        .apply(
            &unit("kmhb"),
            CaseEvent::Return {
                reason: "a matter for the county".into(),
            },
            sh("2026-11-26 10:01"),
            &rules,
        )
        .unwrap_err();
    assert!(matches!(err, WorkflowError::ReturnWindowClosed(_)));
    case.apply(
        &unit("kmhb"),
        CaseEvent::Return {
            reason: "a matter for the county".into(),
        },
        sh("2026-11-26 10:00"),
        &rules,
    )
    .unwrap();
    assert_eq!(case.state, CaseState::Returned);
    assert_eq!(case.unit, None);
    assert_eq!(case.deadlines.dispatch.unwrap().at, sh("2026-11-27 00:00"));
    case.apply(
        &operator(),
        dispatch("kmpn"),
        sh("2026-11-26 11:00"),
        &rules,
    )
    .unwrap();
    assert_eq!(case.unit.as_deref(), Some("kmpn"));
}

#[test]
fn the_whole_life_of_a_case_is_in_its_history() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let mut case = signed_complaint(&rules, "2026-11-25 10:00");
    case.apply(
        &unit("kmhb"),
        CaseEvent::StartHandling,
        sh("2026-11-25 11:00"),
        &rules,
    )
    .unwrap();
    case.apply(
        &unit("kmhb"),
        CaseEvent::Reply {
            reply: "The noise was stopped.".into(),
        },
        sh("2026-11-30 11:00"),
        &rules,
    )
    .unwrap();
    case.apply(
        &operator(),
        CaseEvent::Callback {
            reached: false,
            satisfaction: None,
        },
        sh("2026-11-30 15:00"),
        &rules,
    )
    .unwrap();
    assert_eq!(case.state, CaseState::Replied, "not reached: try again");
    case.apply(
        &operator(),
        CaseEvent::Callback {
            reached: true,
            satisfaction: Some(Satisfaction::Satisfied),
        },
        sh("2026-12-01 09:00"),
        &rules,
    )
    .unwrap();
    // An operator cannot close a case a unit handled; the supervisor can.
    assert!(matches!(
        case.apply(
            &operator(),
            CaseEvent::Close,
            sh("2026-12-01 10:00"),
            &rules
        ),
        Err(WorkflowError::NotAllowed { .. })
    ));
    case.apply(
        &supervisor(),
        CaseEvent::Close,
        sh("2026-12-01 10:00"),
        &rules,
    )
    .unwrap();
    case.apply(
        &supervisor(),
        CaseEvent::Publish,
        sh("2026-12-02 10:00"),
        &rules,
    )
    .unwrap();
    let steps: Vec<&str> = case.history.iter().map(|h| h.event).collect();
    assert_eq!(
        steps,
        [
            "dispatch",
            "sign",
            "start-handling",
            "reply",
            "callback",
            "callback",
            "close",
            "publish"
        ]
    );
    assert_eq!(case.history[1].actor.unit.as_deref(), Some("kmhb"));
    assert_eq!(case.state, CaseState::Published);
}

#[test]
fn wrong_steps_and_roles_are_refused() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let now = sh("2026-11-25 10:00");
    let mut case = Case::accept("a", "530100", None, now, &rules);
    // No signing what was not dispatched.
    assert!(matches!(
        case.apply(&unit("u"), CaseEvent::Sign, now, &rules),
        Err(WorkflowError::WrongState { .. })
    ));
    // No dispatch without a category.
    assert_eq!(
        case.apply(&operator(), dispatch("u"), now, &rules)
            .unwrap_err(),
        WorkflowError::NoCategory("dispatched")
    );
    // Units do not dispatch.
    case.apply(
        &operator(),
        CaseEvent::Classify {
            category: Category::Complaint,
            topic: Some("noise".into()),
            order: None,
        },
        now,
        &rules,
    )
    .unwrap();
    assert_eq!(case.topic, "noise");
    assert!(matches!(
        case.apply(&unit("u"), dispatch("u"), now, &rules),
        Err(WorkflowError::NotAllowed { .. })
    ));
    // Only consultations are answered directly.
    assert_eq!(
        case.apply(
            &operator(),
            CaseEvent::AnswerDirectly { answer: "x".into() },
            now,
            &rules
        )
        .unwrap_err(),
        WorkflowError::NotAConsultation("complaint")
    );
    assert!(
        case.history.len() == 1,
        "only the classification was recorded"
    );
}

#[test]
fn out_of_scope_requests_are_closed_with_the_channel_named() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let now = sh("2026-11-25 10:00");
    let mut case = Case::accept("a", "530100", None, now, &rules);
    let entry = case
        .apply(
            &operator(),
            CaseEvent::NotAccepted {
                reason: OutOfScope::FireEmergency,
            },
            now,
            &rules,
        )
        .unwrap();
    assert!(entry.note.contains("119"), "{}", entry.note);
    assert_eq!(case.state, CaseState::NotAccepted);
    assert_eq!(
        marks(&case, sh("2026-12-25 10:00")),
        None,
        "nothing left to supervise"
    );
}

#[test]
fn consultation_answered_directly_is_closed_by_the_operator() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let now = sh("2026-11-25 10:00");
    let mut case = Case::accept("a", "530100", Some(Category::Consultation), now, &rules);
    case.apply(
        &operator(),
        CaseEvent::AnswerDirectly {
            answer: "Residence permits are issued at the district service hall.".into(),
        },
        now,
        &rules,
    )
    .unwrap();
    case.apply(&operator(), CaseEvent::Close, now, &rules)
        .unwrap();
    assert_eq!(case.state, CaseState::Closed);
}

#[test]
fn handling_overdue_is_marked() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let case = signed_complaint(&rules, "2026-11-25 10:00");
    assert_eq!(marks(&case, sh("2026-12-15 23:59")), None);
    assert_eq!(
        marks(&case, sh("2026-12-16 00:00")).unwrap().level,
        MarkLevel::DueSoon
    );
    let m = marks(&case, sh("2026-12-17 00:01")).unwrap();
    assert_eq!(
        (m.kind, m.level),
        (DeadlineKind::Handle, MarkLevel::Overdue)
    );
}

#[test]
fn escalation_goes_to_the_province_with_a_new_dispatch_deadline() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let mut case = Case::accept(
        "a",
        "530100",
        Some(Category::Complaint),
        sh("2026-11-25 10:00"),
        &rules,
    );
    let escalate = |to: Option<&str>| CaseEvent::Escalate {
        to_platform: to.map(Into::into),
        reason: "spans Kunming and Dali".into(),
    };
    assert_eq!(
        case.apply(&operator(), escalate(None), sh("2026-11-25 10:05"), &rules)
            .unwrap_err(),
        WorkflowError::Empty {
            field: "to_platform"
        }
    );
    assert!(matches!(
        case.apply(
            &unit("u"),
            escalate(Some("530000")),
            sh("2026-11-25 10:05"),
            &rules
        ),
        Err(WorkflowError::NotAllowed { .. })
    ));
    let entry = case
        .apply(
            &operator(),
            escalate(Some("530000")),
            sh("2026-11-25 18:30"),
            &rules,
        )
        .unwrap();
    assert_eq!(entry.note, "from 530100: spans Kunming and Dali");
    assert_eq!(case.platform, "530000");
    assert_eq!(case.state, CaseState::Accepted);
    assert_eq!(
        case.deadlines.dispatch.unwrap().at,
        sh("2026-11-26 10:00"),
        "after 18:00: by 10:00 next day"
    );
    assert!(case
        .apply(
            &operator(),
            escalate(Some("530000")),
            sh("2026-11-25 18:31"),
            &rules
        )
        .is_err());
}

#[test]
fn a_repeated_call_links_only_to_an_open_case() {
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let now = sh("2026-11-25 10:00");
    let mut case = Case::accept("a", "530100", Some(Category::Consultation), now, &rules);
    let link = || CaseEvent::Link {
        from_case: "530100-20261125-000009".into(),
    };
    let entry = case.apply(&operator(), link(), now, &rules).unwrap();
    assert_eq!(entry.event, "link");
    assert_eq!(case.state, CaseState::Accepted, "a link changes no state");
    case.apply(
        &operator(),
        CaseEvent::AnswerDirectly { answer: "x".into() },
        now,
        &rules,
    )
    .unwrap();
    case.apply(&operator(), CaseEvent::Close, now, &rules)
        .unwrap();
    assert!(matches!(
        case.apply(&operator(), link(), now, &rules),
        Err(WorkflowError::WrongState { .. })
    ));
}

#[test]
fn the_work_order_is_filled_while_the_case_is_at_the_platform() {
    use crate::cases::order::{WorkOrder, MAX_SUMMARY};
    let cal = calendar();
    let rules = DeadlineRules::new(&cal, chrono_tz::Asia::Shanghai);
    let now = sh("2026-11-25 10:00");
    let mut case = Case::accept("a", "530100", None, now, &rules);
    let order = WorkOrder {
        caller_name: Some(" 张先生 ".into()),
        district: Some("530102".into()),
        summary: "夜间施工噪音".into(),
        confidential: true,
        knowledge_entry: Some(3),
        ..WorkOrder::default()
    };
    let classify = |order: WorkOrder| CaseEvent::Classify {
        category: Category::Complaint,
        topic: Some("噪音 施工".into()),
        order: Some(order),
    };
    let entry = case
        .apply(&operator(), classify(order.clone()), now, &rules)
        .unwrap();
    assert_eq!(
        entry.note,
        "complaint 噪音 施工 [knowledge-base entry 3] [confidential]"
    );
    assert_eq!(case.order.caller_name.as_deref(), Some("张先生"));
    assert_eq!(case.order.district.as_deref(), Some("530102"));
    // Too long: refused, and nothing changes.
    let before = case.clone();
    let err = case
        .apply(
            &operator(),
            classify(WorkOrder {
                summary: "字".repeat(MAX_SUMMARY + 1),
                ..order
            }),
            now,
            &rules,
        )
        .unwrap_err();
    assert_eq!(
        err,
        WorkflowError::TooLong {
            field: "summary",
            max: MAX_SUMMARY
        }
    );
    assert_eq!(case, before);
    // Once dispatched the order is the unit's to read, not the operator's to change.
    case.apply(&operator(), dispatch("kmhb"), now, &rules)
        .unwrap();
    assert!(matches!(
        case.apply(&operator(), classify(WorkOrder::default()), now, &rules),
        Err(WorkflowError::WrongState { .. })
    ));
}
