//! What the session tells its driver ([`Event`]) and the errors of its API.

use std::time::Instant;

use smpp_codec::{
    COctetString, CommandId, CommandStatus, DecodeError, Outbind, Pdu, SequenceNumber,
};

use crate::state::State;

/// Something the application must know or act on. Drained with [`crate::Session::poll_event`].
///
/// `T` is the caller's tag given to [`crate::Session::send_request`]; it comes back with the
/// request's outcome.
///
/// PDUs come boxed: a [`Pdu`] is 256 octets, and an event moves several times between the
/// decoder and the application (the queue, the driver's dispatch, the application's own
/// channel). Boxing it once as it is decoded cost less than those copies (about 1% of the
/// ESME's and 3% of the simulator's instructions per message, docs/benchmarks.md).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event<T> {
    /// The bind succeeded (ESME role: bind_resp ESME_ROK arrived; SMSC role: the application
    /// called [`crate::Session::accept_bind`]).
    Bound {
        /// BOUND_TX, BOUND_RX or BOUND_TRX.
        state: State,
        /// The peer's system_id: the SMSC's from its bind_resp (empty when the peer sent a
        /// bodiless success), or the ESME's from its bind.
        system_id: COctetString<16>,
        /// The peer's SMPP version: the SMSC's sc_interface_version TLV (`None` when absent,
        /// meaning v3.3 or older, smpp34.md §13.11), or the ESME's interface_version field.
        interface_version: Option<u8>,
    },
    /// ESME role: the bind was refused (bind_resp with an error status, or generic_nack). The
    /// session stays OPEN; the SMSC may close the connection. Back off before binding again,
    /// and do not hammer ESME_RINVPASWD / ESME_RINVSYSID (smpp34.md §8.1).
    BindRefused {
        /// The status the SMSC gave.
        status: CommandStatus,
    },
    /// A request from the peer that the application must answer: with
    /// [`crate::Session::respond`] (deliver_sm, data_sm; submit_sm and the rest in the SMSC
    /// role), or with [`crate::Session::accept_bind`] / [`crate::Session::reject_bind`] (a bind,
    /// SMSC role). The session has already checked that it is allowed in the current state.
    Request {
        /// What to answer.
        request: IncomingRequest,
        /// The request.
        pdu: Box<Pdu>,
    },
    /// ESME role: the SMSC sent outbind (it dialled us). Check its credentials, then
    /// [`crate::Session::bind`] as a receiver, or close the connection (smpp34.md §13.15).
    /// Outbind has no response.
    Outbind {
        /// The SMSC's system_id and password.
        outbind: Outbind,
    },
    /// ESME role: alert_notification from the SMSC. It has no response (smpp34.md §13.7).
    AlertNotification {
        /// The PDU.
        pdu: Box<Pdu>,
    },
    /// The response to one of our requests, matched by sequence_number and command_id. The
    /// status may be an error (ESME_RTHROTTLED, ESME_RINVBNDSTS, ...).
    Response {
        /// The caller's tag.
        tag: T,
        /// The response.
        pdu: Box<Pdu>,
    },
    /// The peer answered one of our requests with generic_nack (smpp34.md §8.3). The request
    /// failed; the slot is free.
    GenericNack {
        /// The caller's tag.
        tag: T,
        /// The request's sequence number.
        sequence_number: SequenceNumber,
        /// The generic_nack's status.
        status: CommandStatus,
    },
    /// The peer answered one of our requests but the answer could not be decoded (smpp34.md
    /// §8.3, "Broken response received"). Whether the peer acted on the request is unknown.
    MalformedResponse {
        /// The caller's tag.
        tag: T,
        /// The request's sequence number.
        sequence_number: SequenceNumber,
        /// What was wrong with the response.
        error: DecodeError,
    },
    /// No response came within the response timeout. The window slot is freed; the request's
    /// outcome is unknown (the peer may still have acted on it), and a late response will show
    /// up as [`Event::UnexpectedResponse`].
    ResponseTimeout {
        /// The caller's tag.
        tag: T,
        /// The request's sequence number.
        sequence_number: SequenceNumber,
    },
    /// The window was full and now has free slots: [`crate::Session::send_request`] will accept
    /// requests again. Sent once per full→not-full transition, not per freed slot.
    WindowAvailable,
    /// A response that matches no pending request (late after a timeout, duplicated, or a
    /// wrong sequence number). Logged and dropped; never answered (smpp34.md §8.2).
    UnexpectedResponse {
        /// The response.
        pdu: Box<Pdu>,
    },
    /// The peer sent something wrong. The session has already answered it as the spec says
    /// (generic_nack, the request's own response with an error status, or nothing).
    PeerError {
        /// What was wrong.
        error: PeerError,
    },
    /// An unbind completed: the peer answered ours, or we answered the peer's. A
    /// [`Event::Closed`] follows.
    Unbound,
    /// The session is over. Flush [`crate::Session::poll_transmit`] once more (a final
    /// unbind_resp or generic_nack may be queued), then close the transport.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Every request still awaiting its response, in send order. Their outcome is
        /// **unknown**: the peer may or may not have acted on them (smpp34.md §8.5).
        /// Nothing is resent automatically; the application decides.
        unacked: Vec<Unacked<T>>,
    },
}

