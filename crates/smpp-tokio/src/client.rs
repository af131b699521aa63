//! The ESME handle and what it hands the application.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use smpp_codec::{Body, CancelSm, CommandStatus, DataSm, Pdu, QuerySm, ReplaceSm, SubmitSm, Tlvs};
use smpp_dlr::correlate::{Counters as CorrelationCounters, Matched, Unmatched};
use smpp_dlr::{CompactString, Correlator, MemoryStore, Receipt};
use smpp_session::{BindKind, IncomingRequest};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{BindMode, EsmeConfig};
use crate::driver::{BindStats, Command, Driver, Reply, Shared};
use crate::error::{Error, ErrorKind};
use crate::pipeline::Pipeline;

/// The state of the account's binds, as the handle sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindStatus {
    /// Binds currently bound.
    pub bound: usize,
    /// Reconnects so far (all binds).
    pub reconnects: u64,
    /// The last bind refusal, if the SMSC refused (e.g. ESME_RINVPASWD).
    pub last_refusal: Option<CommandStatus>,
}

/// One bind's live state ([`EsmeClient::binds`]).
#[derive(Clone, Debug, PartialEq)]
pub struct BindInfo {
    /// Position among the account's binds.
    pub index: usize,
    /// `transmitter`, `receiver` or `transceiver`.
    pub kind: &'static str,
    /// Bound now.
    pub bound: bool,
    /// Requests written and waiting for their response (window occupancy).
    pub in_flight: usize,
    /// The window size.
    pub window: usize,
    /// Requests queued in the driver, not yet written.
    pub queued: usize,
    /// This bind's share of the account's TPS.
    pub tps: Option<f64>,
    /// Paused after ESME_RTHROTTLED / ESME_RMSGQFUL, until the next accepted submit.
    pub throttled: bool,
    /// Throttling responses so far.
    pub throttles: u64,
    /// Reconnects so far.
    pub reconnects: u64,
    /// The last connection error or refusal.
    pub last_error: Option<String>,
}

pub(crate) fn closed() -> Error {
    Error::new(ErrorKind::Closed, "the connection task has stopped")
}

/// A successful submit: the SMSC's message_id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The id the SMSC gave (receipts refer to it); inline, without an allocation, up to
    /// 24 octets.
    pub message_id: CompactString,
    /// The tag the receipt will carry back ([`Matched::tag`]).
    pub tag: u64,
    /// When the bind's driver took the request from the handle, on its way to the window.
    pub accepted_at: std::time::Instant,
    /// When the driver read the response. `answered_at - accepted_at` is the response
    /// latency with the wait for a window slot, measured without a clock read per submit:
    /// both are the driver's reading for its whole batch, exact to a few microseconds.
    pub answered_at: std::time::Instant,
}

/// Something the SMSC sent us: an MO message or a receipt, or a correlation result that
/// became known later.
///
/// Every variant is boxed, so an event is two words: it moves through the driver's outbox and
/// the channel once per receipt.
#[derive(Debug)]
#[non_exhaustive]
pub enum IncomingEvent {
    /// A deliver_sm or data_sm. Answer it with [`Incoming::ack`] once you have stored it.
    Message(Box<Incoming>),
    /// A receipt that arrived before its submit_sm_resp was matched when the resp came.
    LateMatch(Box<Matched>),
    /// A held receipt found no submit within the early-receipt timeout (never silently
    /// dropped).
    Unmatched(Box<Unmatched>),
}

/// An incoming deliver_sm / data_sm. The SMSC waits for our response: it is sent when you
/// call [`Incoming::ack`] (or [`Incoming::reject`]), so a crash before you stored the message
/// leaves it with the SMSC, which will send it again. Dropping it unanswered responds
/// ESME_RX_T_APPN (temporary error: the SMSC retries later).
#[derive(Debug)]
pub struct Incoming {
    /// The PDU, in the box the session decoded it into (moved as a pointer, not copied).
    pub pdu: Box<Pdu>,
    /// The parsed receipt, when esm_class marks one (smpp34.md §9).
    pub receipt: Option<Receipt>,
    /// The receipt's correlation result, when it matched a submit.
    pub correlation: Option<Correlation>,
    responder: Responder,
}

