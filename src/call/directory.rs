//! The calls in progress, by Call-ID: the call manager files each new call here and hands it
//! its SIP events; the API asks a call for what it may ask (a transfer) through the typed
//! methods here, never through the call's internal signals.
//!
//! Each call's signals travel on a bounded channel ([`SIGNAL_QUEUE`]): a call that falls
//! behind (or a peer that floods one call with requests) cannot make the server's memory grow.
//! When a call's queue is full, a request in it is answered 503 (the peer retries, RFC 3261
//! §21.5.4) and anything else is dropped with a warning: responses and ACKs are retransmitted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::signal::{CallSignal, TransferTarget};
use crate::cases::workflow::Actor;
use crate::routing::TransferRefused;

/// Signals waiting for one call at most; a call handles one in microseconds.
pub const SIGNAL_QUEUE: usize = 64;

/// Sends a call its signals.
pub type SignalTx = mpsc::Sender<CallSignal>;
/// A call's end of its signal channel.
pub type SignalRx = mpsc::Receiver<CallSignal>;

/// A new call's signal channel.
pub fn signal_channel() -> (SignalTx, SignalRx) {
    mpsc::channel(SIGNAL_QUEUE)
}

/// Why a signal did not reach its call.
#[derive(Debug)]
pub enum Undelivered {
    /// The call's queue is full: the signal comes back.
    Full(CallSignal),
    /// The call has ended.
    Ended(CallSignal),
}

/// Passes `signal` to the call on `tx` without waiting.
pub fn deliver(tx: &SignalTx, signal: CallSignal) -> Result<(), Undelivered> {
    tx.try_send(signal).map_err(|e| match e {
        mpsc::error::TrySendError::Full(s) => Undelivered::Full(s),
        mpsc::error::TrySendError::Closed(s) => Undelivered::Ended(s),
    })
}

/// Why the API's transfer did not happen.
#[derive(Debug)]
pub enum TransferFailed {
    /// No call with that Call-ID is in progress.
    NoCall,
    /// The call is busy or ended before it took the request.
    NotTaken,
    /// The call refused it by the province's rule.
    Refused(TransferRefused),
    /// The call did not answer in time, or left the operator meanwhile.
    NoAnswer,
}

/// The callers' calls in progress (cheap to clone: one shared table).
#[derive(Clone, Default)]
pub struct CallDirectory {
    calls: Arc<Mutex<HashMap<String, SignalTx>>>,
}

impl CallDirectory {
    /// The table itself, for the call manager and a call's guard.
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<String, SignalTx>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many calls are in progress.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no call is in progress.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Asks the call `call_id` to hand its caller to `to` (a queue or a number), as `by`;
    /// waits up to 5 s for the call's answer.
    pub async fn transfer(
        &self,
        call_id: &str,
        to: &str,
        by: Actor,
    ) -> Result<TransferTarget, TransferFailed> {
        let tx = self.lock().get(call_id).cloned();
        let tx = tx.ok_or(TransferFailed::NoCall)?;
        let (reply, answer) = oneshot::channel();
        let signal = CallSignal::Transfer {
            to: to.to_string(),
            by,
            reply,
        };
        deliver(&tx, signal).map_err(|_| TransferFailed::NotTaken)?;
        match tokio::time::timeout(Duration::from_secs(5), answer).await {
            Ok(Ok(Ok(target))) => Ok(target),
            Ok(Ok(Err(refused))) => Err(TransferFailed::Refused(refused)),
            // The call left the operator meanwhile (hung up, or transferred already).
            _ => Err(TransferFailed::NoAnswer),
        }
    }
}

impl CallDirectory {
    /// Puts the caller of `call_id` on hold (`on`) or takes them back; Ok(whether on hold
    /// now), or why not.
    pub async fn hold(&self, call_id: &str, on: bool) -> Result<bool, HoldFailed> {
        let tx = self.lock().get(call_id).cloned();
        let tx = tx.ok_or(HoldFailed::NoCall)?;
        let (reply, answer) = oneshot::channel();
        deliver(&tx, CallSignal::Hold { on, reply }).map_err(|_| HoldFailed::NotTaken)?;
        match tokio::time::timeout(Duration::from_secs(5), answer).await {
            Ok(Ok(Ok(held))) => Ok(held),
            Ok(Ok(Err(why))) => Err(HoldFailed::Refused(why)),
            _ => Err(HoldFailed::NoAnswer),
        }
    }
}

