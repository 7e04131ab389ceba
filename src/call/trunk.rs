//! The carriers' trunks at the edge: the channels each has in use against its limit, the
//! digest answer to a carrier's challenge, and the registrations with carriers that want one.
//!
//! A call over a trunk, in or out, holds a [`ChannelGuard`] for its life: the trunk's
//! `channels` are never exceeded, and a call that ends however it ends gives its channel back.
//! A registration is one task per trunk that registers: REGISTER, the challenge answered
//! with the trunk's credentials, refreshed at 80 % of the lifetime the carrier granted, and
//! tried again a minute after a failure (logged, never fatal: calls in are unaffected). A
//! dialplan reload starts the tasks of trunks that now register, and wakes the others: a
//! trunk changed registers anew at once, one taken away (or no longer registering) stops.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::directory::signal_channel;
use super::services::CallServices;
use super::signal::CallSignal;
use crate::dialplan::trunks::{Trunk, TrunkCodec, TrunkCredentials, TrunkTransport};
use crate::media::g711::Codec;
use crate::sip::message;
use crate::sip::transaction::{Peer, Transport};

pub use super::channels::{ChannelGuard, Registrations, TrunkChannels};

/// Our address as the trunk's gateway sees it: the advertised one, else the local address
/// towards the gateway, else `fallback`.
pub fn local_ip(services: &CallServices, trunk: &Trunk, fallback: IpAddr) -> IpAddr {
    services
        .advertise_ip
        .unwrap_or_else(|| crate::net::route::local_ip_towards(trunk.gateway).unwrap_or(fallback))
}

/// The SIP transport of a trunk.
pub fn transport(trunk: &Trunk) -> Transport {
    match trunk.transport {
        TrunkTransport::Udp => Transport::Udp,
        TrunkTransport::Tcp => Transport::Tcp,
        TrunkTransport::Tls => Transport::Tls,
    }
}

/// The codecs a trunk carries, as the media engine names them.
pub fn codecs(trunk: &Trunk) -> Vec<Codec> {
    trunk
        .codecs
        .iter()
        .map(|c| match c {
            TrunkCodec::Pcmu => Codec::Pcmu,
            TrunkCodec::Pcma => Codec::Pcma,
        })
        .collect()
}

/// The carrier's challenge in a 401 or 407 response, answered for `method` on `uri`: the
/// header to add (Authorization or Proxy-Authorization) and its value. None when the response
/// holds no digest challenge we can answer.
///
/// The digest itself is the `digest_auth` crate's (RFC 2617/7616, MD5 and SHA-256, qop auth):
/// the server side of digest stays ours (`registrar::digest`, nonces bound to addresses).
pub fn answer_challenge(
    response: &rsip::Response,
    method: &str,
    uri: &str,
    credentials: &TrunkCredentials,
) -> Option<(&'static str, String)> {
    let (challenge_header, answer_header) = match response.status_code.code() {
        401 => ("www-authenticate", "Authorization"),
        407 => ("proxy-authenticate", "Proxy-Authorization"),
        _ => return None,
    };
    let challenge = message::header_values(response, challenge_header)
        .into_iter()
        .find(|c| c.trim_start().to_ascii_lowercase().starts_with("digest"))?;
    let mut prompt = digest_auth::parse(&challenge).ok()?;
    let context = digest_auth::AuthContext::new_with_method(
        credentials.username.as_str(),
        credentials.password.as_str(),
        uri,
        Option::<&[u8]>::None,
        digest_auth::HttpMethod::from(method.to_string()),
    );
    let answer = prompt.respond(&context).ok()?;
    Some((answer_header, answer.to_header_string()))
}

/// Keeps every registering trunk of the dialplan registered, one task each, while the server
/// runs. Called at start-up and after each reload.
pub fn start_registrations(services: &Arc<CallServices>) {
    let regs = &services.trunk_registrations;
    regs.reloaded.notify_waiters();
    let mut running = regs.running();
    for trunk in &services.dialplan().trunks.trunks {
        if trunk.register.is_some() && running.insert(trunk.name.clone()) {
            tokio::spawn(keep_registered(services.clone(), trunk.name.clone()));
        }
    }
}

/// How long to wait before trying again after a failed registration.
const RETRY: Duration = Duration::from_secs(60);

