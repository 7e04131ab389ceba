//! What a call needs from the rest of the server, bundled once and shared by every call task.

use std::net::IpAddr;
use std::sync::Arc;
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

/// The calls in progress by their Call-ID, each with the channel of its task: the call manager
/// keeps it, the API sends a call its requests (a transfer) through it.
pub type CallDirectory = Arc<
    std::sync::Mutex<
        std::collections::HashMap<
            String,
            tokio::sync::mpsc::UnboundedSender<super::inbound::CallSignal>,
        >,
    >,
>;

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
    pub live: super::guard::LiveCalls,
    /// Legs released without an answer, whose 200 OK may still cross their CANCEL.
    pub late_legs: std::sync::Mutex<super::late::LateLegs>,
    /// The server's calls to seats, by their Call-ID: where their responses and BYEs go.
    pub legs: std::sync::Mutex<
        std::collections::HashMap<
            String,
            tokio::sync::mpsc::UnboundedSender<super::inbound::CallSignal>,
        >,
    >,
}

impl CallServices {
    /// The dialplan in force now.
    pub fn dialplan(&self) -> Arc<Dialplan> {
        self.dialplan.current()
    }
}
