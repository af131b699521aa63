//! Optional parameters (TLVs), smpp34.md §6.
//!
//! A PDU's TLV area is kept as the received bytes ([`Tlvs`]), checked once on decode and read
//! lazily, so unknown and vendor TLVs stay in wire order and re-encode byte-exact, and decoding
//! allocates nothing.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codes::{code_points, CommandId};
use crate::error::Problem;
use crate::types::InvalidValue;

code_points! {
    /// A TLV tag (smpp34.md §6). Unknown tags (vendor 0x1400-0x3FFF, v5.0 ones) are kept.
    pub struct Tag(u16) {
        /// dest_addr_subunit (Int1)
        DEST_ADDR_SUBUNIT = 0x0005 => "dest_addr_subunit",
        /// dest_network_type (Int1)
        DEST_NETWORK_TYPE = 0x0006 => "dest_network_type",
        /// dest_bearer_type (Int1)
        DEST_BEARER_TYPE = 0x0007 => "dest_bearer_type",
        /// dest_telematics_id (Int2)
        DEST_TELEMATICS_ID = 0x0008 => "dest_telematics_id",
        /// source_addr_subunit (Int1)
        SOURCE_ADDR_SUBUNIT = 0x000D => "source_addr_subunit",
        /// source_network_type (Int1)
        SOURCE_NETWORK_TYPE = 0x000E => "source_network_type",
        /// source_bearer_type (Int1)
        SOURCE_BEARER_TYPE = 0x000F => "source_bearer_type",
        /// source_telematics_id (Int1 per §5.3.2.8; peers also send 2 octets)
        SOURCE_TELEMATICS_ID = 0x0010 => "source_telematics_id",
        /// qos_time_to_live (Int4)
        QOS_TIME_TO_LIVE = 0x0017 => "qos_time_to_live",
        /// payload_type (Int1)
        PAYLOAD_TYPE = 0x0019 => "payload_type",
        /// additional_status_info_text (C-Octet String ≤256)
        ADDITIONAL_STATUS_INFO_TEXT = 0x001D => "additional_status_info_text",
        /// receipted_message_id (C-Octet String ≤65)
        RECEIPTED_MESSAGE_ID = 0x001E => "receipted_message_id",
        /// ms_msg_wait_facilities (Int1)
        MS_MSG_WAIT_FACILITIES = 0x0030 => "ms_msg_wait_facilities",
        /// privacy_indicator (Int1)
        PRIVACY_INDICATOR = 0x0201 => "privacy_indicator",
        /// source_subaddress (Octets 2..23)
        SOURCE_SUBADDRESS = 0x0202 => "source_subaddress",
        /// dest_subaddress (Octets 2..23)
        DEST_SUBADDRESS = 0x0203 => "dest_subaddress",
        /// user_message_reference (Int2)
        USER_MESSAGE_REFERENCE = 0x0204 => "user_message_reference",
        /// user_response_code (Int1)
        USER_RESPONSE_CODE = 0x0205 => "user_response_code",
        /// source_port (Int2)
        SOURCE_PORT = 0x020A => "source_port",
        /// destination_port (Int2)
        DESTINATION_PORT = 0x020B => "destination_port",
        /// sar_msg_ref_num (Int2)
        SAR_MSG_REF_NUM = 0x020C => "sar_msg_ref_num",
        /// language_indicator (Int1)
        LANGUAGE_INDICATOR = 0x020D => "language_indicator",
        /// sar_total_segments (Int1)
        SAR_TOTAL_SEGMENTS = 0x020E => "sar_total_segments",
        /// sar_segment_seqnum (Int1)
        SAR_SEGMENT_SEQNUM = 0x020F => "sar_segment_seqnum",
        /// sc_interface_version (Int1)
        SC_INTERFACE_VERSION = 0x0210 => "sc_interface_version",
        /// callback_num_pres_ind (Int1)
        CALLBACK_NUM_PRES_IND = 0x0302 => "callback_num_pres_ind",
        /// callback_num_atag (Octets ≤65)
        CALLBACK_NUM_ATAG = 0x0303 => "callback_num_atag",
        /// number_of_messages (Int1)
        NUMBER_OF_MESSAGES = 0x0304 => "number_of_messages",
        /// callback_num (Octets 4..19)
        CALLBACK_NUM = 0x0381 => "callback_num",
        /// dpf_result (Int1)
        DPF_RESULT = 0x0420 => "dpf_result",
        /// set_dpf (Int1)
        SET_DPF = 0x0421 => "set_dpf",
        /// ms_availability_status (Int1)
        MS_AVAILABILITY_STATUS = 0x0422 => "ms_availability_status",
        /// network_error_code (Octets 3)
        NETWORK_ERROR_CODE = 0x0423 => "network_error_code",
        /// message_payload (Octets 0..65535)
        MESSAGE_PAYLOAD = 0x0424 => "message_payload",
        /// delivery_failure_reason (Int1)
        DELIVERY_FAILURE_REASON = 0x0425 => "delivery_failure_reason",
        /// more_messages_to_send (Int1)
        MORE_MESSAGES_TO_SEND = 0x0426 => "more_messages_to_send",
        /// message_state (Int1)
        MESSAGE_STATE = 0x0427 => "message_state",
        /// ussd_service_op (Int1)
        USSD_SERVICE_OP = 0x0501 => "ussd_service_op",
        /// display_time (Int1)
        DISPLAY_TIME = 0x1201 => "display_time",
        /// sms_signal (Int2)
        SMS_SIGNAL = 0x1203 => "sms_signal",
        /// ms_validity (Int1)
        MS_VALIDITY = 0x1204 => "ms_validity",
        /// alert_on_message_delivery (no value; presence is the flag)
        ALERT_ON_MESSAGE_DELIVERY = 0x130C => "alert_on_message_delivery",
        /// its_reply_type (Int1)
        ITS_REPLY_TYPE = 0x1380 => "its_reply_type",
        /// its_session_info (Octets 2)
        ITS_SESSION_INFO = 0x1383 => "its_session_info",
    }
}

