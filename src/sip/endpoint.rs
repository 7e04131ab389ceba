//! The SIP endpoint: the tokio edge that moves bytes between UDP/TCP sockets and the sans-I/O
//! [`TransactionLayer`]. It owns the layer, feeds it parsed messages and timer ticks, transmits
//! what the layer asks for, and hands transaction-user events to the call layer over a channel.
//!
//! One task owns the layer (no locks); TCP connections each get a reader task and a writer
//! channel. Responses go back to the source address and connection a request came from
//! (symmetric signalling, which is what RFC 3581 `rport` asks for and NATed phones need).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::framing::{next_frame, Frame};
use super::transaction::{
    Output, Peer, Timers, TransactionError, TransactionKey, TransactionLayer, Transport, TuEvent,
};

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

/// Something read from a socket, on its way to the layer.
struct Inbound {
    bytes: Vec<u8>,
    peer: Peer,
}

/// A cheap, cloneable handle through which the call layer sends SIP.
#[derive(Clone)]
pub struct EndpointHandle {
    commands: mpsc::UnboundedSender<Command>,
    local_addr: SocketAddr,
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
        self.local_addr
    }
}

/// Binds UDP and TCP on `listen` (port 0 picks a free port that both can use) and starts the
/// endpoint. Returns the handle and the stream of transaction-user events.
pub async fn start(
    listen: SocketAddr,
    timers: Timers,
) -> std::io::Result<(EndpointHandle, mpsc::Receiver<TuEvent>)> {
    let (udp, tcp) = bind_both(listen).await?;
    let local_addr = udp.local_addr()?;
    info!(%local_addr, "SIP listening on UDP and TCP");

    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (tu_tx, tu_rx) = mpsc::channel(TU_QUEUE);
    let (in_tx, in_rx) = mpsc::channel::<Inbound>(8192);
    let (conn_tx, conn_rx) =
        mpsc::unbounded_channel::<(SocketAddr, mpsc::UnboundedSender<Vec<u8>>)>();

    let udp = std::sync::Arc::new(udp);
    tokio::spawn(udp_reader(udp.clone(), in_tx.clone()));
    tokio::spawn(tcp_acceptor(tcp, in_tx.clone(), conn_tx.clone()));

    let driver = Driver {
        layer: TransactionLayer::new(timers),
        udp,
        tcp_writers: HashMap::new(),
        tu: tu_tx,
        inbound: in_tx,
        new_connections: conn_tx,
    };
    tokio::spawn(driver.run(cmd_rx, in_rx, conn_rx));
    Ok((
        EndpointHandle {
            commands: cmd_tx,
            local_addr,
        },
        tu_rx,
    ))
}

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

async fn udp_reader(socket: std::sync::Arc<UdpSocket>, inbound: mpsc::Sender<Inbound>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, addr)) => {
                let peer = Peer {
                    addr,
                    transport: Transport::Udp,
                };
                if inbound
                    .send(Inbound {
                        bytes: buf[..n].to_vec(),
                        peer,
                    })
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

async fn tcp_acceptor(
    listener: TcpListener,
    inbound: mpsc::Sender<Inbound>,
    connections: mpsc::UnboundedSender<(SocketAddr, mpsc::UnboundedSender<Vec<u8>>)>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let writer = spawn_connection(stream, addr, inbound.clone());
                let _ = connections.send((addr, writer));
            }
            Err(e) => {
                warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Starts reader and writer tasks for one TCP connection; returns the writer's channel.
fn spawn_connection(
    stream: TcpStream,
    addr: SocketAddr,
    inbound: mpsc::Sender<Inbound>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (mut read_half, mut write_half) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if write_half.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let peer = Peer {
            addr,
            transport: Transport::Tcp,
        };
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 16_384];
        loop {
            match read_half.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            loop {
                match next_frame(&buf) {
                    Ok(Frame::Incomplete) => break,
                    Ok(Frame::KeepAlive(n)) => {
                        buf.drain(..n);
                    }
                    Ok(Frame::Message(n)) => {
                        let bytes: Vec<u8> = buf.drain(..n).collect();
                        if inbound.send(Inbound { bytes, peer }).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        warn!(%addr, error = %e, "closing TCP connection: cannot frame SIP");
                        return;
                    }
                }
            }
        }
    });
    tx
}

/// The task that owns the transaction layer.
struct Driver {
    layer: TransactionLayer,
    udp: std::sync::Arc<UdpSocket>,
    tcp_writers: HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>,
    tu: mpsc::Sender<TuEvent>,
    inbound: mpsc::Sender<Inbound>,
    new_connections: mpsc::UnboundedSender<(SocketAddr, mpsc::UnboundedSender<Vec<u8>>)>,
}

impl Driver {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut inbound: mpsc::Receiver<Inbound>,
        mut connections: mpsc::UnboundedReceiver<(SocketAddr, mpsc::UnboundedSender<Vec<u8>>)>,
    ) {
        loop {
            let deadline = self.layer.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(msg) = inbound.recv() => self.on_inbound(msg),
                Some(cmd) = commands.recv() => self.on_command(cmd).await,
                Some((addr, writer)) = connections.recv() => {
                    self.tcp_writers.insert(addr, writer);
                }
                _ = sleep => self.layer.handle_timeout(Instant::now()),
                else => return,
            }
            self.tcp_writers.retain(|_, w| !w.is_closed());
            self.flush().await;
        }
    }

    fn on_inbound(&mut self, inbound: Inbound) {
        let text = match std::str::from_utf8(&inbound.bytes) {
            Ok(t) => t,
            Err(_) => {
                warn!(peer = %inbound.peer.addr, "dropping SIP datagram that is not UTF-8");
                return;
            }
        };
        if text.trim().is_empty() {
            return; // keep-alive
        }
        match rsip::SipMessage::try_from(text) {
            Ok(msg) => self.layer.handle_message(msg, inbound.peer, Instant::now()),
            Err(e) => {
                warn!(peer = %inbound.peer.addr, error = %e, "dropping unparsable SIP message")
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) {
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
                    self.ensure_connection(peer.addr).await;
                }
                let _ = reply.send(self.layer.send_request(request, peer, now));
            }
            Command::SendStateless { msg, peer } => self.layer.send_stateless(msg, peer),
        }
    }

    /// Opens a TCP connection to `addr` unless one is already there.
    async fn ensure_connection(&mut self, addr: SocketAddr) {
        if self.tcp_writers.contains_key(&addr) {
            return;
        }
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let writer = spawn_connection(stream, addr, self.inbound.clone());
                self.tcp_writers.insert(addr, writer.clone());
                let _ = self.new_connections.send((addr, writer));
            }
            Err(e) => warn!(%addr, error = %e, "TCP connect failed"),
        }
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
        match peer.transport {
            Transport::Udp => {
                if let Err(e) = self.udp.send_to(&bytes, peer.addr).await {
                    debug!(peer = %peer.addr, error = %e, "UDP send failed");
                }
            }
            Transport::Tcp => match self.tcp_writers.get(&peer.addr) {
                Some(w) => {
                    let _ = w.send(bytes);
                }
                None => warn!(peer = %peer.addr, "no TCP connection for response"),
            },
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
