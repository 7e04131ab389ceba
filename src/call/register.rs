//! REGISTER: operator softphones sign in with digest authentication and tell where they can be
//! called. The rules live in the pure [`crate::registrar`]; this file reads the SIP request,
//! asks those rules, and answers.
//!
//! 401 with two challenges (SHA-256, then MD5) until the phone proves its password; a stale
//! nonce is re-challenged with `stale=true`; wrong passwords count against the source address,
//! which is refused (403 with Retry-After) for growing delays once it keeps failing; 423 with
//! Min-Expires for a too-short expiry; 200 with every contact in force and its expiry.

use std::sync::Mutex;

use chrono::Utc;
use tracing::{info, warn};

use super::queue::QueueHandle;
use crate::dialplan::Dialplan;
use crate::registrar::{
    Binding, BindingError, Bindings, ContactUpdate, Credentials, DigestError, LoginLimiter,
    NonceCounts, NonceKeeper,
};
use crate::sip::endpoint::EndpointHandle;
use crate::sip::message::{self, response_for};
use crate::sip::transaction::{Peer, TransactionKey};

/// The realm of the challenges.
pub const REALM: &str = "hotline12345";
/// The `agents.toml` lines that let seat `id` register with `password` while the file keeps
/// only its HA1 values for this server's realm (`hotline12345 digest-ha1 <id>`).
pub fn ha1_lines(id: &str, password: &str) -> String {
    use crate::registrar::digest::Algorithm;
    format!(
        "ha1_md5 = \"{}\"\nha1_sha256 = \"{}\"\n",
        Algorithm::Md5.ha1(id, REALM, password),
        Algorithm::Sha256.ha1(id, REALM, password)
    )
}

/// Expiry granted when the phone asks for none.
const DEFAULT_EXPIRES: u32 = 3600;

struct State {
    bindings: Bindings,
    limiter: LoginLimiter,
    counts: NonceCounts,
}

/// Registrations of the operator seats.
pub struct Registrar {
    nonces: NonceKeeper,
    state: Mutex<State>,
    persist: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Persist>>>,
}

/// A binding change on its way to the store, with the answer that waits for it.
struct Persist {
    aor: String,
    bindings: Vec<Binding>,
    key: TransactionKey,
    response: rsip::Response,
}

impl Default for Registrar {
    fn default() -> Self {
        let secret: String = (0..4)
            .map(|_| format!("{:016x}", rand::random::<u64>()))
            .collect();
        Registrar {
            nonces: NonceKeeper::new(REALM, &secret, 300),
            state: Mutex::new(State {
                bindings: Bindings::new(60, 3600),
                limiter: LoginLimiter::new(5, 50, 600, 300),
                counts: NonceCounts::new(),
            }),
            persist: Mutex::new(None),
        }
    }
}

impl Registrar {
    /// Removes expired registrations; returns the seats left without a contact.
    pub fn expire(&self) -> Vec<String> {
        self.state
            .lock()
            .expect("registrar")
            .bindings
            .expire_all(Utc::now().timestamp())
    }

    /// The live contacts of a seat.
    pub fn contacts(&self, seat: &str) -> Vec<Binding> {
        self.state
            .lock()
            .expect("registrar")
            .bindings
            .lookup(seat, Utc::now().timestamp())
    }

    /// Who a seat's request other than REGISTER (an INVITE to a colleague) comes from: the
    /// seat whose digest answers our Proxy-Authenticate challenge (RFC 3261 §22.3), checked
    /// as a REGISTER is (nonces bound to the address, counts that must go up, guessing slowed
    /// down). Err is the response to send: 407 with the challenge, 403, or 400.
    pub fn authorize(
        &self,
        plan: &Dialplan,
        req: &rsip::Request,
        peer: Peer,
    ) -> Result<String, rsip::Response> {
        let now = Utc::now().timestamp();
        let reply = |status: rsip::StatusCode| response_for(req, status, Some(&message::new_tag()));
        let ip = peer.addr.ip();
        let seat_id = message::from_user(req).unwrap_or_default();
        let Some(seat) = plan.seats.iter().find(|s| s.id == seat_id) else {
            info!(%ip, from = seat_id, "a seat's request from no seat: 403");
            return Err(reply(rsip::StatusCode::Forbidden));
        };
        let mut state = self.state.lock().expect("registrar");
        if state.limiter.check(ip, &seat.id, now).is_some() {
            return Err(reply(rsip::StatusCode::Forbidden));
        }
        let challenge = |stale: bool| {
            let mut r = reply(rsip::StatusCode::ProxyAuthenticationRequired);
            for c in self
                .nonces
                .challenges(now, ip, stale, &seat.secret.algorithms(seat.md5_only))
            {
                r.headers.push(rsip::Header::Other(
                    "Proxy-Authenticate".into(),
                    c.header_value(),
                ));
            }
            r
        };
        let Some(auth) = message::header_value(req, "proxy-authorization") else {
            return Err(challenge(false));
        };
        let creds = match Credentials::parse(&auth) {
            Ok(c) if c.username == seat.id => c,
            Ok(_) => return Err(reply(rsip::StatusCode::Forbidden)),
            Err(e) => {
                warn!(%ip, error = %e, "malformed Proxy-Authorization");
                return Err(reply(rsip::StatusCode::BadRequest));
            }
        };
        let method = req.method.to_string();
        match self.nonces.verify(&creds, &method, &seat.secret, ip, now) {
            Ok(()) => {}
            Err(DigestError::StaleNonce) => return Err(challenge(true)),
            Err(e) => {
                warn!(%ip, seat = seat.id, error = %e, %method, "authentication failed");
                state.limiter.failed(ip, &seat.id, now);
                return Err(challenge(false));
            }
        }
        if let Err(e) = state
            .counts
            .record(&creds, now, self.nonces.lifetime_secs())
        {
            warn!(%ip, seat = seat.id, error = %e, "request refused: nonce reused");
            state.limiter.failed(ip, &seat.id, now);
            return Err(challenge(false));
        }
        state.limiter.succeeded(ip, &seat.id);
        Ok(seat.id.clone())
    }