/// A request whose response never came because the session closed: outcome unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unacked<T> {
    /// The caller's tag.
    pub tag: T,
    /// What was sent.
    pub command_id: CommandId,
    /// The number it was sent with.
    pub sequence_number: SequenceNumber,
    /// When it was sent.
    pub sent_at: Instant,
}

/// Identifies a peer's request for [`crate::Session::respond`]: the response echoes
/// `sequence_number` unchanged, even 0 or ≥ 0x80000000 (smpp34.md §8.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IncomingRequest {
    /// The request's command_id.
    pub command_id: CommandId,
    /// The request's sequence_number, raw.
    pub sequence_number: u32,
}

impl IncomingRequest {
    /// The handle for a received request.
    pub fn of(pdu: &Pdu) -> Self {
        Self { command_id: pdu.command_id(), sequence_number: pdu.sequence_number }
    }
}

/// Why the session closed. The variant says who caused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CloseReason {
    /// We sent unbind and the peer answered.
    #[error("unbound")]
    Unbound,
    /// The peer sent unbind and we answered.
    #[error("the peer unbound")]
    PeerUnbound,
    /// Our unbind got no unbind_resp within the response timeout.
    #[error("no unbind_resp within the response timeout")]
    UnbindTimeout,
    /// Our enquire_link got no response within the response timeout: the peer is dead
    /// (smpp34.md §8.4).
    #[error("no enquire_link_resp within the response timeout")]
    EnquireLinkTimeout,
    /// No PDU other than enquire_link for the inactivity timeout (smpp34.md §8.6).
    #[error("inactivity timeout")]
    InactivityTimeout,
    /// SMSC role: no successful bind within the session-init timeout (smpp34.md §8.6).
    #[error("no bind within the session-init timeout")]
    SessionInitTimeout,
    /// ESME role: no bind_resp within the bind timeout.
    #[error("no bind_resp within the bind timeout")]
    BindTimeout,
    /// The peer's command_length was out of range; the byte stream cannot be resynchronised
    /// (smpp34.md §2, §8.3).
    #[error("framing lost: bad command_length from the peer")]
    FramingLost,
    /// The transport closed under us ([`crate::Session::handle_transport_closed`]).
    #[error("the connection closed")]
    TransportClosed,
    /// The application called [`crate::Session::close`].
    #[error("closed by the application")]
    Local,
}

/// Something the peer did wrong, reported in [`Event::PeerError`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The peer's bytes are not a valid PDU. Answered with the codec's reply.
    #[error("malformed PDU: {0}")]
    Malformed(DecodeError),
    /// A request not allowed in this state for the peer's role (smpp34.md §8.1), answered
    /// with its response carrying ESME_RINVBNDSTS (or not at all if it has none).
    #[error("{command} is not allowed from the peer in state {state:?}")]
    NotAllowed {
        /// The request.
        command: CommandId,
        /// Our state when it arrived.
        state: State,
    },
    /// A bind on a bound session (or while a bind is being decided), answered ESME_RALYBND.
    #[error("{command} on a session that is already bound")]
    AlreadyBound {
        /// The bind.
        command: CommandId,
    },
}

/// Why the session refused a call. All of these are the caller's doing or the state's; none
/// puts anything on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// `window` requests already await their response. Wait for [`Event::WindowAvailable`].
    #[error("the window is full")]
    WindowFull,
    /// The allowed-PDU matrix (smpp34.md §8.1) forbids this request for our role in this state,
    /// e.g. submit_sm before the bind or on a receiver.
    #[error("{command} is not allowed in state {state:?}")]
    NotAllowed {
        /// The current state.
        state: State,
        /// The request.
        command: CommandId,
    },
    /// [`crate::Session::unbind`] was called; no new requests are accepted.
    #[error("the session is unbinding")]
    Closing,
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
    /// A response id (or generic_nack) was given where a request is expected.
    #[error("{command} is not a request")]
    NotARequest {
        /// The command.
        command: CommandId,
    },
    /// Binds go through [`crate::Session::bind`] / [`crate::Session::accept_bind`] and unbind
    /// through [`crate::Session::unbind`], because they change the state.
    #[error("{command} is sent by the session itself; use the dedicated method")]
    ManagedBySession {
        /// The command.
        command: CommandId,
    },
    /// The request has no response (outbind, alert_notification, generic_nack).
    #[error("{command} has no response")]
    NoResponse {
        /// The request's command.
        command: CommandId,
    },
    /// The response body does not belong to the request.
    #[error("{request} is answered with {expected}, not {got}")]
    ResponseMismatch {
        /// The request.
        request: CommandId,
        /// The response it needs.
        expected: CommandId,
        /// The response given.
        got: CommandId,
    },
    /// [`crate::Session::respond_message_id`] for a request whose response has more than a
    /// message_id, or with an id that is not a C-Octet String of at most 65 octets.
    #[error("{request} cannot be answered with this message_id alone: {why}")]
    NotAMessageIdResponse {
        /// The request.
        request: CommandId,
        /// What is wrong.
        why: &'static str,
    },
    /// [`crate::Session::accept_bind`] / [`crate::Session::reject_bind`] for a bind that is not
    /// the one awaiting an answer.
    #[error("no such bind awaits an answer")]
    UnknownBind,
    /// [`crate::Session::reject_bind`] with ESME_ROK.
    #[error("a rejection needs an error status")]
    OkIsNotARejection,
}