/// The value type the spec gives a tag (smpp34.md §6 "Value" column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlvType {
    /// Integer of 1, 2 or 4 octets.
    Int(u8),
    /// C-Octet String of at most this many octets including the NUL.
    CString(u16),
    /// Octet String of `min..=max` octets.
    Octets(u16, u16),
    /// No value (length 0).
    Empty,
}

// PDU letters of smpp34.md §6, as bits.
const S: u8 = 1; // submit_sm
const M: u8 = 2; // submit_multi
const D: u8 = 4; // deliver_sm
const DS: u8 = 8; // data_sm
const DR: u8 = 16; // data_sm_resp
const B: u8 = 32; // bind_*_resp
const A: u8 = 64; // alert_notification

impl Tag {
    /// The spec's type for this tag, or `None` for an unknown tag.
    pub fn spec_type(self) -> Option<TlvType> {
        self.info().map(|(t, _)| t)
    }

    fn info(self) -> Option<(TlvType, u8)> {
        use TlvType::*;
        let i = match self {
            Self::DEST_ADDR_SUBUNIT => (Int(1), S | M | DS),
            Self::DEST_NETWORK_TYPE | Self::DEST_BEARER_TYPE => (Int(1), DS),
            Self::DEST_TELEMATICS_ID => (Int(2), DS),
            Self::SOURCE_ADDR_SUBUNIT => (Int(1), S | M | DS),
            // Real SMSCs send source_network_type on deliver_sm (smpp34.md §6).
            Self::SOURCE_NETWORK_TYPE => (Int(1), D | DS),
            Self::SOURCE_BEARER_TYPE => (Int(1), DS),
            // §5.3.2.8 says 1 octet, dest_telematics_id is 2; accept both (§13.8).
            Self::SOURCE_TELEMATICS_ID => (Octets(1, 2), DS),
            Self::QOS_TIME_TO_LIVE => (Int(4), DS),
            Self::PAYLOAD_TYPE => (Int(1), S | M | D | DS),
            Self::ADDITIONAL_STATUS_INFO_TEXT => (CString(256), DR),
            Self::RECEIPTED_MESSAGE_ID => (CString(65), D | DS),
            Self::MS_MSG_WAIT_FACILITIES => (Int(1), S | M | DS),
            Self::PRIVACY_INDICATOR => (Int(1), S | M | D | DS),
            Self::SOURCE_SUBADDRESS | Self::DEST_SUBADDRESS => (Octets(2, 23), S | M | D | DS),
            Self::USER_MESSAGE_REFERENCE => (Int(2), S | M | D | DS),
            Self::USER_RESPONSE_CODE => (Int(1), S | D | DS),
            Self::SOURCE_PORT | Self::DESTINATION_PORT => (Int(2), S | M | D | DS),
            Self::SAR_MSG_REF_NUM => (Int(2), S | M | D | DS),
            Self::LANGUAGE_INDICATOR => (Int(1), S | M | D | DS),
            Self::SAR_TOTAL_SEGMENTS | Self::SAR_SEGMENT_SEQNUM => (Int(1), S | M | D | DS),
            Self::SC_INTERFACE_VERSION => (Int(1), B),
            Self::CALLBACK_NUM_PRES_IND => (Int(1), S | M | DS),
            Self::CALLBACK_NUM_ATAG => (Octets(0, 65), S | M | DS),
            Self::NUMBER_OF_MESSAGES => (Int(1), S | DS),
            Self::CALLBACK_NUM => (Octets(4, 19), S | M | D | DS),
            Self::DPF_RESULT => (Int(1), DR),
            Self::SET_DPF => (Int(1), DS),
            Self::MS_AVAILABILITY_STATUS => (Int(1), A),
            Self::NETWORK_ERROR_CODE => (Octets(3, 3), D | DS | DR),
            Self::MESSAGE_PAYLOAD => (Octets(0, u16::MAX), S | M | D | DS),
            Self::DELIVERY_FAILURE_REASON => (Int(1), DR),
            Self::MORE_MESSAGES_TO_SEND => (Int(1), S | DS),
            Self::MESSAGE_STATE => (Int(1), D | DS),
            Self::USSD_SERVICE_OP => (Int(1), S),
            Self::DISPLAY_TIME => (Int(1), S | M | DS),
            Self::SMS_SIGNAL => (Int(2), S | M | DS),
            Self::MS_VALIDITY => (Int(1), S | M | DS),
            Self::ALERT_ON_MESSAGE_DELIVERY => (Empty, S | M | DS),
            Self::ITS_REPLY_TYPE => (Int(1), S | DS),
            Self::ITS_SESSION_INFO => (Octets(2, 2), S | D | DS),
            _ => return None,
        };
        Some(i)
    }