    /// True when a seat's phone is registered from `ip`.
    pub fn is_seat_source(&self, ip: std::net::IpAddr) -> bool {
        self.state
            .lock()
            .expect("registrar")
            .bindings
            .has_source(ip, Utc::now().timestamp())
    }

    /// Answers one REGISTER. A change of a seat's bindings is stored before its 200 OK (in
    /// order, by the task [`Registrar::start_persisting`] started), so that a restart loses
    /// no registration a phone was told of.
    pub fn handle(
        &self,
        (endpoint, queue, plan): (&EndpointHandle, &QueueHandle, &Dialplan),
        key: &TransactionKey,
        req: &rsip::Request,
        peer: Peer,
    ) {
        let mut changed = None;
        let response = self.answer(queue, plan, req, peer, &mut changed);
        let persist = self
            .persist
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match (changed, persist) {
            (Some((aor, bindings)), Some(persist)) => {
                let _ = persist.send(Persist {
                    aor,
                    bindings,
                    key: key.clone(),
                    response,
                });
            }
            _ => endpoint.respond(key, response),
        }
    }

    /// Starts the task that stores binding changes and then answers their REGISTERs.
    pub fn start_persisting(
        &self,
        store: crate::store::Store,
        endpoint: crate::sip::endpoint::EndpointHandle,
    ) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Persist>();
        *self.persist.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let response = match store.save_registrations(&p.aor, p.bindings).await {
                    Ok(()) => p.response,
                    Err(e) => {
                        tracing::error!(seat = p.aor, error = %e, "registration not stored: 500");
                        let mut r = p.response;
                        r.status_code = rsip::StatusCode::ServerInternalError;
                        r
                    }
                };
                endpoint.respond(&p.key, response);
            }
        });
    }

    /// Puts back the registrations kept in the store (at start-up); returns the seats that
    /// have one, to be signed in.
    pub fn restore(&self, kept: Vec<(String, Binding)>) -> Vec<String> {
        let mut state = self.state.lock().expect("registrar");
        let mut seats: Vec<String> = kept.iter().map(|(aor, _)| aor.clone()).collect();
        for (aor, binding) in kept {
            state.bindings.restore(&aor, binding);
        }
        seats.dedup();
        seats
    }

    /// The response; `changed` gets the seat's bindings when they changed.
    fn answer(
        &self,
        queue: &QueueHandle,
        plan: &Dialplan,
        req: &rsip::Request,
        peer: Peer,
        changed: &mut Option<(String, Vec<Binding>)>,
    ) -> rsip::Response {
        let now = Utc::now().timestamp();
        let reply = |status: rsip::StatusCode| response_for(req, status, Some(&message::new_tag()));
        let with = |mut r: rsip::Response, name: &str, value: String| {
            r.headers.push(rsip::Header::Other(name.into(), value));
            r
        };
        let Some(seat_id) = message::header_value(req, "to").and_then(|t| message::uri_user(&t))
        else {
            return reply(rsip::StatusCode::BadRequest);
        };
        let Some(seat) = plan.seats.iter().find(|s| s.id == seat_id) else {
            info!(seat = seat_id, "REGISTER for an unknown seat: 404");
            return reply(rsip::StatusCode::NotFound);
        };
        let ip = peer.addr.ip();
        let mut state = self.state.lock().expect("registrar");
        if let Some(wait) = state.limiter.check(ip, &seat.id, now) {
            warn!(%ip, wait, "REGISTER refused: too many failed attempts");
            return with(
                reply(rsip::StatusCode::Forbidden),
                "Retry-After",
                wait.to_string(),
            );
        }
        let challenge = |stale: bool| {
            let mut r = reply(rsip::StatusCode::Unauthorized);
            for c in self
                .nonces
                .challenges(now, ip, stale, &seat.secret.algorithms(seat.md5_only))
            {
                r.headers.push(rsip::Header::Other(
                    "WWW-Authenticate".into(),
                    c.header_value(),
                ));
            }
            r
        };
        let Some(auth) = message::header_value(req, "authorization") else {
            return challenge(false);
        };
        let creds = match Credentials::parse(&auth) {
            Ok(c) if c.username == seat.id => c,
            Ok(_) => return reply(rsip::StatusCode::Forbidden),
            Err(e) => {
                warn!(%ip, error = %e, "malformed Authorization");
                return reply(rsip::StatusCode::BadRequest);
            }
        };
        match self
            .nonces
            .verify(&creds, "REGISTER", &seat.secret, ip, now)
        {
            Ok(()) => {}
            Err(DigestError::StaleNonce) => return challenge(true),
            Err(e) => {
                warn!(%ip, seat = seat.id, error = %e, "REGISTER authentication failed");
                state.limiter.failed(ip, &seat.id, now);
                return challenge(false);
            }
        }
        // The right answer, but perhaps one seen before: a replay registers nothing.
        if let Err(e) = state
            .counts
            .record(&creds, now, self.nonces.lifetime_secs())
        {
            warn!(%ip, seat = seat.id, error = %e, "REGISTER refused: nonce reused");
            state.limiter.failed(ip, &seat.id, now);
            return challenge(false);
        }
        state.limiter.succeeded(ip, &seat.id);

        let default_expires = message::header_value(req, "expires")
            .and_then(|e| e.trim().parse().ok())
            .unwrap_or(DEFAULT_EXPIRES);
        let mut updates = Vec::new();
        for value in message::header_values(req, "contact") {
            for c in message::split_commas(&value) {
                let c = c.trim();
                if c == "*" {
                    updates.push(ContactUpdate::All);
                } else if !c.is_empty() {
                    let contact = match crate::registrar::contact::parse(c) {
                        Ok(contact) => contact,
                        Err(e) => {
                            warn!(%ip, seat = seat.id, error = %e, "REGISTER refused: bad contact");
                            return with(
                                reply(rsip::StatusCode::BadRequest),
                                "Warning",
                                format!("399 hotline12345 \"{e}\""),
                            );
                        }
                    };
                    updates.push(ContactUpdate::Contact {
                        uri: contact.uri,
                        expires: contact.expires.unwrap_or(default_expires),
                        instance: contact.instance,
                        reg_id: contact.reg_id,
                    });
                }
            }
        }
        let was_signed_in = !state.bindings.lookup(&seat.id, now).is_empty();
        let call_id = message::call_id(req).unwrap_or_default();
        let cseq = message::cseq(req).map_or(0, |(n, _)| n);
        let result = if updates.is_empty() {
            Ok(state.bindings.lookup(&seat.id, now))
        } else {
            state
                .bindings
                .register(&seat.id, &updates, &call_id, cseq, peer.addr, now)
        };
        match result {
            Ok(bindings) => {
                info!(seat = seat.id, contacts = bindings.len(), "registered");
                if !updates.is_empty() {
                    *changed = Some((seat.id.clone(), bindings.clone()));
                }
                // A softphone's first registration signs the seat in, ready for calls; its last
                // contact leaving signs it out. Refreshes change nothing (a seat on a break
                // stays on its break).
                // A supervisor's phone is not in the ACD.
                let agent = seat.id.clone();
                match (was_signed_in, bindings.is_empty()) {
                    _ if !seat.takes_calls => {}
                    (true, true) => queue.event(crate::acd::AcdEvent::Logout { agent }),
                    (false, false) => {
                        queue.event(crate::acd::AcdEvent::Login {
                            agent: agent.clone(),
                        });
                        queue.event(crate::acd::AcdEvent::Ready { agent });
                    }
                    _ => {}
                }
                let mut ok = reply(rsip::StatusCode::OK);
                for b in &bindings {
                    ok = with(
                        ok,
                        "Contact",
                        format!("<{}>;expires={}", b.contact, b.expires_at - now),
                    );
                }
                with(
                    ok,
                    "Date",
                    Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                )
            }
            Err(BindingError::IntervalTooBrief { min, .. }) => with(
                reply(rsip::StatusCode::IntervalTooBrief),
                "Min-Expires",
                min.to_string(),
            ),
            Err(e) => {
                warn!(seat = seat.id, error = %e, "REGISTER refused");
                reply(rsip::StatusCode::BadRequest)
            }
        }
    }
}

/// Every 30 s, seats whose registrations expired are signed out of the ACD (a softphone that
/// vanished without un-registering is not rung for ever).
pub async fn expire_registrations(
    registrar: std::sync::Arc<Registrar>,
    queue: super::queue::QueueHandle,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    loop {
        tick.tick().await;
        for agent in registrar.expire() {
            info!(seat = agent, "registration expired: seat signed out");
            queue.event(crate::acd::AcdEvent::Logout { agent });
        }
    }
}
