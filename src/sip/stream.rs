//! SIP over streams (TCP, TLS): one task per connection that reads, frames and writes, and the
//! limits that keep hostile or broken peers from exhausting the server.
//!
//! - Both halves close when the peer closes, on any error, on an idle connection
//!   ([`StreamLimits::idle`]) and on a message left incomplete for too long
//!   ([`StreamLimits::incomplete`], slow-loris senders): the task ends and its socket with it.
//! - Connections are capped per source address and in total ([`ConnectionCounter`]); a
//!   connection over a cap is closed at once.
//! - Framing is incremental ([`Framer`]); writes that a peer does not read time out.
//! - Outgoing connections are opened in a task of their own, so a slow connect never stalls
//!   the endpoint: what is sent meanwhile waits in the connection's bounded queue.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::debug;

use super::framing::{Frame, Framer};
use super::transaction::Peer;

/// Messages that may wait to be written on one connection; a peer that lets more pile up is
/// not reading, and its connection is closed.
pub const WRITE_QUEUE: usize = 256;

/// The limits on stream connections.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// A connection with no traffic either way for this long is closed.
    pub idle: Duration,
    /// A message whose first bytes came this long ago and is still incomplete closes its
    /// connection.
    pub incomplete: Duration,
    /// Open connections from one IP address at most.
    pub per_source: usize,
    /// Open connections in all at most (accepted and opened by us).
    pub total: usize,
    /// A connect, a TLS handshake, or one write that takes longer fails.
    pub io_timeout: Duration,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            idle: Duration::from_secs(600),
            incomplete: Duration::from_secs(10),
            per_source: 64,
            total: 4096,
            io_timeout: Duration::from_secs(10),
        }
    }
}

/// Counts open connections per source and in total, against [`StreamLimits`].
#[derive(Debug)]
pub struct ConnectionCounter {
    limits: StreamLimits,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverLimit {
    Source,
    Total,
}

impl ConnectionCounter {
    /// A counter with no connection open.
    pub fn new(limits: StreamLimits) -> Arc<ConnectionCounter> {
        Arc::new(ConnectionCounter {
            limits,
            open: Mutex::new((0, HashMap::new())),
        })
    }

    /// The limits counted against.
    pub fn limits(&self) -> StreamLimits {
        self.limits
    }

    /// Takes a place for a connection with `ip`, held until the permit is dropped.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionPermit, OverLimit> {
        let mut open = self.open.lock().expect("connection counter");
        if open.0 >= self.limits.total {
            return Err(OverLimit::Total);
        }
        let n = open.1.entry(ip).or_insert(0);
        if *n >= self.limits.per_source {
            return Err(OverLimit::Source);
        }
        *n += 1;
        open.0 += 1;
        Ok(ConnectionPermit {
            counter: self.clone(),
            ip,
        })
    }

    /// Open connections now.
    pub fn open(&self) -> usize {
        self.open.lock().expect("connection counter").0
    }
}

/// One connection's place in the [`ConnectionCounter`].
#[derive(Debug)]
pub struct ConnectionPermit {
    counter: Arc<ConnectionCounter>,
    ip: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut open = self.counter.open.lock().expect("connection counter");
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// What the sockets hand to the endpoint, in order: a stream connection is announced before
/// its first message.
#[derive(Debug)]
pub enum Inbound {
    /// A message (a datagram, or one framed off a stream) and where it came from.
    Message(Vec<u8>, Peer),
    /// A new stream connection and the queue that writes to it.
    Connected(Peer, mpsc::Sender<Vec<u8>>),
}

/// Why a connection task ended (logged at debug level).
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// The peer closed its side.
    Eof,
    /// Reading or writing failed, or a write timed out.
    Error,
    /// No traffic for [`StreamLimits::idle`].
    Idle,
    /// A message stayed incomplete for [`StreamLimits::incomplete`].
    Incomplete,
    /// The bytes cannot be framed as SIP.
    Framing,
    /// The endpoint stopped.
    Shutdown,
}