/// How a receipt related to our submits.
#[derive(Debug, Clone)]
pub enum Correlation {
    /// First final (or interim) receipt for a submit.
    Matched(Box<Matched>),
    /// A receipt for a submit already finalised.
    Duplicate(Box<Matched>),
    /// Held until its submit_sm_resp arrives (then an [`IncomingEvent::LateMatch`] follows),
    /// or reported as [`IncomingEvent::Unmatched`].
    Early,
    /// No submit will ever match it (e.g. no id in it).
    Unmatched(Box<Unmatched>),
}

#[derive(Debug)]
pub(crate) struct Responder {
    pub(crate) request: Option<IncomingRequest>,
    pub(crate) tx: mpsc::UnboundedSender<(IncomingRequest, CommandStatus)>,
}

impl Responder {
    fn send(&mut self, status: CommandStatus) {
        if let Some(r) = self.request.take() {
            // The driver is gone when the connection closed: the SMSC will resend.
            let _ = self.tx.send((r, status));
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.send(CommandStatus::ESME_RX_T_APPN);
    }
}

impl Incoming {
    pub(crate) fn new(
        pdu: Box<Pdu>,
        receipt: Option<Receipt>,
        correlation: Option<Correlation>,
        responder: Responder,
    ) -> Self {
        Self { pdu, receipt, correlation, responder }
    }

    /// Answers ESME_ROK: we have the message. Takes the box it came in
    /// ([`IncomingEvent::Message`]): the ~500-octet message is dropped where it is, not first
    /// moved out onto the stack.
    pub fn ack(mut self: Box<Self>) {
        self.responder.send(CommandStatus::ESME_ROK);
    }

