//! The SIP endpoint: the tokio edge that moves bytes between UDP/TCP sockets and the sans-I/O
//! [`TransactionLayer`]. It owns the layer, feeds it parsed messages and timer ticks, transmits
//! what the layer asks for, and hands transaction-user events to the call layer over a channel.
//!
//! One task owns the layer (no locks); each TCP or TLS connection gets a task of its own
//! ([`super::stream`]) with a bounded writer queue, within per-source and total limits. Responses go back to the source address and connection a request came from
//! (symmetric signalling, which is what RFC 3581 `rport` asks for and NATed phones need).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::stream::{run_connection, ConnectionCounter, Inbound, StreamLimits, WRITE_QUEUE};
use super::transaction::{
    Output, Peer, Timers, TransactionError, TransactionKey, TransactionLayer, Transport, TuEvent,
};
use crate::net::WarnThrottle;

/// How many transaction-user events may wait for the call layer before new requests are
/// refused with 503 (overload protection).
const TU_QUEUE: usize = 4096;

/// Seconds a refused caller is asked to wait before retrying (the Retry-After of a 503).
pub const OVERLOAD_RETRY_AFTER_SECS: u32 = 5;

/// What the call layer asks the endpoint to do.
enum Command {
    Respond {
        key: TransactionKey,
        response: rsip::Response,
    },
    SendRequest {
        request: rsip::Request,
        peer: Peer,
        reply: oneshot::Sender<Result<TransactionKey, TransactionError>>,
    },
    SendStateless {
        msg: rsip::SipMessage,
        peer: Peer,
    },
}

/// A cheap, cloneable handle through which the call layer sends SIP.
#[derive(Clone)]
pub struct EndpointHandle {
    commands: mpsc::UnboundedSender<Command>,
    listening: Listening,
}

impl EndpointHandle {
    /// Answers the server transaction `key`.
    pub fn respond(&self, key: &TransactionKey, response: rsip::Response) {
        let _ = self.commands.send(Command::Respond {
            key: key.clone(),
            response,
        });
    }

    /// Starts a client transaction; resolves to its key once the layer accepted it.
    pub async fn send_request(
        &self,
        request: rsip::Request,
        peer: Peer,
    ) -> Result<TransactionKey, TransactionError> {
        let (reply, rx) = oneshot::channel();
        let _ = self.commands.send(Command::SendRequest {
            request,
            peer,
            reply,
        });
        rx.await.unwrap_or(Err(TransactionError::Closed))
    }

    /// Sends a message outside any transaction (an ACK for a 2xx, for example).
    pub fn send_stateless(&self, msg: rsip::SipMessage, peer: Peer) {
        let _ = self.commands.send(Command::SendStateless { msg, peer });
    }

    /// The address the endpoint listens on (UDP and TCP share the port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listening.sip
    }

    /// The local address that reaches us over `transport` (the TLS port for TLS).
    pub fn local_addr_for(&self, transport: Transport) -> SocketAddr {
        match (transport, self.listening.sips) {
            (Transport::Tls, Some(sips)) => sips,
            _ => self.listening.sip,
        }
    }

    /// Every address the endpoint listens on.
    pub fn listening(&self) -> Listening {
        self.listening
    }
}

/// How the endpoint listens, and its limits.
#[derive(Clone)]
pub struct EndpointConfig {
    /// UDP and TCP share this address (port 0 picks a free port both can use).
    pub listen: SocketAddr,
    /// SIP over TLS: where to listen and the server's certificate.
    pub tls: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
    /// Limits on TCP and TLS connections.
    pub streams: StreamLimits,
    /// Bytes of UDP receive and send buffer to ask the kernel for.
    pub udp_buffer: usize,
    /// Transaction timers.
    pub timers: Timers,
}

