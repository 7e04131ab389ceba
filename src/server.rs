//! Assembles the server from its parts and runs it until SIGINT/SIGTERM.
//!
//! Start-up order matters: everything that can be wrong in the configuration (dialplan,
//! prompts, database) is checked before any socket is opened, so a bad file stops the server
//! with a clear message instead of answering calls half-configured.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use tracing::info;

use crate::call::{run_call_manager, voicemail, CallLimits, CallServices};
use crate::media::prompt::PromptLibrary;
use crate::media::rtp::RtpPortPool;
use crate::sip::endpoint::EndpointConfig;
use crate::sip::stream::StreamLimits;
use crate::sip::transaction::Timers;
use crate::store::Store;
use crate::{api, dialplan, sip};

/// Everything `hotline12345 serve` is told on its command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The dialplan folder.
    pub dialplan: PathBuf,
    /// The prompts folder.
    pub prompts: PathBuf,
    /// Where the SQLite file and audio files live.
    pub data: PathBuf,
    /// A `postgres://` or `sqlite:` URL; None means `sqlite` in `data`.
    pub database_url: Option<String>,
    /// SIP over UDP and TCP.
    pub sip_listen: SocketAddr,
    /// The HTTP API.
    pub http_listen: SocketAddr,
    /// The RTP port range, inclusive.
    pub rtp_ports: (u16, u16),
    /// The IP to advertise in SDP and Contact, when the listen address is a wildcard behind NAT.
    pub advertise_ip: Option<IpAddr>,
    /// Add the generic sample entries (【样例】) to an empty knowledge base, for development.
    pub sample_knowledge: bool,
    /// The public IP the consoles' browser phones are told to reach, behind 1:1 NAT.
    pub webrtc_public_ip: Option<IpAddr>,
    /// Per-call and server-wide limits.
    pub limits: CallLimits,
    /// SIP over TLS, when asked for.
    pub tls: Option<TlsListen>,
    /// Limits on TCP and TLS connections.
    pub streams: StreamLimits,
    /// How long SIGTERM lets calls in progress finish.
    pub shutdown_grace: std::time::Duration,
    /// How often the callbacks owed and the unsigned cases are looked at.
    pub outbound_every: std::time::Duration,
    /// Where the platforms' mailboxes take mail over SMTP (None: no mail in).
    pub smtp_listen: Option<SocketAddr>,
    /// The certificate and key (PEM) the SMTP listener offers STARTTLS with.
    pub smtp_tls: Option<(PathBuf, PathBuf)>,
}

/// Where SIP over TLS listens and the certificate it shows.
#[derive(Debug, Clone)]
pub struct TlsListen {
    pub listen: SocketAddr,
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// The database URL in force: the one given, else a SQLite file in the data folder.
/// A database URL without its password, for the log.
fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub fn database_url(config: &ServeConfig) -> String {
    config
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", config.data.join("hotline.db").display()))
}

/// Runs the server until a shutdown signal.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let live = Arc::new(dialplan::LiveDialplan::load(&config.dialplan)?);
    let prompts = Arc::new(PromptLibrary::load_dir(&config.prompts)?);
    prompts.require(&needed_prompts(&live.current()))?;
    if let Some(warning) = dialplan::calendar_warning(&live.current(), Utc::now()) {
        tracing::warn!("{warning}");
    }

    std::fs::create_dir_all(&config.data)
        .with_context(|| format!("cannot create data folder {}", config.data.display()))?;
    let store = Store::open(&database_url(&config)).await?;
    {
        let plan = live.current();
        info!(
            database = %redacted_url(&database_url(&config)),
            "store opened"
        );
        info!(
            folder = %config.dialplan.display(),
            platforms = plan.router.platforms().len(),
            queues = plan.queues.queues.len(),
            seats = plan.seats.len(),
            units = plan.units.len(),
            users = plan.users.len(),
            districts = plan.districts.len(),
            "dialplan loaded"
        );
    }
    let left_open = store
        .end_open_calls(Utc::now(), crate::call::flow::recovery::RESTART_CAUSE)
        .await?;
    if left_open > 0 {
        info!(
            calls = left_open,
            "closed calls left open by the previous run"
        );
    }
    let backfilled = store.backfill_published().await?;
    if backfilled > 0 {
        info!(
            cases = backfilled,
            "published cases written to the public table"
        );
    }
    let sealed = crate::call::recording::recover_recordings(&store, &config.data).await;
    if sealed > 0 {
        info!(
            recordings = sealed,
            "sealed recordings interrupted by the previous run"
        );
    }
    let recovered = voicemail::recover_interrupted(&store, &live.current(), &config.data).await;
    if recovered > 0 {
        info!(
            messages = recovered,
            "recovered voice messages interrupted by the previous run"
        );
    }