    /// Whether the v3.4 tables list this tag for the PDU (smpp34.md §6 "Used in").
    pub fn allowed_on(self, command_id: CommandId) -> bool {
        let pdu = match command_id {
            CommandId::SUBMIT_SM => S,
            CommandId::SUBMIT_MULTI => M,
            CommandId::DELIVER_SM => D,
            CommandId::DATA_SM => DS,
            CommandId::DATA_SM_RESP => DR,
            CommandId::BIND_RECEIVER_RESP
            | CommandId::BIND_TRANSMITTER_RESP
            | CommandId::BIND_TRANSCEIVER_RESP => B,
            CommandId::ALERT_NOTIFICATION => A,
            _ => 0,
        };
        self.info().is_some_and(|(_, pdus)| pdus & pdu != 0)
    }

    fn length_ok(self, len: u16) -> bool {
        match self.spec_type() {
            None => true,
            Some(TlvType::Int(n)) => len == u16::from(n),
            Some(TlvType::CString(max)) => (1..=max).contains(&len),
            Some(TlvType::Octets(min, max)) => (min..=max).contains(&len),
            Some(TlvType::Empty) => len == 0,
        }
    }
}

/// One TLV, borrowed from its PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value octets (length = `value.len()`).
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The value as an integer when the spec gives the tag an integer type and the length fits.
    pub fn as_int(&self) -> Option<u32> {
        match (self.tag.spec_type()?, self.value) {
            (TlvType::Int(1), [a]) => Some(u32::from(*a)),
            (TlvType::Int(2), [a, b]) => Some(u32::from(u16::from_be_bytes([*a, *b]))),
            (TlvType::Int(4), [a, b, c, d]) => Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }

    /// The value without its NUL when the spec gives the tag a C-Octet String type. A value
    /// missing the NUL is returned whole (peers do send that).
    pub fn as_c_str(&self) -> Option<&'a [u8]> {
        match self.tag.spec_type()? {
            TlvType::CString(_) => Some(self.value.strip_suffix(&[0]).unwrap_or(self.value)),
            _ => None,
        }
    }
}

