//! One inbound call's fixed facts ([`InboundCall`]) and the helpers every phase of its flow
//! uses (answering the caller's BYE, hanging up, the local media address), apart from the
//! flow itself (`inbound.rs`) so that the phases (menu, queue, bridge, transfer, voicemail)
//! import this file and not the flow that calls them.

use std::net::{IpAddr, SocketAddr};

use tracing::warn;

use super::directory::SignalTx;
use super::services::CallServices;
use crate::sip::dialog::Dialog;
use crate::sip::transaction::{Peer, TransactionKey};

/// One inbound call's fixed facts.
pub(super) struct InboundCall<'a> {
    /// This call's own signal channel (given to its calls to seats).
    pub(super) me: SignalTx,
    pub(super) services: &'a CallServices,
    /// The dialplan in force when the call arrived (a reload does not change a running call).
    pub(super) dialplan: std::sync::Arc<crate::dialplan::Dialplan>,
    pub(super) key: &'a TransactionKey,
    pub(super) request: &'a rsip::Request,
    pub(super) peer: Peer,
    pub(super) call_id: &'a str,
    pub(super) to_tag: String,
    /// The caller's BYE, answered once the call's end is stored (see [`InboundCall::end`]).
    pub(super) pending_bye: std::sync::Mutex<Option<(TransactionKey, rsip::Request)>>,
    /// When the call must end at the latest: `--max-call-duration` after its INVITE, one
    /// deadline for every phase (queue, bridge, transfers).
    pub(super) hang_up_at: tokio::time::Instant,
}

impl InboundCall<'_> {
    /// The caller hung up: the 200 OK waits until the call's end is durable (a retransmitted
    /// BYE is absorbed by its transaction meanwhile).
    pub(super) fn answer_bye(&self, key: &TransactionKey, request: &rsip::Request) {
        *self.pending_bye.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((key.clone(), request.clone()));
    }

    /// The host of our Via in requests to the caller: `local_ip` and our port on the
    /// caller's transport.
    pub(super) fn via_host(&self, local_ip: IpAddr) -> String {
        let port = self
            .services
            .endpoint
            .local_addr_for(self.peer.transport)
            .port();
        SocketAddr::new(local_ip, port).to_string()
    }

    pub(super) async fn send_bye(&self, dialog: &mut Dialog, local_ip: IpAddr) {
        let bye = dialog.new_request(
            rsip::Method::Bye,
            &self.via_host(local_ip),
            self.peer.transport,
        );
        if let Err(e) = self.services.endpoint.send_request(bye, self.peer).await {
            warn!(call_id = self.call_id, error = %e, "BYE not sent");
        }
    }

    /// The IP we tell the caller to send media to: the configured one, else the local address
    /// of the route towards the caller.
    pub(super) fn local_ip(&self) -> IpAddr {
        if let Some(ip) = self.services.advertise_ip {
            return ip;
        }
        crate::net::route::local_ip_towards(self.peer.addr)
            .unwrap_or(self.services.endpoint.local_addr().ip())
    }
}
