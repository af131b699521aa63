//! Delivery receipts (smpp34.md §9): deliver_sm with esm_class 0x04, source and destination
//! swapped (§9.1, §13.14), the Appendix B text (§9.2) and the receipted_message_id /
//! message_state / network_error_code TLVs (§6), each switchable.

use bytes::BytesMut;
use serde::Deserialize;
use smpp_codec::{COctetString, DeliverSm, EsmClass, ShortMessage, Tag, Tlvs};

use crate::config::ReceiptConfig;
use crate::time::{push_padded, push_receipt_date};

/// A message state as receipts report it (smpp34.md §7.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum Stat {
    /// In transit / being retried (message_state 1). Intermediate.
    #[serde(alias = "ENROUTE", alias = "enroute")]
    Enroute,
    /// Delivered (2).
    #[serde(alias = "DELIVRD", alias = "delivrd", alias = "delivered")]
    Delivrd,
    /// Validity period elapsed (3).
    #[serde(alias = "EXPIRED", alias = "expired")]
    Expired,
    /// Deleted, e.g. cancelled (4).
    #[serde(alias = "DELETED", alias = "deleted")]
    Deleted,
    /// Undeliverable (5).
    #[serde(alias = "UNDELIV", alias = "undeliv", alias = "undeliverable")]
    Undeliv,
    /// Accepted (6); carriers use it as an interim state.
    #[serde(alias = "ACCEPTD", alias = "acceptd", alias = "accepted")]
    Acceptd,
    /// Unknown (7).
    #[serde(alias = "UNKNOWN", alias = "unknown")]
    Unknown,
    /// Rejected (8).
    #[serde(alias = "REJECTD", alias = "rejectd", alias = "rejected")]
    Rejectd,
}

impl Stat {
    /// The 7-character `stat:` text.
    pub fn text(self) -> &'static str {
        match self {
            Stat::Enroute => "ENROUTE",
            Stat::Delivrd => "DELIVRD",
            Stat::Expired => "EXPIRED",
            Stat::Deleted => "DELETED",
            Stat::Undeliv => "UNDELIV",
            Stat::Acceptd => "ACCEPTD",
            Stat::Unknown => "UNKNOWN",
            Stat::Rejectd => "REJECTD",
        }
    }

    /// The message_state value (smpp34.md §7.9).
    pub fn message_state(self) -> u8 {
        match self {
            Stat::Enroute => 1,
            Stat::Delivrd => 2,
            Stat::Expired => 3,
            Stat::Deleted => 4,
            Stat::Undeliv => 5,
            Stat::Acceptd => 6,
            Stat::Unknown => 7,
            Stat::Rejectd => 8,
        }
    }

    /// Whether the message is finished in this state. ACCEPTD counts as final in the spec;
    /// as an intermediate receipt it is used the other way, which the caller decides.
    pub fn is_final(self) -> bool {
        self != Stat::Enroute
    }

    /// Whether registered_delivery `rd` asks for a final receipt in this state (smpp34.md
    /// §7.2: 1 = always, 2 = on failure only).
    pub(crate) fn wanted_by(self, rd: u8) -> bool {
        match rd & 0x03 {
            1 => true,
            2 => self != Stat::Delivrd,
            _ => false,
        }
    }
}

/// An address with its TON and NPI, as it travels in submit_sm / deliver_sm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Addr {
    pub(crate) ton: smpp_codec::Ton,
    pub(crate) npi: smpp_codec::Npi,
    pub(crate) addr: COctetString<21>,
}

impl Addr {
    pub(crate) fn as_str(&self) -> &str {
        self.addr.to_str().unwrap_or("")
    }
}

/// An address as a stored message keeps it: inline, so that it neither pins the received
/// frame's buffer nor costs an allocation of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StoredAddr {
    pub(crate) ton: smpp_codec::Ton,
    pub(crate) npi: smpp_codec::Npi,
    len: u8,
    octets: [u8; 20],
}

impl From<&Addr> for StoredAddr {
    fn from(a: &Addr) -> Self {
        let src = a.addr.as_bytes();
        let mut octets = [0; 20];
        octets[..src.len()].copy_from_slice(src);
        Self { ton: a.ton, npi: a.npi, len: src.len() as u8, octets }
    }
}

impl StoredAddr {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.octets[..usize::from(self.len)]
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// What a receipt says about one message.
pub(crate) struct ReceiptInfo<'a> {
    /// Id in the resp format (receipted_message_id).
    pub(crate) id: &'a [u8],
    /// Id as the text shows it.
    pub(crate) text_id: &'a [u8],
    /// The submit's source (becomes the receipt's destination).
    pub(crate) source: &'a StoredAddr,
    /// The submit's destination (becomes the receipt's source).
    pub(crate) dest: &'a StoredAddr,
    pub(crate) submit_unix: i64,
    pub(crate) done_unix: i64,
    pub(crate) stat: Stat,
    pub(crate) err: u16,
    /// The first characters of the message, for `text:`.
    pub(crate) preview: &'a [u8],
    pub(crate) intermediate: bool,
}

