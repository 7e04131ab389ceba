//! Requests by mail and SMS with real peers on loopback: Python's smtplib sends mail to the
//! server's SMTP listener and aiosmtpd is the relay it sends through; a test SMS centre built
//! with rusmpp delivers messages from phones, takes the server's submits (UCS-2, long ones in
//! parts) and sends delivery receipts, drops the link, and sends PDUs that are not valid.

use std::sync::Arc;

use serde_json::{json, Value};
use sha2::Digest;

use crate::common;
use crate::common::cases::{api, event, OP_KUNMING, SUP_KUNMING, SUP_PROVINCE, UNIT_KMHB};
use crate::common::harness::run_on;
use crate::common::mail::{aiosmtpd_available, send, Relay};
use crate::common::server::{Backend, ServerOptions, TestServer};
use crate::common::smsc::Smsc;

/// A Kunming mobile (mobile-prefixes.csv) and the liaison of kmhb given a mobile.
const KUNMING_MOBILE: &str = "13008651234";
const KMHB_LIAISON: &str = "13008659999";

/// The bundled dialplan with channels.toml pointing at the test peers (a relay, an SMS
/// centre), small mail limits, and kmhb's liaison on a mobile.
pub fn channels_options(
    relay: Option<std::net::SocketAddr>,
    smsc: Option<std::net::SocketAddr>,
    web: &str,
) -> ServerOptions {
    let relay = relay.map_or(String::new(), |a| a.to_string());
    let sms = smsc.map_or(String::new(), |a| {
        format!("[sms]\nsmsc = \"{a}\"\nsystem_id = \"hotline\"\npassword = \"secret\"\nnumber = \"12345\"\nenquire_link_secs = 5\n")
    });
    let web = web.to_string();
    ServerOptions::with_dialplan_edit(move |name, text| match name {
        "channels.toml" => {
            let text = text
                .replace("relay = \"\"", &format!("relay = \"{relay}\""))
                .replace("max_message_kb = 10240", "max_message_kb = 512")
                .replace("max_attachment_kb = 5120", "max_attachment_kb = 64")
                .replace("voicemail_notice = false", "voicemail_notice = true");
            let text = match web.is_empty() {
                true => text,
                false => text.replace(
                    "[web]\nper_source_per_hour = 20\nper_number_per_day = 5\n",
                    &web,
                ),
            };
            format!("{text}\n{sms}")
        }
        "units.csv" => text.replace(
            "kmhb,530100,昆明市生态环境局,087163100101",
            &format!("kmhb,530100,昆明市生态环境局,{KMHB_LIAISON}"),
        ),
        "hotline.toml" => text.replace(
            "default_hours = [\"08:00-20:00\"]",
            "default_hours = [\"00:00-24:00\"]",
        ),
        _ => text,
    })
    .with_args(&["--smtp-listen", "127.0.0.1:0"])
}

/// The photo the mails carry, and its SHA-256.
fn photo() -> (Vec<u8>, String) {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    for _ in 0..8 {
        bytes.extend(0..=255u8);
    }
    let sha = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (bytes, sha)
}

