//! What the store takes and gives: new calls, and cases with their calls as the API shows them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::error::StoreError;

/// A call about to be answered.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// The SIP Call-ID of the caller's leg.
    pub sip_call_id: String,
    /// The caller, normalised (`087163601234`, `13013361234`), empty when anonymous.
    pub caller: String,
    /// The number dialled (`12345`, `087212345`).
    pub called: String,
    /// The division code of the platform that took the call.
    pub platform: String,
    /// Why it went there (`caller-area-code:0871`, …).
    pub route_reason: String,
    /// When the INVITE arrived.
    pub started_at: DateTime<Utc>,
}

/// The case and call rows written for a new call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedCall {
    /// The new case's number, e.g. `530100-20261125-000042`.
    pub case_number: String,
    /// The call's row id.
    pub call_id: i64,
}

/// A case with its calls.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseView {
    pub case_number: String,
    /// Division code.
    pub platform: String,
    pub caller: String,
    pub state: String,
    /// `awaiting` while a voice message awaits its callback, `done` once the caller was reached.
    pub callback_status: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub calls: Vec<CallView>,
    /// Voice messages left on this case, oldest first.
    pub voicemails: Vec<VoicemailView>,
    /// Callback attempts on the case itself (a caller who hung up while waiting), oldest
    /// first; those on a voice message are in its `voicemails` entry.
    pub callback_attempts: Vec<CaseCallbackAttempt>,
    /// The caller's rating of how the matter was handled (1 满意, 2 基本满意, 3 不满意), given
    /// on the return-visit callback.
    pub handling_rating: Option<i64>,
    /// What happened in the case's calls: monitoring, hand-overs, consultations.
    pub audit: Vec<AuditEntry>,
    /// Phone reminders to the unit about signing it.
    pub reminders: Vec<ReminderView>,
    /// The channel it came in on (`phone`, `email`, `sms`, `web`, `app`, `wechat`).
    pub channel: String,
    /// The requester's address when not a phone number (mail, official account).
    pub contact: Option<String>,
    /// When a written request must first be answered (GB/T 33358), and when it was.
    pub answer_due: Option<DateTime<Utc>>,
    pub first_answer_at: Option<DateTime<Utc>>,
    /// What was written to and by the requester, oldest first.
    pub messages: Vec<MessageView>,
}

impl CaseView {
    /// The case without the caller's number anywhere in it: what a unit sees of a case whose
    /// caller asked for confidentiality.
    pub fn without_caller(mut self) -> CaseView {
        let number = std::mem::take(&mut self.caller);
        let contact = self.contact.take().unwrap_or_default();
        for message in &mut self.messages {
            for who in [&mut message.sender, &mut message.recipient] {
                if (!number.is_empty() && *who == number)
                    || (!contact.is_empty() && *who == contact)
                {
                    who.clear();
                }
            }
        }
        for call in &mut self.calls {
            call.caller.clear();
            // A callback dialled the caller: their number is the called one, and the leg's.
            if !number.is_empty() && call.called == number {
                call.called.clear();
            }
            for leg in &mut call.agent_legs {
                if !number.is_empty() && leg.agent == number {
                    leg.agent.clear();
                }
            }
        }
        for message in &mut self.voicemails {
            message.caller.clear();
        }
        self
    }
}

/// One call of a case.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallView {
    pub sip_call_id: String,
    pub caller: String,
    pub called: String,
    pub platform: String,
    pub route_reason: String,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub end_cause: Option<String>,
    /// `in` (a call to 12345) or `out` (a callback, a reminder).
    pub direction: String,
    /// The caller's rating of the call (1 满意, 2 基本满意, 3 不满意), when given.
    pub rating: Option<i64>,
    /// The legs this call placed (operator seats rung, other numbers called), oldest first,
    /// each with its own Call-ID.
    pub agent_legs: Vec<AgentLegView>,
}

/// The stored form of a time on SQLite: UTC, ISO 8601 with milliseconds, so that text order is
/// time order (PostgreSQL stores `TIMESTAMPTZ`, see [`super::db::Dialect`]).
pub fn to_db_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a time stored as text.
pub fn from_db_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
}

/// One seat rung for a call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AgentLegView {
    /// The Call-ID of the server's INVITE to the seat.
    pub leg_call_id: String,
    /// The seat (login id).
    pub agent: String,
    pub rang_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `completed` (answered and talked), `no-answer` (rang out or withdrawn), `declined 486`
    /// (a final response), `no-response`, `hung-up` (before answering), `unusable answer`,
    /// `caller-gone` (answered as the caller hung up), `answered-too-late` (after its ring
    /// timeout), `server-restart`.
    pub outcome: Option<String>,
}

/// One callback attempt on a case (a caller who hung up while waiting).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseCallbackAttempt {
    pub at: DateTime<Utc>,
    pub reached: bool,
    /// Who called back.
    pub operator: String,
    pub note: String,
    /// For an attempt by phone through the server: its call, how it went (`reached`,
    /// `no-answer`, `busy`, `refused`, `failed`, `called-again`) and what it was for
    /// (`missed`, `voicemail`, `return-visit`).
    pub sip_call_id: Option<String>,
    pub outcome: Option<String>,
    pub kind: String,
}

/// A voice message as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VoicemailView {
    pub id: i64,
    pub case_number: String,
    pub sip_call_id: String,
    pub platform: String,
    pub caller: String,
    /// `recording`, `awaiting-callback` or `called-back`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: Option<i64>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub callback_due: Option<DateTime<Utc>>,
    pub attempts: i64,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// `reached` or `not-reached`.
    pub last_outcome: Option<String>,
    /// The file, relative to the data folder.
    #[serde(skip)]
    pub file: String,
}

/// One step of a case's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The call it happened in, if any.
    pub sip_call_id: Option<String>,
    pub actor_role: String,
    pub actor_id: String,
    /// `monitor-listen`, `monitor-whisper`, `monitor-barge`, `monitor-stop`, `hand-over`,
    /// `hand-over-failed`, `consult`, `consult-transferred`, …
    pub action: String,
    pub detail: String,
}

/// A phone reminder to a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReminderView {
    pub at: DateTime<Utc>,
    pub unit: String,
    pub number: String,
    /// `signed`, `no-key`, `no-answer`, `busy`, `refused`, `failed`.
    pub outcome: String,
    pub sip_call_id: Option<String>,
}

/// A file that came with a request, already written under the data folder.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Relative to the data folder.
    pub path: String,
}

/// A message of a case, as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MessageView {
    pub id: i64,
    pub channel: String,
    /// `in` (from the requester) or `out`.
    pub direction: String,
    pub kind: String,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub at: DateTime<Utc>,
    pub attachments: Vec<NewAttachment>,
}
