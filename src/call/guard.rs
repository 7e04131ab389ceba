//! Whatever way a call's task ends (its flow returns, it fails, panics or is aborted), the call
//! ends with it: [`CallGuard`] takes it out of the call directory, and when the flow did not reach its own end
//! it also takes the call out of the ACD (which frees the seat it was with), drops the call's
//! seat legs, and stores the call's end with the cause `server-error`.
//!
//! It also keeps the count that `--max-calls` is checked against: a call counts from the moment
//! its offer is accepted (routed, media negotiated) until it starts to end, so neither INVITEs
//! still being routed or refused nor calls whose end is being written make callers hear 503.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::Utc;
use tracing::error;

use super::directory::SignalTx;
use super::services::CallServices;
use crate::acd::AcdEvent;

/// One call's guard; see the module documentation.
pub struct CallGuard {
    services: Arc<CallServices>,
    /// The Call-ID the manager knows the call by.
    call_id: String,
    /// The id the ACD and the store know the call by (see [`CallGuard::store_as`]).
    stored_id: String,
    me: SignalTx,
    counted: bool,
    finished: bool,
}

impl CallGuard {
    /// A guard for the call `call_id`, whose signals come through `me`.
    pub fn new(services: Arc<CallServices>, call_id: String, me: SignalTx) -> CallGuard {
        CallGuard {
            services,
            stored_id: call_id.clone(),
            call_id,
            me,
            counted: false,
            finished: false,
        }
    }

    /// The call is stored and queued as `id` (a reused Call-ID gets its From tag added).
    pub fn store_as(&mut self, id: &str) {
        self.stored_id = id.to_string();
    }

    /// The call was routed and its offer accepted: from now on it counts against `--max-calls`.
    pub fn count(&mut self) {
        if !self.counted {
            self.counted = true;
            self.services.live.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The call begins to end: it no longer counts.
    pub fn ending(&mut self) {
        if self.counted {
            self.counted = false;
            self.services.live.0.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The flow reached its own end (its end is stored).
    pub fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.ending();
        if !self.finished {
            error!(call_id = %self.stored_id, "call task ended abnormally: ending the call");
            let call = self.stored_id.clone();
            self.services
                .queue
                .event(AcdEvent::CallAbandoned { call: call.clone() });
            self.services.queue.event(AcdEvent::CallEnded {
                call: call.clone(),
                by_agent: false,
            });
            self.services
                .legs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|_, to| !to.same_channel(&self.me));
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let store = self.services.store.clone();
                runtime.spawn(async move {
                    if let Err(e) = store.end_call(&call, Utc::now(), "server-error").await {
                        error!(call_id = %call, error = %e, "call end not stored");
                    }
                });
            }
        }
        // Out of the directory (unless its end already took it out, and a new call with the
        // same Call-ID came in since).
        let mut calls = self.services.calls.lock();
        if calls
            .get(&self.call_id)
            .is_some_and(|tx| tx.same_channel(&self.me))
        {
            calls.remove(&self.call_id);
        }
    }
}