    /// Answers with an error status (ESME_RX_P_APPN to refuse for good, ESME_RX_T_APPN to have
    /// the SMSC retry).
    pub fn reject(mut self: Box<Self>, status: CommandStatus) {
        self.responder.send(status);
    }
}

/// Handle to one SMSC account's binds. Cheap to clone; every clone submits through the same
/// binds. Dropping the last handle unbinds (without draining; use [`EsmeClient::unbind`]).
#[derive(Clone)]
pub struct EsmeClient {
    inner: Arc<Inner>,
}

struct Inner {
    senders: Vec<mpsc::Sender<Command>>,
    /// Each sender's live figures; `bound` routes requests to bound binds first, so one
    /// bind the SMSC keeps refusing (over its bind limit, say) does not hold requests back.
    sender_stats: Vec<Arc<BindStats>>,
    /// Every bind's figures (receivers too), with its kind, for [`EsmeClient::binds`].
    all_stats: Vec<(BindKind, Arc<BindStats>)>,
    window: usize,
    per_bind_tps: Option<f64>,
    _receivers: Vec<mpsc::Sender<Command>>,
    next_bind: AtomicUsize,
    next_tag: AtomicU64,
    status: watch::Receiver<BindStatus>,
    incoming: Mutex<Option<mpsc::Receiver<IncomingEvent>>>,
    shared: Arc<Shared>,
}

/// Drives the account's binds: spawn it (`tokio::spawn(connection)`). It resolves when the
/// client has unbound or every handle was dropped.
pub struct Connection {
    fut: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Future for Connection {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.fut.as_mut().poll(cx)
    }
}

/// Creates the client and its driver. Nothing connects until the [`Connection`] is spawned;
/// wait for [`EsmeClient::ready`] before relying on a bind.
///
/// ```no_run
/// # async fn f() -> Result<(), smpp_tokio::Error> {
/// use smpp_codec::{COctetString, ShortMessage, SubmitSm, Tlvs};
/// let config = smpp_tokio::EsmeConfig::new("127.0.0.1", 2775, "ISSUER01", "secret")?;
/// let (client, connection) = smpp_tokio::connect(config)?;
/// tokio::spawn(connection);
/// client.ready().await?;
/// let sm = SubmitSm {
///     destination_addr: COctetString::from_static("819012345678"),
///     registered_delivery: 1,
///     short_message: ShortMessage::new(&b"hello"[..]).unwrap(),
///     ..Default::default()
/// };
/// let submitted = client.submit(sm, Tlvs::new()).await?;
/// println!("message_id {}", submitted.message_id);
/// # Ok(()) }
/// ```
pub fn connect(config: EsmeConfig) -> Result<(EsmeClient, Connection), Error> {
    if let Some(tls) = &config.tls {
        tls.connector(&config.host)?; // fail fast on a bad CA file or name
    }
    let kinds: Vec<BindKind> = match config.bind_mode {
        BindMode::Transceiver => vec![BindKind::Transceiver; config.binds],
        BindMode::Transmitter => vec![BindKind::Transmitter; config.binds],
        BindMode::Receiver => vec![BindKind::Receiver; config.binds],
        BindMode::TransmitterReceiver => {
            (0..config.binds).flat_map(|_| [BindKind::Transmitter, BindKind::Receiver]).collect()
        }
    };
    let transmitting = kinds.iter().filter(|k| !matches!(k, BindKind::Receiver)).count();
    let per_bind_tps = config.tps.map(|t| t / transmitting.max(1) as f64);
    if let Some(t) = per_bind_tps {
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::config(format!("tps {:?}: must be a positive number", config.tps)));
        }
    }
    let (status_tx, status_rx) = watch::channel(BindStatus::default());
    let (incoming_tx, incoming_rx) = mpsc::channel(config.incoming_capacity);
    let correlator = Correlator::new(MemoryStore::default(), config.correlation.clone());
    let shared = Arc::new(Shared::new(config.account(), correlator, status_tx, incoming_tx));
    let config = Arc::new(config);
    let mut senders = Vec::new();
    let mut sender_stats = Vec::new();
    let mut all_stats = Vec::new();
    let mut receivers = Vec::new();
    let mut drivers = Vec::new();
    for (index, kind) in kinds.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel(config.queue);
        // A receiver takes no requests, but its channel closing is how every driver learns
        // that the last handle was dropped, so the handle keeps its sender too.
        let stats = Arc::new(BindStats::default());
        all_stats.push((kind, stats.clone()));
        if kind == BindKind::Receiver {
            receivers.push(tx);
        } else {
            senders.push(tx);
            sender_stats.push(stats.clone());
        }
        let driver = Driver::new(index, kind, config.clone(), rx, shared.clone(), per_bind_tps);
        drivers.push(driver.with_stats(stats));
    }
    let fut = async move {
        let mut set = tokio::task::JoinSet::new();
        for d in drivers {
            set.spawn(d.run());
        }
        while set.join_next().await.is_some() {}
    };
    let inner = Inner {
        senders,
        sender_stats,
        all_stats,
        window: config.session.get_window(),
        per_bind_tps,
        _receivers: receivers,
        next_bind: AtomicUsize::new(0),
        next_tag: AtomicU64::new(1),
        status: status_rx,
        incoming: Mutex::new(Some(incoming_rx)),
        shared,
    };
    Ok((EsmeClient { inner: Arc::new(inner) }, Connection { fut: Box::pin(fut) }))
}

impl EsmeClient {
    /// Waits until at least one bind is bound. Fails when the SMSC refuses the credentials
    /// (the driver keeps retrying slowly; the error says why).
    pub async fn ready(&self) -> Result<(), Error> {
        let mut rx = self.inner.status.clone();
        loop {
            {
                let s = rx.borrow_and_update();
                if s.bound > 0 {
                    return Ok(());
                }
                if let Some(
                    status @ (CommandStatus::ESME_RINVPASWD | CommandStatus::ESME_RINVSYSID),
                ) = s.last_refusal
                {
                    return Err(Error::new(
                        ErrorKind::BindRefused(status),
                        "check system_id and password",
                    ));
                }
            }
            rx.changed().await.map_err(|_| Error::new(ErrorKind::Closed, "driver stopped"))?;
        }
    }

    /// The binds' state.
    pub fn status(&self) -> BindStatus {
        self.inner.status.borrow().clone()
    }

    /// Receipt correlation counters (matched, early, duplicate, unmatched, evicted).
    pub fn correlation_counters(&self) -> CorrelationCounters {
        self.inner.shared.correlation_counters()
    }