impl CallDirectory {
    /// Asks the call `call_id` for something else (a hand-over, a consultation, monitoring),
    /// as `by`; waits up to 5 s for the call's answer: what was done, or why not.
    pub async fn request(
        &self,
        call_id: &str,
        request: super::signal::CallRequest,
        by: Actor,
    ) -> Result<&'static str, RequestFailed> {
        let tx = self.lock().get(call_id).cloned();
        let tx = tx.ok_or(RequestFailed::NoCall)?;
        let (reply, answer) = oneshot::channel();
        deliver(&tx, CallSignal::Request { request, by, reply })
            .map_err(|_| RequestFailed::NotTaken)?;
        match tokio::time::timeout(Duration::from_secs(5), answer).await {
            Ok(Ok(Ok(done))) => Ok(done),
            Ok(Ok(Err(why))) => Err(RequestFailed::Refused(why)),
            _ => Err(RequestFailed::NoAnswer),
        }
    }

    /// Takes over the colleague's leg of the seat-to-seat call `call_id` whose dialog has
    /// these tags (REFER with Replaces); None when there is no such call, or nothing to take.
    pub async fn take_over(
        &self,
        call_id: &str,
        from_tag: &str,
        to_tag: &str,
    ) -> Option<super::signal::TakenLeg> {
        let tx = self.lock().get(call_id).cloned()?;
        let (reply, answer) = oneshot::channel();
        let signal = CallSignal::TakeOver {
            from_tag: from_tag.to_string(),
            to_tag: to_tag.to_string(),
            reply,
        };
        deliver(&tx, signal).ok()?;
        tokio::time::timeout(Duration::from_secs(5), answer)
            .await
            .ok()?
            .ok()?
    }

    /// Who is in the call `call_id` now; None when no such call is in progress.
    pub async fn describe(&self, call_id: &str) -> Option<super::signal::CallDescription> {
        let tx = self.lock().get(call_id).cloned()?;
        let (reply, answer) = oneshot::channel();
        deliver(&tx, CallSignal::Describe { reply }).ok()?;
        tokio::time::timeout(Duration::from_secs(5), answer)
            .await
            .ok()?
            .ok()
    }
}

/// Why the API's request did not happen.
#[derive(Debug)]
pub enum RequestFailed {
    /// No call with that Call-ID is in progress.
    NoCall,
    /// The call is busy or ended before it took the request.
    NotTaken,
    /// The call refused it, and why.
    Refused(String),
    /// The call did not answer in time, or is not at a point where it can.
    NoAnswer,
}

/// Why the API's hold did not happen.
#[derive(Debug)]
pub enum HoldFailed {
    /// No call with that Call-ID is in progress.
    NoCall,
    /// The call is busy or ended before it took the request.
    NotTaken,
    /// The call cannot be held now, and why.
    Refused(&'static str),
    /// The call is not talking with an operator.
    NoAnswer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_hands_the_signal_back_and_an_ended_call_too() {
        let (tx, rx) = signal_channel();
        for _ in 0..SIGNAL_QUEUE {
            deliver(&tx, CallSignal::Ack).expect("room");
        }
        assert!(matches!(
            deliver(&tx, CallSignal::Cancel),
            Err(Undelivered::Full(CallSignal::Cancel))
        ));
        drop(rx);
        assert!(matches!(
            deliver(&tx, CallSignal::Timeout),
            Err(Undelivered::Ended(CallSignal::Timeout))
        ));
    }

    #[tokio::test]
    async fn a_transfer_finds_no_call_or_a_busy_one() {
        let directory = CallDirectory::default();
        let by = || Actor {
            role: crate::cases::Role::Operator,
            id: "1101".into(),
            unit: None,
        };
        assert!(matches!(
            directory.transfer("nope", "530000", by()).await,
            Err(TransferFailed::NoCall)
        ));
        let (tx, _rx) = signal_channel();
        for _ in 0..SIGNAL_QUEUE {
            deliver(&tx, CallSignal::Ack).expect("room");
        }
        directory.lock().insert("busy".into(), tx);
        assert!(matches!(
            directory.transfer("busy", "530000", by()).await,
            Err(TransferFailed::NotTaken)
        ));
        assert_eq!(directory.len(), 1);
    }
}
