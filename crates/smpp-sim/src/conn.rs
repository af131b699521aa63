//! One task per connection: drives a `smpp_session::Session` in the SMSC role over a TCP or
//! TLS stream, and plays the carrier's part for it.
//!
//! ```text
//!   socket ──read──▶ rbuf ──handle_input──▶ Session ──poll_event──▶ on_request / on_bound / ...
//!   socket ◀──write── wbuf ◀──poll_transmit── Session ◀── respond / accept_bind / send_request
//!   carrier ──ConnCmd (deliver_sm, faults)──▶ this task
//! ```
//!
//! Reading and writing run side by side in one `select!`, so a peer that does not read cannot
//! stop us reading its responses (and a full write buffer pauses reading, not the task).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use smpp_codec::{
    encode_reply, Body, COctetString, CommandId, CommandStatus as S, DataSmResp, DestAddress, Pdu,
    QuerySmResp, Reply, SubmitMultiResp, SubmitSmResp, Tlvs, UnsuccessSme, UnsuccessSmes,
};
use smpp_session::{BuildSeqHasher, Event, IncomingRequest, Role, Session, SessionConfig, State};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::carrier::{
    Account, Carrier, ConnCmd, ConnId, Delivery, DeliveryKind, HandsetMsg, MsgMeta, PartIn,
    PartOutcome,
};
use crate::msgid::{IdText, MessageId};
use crate::receipt::{self, Addr, Preview};
use crate::stats::Counters;
use crate::time::{smpp_absolute, unix_now};
use crate::validate::{self, Checked, Fields};

/// Stop reading while this much is waiting to be written.
const WRITE_HIGH_WATER: usize = 1 << 20;
/// Read buffer reserve per read.
const READ_CHUNK: usize = 64 * 1024;
/// Room for the message_ids of this many responses at a time in [`Conn::id_buf`].
const ID_BUF_IDS: usize = 256;
/// PDUs decoded from one read before their answers are written: a window of submits is
/// answered in slices, so the ESME works on the first resps while the rest are made,
/// instead of the two taking turns. 32 since both got cheaper per message: fewer system
/// calls per cycle than 16 for the same overlap (A/B in docs/benchmarks.md).
const INPUT_SLICE: usize = 32;
/// Commands (mostly deliveries) handled per wake-up before the connection reads or writes
/// again: all that is queued, within this bound, so a busy carrier cannot starve the socket.
const CMD_BATCH: usize = 256;

/// A response held back (delay fault, or an early receipt that must arrive first).
// Respond is nearly every entry; boxing its body would cost an allocation per response.
#[allow(clippy::large_enum_variant)]
enum Delayed {
    Respond { req: IncomingRequest, status: S, body: Option<Body> },
    Accept { req: IncomingRequest },
    Reject { req: IncomingRequest, status: S },
}

pub(crate) struct Conn {
    carrier: Arc<Carrier>,
    id: ConnId,
    tx: UnboundedSender<ConnCmd>,
    rx: UnboundedReceiver<ConnCmd>,
    session: Session<u64>,
    account: Option<Arc<Account>>,
    /// The bind counted against the account's max_binds (accepted, maybe not yet answered).
    bind_held: bool,
    /// Event::Bound came.
    bound: bool,
    /// Registered as a receiver of the account (RX or TRX).
    receiver: bool,
    /// deliver_sm sent and awaiting deliver_sm_resp, by session tag. The tags count up from
    /// `next_tag`: one multiply spreads them (SipHash was 2% of the simulator's instructions).
    inflight: HashMap<u64, Box<Delivery>, BuildSeqHasher>,
    next_tag: u64,
    /// deliver_sm waiting for a window slot.
    outq: VecDeque<Box<Delivery>>,
    delayed: BTreeMap<(Instant, u64), Delayed>,
    delayed_seq: u64,
    hang_until: Option<Instant>,
    wbuf: BytesMut,
    /// Where the message_ids of responses are rendered, each split off as it is made.
    id_buf: BytesMut,
    /// Sequence numbers for PDUs written around the session (malformed-PDU fault).
    raw_seq: u32,
    /// Receipts of messages settled at once (receipt delay 0), sent after the responses of
    /// the slice being answered. Boxed like every delivery: they travel as a pointer.
    #[allow(clippy::vec_box)]
    due_receipts: Vec<Box<Delivery>>,
    /// The wall-clock second of the events being handled, read once per slice with its
    /// `Instant` (`drain_events`): two reads per submit were 3% of the simulator's time.
    unix: i64,
    /// Messages delivered at once in the slice being handled, filed in the inbox in one go
    /// before its receipts leave ([`Carrier::finalize_then`]).
    delivered: Vec<Arc<HandsetMsg>>,
}

