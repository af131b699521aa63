//! Delivery receipts (smpp34.md §9): deliver_sm with esm_class 0x04, source and destination
//! swapped (§9.1, §13.14), the Appendix B text (§9.2) and the receipted_message_id /
//! message_state / network_error_code TLVs (§6), each switchable.

use bytes::Bytes;
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
    /// A copy that no longer shares the received frame's buffer: whatever is kept after the
    /// request is answered must not pin the connection's read buffer.
    pub(crate) fn owned(&self) -> Addr {
        Addr {
            ton: self.ton,
            npi: self.npi,
            addr: COctetString::new(Bytes::copy_from_slice(self.addr.as_bytes()))
                .expect("already valid"),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        self.addr.to_str().unwrap_or("")
    }
}

/// What a receipt says about one message.
pub(crate) struct ReceiptInfo<'a> {
    /// Id in the resp format (receipted_message_id).
    pub(crate) id: &'a str,
    /// Id as the text shows it.
    pub(crate) text_id: &'a str,
    /// The submit's source (becomes the receipt's destination).
    pub(crate) source: &'a Addr,
    /// The submit's destination (becomes the receipt's source).
    pub(crate) dest: &'a Addr,
    pub(crate) submit_unix: i64,
    pub(crate) done_unix: i64,
    pub(crate) stat: Stat,
    pub(crate) err: u16,
    /// The first characters of the message, for `text:`.
    pub(crate) preview: &'a str,
    pub(crate) intermediate: bool,
}

/// The Appendix B text: `id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm
/// stat:DELIVRD err:000 text:…` (smpp34.md §9.2).
pub(crate) fn receipt_text(r: &ReceiptInfo<'_>, offset_minutes: i32) -> String {
    let dlvrd = if r.stat == Stat::Delivrd { "001" } else { "000" };
    // Appended piece by piece into one allocation: `format!` (growing its String several
    // times) was the simulator's largest cost per receipt.
    let mut text = String::with_capacity(120 + r.text_id.len() + r.preview.len());
    text.push_str("id:");
    text.push_str(r.text_id);
    text.push_str(" sub:001 dlvrd:");
    text.push_str(dlvrd);
    text.push_str(" submit date:");
    push_receipt_date(&mut text, r.submit_unix, offset_minutes);
    text.push_str(" done date:");
    push_receipt_date(&mut text, r.done_unix, offset_minutes);
    text.push_str(" stat:");
    text.push_str(r.stat.text());
    text.push_str(" err:");
    push_padded(&mut text, u32::from(r.err), 3);
    text.push_str(" text:");
    text.push_str(r.preview);
    text
}

/// Builds the receipt deliver_sm and its TLVs.
pub(crate) fn build(
    r: &ReceiptInfo<'_>,
    cfg: &ReceiptConfig,
    offset_minutes: i32,
) -> (DeliverSm, Tlvs) {
    let text = if cfg.text { receipt_text(r, offset_minutes) } else { String::new() };
    let mut tlvs = Tlvs::builder();
    let mut short_message = ShortMessage::empty();
    if cfg.text_in_payload {
        tlvs = tlvs.message_payload(text.as_bytes()).expect("receipt text is short");
    } else {
        // The text is at most ~170 octets; a 64-character id could push it past 254.
        let mut b = text.into_bytes();
        b.truncate(ShortMessage::MAX);
        short_message = ShortMessage::new(Bytes::from(b)).expect("truncated to the maximum");
    }
    if cfg.tlv_receipted_message_id {
        // Ids are at most 64 characters by construction (formats of a u64, or a UUID).
        tlvs = tlvs.receipted_message_id(r.id.as_bytes()).expect("message ids fit 64 characters");
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
        source_addr: r.dest.addr.clone(),
        dest_addr_ton: r.source.ton,
        dest_addr_npi: r.source.npi,
        destination_addr: r.source.addr.clone(),
        esm_class: EsmClass(esm),
        short_message,
        ..Default::default()
    };
    (pdu, tlvs.build())
}

/// The first 20 characters of a message for `text:`, ASCII only (the receipt travels as
/// data_coding 0; the text is informational, smpp34.md §9.3).
pub(crate) fn preview(text: &str) -> String {
    let mut preview = String::with_capacity(20); // ASCII only: 20 octets, one allocation
    preview.extend(text.chars().take(20).map(|c| {
        if c.is_ascii_graphic() || c == ' ' {
            c
        } else {
            '?'
        }
    }));
    preview
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp_codec::{Npi, Ton};

    fn addr(s: &'static str) -> Addr {
        Addr { ton: Ton::INTERNATIONAL, npi: Npi::ISDN, addr: COctetString::from_static(s) }
    }

    #[test]
    fn receipt_swaps_addresses_and_carries_appendix_b_text_and_tlvs() {
        let (src, dst) = (addr("0312345678"), addr("819012345678"));
        let info = ReceiptInfo {
            id: "38601fa",
            text_id: "0059113978",
            source: &src,
            dest: &dst,
            submit_unix: 1_738_335_540,
            done_unix: 1_738_335_600,
            stat: Stat::Delivrd,
            err: 0,
            preview: "hello",
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
    fn failure_only_receipts_skip_delivered() {
        assert!(Stat::Undeliv.wanted_by(2));
        assert!(!Stat::Delivrd.wanted_by(2));
        assert!(Stat::Delivrd.wanted_by(1));
        assert!(!Stat::Delivrd.wanted_by(0));
    }
}
