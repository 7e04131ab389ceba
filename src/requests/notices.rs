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
            (wants && NumberKind::of(&r.phone) == NumberKind::Mobile)
                .then(|| (Channel::Sms, r.phone.clone(), sms.number.clone()))
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
        Channel::Sms | Channel::Web | Channel::App => {
            let sms = plan.channels.sms.as_ref()?;
            if !sms.acknowledge || NumberKind::of(&r.phone) != NumberKind::Mobile {
                return None;
            }
            (Channel::Sms, r.phone.clone(), sms.number.clone())
        }
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
    Some(Notice {
        out: Outgoing {
            channel,
            kind: "acknowledgement".into(),
            recipient: to,
            subject,
            body,
            attachment: None,
            in_reply_to: r.first_message_ref.clone(),
        },
        sender: from,
        first_answer: false,
    })
}

/// The SMS that tells a requester their case number and how to follow it.
fn caller_acknowledgement(case_number: &str) -> String {
    format!(
        "【12345】您的诉求已受理，编号{case_number}。查询进度：拨打12345按0输入编号，或登录12345网站“进度查询”。"
    )
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
        Channel::Sms | Channel::Web | Channel::App => {
            let sms = plan.channels.sms.as_ref()?;
            (NumberKind::of(&r.phone) == NumberKind::Mobile)
                .then(|| (Channel::Sms, r.phone.clone(), sms.number.clone()))
        }
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
    Notice {
        out: Outgoing {
            channel,
            kind: kind.into(),
            recipient: to,
            subject,
            body,
            attachment: None,
            in_reply_to: r.first_message_ref.clone(),
        },
        sender: from,
        first_answer,
    }
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
    if let (true, Some(r), Some(sms)) = (registered, r, plan.channels.sms.as_ref()) {
        if r.channel == Channel::Phone
            && sms.acknowledge_callers
            && NumberKind::of(&r.phone) == NumberKind::Mobile
        {
            out.push(Notice {
                out: Outgoing {
                    channel: Channel::Sms,
                    kind: "acknowledgement".into(),
                    recipient: r.phone.clone(),
                    subject: String::new(),
                    body: caller_acknowledgement(&after.case_number),
                    attachment: None,
                    in_reply_to: None,
                },
                sender: sms.number.clone(),
                first_answer: false,
            });
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
        if let (Some(sms), Some(unit)) = (plan.channels.sms.as_ref(), after.unit.as_ref()) {
            let liaison = plan
                .units
                .iter()
                .find(|u| &u.id == unit)
                .map(|u| u.liaison.clone());
            if let Some(liaison) =
                liaison.filter(|l| sms.remind_units && NumberKind::of(l) == NumberKind::Mobile)
            {
                let due = after
                    .deadlines
                    .sign
                    .map(|d| format!("，请于{}前签收", local(plan, d.at)))
                    .unwrap_or_default();
                out.push(Notice {
                    out: Outgoing {
                        channel: Channel::Sms,
                        kind: "reminder".into(),
                        recipient: liaison,
                        subject: String::new(),
                        body: format!(
                            "【12345】{}：新工单{n}（{}）已派至贵单位{due}。",
                            unit_name(unit),
                            after.topic
                        ),
                        attachment: None,
                        in_reply_to: None,
                    },
                    sender: sms.number.clone(),
                    first_answer: false,
                });
            }
        }
    }
    out
}