/// The TLV area of a PDU, in wire order.
///
/// ```
/// use smpp_codec::{Tag, Tlvs};
/// let tlvs = Tlvs::builder()
///     .message_payload(b"hello")
///     .unwrap()
///     .push_u8(Tag::MESSAGE_STATE, 2)
///     .build();
/// assert_eq!(tlvs.message_payload(), Some(&b"hello"[..]));
/// assert_eq!(tlvs.message_state(), Some(2));
/// assert_eq!(tlvs.iter().count(), 2);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Tlvs {
    raw: Bytes,
}

impl Tlvs {
    /// No TLVs.
    pub const fn new() -> Self {
        Self { raw: Bytes::new() }
    }

    /// Starts building a TLV area.
    pub fn builder() -> TlvsBuilder {
        TlvsBuilder::default()
    }

    /// Starts building a TLV area in `buf`'s spare capacity (what `buf` holds is dropped).
    /// Split from the buffer of a PDU's other fields, the area shares their allocation.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use smpp_codec::{Tag, Tlvs};
    /// let mut buf = BytesMut::with_capacity(64);
    /// buf.extend_from_slice(b"text");
    /// let text = buf.split().freeze();
    /// let tlvs = Tlvs::builder_in(buf).push_u8(Tag::MESSAGE_STATE, 2).build();
    /// assert_eq!((&text[..], tlvs.message_state()), (&b"text"[..], Some(2)));
    /// ```
    pub fn builder_in(mut buf: BytesMut) -> TlvsBuilder {
        buf.clear();
        TlvsBuilder { buf }
    }

    /// Checks a received TLV area (smpp34.md §6, receiver rules) and keeps it as is.
    pub(crate) fn parse(raw: Bytes, strict: bool, command_id: CommandId) -> Result<Self, Problem> {
        let mut rest = &raw[..];
        while !rest.is_empty() {
            let Some((head, after)) = rest.split_first_chunk::<4>() else {
                return Err(Problem::TlvStream { reason: "1-3 stray octets after the last TLV" });
            };
            let tag = Tag(u16::from_be_bytes([head[0], head[1]]));
            let len = u16::from_be_bytes([head[2], head[3]]);
            if usize::from(len) > after.len() {
                return Err(Problem::TlvStream { reason: "a TLV length runs past the PDU" });
            }
            if !tag.length_ok(len) {
                return Err(Problem::TlvLength { tag, len });
            }
            if strict {
                check_strict(tag, &after[..usize::from(len)], command_id)?;
            }
            rest = &after[usize::from(len)..];
        }
        Ok(Self { raw })
    }

    /// Iterates the TLVs in wire order.
    pub fn iter(&self) -> TlvIter<'_> {
        TlvIter { rest: &self.raw }
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The raw area as it goes on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The first TLV with this tag.
    pub fn get(&self, tag: Tag) -> Option<&[u8]> {
        self.iter().find(|t| t.tag == tag).map(|t| t.value)
    }

    fn int(&self, tag: Tag) -> Option<u32> {
        self.iter().find(|t| t.tag == tag).and_then(|t| t.as_int())
    }

    /// message_payload (user data instead of short_message).
    pub fn message_payload(&self) -> Option<&[u8]> {
        self.get(Tag::MESSAGE_PAYLOAD)
    }

    /// receipted_message_id without its NUL.
    pub fn receipted_message_id(&self) -> Option<&[u8]> {
        self.iter().find(|t| t.tag == Tag::RECEIPTED_MESSAGE_ID).and_then(|t| t.as_c_str())
    }

    /// message_state (smpp34.md §7.9).
    pub fn message_state(&self) -> Option<u8> {
        self.int(Tag::MESSAGE_STATE).map(|v| v as u8)
    }

    /// network_error_code: 3 octets (type, then a 2-octet code), kept opaque since some SMSCs
    /// send ASCII "000" (smpp34.md §9.3).
    pub fn network_error_code(&self) -> Option<&[u8]> {
        self.get(Tag::NETWORK_ERROR_CODE)
    }

    /// sc_interface_version from a bind response.
    pub fn sc_interface_version(&self) -> Option<u8> {
        self.int(Tag::SC_INTERFACE_VERSION).map(|v| v as u8)
    }

    /// The SAR triple (reference, total, sequence), only when all three are present
    /// (smpp34.md §10.1: otherwise all are ignored).
    pub fn sar(&self) -> Option<(u16, u8, u8)> {
        let r = self.int(Tag::SAR_MSG_REF_NUM)? as u16;
        let t = self.int(Tag::SAR_TOTAL_SEGMENTS)? as u8;
        let s = self.int(Tag::SAR_SEGMENT_SEQNUM)? as u8;
        Some((r, t, s))
    }

