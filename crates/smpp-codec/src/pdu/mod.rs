//! Every SMPP 3.4 PDU (smpp34.md §3, §4): one owned representation whose fields are slices of
//! the received frame.

mod alert;
mod bind;
mod data;
mod multi;
mod query;
mod submit;

pub use alert::AlertNotification;
pub use bind::{Bind, BindResp, Outbind};
pub use data::DataSm;
pub use multi::{
    DestAddress, DestAddresses, SubmitMulti, SubmitMultiResp, UnsuccessSme, UnsuccessSmes,
};
pub use query::{CancelSm, QuerySm, QuerySmResp, ReplaceSm};
pub use submit::{DataSmResp, DeliverSm, DeliverSmResp, SubmitSm, SubmitSmResp};

use bytes::{BufMut, Bytes, BytesMut};

use crate::codes::{CommandId, CommandStatus};
use crate::error::{DecodeError, Problem};
use crate::field::{BuildError, FieldSource, FieldVisitor};
use crate::header::{Header, HEADER_LEN};
use crate::tlv::Tlvs;

/// How tolerant decoding is.
///
/// The default accepts what real peers send (smpp34.md §9.3, §13): error responses with or
/// without a body, successful responses without one, sequence numbers outside 1..=0x7FFFFFFF,
/// TLVs on PDUs that do not list them, unknown command_status values, C-string TLVs without
/// their NUL. [`DecodeOptions::strict`] rejects all of these and also checks flag values
/// (priority_flag, registered_delivery, replace_if_present_flag, esm_class, TON/NPI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Reject what the spec does not allow even when peers commonly send it.
    pub strict: bool,
}

impl DecodeOptions {
    /// Tolerant decoding (the default).
    pub const TOLERANT: Self = Self { strict: false };
    /// Strict decoding.
    pub const STRICT: Self = Self { strict: true };
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self::TOLERANT
    }
}

/// A PDU body. Responses whose body the spec defines hold an `Option`: `None` when the peer
/// sent the header only (an error response, or a tolerated bodiless success).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// bind_transmitter
    BindTransmitter(Bind),
    /// bind_transmitter_resp
    BindTransmitterResp(Option<BindResp>),
    /// bind_receiver
    BindReceiver(Bind),
    /// bind_receiver_resp
    BindReceiverResp(Option<BindResp>),
    /// bind_transceiver
    BindTransceiver(Bind),
    /// bind_transceiver_resp
    BindTransceiverResp(Option<BindResp>),
    /// outbind
    Outbind(Outbind),
    /// unbind
    Unbind,
    /// unbind_resp
    UnbindResp,
    /// enquire_link
    EnquireLink,
    /// enquire_link_resp
    EnquireLinkResp,
    /// generic_nack
    GenericNack,
    /// submit_sm
    SubmitSm(SubmitSm),
    /// submit_sm_resp
    SubmitSmResp(Option<SubmitSmResp>),
    /// submit_multi
    SubmitMulti(SubmitMulti),
    /// submit_multi_resp
    SubmitMultiResp(Option<SubmitMultiResp>),
    /// deliver_sm
    DeliverSm(DeliverSm),
    /// deliver_sm_resp
    DeliverSmResp(Option<DeliverSmResp>),
    /// data_sm
    DataSm(DataSm),
    /// data_sm_resp
    DataSmResp(Option<DataSmResp>),
    /// query_sm
    QuerySm(QuerySm),
    /// query_sm_resp
    QuerySmResp(Option<QuerySmResp>),
    /// cancel_sm
    CancelSm(CancelSm),
    /// cancel_sm_resp
    CancelSmResp,
    /// replace_sm
    ReplaceSm(ReplaceSm),
    /// replace_sm_resp
    ReplaceSmResp,
    /// alert_notification
    AlertNotification(AlertNotification),
}