/// Serves one accepted connection until it closes.
pub(crate) async fn serve<S>(carrier: Arc<Carrier>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (tx, rx) = unbounded_channel();
    let id = carrier.register_conn(tx.clone());
    let mut cfg = SessionConfig::default();
    let s = &carrier.cfg.session;
    let ms = |v: u64| (v > 0).then(|| Duration::from_millis(v));
    cfg.window(s.window)
        .response_timeout(Duration::from_millis(s.response_timeout_ms))
        .enquire_link_interval(ms(s.enquire_link_ms))
        .session_init_timeout(ms(s.session_init_timeout_ms));
    let mut conn = Conn {
        session: Session::new(Role::Smsc, cfg, Instant::now()),
        carrier,
        id,
        tx,
        rx,
        account: None,
        bind_held: false,
        bound: false,
        receiver: false,
        inflight: HashMap::default(),
        next_tag: 0,
        outq: VecDeque::new(),
        delayed: BTreeMap::new(),
        delayed_seq: 0,
        hang_until: None,
        wbuf: BytesMut::with_capacity(16 * 1024),
        id_buf: BytesMut::new(),
        raw_seq: 0x7FFF_0000,
        due_receipts: Vec::new(),
        unix: unix_now(),
        delivered: Vec::new(),
    };
    conn.run(stream).await;
    conn.cleanup();
}