impl EndpointConfig {
    /// UDP and TCP on `listen` with the default limits, no TLS.
    pub fn new(listen: SocketAddr) -> EndpointConfig {
        EndpointConfig {
            listen,
            tls: None,
            streams: StreamLimits::default(),
            udp_buffer: SIP_UDP_BUFFER,
            timers: Timers::default(),
        }
    }
}

/// UDP buffer asked for the SIP socket: a burst of thousands of INVITEs fits.
pub const SIP_UDP_BUFFER: usize = 8 * 1024 * 1024;

/// Where the endpoint listens, once started.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    /// UDP and TCP.
    pub sip: SocketAddr,
    /// TLS, when configured.
    pub sips: Option<SocketAddr>,
}

/// Binds UDP, TCP and (when configured) TLS and starts the endpoint. Returns the handle and
/// the stream of transaction-user events.
pub async fn start(
    config: EndpointConfig,
) -> std::io::Result<(EndpointHandle, mpsc::Receiver<TuEvent>)> {
    let (udp, tcp) = bind_both(config.listen).await?;
    let local_addr = udp.local_addr()?;
    let sizes = crate::net::size_udp_buffers(&udp, config.udp_buffer)?;
    if sizes.capped() {
        warn!(
            asked = sizes.asked,
            receive = sizes.receive,
            send = sizes.send,
            "SIP UDP buffers smaller than asked: raise net.core.rmem_max and wmem_max"
        );
    }
    info!(%local_addr, receive_buffer = sizes.receive, send_buffer = sizes.send,
          "SIP listening on UDP and TCP");

    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (tu_tx, tu_rx) = mpsc::channel(TU_QUEUE);
    let (in_tx, in_rx) = mpsc::channel::<Inbound>(8192);
    let counter = ConnectionCounter::new(config.streams);

    let udp = Arc::new(udp);
    tokio::spawn(udp_reader(udp.clone(), in_tx.clone()));
    let accept = Acceptor {
        inbound: in_tx.clone(),
        counter: counter.clone(),
        refused: Arc::new(Mutex::new(WarnThrottle::new(WARN_PERIOD))),
    };
    tokio::spawn(accept.clone().run(tcp, None));
    let mut sips = None;
    if let Some((addr, tls)) = config.tls {
        let listener = TcpListener::bind(addr).await?;
        sips = Some(listener.local_addr()?);
        info!(addr = %listener.local_addr()?, "SIP listening on TLS");
        tokio::spawn(accept.run(listener, Some(tokio_rustls::TlsAcceptor::from(tls))));
    }

    let driver = Driver {
        layer: TransactionLayer::new(config.timers),
        udp,
        writers: HashMap::new(),
        tu: tu_tx,
        inbound: in_tx,
        counter,
        warnings: WarnThrottle::new(WARN_PERIOD),
    };
    tokio::spawn(driver.run(cmd_rx, in_rx));
    Ok((
        EndpointHandle {
            commands: cmd_tx,
            listening: Listening {
                sip: local_addr,
                sips,
            },
        },
        tu_rx,
    ))
}

/// Warnings about one source are summarised over this period.
const WARN_PERIOD: Duration = Duration::from_secs(10);

async fn bind_both(listen: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    if listen.port() != 0 {
        return Ok((
            UdpSocket::bind(listen).await?,
            TcpListener::bind(listen).await?,
        ));
    }
    // Port 0: let the OS pick for UDP, then take the same number for TCP; retry on a clash.
    let mut last_err = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(listen).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("could not bind UDP and TCP")))
}

async fn udp_reader(socket: Arc<UdpSocket>, inbound: mpsc::Sender<Inbound>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, addr)) => {
                let peer = Peer {
                    addr,
                    transport: Transport::Udp,
                };
                if inbound
                    .send(Inbound::Message(buf[..n].to_vec(), peer))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            // ICMP port-unreachable from a vanished peer surfaces here on some systems.
            Err(e) => debug!(error = %e, "UDP receive error"),
        }
    }
}

