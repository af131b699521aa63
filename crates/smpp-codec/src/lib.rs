//! SMPP 3.4 wire codec: every PDU and TLV, from bytes to typed values and back.
//!
//! `smpp-codec` is bytes in, PDUs out. It does no IO, knows no clock and keeps no session
//! state: sockets, TLS and timers belong to `smpp-tokio`; bind states, windows and sequence
//! allocation to `smpp-session`. What it gives them:
//!
//! ```text
//!   socket ──read──▶ BytesMut ──Framer::next_frame──▶ Bytes (one PDU)
//!                                                       │
//!                                   Pdu::decode ◀───────┘  fields are slices of it
//!                                        │
//!                      Ok(Pdu) ◀─────────┴─────────▶ Err(DecodeError)
//!                                                     .reply(): generic_nack or own _resp
//!                                                     .then():  continue / close
//!   socket ◀──write── BytesMut ◀──Pdu::encode── Pdu  (command_length computed)
//! ```
//!
//! Decoding is zero-copy (every string and the short_message are `Bytes` slices of the frame,
//! TLVs are kept as the received area and read lazily) and tolerant by default of what real
//! SMSCs send (smpp34.md §9.3, §13); [`DecodeOptions::STRICT`] rejects it. Every decode failure
//! knows its answer on the wire ([`DecodeError::reply`]) and whether the connection survives
//! ([`DecodeError::then`]). Field types carry the spec's limits ([`COctetString`] with the NUL
//! counted in its maximum, [`Time`], [`ShortMessage`] with sm_length derived), so encoding a
//! well-typed PDU cannot fail.
//!
//! Section numbers in comments (`smpp34.md §N`) point into the project's SMPP digest,
//! `shared/reference/smpp34.md`.
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use smpp_codec::{Body, Framer, Pdu};
//!
//! // The spec's own example (§3.2.2): a bind_transmitter.
//! let wire = [
//!     0x00, 0x00, 0x00, 0x2F, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
//!     b'S', b'M', b'P', b'P', b'3', b'T', b'E', b'S', b'T', 0,
//!     b's', b'e', b'c', b'r', b'e', b't', b'0', b'8', 0,
//!     b'S', b'U', b'B', b'M', b'I', b'T', b'1', 0,
//!     0x00, 0x01, 0x01, 0x00,
//! ];
//! let mut read_buf = BytesMut::from(&wire[..]);
//! let frame = Framer::default().next_frame(&mut read_buf).unwrap().unwrap();
//! let pdu = Pdu::decode(frame).unwrap();
//! let Body::BindTransmitter(bind) = &pdu.body else { panic!("not a bind") };
//! assert_eq!(bind.system_id.as_bytes(), b"SMPP3TEST");
//! assert_eq!(bind.password.as_bytes(), b"secret08");
//!
//! let mut out = BytesMut::new();
//! pdu.encode(&mut out);
//! assert_eq!(&out[..], &wire[..]);
//! ```

mod codes;
mod error;
mod field;
mod frame;
mod header;
mod pdu;
mod tlv;
mod types;

pub use codes::{CommandId, CommandStatus, EsmClass, Npi, Ton};
pub use error::{DecodeError, ErrorKind, Problem, Reply, Then};
pub use field::{BuildError, FieldSource, FieldVisitor};
pub use frame::Framer;
pub use header::{Header, HEADER_LEN};
pub use pdu::{
    encode_message_id_resp, encode_reply, AlertNotification, Bind, BindResp, Body, CancelSm,
    DataSm, DataSmResp, DecodeOptions, DeliverSm, DeliverSmResp, DestAddress, DestAddresses,
    Outbind, Pdu, QuerySm, QuerySmResp, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm,
    SubmitSmResp, UnsuccessSme, UnsuccessSmes,
};
pub use tlv::{Tag, Tlv, TlvIter, TlvType, Tlvs, TlvsBuilder};
pub use types::{COctetString, InvalidValue, SequenceNumber, ShortMessage, Time};
