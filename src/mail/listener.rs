//! The SMTP listener: mailin's sans-I/O session (commands, replies, DATA's dot-stuffing)
//! driven line by line over tokio. A mail is acknowledged with 250 only after
//! [`crate::requests::Intake::take`] has committed its case; a mail that cannot be stored gets
//! 451 (the relay keeps it and tries again), one that can never be (malformed, too large, to
//! nobody we serve) a 5xx naming why, and nothing is stored for it.
//!
//! Bounded: connections at once, line length, the mail's size (the dialplan's
//! `max_message_kb`), recipients, and a connection silent for five minutes is closed
//! (RFC 5321 4.5.3.2). With a certificate (`--tls-cert`, `--tls-key`) it offers STARTTLS
//! (RFC 3207), so that a relay across a network can encrypt what it delivers.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use mailin::{response, Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{info, warn};

use super::read::{read, Limits, Refused};
use crate::dialplan::channels::MailSettings;
use crate::intake::{reference, Channel};
use crate::requests::{files, Intake};
use crate::store::requests::NewRequest;

/// Connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 64;
/// The longest command or text line (RFC 5321 says 1000 with CRLF; mail programs exceed it).
const MAX_LINE: usize = 64 * 1024;
/// Recipients in one mail at most.
const MAX_RECIPIENTS: usize = 100;
/// Silence after which a connection is closed.
const IDLE: Duration = Duration::from_secs(300);

/// What the session's handler collected for the I/O loop to act on.
#[derive(Default)]
struct Collected {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
    done: bool,
}

/// The mailin handler: checks recipients against the mailboxes, collects the data.
struct Collector {
    mail: MailSettings,
    shared: Arc<Mutex<Collected>>,
}

impl Handler for Collector {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        let mut c = self.shared.lock().expect("collector lock");
        *c = Collected {
            from: from.to_string(),
            ..Collected::default()
        };
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let mut c = self.shared.lock().expect("collector lock");
        if c.to.len() >= MAX_RECIPIENTS {
            return Response::custom(452, "4.5.3 Too many recipients".into());
        }
        if self.mail.platform_of(to).is_none() {
            return Response::custom(550, "5.1.1 No such mailbox here".into());
        }
        c.to.push(to.to_string());
        response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _8bit: bool, _to: &[String]) -> Response {
        let mut c = self.shared.lock().expect("collector lock");
        c.data.clear();
        c.too_big = false;
        c.done = false;
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let mut c = self.shared.lock().expect("collector lock");
        if c.data.len() + buf.len() > self.mail.max_message {
            c.too_big = true;
        } else {
            c.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.shared.lock().expect("collector lock").done = true;
        response::OK
    }
}

/// Serves SMTP on `listener` until the process ends; with `tls`, STARTTLS is offered
/// (RFC 3207) with that certificate.
pub async fn serve(
    listener: TcpListener,
    intake: Arc<Intake>,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "SMTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let intake = intake.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, peer, &intake, tls).await {
                info!(peer = %peer, error = %e, "SMTP connection ended");
            }
            drop(permit);
        });
    }
}

/// How a conversation stopped.
enum Next {
    /// The client quit, went silent or broke a rule: the connection closes.
    Done,
    /// The client asked for STARTTLS and was told to go ahead.
    StartTls,
}

/// One SMTP session's state, kept across the STARTTLS upgrade.
struct Conversation<'a> {
    session: mailin::Session<Collector>,
    shared: Arc<Mutex<Collected>>,
    intake: &'a Intake,
    mail: MailSettings,
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    intake: &Intake,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let plan = intake.dialplan.current();
    let Some(mail) = plan.channels.mail.clone() else {
        let mut stream = stream;
        stream
            .write_all(b"421 4.3.2 No mailboxes are served here\r\n")
            .await?;
        return Ok(());
    };
    let shared = Arc::new(Mutex::new(Collected::default()));
    let mut builder = SessionBuilder::new(mail.host_name.clone());
    if tls.is_some() {
        builder.enable_start_tls();
    }
    let session = builder.build(
        peer.ip(),
        Collector {
            mail: mail.clone(),
            shared: shared.clone(),
        },
    );
    let mut talk = Conversation {
        session,
        shared,
        intake,
        mail,
    };
    let mut plain = BufReader::new(stream);
    plain
        .get_mut()
        .write_all(&talk.session.greeting().buffer()?)
        .await?;
    match talk.converse(&mut plain).await? {
        Next::Done => Ok(()),
        Next::StartTls => {
            let Some(tls) = tls else { return Ok(()) };
            // Whatever the client sent after STARTTLS in plain text is dropped unread
            // (RFC 3207 section 6: no command injected before the handshake counts).
            let stream = plain.into_inner();
            let secure = tokio::time::timeout(
                Duration::from_secs(30),
                tokio_rustls::TlsAcceptor::from(tls).accept(stream),
            )
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake"))??;
            talk.session.tls_active();
            let mut secure = BufReader::new(secure);
            talk.converse(&mut secure).await.map(|_| ())
        }
    }
}

