//! The flow of one call to 12345, from INVITE to the end of the call:
//!
//! 1. `100 Trying` at once, then route the call by area (404 for a number we do not serve).
//! 2. Negotiate media from the SDP offer (488 when no PCMU/PCMA is offered).
//! 3. Write the case and the call durably, then `180 Ringing` and `200 OK` with the SDP answer:
//!    no caller is ever answered without a case (a store failure gives 503 + Retry-After).
//! 4. After the ACK, play the platform's welcome prompt, then hold music; DTMF is logged.
//! 5. The call ends on the caller's BYE, a CANCEL, a missing ACK, lost media or the maximum
//!    duration; the end time and cause are stored.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use chrono::Utc;
use tracing::{error, info, warn};

use super::context::InboundCall;
use super::directory::{SignalRx, SignalTx};
use super::driver::Driver;
use super::flow::Call;
use super::identity::call_identity;
use super::services::CallServices;
pub use super::signal::{CallSignal, EndCause};
use crate::media::sdp::{self, Negotiated};
use crate::media::session::MediaSession;
use crate::routing::normalize_number;
use crate::sip::dialog::Dialog;
use crate::sip::message::{self, response_for};
use crate::sip::transaction::{Peer, TransactionKey};
use crate::store::NewCall;

/// Runs one inbound call to its end (its guard then takes it out of the call directory).
pub async fn run_inbound_call(
    services: Arc<CallServices>,
    key: TransactionKey,
    request: rsip::Request,
    peer: Peer,
    (me, mut signals): (SignalTx, SignalRx),
    // The trunk channel the call holds, given back when the call ends.
    _channel: Option<super::trunk::ChannelGuard>,
) {
    let arrived = tokio::time::Instant::now();
    let raw_call_id = message::call_id_of(&request).unwrap_or_default();
    let mut guard = super::guard::CallGuard::new(services.clone(), raw_call_id.clone(), me.clone());
    // A Call-ID that a finished call already had: a new dialog all the same (RFC 3261 §12: a
    // dialog is the Call-ID with both tags), kept under the Call-ID with its From tag.
    let call_id = match stored_call_id(&services, &request, &raw_call_id).await {
        Ok(id) => id,
        Err(status) => {
            services.endpoint.respond(
                &key,
                response_for(&request, status, Some(&message::new_tag())),
            );
            guard.finish();
            return;
        }
    };
    guard.store_as(&call_id);
    let call = InboundCall {
        me,
        dialplan: services.dialplan(),
        services: &services,
        key: &key,
        request: &request,
        peer,
        call_id: &call_id,
        to_tag: message::new_tag(),
        pending_bye: std::sync::Mutex::new(None),
        hang_up_at: arrived + services.limits.max_call_duration,
    };
    call.run(&mut signals, &mut guard).await;
    guard.finish();
}

/// The id a new call is stored and known by: its Call-ID, or when a finished call had that
/// Call-ID, the Call-ID with the new From tag. The same Call-ID and From tag again is a stale
/// copy of a finished INVITE: 482. A store that cannot tell: 503.
async fn stored_call_id(
    services: &CallServices,
    request: &rsip::Request,
    raw: &str,
) -> Result<String, rsip::StatusCode> {
    let unavailable = |e: crate::store::StoreError| {
        error!(call_id = raw, error = %e, "cannot look the Call-ID up: 503");
        rsip::StatusCode::ServiceUnavailable
    };
    if !services.store.call_known(raw).await.map_err(unavailable)? {
        return Ok(raw.to_string());
    }
    let from_tag = message::from_tag(request).unwrap_or_default();
    let again = format!("{raw};from-tag={from_tag}");
    if services
        .store
        .call_known(&again)
        .await
        .map_err(unavailable)?
    {
        info!(
            call_id = raw,
            from_tag, "an INVITE of a finished call again: 482"
        );
        return Err(rsip::StatusCode::LoopDetected);
    }
    info!(
        call_id = raw,
        stored_as = again,
        "Call-ID of a finished call reused: a new call"
    );
    Ok(again)
}

