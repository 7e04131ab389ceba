//! Which of our addresses a peer reaches us on.

use std::net::{IpAddr, SocketAddr, UdpSocket};

/// The local address of the route towards `peer` (a connected UDP socket sends nothing).
pub fn local_ip_towards(peer: SocketAddr) -> Option<IpAddr> {
    let bind: SocketAddr = if peer.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(bind).ok()?;
    socket.connect(peer).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_is_reached_on_loopback() {
        let peer = "127.0.0.1:5060".parse().unwrap();
        assert_eq!(
            super::local_ip_towards(peer),
            Some("127.0.0.1".parse().unwrap())
        );
    }
}
