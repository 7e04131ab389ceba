//! The operators' browser phones: the consoles whose phone is on, by seat ([`Phones`]), and
//! the calls ringing or up in them ([`BrowserLeg`]). A seat with its console's phone on is
//! rung there; without, on its registered SIP softphone, and the console still pops the call
//! up. The console's WebSocket (`src/api/phone.rs`) carries the [`signal`] messages.
//!
//! This folder imports nothing from the call layer: a leg reports what happens through the
//! sink it was opened with ([`PhoneEvent`]).

mod peer;
pub mod signal;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tracing::{info, warn};

pub use peer::{BrowserLeg, EventSink, IceAddresses, PhoneEvent};
use signal::{CallInfo, FromBrowser, ToBrowser};

/// Messages waiting for one console; a console that reads none of 64 is behind and loses
/// the newest (its call still ends by its own timers).
const CONSOLE_QUEUE: usize = 64;

/// One console's open phone.
struct Line {
    id: u64,
    tx: mpsc::Sender<ToBrowser>,
    /// The address the console reached us on: host candidates are gathered there.
    local_ip: IpAddr,
    /// Whether calls ring in the page (else the console only pops them up).
    phone: bool,
}

/// A call offered in a console, by leg.
struct Leg {
    seat: String,
    line: u64,
    leg: Option<Arc<BrowserLeg>>,
}

#[derive(Default)]
struct Inner {
    next_line: u64,
    lines: HashMap<String, Line>,
    legs: HashMap<String, Leg>,
}

/// The consoles connected, by seat, and the calls offered in them.
#[derive(Default)]
pub struct Phones {
    inner: Mutex<Inner>,
    /// A public address for the phones' ICE candidates (1:1 NAT), from `--webrtc-public-ip`.
    pub public_ip: Option<IpAddr>,
}

/// A console's connection, as the WebSocket holds it.
pub struct Connection {
    /// The seat.
    pub seat: String,
    /// This console's line, to disconnect it.
    pub line: u64,
    /// What the server sends this console.
    pub rx: mpsc::Receiver<ToBrowser>,
    /// Whether this console's phone is the seat's only way to be reached just now
    /// (the seat had no console phone before).
    pub first: bool,
}

