//! One task per bind: connects, binds, drives a [`Session`] over the socket, reconnects.
//!
//! The loop, once per wake-up: hand the session's events to their owners, fill the window
//! from the queue (respecting pacing and any throttling pause), write everything the session
//! queued in one write, then sleep on whichever comes first: bytes from the SMSC, an ack from
//! the application, a new request (that branch is disabled while the queue is full, which is
//! the back-pressure `submit` feels), or the next deadline (session timer, pacer, throttle).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use smpp_codec::{Bind, Body, CommandStatus, Pdu, Tlvs};
use smpp_dlr::{
    correlate::Counters as CorrelationCounters, parse_receipt, CompactString, Correlator,
    MemoryStore, Outcome, ReceiptInput,
};
use smpp_session::{
    BindKind, BuildSeqHasher, CloseReason, Event, IncomingRequest, Role, SendError, Session,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::client::{BindStatus, Correlation, Incoming, IncomingEvent, Responder, Submitted};
use crate::config::EsmeConfig;
use crate::error::{Error, ErrorKind};
use crate::pace::Pacer;
use crate::pipeline::ToPipeline;

pub(crate) enum Command {
    Request { tag: u64, body: Box<Body>, tlvs: Tlvs, reply: Reply },
    Unbind { done: oneshot::Sender<()> },
}

/// Where a request's outcome goes. A submit gets only what [`Submitted`] needs, made here
/// from the response: the ~256-octet PDU then stops in the driver instead of being moved
/// into the oneshot and out again in the caller's task.
pub(crate) enum Reply {
    Pdu(oneshot::Sender<Result<Pdu, Error>>),
    Submitted(oneshot::Sender<Result<Submitted, Error>>),
    /// A [`crate::Pipeline`]'s submit: the result joins the pipeline's one stream.
    Pipeline(ToPipeline),
}

// A caller that stopped waiting is no error here: its result is dropped.
impl Reply {
    fn fail(self, error: Error) {
        match self {
            Reply::Pdu(tx) => {
                let _ = tx.send(Err(error));
            }
            Reply::Submitted(tx) => {
                let _ = tx.send(Err(error));
            }
            Reply::Pipeline(to) => to.send(Err(error)),
        }
    }
}

/// State shared by all binds of one account.
pub(crate) struct Shared {
    account: String,
    correlator: Mutex<Correlator<MemoryStore>>,
    status: watch::Sender<BindStatus>,
    incoming: mpsc::Sender<IncomingEvent>,
    incoming_taken: AtomicBool,
    warned_untaken: AtomicBool,
    shutdown: watch::Sender<bool>,
    live: AtomicUsize,
    all_closed: Notify,
}

impl Shared {
    pub(crate) fn new(
        account: String,
        correlator: Correlator<MemoryStore>,
        status: watch::Sender<BindStatus>,
        incoming: mpsc::Sender<IncomingEvent>,
    ) -> Self {
        Self {
            account,
            correlator: Mutex::new(correlator),
            status,
            incoming,
            incoming_taken: AtomicBool::new(false),
            warned_untaken: AtomicBool::new(false),
            shutdown: watch::channel(false).0,
            live: AtomicUsize::new(0),
            all_closed: Notify::new(),
        }
    }

    pub(crate) fn correlation_counters(&self) -> CorrelationCounters {
        self.correlator.lock().map(|c| c.counters()).unwrap_or_default()
    }

    pub(crate) fn mark_incoming_taken(&self) {
        self.incoming_taken.store(true, Ordering::Relaxed);
    }

    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub(crate) async fn wait_closed(&self) {
        loop {
            let notified = self.all_closed.notified();
            if self.live.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn with_correlator<R>(&self, f: impl FnOnce(&mut Correlator<MemoryStore>) -> R) -> R {
        let mut c = self.correlator.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut c)
    }
}

/// Live figures of one bind, written by its driver and read by [`crate::EsmeClient::binds`].
#[derive(Default)]
pub(crate) struct BindStats {
    /// Bound now: the handle routes requests to bound binds first.
    pub(crate) bound: AtomicBool,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) queued: AtomicUsize,
    pub(crate) throttled: AtomicBool,
    pub(crate) throttles: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
}

impl BindStats {
    fn set_error(&self, error: String) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(error);
        }
    }
}

