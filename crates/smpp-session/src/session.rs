//! The session state machine.

use std::collections::VecDeque;
use std::mem;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use smpp_codec::{
    encode_message_id_resp, encode_reply, Bind, BindResp, Body, COctetString, CommandId,
    CommandStatus, DecodeError, DecodeOptions, Framer, Pdu, Reply, SequenceNumber, Tag, Then, Tlvs,
};

use crate::config::SessionConfig;
use crate::counters::Counters;
use crate::event::{CloseReason, Event, IncomingRequest, PeerError, SendError};
use crate::state::{self, BindKind, Role, State};
use crate::timer::{Fixed, Timer, TimerTable};
use crate::window::{Origin, Window};

/// The sc_interface_version the SMSC role advertises in its bind_resp.
const SC_INTERFACE_VERSION: u8 = 0x34;

/// Where the session is in its life. Transitions take the old phase by value
/// (`mem::replace` with `Closed`) and return the new one, so every arm says what it becomes.
#[derive(Debug)]
enum Phase {
    /// OPEN. `bind` is the bind being decided: ours in flight (ESME role), or the peer's
    /// awaiting the application's accept/reject (SMSC role).
    Open {
        bind: Option<BindAttempt>,
    },
    /// BOUND_TX / RX / TRX.
    Bound(BindKind),
    /// Draining our requests (`unbind_sent` false), then awaiting unbind_resp. Incoming
    /// requests are still judged by `kind`.
    Unbinding {
        kind: BindKind,
        unbind_sent: bool,
    },
    Closed,
}

#[derive(Debug)]
struct BindAttempt {
    kind: BindKind,
    sequence_number: u32,
    /// SMSC role: the ESME's system_id and interface_version, for [`Event::Bound`].
    peer: Option<(COctetString<16>, u8)>,
}

/// One SMPP session: an ESME or SMSC end of one connection, with no IO and no clock.
///
/// `T` is a tag the caller attaches to each request (a message id, a `u64`, a oneshot
/// sender); it comes back in the request's [`Event::Response`], [`Event::GenericNack`],
/// [`Event::ResponseTimeout`] or in [`Event::Closed`]'s `unacked` list.
///
/// See the [crate documentation](crate) for the calling protocol.
#[derive(Debug)]
pub struct Session<T> {
    role: Role,
    config: SessionConfig,
    framer: Framer,
    decode: DecodeOptions,
    phase: Phase,
    /// Bytes received but not yet a whole PDU.
    read_buf: BytesMut,
    /// Encoded PDUs awaiting `poll_transmit`.
    out: BytesMut,
    events: VecDeque<Event<T>>,
    window: Window<T>,
    timers: TimerTable,
    /// Our enquire_link awaiting its response; while set, the EnquireLink timer holds its
    /// response deadline instead of the idle deadline.
    enquire_outstanding: Option<SequenceNumber>,
    /// The window was full since the last [`Event::WindowAvailable`].
    window_was_full: bool,
    peer_interface_version: Option<u8>,
    counters: Counters,
}

impl<T> Session<T> {
    /// A session on a freshly opened connection, in state OPEN.
    ///
    /// In the SMSC role the session-init timer starts now; in the ESME role call
    /// [`Session::bind`] next.
    pub fn new(role: Role, config: SessionConfig, now: Instant) -> Self {
        let mut timers = TimerTable::default();
        if let Some(t) = config.get_inactivity_timeout() {
            timers.set(Fixed::Inactivity, now + t);
        }
        if role == Role::Smsc {
            if let Some(t) = config.get_session_init_timeout() {
                timers.set(Fixed::SessionInit, now + t);
            }
        }
        Self {
            role,
            framer: Framer::new(config.get_max_command_length()),
            decode: if config.get_strict() {
                DecodeOptions::STRICT
            } else {
                DecodeOptions::TOLERANT
            },
            window: Window::new(config.get_first_sequence_number()),
            config,
            phase: Phase::Open { bind: None },
            read_buf: BytesMut::new(),
            out: BytesMut::new(),
            events: VecDeque::new(),
            timers,
            enquire_outstanding: None,
            window_was_full: false,
            peer_interface_version: None,
            counters: Counters::default(),
        }
    }