/// Applies `$m!(variant, Type)` to every body type, so dispatch tables are written once.
macro_rules! with_bodies {
    ($m:ident) => {
        $m! {
            requests: [
                BindTransmitter(Bind) = BIND_TRANSMITTER,
                BindReceiver(Bind) = BIND_RECEIVER,
                BindTransceiver(Bind) = BIND_TRANSCEIVER,
                Outbind(Outbind) = OUTBIND,
                SubmitSm(SubmitSm) = SUBMIT_SM,
                SubmitMulti(SubmitMulti) = SUBMIT_MULTI,
                DeliverSm(SubmitSm) = DELIVER_SM,
                DataSm(DataSm) = DATA_SM,
                QuerySm(QuerySm) = QUERY_SM,
                CancelSm(CancelSm) = CANCEL_SM,
                ReplaceSm(ReplaceSm) = REPLACE_SM,
                AlertNotification(AlertNotification) = ALERT_NOTIFICATION,
            ],
            responses: [
                BindTransmitterResp(BindResp) = BIND_TRANSMITTER_RESP,
                BindReceiverResp(BindResp) = BIND_RECEIVER_RESP,
                BindTransceiverResp(BindResp) = BIND_TRANSCEIVER_RESP,
                SubmitSmResp(SubmitSmResp) = SUBMIT_SM_RESP,
                SubmitMultiResp(SubmitMultiResp) = SUBMIT_MULTI_RESP,
                DeliverSmResp(SubmitSmResp) = DELIVER_SM_RESP,
                DataSmResp(SubmitSmResp) = DATA_SM_RESP,
                QuerySmResp(QuerySmResp) = QUERY_SM_RESP,
            ],
            empty: [
                Unbind = UNBIND,
                UnbindResp = UNBIND_RESP,
                EnquireLink = ENQUIRE_LINK,
                EnquireLinkResp = ENQUIRE_LINK_RESP,
                GenericNack = GENERIC_NACK,
                CancelSmResp = CANCEL_SM_RESP,
                ReplaceSmResp = REPLACE_SM_RESP,
            ],
        }
    };
}

macro_rules! impl_body {
    (
        requests: [$($rv:ident($rt:ty) = $rid:ident,)*],
        responses: [$($sv:ident($st:ty) = $sid:ident,)*],
        empty: [$($ev:ident = $eid:ident,)*],
    ) => {
        impl Body {
            /// The command_id of this body.
            pub fn command_id(&self) -> CommandId {
                match self {
                    $(Body::$rv(_) => CommandId::$rid,)*
                    $(Body::$sv(_) => CommandId::$sid,)*
                    $(Body::$ev => CommandId::$eid,)*
                }
            }

            /// Walks the mandatory fields in wire order by the spec's names. Nothing for
            /// header-only PDUs and bodiless responses.
            pub fn visit_fields(&self, v: &mut dyn FieldVisitor) {
                match self {
                    $(Body::$rv(b) => b.visit_fields(v),)*
                    $(Body::$sv(Some(b)) => b.visit_fields(v),)*
                    _ => {}
                }
            }

            /// False for a response that came without its body.
            pub fn body_present(&self) -> bool {
                match self {
                    $(Body::$sv(b) => b.is_some(),)*
                    _ => true,
                }
            }

            /// Builds the body for `command_id` from named fields. `body_present = false`
            /// builds a header-only response.
            pub fn from_fields(
                command_id: CommandId,
                body_present: bool,
                src: &mut dyn FieldSource,
            ) -> Result<Body, BuildError> {
                Ok(match command_id {
                    $(CommandId::$rid => Body::$rv(<$rt>::from_fields(src)?),)*
                    $(CommandId::$sid if !body_present => Body::$sv(None),)*
                    $(CommandId::$sid => Body::$sv(Some(<$st>::from_fields(src)?)),)*
                    $(CommandId::$eid => Body::$ev,)*
                    other => {
                        return Err(BuildError::new(
                            "command_id",
                            format!("{other} is not an SMPP 3.4 command"),
                        ))
                    }
                })
            }

            /// `with_tlvs`: a bodiless response cannot carry TLVs on the wire (they would be
            /// read as its body), so it is written with its empty body instead.
            fn encoded_len(&self, with_tlvs: bool) -> usize {
                match self {
                    $(Body::$rv(b) => b.encoded_len(),)*
                    $(Body::$sv(Some(b)) => b.encoded_len(),)*
                    $(Body::$sv(None) if with_tlvs => <$st>::default().encoded_len(),)*
                    _ => 0,
                }
            }

            fn encode(&self, buf: &mut BytesMut, with_tlvs: bool) {
                match self {
                    $(Body::$rv(b) => b.encode(buf),)*
                    $(Body::$sv(Some(b)) => b.encode(buf),)*
                    $(Body::$sv(None) if with_tlvs => <$st>::default().encode(buf),)*
                    _ => {}
                }
            }

            /// Decodes the mandatory part from `body`, leaving it at the octets left for
            /// TLVs. (An out-parameter rather than a tuple: the body is then built in place
            /// instead of copied out of the tuple, a measurable share of a 100 ns decode.)
            #[inline(always)]
            fn decode(
                header: &Header,
                frame: &Bytes,
                body: &mut &[u8],
            ) -> Result<Body, Problem> {
                let fail = |e: nom::Err<crate::field::PErr>| match e {
                    nom::Err::Error(e) | nom::Err::Failure(e) => e.into_problem(),
                    nom::Err::Incomplete(_) => Problem::Truncated { field: "body" },
                };
                Ok(match header.command_id {
                    $(CommandId::$rid => match <$rt>::decode(frame, body) {
                        Ok((rest, b)) => {
                            *body = rest;
                            Body::$rv(b)
                        }
                        Err(e) => return Err(fail(e)),
                    },)*
                    // smpp34.md §13.5: responses may come without a body.
                    $(CommandId::$sid if body.is_empty() => Body::$sv(None),)*
                    $(CommandId::$sid => match <$st>::decode(frame, body) {
                        Ok((rest, b)) => {
                            *body = rest;
                            Body::$sv(Some(b))
                        }
                        Err(e) => return Err(fail(e)),
                    },)*
                    $(CommandId::$eid => Body::$ev,)*
                    _ => return Err(Problem::UnknownCommandId),
                })
            }
        }
    };
}
with_bodies!(impl_body);

