//! What the SMS centre delivers, into the store: a message to the hotline's number is a
//! request (a case on the platform its sender's number belongs to, or a follow-up of the case
//! whose number it quotes), a delivery receipt is the fate of a message we sent.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;

use super::{Inbound, SmsSink};
use crate::intake::{reference, Channel};
use crate::requests::Intake;
use crate::routing::number::normalize_number;
use crate::store::requests::NewRequest;

/// Hands SMS to the intake.
pub struct SmsIntake(pub Arc<Intake>);

#[async_trait]
impl SmsSink for SmsIntake {
    async fn deliver(&self, inbound: Inbound) -> Result<(), String> {
        let intake = &self.0;
        match inbound {
            Inbound::Receipt { id, state } => {
                let known = intake
                    .store
                    .sms_receipt(&id, &state, Utc::now())
                    .await
                    .map_err(|e| e.to_string())?;
                if !known {
                    tracing::info!(id, state, "receipt for a message we did not send");
                }
                Ok(())
            }
            Inbound::Message { from, to, text } => {
                let text = text.trim().to_string();
                if text.is_empty() {
                    tracing::info!(from, "empty SMS not taken");
                    return Ok(());
                }
                let plan = intake.dialplan.current();
                let phone = normalize_number(&from).unwrap_or_default();
                let platform = plan
                    .router
                    .route(
                        &plan
                            .channels
                            .sms
                            .as_ref()
                            .map_or("12345".to_string(), |s| s.number.clone()),
                        &phone,
                    )
                    .map(|d| d.platform)
                    .unwrap_or_else(|_| plan.router.provincial().code.clone());
                let join = reference::case_number_in(&text);
                let request = NewRequest {
                    platform,
                    channel: Channel::Sms,
                    phone: phone.clone(),
                    contact: None,
                    sender: phone,
                    recipient: to,
                    subject: String::new(),
                    body: text,
                    place: None,
                    message_ref: None,
                    at: Utc::now(),
                    attachments: Vec::new(),
                    notify: false,
                };
                intake
                    .take(request, join)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}