/// Runs one connection until it closes: frames what it reads into `inbound` (each message with
/// `peer`) and writes what comes through `outgoing`. The stream (both halves) is dropped at the
/// end, and so is `permit`.
pub async fn run_connection<S>(
    stream: S,
    peer: Peer,
    inbound: mpsc::Sender<Inbound>,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    limits: StreamLimits,
    permit: ConnectionPermit,
) -> Closed
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut framer = Framer::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut last_activity = Instant::now();
    let mut partial_since: Option<Instant> = None;
    let closed = loop {
        let idle_at = last_activity + limits.idle;
        let deadline = partial_since.map_or(idle_at, |t| idle_at.min(t + limits.incomplete));
        tokio::select! {
            read = rd.read(&mut chunk) => {
                let n = match read {
                    Ok(0) => break Closed::Eof,
                    Ok(n) => n,
                    Err(_) => break Closed::Error,
                };
                let now = Instant::now();
                last_activity = now;
                framer.push(&chunk[..n]);
                let mut progressed = false;
                let broken = loop {
                    match framer.next_frame() {
                        Ok(None) => break false,
                        Ok(Some(Frame::KeepAlive)) => progressed = true,
                        Ok(Some(Frame::Message(bytes))) => {
                            progressed = true;
                            if inbound.send(Inbound::Message(bytes, peer)).await.is_err() {
                                break true;
                            }
                        }
                        Err(e) => {
                            debug!(peer = %peer.addr, error = %e, "closing stream: cannot frame SIP");
                            break true;
                        }
                    }
                };
                if broken {
                    break Closed::Framing;
                }
                partial_since = match (framer.is_partial(), progressed) {
                    (false, _) => None,
                    (true, true) => Some(now),
                    (true, false) => partial_since.or(Some(now)),
                };
            }
            out = outgoing.recv() => {
                let Some(bytes) = out else { break Closed::Shutdown };
                match tokio::time::timeout(limits.io_timeout, wr.write_all(&bytes)).await {
                    Ok(Ok(())) => last_activity = Instant::now(),
                    _ => break Closed::Error,
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                break if partial_since.is_some_and(|t| t + limits.incomplete <= Instant::now()) {
                    Closed::Incomplete
                } else {
                    Closed::Idle
                };
            }
        }
    };
    // Close our half politely when the peer still listens; never wait for it long.
    let _ = tokio::time::timeout(Duration::from_millis(200), wr.shutdown()).await;
    debug!(peer = %peer.addr, reason = ?closed, open = permit.counter.open() - 1, "stream closed");
    drop(permit);
    closed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::Transport;

    fn limits() -> StreamLimits {
        StreamLimits {
            idle: Duration::from_secs(60),
            incomplete: Duration::from_secs(5),
            per_source: 2,
            total: 3,
            io_timeout: Duration::from_secs(1),
        }
    }

    fn peer() -> Peer {
        Peer {
            addr: "127.0.0.1:5070".parse().unwrap(),
            transport: Transport::Tcp,
        }
    }

    #[test]
    fn caps_per_source_and_in_total_and_frees_on_drop() {
        let c = ConnectionCounter::new(limits());
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let p1 = c.acquire(a).unwrap();
        let _p2 = c.acquire(a).unwrap();
        assert_eq!(c.acquire(a).unwrap_err(), OverLimit::Source);
        let _p3 = c.acquire(b).unwrap();
        assert_eq!(c.acquire(b).unwrap_err(), OverLimit::Total);
        drop(p1);
        assert_eq!(c.open(), 2);
        assert!(c.acquire(a).is_ok(), "a place freed by a closed connection");
    }

    /// A connection task on one end of an in-memory stream: (the other end, what it delivers,
    /// the queue that writes to it, the task).
    fn connection(
        counter: &Arc<ConnectionCounter>,
        buffer: usize,
    ) -> (
        tokio::io::DuplexStream,
        mpsc::Receiver<Inbound>,
        mpsc::Sender<Vec<u8>>,
        tokio::task::JoinHandle<Closed>,
    ) {
        let (client, server) = tokio::io::duplex(buffer);
        let (in_tx, in_rx) = mpsc::channel(8);
        let (out_tx, out_rx) = mpsc::channel(8);
        let permit = counter.acquire(peer().addr.ip()).unwrap();
        let task = tokio::spawn(run_connection(
            server,
            peer(),
            in_tx,
            out_rx,
            limits(),
            permit,
        ));
        (client, in_rx, out_tx, task)
    }

    #[tokio::test(start_paused = true)]
    async fn eof_idle_and_slow_senders_end_the_task() {
        let counter = ConnectionCounter::new(limits());
        // EOF: the peer closes; the message it sent was delivered first.
        let (mut client, mut delivered, _out, task) = connection(&counter, 4096);
        client
            .write_all(b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n")
            .await
            .unwrap();
        drop(client);
        assert_eq!(task.await.unwrap(), Closed::Eof);
        assert!(delivered.recv().await.is_some());
        assert_eq!(counter.open(), 0);

        // Idle: nothing for a minute.
        let started = Instant::now();
        let (_client, _delivered, _out, task) = connection(&counter, 4096);
        assert_eq!(task.await.unwrap(), Closed::Idle);
        assert_eq!(started.elapsed(), Duration::from_secs(60));

        // A slow sender: a byte a second never finishes its headers within 5 s.
        let started = Instant::now();
        let (mut client, _delivered, _out, task) = connection(&counter, 4096);
        let dribble = tokio::spawn(async move {
            for b in b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n".iter().cycle() {
                if client.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        assert_eq!(task.await.unwrap(), Closed::Incomplete);
        assert!(started.elapsed() <= Duration::from_secs(6));
        dribble.abort();
        assert_eq!(counter.open(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_does_not_read_is_closed() {
        let counter = ConnectionCounter::new(limits());
        let (_client, _delivered, out, task) = connection(&counter, 64);
        out.send(vec![b'x'; 4096]).await.unwrap();
        assert_eq!(task.await.unwrap(), Closed::Error);
    }
}