/// One PDU: header values, body and TLVs. command_length is computed on encode.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use smpp_codec::{Body, CommandStatus, Pdu, SubmitSm, COctetString, ShortMessage};
///
/// let submit = SubmitSm {
///     destination_addr: COctetString::from_static("819012345678"),
///     data_coding: 0x08,
///     short_message: ShortMessage::new(&b"\x30\x42"[..]).unwrap(),
///     ..Default::default()
/// };
/// let pdu = Pdu::new(7, Body::SubmitSm(submit));
/// let mut buf = BytesMut::new();
/// pdu.encode(&mut buf);
/// let back = Pdu::decode(buf.freeze()).unwrap();
/// assert_eq!(back, pdu);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    /// 0 in requests.
    pub command_status: CommandStatus,
    /// Kept raw so a response echoes exactly what the request carried.
    pub sequence_number: u32,
    /// The mandatory part.
    pub body: Body,
    /// Optional parameters in wire order.
    pub tlvs: Tlvs,
}

/// Octets a PDU of this body and these TLVs takes on the wire, command_length included.
fn encoded_len(body: &Body, tlvs: &Tlvs) -> usize {
    HEADER_LEN + body.encoded_len(!tlvs.is_empty()) + tlvs.as_bytes().len()
}

impl Pdu {
    /// A PDU with status 0 and no TLVs.
    pub fn new(sequence_number: u32, body: Body) -> Self {
        Self { command_status: CommandStatus::ESME_ROK, sequence_number, body, tlvs: Tlvs::new() }
    }

    /// Sets the TLVs.
    pub fn with_tlvs(mut self, tlvs: Tlvs) -> Self {
        self.tlvs = tlvs;
        self
    }

    /// Sets command_status.
    pub fn with_status(mut self, status: CommandStatus) -> Self {
        self.command_status = status;
        self
    }

    /// The command_id of the body.
    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Octets `encode` writes, command_length included.
    pub fn encoded_len(&self) -> usize {
        encoded_len(&self.body, &self.tlvs)
    }

    /// Appends the PDU to `buf`. Cannot fail: every field type holds only encodable values.
    ///
    /// A response without its body (`Body::XResp(None)`) that has TLVs is written with its
    /// empty body, since the TLVs would otherwise be read as the body; it decodes back as
    /// `Some(Default::default())`.
    pub fn encode(&self, buf: &mut BytesMut) {
        Self::encode_parts(self.command_status, self.sequence_number, &self.body, &self.tlvs, buf);
    }