/// The Appendix B text: `id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm
/// stat:DELIVRD err:000 text:…` (smpp34.md §9.2).
fn push_receipt_text(text: &mut BytesMut, r: &ReceiptInfo<'_>, offset_minutes: i32) {
    let dlvrd = if r.stat == Stat::Delivrd { b"001" } else { b"000" };
    // Appended piece by piece: `format!` (growing its String several times) was the
    // simulator's largest cost per receipt.
    for piece in [&b"id:"[..], r.text_id, b" sub:001 dlvrd:", dlvrd, b" submit date:"] {
        text.extend_from_slice(piece);
    }
    push_receipt_date(text, r.submit_unix, offset_minutes);
    text.extend_from_slice(b" done date:");
    push_receipt_date(text, r.done_unix, offset_minutes);
    for piece in [" stat:", r.stat.text(), " err:"] {
        text.extend_from_slice(piece.as_bytes());
    }
    push_padded(text, u32::from(r.err), 3);
    text.extend_from_slice(b" text:");
    text.extend_from_slice(r.preview);
}

/// Octets of the receipt TLVs but for the id: the receipted_message_id header and NUL (5),
/// message_state (5), network_error_code (7).
const TLV_ROOM: usize = 17;

/// Builds the receipt deliver_sm and its TLVs.
pub(crate) fn build(
    r: &ReceiptInfo<'_>,
    cfg: &ReceiptConfig,
    offset_minutes: i32,
) -> (DeliverSm, Tlvs) {
    // The two addresses, the text and the TLVs share one buffer, so that the deliver_sm costs
    // two allocations (the buffer and its reference count).
    let (from, to) = (r.dest.as_bytes(), r.source.as_bytes());
    let text_room = 120 + r.text_id.len() + r.preview.len();
    let tlv_room = TLV_ROOM + r.id.len() + if cfg.text_in_payload { 4 + text_room } else { 0 };
    let mut buf = BytesMut::with_capacity(from.len() + to.len() + text_room + tlv_room);
    buf.extend_from_slice(from);
    buf.extend_from_slice(to);
    if cfg.text {
        push_receipt_text(&mut buf, r, offset_minutes);
    }
    let source_addr = COctetString::new(buf.split_to(from.len()).freeze()).expect("stored valid");
    let destination_addr =
        COctetString::new(buf.split_to(to.len()).freeze()).expect("stored valid");
    let mut text = buf.split();
    let mut tlvs = Tlvs::builder_in(buf);
    let mut short_message = ShortMessage::empty();
    if cfg.text_in_payload {
        tlvs = tlvs.message_payload(&text).expect("receipt text is short");
    } else {
        // The text is at most ~170 octets; a 64-character id could push it past 254.
        text.truncate(ShortMessage::MAX);
        short_message = ShortMessage::new(text.freeze()).expect("truncated to the maximum");
    }
    if cfg.tlv_receipted_message_id {
        // Ids are at most 64 characters by construction (formats of a u64, or a UUID).
        tlvs = tlvs.receipted_message_id(r.id).expect("message ids fit 64 characters");
    }
    if cfg.tlv_message_state {
        tlvs = tlvs.push_u8(Tag::MESSAGE_STATE, r.stat.message_state());
    }
    if cfg.tlv_network_error_code {
        let [hi, lo] = r.err.to_be_bytes();
        tlvs = tlvs.push(Tag::NETWORK_ERROR_CODE, &[cfg.network_type, hi, lo]).expect("3 octets");
    }
    let esm = if r.intermediate { cfg.intermediate_esm_class } else { EsmClass::DELIVERY_RECEIPT };
    let pdu = DeliverSm {
        source_addr_ton: r.dest.ton,
        source_addr_npi: r.dest.npi,
        source_addr,
        dest_addr_ton: r.source.ton,
        dest_addr_npi: r.source.npi,
        destination_addr,
        esm_class: EsmClass(esm),
        short_message,
        ..Default::default()
    };
    (pdu, tlvs.build())
}

/// The first 20 characters of a message for `text:`, ASCII only (the receipt travels as
/// data_coding 0; the text is informational, smpp34.md §9.3).
pub(crate) fn preview(text: &str) -> Preview {
    preview_chars(text.chars())
}

/// [`preview`] of user data by its data_coding, decoding only the characters it shows (an
/// empty preview where the data_coding is not text).
pub(crate) fn preview_of(data_coding: u8, body: &[u8]) -> Preview {
    use smpp_sms::reassembly::TextChars;
    match smpp_sms::reassembly::text_chars(data_coding, body) {
        // GSM, nearly every message, through its own iterator: one loop without a match per
        // character.
        Some(TextChars::Gsm(chars)) => preview_chars(chars),
        Some(chars) => preview_chars(chars),
        None => preview(""),
    }
}

