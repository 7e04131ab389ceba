//! What the hotline writes to requesters and units, and when: the acknowledgement with the
//! case number, the answer, the refusal with the right channel, the notice of dispatch, the
//! unit's reply, and the SMS reminder to a unit's liaison after a dispatch. Texts are built
//! here from the case and the dialplan, without I/O; the store queues them in the commit of
//! what caused them.

use chrono::{DateTime, Utc};

use crate::cases::workflow::{Case, CaseState};
use crate::dialplan::Dialplan;
use crate::intake::Channel;
use crate::routing::number::NumberKind;
use crate::store::requests::{Notice, Outgoing, Requester};

/// An SMS from the hotline's number to `number`, when an SMS centre is configured and the
/// number is a mobile: (channel, to, from).
fn by_sms(plan: &Dialplan, number: &str) -> Option<(Channel, String, String)> {
    let sms = plan.channels.sms.as_ref()?;
    (NumberKind::of(number) == NumberKind::Mobile)
        .then(|| (Channel::Sms, number.to_string(), sms.number.clone()))
}

/// How a requester is written to: by mail on their address, or by SMS on their mobile.
fn reach(plan: &Dialplan, r: &Requester) -> Option<(Channel, String, String)> {
    match r.channel {
        Channel::Email => {
            let mail = plan.channels.mail.as_ref()?;
            let to = r.contact.clone()?;
            let from = mail
                .mailboxes
                .get(&r.platform)
                .or_else(|| mail.mailboxes.values().next())?;
            (!mail.relay.is_empty()).then(|| (Channel::Email, to, from.clone()))
        }
        Channel::Sms | Channel::Web | Channel::App | Channel::Phone => {
            let sms = plan.channels.sms.as_ref()?;
            let wants = match r.channel {
                Channel::Phone => r.notify,
                _ => sms.notify_reply || r.notify,
            };
            by_sms(plan, &r.phone).filter(|_| wants)
        }
        Channel::Wechat => None,
    }
}

