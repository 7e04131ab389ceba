//! Whatever way a call's task ends (its flow returns, it fails, panics or is aborted), the call
//! ends with it: [`CallGuard`] takes it out of the call directory, and when the flow did not reach its own end
//! it also takes the call out of the ACD (which frees the seat it was with), drops the call's
//! seat legs, stores the call's end with the cause `server-error`, and, once the caller was
//! answered, sends the caller a BYE, so that a failed call never leaves a phone off the hook.
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
use crate::sip::dialog::Dialog;
use crate::sip::transaction::Peer;

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
    /// The caller's dialog once answered, where it is, and the Via host for a BYE.
    answered: Option<(Dialog, Peer, String)>,
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
            answered: None,
        }
    }

    /// The caller was answered in `dialog` (at `peer`; our Via host is `via`): a call that
    /// ends abnormally from now on owes the caller a BYE.
    pub fn answered(&mut self, dialog: &Dialog, peer: Peer, via: String) {
        self.answered = Some((dialog.clone(), peer, via));
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
                let bye = self.answered.take().map(|(mut dialog, peer, via)| {
                    let bye = dialog.new_request(rsip::Method::Bye, &via, peer.transport);
                    (self.services.endpoint.clone(), bye, peer)
                });
                runtime.spawn(async move {
                    if let Some((endpoint, bye, peer)) = bye {
                        if let Err(e) = endpoint.send_request(bye, peer).await {
                            error!(call_id = %call, error = %e, "BYE to the caller not sent");
                        }
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::Transport;
    use std::time::Duration;

    /// The services of a server on loopback: an endpoint, a SQLite store, the bundled
    /// dialplan and prompts, and the ACD.
    async fn services(
        dir: &tempfile::TempDir,
    ) -> (
        Arc<CallServices>,
        tokio::sync::mpsc::Receiver<crate::sip::transaction::TuEvent>,
    ) {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let (endpoint, events) = crate::sip::endpoint::start(
            crate::sip::endpoint::EndpointConfig::new("127.0.0.1:0".parse().unwrap()),
        )
        .await
        .unwrap();
        let url = crate::store::testdb::TestDb::sqlite(dir.path())
            .url()
            .to_string();
        let store = crate::store::Store::open(&url).await.unwrap();
        let dialplan =
            Arc::new(crate::dialplan::LiveDialplan::load(&root.join("dialplan")).unwrap());
        let queue = crate::call::queue::start(&dialplan.current(), store.clone());
        let services = Arc::new(CallServices {
            endpoint,
            store,
            dialplan,
            prompts: Arc::new(
                crate::media::prompt::PromptLibrary::load_dir(&root.join("prompts")).unwrap(),
            ),
            rtp_ports: Arc::new(crate::media::rtp::RtpPortPool::new(46000, 46099).unwrap()),
            advertise_ip: None,
            limits: Default::default(),
            data_dir: dir.path().to_path_buf(),
            registrar: Default::default(),
            queue,
            calls: Default::default(),
            draining: Default::default(),
            live: Default::default(),
            late_legs: Default::default(),
            legs: Default::default(),
            phones: Default::default(),
            trunk_channels: Default::default(),
            outbound: Default::default(),
            trunk_registrations: Default::default(),
        });
        (services, events)
    }

    #[tokio::test]
    async fn a_call_that_fails_after_its_answer_sends_the_caller_a_bye() {
        let dir = tempfile::tempdir().unwrap();
        let (services, _events) = services(&dir).await;
        let phone = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let at = phone.local_addr().unwrap();
        let peer = Peer {
            addr: at,
            transport: Transport::Udp,
        };
        let dialog = Dialog {
            call_id: "failed-call".into(),
            local: "<sip:12345@127.0.0.1>;tag=ours".into(),
            remote: "<sip:087163600001@127.0.0.1>;tag=theirs".into(),
            remote_target: format!("sip:087163600001@{at}"),
            route_set: Vec::new(),
            local_cseq: 1,
        };
        let via = services.endpoint.local_addr().to_string();

        // Not answered yet: a failure owes no BYE.
        let (me, _rx) = crate::call::directory::signal_channel();
        drop(CallGuard::new(services.clone(), "early".into(), me));
        // Answered, then the task fails (the guard is dropped without finish).
        let (me, _rx) = crate::call::directory::signal_channel();
        let mut guard = CallGuard::new(services.clone(), "failed-call".into(), me);
        guard.answered(&dialog, peer, via);
        drop(guard);

        let mut buf = [0u8; 4096];
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), phone.recv_from(&mut buf))
            .await
            .expect("a BYE within 5 s")
            .unwrap();
        let bye = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(bye.starts_with("BYE sip:087163600001@"), "{bye}");
        assert!(bye.contains("failed-call"), "in the caller's dialog: {bye}");
        assert!(bye.contains("CSeq: 2 BYE"), "after our last request: {bye}");

        // The first guard's call was never answered: nothing else arrives.
        let more =
            tokio::time::timeout(Duration::from_millis(300), phone.recv_from(&mut buf)).await;
        let again = more.map(|r| String::from_utf8_lossy(&buf[..r.unwrap().0]).to_string());
        assert!(
            again.as_ref().map_or(true, |m| m.contains("failed-call")),
            "only the answered call's BYE (or its retransmission): {again:?}"
        );

        // A call that reached its own end sends nothing from its guard (its flow said BYE).
        let (me, _rx) = crate::call::directory::signal_channel();
        let mut guard = CallGuard::new(services.clone(), "finished".into(), me);
        let finished = Dialog {
            call_id: "finished".into(),
            ..dialog
        };
        guard.answered(&finished, peer, "127.0.0.1:5060".into());
        guard.finish();
        let quiet_until = tokio::time::Instant::now() + Duration::from_millis(800);
        while let Ok(Ok((n, _))) =
            tokio::time::timeout_at(quiet_until, phone.recv_from(&mut buf)).await
        {
            let m = String::from_utf8_lossy(&buf[..n]).to_string();
            assert!(!m.contains("finished"), "a finished call's guard sent {m}");
        }
    }
}
