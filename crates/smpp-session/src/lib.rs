//! SMPP 3.4 session state machine: bind states, window, sequence numbers and timers, for
//! either end of a bind, with no IO and no clock.
//!
//! A [`Session`] is handed the bytes read from the connection and the current time (`now`, an
//! [`Instant`](std::time::Instant) the caller reads), and hands back bytes to write, events for
//! the application and the deadline at which it wants to be called again. It does not take
//! care of network IO: sockets, TLS, reconnecting, back-off and pacing belong to `smpp-tokio`,
//! which drives one `Session` per connection. PDU encoding and decoding is `smpp-codec`'s.
//!
//! What the session does by itself, so that every driver gets it right:
//! - the bind state machine and the spec's allowed-PDU matrix for both roles (smpp34.md §8.1):
//!   a request not allowed in the current state is answered ESME_RINVBNDSTS, a second bind
//!   ESME_RALYBND, and our own caller is refused the same way ([`SendError::NotAllowed`]);
//! - sequence numbers 1..=0x7FFFFFFF with wrap for our requests, and the peer's echoed
//!   unchanged, whatever their value (smpp34.md §8.2);
//! - the window: at most `window` requests await a response; each holds its slot until the
//!   response, a generic_nack or its response timeout, and freed slots are reported
//!   ([`Event::WindowAvailable`]) (smpp34.md §8.5);
//! - answers to the peer's enquire_link and unbind, and to malformed PDUs (the codec's
//!   [`smpp_codec::DecodeError::reply`], smpp34.md §8.3); generic_nack and alert_notification
//!   are never answered;
//! - the response, enquire_link, inactivity and session-init timers (smpp34.md §8.6);
//! - on close, every request still awaiting a response is handed back with its tag, its
//!   outcome unknown ([`Event::Closed`]); nothing is resent.
//!
//! How a driver calls it:
//!
//! ```text
//!   socket ──read──▶ handle_bytes(now, ..)        app ──▶ bind / send_request / respond
//!                          │                                unbind / close
//!                          ▼                                   │
//!                 ┌──────────────────┐◀─────────────────────────┘
//!                 │     Session      │
//!                 └──────────────────┘
//!     poll_event() ──▶ app: Bound, Request, Response, ResponseTimeout, Closed, ...
//!     poll_transmit(&mut buf) ──▶ socket write (all queued PDUs, batched)
//!     poll_timeout() ──▶ sleep until that Instant, or until the socket is readable
//!     handle_timeout(now) ──▶ then poll_event / poll_transmit / poll_timeout again
//! ```
//!
//! After every call that feeds the session (`handle_*`, `send_request`, `respond`, `bind`,
//! `unbind`, `close`), drain [`Session::poll_event`], flush [`Session::poll_transmit`] and
//! re-read [`Session::poll_timeout`].
//!
//! Section numbers in comments (`smpp34.md §N`) point into the project's SMPP digest,
//! `shared/reference/smpp34.md`.
//!
//! # Example
//!
//! An ESME and an SMSC core bind to each other; the "network" is one buffer.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::BytesMut;
//! use smpp_codec::{Bind, Body, COctetString, CommandStatus, SubmitSm, SubmitSmResp, Tlvs};
//! use smpp_session::{BindKind, Event, Role, Session, SessionConfig, State};
//!
//! let now = Instant::now();
//! let mut esme: Session<u64> = Session::new(Role::Esme, SessionConfig::default(), now);
//! let mut smsc: Session<u64> = Session::new(Role::Smsc, SessionConfig::default(), now);
//! let mut wire = BytesMut::new();
//!
//! // ESME: bind as a transceiver.
//! let bind = Bind {
//!     system_id: COctetString::new("esme1").unwrap(),
//!     password: COctetString::new("secret").unwrap(),
//!     interface_version: Bind::V34,
//!     ..Default::default()
//! };
//! esme.bind(now, BindKind::Transceiver, bind).unwrap();
//! esme.poll_transmit(&mut wire);
//! smsc.handle_input(now, &mut wire);
//!
//! // SMSC application: check the credentials and accept.
//! let Some(Event::Request { request, pdu }) = smsc.poll_event() else { panic!() };
//! let Body::BindTransceiver(b) = &pdu.body else { panic!() };
//! assert_eq!(b.password.as_bytes(), b"secret");
//! smsc.accept_bind(now, request, COctetString::new("SMSC").unwrap()).unwrap();
//! smsc.poll_transmit(&mut wire);
//! esme.handle_input(now, &mut wire);
//!
//! let Some(Event::Bound { state, system_id, interface_version }) = esme.poll_event() else {
//!     panic!()
//! };
//! assert_eq!((state, system_id.as_bytes()), (State::BoundTrx, &b"SMSC"[..]));
//! assert_eq!(interface_version, Some(0x34));
//!
//! // Submit one message, tagged 42; the SMSC answers it.
//! let submit = SubmitSm { destination_addr: COctetString::new("819012345678").unwrap(), ..Default::default() };
//! esme.send_request(now, Body::SubmitSm(submit), Tlvs::new(), 42).unwrap();
//! esme.poll_transmit(&mut wire);
//! smsc.handle_input(now, &mut wire);
//! while let Some(event) = smsc.poll_event() {
//!     if let Event::Request { request, .. } = event {
//!         let resp = SubmitSmResp { message_id: COctetString::new("abc123").unwrap() };
//!         smsc.respond(now, request, CommandStatus::ESME_ROK, Body::SubmitSmResp(Some(resp)), Tlvs::new())
//!             .unwrap();
//!     }
//! }
//! smsc.poll_transmit(&mut wire);
//! esme.handle_input(now, &mut wire);
//! let Some(Event::Response { tag: 42, pdu }) = esme.poll_event() else { panic!() };
//! assert!(pdu.command_status.is_ok());
//!
//! // Nothing else is due until the enquire_link timer: 30 s after the last PDU received.
//! assert_eq!(esme.poll_timeout(), Some(now + Duration::from_secs(30)));
//! ```

mod config;
mod counters;
mod event;
mod seqhash;
mod session;
mod state;
mod timer;
mod window;

pub use config::SessionConfig;
pub use counters::{CommandCounts, Counters};
pub use event::{CloseReason, Event, IncomingRequest, PeerError, SendError, Unacked};
pub use seqhash::{BuildSeqHasher, SeqHasher};
pub use session::Session;
pub use state::{BindKind, Role, State};
pub use timer::Timer;

#[cfg(test)]
mod tests;
