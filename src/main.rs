//! The `hotline12345` command: `serve` runs the hotline; `check-dialplan` validates a dialplan.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// mimalloc, not glibc's malloc: glibc kept the memory that ended calls freed in its
/// per-thread arenas, so the server's resident memory only ever grew (BENCHMARKS.md, soak).
/// Without the `mimalloc` feature the system's allocator stays, for heap profilers.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use hotline12345::call::CallLimits;
use hotline12345::server::{serve, ServeConfig, TlsListen};
use hotline12345::sip::stream::StreamLimits;

/// A contact-center backend for a provincial 12345 government service hotline.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the hotline: SIP (UDP, TCP, TLS), RTP media and the HTTP API.
    Serve(Box<ServeArgs>),
    /// Validates a dialplan folder; prints each problem with its file and line.
    CheckDialplan {
        /// The dialplan folder.
        dir: PathBuf,
    },
    /// Prints a seat's digest HA1 lines for agents.toml, so that the file need not keep the
    /// password: reads the password from the first line of standard input (never from the
    /// command line, where other users' `ps` would see it).
    DigestHa1 {
        /// The seat's id (its SIP user name).
        seat: String,
    },
}

/// The options of `serve`.
#[derive(clap::Args)]
struct ServeArgs {
    /// The dialplan folder (platforms, routing tables, hours).
    #[arg(long, default_value = "dialplan")]
    dialplan: PathBuf,
    /// The prompts folder (8 kHz mono 16-bit WAV files).
    #[arg(long, default_value = "prompts")]
    prompts: PathBuf,
    /// Where the SQLite database and audio files are kept.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// A postgres:// URL to use PostgreSQL instead of the SQLite file in --data.
    #[arg(long, env = "HOTLINE_DATABASE_URL")]
    database_url: Option<String>,
    /// SIP listen address, for UDP and TCP both (port 0 picks a free port).
    #[arg(long, default_value = "0.0.0.0:5060")]
    sip_listen: SocketAddr,
    /// HTTP API listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http_listen: SocketAddr,
    /// RTP port range, LO-HI.
    #[arg(long, default_value = "20000-29999", value_parser = parse_port_range)]
    rtp_ports: (u16, u16),
    /// IP to put in SDP and Contact (default: the address the caller reached us on).
    #[arg(long)]
    advertise_ip: Option<IpAddr>,
    /// Add a few generic sample entries, marked 【样例】, to an empty knowledge base (for
    /// development and demonstrations; never real policies).
    #[arg(long)]
    sample_knowledge: bool,
    /// Public IP for the consoles' browser phones' ICE candidates, when the server is behind
    /// 1:1 NAT (default: the address each console reached us on).
    #[arg(long)]
    webrtc_public_ip: Option<IpAddr>,
    /// Calls handled at once before new ones get 503 with Retry-After.
    #[arg(long, default_value_t = 2000)]
    max_calls: usize,
    /// Seconds without RTP from the caller before the call is ended.
    #[arg(long, default_value_t = 60)]
    media_timeout: u64,
    /// Longest call in seconds before the server hangs up.
    #[arg(long, default_value_t = 7200)]
    max_call_duration: u64,
    /// SIP over TLS listen address (needs --tls-cert and --tls-key).
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    sips_listen: Option<SocketAddr>,
    /// PEM certificate chain for SIP over TLS (and the SMTP listener's STARTTLS).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// PEM private key for SIP over TLS.
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Seconds a TCP or TLS connection may stay silent before it is closed.
    #[arg(long, default_value_t = 600)]
    tcp_idle_timeout: u64,
    /// Open TCP and TLS connections from one IP address at most.
    #[arg(long, default_value_t = 64)]
    max_connections_per_source: usize,
    /// Open TCP and TLS connections in all at most (keep below the file descriptor limit).
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Seconds SIGTERM lets calls in progress finish (new calls get 503 meanwhile).
    #[arg(long, default_value_t = 30)]
    shutdown_grace: u64,
    /// Seconds between two looks at the callbacks owed and the cases not signed (the
    /// automatic callback list and the reminders to units).
    #[arg(long, default_value_t = 30)]
    outbound_every: u64,
    /// SMTP listen address for the platforms' mailboxes (channels.toml [mail]); the
    /// province's relay or Postfix delivers to it. Off unless given.
    #[arg(long)]
    smtp_listen: Option<SocketAddr>,
}

fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let (lo, hi) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not a range like 20000-29999"))?;
    let lo: u16 = lo
        .trim()
        .parse()
        .map_err(|_| format!("{lo:?} is not a port"))?;
    let hi: u16 = hi
        .trim()
        .parse()
        .map_err(|_| format!("{hi:?} is not a port"))?;
    if lo == 0 || lo > hi || hi - lo < 1 {
        return Err(format!("{s:?}: need 0 < LO < HI"));
    }
    Ok((lo, hi))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::CheckDialplan { dir } => match hotline12345::dialplan::load(&dir) {
            Ok(dialplan) => {
                println!(
                    "{}: OK ({} platforms)",
                    dir.display(),
                    dialplan.router.platforms().len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Command::DigestHa1 { seat } => {
            let mut password = String::new();
            if std::io::stdin().read_line(&mut password).is_err() {
                eprintln!("no password on standard input");
                return ExitCode::FAILURE;
            }
            let password = password.trim_end_matches(['\r', '\n']);
            if password.len() < 6 {
                eprintln!("the password must have at least 6 characters");
                return ExitCode::FAILURE;
            }
            print!(
                "{}",
                hotline12345::call::register::ha1_lines(&seat, password)
            );
            ExitCode::SUCCESS
        }
        Command::Serve(args) => {
            let ServeArgs {
                dialplan,
                prompts,
                data,
                database_url,
                sip_listen,
                http_listen,
                rtp_ports,
                advertise_ip,
                webrtc_public_ip,
                sample_knowledge,
                max_calls,
                media_timeout,
                max_call_duration,
                sips_listen,
                tls_cert,
                tls_key,
                tcp_idle_timeout,
                max_connections_per_source,
                max_connections,
                shutdown_grace,
                outbound_every,
                smtp_listen,
            } = *args;
            let smtp_tls = tls_cert.clone().zip(tls_key.clone());
            let config = ServeConfig {
                dialplan,
                prompts,
                data,
                database_url,
                sip_listen,
                http_listen,
                rtp_ports,
                advertise_ip,
                webrtc_public_ip,
                sample_knowledge,
                limits: CallLimits {
                    max_calls,
                    media_timeout: Duration::from_secs(media_timeout),
                    max_call_duration: Duration::from_secs(max_call_duration),
                },
                tls: match (sips_listen, tls_cert, tls_key) {
                    (Some(listen), Some(cert), Some(key)) => Some(TlsListen { listen, cert, key }),
                    _ => None,
                },
                streams: StreamLimits {
                    idle: Duration::from_secs(tcp_idle_timeout.max(1)),
                    per_source: max_connections_per_source.max(1),
                    total: max_connections.max(1),
                    ..StreamLimits::default()
                },
                shutdown_grace: Duration::from_secs(shutdown_grace),
                outbound_every: Duration::from_secs(outbound_every.max(1)),
                smtp_listen,
                smtp_tls,
            };
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            match runtime.block_on(serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hotline12345: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