    /// user_message_reference.
    pub fn user_message_reference(&self) -> Option<u16> {
        self.int(Tag::USER_MESSAGE_REFERENCE).map(|v| v as u16)
    }

    /// ms_availability_status from alert_notification.
    pub fn ms_availability_status(&self) -> Option<u8> {
        self.int(Tag::MS_AVAILABILITY_STATUS).map(|v| v as u8)
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_slice(&self.raw);
    }
}

fn check_strict(tag: Tag, value: &[u8], command_id: CommandId) -> Result<(), Problem> {
    if tag.spec_type().is_some() && !tag.allowed_on(command_id) {
        return Err(Problem::TlvNotAllowed { tag });
    }
    if matches!(tag.spec_type(), Some(TlvType::CString(_))) && value.last() != Some(&0) {
        return Err(Problem::TlvStream { reason: "a C-Octet String TLV lacks its NUL" });
    }
    Ok(())
}

impl core::fmt::Debug for Tlvs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over a checked TLV area.
#[derive(Clone, Debug)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Tlv<'a>;

    fn next(&mut self) -> Option<Tlv<'a>> {
        // The area was checked by `Tlvs::parse` or built by `TlvsBuilder`, so every length
        // fits; the `get`s only keep this total on any input.
        let (head, after) = self.rest.split_first_chunk::<4>()?;
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = after.get(..len)?;
        self.rest = &after[len..];
        Some(Tlv { tag: Tag(u16::from_be_bytes([head[0], head[1]])), value })
    }
}

/// Builds a TLV area in the order the TLVs are pushed.
#[derive(Clone, Debug, Default)]
pub struct TlvsBuilder {
    buf: BytesMut,
}

impl TlvsBuilder {
    /// Makes room for `n` more octets, at least 32 at first: an area usually holds two or
    /// three small TLVs, which otherwise regrew the buffer once per put.
    fn room(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() < n {
            self.buf.reserve(n.max(32));
        }
    }

    /// Appends any TLV (unknown and vendor tags included).
    pub fn push(mut self, tag: Tag, value: &[u8]) -> Result<Self, InvalidValue> {
        let len = u16::try_from(value.len())
            .map_err(|_| InvalidValue::TlvTooLong { len: value.len() })?;
        self.room(4 + value.len());
        self.buf.put_u16(tag.0);
        self.buf.put_u16(len);
        self.buf.put_slice(value);
        Ok(self)
    }

    /// Appends a 1-octet integer TLV.
    pub fn push_u8(mut self, tag: Tag, value: u8) -> Self {
        self.room(5);
        self.buf.put_u16(tag.0);
        self.buf.put_u16(1);
        self.buf.put_u8(value);
        self
    }

    /// Appends a 2-octet integer TLV.
    pub fn push_u16(mut self, tag: Tag, value: u16) -> Self {
        self.room(6);
        self.buf.put_u16(tag.0);
        self.buf.put_u16(2);
        self.buf.put_u16(value);
        self
    }

    /// Appends a C-Octet String TLV, adding the NUL.
    pub fn push_c_str(mut self, tag: Tag, value: &[u8]) -> Result<Self, InvalidValue> {
        if let Some(offset) = value.iter().position(|&b| b == 0) {
            return Err(InvalidValue::ContainsNul { offset });
        }
        let len = u16::try_from(value.len() + 1)
            .map_err(|_| InvalidValue::TlvTooLong { len: value.len() + 1 })?;
        self.room(5 + value.len());
        self.buf.put_u16(tag.0);
        self.buf.put_u16(len);
        self.buf.put_slice(value);
        self.buf.put_u8(0);
        Ok(self)
    }

    /// message_payload (up to 65535 octets).
    pub fn message_payload(self, value: &[u8]) -> Result<Self, InvalidValue> {
        self.push(Tag::MESSAGE_PAYLOAD, value)
    }

    /// The three SAR TLVs (smpp34.md §10.1).
    pub fn sar(self, reference: u16, total: u8, seqnum: u8) -> Self {
        self.push_u16(Tag::SAR_MSG_REF_NUM, reference)
            .push_u8(Tag::SAR_TOTAL_SEGMENTS, total)
            .push_u8(Tag::SAR_SEGMENT_SEQNUM, seqnum)
    }