    // ---------------------------------------------------------------- accessors

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Open { .. } => State::Open,
            Phase::Bound(kind) => kind.bound_state(),
            Phase::Unbinding { .. } => State::Unbinding,
            Phase::Closed => State::Closed,
        }
    }

    /// True once the session has closed; the driver then flushes [`Session::poll_transmit`]
    /// and drops the connection.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Requests of ours awaiting a response (each holds a window slot).
    pub fn in_flight(&self) -> usize {
        self.window.in_flight()
    }

    /// Free window slots: how many more requests [`Session::send_request`] accepts now.
    pub fn window_available(&self) -> usize {
        self.config.get_window().saturating_sub(self.window.in_flight())
    }

    /// The peer's SMPP version once bound (see [`Event::Bound`]).
    pub fn peer_interface_version(&self) -> Option<u8> {
        self.peer_interface_version
    }

    /// Statistics so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    // ---------------------------------------------------------------- input

    /// Feeds bytes read from the connection. Call [`Session::poll_event`] and
    /// [`Session::poll_transmit`] after it: whole PDUs are processed at once and may have
    /// produced events and answers. A partial PDU is kept until the rest arrives. Ignored once
    /// closed.
    pub fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.read_buf.extend_from_slice(bytes);
        self.process_read_buf(now);
    }

    /// Like [`Session::handle_bytes`], but takes the bytes out of `buf` (leaving it empty)
    /// without copying when the session holds no partial PDU. Decoded PDUs are slices of these
    /// bytes, so a driver should give a fresh or [`BytesMut::reserve`]d buffer to its next
    /// read.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        if self.take_input(buf) {
            self.process_read_buf(now);
        }
    }

    /// Moves `buf`'s bytes behind what the session holds, without copying when it holds
    /// nothing. `false` (and the bytes dropped) once the session is closed.
    fn take_input(&mut self, buf: &mut BytesMut) -> bool {
        if self.is_closed() {
            buf.clear();
            return false;
        }
        if self.read_buf.is_empty() {
            self.read_buf = buf.split();
        } else {
            self.read_buf.extend_from_slice(buf);
            buf.clear();
        }
        true
    }

    /// Like [`Session::handle_input`], but decodes at most `max_pdus` PDUs. Returns `true`
    /// when the session kept bytes that may hold more: handle the events, write what they
    /// produced, then call [`Session::resume_input`]. A peer's batch is then answered in
    /// slices, so the peer can work on the first answers while the rest are made.
    pub fn handle_input_bounded(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
        max_pdus: usize,
    ) -> bool {
        self.take_input(buf) && self.resume_input(now, max_pdus)
    }

    /// Decodes up to `max_pdus` more PDUs from the bytes [`Session::handle_input_bounded`]
    /// kept. Returns `true` when more may be left.
    pub fn resume_input(&mut self, now: Instant, max_pdus: usize) -> bool {
        for _ in 0..max_pdus {
            if self.is_closed() || !self.next_read_frame(now) {
                return false;
            }
        }
        !self.is_closed() && !self.read_buf.is_empty()
    }

    /// Feeds exactly one PDU already cut from the stream by a [`Framer`] of the driver's
    /// own. Call [`Session::poll_event`] and [`Session::poll_transmit`] after it. A frame that
    /// is not exactly one command_length long loses framing and closes the session.
    pub fn handle_frame(&mut self, now: Instant, frame: Bytes) {
        if self.is_closed() {
            return;
        }
        self.restart_enquire_link(now);
        match Pdu::decode_with(frame, self.decode) {
            Ok(pdu) => {
                // Boxed once here, the PDU then moves as a pointer through the session's
                // queue and the driver instead of as 256 octets each time.
                let pdu = Box::new(pdu);
                let id = pdu.command_id();
                self.counters.received.add(id);
                self.note_traffic(now, id);
                if id.is_response() {
                    self.on_response(now, pdu);
                } else {
                    self.on_request(now, pdu);
                }
            }
            Err(e) => {
                if let Some(h) = e.header() {
                    let id = h.command_id;
                    self.note_traffic(now, id);
                }
                self.on_decode_error(now, e);
            }
        }
    }

    /// The connection closed (EOF or error). Emits [`Event::Closed`] with
    /// [`CloseReason::TransportClosed`] and every un-acknowledged request, unless already
    /// closed.
    pub fn handle_transport_closed(&mut self) {
        self.close_with(CloseReason::TransportClosed);
    }

    /// Runs the timers that are due at `now`. Call it when [`Session::poll_timeout`]'s
    /// deadline passes (calling it early is harmless), then call [`Session::poll_event`],
    /// [`Session::poll_transmit`] and [`Session::poll_timeout`] again.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Response timers first: freeing slots may let a draining unbind go out.
        while let Some((seq, entry)) = self.window.pop_expired(now) {
            self.counters.response_timeouts += 1;
            if let Origin::User(tag) = entry.origin {
                self.events.push_back(Event::ResponseTimeout { tag, sequence_number: seq });
            }
            self.after_slot_freed(now);
        }
        while !self.is_closed() {
            let Some(timer) = self.timers.take_expired(now) else {
                break;
            };
            match timer {
                Fixed::EnquireLink => {
                    if self.enquire_outstanding.is_some() {
                        // §8.4: no response within response_timer: the link is dead.
                        self.counters.enquire_link_timeouts += 1;
                        self.close_with(CloseReason::EnquireLinkTimeout);
                    } else if let Phase::Bound(_) = self.phase {
                        let seq = self.window.allocate();
                        self.window.insert_internal(
                            seq,
                            CommandId::ENQUIRE_LINK,
                            Origin::EnquireLink,
                            now,
                        );
                        self.write_pdu(now, &Pdu::new(seq.get(), Body::EnquireLink));
                        self.enquire_outstanding = Some(seq);
                        self.timers
                            .set(Fixed::EnquireLink, now + self.config.get_response_timeout());
                    }
                }
                Fixed::Inactivity => self.close_with(CloseReason::InactivityTimeout),
                Fixed::SessionInit => self.close_with(CloseReason::SessionInitTimeout),
                Fixed::Bind => self.close_with(CloseReason::BindTimeout),
                Fixed::Unbind => self.close_with(CloseReason::UnbindTimeout),
            }
        }
    }

    // ---------------------------------------------------------------- output

    /// Appends every queued outgoing PDU to `buf`, batched, and returns whether there was
    /// any. Call it after every `handle_*`, `send_*`, `respond*`, `bind`, `unbind` and
    /// `accept_bind`/`reject_bind` call, and once more after [`Event::Closed`].
    pub fn poll_transmit(&mut self, buf: &mut BytesMut) -> bool {
        if self.out.is_empty() {
            return false;
        }
        if buf.is_empty() {
            // Hand over our buffer and keep theirs: no copy.
            mem::swap(buf, &mut self.out);
        } else {
            buf.extend_from_slice(&self.out);
            self.out.clear();
        }
        true
    }

    /// The next event, or `None`. Call it until `None` after every `handle_*` call and after
    /// any call that may complete something (`unbind`, `close`).
    pub fn poll_event(&mut self) -> Option<Event<T>> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] should be called next, or `None` when no timer runs.
    /// Call it again after any other call: deadlines move as PDUs come and go.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timer().map(|(_, d)| d)
    }

    /// The timer behind [`Session::poll_timeout`], for logging.
    pub fn next_timer(&self) -> Option<(Timer, Instant)> {
        let fixed = self.timers.next().map(|(t, d)| (Timer::from(t), d));
        let response = self.window.next_deadline().map(|(d, seq)| (Timer::Response(seq), d));
        match (fixed, response) {
            (Some(a), Some(b)) => Some(if b.1 < a.1 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    // ---------------------------------------------------------------- commands

    /// ESME role: sends a bind of `kind` (smpp34.md §4, "Session PDUs"). Its outcome is
    /// [`Event::Bound`] or [`Event::BindRefused`]; with no answer within the bind timeout the
    /// session closes ([`CloseReason::BindTimeout`]). Allowed only in OPEN with no bind in
    /// flight.
    pub fn bind(
        &mut self,
        now: Instant,
        kind: BindKind,
        bind: Bind,
    ) -> Result<SequenceNumber, SendError> {
        let command = kind.command_id();
        match &self.phase {
            Phase::Closed => return Err(SendError::Closed),
            Phase::Unbinding { .. } => return Err(SendError::Closing),
            Phase::Open { bind: None } if self.role == Role::Esme => {}
            _ => return Err(SendError::NotAllowed { state: self.state(), command }),
        }
        let seq = self.window.allocate();
        self.window.insert_internal(seq, command, Origin::Bind(kind), now);
        let body = match kind {
            BindKind::Transmitter => Body::BindTransmitter(bind),
            BindKind::Receiver => Body::BindReceiver(bind),
            BindKind::Transceiver => Body::BindTransceiver(bind),
        };
        self.write_pdu(now, &Pdu::new(seq.get(), body));
        self.phase = Phase::Open {
            bind: Some(BindAttempt { kind, sequence_number: seq.get(), peer: None }),
        };
        self.timers.set(Fixed::Bind, now + self.config.get_bind_timeout());
        Ok(seq)
    }

    /// SMSC role: accepts the bind announced by [`Event::Request`], answering bind_resp
    /// ESME_ROK with `system_id` and sc_interface_version 0x34. The state becomes BOUND_*
    /// and [`Event::Bound`] follows.
    pub fn accept_bind(
        &mut self,
        now: Instant,
        request: IncomingRequest,
        system_id: COctetString<16>,
    ) -> Result<(), SendError> {
        let attempt = self.take_peer_bind(request)?;
        let (peer_id, version) = attempt.peer.unwrap_or_default();
        let resp = Some(BindResp { system_id });
        let body = match attempt.kind {
            BindKind::Transmitter => Body::BindTransmitterResp(resp),
            BindKind::Receiver => Body::BindReceiverResp(resp),
            BindKind::Transceiver => Body::BindTransceiverResp(resp),
        };
        let tlvs = Tlvs::builder().push_u8(Tag::SC_INTERFACE_VERSION, SC_INTERFACE_VERSION).build();
        self.write_pdu(now, &Pdu::new(attempt.sequence_number, body).with_tlvs(tlvs));
        self.enter_bound(now, attempt.kind, peer_id, Some(version));
        Ok(())
    }

    /// SMSC role: refuses the bind announced by [`Event::Request`] with `status` (e.g.
    /// ESME_RINVPASWD, ESME_RBINDFAIL). The response is header-only, as the spec says for
    /// error bind_resps. The session stays OPEN; call [`Session::close`] to drop the
    /// connection.
    pub fn reject_bind(
        &mut self,
        now: Instant,
        request: IncomingRequest,
        status: CommandStatus,
    ) -> Result<(), SendError> {
        if status.is_ok() {
            return Err(SendError::OkIsNotARejection);
        }
        let attempt = self.take_peer_bind(request)?;
        self.write_reply(
            now,
            &Reply {
                command_id: attempt.kind.response_id(),
                command_status: status,
                sequence_number: attempt.sequence_number,
            },
        );
        Ok(())
    }

    /// Sends a request (submit_sm, data_sm, query_sm, deliver_sm in the SMSC role, ...)
    /// and returns the sequence number it was given. Its outcome comes back with `tag` as
    /// [`Event::Response`], [`Event::GenericNack`], [`Event::MalformedResponse`],
    /// [`Event::ResponseTimeout`], or in [`Event::Closed`].
    ///
    /// Refused with [`SendError::WindowFull`] when `window` requests await a response,
    /// [`SendError::NotAllowed`] when the allowed-PDU matrix (smpp34.md §8.1) forbids it for
    /// our role and state, [`SendError::Closing`] after [`Session::unbind`]. Binds and unbind
    /// have their own methods. A request without a response (outbind, alert_notification) is
    /// sent without taking a slot, and `tag` is dropped.
    ///
    /// Sequence numbers run 1..=0x7FFFFFFF and wrap to 1, skipping numbers still awaiting a
    /// response (smpp34.md §8.2). Call [`Session::poll_transmit`] after it.
    pub fn send_request(
        &mut self,
        now: Instant,
        body: Body,
        tlvs: Tlvs,
        tag: T,
    ) -> Result<SequenceNumber, SendError> {
        self.send_request_ref(now, &body, &tlvs, tag)
    }

    /// [`Session::send_request`] from a borrowed body and TLVs, for a caller that keeps them
    /// (to send the same PDU again after ESME_RTHROTTLED): the PDU is encoded at once and
    /// the session keeps no copy.
    pub fn send_request_ref(
        &mut self,
        now: Instant,
        body: &Body,
        tlvs: &Tlvs,
        tag: T,
    ) -> Result<SequenceNumber, SendError> {
        let command = body.command_id();
        if command.is_response() {
            return Err(SendError::NotARequest { command });
        }
        if BindKind::from_command_id(command).is_some() || command == CommandId::UNBIND {
            return Err(SendError::ManagedBySession { command });
        }
        let bound = match self.phase {
            Phase::Closed => return Err(SendError::Closed),
            Phase::Unbinding { .. } => return Err(SendError::Closing),
            Phase::Open { .. } => None,
            Phase::Bound(kind) => Some(kind),
        };
        if state::allowed(command, self.role, bound).is_err() {
            return Err(SendError::NotAllowed { state: self.state(), command });
        }
        let expects_response = command.response_id().is_some();
        if expects_response && self.window.in_flight() >= self.config.get_window() {
            self.window_was_full = true;
            return Err(SendError::WindowFull);
        }
        let seq = self.window.allocate();
        Pdu::encode_parts(CommandStatus::ESME_ROK, seq.get(), body, tlvs, &mut self.out);
        self.note_sent(now, command);
        if expects_response {
            let deadline = now + self.config.get_response_timeout();
            self.window.insert_user(seq, command, tag, now, deadline);
            let in_flight = self.window.in_flight();
            self.counters.window_high_water = self.counters.window_high_water.max(in_flight);
            if in_flight >= self.config.get_window() {
                self.window_was_full = true;
            }
        }
        Ok(seq)
    }

    /// Answers a peer's request from [`Event::Request`] with `status`, `body` (the matching
    /// `*_resp` body; `None` inside it for a header-only error response) and `tlvs`. The
    /// response echoes the request's sequence_number unchanged (smpp34.md §8.2). Binds are
    /// answered with [`Session::accept_bind`] / [`Session::reject_bind`].
    pub fn respond(
        &mut self,
        now: Instant,
        to: IncomingRequest,
        status: CommandStatus,
        body: Body,
        tlvs: Tlvs,
    ) -> Result<(), SendError> {
        let expected = self.check_respond(to)?;
        let got = body.command_id();
        if got != expected {
            return Err(SendError::ResponseMismatch { request: to.command_id, expected, got });
        }
        Pdu::encode_parts(status, to.sequence_number, &body, &tlvs, &mut self.out);
        self.note_sent(now, got);
        Ok(())
    }

    /// Answers a submit_sm, deliver_sm or data_sm with ESME_ROK and a body of `message_id`
    /// alone (its octets, without the NUL; empty for a deliver_sm, smpp34.md §4.6.2), written
    /// straight to the output: the same octets as [`Session::respond`] with that body, without
    /// building one. These are the responses of a busy bind's every message (smpp34.md §4.4.2,
    /// §4.6.2, §4.7.2).
    ///
    /// Refused with [`SendError::NotAMessageIdResponse`] for other requests and for an id
    /// longer than 64 octets or holding a NUL (message_id is a C-Octet String of at most 65).
    pub fn respond_message_id(
        &mut self,
        now: Instant,
        to: IncomingRequest,
        message_id: &[u8],
    ) -> Result<(), SendError> {
        let command_id = self.check_respond(to)?;
        let refuse = |why| Err(SendError::NotAMessageIdResponse { request: to.command_id, why });
        if !matches!(
            to.command_id,
            CommandId::SUBMIT_SM | CommandId::DELIVER_SM | CommandId::DATA_SM
        ) {
            return refuse("its response has more fields than message_id");
        }
        if message_id.len() > 64 || message_id.contains(&0) {
            return refuse("message_id must be at most 64 octets without a NUL");
        }
        let reply = Reply {
            command_id,
            command_status: CommandStatus::ESME_ROK,
            sequence_number: to.sequence_number,
        };
        encode_message_id_resp(&reply, message_id, &mut self.out);
        self.note_sent(now, command_id);
        Ok(())
    }

    /// Answers a peer's request with a header-only response carrying `status`: the usual form
    /// of an error response (e.g. ESME_RX_T_APPN to a deliver_sm the application cannot take
    /// now). With ESME_ROK it sends a bodiless success, which peers tolerate but the spec does
    /// not define for responses with a body (use [`Session::respond`] for successes).
    pub fn respond_error(
        &mut self,
        now: Instant,
        to: IncomingRequest,
        status: CommandStatus,
    ) -> Result<(), SendError> {
        let command_id = self.check_respond(to)?;
        self.write_reply(
            now,
            &Reply { command_id, command_status: status, sequence_number: to.sequence_number },
        );
        Ok(())
    }

    /// Starts a graceful unbind, draining first:
    ///
    /// 1. the state becomes UNBINDING and new requests are refused ([`SendError::Closing`]);
    /// 2. requests already sent keep their slots until their response or response timeout,
    ///    and are reported as usual; incoming requests are still delivered and must still be
    ///    answered;
    /// 3. when none is left, unbind is sent;
    /// 4. unbind_resp gives [`Event::Unbound`] then [`Event::Closed`] with
    ///    [`CloseReason::Unbound`]; no unbind_resp within the response timeout gives
    ///    [`Event::Closed`] with [`CloseReason::UnbindTimeout`].
    ///
    /// The whole drain is bounded by twice the response timeout.
    pub fn unbind(&mut self, now: Instant) -> Result<(), SendError> {
        match mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Bound(kind) => {
                self.phase = Phase::Unbinding { kind, unbind_sent: false };
                if self.enquire_outstanding.is_none() {
                    self.timers.stop(Fixed::EnquireLink);
                }
                self.maybe_send_unbind(now);
                Ok(())
            }
            other => {
                let err = match other {
                    Phase::Closed => SendError::Closed,
                    Phase::Unbinding { .. } => SendError::Closing,
                    _ => SendError::NotAllowed { state: State::Open, command: CommandId::UNBIND },
                };
                self.phase = other;
                Err(err)
            }
        }
    }

    /// Closes at once, without unbind. Emits [`Event::Closed`] with `reason` (normally
    /// [`CloseReason::Local`]) and every un-acknowledged request. Does nothing when closed.
    pub fn close(&mut self, reason: CloseReason) {
        self.close_with(reason);
    }

    // ---------------------------------------------------------------- internals

    fn process_read_buf(&mut self, now: Instant) {
        while !self.is_closed() && self.next_read_frame(now) {}
    }

    /// Handles the next whole PDU of `read_buf`; `false` when there is none.
    fn next_read_frame(&mut self, now: Instant) -> bool {
        match self.framer.next_frame(&mut self.read_buf) {
            Ok(Some(frame)) => {
                self.handle_frame(now, frame);
                true
            }
            Ok(None) => false,
            Err(e) => {
                // A framer error is always a lost boundary; close even if the error said
                // otherwise, since the buffer was not consumed.
                self.on_decode_error(now, e);
                self.close_with(CloseReason::FramingLost);
                false
            }
        }
    }

    fn on_request(&mut self, now: Instant, pdu: Box<Pdu>) {
        let command = pdu.command_id();
        let bound = match self.phase {
            Phase::Open { .. } => None,
            Phase::Bound(kind) | Phase::Unbinding { kind, .. } => Some(kind),
            Phase::Closed => return,
        };
        if let Err(status) = state::allowed(command, self.role.peer(), bound) {
            return self.refuse(now, &pdu, status);
        }
        let request = IncomingRequest::of(&pdu);
        match command {
            CommandId::ENQUIRE_LINK => {
                // §8.4: always enquire_link_resp ESME_ROK.
                self.write_pdu(now, &Pdu::new(pdu.sequence_number, Body::EnquireLinkResp));
            }
            CommandId::UNBIND => {
                self.write_pdu(now, &Pdu::new(pdu.sequence_number, Body::UnbindResp));
                self.events.push_back(Event::Unbound);
                self.close_with(CloseReason::PeerUnbound);
            }
            CommandId::BIND_TRANSMITTER
            | CommandId::BIND_RECEIVER
            | CommandId::BIND_TRANSCEIVER => {
                // Only reachable in the SMSC role in OPEN (the matrix says so).
                if let Phase::Open { bind: Some(_) } = self.phase {
                    // A bind while another is being decided: as good as bound.
                    return self.refuse(now, &pdu, CommandStatus::ESME_RALYBND);
                }
                let (Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b)) =
                    &pdu.body
                else {
                    return;
                };
                let kind = BindKind::from_command_id(command).unwrap_or(BindKind::Transceiver);
                self.phase = Phase::Open {
                    bind: Some(BindAttempt {
                        kind,
                        sequence_number: pdu.sequence_number,
                        peer: Some((b.system_id.clone(), b.interface_version)),
                    }),
                };
                self.events.push_back(Event::Request { request, pdu });
            }
            CommandId::OUTBIND => {
                if let Body::Outbind(outbind) = pdu.body {
                    self.events.push_back(Event::Outbind { outbind });
                }
            }
            CommandId::ALERT_NOTIFICATION => {
                self.events.push_back(Event::AlertNotification { pdu });
            }
            _ => self.events.push_back(Event::Request { request, pdu }),
        }
    }

    /// Answers a request that is not allowed in this state (smpp34.md §8.1, §8.3): its own
    /// response, header-only, with `status`; nothing for requests without a response.
    fn refuse(&mut self, now: Instant, pdu: &Pdu, status: CommandStatus) {
        let command = pdu.command_id();
        self.counters.refused += 1;
        if let Some(command_id) = command.response_id() {
            self.write_reply(
                now,
                &Reply { command_id, command_status: status, sequence_number: pdu.sequence_number },
            );
        }
        let error = if status == CommandStatus::ESME_RALYBND {
            PeerError::AlreadyBound { command }
        } else {
            PeerError::NotAllowed { command, state: self.state() }
        };
        self.events.push_back(Event::PeerError { error });
    }

    fn on_response(&mut self, now: Instant, pdu: Box<Pdu>) {
        let id = pdu.command_id();
        let seq = pdu.sequence_number;
        let matches = self
            .window
            .get(seq)
            .is_some_and(|e| id == CommandId::GENERIC_NACK || e.command.response_id() == Some(id));
        let entry = if matches { self.window.remove(seq) } else { None };
        let Some(entry) = entry else {
            // §8.2: log and drop; never answer a response.
            self.counters.unexpected_responses += 1;
            self.events.push_back(Event::UnexpectedResponse { pdu });
            return;
        };
        let nack = id == CommandId::GENERIC_NACK;
        match entry.origin {
            Origin::User(tag) => {
                if nack {
                    // §8.3: fail the pending request; never respond.
                    self.events.push_back(Event::GenericNack {
                        tag,
                        sequence_number: SequenceNumber::new(seq).unwrap_or(SequenceNumber::FIRST),
                        status: pdu.command_status,
                    });
                } else {
                    self.events.push_back(Event::Response { tag, pdu });
                }
                self.after_slot_freed(now);
            }
            Origin::Bind(kind) => {
                if pdu.command_status.is_ok() && !nack {
                    let system_id = match pdu.body {
                        Body::BindTransmitterResp(Some(r))
                        | Body::BindReceiverResp(Some(r))
                        | Body::BindTransceiverResp(Some(r)) => r.system_id,
                        _ => COctetString::empty(),
                    };
                    let version = pdu.tlvs.sc_interface_version();
                    self.enter_bound(now, kind, system_id, version);
                } else {
                    self.bind_refused(pdu.command_status);
                }
            }
            Origin::EnquireLink => self.own_request_answered(false, now),
            Origin::Unbind => self.own_request_answered(true, now),
        }
    }

    fn on_decode_error(&mut self, now: Instant, e: DecodeError) {
        self.counters.decode_errors += 1;
        if let Some(reply) = e.reply() {
            self.write_reply(now, &reply);
        }
        let then = e.then();
        let header = e.header().copied();
        self.events.push_back(Event::PeerError { error: PeerError::Malformed(e.clone()) });
        if then != Then::Continue {
            // CloseConnection, or an incomplete frame handed to `handle_frame`: either way
            // the boundary between PDUs is lost.
            return self.close_with(CloseReason::FramingLost);
        }
        // §8.3 "Broken response received": fail the pending request, keep the session.
        let Some(h) = header else { return };
        let id = h.command_id;
        let seq = h.sequence_number;
        let matches = id.is_response()
            && self.window.get(seq).is_some_and(|p| {
                id == CommandId::GENERIC_NACK || p.command.response_id() == Some(id)
            });
        if !matches {
            return;
        }
        let Some(entry) = self.window.remove(seq) else {
            return;
        };
        match entry.origin {
            Origin::User(tag) => {
                self.events.push_back(Event::MalformedResponse {
                    tag,
                    sequence_number: SequenceNumber::new(seq).unwrap_or(SequenceNumber::FIRST),
                    error: e,
                });
                self.after_slot_freed(now);
            }
            Origin::Bind(_) => {
                // We cannot tell what the SMSC decided; treat it as a refusal, the safe side.
                let status = if h.command_status.is_ok() {
                    CommandStatus::ESME_RBINDFAIL
                } else {
                    h.command_status
                };
                self.bind_refused(status);
            }
            // A garbled enquire_link_resp still shows the peer is alive.
            Origin::EnquireLink => self.own_request_answered(false, now),
            Origin::Unbind => self.own_request_answered(true, now),
        }
    }

    fn take_peer_bind(&mut self, request: IncomingRequest) -> Result<BindAttempt, SendError> {
        match mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Open { bind: Some(attempt) }
                if self.role == Role::Smsc
                    && attempt.sequence_number == request.sequence_number
                    && attempt.kind.command_id() == request.command_id =>
            {
                self.phase = Phase::Open { bind: None };
                Ok(attempt)
            }
            other => {
                let err = match other {
                    Phase::Closed => SendError::Closed,
                    _ => SendError::UnknownBind,
                };
                self.phase = other;
                Err(err)
            }
        }
    }

    fn enter_bound(
        &mut self,
        now: Instant,
        kind: BindKind,
        system_id: COctetString<16>,
        interface_version: Option<u8>,
    ) {
        self.timers.stop(Fixed::Bind);
        self.timers.stop(Fixed::SessionInit);
        self.phase = match mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Open { .. } => Phase::Bound(kind),
            other => other,
        };
        self.peer_interface_version = interface_version;
        self.events.push_back(Event::Bound {
            state: kind.bound_state(),
            system_id,
            interface_version,
        });
        self.restart_enquire_link(now);
    }

    fn bind_refused(&mut self, status: CommandStatus) {
        self.timers.stop(Fixed::Bind);
        self.phase = match mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Open { .. } => Phase::Open { bind: None },
            other => other,
        };
        self.events.push_back(Event::BindRefused { status });
    }

    fn check_respond(&self, to: IncomingRequest) -> Result<CommandId, SendError> {
        if self.is_closed() {
            return Err(SendError::Closed);
        }
        if BindKind::from_command_id(to.command_id).is_some() {
            return Err(SendError::ManagedBySession { command: to.command_id });
        }
        to.command_id.response_id().ok_or(SendError::NoResponse { command: to.command_id })
    }

    /// A window slot was freed: report it if the window had filled, and let a draining unbind
    /// go out once nothing is left.
    /// Our enquire_link or unbind was answered (by a good or a garbled response alike).
    fn own_request_answered(&mut self, unbind: bool, now: Instant) {
        if unbind {
            self.events.push_back(Event::Unbound);
            self.close_with(CloseReason::Unbound);
        } else {
            self.enquire_outstanding = None;
            self.timers.stop(Fixed::EnquireLink);
            self.restart_enquire_link(now);
        }
    }

    fn after_slot_freed(&mut self, now: Instant) {
        if self.window_was_full && self.window.in_flight() < self.config.get_window() {
            self.window_was_full = false;
            if let Phase::Bound(_) = self.phase {
                self.events.push_back(Event::WindowAvailable);
            }
        }
        self.maybe_send_unbind(now);
    }

    fn maybe_send_unbind(&mut self, now: Instant) {
        let Phase::Unbinding { unbind_sent: sent @ false, .. } = &mut self.phase else {
            return;
        };
        if self.window.in_flight() > 0 {
            return;
        }
        *sent = true;
        let seq = self.window.allocate();
        self.window.insert_internal(seq, CommandId::UNBIND, Origin::Unbind, now);
        self.write_pdu(now, &Pdu::new(seq.get(), Body::Unbind));
        self.timers.set(Fixed::Unbind, now + self.config.get_response_timeout());
    }

    /// Restarts the idle countdown after something was received (smpp34.md §8.4), unless an
    /// enquire_link is outstanding (the timer then holds its response deadline).
    fn restart_enquire_link(&mut self, now: Instant) {
        if self.enquire_outstanding.is_some() {
            return;
        }
        match (&self.phase, self.config.get_enquire_link_interval()) {
            (Phase::Bound(_), Some(interval)) => {
                self.timers.set(Fixed::EnquireLink, now + interval)
            }
            _ => self.timers.stop(Fixed::EnquireLink),
        }
    }

    /// Restarts the inactivity countdown for a PDU in either direction; keep-alives do not
    /// count as activity (smpp34.md §8.6: "last transaction").
    fn note_traffic(&mut self, now: Instant, id: CommandId) {
        if matches!(id, CommandId::ENQUIRE_LINK | CommandId::ENQUIRE_LINK_RESP) {
            return;
        }
        if let (Some(t), Some(_)) =
            (self.config.get_inactivity_timeout(), self.timers.get(Fixed::Inactivity))
        {
            self.timers.set(Fixed::Inactivity, now + t);
        }
    }

    fn write_pdu(&mut self, now: Instant, pdu: &Pdu) {
        pdu.encode(&mut self.out);
        self.note_sent(now, pdu.command_id());
    }

    fn write_reply(&mut self, now: Instant, reply: &Reply) {
        encode_reply(reply, &mut self.out);
        self.note_sent(now, reply.command_id);
    }

    fn note_sent(&mut self, now: Instant, id: CommandId) {
        self.counters.sent.add(id);
        self.note_traffic(now, id);
    }

    fn close_with(&mut self, reason: CloseReason) {
        if self.is_closed() {
            return;
        }
        self.phase = Phase::Closed;
        self.timers.clear();
        self.read_buf = BytesMut::new();
        self.enquire_outstanding = None;
        let unacked = self.window.drain_unacked();
        self.events.push_back(Event::Closed { reason, unacked });
    }

    #[cfg(test)]
    pub(crate) fn debug_check(&self) {
        self.window.debug_check();
        assert!(self.window.in_flight() <= self.config.get_window());
    }
}
