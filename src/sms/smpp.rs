//! The SMPP 3.4 client (an ESME bound as transceiver): connects to the SMS centre named in
//! `channels.toml`, binds, keeps the link alive with enquire_link, submits messages (UCS-2,
//! long ones split with a UDH by rusmpp), takes deliver_sm (messages and delivery receipts)
//! and answers each only after [`SmsSink::deliver`] stored it. When the link drops or stops
//! answering, it connects again after 1, 2, 4 … 60 seconds; submits in flight fail as
//! [`SubmitError::NotConnected`] and stay in the outbox to be sent again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use rusmpp::extra::concatenation::SubmitSmMultipartExt;
use rusmpp::pdus::{BindTransceiver, DeliverSmResp, SubmitSm};
use rusmpp::types::{COctetString, OctetString};
use rusmpp::values::{InterfaceVersion, Npi, RegisteredDelivery, Ton};
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::Framed;
use tracing::{info, warn};

use super::frames::{Frame, Frames};
use super::{Inbound, SmsGateway, SmsSink, SubmitError};
use crate::dialplan::channels::SmsSettings;
use crate::dialplan::LiveDialplan;
use crate::intake::concat::{split_udh, text_of, Reassembly};

/// How long a submit_sm or a bind waits for its response.
const RESPONSE_WAIT: Duration = Duration::from_secs(30);
/// The longest pause between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One part to submit and where its answer goes.
struct SubmitPart {
    pdu: SubmitSm,
    answer: oneshot::Sender<Result<String, SubmitError>>,
}

/// The client's handle: submits go to its session task.
pub struct SmppClient {
    parts: mpsc::Sender<SubmitPart>,
    bound: watch::Receiver<bool>,
}

impl SmppClient {
    /// Starts the session task; it follows the dialplan's `[sms]` (a reload with another
    /// centre reconnects there) and hands what it receives to `sink`.
    pub fn start(plan: Arc<LiveDialplan>, sink: Arc<dyn SmsSink>) -> Arc<SmppClient> {
        let (parts_tx, parts_rx) = mpsc::channel(64);
        let (bound_tx, bound_rx) = watch::channel(false);
        tokio::spawn(run(plan, sink, parts_rx, bound_tx));
        Arc::new(SmppClient {
            parts: parts_tx,
            bound: bound_rx,
        })
    }

    /// True while bound to the SMS centre.
    pub fn is_bound(&self) -> bool {
        *self.bound.borrow()
    }
}

fn octets<const MIN: usize, const MAX: usize>(
    s: &str,
    what: &str,
) -> Result<COctetString<MIN, MAX>, SubmitError> {
    COctetString::from_string(s.to_string())
        .map_err(|e| SubmitError::Refused(format!("{what} {s:?}: {e}")))
}

#[async_trait]
impl SmsGateway for SmppClient {
    async fn submit(&self, from: &str, to: &str, text: &str) -> Result<Vec<String>, SubmitError> {
        if !self.is_bound() {
            return Err(SubmitError::NotConnected);
        }
        let base = SubmitSm::builder()
            .source_addr_ton(Ton::Unknown)
            .source_addr_npi(Npi::Unknown)
            .source_addr(octets(from, "source")?)
            .dest_addr_ton(Ton::Unknown)
            .dest_addr_npi(Npi::Isdn)
            .destination_addr(octets(to, "destination")?)
            .registered_delivery(RegisteredDelivery::request_all())
            .short_message(OctetString::empty())
            .build();
        let reference = rand::random::<u8>();
        let parts = base
            .multipart(text)
            .ucs2()
            .reference_u8(reference)
            .build()
            .map_err(|e| SubmitError::Refused(format!("cannot encode the text: {e}")))?;
        let mut ids = Vec::with_capacity(parts.len());
        for pdu in parts {
            let (answer, rx) = oneshot::channel();
            self.parts
                .send(SubmitPart { pdu, answer })
                .await
                .map_err(|_| SubmitError::NotConnected)?;
            let id = tokio::time::timeout(RESPONSE_WAIT * 2, rx)
                .await
                .map_err(|_| SubmitError::Later("no submit_sm_resp".into()))?
                .map_err(|_| SubmitError::NotConnected)??;
            ids.push(id);
        }
        Ok(ids)
    }
}

fn bind_pdu(s: &SmsSettings) -> Result<BindTransceiver, String> {
    Ok(BindTransceiver::builder()
        .system_id(COctetString::from_string(s.system_id.clone()).map_err(|e| e.to_string())?)
        .password(COctetString::from_string(s.password.clone()).map_err(|e| e.to_string())?)
        .system_type(COctetString::from_string(s.system_type.clone()).map_err(|e| e.to_string())?)
        .interface_version(InterfaceVersion::Smpp3_4)
        .addr_ton(Ton::Unknown)
        .addr_npi(Npi::Unknown)
        .address_range(COctetString::empty())
        .build())
}

