use bytes::{Bytes, BytesMut};

use super::*;
use crate::codes::{CommandStatus as S, EsmClass, Npi, Ton};
use crate::error::{Problem, Then};
use crate::tlv::Tag;
use crate::types::{COctetString, ShortMessage, Time};

/// Spaced hex, as in quinn's tests: `hex("00 00 00 10 ...")`.
fn hex(s: &str) -> Bytes {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

fn roundtrip(wire: &Bytes) -> Pdu {
    let pdu = Pdu::decode(wire.clone()).unwrap();
    let mut out = BytesMut::new();
    pdu.encode(&mut out);
    assert_eq!(&out[..], &wire[..], "re-encoding changed the bytes");
    pdu
}

fn error(wire: &str) -> DecodeError {
    Pdu::decode(hex(wire)).unwrap_err()
}

fn strict_error(wire: &str) -> DecodeError {
    Pdu::decode_with(hex(wire), DecodeOptions::STRICT).unwrap_err()
}

const SUBMIT: &str = "00 00 00 39 00 00 00 04 00 00 00 00 00 00 00 05
    00 05 00 54 45 53 54 00 01 01 38 31 39 30 31 32 33 34 35 36 37 38 00
    40 00 00 00 00 01 00 08 00 08 05 00 03 2A 02 01 30 42";

#[test]
fn decodes_the_spec_example_bind_transmitter() {
    let wire = hex("00 00 00 2F 00 00 00 02 00 00 00 00 00 00 00 01
         53 4D 50 50 33 54 45 53 54 00 73 65 63 72 65 74 30 38 00
         53 55 42 4D 49 54 31 00 00 01 01 00");
    let pdu = roundtrip(&wire);
    let Body::BindTransmitter(b) = pdu.body else { panic!("{pdu:?}") };
    assert_eq!(b.system_id.as_bytes(), b"SMPP3TEST");
    assert_eq!(b.password.as_bytes(), b"secret08");
    assert_eq!(b.system_type.as_bytes(), b"SUBMIT1");
    assert_eq!(b.interface_version, 0);
    assert_eq!((b.addr_ton, b.addr_npi), (Ton::INTERNATIONAL, Npi::ISDN));
    assert!(b.address_range.is_empty());
}

#[test]
fn decodes_submit_sm_with_udh_and_zero_copy_fields() {
    let wire = hex(SUBMIT);
    let pdu = roundtrip(&wire);
    let Body::SubmitSm(s) = &pdu.body else { panic!() };
    assert_eq!(s.source_addr.as_bytes(), b"TEST");
    assert_eq!(s.source_addr_ton, Ton::ALPHANUMERIC);
    assert_eq!(s.destination_addr.as_bytes(), b"819012345678");
    assert!(s.esm_class.udhi());
    assert_eq!(s.registered_delivery, 1);
    assert_eq!(s.data_coding, 8);
    assert_eq!(s.short_message.as_bytes(), &[0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x30, 0x42]);
    // Zero copy: the fields point into the frame.
    let frame_range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    assert!(frame_range.contains(&(s.short_message.as_bytes().as_ptr() as usize)));
    assert!(frame_range.contains(&(s.destination_addr.as_bytes().as_ptr() as usize)));
}

#[test]
fn a_long_message_id_points_into_the_frame_and_equals_its_copy() {
    let id = b"0123456789abcdef0123456789abcdef"; // a UUID-sized id
    let mut wire = Vec::from(&b"\0\0\0\0\x80\0\0\x04\0\0\0\0\0\0\0\x05"[..]);
    wire.extend_from_slice(id);
    wire.push(0);
    let len = wire.len() as u32;
    wire[..4].copy_from_slice(&len.to_be_bytes());
    let wire = bytes::Bytes::from(wire);
    let pdu = Pdu::decode(wire.clone()).unwrap();
    let Body::SubmitSmResp(Some(r)) = &pdu.body else { panic!("{pdu:?}") };
    assert_eq!(r.message_id.as_bytes(), id);
    let frame_range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    assert!(frame_range.contains(&(r.message_id.as_bytes().as_ptr() as usize)));
    // Equal to the same characters held inline, and hashed alike.
    let copied = COctetString::<65>::copy_from_slice(id).unwrap();
    assert_eq!(r.message_id, copied);
    use std::hash::{BuildHasher, RandomState};
    let s = RandomState::new();
    assert_eq!(s.hash_one(&r.message_id), s.hash_one(&copied));
    assert_eq!(s.hash_one(&copied), s.hash_one(id.as_slice()));
}

#[test]
fn submit_sm_resp_with_and_without_body() {
    let with =
        roundtrip(&hex("00 00 00 18 80 00 00 04 00 00 00 00 00 00 00 05 33 38 36 30 31 66 61 00"));
    let Body::SubmitSmResp(Some(r)) = &with.body else { panic!("{with:?}") };
    assert_eq!(r.message_id.as_bytes(), b"38601fa");
    let without = roundtrip(&hex("00 00 00 10 80 00 00 04 00 00 00 58 00 00 00 05"));
    assert_eq!(without.body, Body::SubmitSmResp(None));
    assert_eq!(without.command_status, S::ESME_RTHROTTLED);
    // An error response with an empty message_id (what most SMSCs send).
    let empty = roundtrip(&hex("00 00 00 11 80 00 00 04 00 00 00 0B 00 00 00 05 00"));
    assert!(empty.body.body_present());
}

#[test]
fn strict_rejects_bodiless_success_and_error_with_body() {
    let e = strict_error("00 00 00 10 80 00 00 04 00 00 00 00 00 00 00 05");
    assert!(matches!(e.problem(), Problem::Strict { .. }));
    assert_eq!(e.reply(), None, "responses are never answered");
    let e = strict_error("00 00 00 11 80 00 00 04 00 00 00 0B 00 00 00 05 00");
    assert!(matches!(e.problem(), Problem::Strict { .. }));
}

#[test]
fn deliver_sm_receipt_with_tlvs() {
    let text = b"id:0059113978 sub:001 dlvrd:001 submit date:2511231200 done date:2511231201 stat:DELIVRD err:000 text:";
    let deliver = DeliverSm {
        source_addr: COctetString::from_static("819012345678"),
        destination_addr: COctetString::from_static("TESTCARD"),
        esm_class: EsmClass(EsmClass::DELIVERY_RECEIPT),
        short_message: ShortMessage::new(&text[..]).unwrap(),
        ..Default::default()
    };
    let tlvs = Tlvs::builder()
        .receipted_message_id(b"38601fa")
        .unwrap()
        .push_u8(Tag::MESSAGE_STATE, 2)
        .push(Tag::NETWORK_ERROR_CODE, &[3, 0, 0])
        .unwrap()
        .build();
    let pdu = Pdu::new(0xA285_9F22, Body::DeliverSm(deliver)).with_tlvs(tlvs);
    let wire = pdu.to_bytes();
    let back = roundtrip(&wire);
    assert_eq!(back, pdu);
    assert_eq!(back.sequence_number, 0xA285_9F22, "out-of-range numbers are kept to echo");
    assert_eq!(back.tlvs.receipted_message_id(), Some(&b"38601fa"[..]));
    assert_eq!(back.tlvs.message_state(), Some(2));
}

#[test]
fn deliver_sm_resp_is_seventeen_octets() {
    let pdu = Pdu::new(1, Body::DeliverSmResp(Some(DeliverSmResp::default())));
    assert_eq!(pdu.to_bytes().len(), 17);
}

#[test]
fn submit_multi_round_trips_both_destination_kinds() {
    let dests = DestAddresses::new(vec![
        DestAddress::Sme {
            dest_addr_ton: Ton::INTERNATIONAL,
            dest_addr_npi: Npi::ISDN,
            destination_addr: COctetString::from_static("819011112222"),
        },
        DestAddress::DistributionList { dl_name: COctetString::from_static("vip") },
    ])
    .unwrap();
    let multi = SubmitMulti { dest_addresses: dests, ..Default::default() };
    let pdu = Pdu::new(3, Body::SubmitMulti(multi));
    assert_eq!(roundtrip(&pdu.to_bytes()), pdu);
}

#[test]
fn submit_multi_rejects_bad_dest_flag_and_zero_dests() {
    let e = error("00 00 00 22 00 00 00 21 00 00 00 00 00 00 00 02 00 00 00 00 01 03 61 00 00 00 00 00 00 00 00 00 00 00");
    assert_eq!(e.command_status(), S::ESME_RINVDESTFLAG);
    assert_eq!(e.reply().unwrap().command_id, CommandId::SUBMIT_MULTI_RESP);
    let e = error("00 00 00 1F 00 00 00 21 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    assert_eq!(e.command_status(), S::ESME_RINVNUMDESTS);
}

#[test]
fn submit_multi_resp_lists_unsuccessful_destinations() {
    let resp = SubmitMultiResp {
        message_id: COctetString::from_static("42"),
        unsuccess_smes: UnsuccessSmes::new(vec![UnsuccessSme {
            dest_addr_ton: Ton::INTERNATIONAL,
            dest_addr_npi: Npi::ISDN,
            destination_addr: COctetString::from_static("81900"),
            error_status_code: S::ESME_RINVDSTADR,
        }])
        .unwrap(),
    };
    let pdu = Pdu::new(3, Body::SubmitMultiResp(Some(resp)));
    assert_eq!(roundtrip(&pdu.to_bytes()), pdu);
}

#[test]
fn every_request_round_trips() {
    let time = Time::new("251231235959036+").unwrap();
    let bodies = vec![
        Body::BindReceiver(Bind { interface_version: Bind::V34, ..Default::default() }),
        Body::BindTransceiver(Bind::default()),
        Body::BindTransceiverResp(Some(BindResp::default())),
        Body::BindReceiverResp(None),
        Body::Outbind(Outbind {
            system_id: COctetString::from_static("SMSC"),
            ..Default::default()
        }),
        Body::Unbind,
        Body::UnbindResp,
        Body::EnquireLink,
        Body::EnquireLinkResp,
        Body::GenericNack,
        Body::DataSm(DataSm {
            destination_addr: COctetString::new(vec![b'9'; 64]).unwrap(),
            ..Default::default()
        }),
        Body::DataSmResp(Some(DataSmResp::default())),
        Body::QuerySm(QuerySm {
            message_id: COctetString::from_static("abc"),
            ..Default::default()
        }),
        Body::QuerySmResp(Some(QuerySmResp { message_state: 2, ..Default::default() })),
        Body::CancelSm(CancelSm::default()),
        Body::CancelSmResp,
        Body::ReplaceSm(ReplaceSm { schedule_delivery_time: time, ..Default::default() }),
        Body::ReplaceSmResp,
        Body::AlertNotification(AlertNotification::default()),
    ];
    for body in bodies {
        let pdu = Pdu::new(9, body);
        assert_eq!(roundtrip(&pdu.to_bytes()), pdu);
    }
}

#[test]
fn unknown_command_id_gets_generic_nack_and_continues() {
    let e = error("00 00 00 10 00 01 02 00 00 00 00 00 00 00 00 07");
    assert_eq!(e.then(), Then::Continue);
    let r = e.reply().unwrap();
    assert_eq!(
        (r.command_id, r.command_status, r.sequence_number),
        (CommandId::GENERIC_NACK, S::ESME_RINVCMDID, 7)
    );
}

#[test]
fn missing_nul_is_a_length_error_answered_with_generic_nack() {
    let e = error("00 00 00 14 00 00 00 04 00 00 00 00 00 00 00 07 00 01 01 41");
    assert_eq!(e.command_status(), S::ESME_RINVCMDLEN);
    assert_eq!(e.reply().unwrap().command_id, CommandId::GENERIC_NACK);
    assert!(e.to_string().contains("submit_sm.source_addr"), "{e}");
}

#[test]
fn too_long_destination_is_rinvdstadr_in_submit_sm_resp() {
    let long = "31 ".repeat(21);
    let e = error(&format!(
        "00 00 00 {:02X} 00 00 00 04 00 00 00 00 00 00 00 07 00 01 01 00 01 01 {long} 00 00 00 00 00 00 00 00 00 00 00",
        16 + 6 + 21 + 11
    ));
    assert_eq!(e.command_status(), S::ESME_RINVDSTADR);
    let r = e.reply().unwrap();
    assert_eq!((r.command_id, r.sequence_number), (CommandId::SUBMIT_SM_RESP, 7));
}

#[test]
fn sm_length_255_is_rinvmsglen() {
    let e = error("00 00 00 21 00 00 00 04 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 FF");
    assert_eq!(e.command_status(), S::ESME_RINVMSGLEN);
}

#[test]
fn bad_schedule_is_rinvsched() {
    let e = error("00 00 00 25 00 00 00 04 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 00 32 35 31 32 00 00 00 00 00 00 00");
    assert_eq!(e.command_status(), S::ESME_RINVSCHED);
}

#[test]
fn tlv_problems_map_to_their_statuses() {
    let base = Pdu::new(4, Body::SubmitSm(SubmitSm::default())).to_bytes();
    let with = |tail: &[u8]| {
        let mut v = base.to_vec();
        v.extend_from_slice(tail);
        let len = v.len() as u32;
        v[..4].copy_from_slice(&len.to_be_bytes());
        Pdu::decode(v.into())
    };
    assert_eq!(
        with(&[0x04, 0x24, 0x00, 0x09, 1]).unwrap_err().command_status(),
        S::ESME_RINVOPTPARSTREAM
    );
    assert_eq!(
        with(&[0x02, 0x0C, 0x00, 0x01, 1]).unwrap_err().command_status(),
        S::ESME_RINVPARLEN
    );
    assert_eq!(with(&[0x02]).unwrap_err().command_status(), S::ESME_RINVOPTPARSTREAM);
    assert!(with(&[0x14, 0x54, 0x00, 0x01, 1]).is_ok(), "vendor tags are kept");
}

#[test]
fn strict_checks_flag_values() {
    // priority_flag 4
    let mut s = SubmitSm { priority_flag: 4, ..Default::default() };
    let e =
        Pdu::decode_with(Pdu::new(1, Body::SubmitSm(s.clone())).to_bytes(), DecodeOptions::STRICT)
            .unwrap_err();
    assert_eq!(e.command_status(), S::ESME_RINVPRTFLG);
    s.priority_flag = 0;
    s.esm_class = EsmClass(0x02);
    let wire = Pdu::new(1, Body::SubmitSm(s)).to_bytes();
    assert!(Pdu::decode(wire.clone()).is_ok(), "tolerant by default");
    let e = Pdu::decode_with(wire, DecodeOptions::STRICT).unwrap_err();
    assert_eq!(e.command_status(), S::ESME_RINVESMCLASS);
}

#[test]
fn strict_rejects_sequence_number_out_of_range() {
    let wire = hex("00 00 00 10 00 00 00 15 00 00 00 00 80 6A 17 9B");
    assert_eq!(Pdu::decode(wire.clone()).unwrap().sequence_number, 0x806A_179B);
    assert!(Pdu::decode_with(wire, DecodeOptions::STRICT).is_err());
}

#[test]
fn trailing_and_missing_bytes_are_reported() {
    let e = error("00 00 00 10 00 00 00 15 00 00 00 00 00 00 00 01 00");
    assert!(matches!(e.problem(), Problem::TrailingData { extra: 1 }));
    let e = error("00 00 00 11 00 00 00 15 00 00 00 00 00 00 00 01");
    assert_eq!(e.then(), Then::WaitForMoreBytes);
    assert_eq!(e.reply(), None);
}

#[test]
fn error_response_echoes_the_sequence_number() {
    let req = Pdu::new(0x806A_179B, Body::SubmitSm(SubmitSm::default()));
    let resp = req.error_response(S::ESME_RINVBNDSTS).unwrap();
    assert_eq!(resp.command_id(), CommandId::SUBMIT_SM_RESP);
    assert_eq!(resp.sequence_number, 0x806A_179B);
    assert_eq!(resp.to_bytes().len(), 16);
    assert!(Pdu::new(1, Body::GenericNack).error_response(S::ESME_RSYSERR).is_none());
}