    /// [`Pdu::encode`] from borrowed parts: a caller that keeps the body (to send it again
    /// after a throttle) writes it without cloning it into a `Pdu` first.
    pub fn encode_parts(
        command_status: CommandStatus,
        sequence_number: u32,
        body: &Body,
        tlvs: &Tlvs,
        buf: &mut BytesMut,
    ) {
        let len = encoded_len(body, tlvs);
        buf.reserve(len);
        let header = Header {
            // A PDU larger than 4 GiB cannot be built: short_message ≤ 254, each TLV ≤ 65535
            // and the TLV area is a single Bytes; the cast is for the wire width only.
            command_length: len as u32,
            command_id: body.command_id(),
            command_status,
            sequence_number,
        };
        header.encode(buf);
        body.encode(buf, !tlvs.is_empty());
        tlvs.encode(buf);
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut buf);
        buf.freeze()
    }

    /// Decodes one whole PDU, tolerantly. `frame` must hold exactly command_length octets
    /// (as [`crate::Framer`] returns them). Fields are slices of `frame`; nothing is copied.
    pub fn decode(frame: Bytes) -> Result<Pdu, DecodeError> {
        Self::decode_with(frame, DecodeOptions::TOLERANT)
    }

    /// Decodes one whole PDU with the given options. command_length is checked against
    /// 16..=[`crate::Framer::DEFAULT_MAX_COMMAND_LENGTH`]; frame with a [`crate::Framer`] to use
    /// another maximum.
    #[inline]
    pub fn decode_with(frame: Bytes, opts: DecodeOptions) -> Result<Pdu, DecodeError> {
        const MAX: u32 = crate::Framer::DEFAULT_MAX_COMMAND_LENGTH;
        let header = Header::peek(&frame);
        let err = |problem| DecodeError::new(header, problem);
        let Some(length) = Header::peek_length(&frame) else {
            return Err(err(Problem::Incomplete { have: frame.len(), need: HEADER_LEN }));
        };
        if !(HEADER_LEN as u32..=MAX).contains(&length) {
            return Err(err(Problem::CommandLength { length, max: MAX }));
        }
        let (Some(header), true) = (header, frame.len() >= length as usize) else {
            return Err(err(Problem::Incomplete { have: frame.len(), need: length as usize }));
        };
        if frame.len() > length as usize {
            return Err(err(Problem::TrailingData { extra: frame.len() - length as usize }));
        }
        decode_frame(header, &frame, opts)
    }

    /// Builds a PDU from named values (the inverse of visiting). Used by the `smpp pdu`
    /// CLI's JSON encoder.
    pub fn from_fields(
        command_id: CommandId,
        command_status: CommandStatus,
        sequence_number: u32,
        body_present: bool,
        tlvs: Tlvs,
        src: &mut dyn FieldSource,
    ) -> Result<Pdu, BuildError> {
        let body = Body::from_fields(command_id, body_present, src)?;
        Ok(Pdu { command_status, sequence_number, body, tlvs })
    }

    /// The header-only response to this request with `status` (e.g. ESME_RINVBNDSTS), or
    /// `None` when the request has no response.
    pub fn error_response(&self, status: CommandStatus) -> Option<Pdu> {
        let resp = Header {
            command_length: HEADER_LEN as u32,
            command_id: self.command_id().response_id()?,
            command_status: status,
            sequence_number: self.sequence_number,
        };
        let frame = header_only(&resp);
        decode_frame(resp, &frame, DecodeOptions::TOLERANT).ok()
    }
}

fn header_only(h: &Header) -> Bytes {
    let mut b = BytesMut::with_capacity(HEADER_LEN);
    h.encode(&mut b);
    b.freeze()
}

/// Errors become [`DecodeError`]s here rather than in the caller: a `map_err` over the
/// whole `Result<Pdu, _>` copies the PDU (256 octets) from one layout to the other.
#[inline(always)]
fn decode_frame(header: Header, frame: &Bytes, opts: DecodeOptions) -> Result<Pdu, DecodeError> {
    let err = |problem| DecodeError::new(Some(header), problem);
    let mut rest = &frame[HEADER_LEN..];
    // One struct expression, so the body is decoded straight into the result.
    let pdu = Pdu {
        command_status: header.command_status,
        sequence_number: header.sequence_number,
        body: match Body::decode(&header, frame, &mut rest) {
            Ok(body) => body,
            Err(problem) => return Err(err(problem)),
        },
        tlvs: match Tlvs::parse(frame.slice_ref(rest), opts.strict, header.command_id) {
            Ok(tlvs) => tlvs,
            Err(problem) => return Err(err(problem)),
        },
    };
    if opts.strict {
        if let Err(problem) = strict::check(&header, &pdu.body, &pdu.tlvs) {
            return Err(err(problem));
        }
    }
    Ok(pdu)
}

/// Builds the wire bytes of a [`crate::Reply`] (always header-only).
pub fn encode_reply(reply: &crate::Reply, buf: &mut BytesMut) {
    buf.put_u32(HEADER_LEN as u32);
    buf.put_u32(reply.command_id.0);
    buf.put_u32(reply.command_status.0);
    buf.put_u32(reply.sequence_number);
}

/// Builds the wire bytes of a response whose body is a message_id alone: submit_sm_resp,
/// deliver_sm_resp, or data_sm_resp without TLVs (smpp34.md §4.4.2, §4.6.2, §4.7.2). The same
/// octets as encoding that body, for the hot path that has the id's octets at hand. The caller
/// has checked `message_id` (at most 64 octets, no NUL: a C-Octet String of at most 65).
pub fn encode_message_id_resp(reply: &crate::Reply, message_id: &[u8], buf: &mut BytesMut) {
    let len = HEADER_LEN + message_id.len() + 1;
    buf.reserve(len);
    buf.put_u32(len as u32);
    buf.put_u32(reply.command_id.0);
    buf.put_u32(reply.command_status.0);
    buf.put_u32(reply.sequence_number);
    buf.put_slice(message_id);
    buf.put_u8(0);
}

mod strict;

#[cfg(test)]
mod tests;
