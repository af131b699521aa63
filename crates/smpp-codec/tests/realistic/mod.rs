//! PDUs as they look in production, shared by tests/alloc.rs and benches/codec.rs.

use bytes::{Bytes, BytesMut};
use smpp_codec::{
    Body, COctetString, DeliverSm, EsmClass, Framer, Npi, Pdu, ShortMessage, SubmitSm, Tag, Tlvs,
    Ton,
};

/// Part 1 of 2 of a Japanese text in UCS-2: the 7-octet UDH with a 16-bit reference
/// (IEI 0x08) and 66 characters, 139 octets of short_message. Receipt requested.
pub(crate) fn submit_sm_ucs2_concatenated() -> Pdu {
    const TEXT: &str = "明日の会議は午後三時から本社第二会議室で行います。\
                        前回の議事録と今期の売上資料を事前にご確認のうえ、\
                        ご質問があれば本日中に担当までご";
    let udh = [0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01];
    let mut sm = udh.to_vec();
    sm.extend(TEXT.encode_utf16().flat_map(u16::to_be_bytes));
    assert_eq!(sm.len(), 139, "a full UCS-2 segment with a 7-octet UDH");
    let submit = SubmitSm {
        source_addr_ton: Ton::ALPHANUMERIC,
        source_addr_npi: Npi::UNKNOWN,
        source_addr: COctetString::from_static("ExampleBank"),
        dest_addr_ton: Ton::INTERNATIONAL,
        dest_addr_npi: Npi::ISDN,
        destination_addr: COctetString::from_static("819012345678"),
        esm_class: EsmClass(EsmClass::UDHI),
        registered_delivery: 1,
        data_coding: 0x08,
        short_message: ShortMessage::new(sm).expect("139 octets"),
        ..Default::default()
    };
    // user_message_reference, and a vendor TLV (0x1401) carrying a billing reference.
    let tlvs = Tlvs::builder()
        .push_u16(Tag::USER_MESSAGE_REFERENCE, 0x2A17)
        .push(Tag(0x1401), b"BILL-7731")
        .expect("short value")
        .build();
    Pdu::new(0x0001_E240, Body::SubmitSm(submit)).with_tlvs(tlvs)
}

/// An SMSC delivery receipt: Appendix B text in short_message, plus receipted_message_id,
/// message_state (DELIVERED) and network_error_code.
pub(crate) fn deliver_sm_receipt() -> Pdu {
    const TEXT: &[u8] = b"id:7f3a9c21e4 sub:001 dlvrd:001 submit date:2511231200 \
                          done date:2511231201 stat:DELIVRD err:000 text:";
    let deliver = DeliverSm {
        source_addr_ton: Ton::INTERNATIONAL,
        source_addr_npi: Npi::ISDN,
        source_addr: COctetString::from_static("819012345678"),
        dest_addr_ton: Ton::ALPHANUMERIC,
        dest_addr_npi: Npi::UNKNOWN,
        destination_addr: COctetString::from_static("ExampleBank"),
        esm_class: EsmClass(EsmClass::DELIVERY_RECEIPT),
        short_message: ShortMessage::new(TEXT).expect("short text"),
        ..Default::default()
    };
    let tlvs = Tlvs::builder()
        .receipted_message_id(b"7f3a9c21e4")
        .expect("10 characters")
        .push_u8(Tag::MESSAGE_STATE, 2)
        .push(Tag::NETWORK_ERROR_CODE, &[0x03, 0x00, 0x00])
        .expect("3 octets")
        .build();
    Pdu::new(0x0000_3039, Body::DeliverSm(deliver)).with_tlvs(tlvs)
}

/// `pdu`'s wire bytes as the framer hands them out: a slice of a shared read buffer, which
/// is what `Pdu::decode` sees in production.
pub(crate) fn framed(pdu: &Pdu) -> Bytes {
    let mut read_buf = BytesMut::new();
    pdu.encode(&mut read_buf);
    pdu.encode(&mut read_buf);
    let framer = Framer::default();
    let _first = framer.next_frame(&mut read_buf).unwrap().unwrap();
    framer.next_frame(&mut read_buf).unwrap().unwrap()
}
