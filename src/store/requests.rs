//! Requests by mail, SMS, web, app and official account: the case they open (or the case a
//! follow-up joins), what was written each way, attachments, and the outbox of mail and SMS
//! waiting to go out. A request and the acknowledgement it is owed are written in one commit:
//! once the peer is told "received", the case and the message that will tell the requester
//! its number are both durable.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::db::{query, Conn, DbRow};
use super::{Store, StoreError};
use crate::cases::order::{WorkOrder, MAX_ADDRESS, MAX_SUMMARY};
use crate::intake::{answer, Channel};

pub use super::model::{MessageView, NewAttachment};

/// A request as it arrived.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The platform it was addressed to (division code).
    pub platform: String,
    pub channel: Channel,
    /// The requester's phone number, normalised, when known (SMS, web, app).
    pub phone: String,
    /// The requester's address when it is not a phone number (a mail address, an official
    /// account's user id).
    pub contact: Option<String>,
    /// Who sent it and to whom, as the channel names them.
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The place the matter is at, when the form asked.
    pub place: Option<String>,
    /// A mail's Message-ID.
    pub message_ref: Option<String>,
    pub at: DateTime<Utc>,
    pub attachments: Vec<NewAttachment>,
    /// The requester asked for notices of progress.
    pub notify: bool,
}

/// A mail or SMS to send, queued with what caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// `email` or `sms`.
    pub channel: Channel,
    /// `acknowledgement`, `answer`, `reply`, `notice`, `reminder`, `code`, `voicemail`.
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// A file under the data folder to attach (a voice message).
    pub attachment: Option<String>,
    /// The Message-ID this answers (mail threads).
    pub in_reply_to: Option<String>,
}

/// What taking a request did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TakenRequest {
    pub case_number: String,
    /// True when it joined an existing case (a follow-up) rather than opening one.
    pub joined: bool,
}

/// A queued mail or SMS and what became of it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub channel: String,
    pub case_number: Option<String>,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attachment: Option<String>,
    pub in_reply_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub remote_id: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The delivery receipt's state (`DELIVRD`, `UNDELIV`, …).
    pub delivery: Option<String>,
    pub last_error: Option<String>,
}

/// The first answer of a case on a written channel, for the figures.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AnswerFact {
    pub case_number: String,
    pub platform: String,
    pub channel: String,
    pub created_at: DateTime<Utc>,
    pub answer_due: Option<DateTime<Utc>>,
    pub first_answer_at: Option<DateTime<Utc>>,
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The work order a written request starts with: its text as the summary (the operator edits
/// it), the place as the address.
fn work_order_of(request: &NewRequest) -> String {
    let text = if request.subject.trim().is_empty() {
        request.body.trim().to_string()
    } else if request.body.trim().is_empty() {
        request.subject.trim().to_string()
    } else {
        format!("{}：{}", request.subject.trim(), request.body.trim())
    };
    let order = WorkOrder {
        summary: first_chars(&text, MAX_SUMMARY),
        address: request
            .place
            .as_ref()
            .map(|p| first_chars(p.trim(), MAX_ADDRESS)),
        ..WorkOrder::default()
    };
    serde_json::to_string(&order).unwrap_or_default()
}

/// One message of a case, as written to `case_messages` (with its attachments).
struct Written<'a> {
    channel: Channel,
    /// `in` (from the requester) or `out`.
    direction: &'static str,
    kind: &'a str,
    sender: &'a str,
    recipient: &'a str,
    subject: &'a str,
    body: &'a str,
    message_ref: Option<&'a str>,
    at: DateTime<Utc>,
    attachments: &'a [NewAttachment],
}