fn local(plan: &Dialplan, at: DateTime<Utc>) -> String {
    at.with_timezone(&plan.time_zone)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn mail_subject(r: &Requester, case_number: &str, what: &str) -> String {
    let original = r.first_subject.trim();
    if original.is_empty() {
        format!("{what}（诉求编号 {case_number}）")
    } else {
        format!("Re: {original}（诉求编号 {case_number}）")
    }
}

/// The acknowledgement a new written request is owed: its case number and how to follow it.
/// None when the channel cannot carry one (no relay, no SMS centre, no mobile number) or it
/// is a follow-up.
pub fn acknowledgement(
    plan: &Dialplan,
    r: &Requester,
    case_number: &str,
    received: DateTime<Utc>,
    joined: bool,
) -> Option<Notice> {
    if joined {
        return None;
    }
    let (channel, to, from) = match r.channel {
        // Written requesters are always told their number; SMS `acknowledge = false` turns it
        // off for SMS, web and app.
        Channel::Sms | Channel::Web | Channel::App => by_sms(plan, &r.phone)
            .filter(|_| plan.channels.sms.as_ref().is_some_and(|s| s.acknowledge))?,
        _ => reach(plan, r)?,
    };
    let platform = plan.platform_name(&r.platform);
    let (subject, body) = match channel {
        Channel::Email => (
            mail_subject(r, case_number, "您的来信已受理"),
            format!(
                "您好！\n\n您于{}写给{platform}12345热线的来信已收到并受理，诉求编号：{case_number}。\n\
                 我们将在24小时内答复您。补充情况请直接回复本邮件（请保留主题中的诉求编号）；\
                 也可拨打12345，在欢迎语时按0后输入编号查询办理进度，或在12345网站“进度查询”中输入编号和手机号查询。\n\n\
                 {platform}12345政务服务便民热线\n（本邮件由系统发出）\n",
                local(plan, received)
            ),
        ),
        _ => (String::new(), caller_acknowledgement(case_number)),
    };
    Some(notice(
        channel,
        "acknowledgement",
        (to, from),
        (subject, body),
        r.first_message_ref.clone(),
        false,
    ))
}

/// A notice: `text` is (subject, body); a mail answers `in_reply_to`.
fn notice(
    channel: Channel,
    kind: &str,
    (to, from): (String, String),
    (subject, body): (String, String),
    in_reply_to: Option<String>,
    first_answer: bool,
) -> Notice {
    Notice {
        out: Outgoing {
            channel,
            kind: kind.into(),
            recipient: to,
            subject,
            body,
            attachment: None,
            in_reply_to,
        },
        sender: from,
        first_answer,
    }
}

/// The SMS that tells a requester their case number and how to follow it.
fn caller_acknowledgement(case_number: &str) -> String {
    format!(
        "【12345】您的诉求已受理，编号{case_number}。查询进度：拨打12345按0输入编号，或登录12345网站“进度查询”。"
    )
}

/// The SMS with the web form's code; None without an SMS centre (or for a number that is not
/// a mobile).
pub fn code(plan: &Dialplan, phone: &str, code: &str) -> Option<Notice> {
    let (channel, to, from) = by_sms(plan, phone)?;
    let text = format!("【12345】您的验证码是{code}，10分钟内有效。如非本人操作请忽略。");
    Some(notice(
        channel,
        "code",
        (to, from),
        (String::new(), text),
        None,
        false,
    ))
}

/// A message an operator writes to the requester from the console.
pub fn operator_message(
    plan: &Dialplan,
    r: &Requester,
    case_number: &str,
    text: &str,
) -> Option<Notice> {
    let (channel, to, from) = reach_always(plan, r)?;
    Some(to_requester(
        channel,
        to,
        from,
        r,
        case_number,
        "message",
        "关于您的诉求",
        text.trim().to_string(),
        true,
    ))
}

/// Like [`reach`], but an operator's own message goes to an SMS requester whatever the
/// notify settings say (they asked a question).
fn reach_always(plan: &Dialplan, r: &Requester) -> Option<(Channel, String, String)> {
    match r.channel {
        Channel::Sms | Channel::Web | Channel::App => by_sms(plan, &r.phone),
        _ => reach(plan, r),
    }
}

#[allow(clippy::too_many_arguments)]
fn to_requester(
    channel: Channel,
    to: String,
    from: String,
    r: &Requester,
    case_number: &str,
    kind: &str,
    what: &str,
    text: String,
    first_answer: bool,
) -> Notice {
    let (subject, body) = match channel {
        Channel::Email => (
            mail_subject(r, case_number, what),
            format!("您好！\n\n{text}\n\n诉求编号：{case_number}\n12345政务服务便民热线\n"),
        ),
        _ => (String::new(), format!("【12345】诉求{case_number}：{text}")),
    };
    notice(
        channel,
        kind,
        (to, from),
        (subject, body),
        r.first_message_ref.clone(),
        first_answer,
    )
}

/// What a workflow step that took `before` to `after` sends: to the requester (on their
/// channel) the answer, the refusal, the dispatch and the reply; to the unit's liaison an SMS
/// reminder after a dispatch.
pub fn step_notices(
    plan: &Dialplan,
    r: Option<&Requester>,
    before: &Case,
    after: &Case,
) -> Vec<Notice> {
    let mut out = Vec::new();
    // A call's case registered by its operator: the caller's SMS with the number.
    let registered = after.history.last().is_some_and(|h| h.event == "classify")
        && !before.history.iter().any(|h| h.event == "classify");
    let callers_acknowledged = plan
        .channels
        .sms
        .as_ref()
        .is_some_and(|s| s.acknowledge_callers);
    if let (true, true, Some(r)) = (registered, callers_acknowledged, r) {
        if let Some((_, to, from)) = by_sms(plan, &r.phone).filter(|_| r.channel == Channel::Phone)
        {
            out.push(notice(
                Channel::Sms,
                "acknowledgement",
                (to, from),
                (String::new(), caller_acknowledgement(&after.case_number)),
                None,
                false,
            ));
        }
    }
    if before.state == after.state {
        return out;
    }
    let n = &after.case_number;
    let requester = r.and_then(|r| reach(plan, r).map(|reach| (r, reach)));
    let unit_name = |id: &str| {
        plan.units
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_string(), |u| u.name.clone())
    };
    let note = after
        .history
        .last()
        .map(|h| h.note.clone())
        .unwrap_or_default();
    let to_requester_text: Option<(&str, &str, String)> = match after.state {
        CaseState::AnsweredDirectly => Some(("answer", "答复", note)),
        CaseState::NotAccepted => after.out_of_scope.map(|reason| {
            (
                "answer",
                "答复",
                format!(
                    "您反映的事项不属于12345热线受理范围，请{}。",
                    reason.channel()
                ),
            )
        }),
        CaseState::Dispatched => after.unit.as_ref().map(|u| {
            (
                "notice",
                "办理进度",
                format!("您的诉求已转交{}办理，我们将跟踪办理进度。", unit_name(u)),
            )
        }),
        CaseState::Replied => Some(("reply", "办理结果", format!("办理结果：{note}"))),
        _ => None,
    };
    if let (Some((r, (channel, to, from))), Some((kind, what, text))) =
        (requester, to_requester_text)
    {
        out.push(to_requester(
            channel,
            to,
            from,
            r,
            n,
            kind,
            what,
            text,
            kind != "reply",
        ));
    }
    if after.state == CaseState::Dispatched {
        let remind = plan.channels.sms.as_ref().is_some_and(|s| s.remind_units);
        let unit = after.unit.as_ref().filter(|_| remind);
        let liaison = unit.and_then(|unit| plan.units.iter().find(|u| &u.id == unit));
        if let Some((unit, (_, to, from))) =
            liaison.and_then(|u| Some((u, by_sms(plan, &u.liaison)?)))
        {
            let due = after
                .deadlines
                .sign
                .map(|d| format!("，请于{}前签收", local(plan, d.at)))
                .unwrap_or_default();
            let text = format!(
                "【12345】{}：新工单{n}（{}）已派至贵单位{due}。",
                unit.name, after.topic
            );
            out.push(notice(
                Channel::Sms,
                "reminder",
                (to, from),
                (String::new(), text),
                None,
                false,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DeadlineRules;
    use crate::cases::workflow::{Actor, CaseEvent, Role};
    use crate::cases::Category;
    use crate::dialplan::channels::SmsSettings;

    fn plan() -> Dialplan {
        let mut plan = crate::dialplan::load(std::path::Path::new("dialplan")).unwrap();
        plan.channels.sms = Some(SmsSettings {
            smsc: "127.0.0.1:2775".into(),
            system_id: "hotline".into(),
            password: String::new(),
            system_type: String::new(),
            number: "12345".into(),
            enquire_link: std::time::Duration::from_secs(30),
            remind_units: true,
            acknowledge: true,
            notify_reply: true,
            acknowledge_callers: true,
        });
        if let Some(unit) = plan.units.iter_mut().find(|u| u.id == "kmhb") {
            unit.liaison = "13008659999".into();
        }
        plan
    }

    fn requester(channel: Channel, phone: &str, contact: Option<&str>) -> Requester {
        Requester {
            channel,
            contact: contact.map(str::to_string),
            phone: phone.into(),
            notify: false,
            platform: "530100".into(),
            first_message_ref: Some("req-1@example.cn".into()),
            first_subject: "路灯不亮".into(),
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn operator() -> Actor {
        Actor {
            role: Role::Operator,
            id: "op".into(),
            unit: None,
        }
    }

    #[test]
    fn a_new_request_is_acknowledged_on_the_channel_that_can_carry_it() {
        let plan = plan();
        let at = t("2026-12-07T02:00:00Z");
        let sms = acknowledgement(
            &plan,
            &requester(Channel::Web, "13008651234", None),
            "530100-20261207-000001",
            at,
            false,
        )
        .unwrap();
        assert_eq!(
            (sms.out.channel, sms.out.recipient.as_str()),
            (Channel::Sms, "13008651234")
        );
        assert!(sms.out.body.contains("530100-20261207-000001"));
        assert!(!sms.first_answer, "an acknowledgement is no answer");
        assert!(
            acknowledgement(
                &plan,
                &requester(Channel::Sms, "087163601234", None),
                "n",
                at,
                false
            )
            .is_none(),
            "no SMS to a fixed line"
        );
        assert!(
            acknowledgement(
                &plan,
                &requester(Channel::Sms, "13008651234", None),
                "n",
                at,
                true
            )
            .is_none(),
            "a follow-up"
        );
        // Mail needs a relay: the bundled file has none.
        assert!(acknowledgement(
            &plan,
            &requester(Channel::Email, "", Some("a@example.cn")),
            "n",
            at,
            false
        )
        .is_none());
        let mut with_relay = plan.clone();
        with_relay.channels.mail.as_mut().unwrap().relay = "127.0.0.1:25".into();
        let mail = acknowledgement(
            &with_relay,
            &requester(Channel::Email, "", Some("a@example.cn")),
            "530100-20261207-000002",
            at,
            false,
        )
        .unwrap();
        assert_eq!(mail.out.recipient, "a@example.cn");
        assert_eq!(mail.sender, "12345@km.gov.cn");
        assert_eq!(mail.out.in_reply_to.as_deref(), Some("req-1@example.cn"));
        assert!(
            mail.out.subject.contains("Re: 路灯不亮")
                && mail.out.subject.contains("530100-20261207-000002")
        );
        assert!(
            mail.out.body.contains("2026年12月07日 10:00"),
            "received at, in CST: {}",
            mail.out.body
        );
    }

    #[test]
    fn registering_and_dispatching_notify_the_caller_the_requester_and_the_unit() {
        let plan = plan();
        let rules = DeadlineRules::new(&plan.calendar, plan.time_zone);
        let at = t("2026-12-07T02:00:00Z");
        let before = Case::accept("530100-20261207-000003", "530100", None, at, &rules);
        let mut classified = before.clone();
        classified
            .apply(
                &operator(),
                CaseEvent::Classify {
                    category: Category::Complaint,
                    topic: Some("下水道".into()),
                    order: None,
                },
                at,
                &rules,
            )
            .unwrap();
        // A call from a mobile: registered, the caller gets the number by SMS.
        let caller = requester(Channel::Phone, "13008651234", None);
        let sent = step_notices(&plan, Some(&caller), &before, &classified);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].out.kind, "acknowledgement");
        assert!(step_notices(
            &plan,
            Some(&requester(Channel::Phone, "087163601234", None)),
            &before,
            &classified
        )
        .is_empty());
        // Dispatched: the liaison's reminder with the sign deadline in CST, and (an SMS
        // requester) the notice, which is their first answer.
        let mut dispatched = classified.clone();
        dispatched
            .apply(
                &operator(),
                CaseEvent::Dispatch {
                    unit: "kmhb".into(),
                    legal_days: None,
                },
                at,
                &rules,
            )
            .unwrap();
        let sent = step_notices(
            &plan,
            Some(&requester(Channel::Sms, "13008651234", None)),
            &classified,
            &dispatched,
        );
        let kinds: Vec<&str> = sent.iter().map(|n| n.out.kind.as_str()).collect();
        assert_eq!(kinds, ["notice", "reminder"]);
        assert!(sent[0].first_answer);
        assert!(sent[0].out.body.contains("昆明市生态环境局"));
        assert_eq!(sent[1].out.recipient, "13008659999");
        assert!(
            sent[1].out.body.contains("12月07日 12:00前签收"),
            "{}",
            sent[1].out.body
        );
        // A phone caller who did not ask for notices hears of the dispatch by phone only.
        let sent = step_notices(&plan, Some(&caller), &classified, &dispatched);
        assert_eq!(
            sent.iter().map(|n| n.out.kind.as_str()).collect::<Vec<_>>(),
            ["reminder"]
        );
    }
}
