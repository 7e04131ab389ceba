//! The edge where written requests become cases: whatever the channel (mail from
//! [`crate::mail`], SMS from [`crate::sms`], the web form, an app, the official account from
//! [`crate::api`]), a request goes through [`Intake::take`], which stores it (with the
//! acknowledgement it is owed) in one commit before its sender is told it was received, and
//! wakes the senders. Workflow steps ask [`Intake::step_notices`] what they send.

pub mod files;
pub mod notices;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::Notify;

use crate::cases::workflow::Case;
use crate::dialplan::LiveDialplan;
use crate::intake::limits::{CodeError, Codes, RateLimit};
use crate::store::requests::{NewRequest, Notice, Requester, TakenRequest};
use crate::store::workflow::StoredCase;
use crate::store::{Store, StoreError};

/// Wakes the mail and SMS senders when something was queued.
#[derive(Default, Clone)]
pub struct Wake {
    pub mail: Arc<Notify>,
    pub sms: Arc<Notify>,
}

impl Wake {
    pub fn all(&self) {
        self.mail.notify_one();
        self.sms.notify_one();
    }
}

/// The public form's guards: requests per source address and per number, codes per number,
/// and the codes sent.
struct Guard {
    per_source: RateLimit,
    per_number: RateLimit,
    codes_per_number: RateLimit,
    codes: Codes,
    lookups: RateLimit,
}

/// Why a code was not sent or a form not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("too many requests from this address: try again later")]
    SourceLimit,
    #[error("too many requests for this phone number today")]
    NumberLimit,
    #[error("too many codes for this phone number: try again in an hour")]
    CodeLimit,
    #[error("no SMS centre is configured: codes cannot be sent")]
    NoSms,
    #[error("{0}")]
    Code(#[from] CodeError),
}

/// Takes written requests and tells what workflow steps send.
pub struct Intake {
    pub store: Store,
    pub dialplan: Arc<LiveDialplan>,
    pub data_dir: PathBuf,
    pub wake: Wake,
    guard: Mutex<Guard>,
}

impl Intake {
    pub fn new(store: Store, dialplan: Arc<LiveDialplan>, data_dir: PathBuf) -> Intake {
        let web = dialplan.current().channels.web;
        Intake {
            store,
            dialplan,
            data_dir,
            wake: Wake::default(),
            guard: Mutex::new(Guard {
                per_source: RateLimit::new(web.per_source_per_hour, Duration::hours(1)),
                per_number: RateLimit::new(web.per_number_per_day, Duration::days(1)),
                codes_per_number: RateLimit::new(web.codes_per_number_per_hour, Duration::hours(1)),
                codes: Codes::default(),
                lookups: RateLimit::new(60, Duration::hours(1)),
            }),
        }
    }

    /// Stores a request (opening a case, or joining `join` when that case exists) with its
    /// acknowledgement; durable when this returns.
    pub async fn take(
        &self,
        request: NewRequest,
        join: Option<String>,
    ) -> Result<TakenRequest, StoreError> {
        let plan = self.dialplan.current();
        let requester = Requester {
            channel: request.channel,
            contact: request.contact.clone(),
            phone: request.phone.clone(),
            notify: request.notify,
            platform: request.platform.clone(),
            first_message_ref: request.message_ref.clone(),
            first_subject: request.subject.clone(),
        };
        let received = request.at;
        let channel = request.channel;
        let taken = self
            .store
            .take_request(request, join, move |t| {
                notices::acknowledgement(&plan, &requester, &t.case_number, received, t.joined)
            })
            .await?;
        metrics::counter!("hotline_requests_total", "channel" => channel.as_str()).increment(1);
        tracing::info!(case = %taken.case_number, channel = channel.as_str(), joined = taken.joined, "request taken");
        self.wake.all();
        Ok(taken)
    }

    /// What the step from `before` to `after` sends (to the requester, to the unit).
    pub async fn step_notices(&self, before: &StoredCase, after: &Case) -> Vec<Notice> {
        let requester = match self.store.requester_of(&after.case_number).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(case = %after.case_number, error = %e, "requester not read: no notice to them");
                None
            }
        };
        notices::step_notices(
            &self.dialplan.current(),
            requester.as_ref(),
            &before.case,
            after,
        )
    }

    /// Queues an operator's message to the requester of `case_number`. None when the case's
    /// channel cannot carry one (a call without SMS, an official account).
    pub async fn send_message(
        &self,
        case_number: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Notice>, StoreError> {
        let Some(requester) = self.store.requester_of(case_number).await? else {
            return Err(StoreError::NotFound(format!("case {case_number}")));
        };
        let Some(notice) =
            notices::operator_message(&self.dialplan.current(), &requester, case_number, text)
        else {
            return Ok(None);
        };
        self.store
            .send_on_case(Some(case_number.to_string()), notice.clone(), at)
            .await?;
        self.wake.all();
        Ok(Some(notice))
    }

    /// Counts a form from `source` for `phone`; refused past the limits.
    pub fn admit_form(&self, source: &str, phone: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
        let mut g = self.guard.lock().expect("guard lock");
        if !g.per_source.allow(source, now) {
            return Err(Refusal::SourceLimit);
        }
        if !g.per_number.allow(phone, now) {
            return Err(Refusal::NumberLimit);
        }
        Ok(())
    }

    /// Sends a 6-digit code to `phone` (a mobile number) for the web form.
    pub async fn send_code(
        &self,
        source: &str,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let plan = self.dialplan.current();
        let code = format!("{:06}", rand::random_range(0..1_000_000u32));
        let notice = notices::code(&plan, phone, &code).ok_or(Refusal::NoSms)?;
        {
            let mut g = self.guard.lock().expect("guard lock");
            if !g.per_source.allow(source, now) {
                return Err(Refusal::SourceLimit);
            }
            if !g.codes_per_number.allow(phone, now) {
                return Err(Refusal::CodeLimit);
            }
            g.codes.issue(phone, code.clone(), now);
        }
        if let Err(e) = self.store.send_on_case(None, notice, now).await {
            tracing::warn!(error = %e, "code not queued");
            return Err(Refusal::NoSms);
        }
        self.wake.sms.notify_one();
        Ok(())
    }

    /// Counts a progress lookup from `source` (60 an hour: enough for people, too few to
    /// guess case numbers).
    pub fn admit_lookup(&self, source: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
        let mut g = self.guard.lock().expect("guard lock");
        if g.lookups.allow(source, now) {
            Ok(())
        } else {
            Err(Refusal::SourceLimit)
        }
    }

    /// Uses up the code sent to `phone`.
    pub fn check_code(&self, phone: &str, code: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
        Ok(self
            .guard
            .lock()
            .expect("guard lock")
            .codes
            .check(phone, code, now)?)
    }
}
