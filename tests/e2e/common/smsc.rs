//! A test SMS centre built with rusmpp (the SMPP library the server uses for its PDUs, but a
//! separate implementation of the centre's side): accepts a transceiver bind, answers
//! submit_sm with a message id and then sends the delivery receipt, keeps every submitted
//! message (its parts put back together by their UDH, decoded from UCS-2), delivers messages
//! from "phones", and can drop the link or send bytes that are not a valid PDU.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rusmpp::pdus::{BindTransceiverResp, DeliverSm, SubmitSmResp};
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::types::{COctetString, OctetString};
use rusmpp::values::{DataCoding, EsmClass};
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::Framed;

/// A message the server submitted, put back together.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub source: String,
    pub destination: String,
    pub data_coding: u8,
    pub parts: usize,
    pub text: String,
    pub ids: Vec<String>,
}

/// What the server answered to something the centre sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub id: CommandId,
    pub status: CommandStatus,
    pub sequence: u32,
}

enum Order {
    Deliver(Box<DeliverSm>, oneshot::Sender<Answer>),
    Raw(Vec<u8>, u32, oneshot::Sender<Answer>),
    Drop,
}

/// A long message's parts so far: how many in all, and each part's bytes and id.
type Partial = (u8, Vec<Option<(Vec<u8>, String)>>);

#[derive(Default)]
struct State {
    binds: usize,
    bind_attempts: usize,
    refuse_binds: bool,
    bound: bool,
    submitted: Vec<Submitted>,
    /// Parts by (destination, reference): total and the parts so far.
    partial: HashMap<(String, u8), Partial>,
    drop_next_submit: bool,
    /// The link's next PDU hangs it: from then on it reads and answers nothing (a centre
    /// that hangs); the next connection answers again.
    silent: bool,
    next_id: u32,
    receipts_sent: usize,
}

/// The test SMS centre.
pub struct Smsc {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    orders: Arc<Mutex<Option<mpsc::Sender<Order>>>>,
}

