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

use crate::call::{run_call_manager, CallLimits, CallServices};
use crate::media::prompt::PromptLibrary;
use crate::media::rtp::RtpPortPool;
use crate::sip::transaction::Timers;
use crate::store::Store;
use crate::{api, dialplan, sip};

/// The prompt every call falls back to while it waits.
pub const HOLD_PROMPT: &str = "hold-music.wav";

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
    /// Per-call and server-wide limits.
    pub limits: CallLimits,
}

/// The database URL in force: the one given, else a SQLite file in the data folder.
pub fn database_url(config: &ServeConfig) -> String {
    config
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", config.data.join("hotline.db").display()))
}

/// Runs the server until a shutdown signal.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let dialplan = dialplan::load(&config.dialplan)?;
    let prompts = PromptLibrary::load_dir(&config.prompts)?;
    let mut needed: Vec<String> = dialplan
        .router
        .platforms()
        .iter()
        .map(|p| p.welcome_prompt.clone())
        .collect();
    needed.push(HOLD_PROMPT.to_string());
    prompts.require(&needed)?;

    std::fs::create_dir_all(&config.data)
        .with_context(|| format!("cannot create data folder {}", config.data.display()))?;
    let store = Store::open(&database_url(&config)).await?;
    let left_open = store.end_open_calls(Utc::now(), "server-restart").await?;
    if left_open > 0 {
        info!(
            calls = left_open,
            "closed calls left open by the previous run"
        );
    }

    let (lo, hi) = config.rtp_ports;
    let rtp_ports = Arc::new(RtpPortPool::new(lo, hi)?);
    let (endpoint, events) = sip::endpoint::start(config.sip_listen, Timers::default())
        .await
        .with_context(|| format!("cannot listen for SIP on {}", config.sip_listen))?;
    let http = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", config.http_listen))?;

    let services = Arc::new(CallServices {
        endpoint: endpoint.clone(),
        store: store.clone(),
        dialplan: Arc::new(dialplan),
        prompts: Arc::new(prompts),
        rtp_ports,
        advertise_ip: config.advertise_ip,
        limits: config.limits.clone(),
    });
    tokio::spawn(run_call_manager(services, events));

    // Tests and scripts read this line to learn the ports when they asked for port 0.
    println!(
        "hotline12345 ready: sip={} http={}",
        endpoint.local_addr(),
        http.local_addr()?
    );
    let app = api::router(api::ApiState {
        store: store.clone(),
    });
    axum::serve(http, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    info!("shutting down: flushing the store");
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
