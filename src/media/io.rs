//! A few loops for every session's RTP sockets: each a thread of its own running a
//! single-threaded tokio runtime, on which its sessions' receive tasks run and with whose
//! reactor their sockets are registered.
//!
//! On the server's multi-threaded runtime a packet woke its session's task through the I/O
//! driver of whichever worker polled it, often onto another, parked worker: a futex wake-up and
//! a context switch per packet, which is where the CPU went (BENCHMARKS.md, bridged calls).
//! Here one `epoll_wait` returns the sockets that are ready and their tasks run at once on the
//! same thread, one after the other, as str0m's examples drive many sessions from one loop.
//! Sending needs no loop: the pacer and the relay send with [`send_now`] from where they are.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};

/// The media loops: one per two cores (one on the 2-core machine), each on its own thread.
fn loops() -> &'static [Handle] {
    static LOOPS: OnceLock<Vec<Handle>> = OnceLock::new();
    LOOPS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (0..(cores / 2).max(1)).map(start).collect()
    })
}

fn start(i: usize) -> Handle {
    let runtime = Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a media runtime");
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name(format!("media-io-{i}"))
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .expect("a media thread");
    handle
}

/// The loop that serves the session on local port `port`: a session's socket and its receive
/// task are on the same loop, so a packet never wakes another thread.
pub fn handle(port: u16) -> &'static Handle {
    let loops = loops();
    &loops[usize::from(port / 2) % loops.len()]
}

/// Registers `socket` with the reactor of its port's media loop.
pub fn register(socket: std::net::UdpSocket) -> std::io::Result<tokio::net::UdpSocket> {
    socket.set_nonblocking(true)?;
    let _inside = handle(socket.local_addr()?.port()).enter();
    tokio::net::UdpSocket::from_std(socket)
}

/// Sends `packet` to `to` at once on `socket`, from any thread: a plain non-blocking `sendto`.
/// tokio's `try_send_to` would first ask for the socket's write readiness, which a socket
/// just registered with a busy media loop does not have yet, and would drop a stream's first
/// packet with "would block".
pub fn send_now(
    socket: &tokio::net::UdpSocket,
    packet: &[u8],
    to: std::net::SocketAddr,
) -> std::io::Result<usize> {
    let sent = socket2::SockRef::from(socket).send_to(packet, &to.into());
    if sent.is_ok() {
        super::stats::bump(&super::stats::RTP_OUT);
    }
    sent
}