struct Queued {
    /// Arrival order: retried PDUs go back in this order (multipart parts stay in sequence).
    order: u64,
    tag: u64,
    body: Box<Body>,
    tlvs: Tlvs,
    reply: Reply,
    /// When this driver took the request from the handle ([`Submitted::accepted_at`]).
    accepted_at: std::time::Instant,
}

/// How one connection ended.
enum Ended {
    /// The SMSC refused the bind.
    Refused(CommandStatus),
    /// Closed after being bound for this long (zero if it never bound).
    Lost(Duration),
    /// We unbound on purpose.
    Stopped,
}

pub(crate) struct Driver {
    index: usize,
    kind: BindKind,
    config: Arc<EsmeConfig>,
    cmds: mpsc::Receiver<Command>,
    cmds_closed: bool,
    shared: Arc<Shared>,
    pacer: Option<Pacer>,
    throttle_until: Option<Instant>,
    throttle_delay: Duration,
    queue: VecDeque<Queued>,
    inflight: HashMap<u64, Queued, BuildSeqHasher>,
    next_id: u64,
    arrivals: u64,
    stopping: bool,
    unbind_waiters: Vec<oneshot::Sender<()>>,
    stats: Arc<BindStats>,
    /// Events for the application, handed over after the session's events of one read are
    /// handled: the handling itself stays synchronous (no 272-octet event moved through a
    /// chain of futures per PDU), and back-pressure still stops the next read.
    outbox: VecDeque<IncomingEvent>,
    /// Commands taken from the channel in one go ([`Driver::take_ready_commands`]), kept
    /// for its allocation.
    intake: Vec<Command>,
}

impl Driver {
    pub(crate) fn new(
        index: usize,
        kind: BindKind,
        config: Arc<EsmeConfig>,
        cmds: mpsc::Receiver<Command>,
        shared: Arc<Shared>,
        tps: Option<f64>,
    ) -> Self {
        let throttle_delay = config.throttle_min;
        Self {
            index,
            kind,
            pacer: tps.and_then(|t| Pacer::new(t, 0)),
            config,
            cmds,
            cmds_closed: false,
            shared,
            throttle_until: None,
            throttle_delay,
            queue: VecDeque::new(),
            inflight: HashMap::default(),
            next_id: 0,
            arrivals: 0,
            stopping: false,
            unbind_waiters: Vec::new(),
            stats: Arc::default(),
            outbox: VecDeque::new(),
            intake: Vec::new(),
        }
    }

    /// Shares this bind's live figures with the handle.
    pub(crate) fn with_stats(mut self, stats: Arc<BindStats>) -> Self {
        self.stats = stats;
        self
    }

    pub(crate) async fn run(mut self) {
        self.shared.live.fetch_add(1, Ordering::AcqRel);
        let mut backoff = Backoff::new(self.config.backoff.clone());
        let mut shutdown = self.shared.shutdown.subscribe();
        while !self.stopping {
            let ended = self.connect_once().await;
            let delay = match ended {
                Ok(Ended::Stopped) => break,
                Ok(Ended::Refused(
                    s @ (CommandStatus::ESME_RINVPASWD | CommandStatus::ESME_RINVSYSID),
                )) => {
                    tracing::error!(bind = self.index, status = %s, "SMSC refused our credentials; retrying slowly");
                    self.stats.set_error(format!("bind refused: {s}"));
                    backoff.auth_failure_delay()
                }
                Ok(Ended::Refused(s)) => {
                    tracing::warn!(bind = self.index, status = %s, "bind refused");
                    self.stats.set_error(format!("bind refused: {s}"));
                    backoff.next_delay(fastrand::f64())
                }
                Ok(Ended::Lost(bound_for)) => {
                    backoff.bound_for(bound_for);
                    backoff.next_delay(fastrand::f64())
                }
                Err(e) => {
                    tracing::warn!(bind = self.index, error = %e, "connection failed");
                    self.stats.set_error(format!("connection failed: {e}"));
                    backoff.next_delay(fastrand::f64())
                }
            };
            if self.stopping || *shutdown.borrow() {
                break;
            }
            self.shared.status.send_modify(|s| s.reconnects += 1);
            self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => break,
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        for q in self.queue.drain(..) {
            q.reply.fail(Error::new(ErrorKind::Closed, "unbound before it was sent"));
        }
        self.cmds.close();
        while let Ok(cmd) = self.cmds.try_recv() {
            match cmd {
                Command::Request { reply, .. } => {
                    reply.fail(Error::new(ErrorKind::Closed, "unbound before it was sent"))
                }
                Command::Unbind { done } => self.unbind_waiters.push(done),
            }
        }
        for w in self.unbind_waiters.drain(..) {
            let _ = w.send(());
        }
        if self.shared.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.all_closed.notify_waiters();
        }
    }

