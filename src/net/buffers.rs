//! Socket buffer sizes. The kernel's default UDP receive buffer (about 208 KiB) overflows on a
//! burst of a few hundred INVITEs, and the datagrams past it are lost without a trace. The
//! server asks for larger buffers, as root past `net.core.rmem_max` (SO_RCVBUFFORCE), and says
//! at start-up what it got.

use std::os::fd::AsRawFd;

/// Buffer sizes asked for and granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    /// Bytes asked for, each direction.
    pub asked: usize,
    /// Bytes the kernel reports for receiving and sending (Linux reports twice what it keeps
    /// for its own bookkeeping; this is its figure).
    pub receive: usize,
    pub send: usize,
}

impl BufferSizes {
    /// True when the kernel granted less than asked (Linux doubles what it grants).
    pub fn capped(&self) -> bool {
        self.receive < self.asked || self.send < self.asked
    }
}

/// Asks for `bytes` of receive and send buffer on a UDP socket; returns what it has now.
pub fn size_udp_buffers(socket: &impl AsRawFd, bytes: usize) -> std::io::Result<BufferSizes> {
    let fd = socket.as_raw_fd();
    for (opt, force) in [
        (libc::SO_RCVBUF, libc::SO_RCVBUFFORCE),
        (libc::SO_SNDBUF, libc::SO_SNDBUFFORCE),
    ] {
        // The forced form works for a privileged process only; the plain one is capped.
        if set(fd, force, bytes).is_err() {
            set(fd, opt, bytes)?;
        }
    }
    Ok(BufferSizes {
        asked: bytes,
        receive: get(fd, libc::SO_RCVBUF)?,
        send: get(fd, libc::SO_SNDBUF)?,
    })
}

fn set(fd: i32, opt: libc::c_int, bytes: usize) -> std::io::Result<()> {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: fd is an open socket owned by the caller; the option value is a c_int on the stack.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn get(fd: i32, opt: libc::c_int) -> std::io::Result<usize> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: fd is an open socket; value and len point to valid stack memory of the right size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value.max(0) as usize)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_larger_buffers_and_reports_them() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let before = get(s.as_raw_fd(), libc::SO_RCVBUF).unwrap();
        let got = size_udp_buffers(&s, 4 * 1024 * 1024).unwrap();
        assert!(got.receive >= before, "{got:?} vs {before}");
        assert_eq!(got.asked, 4 * 1024 * 1024);
    }
}