async fn keep_registered(services: Arc<CallServices>, name: String) {
    let call_id = message::new_call_id("trunk");
    let (tx, mut rx) = signal_channel();
    services
        .legs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(call_id.clone(), tx);
    let mut cseq = 0u32;
    // The trunk as last registered, and when to register again.
    let mut registered: Option<Trunk> = None;
    let mut next = tokio::time::Instant::now();
    loop {
        let reloaded = services.trunk_registrations.reloaded.notified();
        tokio::pin!(reloaded);
        reloaded.as_mut().enable();
        // The trunk as the dialplan says now: a reload may change it, or take it away.
        let plan = services.dialplan();
        let Some(trunk) = plan.trunks.get(&name).filter(|t| t.register.is_some()) else {
            // Decided under the lock that start_registrations holds, so that a reload bringing
            // the trunk back meanwhile either finds this task gone or is served by it.
            let mut running = services.trunk_registrations.running();
            if services
                .dialplan()
                .trunks
                .get(&name)
                .is_some_and(|t| t.register.is_some())
            {
                continue;
            }
            running.remove(&name);
            info!(
                trunk = name,
                "trunk no longer registers: registration stopped"
            );
            break;
        };
        let now = tokio::time::Instant::now();
        if registered.as_ref() != Some(trunk) || now >= next {
            if registered.as_ref().is_some_and(|r| r != trunk) {
                info!(trunk = name, "trunk changed by a reload: registering anew");
            }
            let wait = match register_once(&services, trunk, &call_id, &mut cseq, &mut rx).await {
                Ok(granted) => {
                    info!(
                        trunk = name,
                        expires_s = granted,
                        "registered with the carrier"
                    );
                    Duration::from_secs(u64::from(granted) * 4 / 5).max(Duration::from_secs(10))
                }
                Err(why) => {
                    warn!(trunk = name, gateway = %trunk.gateway, %why, "registration with the carrier failed: retrying in 60 s");
                    RETRY
                }
            };
            registered = Some(trunk.clone());
            next = tokio::time::Instant::now() + wait;
        }
        drop(plan);
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = reloaded => {}
        }
    }
    services
        .legs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&call_id);
}