impl Conn {
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: S) {
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
        let far = Duration::from_secs(3600);
        let mut more_input = false;
        loop {
            self.session.poll_transmit(&mut self.wbuf);
            if self.session.is_closed() {
                break;
            }
            let now = Instant::now();
            let hanging = self.hang_until.is_some_and(|t| t > now);
            if !hanging {
                self.hang_until = None;
                if !self.outq.is_empty() {
                    // Deliveries held during a hang.
                    self.flush_outq(now);
                    self.session.poll_transmit(&mut self.wbuf);
                }
            }
            let mut deadline = if hanging { self.hang_until.expect("hanging") } else { now + far };
            if !hanging {
                if let Some(t) = self.session.poll_timeout() {
                    deadline = deadline.min(t);
                }
                if let Some((t, _)) = self.delayed.keys().next() {
                    deadline = deadline.min(*t);
                }
            }
            if more_input && !hanging && self.wbuf.is_empty() {
                // The answers to the last slice are on the wire: decode the next one.
                more_input = self.session.resume_input(Instant::now(), INPUT_SLICE);
                self.drain_events();
                continue;
            }
            let can_write = !hanging && !self.wbuf.is_empty();
            let can_read = !hanging && !more_input && self.wbuf.len() < WRITE_HIGH_WATER;
            if can_read && rbuf.capacity() - rbuf.len() < READ_CHUNK / 16 {
                // Frames are slices of this buffer; a new one is allocated only when little
                // room is left, not per read.
                rbuf.reserve(READ_CHUNK);
            }
            tokio::select! {
                cmd = self.rx.recv() => {
                    // The carrier holds a sender for as long as we are registered.
                    let Some(cmd) = cmd else { break };
                    if self.on_cmds(cmd) {
                        break;
                    }
                }
                r = wr.write(&self.wbuf), if can_write => match r {
                    Ok(n) if n > 0 => self.wbuf.advance(n),
                    _ => {
                        self.session.handle_transport_closed();
                    }
                },
                r = rd.read_buf(&mut rbuf), if can_read => match r {
                    Ok(n) if n > 0 => {
                        more_input = self.session.handle_input_bounded(Instant::now(), &mut rbuf, INPUT_SLICE);
                    }
                    _ => self.session.handle_transport_closed(),
                },
                _ = tokio::time::sleep_until(deadline.into()) => {
                    if !hanging {
                        let now = Instant::now();
                        self.session.handle_timeout(now);
                        self.fire_delayed(now);
                    }
                }
            }
            self.drain_events();
        }
        // Flush what is left (a final unbind_resp or generic_nack), briefly.
        self.session.poll_transmit(&mut self.wbuf);
        if !self.wbuf.is_empty() {
            let _ = tokio::time::timeout(Duration::from_secs(1), wr.write_all(&self.wbuf)).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), wr.shutdown()).await;
    }

    /// Handles `first` and up to [`CMD_BATCH`] commands already queued behind it (receipts
    /// come one command each), with one clock read. Returns true to drop the connection now.
    fn on_cmds(&mut self, first: ConnCmd) -> bool {
        let now = Instant::now();
        let mut next = Some(first);
        let mut left = CMD_BATCH;
        while let Some(cmd) = next {
            // A Hang in the batch holds the deliveries behind it.
            let hanging = self.hang_until.is_some_and(|t| t > now);
            if self.on_cmd(now, cmd, hanging) {
                return true;
            }
            left -= 1;
            next = if left > 0 { self.rx.try_recv().ok() } else { None };
        }
        false
    }

    /// Returns true to drop the connection now.
    fn on_cmd(&mut self, now: Instant, cmd: ConnCmd, hanging: bool) -> bool {
        match cmd {
            ConnCmd::Deliver(d) => {
                if hanging {
                    self.outq.push_back(d);
                } else {
                    self.deliver(now, d);
                }
            }
            ConnCmd::Drop => return true,
            ConnCmd::Unbind => {
                let _ = self.session.unbind(now);
            }
            ConnCmd::Hang(until) => self.hang_until = Some(until),
            ConnCmd::Malformed(kind) => {
                self.session.poll_transmit(&mut self.wbuf);
                self.raw_seq = self.raw_seq.wrapping_add(1).max(0x7FFF_0000);
                self.wbuf.extend_from_slice(&kind.bytes(self.raw_seq));
                Counters::inc(&self.carrier.stats.malformed_sent);
            }
        }
        false
    }

    fn drain_events(&mut self) {
        // One clock read for the slice of events: they were decoded within microseconds.
        let now = Instant::now();
        self.unix = unix_now();
        // Borrowed by the handlers below beside `&mut self`: one reference count per slice,
        // not one per handler per submit.
        let carrier = Arc::clone(&self.carrier);
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Request { request, pdu } => self.on_request(&carrier, now, request, pdu),
                Event::Bound { state, .. } => self.on_bound(now, state),
                Event::Response { tag, pdu } => {
                    self.on_delivery_answer(now, tag, Some(pdu.command_status))
                }
                Event::GenericNack { tag, .. }
                | Event::MalformedResponse { tag, .. }
                | Event::ResponseTimeout { tag, .. } => self.on_delivery_answer(now, tag, None),
                Event::WindowAvailable => self.flush_outq(now),
                Event::PeerError { .. } => Counters::inc(&self.carrier.stats.peer_errors),
                Event::Closed { unacked, .. } => {
                    for u in unacked {
                        if let Some(d) = self.inflight.remove(&u.tag) {
                            self.carrier.reroute(d);
                        }
                    }
                }
                _ => {}
            }
        }
        if !self.delivered.is_empty() {
            self.carrier.inbox.push_all(self.delivered.drain(..), self.unix);
        }
        if !self.due_receipts.is_empty() {
            self.send_due_receipts(now);
        }
    }

    /// Receipts due at once leave behind the responses just queued, in the same write: this
    /// transceiver takes its own account's, as a real SMSC answering on the bind it was
    /// submitted on; anything else goes through the carrier's routing. Before, the engine
    /// routed them on its next turn, and every W=1 cycle cost the simulator two writes and
    /// the ESME two wake-ups.
    fn send_due_receipts(&mut self, now: Instant) {
        let mut due = std::mem::take(&mut self.due_receipts);
        for d in due.drain(..) {
            self.deliver_here_or_route(now, d);
        }
        self.due_receipts = due;
    }

    /// A receipt made on this connection goes out on it when it is a receiver of the
    /// receipt's account (as a real SMSC answers on the bind it was submitted on); anything
    /// else through the carrier's routing. True when it went out here.
    fn deliver_here_or_route(&mut self, now: Instant, d: Box<Delivery>) -> bool {
        let here =
            self.receiver && self.account.as_ref().is_some_and(|a| Arc::ptr_eq(&d.account, a));
        if here {
            self.deliver(now, d);
        } else {
            self.carrier.route(d);
        }
        here
    }

    // ------------------------------------------------------------- deliver_sm out

    fn deliver(&mut self, now: Instant, d: Box<Delivery>) {
        let state = self.session.state();
        if !matches!(state, State::BoundRx | State::BoundTrx) {
            // Unbinding or closing: let another receiver have it.
            self.carrier.reroute(d);
            return;
        }
        // Through the queue, so that order holds when the window was full.
        self.outq.push_back(d);
        self.flush_outq(now);
    }

    fn send_delivery(&mut self, now: Instant, d: Box<Delivery>) {
        let tag = self.next_tag;
        self.next_tag += 1;
        match self.session.send_request_ref(now, &d.body, &d.tlvs, tag) {
            Ok(_) => {
                let c = &self.carrier.stats;
                Counters::inc(if d.kind == DeliveryKind::Receipt {
                    &c.receipts_sent
                } else {
                    &c.mo_sent
                });
                self.inflight.insert(tag, d);
            }
            Err(smpp_session::SendError::WindowFull) => self.outq.push_front(d),
            Err(_) => self.carrier.reroute(d),
        }
    }

    fn flush_outq(&mut self, now: Instant) {
        while self.session.window_available() > 0
            && matches!(self.session.state(), State::BoundRx | State::BoundTrx)
        {
            let Some(d) = self.outq.pop_front() else { break };
            self.send_delivery(now, d);
        }
    }

    /// deliver_sm_resp (`Some(status)`), or generic_nack / garbage / timeout (`None`).
    fn on_delivery_answer(&mut self, now: Instant, tag: u64, status: Option<S>) {
        let Some(d) = self.inflight.remove(&tag) else { return };
        let c = &self.carrier.stats;
        match status {
            Some(s) if s.is_ok() => {
                Counters::inc(if d.kind == DeliveryKind::Receipt {
                    &c.receipts_acked
                } else {
                    &c.mo_acked
                });
            }
            // A permanent refusal by the ESME's application: do not insist.
            Some(S::ESME_RX_P_APPN) | Some(S::ESME_RX_R_APPN) => Counters::inc(&c.receipts_dropped),
            _ => self.carrier.retry(d),
        }
        self.flush_outq(now);
    }

    // ------------------------------------------------------------- responses

    fn respond(
        &mut self,
        now: Instant,
        req: IncomingRequest,
        status: S,
        body: Option<Body>,
        extra: Duration,
    ) {
        if !status.is_ok() {
            self.carrier.stats.error(status);
        }
        let delay = self.carrier.faults.response_delay() + extra;
        if delay.is_zero() {
            self.respond_now(now, req, status, body);
        } else {
            self.delay(now + delay, Delayed::Respond { req, status, body });
        }
    }

    /// Answers an accepted submit_sm or data_sm with the message's id. Unless the answer is
    /// delayed or a quirk changes it, the id goes straight from its rendering to the output,
    /// with no body built for it: this is every submit of a busy bind.
    fn respond_accepted(
        &mut self,
        now: Instant,
        req: IncomingRequest,
        id: MessageId,
        extra: Duration,
    ) {
        let immediate = (self.carrier.faults.response_delay() + extra).is_zero();
        if immediate && !self.carrier.cfg.quirks.bodiless_success {
            let text = self.carrier.ids.resp(id);
            let _ = self.session.respond_message_id(now, req, text.as_bytes());
            return;
        }
        let message_id = self.response_id(id);
        let body = match req.command_id {
            CommandId::DATA_SM => Body::DataSmResp(Some(DataSmResp { message_id })),
            _ => Body::SubmitSmResp(Some(SubmitSmResp { message_id })),
        };
        self.respond(now, req, S::ESME_ROK, Some(body), extra)
    }

    fn respond_now(&mut self, now: Instant, req: IncomingRequest, status: S, body: Option<Body>) {
        let q = &self.carrier.cfg.quirks;
        let id_resp = matches!(req.command_id, CommandId::SUBMIT_SM | CommandId::DATA_SM);
        let _ = match body {
            Some(_) if status.is_ok() && id_resp && q.bodiless_success => {
                self.session.respond_error(now, req, status)
            }
            Some(b) if status.is_ok() => self.session.respond(now, req, status, b, Tlvs::new()),
            _ if !status.is_ok() && q.error_response_body => match empty_body(req.command_id) {
                Some(b) => self.session.respond(now, req, status, b, Tlvs::new()),
                None => self.session.respond_error(now, req, status),
            },
            _ => self.session.respond_error(now, req, status),
        };
    }

    /// `id` as a response's message_id. Ids share a buffer, so that they cost an allocation per
    /// few hundred responses instead of one each.
    fn response_id<const N: usize>(&mut self, id: MessageId) -> COctetString<N> {
        let text = self.carrier.ids.resp(id);
        let text = text.as_bytes();
        if self.id_buf.capacity() - self.id_buf.len() < text.len() {
            self.id_buf = BytesMut::with_capacity(ID_BUF_IDS * IdText::MAX);
        }
        self.id_buf.extend_from_slice(text);
        COctetString::new(self.id_buf.split().freeze()).unwrap_or_default()
    }

    fn delay(&mut self, due: Instant, d: Delayed) {
        self.delayed_seq += 1;
        self.delayed.insert((due, self.delayed_seq), d);
    }

    fn fire_delayed(&mut self, now: Instant) {
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Delayed::Respond { req, status, body } => self.respond_now(now, req, status, body),
                Delayed::Accept { req } => self.accept_now(now, req),
                Delayed::Reject { req, status } => {
                    let _ = self.session.reject_bind(now, req, status);
                }
            }
        }
    }

    // ------------------------------------------------------------- requests

    fn on_request(&mut self, c: &Carrier, now: Instant, req: IncomingRequest, pdu: Box<Pdu>) {
        match pdu.command_id() {
            CommandId::BIND_TRANSMITTER
            | CommandId::BIND_RECEIVER
            | CommandId::BIND_TRANSCEIVER => return self.on_bind(now, req, *pdu),
            _ => {}
        }
        if let Some(status) = c.faults.take_generic_nack() {
            self.session.poll_transmit(&mut self.wbuf);
            encode_reply(
                &Reply {
                    command_id: CommandId::GENERIC_NACK,
                    command_status: status,
                    sequence_number: req.sequence_number,
                },
                &mut self.wbuf,
            );
            Counters::inc(&c.stats.generic_nacks_sent);
            return;
        }
        let Some(acct) = self.account.clone() else {
            // The session only lets requests through once bound.
            return self.respond(now, req, S::ESME_RINVBNDSTS, None, Duration::ZERO);
        };
        let is_submit = matches!(
            pdu.command_id(),
            CommandId::SUBMIT_SM | CommandId::DATA_SM | CommandId::SUBMIT_MULTI
        );
        if is_submit {
            if c.faults.take_queue_full() {
                return self.respond(now, req, S::ESME_RMSGQFUL, None, Duration::ZERO);
            }
            if !acct.take_token(now) {
                return self.respond(now, req, S::ESME_RTHROTTLED, None, Duration::ZERO);
            }
        }
        let tlvs = &pdu.tlvs;
        match &pdu.body {
            Body::SubmitSm(sm) => {
                let f = Fields {
                    source_ton: sm.source_addr_ton,
                    source_npi: sm.source_addr_npi,
                    source: sm.source_addr.as_bytes(),
                    esm_class: sm.esm_class,
                    priority_flag: sm.priority_flag,
                    registered_delivery: sm.registered_delivery,
                    replace_if_present: sm.replace_if_present_flag,
                    data_coding: sm.data_coding,
                    sm_default_msg_id: sm.sm_default_msg_id,
                    short_message: sm.short_message.as_bytes(),
                    schedule: &sm.schedule_delivery_time,
                    validity: &sm.validity_period,
                    tlvs,
                    is_data_sm: false,
                };
                let source = Addr {
                    ton: sm.source_addr_ton,
                    npi: sm.source_addr_npi,
                    addr: sm.source_addr.clone(),
                };
                let dest = Addr {
                    ton: sm.dest_addr_ton,
                    npi: sm.dest_addr_npi,
                    addr: sm.destination_addr.clone(),
                };
                match self.accept_message(c, now, &acct, &f, source, dest) {
                    Ok((id, extra)) => self.respond_accepted(now, req, id, extra),
                    Err(status) => self.respond(now, req, status, None, Duration::ZERO),
                }
            }
            Body::DataSm(ds) => {
                let (Ok(src), Ok(dst)) = (
                    COctetString::<21>::copy_from_slice(ds.source_addr.as_bytes()),
                    COctetString::<21>::copy_from_slice(ds.destination_addr.as_bytes()),
                ) else {
                    let status = if ds.source_addr.len() > 20 {
                        S::ESME_RINVSRCADR
                    } else {
                        S::ESME_RINVDSTADR
                    };
                    return self.respond(now, req, status, None, Duration::ZERO);
                };
                let empty = smpp_codec::Time::empty();
                let f = Fields {
                    source_ton: ds.source_addr_ton,
                    source_npi: ds.source_addr_npi,
                    source: ds.source_addr.as_bytes(),
                    esm_class: ds.esm_class,
                    priority_flag: 0,
                    registered_delivery: ds.registered_delivery,
                    replace_if_present: 0,
                    data_coding: ds.data_coding,
                    sm_default_msg_id: 0,
                    short_message: &[],
                    schedule: &empty,
                    validity: &empty,
                    tlvs,
                    is_data_sm: true,
                };
                let source = Addr { ton: ds.source_addr_ton, npi: ds.source_addr_npi, addr: src };
                let dest = Addr { ton: ds.dest_addr_ton, npi: ds.dest_addr_npi, addr: dst };
                match self.accept_message(c, now, &acct, &f, source, dest) {
                    Ok((id, extra)) => self.respond_accepted(now, req, id, extra),
                    Err(status) => self.respond(now, req, status, None, Duration::ZERO),
                }
            }
            Body::SubmitMulti(m) => self.on_submit_multi(c, now, req, &acct, m, tlvs),
            Body::QuerySm(q) => {
                let id = c.ids.parse(q.message_id.to_str().unwrap_or(""));
                match id.and_then(|id| c.store.query(id, acct.name())) {
                    Some((state, final_unix, err)) => {
                        Counters::inc(&c.stats.queries);
                        let final_date = final_unix
                            .map(|t| cstr::<17>(&smpp_absolute(t, c.cfg.utc_offset_minutes)))
                            .unwrap_or_default();
                        let body = Body::QuerySmResp(Some(QuerySmResp {
                            message_id: q.message_id.clone(),
                            final_date,
                            message_state: state.message_state(),
                            error_code: err.min(255) as u8,
                        }));
                        self.respond(now, req, S::ESME_ROK, Some(body), Duration::ZERO)
                    }
                    None => self.respond(now, req, S::ESME_RQUERYFAIL, None, Duration::ZERO),
                }
            }
            Body::CancelSm(cs) => {
                let id = cs.message_id.to_str().unwrap_or("");
                let ok = if id.is_empty() {
                    let src = cs.source_addr.to_str().unwrap_or("");
                    let dst = cs.destination_addr.to_str().unwrap_or("");
                    let n = c.store.cancel_matching(acct.name(), src, dst, self.unix);
                    Counters::add(&c.stats.cancels, n as u64);
                    n > 0
                } else {
                    let r = c
                        .ids
                        .parse(id)
                        .is_some_and(|id| c.store.cancel(id, acct.name(), self.unix).is_ok());
                    if r {
                        Counters::inc(&c.stats.cancels);
                    }
                    r
                };
                if ok {
                    self.respond(now, req, S::ESME_ROK, Some(Body::CancelSmResp), Duration::ZERO)
                } else {
                    self.respond(now, req, S::ESME_RCANCELFAIL, None, Duration::ZERO)
                }
            }
            Body::ReplaceSm(rs) => {
                let id = c.ids.parse(rs.message_id.to_str().unwrap_or(""));
                let text = smpp_sms::reassembly::decode_text(0x08, rs.short_message.as_bytes())
                    .unwrap_or_default();
                let rd = rs.registered_delivery;
                match id.map(|id| c.store.replace(id, acct.name(), text, rd)) {
                    Some(Ok(())) => {
                        Counters::inc(&c.stats.replaces);
                        self.respond(
                            now,
                            req,
                            S::ESME_ROK,
                            Some(Body::ReplaceSmResp),
                            Duration::ZERO,
                        )
                    }
                    _ => self.respond(now, req, S::ESME_RREPLACEFAIL, None, Duration::ZERO),
                }
            }
            // deliver_sm from an ESME and the like: the session refuses what is out of
            // place; anything else has no meaning here.
            _ => self.respond(now, req, S::ESME_RINVCMDID, None, Duration::ZERO),
        }
    }

    fn on_submit_multi(
        &mut self,
        c: &Carrier,
        now: Instant,
        req: IncomingRequest,
        acct: &Arc<Account>,
        m: &smpp_codec::SubmitMulti,
        tlvs: &Tlvs,
    ) {
        let f = Fields {
            source_ton: m.source_addr_ton,
            source_npi: m.source_addr_npi,
            source: m.source_addr.as_bytes(),
            esm_class: m.esm_class,
            priority_flag: m.priority_flag,
            registered_delivery: m.registered_delivery,
            replace_if_present: m.replace_if_present_flag,
            data_coding: m.data_coding,
            sm_default_msg_id: m.sm_default_msg_id,
            short_message: m.short_message.as_bytes(),
            schedule: &m.schedule_delivery_time,
            validity: &m.validity_period,
            tlvs,
            is_data_sm: false,
        };
        let checked = match validate::check(&f, &c.cfg.validation, c.max_chars, self.unix) {
            Ok(ch) => ch,
            Err(status) => return self.respond(now, req, status, None, Duration::ZERO),
        };
        let source =
            Addr { ton: m.source_addr_ton, npi: m.source_addr_npi, addr: m.source_addr.clone() };
        let id = c.ids.next();
        let mut failed = Vec::new();
        let mut first = true;
        for dest in m.dest_addresses.as_slice() {
            let status = match dest {
                DestAddress::DistributionList { .. } => Err(S::ESME_RCNTSUBDL),
                DestAddress::Sme { dest_addr_ton, dest_addr_npi, destination_addr } => {
                    let dst = Addr {
                        ton: *dest_addr_ton,
                        npi: *dest_addr_npi,
                        addr: destination_addr.clone(),
                    };
                    self.check_dest(&dst).map(|()| dst)
                }
            };
            match status {
                Ok(dst) => {
                    // Every destination is its own handset message under the one id; the store
                    // keeps the first (query_sm answers for it).
                    self.accept_checked(c, now, acct, &f, &checked, source.clone(), dst, id, first);
                    first = false;
                }
                Err(s) => {
                    if let DestAddress::Sme { dest_addr_ton, dest_addr_npi, destination_addr } =
                        dest
                    {
                        failed.push(UnsuccessSme {
                            dest_addr_ton: *dest_addr_ton,
                            dest_addr_npi: *dest_addr_npi,
                            destination_addr: destination_addr.clone(),
                            error_status_code: s,
                        });
                    }
                }
            }
        }
        if first {
            // Not one destination was accepted.
            let status = failed.first().map_or(S::ESME_RINVDSTADR, |u| u.error_status_code);
            return self.respond(now, req, status, None, Duration::ZERO);
        }
        Counters::inc(&c.stats.submits);
        let unsuccess_smes = UnsuccessSmes::new(failed).unwrap_or_default();
        let body = Body::SubmitMultiResp(Some(SubmitMultiResp {
            message_id: self.response_id(id),
            unsuccess_smes,
        }));
        self.respond(now, req, S::ESME_ROK, Some(body), Duration::ZERO)
    }

    /// Destination checks of every submit: address format, then number ownership (MNP).
    fn check_dest(&self, dest: &Addr) -> Result<(), S> {
        validate::check_destination(dest.ton, dest.npi, dest.addr.as_bytes())?;
        if self.carrier.ported_away(dest).is_some() {
            return Err(self.carrier.cfg.mnp_status);
        }
        Ok(())
    }

    /// submit_sm and data_sm: validates, stores, assembles and schedules; returns the
    /// message_id and how long to hold the response (for a receipt sent before it).
    fn accept_message(
        &mut self,
        c: &Carrier,
        now: Instant,
        acct: &Arc<Account>,
        f: &Fields<'_>,
        source: Addr,
        dest: Addr,
    ) -> Result<(MessageId, Duration), S> {
        let checked = validate::check(f, &c.cfg.validation, c.max_chars, self.unix)?;
        self.check_dest(&dest)?;
        let result = if let Some(ci) = checked.concat.filter(|ci| ci.total > 1) {
            self.accept_part(c, now, acct, f, &checked, source, dest, ci)
        } else {
            let id = c.ids.next();
            let extra = self.accept_checked(c, now, acct, f, &checked, source, dest, id, true);
            Ok((id, extra))
        };
        if result.is_ok() {
            Counters::inc(&c.stats.submits);
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn meta(
        &self,
        acct: &Arc<Account>,
        id: MessageId,
        source: &Addr,
        dest: &Addr,
        rd: u8,
        submit_unix: i64,
        preview: Preview,
    ) -> Arc<MsgMeta> {
        Arc::new(MsgMeta {
            id,
            account: acct.clone(),
            origin: self.id,
            source: source.into(),
            dest: dest.into(),
            submit_unix,
            registered_delivery: rd,
            preview,
        })
    }

    /// One part of a concatenated message (UDH or SAR, smpp34.md §10).
    #[allow(clippy::too_many_arguments)]
    fn accept_part(
        &mut self,
        c: &Carrier,
        now: Instant,
        acct: &Arc<Account>,
        f: &Fields<'_>,
        checked: &Checked<'_>,
        source: Addr,
        dest: Addr,
        ci: validate::ConcatInfo,
    ) -> Result<(MessageId, Duration), S> {
        let preview = receipt::preview_of(f.data_coding, checked.body);
        let part = PartIn {
            account: acct.name(),
            source: source.as_str(),
            dest: dest.as_str(),
            kind: ci.kind,
            reference: ci.reference,
            total: ci.total,
            seq: ci.seq,
            data_coding: f.data_coding,
            chars: checked.chars,
            body: Bytes::copy_from_slice(checked.body),
        };
        let make = || {
            let meta = self.meta(
                acct,
                c.ids.next(),
                &source,
                &dest,
                f.registered_delivery,
                checked.submit_unix,
                preview,
            );
            c.store.insert(meta.clone());
            meta
        };
        match c.assembler.add(part, c.cfg.concat.max_parts, c.max_chars, now, make)? {
            PartOutcome::Pending(meta) => Ok((meta.id, Duration::ZERO)),
            PartOutcome::Complete { this, parts, raw, data_coding, chars } => {
                let answer = this.id;
                let segments = parts.len() as u32;
                let billable = smpp_sms::billable_count_for(checked.encoding, chars, &c.profile);
                let msg = HandsetMsg { body: raw.into(), parts, data_coding, segments, billable };
                Counters::inc(&c.stats.messages);
                Counters::add(&c.stats.parts, u64::from(segments));
                Counters::add(&c.stats.billable_segments, u64::from(billable));
                let fate = c.decide(&dest, checked.schedule, checked.validity);
                c.schedule(Arc::new(msg), &fate, now);
                Ok((answer, Duration::ZERO))
            }
        }
    }

    /// A whole message (single, or a message_payload the carrier splits): stores it, decides
    /// its fate, and sends its receipt at once when it is one of the early ones. Returns how
    /// long to hold the response.
    #[allow(clippy::too_many_arguments)]
    fn accept_checked(
        &mut self,
        c: &Carrier,
        now: Instant,
        acct: &Arc<Account>,
        f: &Fields<'_>,
        checked: &Checked<'_>,
        source: Addr,
        dest: Addr,
        id: MessageId,
        store: bool,
    ) -> Duration {
        let preview = receipt::preview_of(f.data_coding, checked.body);
        let meta = self.meta(
            acct,
            id,
            &source,
            &dest,
            f.registered_delivery,
            checked.submit_unix,
            preview,
        );
        if store {
            c.store.insert(meta.clone());
        }
        let single = c.profile.single_capacity(checked.encoding);
        let segments = if checked.chars <= single {
            1
        } else {
            checked.chars.div_ceil(c.profile.part_capacity(checked.encoding).max(1)) as u32
        };
        let billable = smpp_sms::billable_count_for(checked.encoding, checked.chars, &c.profile);
        Counters::inc(&c.stats.messages);
        Counters::add(&c.stats.parts, u64::from(segments));
        Counters::add(&c.stats.billable_segments, u64::from(billable));
        let msg = Arc::new(HandsetMsg {
            parts: vec![meta],
            body: checked.body.into(),
            data_coding: f.data_coding,
            segments,
            billable,
        });
        let fate = c.decide(&dest, checked.schedule, checked.validity);
        let r = &c.cfg.receipts;
        let early = r.early_fraction > 0.0
            && fate.intermediates.is_empty()
            && checked.schedule.is_zero()
            && fate.stat.wanted_by(f.registered_delivery)
            && fastrand::f64() < r.early_fraction;
        if !early {
            if fate.delay.is_zero() && fate.intermediates.is_empty() {
                // Due at once: settled here, not through the engine's queue; the receipts
                // follow this slice's responses (`send_due_receipts`).
                let (due, delivered) = (&mut self.due_receipts, &mut self.delivered);
                let (stat, err) = (fate.stat, fate.err);
                c.finalize_then(msg, stat, err, self.unix, |m| delivered.push(m), |d| due.push(d));
            } else {
                c.schedule(msg, &fate, now);
            }
            return Duration::ZERO;
        }
        // The race of smpp34.md §9.3: the receipt is on the wire before the submit_sm_resp.
        let mut extra = Duration::ZERO;
        c.finalize(&msg, fate.stat, fate.err, self.unix, |d| {
            // On this transceiver it is written ahead of the response in the same batch;
            // routed elsewhere, the response waits a little so the receipt can get ahead.
            if !self.deliver_here_or_route(now, d) {
                extra = Duration::from_millis(r.early_resp_delay_ms);
            }
        });
        extra
    }

    // ------------------------------------------------------------- binds

    fn on_bind(&mut self, now: Instant, req: IncomingRequest, pdu: Pdu) {
        let c = self.carrier.clone();
        let (Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b)) =
            &pdu.body
        else {
            return;
        };
        let status = if let Some(s) = c.faults.refusing_binds(now) {
            Err(s)
        } else {
            match c.account(b.system_id.to_str().unwrap_or("")) {
                None => Err(S::ESME_RINVSYSID),
                Some(a) if a.cfg.password.as_bytes() != b.password.as_bytes() => {
                    Err(S::ESME_RINVPASWD)
                }
                Some(a) if !a.acquire_bind() => Err(S::ESME_RBINDFAIL),
                Some(a) => Ok(a.clone()),
            }
        };
        let delay = c.faults.response_delay();
        match status {
            Ok(acct) => {
                c.set_conn_account(self.id, acct.name());
                self.account = Some(acct);
                self.bind_held = true;
                if delay.is_zero() {
                    self.accept_now(now, req);
                } else {
                    self.delay(now + delay, Delayed::Accept { req });
                }
            }
            Err(status) => {
                Counters::inc(&c.stats.binds_refused);
                c.stats.error(status);
                if delay.is_zero() {
                    let _ = self.session.reject_bind(now, req, status);
                } else {
                    self.delay(now + delay, Delayed::Reject { req, status });
                }
            }
        }
    }

    fn accept_now(&mut self, now: Instant, req: IncomingRequest) {
        let sys = self.carrier.system_id.clone();
        if self.session.accept_bind(now, req, sys).is_err() {
            // The connection went away meanwhile; cleanup releases the bind.
        }
    }

    fn on_bound(&mut self, now: Instant, state: State) {
        let c = self.carrier.clone();
        self.bound = true;
        Counters::inc(&c.stats.binds_total);
        Counters::inc(&c.stats.binds_current);
        if matches!(state, State::BoundRx | State::BoundTrx) {
            if let Some(acct) = self.account.clone() {
                self.receiver = true;
                for d in c.add_receiver(&acct, self.id, self.tx.clone()) {
                    self.deliver(now, d);
                }
            }
        }
    }

    fn cleanup(&mut self) {
        let c = self.carrier.clone();
        c.unregister_conn(self.id);
        if let Some(acct) = self.account.clone() {
            if self.receiver {
                c.remove_receiver(&acct, self.id);
            }
            if self.bind_held {
                acct.release_bind();
                if self.bound {
                    Counters::dec(&c.stats.binds_current);
                }
            }
        }
        // Nothing sent here was acknowledged: hand it to another receiver or the queue.
        let pending: Vec<Box<Delivery>> =
            self.inflight.drain().map(|(_, d)| d).chain(self.outq.drain(..)).collect();
        for d in pending {
            c.reroute(d);
        }
        // Commands that raced with the close.
        self.rx.close();
        while let Ok(cmd) = self.rx.try_recv() {
            if let ConnCmd::Deliver(d) = cmd {
                c.reroute(d);
            }
        }
    }
}

/// The response body with empty fields, for error responses sent with a body.
fn empty_body(request: CommandId) -> Option<Body> {
    Some(match request {
        CommandId::SUBMIT_SM => Body::SubmitSmResp(Some(SubmitSmResp::default())),
        CommandId::DATA_SM => Body::DataSmResp(Some(DataSmResp::default())),
        CommandId::SUBMIT_MULTI => Body::SubmitMultiResp(Some(SubmitMultiResp::default())),
        CommandId::QUERY_SM => Body::QuerySmResp(Some(QuerySmResp::default())),
        _ => return None,
    })
}

fn cstr<const N: usize>(s: &str) -> COctetString<N> {
    COctetString::copy_from_slice(s.as_bytes()).unwrap_or_default()
}
