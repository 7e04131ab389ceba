//! Sending the outbox's SMS through the gateway, whenever woken or every few seconds: a
//! message goes out once the centre accepted every part (its ids kept for the receipts);
//! without a link it waits (tried again 10 s later, and the round stops there), a refusal for
//! good gives it up.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use tracing::{info, warn};

use super::{SmsGateway, SubmitError};
use crate::intake::Channel;
use crate::requests::Intake;

/// Tries (with a link) before a message is given up.
pub const MAX_ATTEMPTS: i64 = 10;

/// Sends due SMS until the process ends.
pub async fn run(intake: Arc<Intake>, gateway: Arc<dyn SmsGateway>) {
    loop {
        let plan = intake.dialplan.current();
        if let Some(sms) = plan.channels.sms.clone() {
            match intake.store.outbox_due(Channel::Sms, Utc::now(), 50).await {
                Ok(due) => {
                    for entry in due {
                        let outcome = gateway
                            .submit(&sms.number, &entry.recipient, &entry.body)
                            .await;
                        let now = Utc::now();
                        let no_link = outcome == Err(SubmitError::NotConnected);
                        let saved = match outcome {
                            Ok(ids) => {
                                info!(outbox = entry.id, to = %entry.recipient, kind = %entry.kind, parts = ids.len(), "SMS submitted");
                                metrics::counter!("hotline_outbox_sent_total", "channel" => "sms")
                                    .increment(1);
                                intake.store.outbox_sent(entry.id, ids, now).await
                            }
                            Err(SubmitError::NotConnected) => {
                                // Not an attempt: nothing reached the centre.
                                intake
                                    .store
                                    .outbox_failed(
                                        entry.id,
                                        "not connected",
                                        Duration::seconds(10),
                                        false,
                                        now,
                                    )
                                    .await
                            }
                            Err(SubmitError::Later(e)) if entry.attempts + 1 < MAX_ATTEMPTS => {
                                intake
                                    .store
                                    .outbox_failed(entry.id, &e, Duration::seconds(30), true, now)
                                    .await
                            }
                            Err(e) => {
                                warn!(outbox = entry.id, error = %e, "SMS given up");
                                intake
                                    .store
                                    .outbox_gave_up(entry.id, &e.to_string(), now)
                                    .await
                            }
                        };
                        if let Err(e) = saved {
                            warn!(outbox = entry.id, error = %e, "outcome of an SMS not stored");
                        }
                        if no_link {
                            // The rest wait for the link too: not each tried and written
                            // again in this round.
                            break;
                        }
                    }
                }
                Err(e) => warn!(error = %e, "outbox not read"),
            }
        }
        tokio::select! {
            _ = intake.wake.sms.notified() => {}
            _ = tokio::time::sleep(StdDuration::from_secs(2)) => {}
        }
    }
}