/// One registration (with its challenge answered): the lifetime granted.
async fn register_once(
    services: &CallServices,
    trunk: &Trunk,
    call_id: &str,
    cseq: &mut u32,
    responses: &mut super::directory::SignalRx,
) -> Result<u32, String> {
    let register = trunk.register.as_ref().ok_or("no registration")?;
    let credentials = trunk.credentials.as_ref().ok_or("no credentials")?;
    let transport = transport(trunk);
    let peer = Peer {
        addr: trunk.gateway,
        transport,
    };
    let local_ip = local_ip(services, trunk, services.endpoint.local_addr().ip());
    let via_host =
        SocketAddr::new(local_ip, services.endpoint.local_addr_for(transport).port()).to_string();
    let domain = register
        .domain
        .clone()
        .unwrap_or_else(|| trunk.gateway.to_string());
    let uri = format!("sip:{domain}");
    let tag = message::new_tag();
    let mut authorization: Option<(&'static str, String)> = None;
    for _ in 0..2 {
        *cseq += 1;
        let auth = authorization
            .as_ref()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/{t} {via_host};branch={branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@{domain}>;tag={tag}\r\nTo: <sip:{user}@{domain}>\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{via_host}{tp}>\r\n\
             Expires: {expires}\r\n{auth}User-Agent: hotline12345\r\nContent-Length: 0\r\n\r\n",
            t = transport.via_name(),
            branch = message::new_branch(),
            user = register.username,
            tp = transport.uri_param(),
            expires = register.expires_secs,
        );
        let request = rsip::Request::try_from(text.as_str()).map_err(|e| e.to_string())?;
        services
            .endpoint
            .send_request(request, peer)
            .await
            .map_err(|e| format!("REGISTER not sent: {e}"))?;
        let response = loop {
            match tokio::time::timeout(Duration::from_secs(40), responses.recv()).await {
                Ok(Some(CallSignal::AgentResponse(r))) if r.status_code.code() >= 200 => {
                    if message::cseq(&*r).is_some_and(|(n, _)| n == *cseq) {
                        break r;
                    }
                }
                Ok(Some(CallSignal::AgentTimeout { .. })) | Err(_) => {
                    return Err("no answer from the gateway".into())
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err("the server is stopping".into()),
            }
        };
        match response.status_code.code() {
            200..=299 => return Ok(granted_expiry(&response, register.expires_secs)),
            401 | 407 if authorization.is_none() => {
                authorization = answer_challenge(&response, "REGISTER", &uri, credentials);
                if authorization.is_none() {
                    return Err(format!(
                        "{}: a challenge that cannot be answered",
                        response.status_code
                    ));
                }
            }
            _ => return Err(format!("the carrier answered {}", response.status_code)),
        }
    }
    Err("the carrier refused our credentials".into())
}

/// The lifetime the carrier granted: the Contact's `expires`, the Expires header, or what we
/// asked for.
fn granted_expiry(ok: &rsip::Response, asked: u32) -> u32 {
    message::header_value(ok, "contact")
        .and_then(|c| message::param(&c, "expires"))
        .or_else(|| message::header_value(ok, "expires"))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|&v| v > 0)
        .unwrap_or(asked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::trunks::AddressBlock;

    fn trunk(channels: u32) -> Trunk {
        Trunk {
            name: "carrier".into(),
            gateway: "192.0.2.1:5060".parse().unwrap(),
            transport: TrunkTransport::Udp,
            addresses: vec![AddressBlock::parse("192.0.2.1").unwrap()],
            caller_id: "12345".into(),
            caller_ids: Default::default(),
            codecs: vec![TrunkCodec::Pcma],
            channels,
            platforms: vec![],
            register: None,
            credentials: None,
        }
    }

    #[test]
    fn channels_are_limited_and_given_back() {
        let channels = Arc::new(TrunkChannels::default());
        let t = trunk(2);
        let a = channels.take(&t).unwrap();
        let b = channels.take(&t).unwrap();
        assert!(channels.take(&t).is_none(), "both channels are in use");
        assert_eq!(channels.in_use("carrier"), 2);
        drop(a);
        assert_eq!(channels.in_use("carrier"), 1);
        let _c = channels.take(&t).expect("a channel came back");
        drop(b);
        assert_eq!(channels.in_use("carrier"), 1);
        assert_eq!(codecs(&t), [Codec::Pcma]);
    }

    #[test]
    fn a_challenge_is_answered_with_the_trunks_credentials() {
        let text = "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\n\
                    From: <sip:12345@192.0.2.9>;tag=a\r\nTo: <sip:110@192.0.2.1>;tag=b\r\nCall-ID: c1\r\n\
                    CSeq: 1 INVITE\r\nProxy-Authenticate: Digest realm=\"carrier\", nonce=\"abc123\", algorithm=MD5, qop=\"auth\"\r\n\
                    Content-Length: 0\r\n\r\n";
        let response = rsip::Response::try_from(text).unwrap();
        let credentials = TrunkCredentials {
            username: "yn12345".into(),
            password: "pw".into(),
        };
        let (name, value) =
            answer_challenge(&response, "INVITE", "sip:110@192.0.2.1", &credentials).unwrap();
        assert_eq!(name, "Proxy-Authorization");
        // Checked against the server side of our own digest code.
        let creds = crate::registrar::digest::Credentials::parse(&value).unwrap();
        let expected = creds.expected_response("INVITE", "pw").unwrap();
        assert!(
            value.contains(&format!("response=\"{expected}\"")),
            "{value}"
        );
        assert!(value.contains("username=\"yn12345\""));
        assert!(value.contains("uri=\"sip:110@192.0.2.1\""));
        // A 486 holds no challenge.
        let busy = rsip::Response::try_from(
            text.replace("407 Proxy Authentication Required", "486 Busy Here")
                .as_str(),
        )
        .unwrap();
        assert!(answer_challenge(&busy, "INVITE", "sip:110@192.0.2.1", &credentials).is_none());
    }

    #[test]
    fn the_granted_lifetime() {
        let ok = |extra: &str| {
            rsip::Response::try_from(format!(
                "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=a\r\n\
                 To: <sip:a@b>;tag=b\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
            ).as_str())
            .unwrap()
        };
        assert_eq!(
            granted_expiry(&ok("Contact: <sip:a@192.0.2.9>;expires=300\r\n"), 3600),
            300
        );
        assert_eq!(granted_expiry(&ok("Expires: 1200\r\n"), 3600), 1200);
        assert_eq!(granted_expiry(&ok(""), 3600), 3600);
    }
}