    let (lo, hi) = config.rtp_ports;
    let rtp_ports = Arc::new(RtpPortPool::new(lo, hi)?);
    // What the kernel grants each RTP socket, said once.
    if let Ok(probe) = std::net::UdpSocket::bind("127.0.0.1:0") {
        if let Ok(sizes) = crate::net::size_udp_buffers(&probe, crate::media::rtp::RTP_UDP_BUFFER) {
            info!(
                receive = sizes.receive,
                send = sizes.send,
                asked = sizes.asked,
                "RTP socket buffers"
            );
            if sizes.capped() {
                tracing::warn!(
                    "RTP buffers smaller than asked: raise net.core.rmem_max and wmem_max"
                );
            }
        }
    }
    let tls = match &config.tls {
        Some(tls) => Some((
            tls.listen,
            sip::tls::server_config(&tls.cert, &tls.key).context("SIP over TLS")?,
        )),
        None => None,
    };
    let (endpoint, events) = sip::endpoint::start(EndpointConfig {
        listen: config.sip_listen,
        tls,
        streams: config.streams,
        udp_buffer: sip::endpoint::SIP_UDP_BUFFER,
        timers: Timers::default(),
    })
    .await
    .with_context(|| format!("cannot listen for SIP on {}", config.sip_listen))?;
    let http = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", config.http_listen))?;
    let smtp = match config.smtp_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for SMTP on {addr}"))?,
        ),
        None => None,
    };

    let registrar = Arc::new(crate::call::register::Registrar::default());
    let queue = crate::call::queue::start(&live.current(), store.clone());
    // Registrations acknowledged before a restart hold until their expiry.
    let kept = store.live_registrations(Utc::now().timestamp()).await?;
    let bindings = kept.len();
    for agent in registrar.restore(kept) {
        queue.event(crate::acd::AcdEvent::Login {
            agent: agent.clone(),
        });
        queue.event(crate::acd::AcdEvent::Ready { agent });
    }
    if bindings > 0 {
        info!(bindings, "registrations restored");
    }
    registrar.start_persisting(store.clone(), endpoint.clone());
    let calls = crate::call::directory::CallDirectory::default();
    let services = Arc::new(CallServices {
        endpoint: endpoint.clone(),
        store: store.clone(),
        dialplan: live.clone(),
        prompts: prompts.clone(),
        rtp_ports,
        advertise_ip: config.advertise_ip,
        limits: config.limits.clone(),
        data_dir: config.data.clone(),
        registrar: registrar.clone(),
        queue: queue.clone(),
        calls: calls.clone(),
        draining: Default::default(),
        live: Default::default(),
        late_legs: Default::default(),
        legs: Default::default(),
        phones: Arc::new(crate::phone::Phones::new(config.webrtc_public_ip)),
        trunk_channels: Default::default(),
        outbound: Default::default(),
        trunk_registrations: Default::default(),
    });
    tokio::spawn(run_call_manager(services.clone(), events));
    crate::call::trunk::start_registrations(&services);
    tokio::spawn(crate::call::outbound::run_callback_list(
        services.clone(),
        config.outbound_every,
    ));
    tokio::spawn(crate::call::outbound::run_reminders(
        services.clone(),
        config.outbound_every,
    ));
    tokio::spawn(crate::scheduler::run(store.clone(), live.clone()));
    tokio::spawn(crate::call::register::expire_registrations(
        registrar.clone(),
        queue.clone(),
    ));

    // Written requests: mail in and out, SMS through the SMS centre, the forms.
    let intake = Arc::new(crate::requests::Intake::new(
        store.clone(),
        live.clone(),
        config.data.clone(),
    ));
    let smtp_addr = match smtp {
        Some(listener) => {
            let addr = listener.local_addr()?;
            if live.current().channels.mail.is_none() {
                tracing::warn!(
                    "--smtp-listen is set but channels.toml has no [mail]: mail is refused"
                );
            }
            let tls = match &config.smtp_tls {
                Some((cert, key)) => {
                    Some(sip::tls::server_config(cert, key).context("SMTP STARTTLS")?)
                }
                None => None,
            };
            tokio::spawn(crate::mail::listener::serve(listener, intake.clone(), tls));
            Some(addr)
        }
        None => None,
    };
    tokio::spawn(crate::mail::sender::run(intake.clone()));
    let smpp = crate::sms::smpp::SmppClient::start(
        live.clone(),
        Arc::new(crate::sms::inbound::SmsIntake(intake.clone())),
    );
    tokio::spawn(crate::sms::sender::run(intake.clone(), smpp));

    let knowledge = Arc::new(knowledge_index(&store, config.sample_knowledge).await?);
    // Signals are caught from here on: the "ready" line below may be followed by one at once.
    let stop = shutdown_signal();
    // Tests and scripts read this line to learn the ports when they asked for port 0.
    let sips = endpoint
        .listening()
        .sips
        .map_or(String::new(), |a| format!(" sips={a}"));
    let sips = match smtp_addr {
        Some(a) => format!("{sips} smtp={a}"),
        None => sips,
    };
    info!(
        sip = %endpoint.local_addr(),
        http = %http.local_addr()?,
        sips = endpoint.listening().sips.map_or("off".to_string(), |a| a.to_string()),
        rtp_ports = format!("{lo}-{hi}"),
        "listening"
    );
    println!(
        "hotline12345 ready: sip={} http={}{sips}",
        endpoint.local_addr(),
        http.local_addr()?
    );
    let reload: api::Reloader = {
        let (live, prompts, queue) = (live.clone(), prompts.clone(), queue.clone());
        let services = services.clone();
        Arc::new(move || {
            let reloaded = reload_dialplan(&live, &prompts, &queue);
            if reloaded.is_ok() {
                // Trunks that now register start; changed ones register anew.
                crate::call::trunk::start_registrations(&services);
            }
            reloaded
        })
    };
    #[cfg(unix)]
    tokio::spawn(reload_on_sighup(reload.clone()));
    let app = api::router(api::ApiState {
        store: store.clone(),
        data_dir: config.data.clone(),
        dialplan: live.clone(),
        registrar,
        queue,
        calls,
        reload,
        knowledge,
        sessions: Default::default(),
        phones: services.phones.clone(),
        metrics: api::metrics::install(),
        wallboards: Default::default(),
        segmenter: Default::default(),
        metrics_log: Default::default(),
        call_services: services.clone(),
        intake,
    })
    .merge(crate::web::router())
    .layer(axum::middleware::from_fn(api::metrics::track));
    let grace = config.shutdown_grace;
    // The peer's address reaches the handlers (sign-in failures count per address).
    axum::serve(
        http,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(drain(services, grace, stop))
    .await?;
    info!("shutting down: flushing the store");
    store.close().await;
    Ok(())
}