impl InboundCall<'_> {
    async fn run(&self, signals: &mut SignalRx, guard: &mut super::guard::CallGuard) {
        let ep = &self.services.endpoint;
        ep.respond(
            self.key,
            response_for(self.request, rsip::StatusCode::Trying, None),
        );

        let mut identity = call_identity(self.request);
        // A carrier we register with sends its calls to our registered address: the number
        // dialled is then in To, not in the Request-URI (which names our account).
        if let Some(trunk) = self.dialplan.trunks.by_source(self.peer.addr.ip()) {
            let account = trunk.register.as_ref().map(|r| r.username.as_str());
            if account == Some(identity.called.as_str()) {
                if let Some(to) = message::header_value(self.request, "to")
                    .as_deref()
                    .and_then(message::uri_user)
                {
                    identity.called = to;
                }
            }
        }
        let route = match self
            .dialplan
            .router
            .route(&identity.called, &identity.caller)
        {
            Ok(route) => route,
            Err(not_served) => {
                info!(call_id = self.call_id, called = %identity.called, caller = %identity.caller,
                      reason = %not_served, "number not served: 404");
                self.reject(rsip::StatusCode::NotFound);
                return;
            }
        };
        info!(call_id = self.call_id, called = %identity.called, caller = %identity.caller,
              platform = %route.platform, reason = %route.reason, "call routed");

        let local_ip = self.local_ip();
        let media = match MediaSession::open(
            &self.services.rtp_ports,
            local_ip,
            self.services.limits.media_timeout,
        )
        .await
        {
            Ok(media) => media,
            Err(e) => {
                warn!(call_id = self.call_id, error = %e, "no media port: 503");
                self.services.reply_retry_later(self.key, self.request);
                return;
            }
        };
        let offer = String::from_utf8_lossy(&self.request.body).to_string();
        let negotiated = match sdp::negotiate(
            &offer,
            local_ip,
            media.local_port(),
            rand::random::<u32>() as u64,
        ) {
            Ok(n) => n,
            Err(e) => {
                info!(call_id = self.call_id, error = %e, "SDP offer not acceptable: 488");
                self.reject(rsip::StatusCode::NotAcceptableHere);
                return;
            }
        };

        // From here the call counts against --max-calls (a refusal above never did: its final
        // response may reach the caller before this task ends).
        guard.count();

        // The case and the call are durable before the caller is answered.
        let caller = normalize_number(&identity.caller).unwrap_or(identity.caller.clone());
        let new_call = NewCall {
            sip_call_id: self.call_id.to_string(),
            caller,
            called: identity.called.clone(),
            platform: route.platform.clone(),
            route_reason: route.reason.as_str(),
            started_at: Utc::now(),
        };
        ep.respond(
            self.key,
            response_for(self.request, rsip::StatusCode::Ringing, Some(&self.to_tag)),
        );
        let opened = match self.services.store.open_call(new_call).await {
            Ok(opened) => opened,
            Err(e) => {
                error!(call_id = self.call_id, error = %e, "cannot record the call: 503");
                guard.ending();
                self.services.reply_retry_later(self.key, self.request);
                return;
            }
        };
        info!(call_id = self.call_id, case = %opened.case_number, "case recorded");

        if cancelled_meanwhile(signals) {
            self.reject(rsip::StatusCode::RequestTerminated);
            guard.ending();
            self.end(EndCause::Cancelled).await;
            return;
        }

        let ok = self.ok_response(&negotiated, local_ip);
        let mut dialog = Dialog::new_uas(self.request, &ok);
        ep.respond(self.key, ok);
        guard.answered(&dialog, self.peer, self.via_host(local_ip));
        if let Err(e) = self
            .services
            .store
            .mark_answered(self.call_id, Utc::now())
            .await
        {
            warn!(call_id = self.call_id, error = %e, "answer time not stored");
        }

        let cause = self
            .converse(
                signals,
                &media,
                &negotiated,
                &route.platform,
                &opened.case_number,
                &mut dialog,
            )
            .await;
        media.close();
        guard.ending();
        self.end(cause).await;
    }

    /// From the 200 OK to the end of the call: the pure machine ([`super::flow`]) decides,
    /// the driver performs.
    async fn converse(
        &self,
        signals: &mut SignalRx,
        media: &MediaSession,
        negotiated: &Negotiated,
        platform: &str,
        case_number: &str,
        dialog: &mut Dialog,
    ) -> EndCause {
        let mut machine = Call::new(
            self.call_id,
            self.dialplan.clone(),
            platform,
            self.hang_up_at.into_std(),
        );
        Driver::new(self, media, case_number, dialog)
            .run(&mut machine, signals, negotiated, platform)
            .await
    }

    fn ok_response(&self, negotiated: &Negotiated, local_ip: IpAddr) -> rsip::Response {
        let mut ok = response_for(self.request, rsip::StatusCode::OK, Some(&self.to_tag));
        let port = self
            .services
            .endpoint
            .local_addr_for(self.peer.transport)
            .port();
        let transport = self.peer.transport.uri_param();
        let user = message::request_uri_user(self.request).unwrap_or_else(|| "12345".into());
        let host = SocketAddr::new(local_ip, port);
        ok.headers.push(rsip::Header::Other(
            "Contact".into(),
            format!("<sip:{user}@{host}{transport}>"),
        ));
        ok.headers.push(rsip::Header::Other(
            "Allow".into(),
            super::signal::ALLOWED_METHODS.into(),
        ));
        message::set_body(
            &mut ok,
            "application/sdp",
            negotiated.answer.clone().into_bytes(),
        );
        ok
    }

    fn reject(&self, status: rsip::StatusCode) {
        self.services.endpoint.respond(
            self.key,
            response_for(self.request, status, Some(&self.to_tag)),
        );
    }

    async fn end(&self, cause: EndCause) {
        info!(call_id = self.call_id, cause = cause.as_str(), "call ended");
        metrics::counter!("hotline_calls_total", "outcome" => cause.as_str()).increment(1);
        if let Err(e) = self
            .services
            .store
            .end_call(self.call_id, Utc::now(), cause.as_str())
            .await
        {
            error!(call_id = self.call_id, error = %e, "call end not stored");
        }
        // The call leaves the directory before its BYE is answered: a new INVITE that reuses
        // the Call-ID right after the 200 is a new call, not a loop (482).
        if let Some(raw) = message::call_id_of(self.request) {
            let mut calls = self.services.calls.lock();
            if calls.get(&raw).is_some_and(|tx| tx.same_channel(&self.me)) {
                calls.remove(&raw);
            }
        }
        let bye = self
            .pending_bye
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((key, request)) = bye {
            self.services
                .endpoint
                .respond(&key, response_for(&request, rsip::StatusCode::OK, None));
        }
    }
}

/// True when a CANCEL arrived while we were recording the case.
fn cancelled_meanwhile(signals: &mut SignalRx) -> bool {
    let mut cancelled = false;
    while let Ok(signal) = signals.try_recv() {
        if matches!(signal, CallSignal::Cancel) {
            cancelled = true;
        }
    }
    cancelled
}