/// Writes the message (and its attachments) on a case; returns its row id.
async fn insert_message(conn: &mut Conn, case_id: i64, m: Written<'_>) -> Result<i64, StoreError> {
    let id: i64 = query(
        "INSERT INTO case_messages (case_id, channel, direction, kind, sender, recipient, subject, \
         body, message_ref, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(case_id)
    .bind(m.channel.as_str())
    .bind(m.direction)
    .bind(m.kind)
    .bind(m.sender)
    .bind(m.recipient)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.message_ref)
    .bind(m.at)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    for a in m.attachments {
        query(
            "INSERT INTO attachments (message_id, file_name, content_type, size, sha256, path) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(&a.file_name)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(&a.sha256)
        .bind(&a.path)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// Queues one outgoing mail or SMS inside a write.
pub(crate) async fn enqueue_in(
    conn: &mut Conn,
    case_id: Option<i64>,
    out: &Outgoing,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(query(
        "INSERT INTO outbox (channel, case_id, kind, recipient, subject, body, attachment, \
         in_reply_to, created_at, next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(out.channel.as_str())
    .bind(case_id)
    .bind(&out.kind)
    .bind(&out.recipient)
    .bind(&out.subject)
    .bind(&out.body)
    .bind(out.attachment.clone())
    .bind(out.in_reply_to.clone())
    .bind(at)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

/// A mail or SMS a step of the case sends, with who sends it and whether it answers the
/// requester (GB/T 33358's first answer; the acknowledgement does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub out: Outgoing,
    /// The platform's mailbox or SMS number, as the case's messages show it.
    pub sender: String,
    pub first_answer: bool,
}

/// Queues `notice` inside a write; on a case it is also kept as the case's message, and may be
/// its first answer. Returns the outbox row.
pub(crate) async fn queue_on_case_in(
    conn: &mut Conn,
    case_id: Option<i64>,
    notice: &Notice,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let out = &notice.out;
    let id = enqueue_in(conn, case_id, out, at).await?;
    let Some(case_id) = case_id else {
        return Ok(id);
    };
    let message = Written {
        channel: out.channel,
        direction: "out",
        kind: &out.kind,
        sender: &notice.sender,
        recipient: &out.recipient,
        subject: &out.subject,
        body: &out.body,
        message_ref: None,
        at,
        attachments: &[],
    };
    insert_message(conn, case_id, message).await?;
    if notice.first_answer {
        query("UPDATE cases SET first_answer_at = $1 WHERE id = $2 AND first_answer_at IS NULL")
            .bind(at)
            .bind(case_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// Sets one part's delivery state, and the SMS's once every part has one (`DELIVRD` when all
/// were delivered, else the last state that was not).
async fn apply_receipt(
    conn: &mut Conn,
    outbox_id: i64,
    smsc_id: &str,
    state: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    query("UPDATE sms_parts SET status = $1, at = $2 WHERE smsc_id = $3 AND outbox_id = $4")
        .bind(state)
        .bind(at)
        .bind(smsc_id)
        .bind(outbox_id)
        .execute(&mut *conn)
        .await?;
    let parts = query("SELECT status FROM sms_parts WHERE outbox_id = $1")
        .bind(outbox_id)
        .fetch_all(&mut *conn)
        .await?;
    let states: Vec<Option<String>> = parts
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    if states.iter().all(Option::is_some) {
        let failed = states
            .iter()
            .flatten()
            .find(|s| s.as_str() != "DELIVRD")
            .cloned();
        query("UPDATE outbox SET delivery = $1, delivered_at = $2 WHERE id = $3")
            .bind(failed.unwrap_or_else(|| "DELIVRD".to_string()))
            .bind(at)
            .bind(outbox_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The row id of a case by number, inside a write.
async fn case_id_of(conn: &mut Conn, case_number: &str) -> Result<Option<i64>, StoreError> {
    Ok(
        match query("SELECT id FROM cases WHERE case_number = $1")
            .bind(case_number)
            .fetch_optional(&mut *conn)
            .await?
        {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        },
    )
}

fn outbox_entry(row: &DbRow) -> Result<OutboxEntry, StoreError> {
    Ok(OutboxEntry {
        id: row.try_get(0)?,
        channel: row.try_get(1)?,
        case_number: row.try_get(2)?,
        kind: row.try_get(3)?,
        recipient: row.try_get(4)?,
        subject: row.try_get(5)?,
        body: row.try_get(6)?,
        attachment: row.try_get(7)?,
        in_reply_to: row.try_get(8)?,
        created_at: row.time(9)?,
        attempts: row.try_get(10)?,
        sent_at: row.time_opt(11)?,
        remote_id: row.try_get(12)?,
        delivered_at: row.time_opt(13)?,
        delivery: row.try_get(14)?,
        last_error: row.try_get(15)?,
    })
}

const OUTBOX_COLUMNS: &str =
    "o.id, o.channel, c.case_number, o.kind, o.recipient, o.subject, o.body, \
    o.attachment, o.in_reply_to, o.created_at, o.attempts, o.sent_at, o.remote_id, o.delivered_at, \
    o.delivery, o.last_error";

impl Store {
    /// Takes a request: it joins `join` (a case number the follow-up names) when that case
    /// exists, else opens a new case on its platform with its channel and first-answer due
    /// time; `acknowledge` builds the acknowledgement from the case number, queued in the same
    /// commit. Durable when this returns.
    pub async fn take_request(
        &self,
        request: NewRequest,
        join: Option<String>,
        acknowledge: impl FnOnce(&TakenRequest) -> Option<Notice> + Send + 'static,
    ) -> Result<TakenRequest, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let r = request;
                // A follow-up joins the case it names only when it comes from that case's
                // requester: nobody adds to someone else's case by quoting its number.
                let existing = match &join {
                    Some(number) => query(
                        "SELECT id FROM cases WHERE case_number = $1 AND \
                         ((contact IS NOT NULL AND contact <> '' AND contact = $2) OR (caller <> '' AND caller = $3))",
                    )
                    .bind(number)
                    .bind(r.contact.clone().unwrap_or_default())
                    .bind(&r.phone)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|row| row.try_get::<i64, _>(0))
                    .transpose()?
                    .map(|id| (id, number.clone())),
                    None => None,
                };
                let (case_id, taken) = match existing {
                    Some((id, number)) => (
                        id,
                        TakenRequest {
                            case_number: number,
                            joined: true,
                        },
                    ),
                    None => {
                        let number = super::next_case_number(conn, &r.platform, r.at).await?;
                        let id: i64 = query(
                            "INSERT INTO cases (case_number, platform, caller, state, created_at, \
                             channel, contact, answer_due, notify, work_order, topic) \
                             VALUES ($1, $2, $3, 'accepted', $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                        )
                        .bind(&number)
                        .bind(&r.platform)
                        .bind(&r.phone)
                        .bind(r.at)
                        .bind(r.channel.as_str())
                        .bind(r.contact.clone())
                        .bind(answer::answer_due(r.channel, r.at))
                        .bind(i64::from(r.notify))
                        .bind(work_order_of(&r))
                        .bind(first_chars(
                            if r.subject.trim().is_empty() { r.body.trim() } else { r.subject.trim() },
                            60,
                        ))
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(|e| StoreError::from_write(e, format!("case {number}")))?
                        .try_get(0)?;
                        (
                            id,
                            TakenRequest {
                                case_number: number,
                                joined: false,
                            },
                        )
                    }
                };
                let kind = if taken.joined { "follow-up" } else { "request" };
                let message = Written {
                    channel: r.channel,
                    direction: "in",
                    kind,
                    sender: &r.sender,
                    recipient: &r.recipient,
                    subject: &r.subject,
                    body: &r.body,
                    message_ref: r.message_ref.as_deref(),
                    at: r.at,
                    attachments: &r.attachments,
                };
                insert_message(conn, case_id, message).await?;
                if let Some(notice) = acknowledge(&taken) {
                    queue_on_case_in(conn, Some(case_id), &notice, r.at).await?;
                }
                Ok(taken)
            })
        })
        .await
    }

    /// Queues a mail or SMS, on `case_number` when given (then also kept as a message of the
    /// case, and, when it answers the requester, as its first answer if it has none yet).
    pub async fn send_on_case(
        &self,
        case_number: Option<String>,
        notice: Notice,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let case_id = match &case_number {
                    Some(n) => Some(
                        case_id_of(conn, n)
                            .await?
                            .ok_or_else(|| StoreError::NotFound(format!("case {n}")))?,
                    ),
                    None => None,
                };
                queue_on_case_in(conn, case_id, &notice, at).await
            })
        })
        .await
    }

    /// The case whose message (ours or the requester's) had Message-ID `reference`.
    pub async fn case_of_message_ref(&self, reference: &str) -> Result<Option<String>, StoreError> {
        Ok(
            match query(
                "SELECT c.case_number FROM case_messages m JOIN cases c ON c.id = m.case_id \
                 WHERE m.message_ref = $1 ORDER BY m.id LIMIT 1",
            )
            .bind(reference)
            .fetch_optional(self.pool())
            .await?
            {
                Some(row) => Some(row.try_get(0)?),
                None => match query(
                    "SELECT c.case_number FROM outbox o JOIN cases c ON c.id = o.case_id \
                     WHERE o.remote_id = $1 ORDER BY o.id LIMIT 1",
                )
                .bind(reference)
                .fetch_optional(self.pool())
                .await?
                {
                    Some(row) => Some(row.try_get(0)?),
                    None => None,
                },
            },
        )
    }

    /// A case's channel, contact, notify flag and the Message-ID of its first mail: what is
    /// needed to write to the requester.
    pub async fn requester_of(&self, case_number: &str) -> Result<Option<Requester>, StoreError> {
        let Some(row) = query(
            "SELECT c.channel, c.contact, c.caller, c.notify, c.platform, \
             (SELECT m.message_ref FROM case_messages m WHERE m.case_id = c.id AND m.direction = 'in' \
              ORDER BY m.id LIMIT 1), \
             (SELECT m.subject FROM case_messages m WHERE m.case_id = c.id AND m.direction = 'in' \
              ORDER BY m.id LIMIT 1) \
             FROM cases c WHERE c.case_number = $1",
        )
        .bind(case_number)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let channel: String = row.try_get(0)?;
        Ok(Some(Requester {
            channel: Channel::parse(&channel)
                .ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
            contact: row.try_get(1)?,
            phone: row.try_get(2)?,
            notify: row.try_get::<i64, _>(3)? != 0,
            platform: row.try_get(4)?,
            first_message_ref: row.try_get(5)?,
            first_subject: row.try_get::<Option<String>, _>(6)?.unwrap_or_default(),
        }))
    }

    /// The messages of a case, oldest first, with their attachments.
    pub async fn messages_of(&self, case_number: &str) -> Result<Vec<MessageView>, StoreError> {
        let rows = query(
            "SELECT m.id, m.channel, m.direction, m.kind, m.sender, m.recipient, m.subject, m.body, m.at \
             FROM case_messages m JOIN cases c ON c.id = m.case_id WHERE c.case_number = $1 ORDER BY m.id",
        )
        .bind(case_number)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let files = query(
                "SELECT file_name, content_type, size, sha256, path FROM attachments \
                 WHERE message_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?;
            let mut attachments = Vec::with_capacity(files.len());
            for f in &files {
                attachments.push(NewAttachment {
                    file_name: f.try_get(0)?,
                    content_type: f.try_get(1)?,
                    size: f.try_get(2)?,
                    sha256: f.try_get(3)?,
                    path: f.try_get(4)?,
                });
            }
            out.push(MessageView {
                id,
                channel: row.try_get(1)?,
                direction: row.try_get(2)?,
                kind: row.try_get(3)?,
                sender: row.try_get(4)?,
                recipient: row.try_get(5)?,
                subject: row.try_get(6)?,
                body: row.try_get(7)?,
                at: row.time(8)?,
                attachments,
            });
        }
        Ok(out)
    }

    /// Mail or SMS due to go out on `channel` at `now`, oldest first.
    pub async fn outbox_due(
        &self,
        channel: Channel,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o LEFT JOIN cases c ON c.id = o.case_id \
             WHERE o.channel = $1 AND o.sent_at IS NULL AND o.delivery IS NULL AND o.next_at <= $2 ORDER BY o.id LIMIT $3"
        ))
        .bind(channel.as_str())
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(outbox_entry).collect()
    }

    /// The outbox, newest first (for the API), optionally of one case.
    pub async fn outbox(
        &self,
        case_number: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o LEFT JOIN cases c ON c.id = o.case_id \
             WHERE ($1 = '' OR c.case_number = $1) ORDER BY o.id DESC LIMIT $2"
        ))
        .bind(case_number.unwrap_or("").to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(outbox_entry).collect()
    }

    /// Records that an outbox entry went out, with the peer's ids for it (a mail's
    /// Message-ID, the SMS centre's message ids, one per part).
    pub async fn outbox_sent(
        &self,
        id: i64,
        remote_ids: Vec<String>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                query("UPDATE outbox SET sent_at = $1, remote_id = $2, attempts = attempts + 1, last_error = NULL WHERE id = $3")
                    .bind(at)
                    .bind(remote_ids.join(" "))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                for smsc_id in &remote_ids {
                    query("INSERT INTO sms_parts (outbox_id, smsc_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(smsc_id)
                        .execute(&mut *conn)
                        .await?;
                }
                // Receipts that overtook this.
                for smsc_id in &remote_ids {
                    let early = query("SELECT status, at FROM sms_early_receipts WHERE smsc_id = $1")
                        .bind(smsc_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    if let Some(row) = early {
                        let (state, when): (String, DateTime<Utc>) = (row.try_get(0)?, row.time(1)?);
                        apply_receipt(conn, id, smsc_id, &state, when).await?;
                        query("DELETE FROM sms_early_receipts WHERE smsc_id = $1")
                            .bind(smsc_id)
                            .execute(&mut *conn)
                            .await?;
                    }
                }
                Ok(())
            })
        })
        .await
    }

    /// Records a failed try; the entry is tried again after `retry_in`. `counts` is false
    /// when nothing reached the peer (no link to the SMS centre): the attempts stay as they
    /// were.
    pub async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        retry_in: Duration,
        counts: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = query(
            "UPDATE outbox SET attempts = attempts + $1, last_error = $2, next_at = $3 WHERE id = $4",
        )
        .bind(i64::from(counts))
        .bind(first_chars(error, 500))
        .bind(at + retry_in)
        .bind(id);
        self.write_query(q).await?;
        Ok(())
    }

    /// Queues the platform's notice of voice message `id` (the audio attached, as Asterisk's
    /// and FreeSWITCH's voicemail-to-mail do), built by `notice` from (case number, caller,
    /// platform, file, seconds). Not a message of the case: it goes to the platform.
    pub async fn queue_voicemail_notice(
        &self,
        id: i64,
        notice: impl FnOnce(&str, &str, &str, &str, i64) -> Option<Outgoing> + Send + 'static,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let Some(row) = query(
                    "SELECT c.case_number, v.caller, v.platform, v.file, v.duration_ms, c.id \
                     FROM voicemails v JOIN cases c ON c.id = v.case_id WHERE v.id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                else {
                    return Ok(false);
                };
                let (number, caller, platform, file): (String, String, String, String) = (
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                );
                let ms: Option<i64> = row.try_get(4)?;
                let case_id: i64 = row.try_get(5)?;
                match notice(&number, &caller, &platform, &file, ms.unwrap_or(0) / 1000) {
                    Some(out) => {
                        enqueue_in(conn, Some(case_id), &out, at).await?;
                        Ok(true)
                    }
                    None => Ok(false),
                }
            })
        })
        .await
    }

    /// Gives an entry up (the peer refused it for good, or it failed too often): it stays,
    /// with the reason, marked `failed`.
    pub async fn outbox_gave_up(
        &self,
        id: i64,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, delivery = 'failed', delivered_at = $2 WHERE id = $3",
        )
        .bind(first_chars(error, 500))
        .bind(at)
        .bind(id);
        self.write_query(q).await?;
        Ok(())
    }

    /// Records a delivery receipt for the part the SMS centre calls `smsc_id`; the SMS is
    /// delivered once every part is. A receipt for an id not yet recorded (it overtook the
    /// submit's outcome) is kept and applied when it is. Returns false for such an id.
    pub async fn sms_receipt(
        &self,
        smsc_id: &str,
        state: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (smsc_id, state) = (smsc_id.to_string(), state.to_string());
        self.write(move |conn| {
            Box::pin(async move {
                let Some(row) = query("SELECT outbox_id FROM sms_parts WHERE smsc_id = $1")
                    .bind(&smsc_id)
                    .fetch_optional(&mut *conn)
                    .await?
                else {
                    // Kept an hour at most: receipts for ids never sent (a confused or hostile
                    // centre) cannot pile up.
                    query("DELETE FROM sms_early_receipts WHERE at < $1")
                        .bind(at - Duration::hours(1))
                        .execute(&mut *conn)
                        .await?;
                    query(
                        "INSERT INTO sms_early_receipts (smsc_id, status, at) VALUES ($1, $2, $3)",
                    )
                    .bind(&smsc_id)
                    .bind(&state)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                    return Ok(false);
                };
                let outbox_id: i64 = row.try_get(0)?;
                apply_receipt(conn, outbox_id, &smsc_id, &state, at).await?;
                Ok(true)
            })
        })
        .await
    }

    /// Cases opened in [from, to) on written channels, with their first answer.
    pub async fn answer_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AnswerFact>, StoreError> {
        let rows = query(
            "SELECT case_number, platform, channel, created_at, answer_due, first_answer_at FROM cases \
             WHERE channel <> 'phone' AND created_at >= $1 AND created_at < $2 ORDER BY id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AnswerFact {
                    case_number: row.try_get(0)?,
                    platform: row.try_get(1)?,
                    channel: row.try_get(2)?,
                    created_at: row.time(3)?,
                    answer_due: row.time_opt(4)?,
                    first_answer_at: row.time_opt(5)?,
                })
            })
            .collect()
    }
}