    /// receipted_message_id (adds the NUL; at most 64 characters).
    pub fn receipted_message_id(self, id: &[u8]) -> Result<Self, InvalidValue> {
        if id.len() > 64 {
            return Err(InvalidValue::TooLong { len: id.len(), max: 64 });
        }
        self.push_c_str(Tag::RECEIPTED_MESSAGE_ID, id)
    }

    /// Finishes the area.
    pub fn build(self) -> Tlvs {
        Tlvs { raw: self.buf.freeze() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &'static [u8]) -> Result<Tlvs, Problem> {
        Tlvs::parse(Bytes::from_static(bytes), false, CommandId::DELIVER_SM)
    }

    #[test]
    fn keeps_unknown_and_vendor_tags_in_wire_order() {
        let t = parse(&[0x14, 0x01, 0, 1, 9, 0x04, 0x27, 0, 1, 2, 0x06, 0x0D, 0, 0]).unwrap();
        let tags: Vec<u16> = t.iter().map(|t| t.tag.0).collect();
        assert_eq!(tags, [0x1401, 0x0427, 0x060D]);
        assert_eq!(t.message_state(), Some(2));
    }

    #[test]
    fn rejects_length_running_past_the_pdu() {
        // receipted_message_id declaring 0x41 octets with 5 present (smpp34.md §9.3).
        let e = parse(&[0x00, 0x1E, 0x00, 0x41, b'a', b'b', b'c', b'd', 0]).unwrap_err();
        assert!(matches!(e, Problem::TlvStream { .. }));
    }

    #[test]
    fn rejects_stray_octets() {
        assert!(matches!(
            parse(&[0x04, 0x27, 0, 1, 2, 0xAA]).unwrap_err(),
            Problem::TlvStream { .. }
        ));
    }

    #[test]
    fn rejects_wrong_fixed_length() {
        let e = parse(&[0x04, 0x27, 0, 2, 0, 2]).unwrap_err();
        assert_eq!(e, Problem::TlvLength { tag: Tag::MESSAGE_STATE, len: 2 });
    }

    #[test]
    fn accepts_ascii_network_error_code_and_empty_payload() {
        let t = parse(&[0x04, 0x23, 0, 3, b'0', b'0', b'0', 0x04, 0x24, 0, 0]).unwrap();
        assert_eq!(t.network_error_code(), Some(&b"000"[..]));
        assert_eq!(t.message_payload(), Some(&[][..]));
    }

    #[test]
    fn strict_rejects_tlv_not_listed_for_the_pdu() {
        // more_messages_to_send on deliver_sm: tolerated by default, refused when strict.
        let raw = Bytes::from_static(&[0x04, 0x26, 0, 1, 1]);
        assert!(Tlvs::parse(raw.clone(), false, CommandId::DELIVER_SM).is_ok());
        assert_eq!(
            Tlvs::parse(raw, true, CommandId::DELIVER_SM).unwrap_err(),
            Problem::TlvNotAllowed { tag: Tag::MORE_MESSAGES_TO_SEND }
        );
    }

    #[test]
    fn receipted_message_id_strips_nul_and_tolerates_its_absence() {
        let t = parse(&[0x00, 0x1E, 0, 3, b'a', b'b', 0, 0x00, 0x1E, 0, 2, b'c', b'd']).unwrap();
        assert_eq!(t.receipted_message_id(), Some(&b"ab"[..]));
        let second = t.iter().nth(1).unwrap();
        assert_eq!(second.as_c_str(), Some(&b"cd"[..]));
    }

    #[test]
    fn builder_in_drops_what_the_buffer_held() {
        let mut buf = BytesMut::with_capacity(16);
        buf.extend_from_slice(b"old");
        let t = Tlvs::builder_in(buf).push_u8(Tag::MESSAGE_STATE, 2).build();
        assert_eq!(t.as_bytes(), Tlvs::builder().push_u8(Tag::MESSAGE_STATE, 2).build().as_bytes());
    }

    #[test]
    fn sar_needs_all_three() {
        let t = Tlvs::builder().sar(0x1234, 3, 2).build();
        assert_eq!(t.sar(), Some((0x1234, 3, 2)));
        let partial = Tlvs::builder().push_u16(Tag::SAR_MSG_REF_NUM, 1).build();
        assert_eq!(partial.sar(), None);
    }
}
