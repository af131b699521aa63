//! Turning a text into the submit_sm PDUs that carry it (with `smpp-sms`'s per-carrier
//! segmentation): what `smpp send`, `smpp bench` and the daemon put on the wire.

use smpp_codec::{COctetString, EsmClass, Npi, ShortMessage, SubmitSm, Tlvs, Ton};
use smpp_sms::Segmented;

use crate::error::Error;

/// An address with the TON/NPI it needs (smpp34.md §7.4): `+8190…` or `8190…` international
/// (1/1), `090…` national (2/1), anything with letters alphanumeric (5/0).
pub fn address(text: &str, field: &str) -> Result<(Ton, Npi, COctetString<21>), Error> {
    let (ton, npi, digits) = if let Some(rest) = text.strip_prefix('+') {
        (Ton::INTERNATIONAL, Npi::ISDN, rest)
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        if text.starts_with('0') {
            (Ton::NATIONAL, Npi::ISDN, text)
        } else {
            (Ton::INTERNATIONAL, Npi::ISDN, text)
        }
    } else {
        (Ton::ALPHANUMERIC, Npi::UNKNOWN, text)
    };
    if ton != Ton::ALPHANUMERIC && !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::config(format!("{field} {text:?}: digits only after '+'")));
    }
    let addr = COctetString::try_from(digits)
        .map_err(|e| Error::config(format!("{field} {text:?}: {e}")))?;
    Ok((ton, npi, addr))
}

/// The submit_sm PDUs (and their TLVs) for a segmented text, in part order.
pub fn submits(
    segmented: &Segmented,
    from: &str,
    to: &str,
    registered_delivery: u8,
) -> Result<Vec<(SubmitSm, Tlvs)>, Error> {
    let (src_ton, src_npi, source_addr) = address(from, "from")?;
    let (dst_ton, dst_npi, destination_addr) = address(to, "to")?;
    let mut out = Vec::with_capacity(segmented.parts.len());
    for part in &segmented.parts {
        let mut tlvs = Tlvs::builder();
        let short_message = if part.in_message_payload {
            tlvs =
                tlvs.message_payload(&part.user_data).map_err(|e| Error::config(e.to_string()))?;
            ShortMessage::empty()
        } else {
            ShortMessage::new(part.user_data.clone()).map_err(|e| Error::config(e.to_string()))?
        };
        if let Some(sar) = part.sar {
            tlvs = tlvs.sar(sar.reference, sar.total, sar.seq);
        }
        let sm = SubmitSm {
            source_addr_ton: src_ton,
            source_addr_npi: src_npi,
            source_addr: source_addr.clone(),
            dest_addr_ton: dst_ton,
            dest_addr_npi: dst_npi,
            destination_addr: destination_addr.clone(),
            esm_class: EsmClass(part.esm_class_bits()),
            registered_delivery,
            data_coding: segmented.data_coding,
            short_message,
            ..Default::default()
        };
        out.push((sm, tlvs.build()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp_sms::{segment, CarrierProfile};

    #[test]
    fn addresses_get_their_ton_and_npi() {
        assert_eq!(address("+819012345678", "to").unwrap().0, Ton::INTERNATIONAL);
        assert_eq!(address("09012345678", "to").unwrap().0, Ton::NATIONAL);
        assert_eq!(address("TESTCARD", "from").unwrap().0, Ton::ALPHANUMERIC);
        assert!(address("+81-90", "to").is_err());
        assert!(address("+1234567890123456789012", "to").unwrap_err().to_string().contains("to"));
    }

    #[test]
    fn long_japanese_text_becomes_udh_parts_with_udhi() {
        let text = "お支払い期日を過ぎています。".repeat(10);
        let s = segment(&text, &CarrierProfile::DOCOMO, 0x1234, false).unwrap();
        let pdus = submits(&s, "TESTCARD", "+819012345678", 1).unwrap();
        assert_eq!(pdus.len(), s.parts.len());
        assert!(pdus.len() > 1);
        for (sm, _) in &pdus {
            assert!(sm.esm_class.udhi());
            assert_eq!(sm.data_coding, 8);
            assert_eq!(&sm.short_message.as_bytes()[..3], &[0x06, 0x08, 0x04]);
        }
    }

    #[test]
    fn softbank_text_goes_in_message_payload() {
        let text = "あ".repeat(300);
        let s = segment(&text, &CarrierProfile::SOFTBANK, 1, false).unwrap();
        let pdus = submits(&s, "TESTCARD", "+819012345678", 1).unwrap();
        assert_eq!(pdus.len(), 1);
        assert!(pdus[0].0.short_message.is_empty());
        assert_eq!(pdus[0].1.message_payload().unwrap().len(), 600);
    }
}
