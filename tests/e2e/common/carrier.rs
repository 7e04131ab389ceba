//! The carrier's side of a trunk in tests: a UDP socket bound before the server starts, so
//! that the test's `trunks.toml` can name it as the gateway; once the server runs, a softphone
//! on that socket takes the calls the server places out over the trunk (callbacks, 110,
//! reminders), answering, declining or letting them ring, with its own RTP.

use std::net::SocketAddr;

use super::phone::TestPhone;
use super::server::{ServerOptions, TestServer};
use super::softphone::Softphone;

/// The gateway socket, bound before the server starts.
pub struct Gateway {
    sock: std::net::UdpSocket,
}

impl Gateway {
    /// A gateway on a loopback port the OS hands out.
    pub fn bind() -> Gateway {
        Gateway {
            sock: std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// A `trunks.toml` with one trunk to this gateway (its calls come from 127.0.0.1), and
    /// `extra` lines in the trunk's table.
    pub fn trunks_toml(&self, extra: &str) -> String {
        format!(
            "accept_calls = \"anywhere\"\n\n[[trunk]]\nname = \"test-carrier\"\ngateway = \"{}\"\n\
             caller_id = \"12345\"\ncaller_ids = {{ \"530100\" = \"087112345\" }}\nchannels = 4\n{extra}\n",
            self.addr()
        )
    }

    /// The bundled dialplan staffed around the clock, with this gateway as the trunk and
    /// `hotline` edits to hotline.toml (`text.replace` pairs).
    pub fn options(&self, hotline: &[(&str, &str)]) -> ServerOptions {
        let trunks = self.trunks_toml("");
        let hotline: Vec<(String, String)> = hotline
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        ServerOptions::with_dialplan_edit(move |name, text| match name {
            "trunks.toml" => trunks.clone(),
            "hotline.toml" => {
                let mut text = text.replace(
                    "default_hours = [\"08:00-20:00\"]",
                    "default_hours = [\"00:00-24:00\"]",
                );
                for (from, to) in &hotline {
                    assert!(text.contains(from.as_str()), "hotline.toml has {from}");
                    text = text.replace(from.as_str(), to);
                }
                text
            }
            "platforms.toml" => {
                text.replace("hours = [\"08:00-20:00\"]", "hours = [\"00:00-24:00\"]")
            }
            _ => text,
        })
    }

    /// The carrier, once the server runs: a softphone on the gateway's socket.
    pub async fn carrier(self, server: &TestServer) -> Softphone {
        Softphone::with_phone(TestPhone::udp_bound(self.sock, server.sip).await, "carrier")
    }
}