    async fn connect_once(&mut self) -> Result<Ended, Error> {
        let addr = (self.config.host.as_str(), self.config.port);
        let tcp = tokio::time::timeout(self.config.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                Error::new(ErrorKind::Io(std::io::ErrorKind::TimedOut), "connect timed out")
            })??;
        tcp.set_nodelay(true)?;
        match &self.config.tls {
            None => self.drive(tcp).await,
            Some(tls) => {
                let (connector, name) = tls.connector(&self.config.host)?;
                let stream =
                    tokio::time::timeout(self.config.connect_timeout, connector.connect(name, tcp))
                        .await
                        .map_err(|_| Error::new(ErrorKind::Tls, "TLS handshake timed out"))?
                        .map_err(|e| Error::new(ErrorKind::Tls, e.to_string()))?;
                self.drive(stream).await
            }
        }
    }

    fn bind_body(&self) -> Bind {
        let c = &self.config;
        Bind {
            system_id: c.system_id.clone(),
            password: c.password.clone(),
            system_type: c.system_type.clone(),
            interface_version: Bind::V34,
            addr_ton: c.addr_ton,
            addr_npi: c.addr_npi,
            address_range: Default::default(),
        }
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        mut stream: S,
    ) -> Result<Ended, Error> {
        let mut session: Session<u64> =
            Session::new(Role::Esme, self.config.session.clone(), Instant::now().into_std());
        session
            .bind(Instant::now().into_std(), self.kind, self.bind_body())
            .map_err(|e| Error::new(ErrorKind::NotAllowed, e.to_string()))?;
        let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
        let mut shutdown = self.shared.shutdown.subscribe();
        let mut rbuf = BytesMut::with_capacity(64 * 1024);
        let mut wbuf = BytesMut::with_capacity(64 * 1024);
        let mut conn = Conn { bound_at: None, ended: None };
        // One timer for the whole connection, moved rather than rebuilt: a new `Sleep` per
        // turn of the loop registered and removed a timer-wheel entry (two driver locks) per
        // wake-up, and a deadline moved later (the usual case: the oldest request's response
        // timer) is an atomic store.
        let timer = tokio::time::sleep_until(Instant::now());
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        let mut after_read = false;
        let result = loop {
            let now = Instant::now();
            while let Some(ev) = session.poll_event() {
                self.on_event(ev, now, &ack_tx, &mut conn);
            }
            self.flush_outbox().await;
            if std::mem::take(&mut after_read) {
                // The responses and receipts just read woke the application: let it ack and
                // submit again first, so that one write carries the deliver_sm_resps and the
                // next submits instead of one system call (and one packet) for each.
                tokio::task::yield_now().await;
                self.take_acks(&mut session, &mut ack_rx);
                if !self.stopping && !self.cmds_closed {
                    self.take_ready_commands(std::time::Instant::now()).await;
                }
            }
            if conn.bound_at.is_some() {
                self.pump(&mut session, now);
                self.maybe_unbind(&mut session, now);
            }
            if session.poll_transmit(&mut wbuf) {
                if let Err(e) = stream.write_all(&wbuf).await {
                    session.handle_transport_closed();
                    wbuf.clear();
                    self.drain_events(&mut session, now, &ack_tx, &mut conn).await;
                    break Err(e.into());
                }
                wbuf.clear();
            }
            if let Some(ended) = conn.ended.take() {
                break Ok(ended);
            }
            let deadline = self.next_deadline(&session, now, conn.bound_at.is_some());
            if let Some(d) = deadline.filter(|d| armed != Some(*d)) {
                timer.as_mut().reset(d);
            }
            armed = deadline;
            let accept =
                !self.stopping && !self.cmds_closed && self.queue.len() < self.config.queue;
            self.stats.in_flight.store(self.inflight.len(), Ordering::Relaxed);
            self.stats.queued.store(self.queue.len(), Ordering::Relaxed);
            if rbuf.capacity() - rbuf.len() < 4096 {
                rbuf.reserve(64 * 1024);
            }
            tokio::select! {
                biased;
                r = stream.read_buf(&mut rbuf) => match r {
                    Ok(0) | Err(_) => session.handle_transport_closed(),
                    Ok(_) => {
                        session.handle_input(Instant::now().into_std(), &mut rbuf);
                        after_read = true;
                    }
                },
                Some((request, status)) = ack_rx.recv() => {
                    let now = Instant::now().into_std();
                    self.answer(&mut session, request, status, now);
                    // Let the application's other ready tasks ack too: one write for all.
                    tokio::task::yield_now().await;
                    self.take_acks(&mut session, &mut ack_rx);
                }
                cmd = self.cmds.recv(), if accept => {
                    self.take_command(cmd, std::time::Instant::now());
                    // The first sender woke us (and tokio runs the task woken last first):
                    // let the other ready senders queue theirs, so that one write carries
                    // them all instead of one system call per PDU.
                    tokio::task::yield_now().await;
                    self.take_ready_commands(std::time::Instant::now()).await;
                }
                _ = shutdown.changed(), if !self.stopping => self.stopping = true,
                () = &mut timer, if armed.is_some() => {
                    let now = Instant::now();
                    session.handle_timeout(now.into_std());
                    self.report_expired(now).await;
                }
            }
        };
        if conn.bound_at.is_some() {
            self.stats.bound.store(false, Ordering::Relaxed);
            self.shared.status.send_modify(|s| s.bound = s.bound.saturating_sub(1));
        }
        result
    }

    async fn drain_events(
        &mut self,
        session: &mut Session<u64>,
        now: Instant,
        ack_tx: &mpsc::UnboundedSender<(IncomingRequest, CommandStatus)>,
        conn: &mut Conn,
    ) {
        while let Some(ev) = session.poll_event() {
            self.on_event(ev, now, ack_tx, conn);
        }
        self.flush_outbox().await;
    }

    /// Takes what the handles have already sent, `now` being the time they are taken at. All
    /// in one go: the channel then gives its permits back in one release (one lock of its
    /// semaphore), not one per command as `try_recv` does. Never waits for a command.
    async fn take_ready_commands(&mut self, now: std::time::Instant) {
        let room = self.config.queue.saturating_sub(self.queue.len());
        if room == 0 {
            return;
        }
        let mut intake = std::mem::take(&mut self.intake);
        let cmds = &mut self.cmds;
        // Unconstrained: out of tokio's cooperative budget, a poll would answer Pending and
        // leave the ready commands for another write.
        tokio::task::unconstrained(std::future::poll_fn(|cx| {
            // Pending only registers this task's waker: nothing was ready.
            let _ = cmds.poll_recv_many(cx, &mut intake, room);
            std::task::Poll::Ready(())
        }))
        .await;
        for cmd in intake.drain(..) {
            self.take_command(Some(cmd), now);
        }
        self.intake = intake;
    }

    fn take_command(&mut self, cmd: Option<Command>, now: std::time::Instant) {
        match cmd {
            Some(Command::Request { tag, body, tlvs, reply }) => {
                self.arrivals += 1;
                let order = self.arrivals;
                self.queue.push_back(Queued { order, tag, body, tlvs, reply, accepted_at: now })
            }
            Some(Command::Unbind { done }) => {
                self.stopping = true;
                self.unbind_waiters.push(done);
            }
            None => {
                // Every handle is gone: finish what is queued, then unbind.
                self.cmds_closed = true;
                self.stopping = true;
            }
        }
    }

    fn maybe_unbind(&mut self, session: &mut Session<u64>, now: Instant) {
        if self.stopping && self.queue.is_empty() && session.state().is_bound() {
            // The session drains in-flight requests before the unbind goes out.
            let _ = session.unbind(now.into_std());
        }
    }

    fn next_deadline(&self, session: &Session<u64>, now: Instant, bound: bool) -> Option<Instant> {
        let timer = session.poll_timeout().map(Instant::from_std);
        let pump = if bound && !self.queue.is_empty() && session.window_available() > 0 {
            let throttle = self.throttle_until.unwrap_or(now);
            let pace =
                self.pacer.as_ref().map_or(now, |p| Instant::from_std(p.ready_at(now.into_std())));
            Some(throttle.max(pace))
        } else {
            None
        };
        let held = self.shared.with_correlator(|c| c.next_timeout()).map(Instant::from_std);
        [timer, pump, held].into_iter().flatten().min()
    }

    /// Moves queued requests into the window while pacing and throttling allow.
    fn pump(&mut self, session: &mut Session<u64>, now: Instant) {
        let std_now = now.into_std();
        while session.window_available() > 0 {
            if self.throttle_until.is_some_and(|t| t > now) {
                break;
            }
            if self.pacer.as_ref().is_some_and(|p| p.ready_at(std_now) > std_now) {
                break;
            }
            let Some(q) = self.queue.pop_front() else { break };
            let id = self.next_id;
            match session.send_request_ref(std_now, &q.body, &q.tlvs, id) {
                Ok(_) => {
                    self.next_id += 1;
                    if let Some(p) = self.pacer.as_mut() {
                        p.sent(std_now);
                    }
                    self.inflight.insert(id, q);
                }
                Err(SendError::WindowFull | SendError::Closing | SendError::Closed) => {
                    self.queue.push_front(q);
                    break;
                }
                Err(e) => {
                    q.reply.fail(Error::new(ErrorKind::NotAllowed, e.to_string()));
                }
            }
        }
    }

    /// Answers every ack the application has already sent.
    fn take_acks(
        &mut self,
        session: &mut Session<u64>,
        acks: &mut mpsc::UnboundedReceiver<(IncomingRequest, CommandStatus)>,
    ) {
        let mut now = None;
        while let Ok((request, status)) = acks.try_recv() {
            // The clock is read once, and only when there is something to answer: this runs
            // after every read.
            let now = *now.get_or_insert_with(std::time::Instant::now);
            self.answer(session, request, status, now);
        }
    }

    fn answer(
        &mut self,
        session: &mut Session<u64>,
        request: IncomingRequest,
        status: CommandStatus,
        now: std::time::Instant,
    ) {
        // deliver_sm_resp's message_id is unused (smpp34.md §4.6.2); data_sm_resp's too, for
        // a message that an ESME receives.
        let r = if status.is_ok() {
            session.respond_message_id(now, request, b"")
        } else {
            session.respond_error(now, request, status)
        };
        if let Err(e) = r {
            tracing::debug!(error = %e, "could not answer an incoming request (session closing)");
        }
    }

    fn on_event(
        &mut self,
        ev: Event<u64>,
        now: Instant,
        ack_tx: &mpsc::UnboundedSender<(IncomingRequest, CommandStatus)>,
        conn: &mut Conn,
    ) {
        match ev {
            Event::Bound { .. } => {
                conn.bound_at = Some(now);
                self.stats.bound.store(true, Ordering::Relaxed);
                self.shared.status.send_modify(|s| {
                    s.bound += 1;
                    s.last_refusal = None;
                });
                tracing::info!(bind = self.index, kind = ?self.kind, "bound");
            }
            Event::BindRefused { status } => {
                self.shared.status.send_modify(|s| s.last_refusal = Some(status));
                conn.ended = Some(Ended::Refused(status));
            }
            Event::Response { tag, pdu } => self.on_response(tag, pdu, now),
            Event::GenericNack { tag, status, .. } => {
                self.fail(tag, Error::new(ErrorKind::GenericNack(status), ""))
            }
            Event::MalformedResponse { tag, error, .. } => {
                self.fail(tag, Error::new(ErrorKind::MalformedResponse, error.to_string()))
            }
            Event::ResponseTimeout { tag, .. } => {
                self.fail(tag, Error::new(ErrorKind::Timeout, ""))
            }
            Event::Request { request, pdu } => self.on_incoming(request, pdu, now, ack_tx),
            Event::Closed { reason, unacked } => {
                for u in unacked {
                    self.fail(u.tag, Error::new(ErrorKind::ConnectionLost, format!("{reason:?}")));
                }
                let bound_for = conn.bound_at.map_or(Duration::ZERO, |t| now - t);
                if conn.ended.is_none() {
                    conn.ended = Some(match reason {
                        CloseReason::Unbound | CloseReason::Local if self.stopping => {
                            Ended::Stopped
                        }
                        _ => Ended::Lost(bound_for),
                    });
                }
                tracing::info!(bind = self.index, ?reason, "session closed");
                if !self.stopping {
                    self.stats.set_error(format!("session closed: {reason:?}"));
                }
            }
            Event::UnexpectedResponse { pdu } => {
                tracing::debug!(
                    seq = pdu.sequence_number,
                    "response matching no request (late or duplicate)"
                )
            }
            Event::PeerError { error } => {
                tracing::warn!(bind = self.index, %error, "peer sent a bad PDU")
            }
            _ => {}
        }
    }

    fn fail(&mut self, id: u64, error: Error) {
        if let Some(q) = self.inflight.remove(&id) {
            q.reply.fail(error);
        }
    }

    fn on_response(&mut self, id: u64, pdu: Box<Pdu>, now: Instant) {
        let Some(q) = self.inflight.remove(&id) else { return };
        let status = pdu.command_status;
        if matches!(status, CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL) {
            // Pause the whole bind and send the same PDU again first, so multipart order holds.
            // The rest of a full window is usually throttled too: one pause per episode, or
            // the delay would double once per PDU in flight.
            if !self.throttle_until.is_some_and(|t| t > now) {
                self.throttle_until = Some(now + self.throttle_delay);
                self.throttle_delay = (self.throttle_delay * 2).min(self.config.throttle_max);
            }
            self.stats.throttled.store(true, Ordering::Relaxed);
            self.stats.throttles.fetch_add(1, Ordering::Relaxed);
            let at = self.queue.iter().take_while(|x| x.order < q.order).count();
            self.queue.insert(at, q);
            return;
        }
        if !status.is_ok() {
            q.reply.fail(Error::new(ErrorKind::Status(status), ""));
            return;
        }
        self.throttle_delay = self.config.throttle_min;
        self.stats.throttled.store(false, Ordering::Relaxed);
        // Only a submit that asked for an SMSC receipt (smpp34.md §7.2, bits 1-0) waits for
        // one: the others would sit in the correlator until `pending_retention`.
        let receipt_requested =
            matches!(&*q.body, Body::SubmitSm(sm) if sm.registered_delivery & 0x03 != 0);
        // Read once, for the correlator and for the caller's `Submitted`.
        let id = match &pdu.body {
            Body::SubmitSmResp(Some(r)) => r.message_id.to_str_lossy(),
            _ => Cow::Borrowed(""),
        };
        if self.config.correlate && receipt_requested && !id.is_empty() {
            let outcomes = self.shared.with_correlator(|c| {
                c.record_submit(&self.shared.account, &id, q.tag, now.into_std())
            });
            self.settled(outcomes);
        }
        let submitted = || Submitted {
            message_id: CompactString::from(id),
            tag: q.tag,
            accepted_at: q.accepted_at,
            answered_at: now.into_std(),
        };
        match q.reply {
            Reply::Submitted(tx) => {
                let _ = tx.send(Ok(submitted()));
            }
            Reply::Pipeline(to) => to.send(Ok(submitted())),
            Reply::Pdu(tx) => {
                let _ = tx.send(Ok(*pdu));
            }
        }
    }

    fn on_incoming(
        &mut self,
        request: IncomingRequest,
        pdu: Box<Pdu>,
        now: Instant,
        ack_tx: &mpsc::UnboundedSender<(IncomingRequest, CommandStatus)>,
    ) {
        let receipt = receipt_of(&pdu);
        let (correlation, mut expired) = match &receipt {
            None => (None, Vec::new()),
            Some(_) if !self.config.correlate => (None, Vec::new()),
            Some(r) => self.shared.with_correlator(|c| {
                let outcome = c.handle_receipt(&self.shared.account, r.clone(), now.into_std());
                (Some(outcome), c.poll_expired(now.into_std()))
            }),
        };
        let correlation = correlation.map(|o| match o {
            Outcome::Matched(m) => Correlation::Matched(m),
            Outcome::Duplicate(m) => Correlation::Duplicate(m),
            Outcome::Early { evicted } => {
                expired.extend(evicted.map(Outcome::Unmatched));
                Correlation::Early
            }
            Outcome::Unmatched(u) => Correlation::Unmatched(u),
        });
        self.settled(expired);
        let responder = Responder { request: Some(request), tx: ack_tx.clone() };
        // Boxed once: the ~500-octet message (its PDU in the box the session decoded it into)
        // then moves as a pointer through the outbox, the channel and `ack`.
        let incoming = Box::new(Incoming::new(pdu, receipt, correlation, responder));
        if self.config.discard_incoming {
            incoming.ack();
        } else {
            // Buffered even before `incoming()` is taken: a receipt the SMSC had queued can
            // arrive right after the bind, before the application got round to taking it.
            self.outbox.push_back(IncomingEvent::Message(incoming));
        }
    }

    /// Held receipts whose time is up: matched late (a cross reading of the id, see
    /// [`smpp_dlr::Correlator::poll_expired`]) or reported unmatched, never dropped silently.
    async fn report_expired(&mut self, now: Instant) {
        let expired = self.shared.with_correlator(|c| c.poll_expired(now.into_std()));
        self.settled(expired);
        self.flush_outbox().await;
    }

    /// Queues what the correlator settled (late matches, receipts given up on) for the
    /// application.
    fn settled(&mut self, outcomes: Vec<Outcome>) {
        for o in outcomes {
            match o {
                Outcome::Matched(m) | Outcome::Duplicate(m) => {
                    self.outbox.push_back(IncomingEvent::LateMatch(m))
                }
                Outcome::Unmatched(u) => self.outbox.push_back(IncomingEvent::Unmatched(u)),
                Outcome::Early { .. } => {}
            }
        }
    }

    async fn flush_outbox(&mut self) {
        while let Some(ev) = self.outbox.pop_front() {
            self.emit(ev).await;
        }
    }

    async fn emit(&self, ev: IncomingEvent) {
        let shared = &self.shared;
        if self.config.discard_incoming {
            return;
        }
        // A send to a dropped receiver hands the event back; an unanswered message is then
        // refused with ESME_RX_T_APPN and the SMSC sends it again.
        let ev = match shared.incoming.try_send(ev) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => return,
            Err(mpsc::error::TrySendError::Full(ev)) => ev,
        };
        if !shared.incoming_taken.load(Ordering::Relaxed)
            && !shared.warned_untaken.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                account = %shared.account,
                "incoming buffer full and incoming() was never taken: reading from the SMSC \
                 paused (take incoming(), or configure discard_incoming)"
            );
        }
        // Back-pressure: while the application is behind, we stop reading the socket.
        let _ = shared.incoming.send(ev).await;
    }
}

struct Conn {
    bound_at: Option<Instant>,
    ended: Option<Ended>,
}

fn receipt_of(pdu: &Pdu) -> Option<smpp_dlr::Receipt> {
    let (esm, sm) = match &pdu.body {
        Body::DeliverSm(d) => (d.esm_class, d.short_message.as_bytes()),
        Body::DataSm(d) => (d.esm_class, &[][..]),
        _ => return None,
    };
    if !esm.is_delivery_receipt()
        && esm.message_type() != smpp_codec::EsmClass::INTERMEDIATE_NOTIFICATION
    {
        return None;
    }
    let input = ReceiptInput {
        short_message: sm,
        message_payload: pdu.tlvs.message_payload(),
        receipted_message_id: pdu.tlvs.receipted_message_id(),
        message_state: pdu.tlvs.message_state(),
        network_error_code: pdu.tlvs.network_error_code(),
    };
    match parse_receipt(&input) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "unreadable delivery receipt");
            None
        }
    }
}