impl Conversation<'_> {
    /// Reads commands and data line by line and answers them, until the client quits,
    /// breaks a limit, or is told to start TLS.
    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        io: &mut BufReader<S>,
    ) -> std::io::Result<Next> {
        let mut line = Vec::with_capacity(1024);
        loop {
            line.clear();
            let n = tokio::time::timeout(
                IDLE,
                (&mut *io)
                    .take(MAX_LINE as u64)
                    .read_until(b'\n', &mut line),
            )
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
            if n == 0 {
                return Ok(Next::Done);
            }
            if !line.ends_with(b"\n") {
                io.get_mut()
                    .write_all(b"500 5.5.2 Line too long\r\n")
                    .await?;
                return Ok(Next::Done);
            }
            if !line.ends_with(b"\r\n") {
                line.pop();
                line.extend_from_slice(b"\r\n");
            }
            let mut reply = self.session.process(&line);
            let finished = {
                let mut c = self.shared.lock().expect("collector lock");
                if c.done {
                    c.done = false;
                    Some((
                        std::mem::take(&mut c.from),
                        std::mem::take(&mut c.to),
                        std::mem::take(&mut c.data),
                        c.too_big,
                    ))
                } else {
                    None
                }
            };
            if let Some((from, to, data, too_big)) = finished {
                reply = if too_big {
                    Response::custom(
                        552,
                        format!("5.3.4 Message larger than {} bytes", self.mail.max_message),
                    )
                } else {
                    take_mail(self.intake, &self.mail, &from, &to, &data).await
                };
            }
            match reply.action {
                Action::NoReply => {}
                Action::Close => {
                    io.get_mut().write_all(&reply.buffer()?).await?;
                    return Ok(Next::Done);
                }
                Action::Reply => io.get_mut().write_all(&reply.buffer()?).await?,
                Action::UpgradeTls => {
                    io.get_mut().write_all(&reply.buffer()?).await?;
                    return Ok(Next::StartTls);
                }
            }
        }
    }
}

/// Stores one mail as a request (or a follow-up of its case); the reply to give.
async fn take_mail(
    intake: &Intake,
    mail: &MailSettings,
    from: &str,
    to: &[String],
    data: &[u8],
) -> Response {
    let limits = Limits {
        max_attachment: mail.max_attachment,
        max_attachments: mail.max_attachments,
    };
    let read = match read(data, from, limits) {
        Ok(m) => m,
        Err(e) => {
            let code = match e {
                Refused::AttachmentTooLarge { .. } | Refused::TooManyAttachments { .. } => {
                    "552 5.3.4"
                }
                _ => "550 5.6.0",
            };
            warn!(from, error = %e, "mail refused");
            metrics::counter!("hotline_mail_refused_total").increment(1);
            let (code, ext) = code.split_once(' ').unwrap_or((code, ""));
            return Response::custom(code.parse().unwrap_or(550), format!("{ext} {e}"));
        }
    };
    if read.automatic {
        info!(from, subject = %read.subject, "automatic mail (bounce or auto-reply) not taken as a request");
        return Response::custom(
            250,
            "2.6.0 Automatic message noted, no request opened".into(),
        );
    }
    let Some((platform, mailbox)) = to.iter().find_map(|t| {
        mail.platform_of(t).map(|p| {
            (
                p.to_string(),
                t.trim_matches(['<', '>']).to_ascii_lowercase(),
            )
        })
    }) else {
        return Response::custom(554, "5.1.1 No recipient we serve".into());
    };
    // A follow-up: a case number in the subject, else a mail it answers.
    let mut join = reference::case_number_in(&read.subject);
    if join.is_none() {
        for id in &read.answers {
            match intake.store.case_of_message_ref(id).await {
                Ok(Some(case)) => {
                    join = Some(case);
                    break;
                }
                Ok(None) => {}
                Err(e) => return temporary(e),
            }
        }
    }
    let mut attachments = Vec::with_capacity(read.attachments.len());
    for (name, ctype, bytes) in read.attachments {
        match files::save(&intake.data_dir, &name, &ctype, bytes).await {
            Ok(a) => attachments.push(a),
            Err(e) => return temporary(e),
        }
    }
    let request = NewRequest {
        platform,
        channel: Channel::Email,
        phone: String::new(),
        contact: Some(read.from.clone()),
        sender: read.from,
        recipient: mailbox,
        subject: read.subject,
        body: read.text,
        place: None,
        message_ref: read.message_id,
        at: Utc::now(),
        attachments,
        notify: true,
    };
    match intake.take(request, join).await {
        Ok(taken) => Response::custom(
            250,
            format!(
                "2.0.0 {} as case {}",
                if taken.joined { "Added" } else { "Accepted" },
                taken.case_number
            ),
        ),
        Err(e) => temporary(e),
    }
}

/// 451: nothing was stored; the relay tries again later.
fn temporary(e: impl std::fmt::Display) -> Response {
    warn!(error = %e, "mail not stored: 451");
    Response::custom(451, "4.3.0 Not stored, try again later".into())
}