async fn run(
    plan: Arc<LiveDialplan>,
    sink: Arc<dyn SmsSink>,
    mut parts: mpsc::Receiver<SubmitPart>,
    bound: watch::Sender<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let Some(settings) = plan.current().channels.sms.clone() else {
            // No SMS centre: submits fail at once, and the dialplan is looked at again later.
            drain_not_connected(&mut parts);
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        };
        match session(&settings, &plan, sink.as_ref(), &mut parts, &bound).await {
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) => {
                warn!(smsc = %settings.smsc, error = %e, retry_in = ?backoff, "SMPP session ended")
            }
        }
        bound.send_replace(false);
        metrics::gauge!("hotline_smpp_bound").set(0.0);
        let until = tokio::time::Instant::now() + backoff;
        // While waiting, submits are told at once that there is no link.
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                part = parts.recv() => match part {
                    Some(p) => { let _ = p.answer.send(Err(SubmitError::NotConnected)); }
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn drain_not_connected(parts: &mut mpsc::Receiver<SubmitPart>) {
    while let Ok(p) = parts.try_recv() {
        let _ = p.answer.send(Err(SubmitError::NotConnected));
    }
}

/// The status a submit's refusal means for the message: later, or never.
fn refusal(status: CommandStatus) -> SubmitError {
    match status {
        CommandStatus::EsmeRthrottled
        | CommandStatus::EsmeRmsgqful
        | CommandStatus::EsmeRsyserr => SubmitError::Later(format!("{status:?}")),
        other => SubmitError::Refused(format!("{other:?}")),
    }
}

/// One session, from connect to its end; Ok when it ended in an orderly unbind.
async fn session(
    settings: &SmsSettings,
    plan: &LiveDialplan,
    sink: &dyn SmsSink,
    parts: &mut mpsc::Receiver<SubmitPart>,
    bound: &watch::Sender<bool>,
) -> Result<(), String> {
    let stream = tokio::time::timeout(RESPONSE_WAIT, TcpStream::connect(&settings.smsc))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut link = Framed::new(stream, Frames::default());
    let mut sequence: u32 = 1;
    link.send(Command::new(
        CommandStatus::EsmeRok,
        sequence,
        bind_pdu(settings)?,
    ))
    .await
    .map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(RESPONSE_WAIT, link.next())
        .await
        .map_err(|_| "no bind_transceiver_resp".to_string())?;
    match answer {
        Some(Ok(Frame::Command(c))) if c.id() == CommandId::BindTransceiverResp => {
            if c.status() != CommandStatus::EsmeRok {
                return Err(format!("bind refused: {:?}", c.status()));
            }
        }
        Some(Ok(other)) => return Err(format!("expected bind_transceiver_resp, got {other:?}")),
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("closed during bind".into()),
    }
    info!(smsc = %settings.smsc, system_id = %settings.system_id, "SMPP bound (transceiver)");
    bound.send_replace(true);
    metrics::gauge!("hotline_smpp_bound").set(1.0);

    let mut waiting: HashMap<u32, oneshot::Sender<Result<String, SubmitError>>> = HashMap::new();
    let mut reassembly = Reassembly::default();
    let mut enquire = tokio::time::interval(settings.enquire_link);
    enquire.tick().await;
    let mut unanswered_enquiries = 0u32;
    let mut next_seq = || {
        sequence = if sequence >= 0x7FFF_FFFF {
            1
        } else {
            sequence + 1
        };
        sequence
    };
    let result = loop {
        if plan.current().channels.sms.as_ref() != Some(settings) {
            // The dialplan now names another centre (or none): unbind and start again.
            let _ = link
                .send(Command::new(
                    CommandStatus::EsmeRok,
                    next_seq(),
                    Pdu::Unbind,
                ))
                .await;
            break Ok(());
        }
        tokio::select! {
            frame = link.next() => {
                let frame = match frame {
                    None => break Err("the SMS centre closed the link".to_string()),
                    Some(Err(e)) => break Err(e.to_string()),
                    Some(Ok(f)) => f,
                };
                unanswered_enquiries = 0;
                let command = match frame {
                    Frame::Command(c) => c,
                    Frame::Bad { command_id, sequence, reason } => {
                        warn!(command_id = format!("{command_id:#010x}"), sequence, %reason, "bad PDU from the SMS centre: generic_nack");
                        metrics::counter!("hotline_smpp_bad_pdus_total").increment(1);
                        let status = if command_id & 0x8000_0000 == 0 && known_request(command_id) {
                            CommandStatus::EsmeRinvmsglen
                        } else {
                            CommandStatus::EsmeRinvcmdid
                        };
                        if let Some(answer) = waiting.remove(&sequence) {
                            let _ = answer.send(Err(SubmitError::Later(format!("unreadable response: {reason}"))));
                        }
                        if link.send(Command::new(status, sequence, Pdu::GenericNack)).await.is_err() {
                            break Err("write failed".into());
                        }
                        continue;
                    }
                };
                let seq = command.sequence_number();
                match command.pdu() {
                    Some(Pdu::SubmitSmResp(resp)) => {
                        if let Some(answer) = waiting.remove(&seq) {
                            let _ = answer.send(if command.status() == CommandStatus::EsmeRok {
                                Ok(resp.message_id().to_string())
                            } else {
                                Err(refusal(command.status()))
                            });
                        }
                    }
                    Some(Pdu::GenericNack) => {
                        if let Some(answer) = waiting.remove(&seq) {
                            let _ = answer.send(Err(refusal(command.status())));
                        }
                    }
                    Some(Pdu::DeliverSm(deliver)) => {
                        let status = match take_deliver(deliver, &mut reassembly, sink).await {
                            Ok(()) => CommandStatus::EsmeRok,
                            Err(Deliver::Bad(reason)) => {
                                warn!(%reason, "deliver_sm not readable: refused");
                                CommandStatus::EsmeRinvmsglen
                            }
                            Err(Deliver::NotStored(reason)) => {
                                warn!(%reason, "deliver_sm not stored: the centre sends it again");
                                CommandStatus::EsmeRxTAppn
                            }
                        };
                        let resp = Command::new(status, seq, DeliverSmResp::builder().message_id(COctetString::empty()).build());
                        if link.send(resp).await.is_err() {
                            break Err("write failed".into());
                        }
                    }
                    Some(Pdu::EnquireLink) => {
                        if link.send(Command::new(CommandStatus::EsmeRok, seq, Pdu::EnquireLinkResp)).await.is_err() {
                            break Err("write failed".into());
                        }
                    }
                    Some(Pdu::EnquireLinkResp) => {}
                    Some(Pdu::Unbind) => {
                        let _ = link.send(Command::new(CommandStatus::EsmeRok, seq, Pdu::UnbindResp)).await;
                        break Err("the SMS centre unbound".into());
                    }
                    _ => {
                        if (u32::from(command.id())) & 0x8000_0000 == 0 {
                            // A request we do not serve.
                            if link.send(Command::new(CommandStatus::EsmeRinvcmdid, seq, Pdu::GenericNack)).await.is_err() {
                                break Err("write failed".into());
                            }
                        }
                    }
                }
            }
            part = parts.recv() => {
                let Some(part) = part else { break Ok(()) };
                let seq = next_seq();
                match link.send(Command::new(CommandStatus::EsmeRok, seq, part.pdu)).await {
                    Ok(()) => { waiting.insert(seq, part.answer); }
                    Err(e) => {
                        let _ = part.answer.send(Err(SubmitError::NotConnected));
                        break Err(format!("write failed: {e}"));
                    }
                }
            }
            _ = enquire.tick() => {
                if unanswered_enquiries >= 2 {
                    break Err("the SMS centre stopped answering enquire_link".into());
                }
                unanswered_enquiries += 1;
                if link.send(Command::new(CommandStatus::EsmeRok, next_seq(), Pdu::EnquireLink)).await.is_err() {
                    break Err("write failed".into());
                }
            }
        }
    };
    for (_, answer) in waiting.drain() {
        let _ = answer.send(Err(SubmitError::NotConnected));
    }
    result
}

/// Requests SMPP 3.4 defines (for choosing the generic_nack's status).
fn known_request(id: u32) -> bool {
    matches!(
        id,
        0x01..=0x09 | 0x0B | 0x15 | 0x21 | 0x102 | 0x103 | 0x111 | 0x112 | 0x113
    )
}

enum Deliver {
    /// Unreadable: refused for good.
    Bad(String),
    /// Readable but not stored: the centre should send it again.
    NotStored(String),
}

async fn take_deliver(
    deliver: &rusmpp::pdus::DeliverSm,
    reassembly: &mut Reassembly,
    sink: &dyn SmsSink,
) -> Result<(), Deliver> {
    let esm = u8::from(deliver.esm_class);
    let coding = u8::from(deliver.data_coding);
    let from = deliver.source_addr.to_string();
    let to = deliver.destination_addr.to_string();
    let bytes = deliver.short_message().as_ref();
    if esm & 0x3C == 0x04 {
        // A delivery receipt.
        let text = text_of(coding, bytes).map_err(|e| Deliver::Bad(e.to_string()))?;
        let (id, state) = super::receipt::parse(&text)
            .ok_or_else(|| Deliver::Bad(format!("receipt {text:?} names no id and state")))?;
        return sink
            .deliver(Inbound::Receipt { id, state })
            .await
            .map_err(Deliver::NotStored);
    }
    let (part, body) =
        split_udh(esm & 0x40 != 0, bytes).map_err(|e| Deliver::Bad(e.to_string()))?;
    let whole = match part {
        None => body.to_vec(),
        Some(part) => match reassembly.add(&from, part, body, chrono::Utc::now()) {
            Some(whole) => whole,
            // Kept until the other parts come.
            None => return Ok(()),
        },
    };
    let text = text_of(coding, &whole).map_err(|e| Deliver::Bad(e.to_string()))?;
    sink.deliver(Inbound::Message { from, to, text })
        .await
        .map_err(Deliver::NotStored)
}