/// Accepts TCP or TLS connections within the limits and starts a task for each.
#[derive(Clone)]
struct Acceptor {
    inbound: mpsc::Sender<Inbound>,
    counter: Arc<ConnectionCounter>,
    refused: Arc<Mutex<WarnThrottle<IpAddr>>>,
}

impl Acceptor {
    async fn run(self, listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>) {
        let transport = if tls.is_some() {
            Transport::Tls
        } else {
            Transport::Tcp
        };
        loop {
            let (stream, addr) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors, typically: wait rather than spin.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let permit = match self.counter.acquire(addr.ip()) {
                Ok(p) => p,
                Err(over) => {
                    let left_out = self
                        .refused
                        .lock()
                        .expect("throttle")
                        .allow(&addr.ip(), std::time::Instant::now());
                    if let Some(left_out) = left_out {
                        warn!(%addr, ?over, left_out, "connection refused: over the limit");
                    }
                    drop(stream); // closed at once
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let peer = Peer { addr, transport };
            let this = self.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let limits = this.counter.limits();
                let (tx, rx) = mpsc::channel(WRITE_QUEUE);
                match tls {
                    None => {
                        if this
                            .inbound
                            .send(Inbound::Connected(peer, tx))
                            .await
                            .is_ok()
                        {
                            run_connection(stream, peer, this.inbound, rx, limits, permit).await;
                        }
                    }
                    Some(acceptor) => {
                        let handshake =
                            tokio::time::timeout(limits.io_timeout, acceptor.accept(stream)).await;
                        match handshake {
                            Ok(Ok(stream)) => {
                                if this
                                    .inbound
                                    .send(Inbound::Connected(peer, tx))
                                    .await
                                    .is_ok()
                                {
                                    run_connection(stream, peer, this.inbound, rx, limits, permit)
                                        .await;
                                }
                            }
                            Ok(Err(e)) => debug!(%addr, error = %e, "TLS handshake failed"),
                            Err(_) => debug!(%addr, "TLS handshake timed out"),
                        }
                    }
                }
            });
        }
    }
}

/// The task that owns the transaction layer.
struct Driver {
    layer: TransactionLayer,
    udp: Arc<UdpSocket>,
    /// The open stream connections, by transport and peer address.
    writers: HashMap<Peer, mpsc::Sender<Vec<u8>>>,
    tu: mpsc::Sender<TuEvent>,
    inbound: mpsc::Sender<Inbound>,
    counter: Arc<ConnectionCounter>,
    warnings: WarnThrottle<IpAddr>,
}