impl Phones {
    /// A registry whose phones advertise `public_ip` when set.
    pub fn new(public_ip: Option<IpAddr>) -> Phones {
        Phones {
            inner: Mutex::default(),
            public_ip,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A console for `seat` connected; with `phone`, calls ring in it. An earlier console of
    /// the same seat is told it was replaced and stops ringing.
    pub fn connect(&self, seat: &str, local_ip: IpAddr, phone: bool) -> Connection {
        let (tx, rx) = mpsc::channel(CONSOLE_QUEUE);
        let mut inner = self.lock();
        inner.next_line += 1;
        let id = inner.next_line;
        let line = Line {
            id,
            tx: tx.clone(),
            local_ip,
            phone,
        };
        let old = inner.lines.insert(seat.to_string(), line);
        let first = phone && !old.as_ref().is_some_and(|l| l.phone);
        if let Some(old) = old {
            let _ = old.tx.try_send(ToBrowser::Replaced);
        }
        drop(inner);
        let _ = tx.try_send(ToBrowser::Ready {
            seat: seat.to_string(),
        });
        info!(seat, line = id, phone, "console connected");
        Connection {
            seat: seat.to_string(),
            line: id,
            rx,
            first,
        }
    }

    /// The console went away: the calls ringing or up in it end as the page left them.
    /// True when it was the seat's phone (the seat is no longer reachable in a browser).
    pub fn disconnect(&self, seat: &str, line: u64) -> bool {
        let mut inner = self.lock();
        let was_phone = match inner.lines.get(seat) {
            Some(l) if l.id == line => {
                let phone = l.phone;
                inner.lines.remove(seat);
                phone
            }
            _ => false,
        };
        let gone: Vec<Arc<BrowserLeg>> = inner
            .legs
            .values()
            .filter(|l| l.line == line)
            .filter_map(|l| l.leg.clone())
            .collect();
        drop(inner);
        for leg in gone {
            leg.ended_by_page(false);
        }
        info!(seat, line, "console disconnected");
        was_phone
    }

    /// Whether calls to `seat` ring in its console.
    pub fn has_phone(&self, seat: &str) -> bool {
        self.lock().lines.get(seat).is_some_and(|l| l.phone)
    }

    fn send(&self, seat: &str, message: ToBrowser) {
        let inner = self.lock();
        if let Some(line) = inner.lines.get(seat) {
            if line.tx.try_send(message).is_err() {
                warn!(seat, "console is behind: a phone message dropped");
            }
        }
    }

    /// Rings `seat` in its console: a peer connection relaying to `media`, its offer sent
    /// with the pop-up. Events go to `events`.
    pub async fn ring(
        &self,
        seat: &str,
        leg: &str,
        call: CallInfo,
        media: std::net::SocketAddr,
        events: EventSink,
    ) -> Result<Arc<BrowserLeg>, String> {
        let (line, local_ip) = {
            let inner = self.lock();
            let l = inner
                .lines
                .get(seat)
                .filter(|l| l.phone)
                .ok_or_else(|| format!("seat {seat} has no console phone"))?;
            (l.id, l.local_ip)
        };
        let ice = IceAddresses {
            local: Some(local_ip),
            public: self.public_ip,
        };
        let browser = Arc::new(BrowserLeg::open(leg, &ice, media, events).await?);
        self.lock().legs.insert(
            leg.to_string(),
            Leg {
                seat: seat.to_string(),
                line,
                leg: Some(browser.clone()),
            },
        );
        self.send(
            seat,
            ToBrowser::Offer {
                leg: leg.to_string(),
                call,
                sdp: Some(browser.offer.clone()),
            },
        );
        Ok(browser)
    }

    /// Pops a call ringing on the seat's SIP phone up in its console, if one is open.
    pub fn pop_up(&self, seat: &str, leg: &str, call: CallInfo) {
        {
            let mut inner = self.lock();
            let Some(line) = inner.lines.get(seat).map(|l| l.id) else {
                return;
            };
            inner.legs.insert(
                leg.to_string(),
                Leg {
                    seat: seat.to_string(),
                    line,
                    leg: None,
                },
            );
        }
        self.send(
            seat,
            ToBrowser::Offer {
                leg: leg.to_string(),
                call,
                sdp: None,
            },
        );
    }

    /// The call's media is up with the seat (either phone).
    pub fn connected(&self, leg: &str) {
        let seat = self.lock().legs.get(leg).map(|l| l.seat.clone());
        if let Some(seat) = seat {
            self.send(
                &seat,
                ToBrowser::Connected {
                    leg: leg.to_string(),
                },
            );
        }
    }

    /// The server let go of a leg: the console hears `Cancel` (never answered) or `Bye`, and
    /// a browser leg's connection closes.
    pub fn release(&self, leg: &str, answered: bool) {
        let Some(entry) = self.lock().legs.remove(leg) else {
            return;
        };
        let leg = leg.to_string();
        self.send(
            &entry.seat,
            if answered {
                ToBrowser::Bye { leg }
            } else {
                ToBrowser::Cancel { leg }
            },
        );
        if let Some(browser) = entry.leg {
            tokio::spawn(async move { browser.close().await });
        }
    }

    /// A message from the console on `line` of `seat`.
    pub async fn from_browser(&self, seat: &str, line: u64, message: FromBrowser) {
        let (leg_id, answer) = match message {
            FromBrowser::Answer { leg, sdp } => (leg, Some(sdp)),
            FromBrowser::Decline { leg } | FromBrowser::Hangup { leg } => (leg, None),
        };
        let browser = {
            let inner = self.lock();
            match inner.legs.get(&leg_id) {
                Some(l) if l.seat == seat && l.line == line => l.leg.clone(),
                _ => {
                    drop(inner);
                    self.send(
                        seat,
                        ToBrowser::Error {
                            message: format!("no call {leg_id} in this console"),
                        },
                    );
                    return;
                }
            }
        };
        let Some(browser) = browser else {
            // A SIP-phone call: it is answered and hung up on that phone.
            self.send(
                seat,
                ToBrowser::Error {
                    message: "this call rings on the seat's SIP phone".into(),
                },
            );
            return;
        };
        match answer {
            // A second answer must not end a call that is up: refused, nothing changes.
            Some(_) if browser.has_answer() => self.send(
                seat,
                ToBrowser::Error {
                    message: format!("call {leg_id} was answered already"),
                },
            ),
            Some(sdp) => {
                if let Err(e) = browser.answer(sdp).await {
                    warn!(seat, leg = leg_id, error = %e, "browser's answer refused");
                    self.send(seat, ToBrowser::Error { message: e });
                    browser.ended_by_page(false);
                }
            }
            None => browser.ended_by_page(true),
        }
    }
}
