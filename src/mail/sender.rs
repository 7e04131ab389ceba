//! Sending the outbox's mail through the relay named in `channels.toml` with lettre: STARTTLS
//! when the relay offers it, credentials only then, each mail with its own Message-ID (kept,
//! so that a requester's reply to it finds its case) and threaded under the requester's mail.
//! A relay that is down or says 4xx delays the mail (tried again 1, 5, 15, 60 minutes later);
//! one that says 5xx, or eight failures, gives it up with the reason kept.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::{info, warn};

use crate::dialplan::channels::MailSettings;
use crate::intake::Channel;
use crate::requests::Intake;
use crate::store::requests::OutboxEntry;

/// Tries before a mail is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// How long after its `attempts`-th failure a mail is tried again.
pub fn retry_after(attempts: i64) -> Duration {
    match attempts {
        0 | 1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(15),
        _ => Duration::minutes(60),
    }
}

/// Why one mail was not sent: for now (try again) or for good.
enum Failure {
    Later(String),
    Never(String),
}

fn transport(mail: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let (host, port) = mail
        .relay
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("relay {:?} is not host:port", mail.relay))?;
    let tls = TlsParameters::new(host.clone()).map_err(|e| e.to_string())?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .hello_name(ClientId::Domain(mail.host_name.clone()))
        .timeout(Some(StdDuration::from_secs(30)))
        .tls(Tls::Opportunistic(tls));
    if !mail.relay_user.is_empty() {
        builder = builder.credentials(Credentials::new(
            mail.relay_user.clone(),
            mail.relay_password.clone(),
        ));
    }
    Ok(builder.build())
}

/// The mail for one outbox entry, and its Message-ID.
async fn build(
    entry: &OutboxEntry,
    mail: &MailSettings,
    intake: &Intake,
) -> Result<(Message, String), Failure> {
    let plan = intake.dialplan.current();
    let platform = entry
        .case_number
        .as_deref()
        .and_then(|n| n.split('-').next())
        .unwrap_or("");
    let from_address = mail
        .mailboxes
        .get(platform)
        .or_else(|| mail.mailboxes.values().next())
        .ok_or_else(|| Failure::Never("no mailbox to send from".into()))?;
    let from = Mailbox::new(
        Some(format!("{}12345热线", plan.platform_name(platform))),
        from_address
            .parse()
            .map_err(|e| Failure::Never(format!("from {from_address}: {e}")))?,
    );
    let to: Mailbox = entry
        .recipient
        .parse()
        .map_err(|e| Failure::Never(format!("recipient {:?}: {e}", entry.recipient)))?;
    let message_id = format!("<{}.{}@{}>", entry.kind, entry.id, mail.host_name);
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(entry.subject.clone())
        .message_id(Some(message_id.clone()));
    if let Some(parent) = &entry.in_reply_to {
        let parent = format!("<{}>", parent.trim_matches(['<', '>']));
        builder = builder.in_reply_to(parent.clone()).references(parent);
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(entry.body.clone());
    let message = match &entry.attachment {
        None => builder.singlepart(text),
        Some(relative) => {
            let path = intake.data_dir.join(relative);
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| Failure::Later(format!("attachment {}: {e}", path.display())))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "attachment".into());
            let ctype = if name.ends_with(".wav") {
                "audio/wav"
            } else {
                "application/octet-stream"
            };
            let attachment = Attachment::new(name).body(
                bytes,
                ContentType::parse(ctype).map_err(|e| Failure::Never(e.to_string()))?,
            );
            builder.multipart(MultiPart::mixed().singlepart(text).singlepart(attachment))
        }
    }
    .map_err(|e| Failure::Never(format!("cannot build the mail: {e}")))?;
    Ok((message, message_id.trim_matches(['<', '>']).to_string()))
}

async fn send_one(
    entry: &OutboxEntry,
    mail: &MailSettings,
    relay: &Result<AsyncSmtpTransport<Tokio1Executor>, String>,
    intake: &Intake,
) -> Result<String, Failure> {
    let (message, id) = build(entry, mail, intake).await?;
    let relay = relay.as_ref().map_err(|e| Failure::Never(e.clone()))?;
    match relay.send(message).await {
        Ok(_) => Ok(id),
        Err(e) if e.is_permanent() => Err(Failure::Never(e.to_string())),
        Err(e) => Err(Failure::Later(e.to_string())),
    }
}

/// Sends what the outbox holds for mail, whenever woken or every few seconds, until the
/// process ends.
pub async fn run(intake: Arc<Intake>) {
    loop {
        let plan = intake.dialplan.current();
        let mail = plan.channels.mail.clone().filter(|m| !m.relay.is_empty());
        if let Some(mail) = mail {
            let now = Utc::now();
            match intake.store.outbox_due(Channel::Email, now, 20).await {
                Ok(due) => {
                    // One relay for the round's mail (lettre opens a connection per mail).
                    let relay = transport(&mail);
                    for entry in due {
                        let outcome = send_one(&entry, &mail, &relay, &intake).await;
                        let now = Utc::now();
                        let saved = match outcome {
                            Ok(id) => {
                                info!(outbox = entry.id, to = %entry.recipient, kind = %entry.kind, "mail sent");
                                metrics::counter!("hotline_outbox_sent_total", "channel" => "email").increment(1);
                                intake.store.outbox_sent(entry.id, vec![id], now).await
                            }
                            Err(Failure::Later(e)) if entry.attempts + 1 < MAX_ATTEMPTS => {
                                warn!(outbox = entry.id, error = %e, "mail not sent: tried again later");
                                intake
                                    .store
                                    .outbox_failed(
                                        entry.id,
                                        &e,
                                        retry_after(entry.attempts + 1),
                                        true,
                                        now,
                                    )
                                    .await
                            }
                            Err(Failure::Later(e) | Failure::Never(e)) => {
                                warn!(outbox = entry.id, error = %e, "mail given up");
                                intake.store.outbox_gave_up(entry.id, &e, now).await
                            }
                        };
                        if let Err(e) = saved {
                            warn!(outbox = entry.id, error = %e, "outcome of a mail not stored");
                        }
                    }
                }
                Err(e) => warn!(error = %e, "outbox not read"),
            }
        }
        tokio::select! {
            _ = intake.wake.mail.notified() => {}
            _ = tokio::time::sleep(StdDuration::from_secs(5)) => {}
        }
    }
}
