//! What a call needs from the rest of the server, bundled once and shared by every call task.

use std::net::IpAddr;
use std::sync::Arc;

use tracing::{info, warn};

use super::directory::{CallDirectory, SignalTx};
use crate::sip::endpoint::OVERLOAD_RETRY_AFTER_SECS;
use crate::sip::message::response_for;
use crate::sip::transaction::TransactionKey;
use std::time::Duration;

use crate::dialplan::{Dialplan, LiveDialplan};
use crate::media::prompt::PromptLibrary;
use crate::media::rtp::RtpPortPool;
use crate::sip::endpoint::EndpointHandle;
use crate::store::Store;

/// Bounds that keep one call, or the whole server, from running away.
#[derive(Debug, Clone)]
pub struct CallLimits {
    /// Calls handled at once; the next INVITE gets 503 with Retry-After.
    pub max_calls: usize,
    /// A call longer than this is ended by the server with a BYE.
    pub max_call_duration: Duration,
    /// No RTP from the caller for this long ends the call (the caller's phone is gone).
    pub media_timeout: Duration,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            max_calls: 2000,
            max_call_duration: Duration::from_secs(2 * 60 * 60),
            media_timeout: Duration::from_secs(60),
        }
    }
}

/// The shared services of every call.
pub struct CallServices {
    /// Sends SIP.
    pub endpoint: EndpointHandle,
    /// Cases and calls, durable.
    pub store: Store,
    /// Routing, platforms, hours: the dialplan in force (reloadable).
    pub dialplan: Arc<LiveDialplan>,
    /// The prompts, checked at start-up.
    pub prompts: Arc<PromptLibrary>,
    /// RTP ports for media sessions.
    pub rtp_ports: Arc<RtpPortPool>,
    /// The IP written into SDP and Contact; None means the address the caller reached us on.
    pub advertise_ip: Option<IpAddr>,
    /// Per-call and server-wide limits.
    pub limits: CallLimits,
    /// The data folder (voice messages live under `voicemail/`).
    pub data_dir: std::path::PathBuf,
    /// Registrations of the operator seats.
    pub registrar: Arc<super::register::Registrar>,
    /// The ACD.
    pub queue: super::queue::QueueHandle,
    /// The callers' calls in progress.
    pub calls: CallDirectory,
    /// Set on SIGTERM: new calls get 503 while the calls in progress finish.
    pub draining: std::sync::atomic::AtomicBool,
    /// Calls that count against `--max-calls` (see [`super::guard`]).
    pub live: LiveCalls,
    /// Legs released without an answer, whose 200 OK may still cross their CANCEL.
    pub late_legs: std::sync::Mutex<super::late::LateLegs>,
    /// The server's calls to seats, by their Call-ID: where their responses and BYEs go.
    pub legs: std::sync::Mutex<std::collections::HashMap<String, SignalTx>>,
    /// The consoles connected, and the calls ringing in their browser phones.
    pub phones: Arc<crate::phone::Phones>,
    /// The channels in use on each carrier trunk.
    pub trunk_channels: Arc<super::channels::TrunkChannels>,
    /// Cases with an outbound call (a callback, a reminder) in progress: one at a time.
    pub outbound: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The registrations with carriers, one task per registering trunk.
    pub trunk_registrations: super::channels::Registrations,
}

/// Calls that count against `--max-calls` now.
#[derive(Debug, Default)]
pub struct LiveCalls(pub(super) std::sync::atomic::AtomicUsize);

impl LiveCalls {
    /// How many calls count now.
    pub fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl CallServices {
    /// When `response` is a final answer on a released leg, takes the leg; a 2xx is ACKed and hung
    /// up with a BYE. Returns whether the response was such a leg's.
    pub fn answer_late(&self, response: &rsip::Response) -> bool {
        let call_id = crate::sip::message::call_id(response).unwrap_or_default();
        let code = response.status_code.code();
        let leg = self
            .late_legs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_on_final(&call_id, code);
        let Some(leg) = leg else {
            return false;
        };
        if code < 300 {
            info!(leg = %call_id, "a seat answered after its leg was let go: ACK and BYE");
            let (ack, bye) = leg.ack_and_bye(response);
            self.endpoint.send_stateless(ack.into(), leg.peer);
            let endpoint = self.endpoint.clone();
            tokio::spawn(async move {
                if let Err(e) = endpoint.send_request(bye, leg.peer).await {
                    warn!(error = %e, "BYE to a late seat not sent");
                }
            });
        }
        true
    }

    /// 503 with Retry-After: the caller's phone or carrier tries again instead of giving up.
    pub fn reply_retry_later(&self, key: &TransactionKey, request: &rsip::Request) {
        let mut response = response_for(request, rsip::StatusCode::ServiceUnavailable, None);
        response.headers.push(rsip::Header::Other(
            "Retry-After".into(),
            OVERLOAD_RETRY_AFTER_SECS.to_string(),
        ));
        self.endpoint.respond(key, response);
    }

    /// The dialplan in force now.
    pub fn dialplan(&self) -> Arc<Dialplan> {
        self.dialplan.current()
    }
}