fn preview_chars(chars: impl Iterator<Item = char>) -> Preview {
    let mut p = Preview { len: 0, octets: [0; 20] };
    for (o, c) in p.octets.iter_mut().zip(chars) {
        *o = if c.is_ascii_graphic() || c == ' ' { c as u8 } else { b'?' };
        p.len += 1;
    }
    p
}

/// A message's [`preview`], inline: every stored message keeps one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Preview {
    len: u8,
    octets: [u8; 20],
}

impl Preview {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.octets[..usize::from(self.len)]
    }

    #[cfg(test)]
    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp_codec::{Npi, Ton};

    fn addr(s: &'static str) -> StoredAddr {
        let a =
            Addr { ton: Ton::INTERNATIONAL, npi: Npi::ISDN, addr: COctetString::from_static(s) };
        StoredAddr::from(&a)
    }

    #[test]
    fn receipt_swaps_addresses_and_carries_appendix_b_text_and_tlvs() {
        let (src, dst) = (addr("0312345678"), addr("819012345678"));
        let info = ReceiptInfo {
            id: b"38601fa",
            text_id: b"0059113978",
            source: &src,
            dest: &dst,
            submit_unix: 1_738_335_540,
            done_unix: 1_738_335_600,
            stat: Stat::Delivrd,
            err: 0,
            preview: b"hello",
            intermediate: false,
        };
        let (pdu, tlvs) = build(&info, &ReceiptConfig::default(), 540);
        assert_eq!(pdu.source_addr.as_bytes(), b"819012345678");
        assert_eq!(pdu.destination_addr.as_bytes(), b"0312345678");
        assert!(pdu.esm_class.is_delivery_receipt());
        assert_eq!(
            std::str::from_utf8(pdu.short_message.as_bytes()).unwrap(),
            "id:0059113978 sub:001 dlvrd:001 submit date:2501312359 done date:2502010000 stat:DELIVRD err:000 text:hello"
        );
        assert_eq!(tlvs.receipted_message_id(), Some(&b"38601fa"[..]));
        assert_eq!(tlvs.message_state(), Some(2));
        assert_eq!(tlvs.network_error_code(), Some(&[3, 0, 0][..]));
    }

    #[test]
    fn text_in_payload_leaves_the_short_message_empty() {
        let (src, dst) = (addr("0312345678"), addr("819012345678"));
        let info = ReceiptInfo {
            id: b"7",
            text_id: b"7",
            source: &src,
            dest: &dst,
            submit_unix: 0,
            done_unix: 0,
            stat: Stat::Undeliv,
            err: 12,
            preview: b"",
            intermediate: false,
        };
        let cfg = ReceiptConfig { text_in_payload: true, ..ReceiptConfig::default() };
        let (pdu, tlvs) = build(&info, &cfg, 0);
        assert!(pdu.short_message.as_bytes().is_empty());
        assert_eq!(pdu.source_addr.as_bytes(), b"819012345678");
        assert_eq!(pdu.destination_addr.as_bytes(), b"0312345678");
        let text = tlvs.message_payload().unwrap();
        assert!(text.starts_with(b"id:7 sub:001 dlvrd:000 submit date:7001010000"), "{text:?}");
        assert!(text.ends_with(b" stat:UNDELIV err:012 text:"), "{text:?}");
    }

    #[test]
    fn preview_is_the_first_20_characters_in_ascii() {
        assert_eq!(preview("hello").as_str(), "hello");
        assert_eq!(preview("ありがとう ok").as_str(), "????? ok");
        assert_eq!(preview("0123456789abcdefghijKLMN").as_str(), "0123456789abcdefghij");
        // From the octets: GSM with an escape ('[' is ESC 0x3C), UCS-2, and binary.
        let gsm = smpp_sms::gsm7::encode_unpacked("a[b] 0123456789abcdefghij").unwrap();
        assert_eq!(preview_of(0x00, &gsm).as_str(), "a[b] 0123456789abcde");
        let ucs2 = smpp_sms::ucs2::encode("ありがとう ok");
        assert_eq!(preview_of(0x08, &ucs2).as_str(), "????? ok");
        assert_eq!(preview_of(0x04, b"binary").as_str(), "");
        assert_eq!(preview("tab\there").as_str(), "tab?here");
    }

    #[test]
    fn failure_only_receipts_skip_delivered() {
        assert!(Stat::Undeliv.wanted_by(2));
        assert!(!Stat::Delivrd.wanted_by(2));
        assert!(Stat::Delivrd.wanted_by(1));
        assert!(!Stat::Delivrd.wanted_by(0));
    }
}