fn ucs2(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn from_ucs2(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

impl Smsc {
    /// Listens on a free loopback port; serves one connection at a time.
    pub async fn start() -> Smsc {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let orders: Arc<Mutex<Option<mpsc::Sender<Order>>>> = Arc::new(Mutex::new(None));
        let (s, o) = (state.clone(), orders.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tx, rx) = mpsc::channel(16);
                *o.lock().unwrap() = Some(tx);
                serve(stream, s.clone(), rx).await;
                s.lock().unwrap().bound = false;
            }
        });
        Smsc {
            addr,
            state,
            orders,
        }
    }

    /// Refuses binds (ESME_RBINDFAIL) from now on, or takes them again.
    pub fn refuse_binds(&self, refuse: bool) {
        self.state.lock().unwrap().refuse_binds = refuse;
    }

    /// Waits until `n` binds were tried (taken or refused).
    pub async fn wait_bind_attempts(&self, n: usize) {
        for _ in 0..600 {
            if self.state.lock().unwrap().bind_attempts >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no bind attempt {n}");
    }

    /// Binds so far.
    pub fn binds(&self) -> usize {
        self.state.lock().unwrap().binds
    }

    /// Waits until the server is bound (for the `n`th time).
    pub async fn wait_bound(&self, n: usize) {
        for _ in 0..600 {
            {
                let s = self.state.lock().unwrap();
                if s.bound && s.binds >= n {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not bind (bind {n}) to the test SMS centre");
    }

    /// The messages submitted so far.
    pub fn submitted(&self) -> Vec<Submitted> {
        self.state.lock().unwrap().submitted.clone()
    }

    /// Waits for a submitted message satisfying `want`.
    pub async fn wait_submitted(&self, what: &str, want: impl Fn(&Submitted) -> bool) -> Submitted {
        for _ in 0..600 {
            if let Some(m) = self.submitted().into_iter().find(|m| want(m)) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no SMS {what} was submitted; got {:#?}", self.submitted());
    }

    /// The next submit_sm closes the link instead of being answered.
    pub fn drop_next_submit(&self) {
        self.state.lock().unwrap().drop_next_submit = true;
    }

    /// The current link hangs at its next PDU: read, never answered; the server's next
    /// connection is answered again.
    pub fn hang(&self) {
        self.state.lock().unwrap().silent = true;
    }

    /// Closes the link now.
    pub async fn drop_link(&self) {
        let tx = self.orders.lock().unwrap().clone();
        if let Some(tx) = tx {
            let _ = tx.send(Order::Drop).await;
        }
    }

    async fn order(&self, make: impl FnOnce(oneshot::Sender<Answer>) -> Order) -> Answer {
        let tx = self.orders.lock().unwrap().clone().expect("a connection");
        let (a, rx) = oneshot::channel();
        tx.send(make(a)).await.expect("connection alive");
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("the server answered")
            .expect("answer")
    }

    /// Delivers a message from a phone, in UCS-2, split into parts with an 8-bit UDH
    /// reference when longer than 70 characters; the server's answer to the last part.
    pub async fn deliver_from_phone(&self, from: &str, to: &str, text: &str) -> Answer {
        let units: Vec<char> = text.chars().collect();
        let chunks: Vec<String> = if units.len() <= 70 {
            vec![text.to_string()]
        } else {
            units.chunks(67).map(|c| c.iter().collect()).collect()
        };
        let total = chunks.len() as u8;
        let mut last = None;
        for (i, chunk) in chunks.iter().enumerate() {
            let mut body = Vec::new();
            let mut esm = 0u8;
            if total > 1 {
                body.extend_from_slice(&[5, 0, 3, 0x42, total, i as u8 + 1]);
                esm |= 0x40;
            }
            body.extend(ucs2(chunk));
            let pdu = DeliverSm::builder()
                .source_addr(COctetString::from_string(from.to_string()).unwrap())
                .destination_addr(COctetString::from_string(to.to_string()).unwrap())
                .esm_class(EsmClass::from(esm))
                .data_coding(DataCoding::Ucs2)
                .short_message(OctetString::from_vec(body).unwrap())
                .build();
            last = Some(self.order(|a| Order::Deliver(Box::new(pdu), a)).await);
        }
        last.unwrap()
    }

    /// Delivers a raw short message with the given esm_class and coding; the answer.
    pub async fn deliver_raw(
        &self,
        from: &str,
        esm: u8,
        coding: DataCoding,
        body: Vec<u8>,
    ) -> Answer {
        let pdu = DeliverSm::builder()
            .source_addr(COctetString::from_string(from.to_string()).unwrap())
            .destination_addr(COctetString::from_string("12345".into()).unwrap())
            .esm_class(EsmClass::from(esm))
            .data_coding(coding)
            .short_message(OctetString::from_vec(body).unwrap())
            .build();
        self.order(|a| Order::Deliver(Box::new(pdu), a)).await
    }

    /// Writes `bytes` as they are, and waits for the server's answer to `sequence`.
    pub async fn send_bytes(&self, bytes: Vec<u8>, sequence: u32) -> Answer {
        self.order(|a| Order::Raw(bytes, sequence, a)).await
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    state: Arc<Mutex<State>>,
    mut orders: mpsc::Receiver<Order>,
) {
    let mut link = Framed::new(stream, CommandCodec::new());
    let mut waiting: HashMap<u32, oneshot::Sender<Answer>> = HashMap::new();
    let mut seq = 1000u32;
    let mut hung = false;
    loop {
        tokio::select! {
            frame = link.next() => {
                let Some(Ok(command)) = frame else { return };
                if hung || std::mem::take(&mut state.lock().unwrap().silent) {
                    hung = true;
                    continue;
                }
                let n = command.sequence_number();
                match command.pdu() {
                    Some(Pdu::BindTransceiver(_)) => {
                        let refuse = {
                            let mut s = state.lock().unwrap();
                            s.bind_attempts += 1;
                            s.refuse_binds
                        };
                        if refuse {
                            let resp = BindTransceiverResp::builder()
                                .system_id(COctetString::from_string("testsmsc".into()).unwrap())
                                .build();
                            let _ = link.send(Command::new(CommandStatus::EsmeRbindfail, n, resp)).await;
                            return;
                        }
                        {
                            let mut s = state.lock().unwrap();
                            s.binds += 1;
                            s.bound = true;
                        }
                        let resp = BindTransceiverResp::builder()
                            .system_id(COctetString::from_string("testsmsc".into()).unwrap())
                            .build();
                        if link.send(Command::new(CommandStatus::EsmeRok, n, resp)).await.is_err() { return; }
                    }
                    Some(Pdu::SubmitSm(sm)) => {
                        let (drop_it, id) = {
                            let mut s = state.lock().unwrap();
                            s.next_id += 1;
                            (std::mem::take(&mut s.drop_next_submit), format!("m{}", s.next_id))
                        };
                        if drop_it {
                            return;
                        }
                        let resp = SubmitSmResp::builder().message_id(COctetString::from_string(id.clone()).unwrap()).build();
                        if link.send(Command::new(CommandStatus::EsmeRok, n, resp)).await.is_err() { return; }
                        keep_part(&state, sm, id.clone());
                        // The delivery receipt, as a handset's network reports it.
                        seq += 1;
                        let receipt = DeliverSm::builder()
                            .source_addr(COctetString::from_string(sm.destination_addr.to_string()).unwrap())
                            .destination_addr(COctetString::from_string(sm.source_addr.to_string()).unwrap())
                            .esm_class(EsmClass::from(0x04))
                            .short_message(OctetString::from_vec(format!("id:{id} sub:001 dlvrd:001 submit date:2612071000 done date:2612071000 stat:DELIVRD err:000 text:").into_bytes()).unwrap())
                            .build();
                        if link.send(Command::new(CommandStatus::EsmeRok, seq, receipt)).await.is_err() { return; }
                        state.lock().unwrap().receipts_sent += 1;
                    }
                    Some(Pdu::EnquireLink) => {
                        if link.send(Command::new(CommandStatus::EsmeRok, n, Pdu::EnquireLinkResp)).await.is_err() { return; }
                    }
                    Some(Pdu::Unbind) => {
                        let _ = link.send(Command::new(CommandStatus::EsmeRok, n, Pdu::UnbindResp)).await;
                        return;
                    }
                    _ => {
                        if let Some(a) = waiting.remove(&n) {
                            let _ = a.send(Answer { id: command.id(), status: command.status(), sequence: n });
                        }
                    }
                }
            }
            order = orders.recv() => match order {
                None | Some(Order::Drop) => return,
                Some(Order::Deliver(pdu, answer)) => {
                    seq += 1;
                    waiting.insert(seq, answer);
                    if link.send(Command::new(CommandStatus::EsmeRok, seq, *pdu)).await.is_err() { return; }
                }
                Some(Order::Raw(bytes, sequence, answer)) => {
                    waiting.insert(sequence, answer);
                    if link.get_mut().write_all(&bytes).await.is_err() { return; }
                }
            }
        }
    }
}

fn keep_part(state: &Arc<Mutex<State>>, sm: &rusmpp::pdus::SubmitSm, id: String) {
    let bytes: &[u8] = sm.short_message().as_ref();
    let coding = u8::from(sm.data_coding);
    let esm = u8::from(sm.esm_class);
    let source = sm.source_addr.to_string();
    let destination = sm.destination_addr.to_string();
    let mut s = state.lock().unwrap();
    if esm & 0x40 != 0 && bytes.len() >= 6 && bytes[1] == 0 {
        let (reference, total, number) = (bytes[3], bytes[4], bytes[5]);
        let body = bytes[6..].to_vec();
        let entry = s
            .partial
            .entry((destination.clone(), reference))
            .or_insert_with(|| (total, vec![None; total as usize]));
        entry.1[number as usize - 1] = Some((body, id));
        if entry.1.iter().all(Option::is_some) {
            let (_, parts) = s.partial.remove(&(destination.clone(), reference)).unwrap();
            let (mut all, mut ids) = (Vec::new(), Vec::new());
            for (b, i) in parts.into_iter().flatten() {
                all.extend(b);
                ids.push(i);
            }
            s.submitted.push(Submitted {
                source,
                destination,
                data_coding: coding,
                parts: ids.len(),
                text: from_ucs2(&all),
                ids,
            });
        }
    } else {
        let text = if coding == 8 {
            from_ucs2(bytes)
        } else {
            String::from_utf8_lossy(bytes).into()
        };
        s.submitted.push(Submitted {
            source,
            destination,
            data_coding: coding,
            parts: 1,
            text,
            ids: vec![id],
        });
    }
}