impl Driver {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut inbound: mpsc::Receiver<Inbound>,
    ) {
        loop {
            let deadline = self.layer.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            // Work in progress before new work: the calls' commands first, then the timers,
            // and only then a new message. So the command queue (unbounded, because every
            // call sends without waiting) holds at most what the calls make of the events
            // already handed out, which are bounded themselves (TU_QUEUE, and each call's
            // signal queue); new messages wait in `inbound` (bounded), then in the kernel.
            tokio::select! {
                biased;
                Some(cmd) = commands.recv() => self.on_command(cmd),
                _ = sleep => self.layer.handle_timeout(Instant::now()),
                Some(inbound) = inbound.recv() => match inbound {
                    Inbound::Message(bytes, peer) => self.on_inbound(&bytes, peer),
                    Inbound::Connected(peer, writer) => {
                        self.writers.insert(peer, writer);
                    }
                },
                else => return,
            }
            self.writers.retain(|_, w| !w.is_closed());
            self.flush().await;
        }
    }

    /// Logs a warning about `peer` unless one was logged lately (then it is counted).
    fn warn_peer(&mut self, peer: Peer, what: &str, detail: &str) {
        if let Some(left_out) = self
            .warnings
            .allow(&peer.addr.ip(), std::time::Instant::now())
        {
            warn!(peer = %peer.addr, left_out, detail, "{what}");
        }
    }

    fn on_inbound(&mut self, bytes: &[u8], peer: Peer) {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return self.warn_peer(peer, "dropping SIP message that is not UTF-8", ""),
        };
        if text.trim().is_empty() {
            return; // keep-alive
        }
        match rsip::SipMessage::try_from(text) {
            Ok(msg) => self.layer.handle_message(msg, peer, Instant::now()),
            Err(e) => self.warn_peer(peer, "dropping unparsable SIP message", &e.to_string()),
        }
    }

    fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Respond { key, response } => {
                if let Err(e) = self.layer.respond(&key, response, now) {
                    debug!(error = %e, "response not sent");
                }
            }
            Command::SendRequest {
                request,
                peer,
                reply,
            } => {
                if peer.transport == Transport::Tcp {
                    self.ensure_connection(peer);
                }
                let _ = reply.send(self.layer.send_request(request, peer, now));
            }
            Command::SendStateless { msg, peer } => self.layer.send_stateless(msg, peer),
        }
    }

    /// Opens a TCP connection to `peer` unless one is there. The connect runs in a task of its
    /// own; what is sent meanwhile waits in the connection's queue. (TLS peers are reached on
    /// the connection they opened: phones behind NAT accept none.)
    fn ensure_connection(&mut self, peer: Peer) {
        if self.writers.contains_key(&peer) {
            return;
        }
        let permit = match self.counter.acquire(peer.addr.ip()) {
            Ok(p) => p,
            Err(over) => {
                warn!(peer = %peer.addr, ?over, "no TCP connection opened: over the limit");
                return;
            }
        };
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        self.writers.insert(peer, tx);
        let inbound = self.inbound.clone();
        let limits = self.counter.limits();
        tokio::spawn(async move {
            match tokio::time::timeout(limits.io_timeout, TcpStream::connect(peer.addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    run_connection(stream, peer, inbound, rx, limits, permit).await;
                }
                Ok(Err(e)) => warn!(peer = %peer.addr, error = %e, "TCP connect failed"),
                Err(_) => warn!(peer = %peer.addr, "TCP connect timed out"),
            }
        });
    }

    /// Carries out everything the layer produced.
    async fn flush(&mut self) {
        while let Some(output) = self.layer.poll_output() {
            match output {
                Output::Transmit { msg, peer } => self.transmit(msg, peer).await,
                Output::Event(event) => self.deliver(event),
            }
        }
    }

    async fn transmit(&mut self, msg: rsip::SipMessage, peer: Peer) {
        let bytes = msg.to_string().into_bytes();
        if peer.transport == Transport::Udp {
            if let Err(e) = self.udp.send_to(&bytes, peer.addr).await {
                debug!(peer = %peer.addr, error = %e, "UDP send failed");
            }
            return;
        }
        let Some(writer) = self.writers.get(&peer) else {
            return self.warn_peer(peer, "no connection to send on", "");
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = writer.try_send(bytes) {
            // The peer does not read: closing its connection is all that helps.
            warn!(peer = %peer.addr, "peer does not read its stream: closing it");
            self.writers.remove(&peer);
        }
    }

    /// Hands an event to the call layer; when it is overloaded, new requests get 503.
    fn deliver(&mut self, event: TuEvent) {
        match self.tu.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(TuEvent::Request { key, request, .. })) => {
                warn!(method = %request.method, "overloaded: refusing request with 503");
                let mut response = super::message::response_for(
                    &request,
                    rsip::StatusCode::ServiceUnavailable,
                    None,
                );
                response.headers.push(rsip::Header::Other(
                    "Retry-After".into(),
                    OVERLOAD_RETRY_AFTER_SECS.to_string(),
                ));
                let _ = self.layer.respond(&key, response, Instant::now());
            }
            Err(mpsc::error::TrySendError::Full(other)) => {
                warn!(?other, "overloaded: call layer queue full, event dropped")
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}