    /// Takes the stream of incoming messages and receipts (once; later calls get `None`).
    /// Read it promptly: when its buffer is full the receiver stops reading from the SMSC.
    /// Messages that arrive before it is taken wait in the buffer, so none is lost to the
    /// race between the first bind and this call. Once taken and then dropped, messages are
    /// refused with ESME_RX_T_APPN so the SMSC sends them again later; a client that only
    /// sends sets [`EsmeConfig::discard_incoming`] instead.
    pub fn incoming(&self) -> Option<mpsc::Receiver<IncomingEvent>> {
        let rx = self.inner.incoming.lock().ok()?.take()?;
        self.inner.shared.mark_incoming_taken();
        Some(rx)
    }

    /// A fresh tag for [`EsmeClient::submit_tagged`].
    pub fn next_tag(&self) -> u64 {
        self.inner.next_tag.fetch_add(1, Ordering::Relaxed)
    }

    /// Submits a message; resolves when the SMSC accepted it. ESME_RTHROTTLED and
    /// ESME_RMSGQFUL are not errors here: the bind pauses and the same PDU is sent again, in
    /// order. Waits (back-pressure) while the bind's queue is full.
    ///
    /// Cancel safety: dropping the future before it resolves does not recall a PDU already
    /// written; its response is then discarded.
    pub fn submit(
        &self,
        sm: SubmitSm,
        tlvs: Tlvs,
    ) -> impl Future<Output = Result<Submitted, Error>> + '_ {
        // Not an `async fn`: it would wrap the submit_tagged future in one more, moved and
        // polled through on every submit.
        self.submit_tagged(self.next_tag(), sm, tlvs)
    }

    /// [`EsmeClient::submit`] with the caller's tag, which comes back on the receipt's
    /// correlation ([`Matched::tag`]).
    pub fn submit_tagged(
        &self,
        tag: u64,
        sm: SubmitSm,
        tlvs: Tlvs,
    ) -> impl Future<Output = Result<Submitted, Error>> + '_ {
        self.call(tag, Box::new(Body::SubmitSm(sm)), tlvs, Reply::Submitted)
    }

    /// A [`Pipeline`] over this client's binds: many submits in flight from one task, with
    /// one stream of results instead of a future per submit.
    pub fn pipeline(&self) -> Pipeline {
        Pipeline::new(self.clone())
    }

    /// data_sm; resolves to the data_sm_resp.
    pub async fn data_sm(&self, dsm: DataSm, tlvs: Tlvs) -> Result<Pdu, Error> {
        self.request(Body::DataSm(dsm), tlvs).await
    }

    /// query_sm; resolves to the query_sm_resp.
    pub async fn query_sm(&self, q: QuerySm) -> Result<Pdu, Error> {
        self.request(Body::QuerySm(q), Tlvs::new()).await
    }

    /// cancel_sm; resolves to the cancel_sm_resp.
    pub async fn cancel_sm(&self, c: CancelSm) -> Result<Pdu, Error> {
        self.request(Body::CancelSm(c), Tlvs::new()).await
    }

    /// replace_sm; resolves to the replace_sm_resp.
    pub async fn replace_sm(&self, r: ReplaceSm) -> Result<Pdu, Error> {
        self.request(Body::ReplaceSm(r), Tlvs::new()).await
    }

    /// Any request; resolves to its response (ESME_ROK) or an error.
    pub async fn request(&self, body: Body, tlvs: Tlvs) -> Result<Pdu, Error> {
        self.request_tagged(self.next_tag(), body, tlvs).await
    }

    /// Submits the parts of one long message on one bind, in order (smpp34.md §12: parts
    /// of a concatenated message should travel together; carriers reassemble per bind more
    /// reliably, and a throttle retry keeps their order). Resolves when every part has its
    /// response; one result per part, in order. The tags come back on receipts.
    pub async fn submit_group(
        &self,
        parts: Vec<(u64, SubmitSm, Tlvs)>,
    ) -> Vec<Result<Submitted, Error>> {
        let sender = match self.pick_sender() {
            Ok(s) => s,
            Err(e) => return parts.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut waits = Vec::with_capacity(parts.len());
        for (tag, sm, tlvs) in parts {
            let (reply, rx) = oneshot::channel();
            let reply = Reply::Submitted(reply);
            let cmd = Command::Request { tag, body: Box::new(Body::SubmitSm(sm)), tlvs, reply };
            let sent = sender.send(cmd).await.map_err(|_| closed());
            waits.push(sent.map(|_| rx));
        }
        let mut out = Vec::with_capacity(waits.len());
        for wait in waits {
            out.push(match wait {
                Ok(rx) => rx.await.map_err(|_| closed()).and_then(|r| r),
                Err(e) => Err(e),
            });
        }
        out
    }

    /// Every bind's live state: bound, window occupancy, queue, throttling, last error.
    pub fn binds(&self) -> Vec<BindInfo> {
        let tps = self.inner.per_bind_tps;
        self.inner
            .all_stats
            .iter()
            .enumerate()
            .map(|(index, (kind, s))| BindInfo {
                index,
                kind: match kind {
                    BindKind::Transmitter => "transmitter",
                    BindKind::Receiver => "receiver",
                    BindKind::Transceiver => "transceiver",
                },
                bound: s.bound.load(Ordering::Relaxed),
                in_flight: s.in_flight.load(Ordering::Relaxed),
                window: self.inner.window,
                queued: s.queued.load(Ordering::Relaxed),
                tps: if *kind == BindKind::Receiver { None } else { tps },
                throttled: s.throttled.load(Ordering::Relaxed),
                throttles: s.throttles.load(Ordering::Relaxed),
                reconnects: s.reconnects.load(Ordering::Relaxed),
                last_error: s.last_error.lock().ok().and_then(|e| e.clone()),
            })
            .collect()
    }

    pub(crate) fn pick_sender(&self) -> Result<&mpsc::Sender<Command>, Error> {
        let senders = &self.inner.senders;
        if senders.is_empty() {
            return Err(Error::new(ErrorKind::NotAllowed, "a receiver-only client cannot send"));
        }
        let start = self.inner.next_bind.fetch_add(1, Ordering::Relaxed);
        let n = senders.len();
        let i = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.inner.sender_stats[i].bound.load(Ordering::Relaxed))
            .unwrap_or(start % n);
        Ok(&senders[i])
    }

    fn request_tagged(
        &self,
        tag: u64,
        body: Body,
        tlvs: Tlvs,
    ) -> impl Future<Output = Result<Pdu, Error>> + '_ {
        self.call(tag, Box::new(body), tlvs, Reply::Pdu)
    }

    /// Queues a request and waits for its result, which the driver makes from the response
    /// as `reply` says: one future per request, not one per layer of the API (each layer is
    /// moved and polled through on every submit). The body comes boxed, so the request
    /// moves as a pointer through the channel and the driver's queue and window instead of
    /// as ~220 octets at each step.
    async fn call<R>(
        &self,
        tag: u64,
        body: Box<Body>,
        tlvs: Tlvs,
        reply: fn(oneshot::Sender<Result<R, Error>>) -> Reply,
    ) -> Result<R, Error> {
        let sender = self.pick_sender()?;
        let (tx, rx) = oneshot::channel();
        let reply = reply(tx);
        // A free slot is taken at once; only a full queue makes the caller wait (back-pressure).
        match sender.try_send(Command::Request { tag, body, tlvs, reply }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(command)) => {
                sender.send(command).await.map_err(|_| closed())?
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(closed()),
        }
        rx.await.map_err(|_| closed())?
    }

    /// Graceful unbind: every bind sends what is queued, waits for all responses, then
    /// unbinds and stops reconnecting. Resolves when every bind is closed.
    pub async fn unbind(&self) {
        self.inner.shared.begin_shutdown();
        let mut waits = Vec::new();
        for s in &self.inner.senders {
            let (done, rx) = oneshot::channel();
            if s.send(Command::Unbind { done }).await.is_ok() {
                waits.push(rx);
            }
        }
        for w in waits {
            let _ = w.await;
        }
        self.inner.shared.wait_closed().await;
    }
}