/// The knowledge base's index, built from the entries the store keeps.
async fn knowledge_index(
    store: &Store,
    samples: bool,
) -> anyhow::Result<crate::knowledge::KnowledgeIndex> {
    let mut entries = store.knowledge_entries().await?;
    if samples && entries.is_empty() {
        for draft in crate::knowledge::samples::drafts() {
            store.add_knowledge(draft, "samples", Utc::now()).await?;
        }
        entries = store.knowledge_entries().await?;
        info!(
            entries = entries.len(),
            "sample knowledge-base entries added (【样例】)"
        );
    }
    let index = crate::knowledge::KnowledgeIndex::new()?;
    index.upsert(entries.iter())?;
    info!(entries = entries.len(), "knowledge base indexed");
    Ok(index)
}

/// The prompts a dialplan needs.
fn needed_prompts(plan: &dialplan::Dialplan) -> Vec<String> {
    let mut needed: Vec<String> = plan
        .router
        .platforms()
        .iter()
        .flat_map(|p| [p.welcome_prompt.clone(), p.after_hours_prompt.clone()])
        .collect();
    needed.extend(plan.queues.menus.values().map(|m| m.prompt.clone()));
    needed.extend(
        [
            crate::call::flow::io::HOLD_PROMPT,
            voicemail::BEEP_PROMPT,
            voicemail::SAVED_PROMPT,
        ]
        .map(String::from),
    );
    use crate::call::flow::io as p;
    use crate::call::outbound::{callback, reminder};
    let numbers = (0..=10).map(|d| format!("digit-{d}.wav"));
    let dates = [p::MONTH_PROMPT, p::DAY_PROMPT].map(String::from);
    if plan.rating.enabled {
        needed.extend(
            [
                p::RATE_PROMPT,
                p::RATED_PROMPT,
                callback::RATE_HANDLING_PROMPT,
            ]
            .map(String::from),
        );
    }
    if plan.lookup.key.is_some() {
        needed.extend(
            [
                p::LOOKUP_ENTER_PROMPT,
                p::LOOKUP_NONE_PROMPT,
                p::LOOKUP_STATE_PROMPT,
                p::LOOKUP_DUE_PROMPT,
                p::LOOKUP_STAY_PROMPT,
            ]
            .map(String::from),
        );
        needed.extend(
            crate::cases::workflow::CaseState::ALL
                .iter()
                .map(|s| format!("state-{}.wav", s.as_str())),
        );
        needed.extend(dates.clone());
        needed.extend(numbers.clone());
    }
    if plan.reminders.enabled {
        needed.extend(
            [
                reminder::INTRO_PROMPT,
                reminder::DUE_PROMPT,
                reminder::PRESS_PROMPT,
                reminder::SIGNED_PROMPT,
                reminder::NOT_SIGNED_PROMPT,
                reminder::HOUR_PROMPT,
                reminder::MINUTE_PROMPT,
            ]
            .map(String::from),
        );
        needed.extend(dates);
        needed.extend(numbers);
    }
    needed.sort();
    needed.dedup();
    needed
}