/// Python that builds a mail written in GB18030 (headers and text) with the photo attached.
fn gb18030_mail(
    from: &str,
    subject: &str,
    text: &str,
    extra_headers: &str,
    attachment_len: Option<usize>,
) -> String {
    format!(
        r#"
import base64
def w(s): return "=?GB18030?B?" + base64.b64encode(s.encode("gb18030")).decode() + "?="
body = base64.encodebytes({text:?}.encode("gb18030")).decode().replace("\n", "\r\n")
photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
n = {n}
if n is not None: photo = b"\xff\xd8\xff\xe0" + b"\x00" * n
att = base64.encodebytes(photo).decode().replace("\n", "\r\n")
msg = ("From: " + w("张三") + " <{from}>\r\nTo: 12345@km.gov.cn\r\nSubject: " + w({subject:?}) + "\r\n{extra_headers}MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n--BOUND\r\nContent-Type: text/plain; charset=GB18030\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n" + body + "--BOUND\r\nContent-Type: image/jpeg\r\n"
       "Content-Disposition: attachment; filename=\"lamp.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + att + "--BOUND--\r\n").encode()
"#,
        n = attachment_len.map_or("None".to_string(), |n| n.to_string())
    )
}

fn case_in(reply: &str) -> String {
    let at = reply
        .find("case ")
        .unwrap_or_else(|| panic!("no case number in {reply:?}"));
    reply[at + 5..].trim().to_string()
}

async fn case_view(s: &TestServer, case: &str) -> Value {
    let (st, body) = api(
        s,
        Some(SUP_PROVINCE),
        "GET",
        &format!("/api/cases/{case}"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    body
}

/// Every case of a platform (the workflow list's total).
async fn cases_total(s: &TestServer) -> i64 {
    let (st, body) = api(
        s,
        Some(SUP_PROVINCE),
        "GET",
        "/api/workflow/cases?per_page=100",
        None,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    body["total"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gb18030_mail_with_an_attachment_opens_a_case_and_the_requester_hears_back() {
    if !aiosmtpd_available() {
        return;
    }
    let relay = Arc::new(Relay::start().await);
    let options = channels_options(Some(relay.addr), None, "");
    run_on(Backend::Sqlite, options, move |s| async move {
        let smtp = s.smtp.expect("the SMTP listener");
        let (photo, sha) = photo();
        let text = "北京路10号门口的路灯坏了一周，晚上很黑，请尽快修理。";
        let (code, reply) = send(
            smtp,
            "zhangsan@example.cn",
            &["12345@km.gov.cn"],
            &gb18030_mail("zhangsan@example.cn", "北京路路灯不亮", text, "Message-ID: <req-1@example.cn>\\r\\n", None),
        )
        .await;
        assert_eq!(code, 250, "{reply}");
        let case = case_in(&reply);
        assert!(case.starts_with("530100-"), "Kunming's mailbox gives a Kunming case: {case}");

        // The case: its channel, the sender, the text read from GB18030, the attachment.
        let view = case_view(&s, &case).await;
        assert_eq!(view["channel"], "email");
        assert_eq!(view["contact"], "zhangsan@example.cn");
        let first = &view["messages"][0];
        assert_eq!(first["direction"], "in");
        assert_eq!(first["subject"], "北京路路灯不亮");
        assert_eq!(first["body"], text);
        let attachment = &first["attachments"][0];
        assert_eq!(attachment["file_name"], "lamp.jpg");
        assert_eq!(attachment["sha256"], sha.as_str());
        assert_eq!(attachment["size"], photo.len() as i64);
        let kept = std::fs::read(s.data.join(attachment["path"].as_str().unwrap())).unwrap();
        assert_eq!(kept, photo, "the file kept is the file sent");
        let (st, download) = s
            .request(Some(SUP_KUNMING), "GET", &format!("/api/cases/{case}/attachments/{sha}"), None)
            .await;
        assert_eq!(st, 200, "{download}");
        assert!(view["answer_due"].is_string(), "mail is due an answer within 24 hours");

        // The acknowledgement arrives at the relay, threaded under the mail, with the number.
        let ack = relay
            .wait_for("acknowledging the case", |m| m["subject"].as_str().unwrap_or("").contains(&case))
            .await;
        assert!(ack["to"].as_str().unwrap().contains("zhangsan@example.cn"), "{ack}");
        assert!(ack["from"].as_str().unwrap().contains("12345@km.gov.cn"), "{ack}");
        assert!(ack["text"].as_str().unwrap().contains(&case), "{ack}");
        assert!(ack["in_reply_to"].as_str().unwrap().contains("req-1@example.cn"), "{ack}");
        assert_eq!(case_view(&s, &case).await["first_answer_at"], Value::Null, "an acknowledgement is no answer");

        // The operator answers: the answer goes out by mail and is the case's first answer.
        let (st, body) = event(&s, OP_KUNMING, &case, json!({"action": "classify", "category": "consultation"})).await;
        assert_eq!(st, 200, "{body}");
        let answer = "路灯已报修，维修人员三日内修复。";
        let (st, body) = event(&s, OP_KUNMING, &case, json!({"action": "answer-directly", "answer": answer})).await;
        assert_eq!(st, 200, "{body}");
        let mailed = relay
            .wait_for("with the answer", |m| m["text"].as_str().unwrap_or("").contains(answer))
            .await;
        assert!(mailed["subject"].as_str().unwrap().contains(&case), "{mailed}");
        let view = case_view(&s, &case).await;
        assert!(view["first_answer_at"].is_string(), "{view}");
        let (st, figures) = api(&s, Some(SUP_KUNMING), "GET", "/api/statistics/answers", None).await;
        assert_eq!(st, 200, "{figures}");
        let email = figures.as_array().unwrap().iter().find(|r| r["channel"] == "email").unwrap().clone();
        assert_eq!(email["requests"], 1, "{email}");
        assert_eq!(email["in_time"], 1, "{email}");
        assert_eq!(email["target_secs"], 86400);

        // A reply to our acknowledgement joins the case; so does a mail naming it in the
        // subject from the same sender. The same subject from someone else opens a new case.
        let ack_id = ack["message_id"].as_str().unwrap().to_string();
        let (code, reply) = send(
            smtp,
            "zhangsan@example.cn",
            &["12345@km.gov.cn"],
            &format!("msg = EmailMessage(); msg['From'] = 'zhangsan@example.cn'; msg['To'] = '12345@km.gov.cn'; msg['Subject'] = 'Re: 路灯'; msg['In-Reply-To'] = '{ack_id}'; msg.set_content('补充：旁边的井盖也松了。')"),
        )
        .await;
        assert_eq!((code, case_in(&reply)), (250, case.clone()), "{reply}");
        assert!(reply.contains("Added"), "{reply}");
        let (code, reply) = send(
            smtp,
            "lisi@example.cn",
            &["12345@km.gov.cn"],
            &format!("msg = EmailMessage(); msg['From'] = 'lisi@example.cn'; msg['To'] = '12345@km.gov.cn'; msg['Subject'] = '关于 {case}'; msg.set_content('我也反映这个问题。')"),
        )
        .await;
        assert_eq!(code, 250, "{reply}");
        assert_ne!(case_in(&reply), case, "nobody joins someone else's case");

        // That case goes to a unit; the unit's reply is mailed to its requester.
        let second = case_in(&reply);
        for (token, body) in [
            (OP_KUNMING, json!({"action": "classify", "category": "complaint", "topic": "路灯"})),
            (OP_KUNMING, json!({"action": "dispatch", "unit": "kmhb"})),
            (UNIT_KMHB, json!({"action": "sign"})),
            (UNIT_KMHB, json!({"action": "reply", "reply": "路灯已于今日修复。"})),
        ] {
            let (st, answer) = event(&s, token, &second, body).await;
            assert_eq!(st, 200, "{answer}");
        }
        let notice = relay
            .wait_for("telling lisi of the dispatch", |m| {
                m["to"].as_str().unwrap_or("").contains("lisi@example.cn") && m["text"].as_str().unwrap_or("").contains("生态环境局")
            })
            .await;
        assert!(notice["subject"].as_str().unwrap().contains(&second), "{notice}");
        let replied = relay
            .wait_for("with the unit's reply", |m| {
                m["to"].as_str().unwrap_or("").contains("lisi@example.cn") && m["text"].as_str().unwrap_or("").contains("路灯已于今日修复")
            })
            .await;
        assert!(replied["text"].as_str().unwrap().contains("办理结果"), "{replied}");
        let view = case_view(&s, &case).await;
        let ins: Vec<&str> = view["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "in").map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(ins, ["request", "follow-up"], "{view}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversize_mail_is_refused_and_changes_nothing() {
    if !aiosmtpd_available() {
        return;
    }
    let options = channels_options(None, None, "");
    run_on(Backend::Sqlite, options, |s| async move {
        let smtp = s.smtp.unwrap();
        // A mailbox nobody serves.
        let (code, reply) = send(smtp, "a@example.cn", &["nobody@km.gov.cn"], "msg = b'Subject: x\\r\\n\\r\\ny\\r\\n'").await;
        assert_eq!(code, 550, "{reply}");
        // An attachment over max_attachment_kb (64 KB here).
        let (code, reply) = send(
            smtp,
            "a@example.cn",
            &["12345@km.gov.cn"],
            &gb18030_mail("a@example.cn", "大附件", "见附件", "", Some(100 * 1024)),
        )
        .await;
        assert_eq!(code, 552, "{reply}");
        assert!(reply.contains("lamp.jpg") && reply.contains("65536"), "{reply}");
        // A mail over max_message_kb (512 KB here).
        let (code, reply) = send(
            smtp,
            "a@example.cn",
            &["12345@km.gov.cn"],
            "msg = b'From: a@example.cn\\r\\nSubject: big\\r\\n\\r\\n' + (b'x' * 998 + b'\\r\\n') * 700",
        )
        .await;
        assert_eq!(code, 552, "{reply}");
        // Not a mail at all, and a mail with nothing in it.
        let (code, reply) = send(smtp, "a@example.cn", &["12345@km.gov.cn"], "msg = b'\\x00\\x01\\x02'").await;
        assert_eq!(code, 550, "{reply}");
        let (code, reply) = send(smtp, "a@example.cn", &["12345@km.gov.cn"], "msg = b'From: a@example.cn\\r\\nSubject: \\r\\n\\r\\n'").await;
        assert_eq!(code, 550, "{reply}");
        assert!(reply.contains("neither subject nor text"), "{reply}");
        // An automatic reply is taken (250) but opens nothing.
        let (code, reply) = send(smtp, "a@example.cn", &["12345@km.gov.cn"], "msg = b'From: a@example.cn\\r\\nAuto-Submitted: auto-replied\\r\\nSubject: Out of office\\r\\n\\r\\naway\\r\\n'").await;
        assert_eq!(code, 250, "{reply}");
        assert!(reply.contains("no request"), "{reply}");
        assert_eq!(cases_total(&s).await, 0, "nothing was stored");
        assert!(!s.data.join("attachments").exists(), "no attachment was kept");
        // And the listener still takes a good mail after all that.
        let (code, reply) = send(smtp, "a@example.cn", &["12345@km.gov.cn"], "msg = EmailMessage(); msg['From'] = 'a@example.cn'; msg['Subject'] = '噪音'; msg.set_content('夜间施工噪音扰民')").await;
        assert_eq!(code, 250, "{reply}");
        assert_eq!(cases_total(&s).await, 1);
    })
    .await;
}

async fn outbox_of(s: &TestServer, case: &str) -> Vec<Value> {
    let (st, body) = api(
        s,
        Some(SUP_PROVINCE),
        "GET",
        &format!("/api/outbox?case={case}"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// Waits until the outbox entry of `kind` on `case` satisfies `want`.
async fn wait_outbox(
    s: &TestServer,
    case: &str,
    kind: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        if let Some(e) = outbox_of(s, case)
            .await
            .into_iter()
            .find(|e| e["kind"] == kind && want(e))
        {
            return e;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "outbox of {case}: no {kind} as wanted in {:#?}",
        outbox_of(s, case).await
    );
}

async fn sms_scenario(backend: Backend) {
    {
        let smsc = Arc::new(Smsc::start().await);
        let options = channels_options(None, Some(smsc.addr), "");
        run_on(backend, options, move |s| async move {
            smsc.wait_bound(1).await;
            // A long SMS (two parts, UCS-2) from a Kunming mobile.
            let text = "您好，盘龙区北京路小区门口的下水道堵塞好几天了，污水流到人行道上，气味很大，老人小孩出行都不方便，下雨天更加严重，已经有人滑倒受伤，希望有关部门尽快派人疏通处理，谢谢！";
            assert!(text.chars().count() > 70);
            let answer = smsc.deliver_from_phone(KUNMING_MOBILE, "12345", text).await;
            assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRok, "{answer:?}");
            let cases = s.cases_of(KUNMING_MOBILE).await;
            assert_eq!(cases.len(), 1, "{cases:?}");
            let case = cases[0]["case_number"].as_str().unwrap().to_string();
            assert!(case.starts_with("530100-"), "{case}");
            assert_eq!(cases[0]["channel"], "sms");
            assert_eq!(cases[0]["messages"][0]["body"], text, "both parts, in order");

            // The acknowledgement, in UCS-2, with the case number; then its receipt.
            let ack = smsc
                .wait_submitted("acknowledging", |m| m.destination == KUNMING_MOBILE && m.text.contains(&case))
                .await;
            assert_eq!(ack.data_coding, 8, "UCS-2");
            assert_eq!(ack.source, "12345");
            assert!(ack.text.contains("已受理"), "{}", ack.text);
            let entry = wait_outbox(&s, &case, "acknowledgement", |e| e["delivery"] == "DELIVRD").await;
            assert_eq!(entry["remote_id"], ack.ids.join(" "), "{entry}");

            // Dispatched: the unit's liaison gets the reminder (long: in parts), the requester a
            // notice (their first answer).
            let (st, body) = event(&s, OP_KUNMING, &case, json!({"action": "classify", "category": "complaint", "topic": "下水道堵塞"})).await;
            assert_eq!(st, 200, "{body}");
            let (st, body) = event(&s, OP_KUNMING, &case, json!({"action": "dispatch", "unit": "kmhb"})).await;
            assert_eq!(st, 200, "{body}");
            let reminder = smsc
                .wait_submitted("reminding kmhb", |m| m.destination == KMHB_LIAISON && m.text.contains(&case))
                .await;
            assert!(reminder.text.contains("签收"), "{}", reminder.text);
            assert_eq!(reminder.data_coding, 8);
            let notice = smsc
                .wait_submitted("telling the requester", |m| m.destination == KUNMING_MOBILE && m.text.contains("生态环境局"))
                .await;
            assert!(notice.text.contains(&case), "{}", notice.text);
            wait_outbox(&s, &case, "reminder", |e| e["delivery"] == "DELIVRD").await;
            let view = s.cases_of(KUNMING_MOBILE).await[0].clone();
            assert!(view["first_answer_at"].is_string(), "{view}");

            // The statistics count it by its channel.
            let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
            let (st, csv) = s
                .request(Some(SUP_KUNMING), "GET", &format!("/api/statistics/tables/cases-by-channel?from={today}&to={today}&format=csv"), None)
                .await;
            assert_eq!(st, 200, "{csv}");
            assert!(csv.as_str().unwrap().contains("短信,1"), "{csv}");

            // An SMS quoting the case number is a follow-up of it.
            let answer = smsc.deliver_from_phone(KUNMING_MOBILE, "12345", &format!("{case} 补充：今天更严重了")).await;
            assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRok);
            let cases = s.cases_of(KUNMING_MOBILE).await;
            assert_eq!(cases.len(), 1, "joined, not a new case");
            assert_eq!(cases[0]["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "in").count(), 2);
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_opens_a_case_and_the_acknowledgement_and_unit_reminder_go_out_in_ucs2_sqlite() {
    sms_scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_opens_a_case_and_the_acknowledgement_and_unit_reminder_go_out_in_ucs2_postgres() {
    sms_scenario(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sms_centre_dropping_the_link_loses_no_message() {
    let smsc = Arc::new(Smsc::start().await);
    let options = channels_options(None, Some(smsc.addr), "");
    run_on(Backend::Sqlite, options, move |s| async move {
        smsc.wait_bound(1).await;
        smsc.drop_next_submit();
        let answer = smsc
            .deliver_from_phone(KUNMING_MOBILE, "12345", "路口红绿灯坏了")
            .await;
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRok);
        let case = s.cases_of(KUNMING_MOBILE).await[0]["case_number"]
            .as_str()
            .unwrap()
            .to_string();
        // The acknowledgement's submit dropped the link; the server binds again and sends it.
        smsc.wait_bound(2).await;
        let ack = smsc
            .wait_submitted("acknowledging after the reconnect", |m| {
                m.text.contains(&case)
            })
            .await;
        assert_eq!(ack.destination, KUNMING_MOBILE);
        wait_outbox(&s, &case, "acknowledgement", |e| e["delivery"] == "DELIVRD").await;
        // The link dropping by itself while idle is survived too.
        smsc.drop_link().await;
        smsc.wait_bound(3).await;
        let answer = smsc
            .deliver_from_phone("13008655678", "12345", "小区停水三天了")
            .await;
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRok);
        let case2 = s.cases_of("13008655678").await[0]["case_number"]
            .as_str()
            .unwrap()
            .to_string();
        smsc.wait_submitted("acknowledging the second", |m| m.text.contains(&case2))
            .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_smpp_pdus_get_clear_refusals_and_change_nothing() {
    let smsc = Arc::new(Smsc::start().await);
    let options = channels_options(None, Some(smsc.addr), "");
    run_on(Backend::Sqlite, options, move |s| async move {
        smsc.wait_bound(1).await;
        // A deliver_sm cut short: framed by its length, unreadable: generic_nack.
        let mut bad = vec![0, 0, 0, 20, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 77];
        bad.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        let answer = smsc.send_bytes(bad, 77).await;
        assert_eq!(answer.id, rusmpp::CommandId::GenericNack, "{answer:?}");
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRinvmsglen);
        // A command nobody defined: generic_nack, invalid command id.
        let answer = smsc
            .send_bytes(
                vec![0, 0, 0, 16, 0, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 78],
                78,
            )
            .await;
        assert_eq!(answer.id, rusmpp::CommandId::GenericNack, "{answer:?}");
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRinvcmdid);
        // A message whose UDH claims more than it holds, and one that is not valid UCS-2.
        let answer = smsc
            .deliver_raw(
                "13008651111",
                0x40,
                rusmpp::values::DataCoding::Ucs2,
                vec![9, 0, 3, 1, 2, 1],
            )
            .await;
        assert_eq!(answer.id, rusmpp::CommandId::DeliverSmResp);
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRinvmsglen);
        let answer = smsc
            .deliver_raw(
                "13008651111",
                0,
                rusmpp::values::DataCoding::Ucs2,
                vec![0xD8, 0x00, 0x4E],
            )
            .await;
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRinvmsglen);
        assert!(
            s.cases_of("13008651111").await.is_empty(),
            "nothing was stored"
        );
        assert_eq!(smsc.binds(), 1, "the session went on");
        // And a good message still opens a case.
        let answer = smsc
            .deliver_from_phone("13008651111", "12345", "路灯不亮")
            .await;
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRok);
        assert_eq!(s.cases_of("13008651111").await.len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_about_a_matter_already_called_in_is_proposed_for_linking_and_joins() {
    let smsc = Arc::new(Smsc::start().await);
    let options = channels_options(None, Some(smsc.addr), "");
    run_on(Backend::Sqlite, options, move |s| async move {
        smsc.wait_bound(1).await;
        // A call about a blocked drain, and another matter, from the same mobile.
        let called = common::cases::a_call(&s, KUNMING_MOBILE).await;
        let (st, body) = event(&s, OP_KUNMING, &called, json!({"action": "classify", "category": "complaint", "topic": "下水道堵塞", "order": {"summary": "北京路小区门口下水道堵塞，污水外溢"}})).await;
        assert_eq!(st, 200, "{body}");
        // Registered by its operator: the caller, on a mobile, gets the case number by SMS.
        let sms = smsc
            .wait_submitted("acknowledging the call", |m| m.destination == KUNMING_MOBILE && m.text.contains(&called))
            .await;
        assert!(sms.text.contains("已受理"), "{}", sms.text);
        let other = common::cases::a_call(&s, KUNMING_MOBILE).await;
        let (st, body) = event(&s, OP_KUNMING, &other, json!({"action": "classify", "category": "consultation", "topic": "公积金", "order": {"summary": "咨询公积金提取条件"}})).await;
        assert_eq!(st, 200, "{body}");
        // The same drain, by SMS.
        let answer = smsc.deliver_from_phone(KUNMING_MOBILE, "12345", "北京路小区门口的下水道堵塞了，污水外溢，请处理").await;
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRok);
        let texted = s
            .cases_of(KUNMING_MOBILE)
            .await
            .into_iter()
            .find(|c| c["channel"] == "sms")
            .unwrap()["case_number"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, related) = api(&s, Some(OP_KUNMING), "GET", &format!("/api/cases/{texted}/related"), None).await;
        assert_eq!(st, 200, "{related}");
        assert_eq!(related[0]["case_number"], called.as_str(), "the called-in drain first: {related}");
        assert!(related[0]["score"].as_u64().unwrap() > related[1]["score"].as_u64().unwrap(), "{related}");
        let (st, body) = api(&s, Some(OP_KUNMING), "POST", &format!("/api/cases/{texted}/link"), Some(json!({"into": called}))).await;
        assert_eq!(st, 200, "{body}");
        let view = case_view(&s, &called).await;
        let ins: Vec<&str> = view["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "in").map(|m| m["channel"].as_str().unwrap()).collect();
        assert_eq!(ins, ["sms"], "the SMS joined the called-in case: {view}");
        assert_eq!(s.cases_of(KUNMING_MOBILE).await.len(), 2, "two matters left");
        // Someone else's case is never proposed, nor linked into.
        let (st, _) = api(&s, Some(OP_KUNMING), "POST", &format!("/api/cases/{other}/link"), Some(json!({"into": common::cases::a_call(&s, "13008657777").await}))).await;
        assert_eq!(st, 422);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_acknowledged_before_a_crash_is_a_case_and_its_acknowledgement_goes_out_after_it() {
    let smsc = Arc::new(Smsc::start().await);
    let options = channels_options(None, Some(smsc.addr), "");
    let smsc2 = smsc.clone();
    run_on(Backend::Sqlite, options, move |s| async move {
        let smsc = smsc2;
        smsc.wait_bound(1).await;
        // The acknowledgement's submit drops the link, and the centre then refuses binds: the
        // acknowledgement waits in the outbox.
        smsc.drop_next_submit();
        smsc.refuse_binds(true);
        let answer = smsc
            .deliver_from_phone(KUNMING_MOBILE, "12345", "小区电梯坏了一周没人修")
            .await;
        assert_eq!(answer.status, rusmpp::CommandStatus::EsmeRok);
        let case = s.cases_of(KUNMING_MOBILE).await[0]["case_number"]
            .as_str()
            .unwrap()
            .to_string();
        smsc.wait_bind_attempts(2).await;
        let waiting = wait_outbox(&s, &case, "acknowledgement", |e| e["sent_at"].is_null()).await;
        assert!(waiting["last_error"].is_string(), "{waiting}");
        assert_eq!(waiting["attempts"], 0, "no link, no attempt: {waiting}");

        // The server dies; it comes back on the same data, the centre takes binds again.
        s.crash();
        smsc.refuse_binds(false);
        let again = TestServer::start_in(
            &s.database_url,
            &s.data,
            &channels_options(None, Some(smsc.addr), ""),
        );
        smsc.wait_bound(2).await;
        let cases = again.cases_of(KUNMING_MOBILE).await;
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0]["case_number"], case.as_str());
        assert_eq!(cases[0]["messages"][0]["body"], "小区电梯坏了一周没人修");
        let ack = smsc
            .wait_submitted("acknowledging after the restart", |m| {
                m.text.contains(&case)
            })
            .await;
        assert_eq!(ack.destination, KUNMING_MOBILE);
        wait_outbox(&again, &case, "acknowledgement", |e| {
            e["delivery"] == "DELIVRD"
        })
        .await;
        drop(again);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_can_come_over_starttls_with_the_servers_certificate() {
    if !aiosmtpd_available() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = crate::exposure::test_certificates(certs.path());
    let options = channels_options(None, None, "").with_args(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    run_on(Backend::Sqlite, options, move |s| async move {
        let smtp = s.smtp.unwrap();
        let build = "msg = EmailMessage(); msg['From'] = 'tls@example.cn'; msg['Subject'] = '加密投递'; msg.set_content('经 STARTTLS 投递的诉求')";
        let (code, reply) = crate::common::mail::send_with(smtp, "tls@example.cn", &["12345@km.gov.cn"], build, Some(&ca)).await;
        assert_eq!(code, 250, "{reply}");
        let view = case_view(&s, &case_in(&reply)).await;
        assert_eq!(view["messages"][0]["body"], "经 STARTTLS 投递的诉求");
        // Plain SMTP still works beside it (a relay on the same host).
        let (code, reply) = send(smtp, "plain@example.cn", &["12345@km.gov.cn"], build).await;
        assert_eq!(code, 250, "{reply}");
        drop(certs);
    })
    .await;
}