/// A written request not yet taken further than accepted, for the operators' list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AwaitingRequest {
    pub case_number: String,
    pub platform: String,
    pub channel: String,
    /// The phone number, when known.
    pub caller: String,
    /// The mail address or official-account user, when that is how they wrote.
    pub contact: Option<String>,
    pub topic: String,
    pub created_at: DateTime<Utc>,
    pub answer_due: Option<DateTime<Utc>>,
    pub first_answer_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Written requests still `accepted` (no operator has classified, answered or dispatched
    /// them), on `platform` or every platform, the most urgent first.
    pub async fn written_awaiting(
        &self,
        platform: Option<&str>,
    ) -> Result<Vec<AwaitingRequest>, StoreError> {
        let rows = query(
            "SELECT case_number, platform, channel, caller, contact, topic, created_at, answer_due, first_answer_at \
             FROM cases WHERE channel <> 'phone' AND state = 'accepted' AND ($1 = '' OR platform = $1) \
             ORDER BY answer_due, id LIMIT 200",
        )
        .bind(platform.unwrap_or("").to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AwaitingRequest {
                    case_number: row.try_get(0)?,
                    platform: row.try_get(1)?,
                    channel: row.try_get(2)?,
                    caller: row.try_get(3)?,
                    contact: row.try_get(4)?,
                    topic: row.try_get(5)?,
                    created_at: row.time(6)?,
                    answer_due: row.time_opt(7)?,
                    first_answer_at: row.time_opt(8)?,
                })
            })
            .collect()
    }
}

/// What is needed to write to a case's requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub channel: Channel,
    pub contact: Option<String>,
    pub phone: String,
    pub notify: bool,
    pub platform: String,
    /// The Message-ID of the requester's first mail, to thread our answers under.
    pub first_message_ref: Option<String>,
    pub first_subject: String,
}