/// Reloads the dialplan after checking it whole, prompts included; the running one stays on
/// any problem. Returns how many platforms the new dialplan has.
fn reload_dialplan(
    live: &dialplan::LiveDialplan,
    prompts: &PromptLibrary,
    queue: &crate::call::queue::QueueHandle,
) -> Result<usize, String> {
    let result = live.reload(|plan| {
        prompts
            .require(&needed_prompts(plan))
            .map_err(|e| e.to_string())
    });
    match &result {
        Ok(plan) => {
            queue.reconfigure(plan);
            info!(
                platforms = plan.router.platforms().len(),
                queues = plan.queues.queues.len(),
                "dialplan reloaded"
            )
        }
        Err(e) => tracing::warn!(error = %e, "dialplan not reloaded; the running one stays"),
    }
    result.map(|plan| plan.router.platforms().len())
}

#[cfg(unix)]
async fn reload_on_sighup(reload: api::Reloader) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        let _ = reload();
    }
}

/// On SIGTERM or SIGINT: refuse new calls (503 with Retry-After), let the calls in progress
/// finish for up to `grace`, then return (the caller stops the API and flushes the store).
async fn drain(
    services: Arc<CallServices>,
    grace: std::time::Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    stop.await;
    services
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let in_progress = || services.calls.len();
    info!(
        calls = in_progress(),
        grace_s = grace.as_secs(),
        "shutting down: new calls refused, waiting for the calls in progress"
    );
    let until = tokio::time::Instant::now() + grace;
    while in_progress() > 0 && tokio::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if in_progress() > 0 {
        tracing::warn!(
            calls = in_progress(),
            "grace period over: stopping with calls in progress (closed as server-restart at the next start)"
        );
    }
}

/// Registers the SIGTERM and SIGINT handlers now (a signal before then would end the process
/// at once, with no drain) and returns what ends on the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_log_never_shows_a_database_password() {
        assert_eq!(
            super::redacted_url("postgres://hotline:s3cret@db.example:5432/hotline"),
            "postgres://hotline:***@db.example:5432/hotline"
        );
        assert_eq!(
            super::redacted_url("postgres://postgres@127.0.0.1:5432/x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::redacted_url("sqlite:///var/lib/hotline/hotline.db"),
            "sqlite:///var/lib/hotline/hotline.db"
        );
    }
}
