//! Round-trip properties over every PDU type: what we encode decodes to the same PDU, what we
//! decode re-encodes to the same bytes, and the framer cuts a stream back into the PDUs that
//! made it, however the bytes arrive.

// Each test binary uses a different part of the shared strategies.
#[allow(dead_code)]
mod common;

use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;
use smpp_codec::{Body, CommandId, Framer, Header, Pdu};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_pdu_decodes_to_what_was_encoded(pdu in common::pdu()) {
        let wire = common::encode(&pdu);
        let back = Pdu::decode(wire.clone());
        prop_assert_eq!(back.as_ref(), Ok(&pdu), "wire: {:02x?}", &wire[..]);
    }

    #[test]
    fn every_decoded_pdu_re_encodes_to_the_same_bytes(pdu in common::pdu()) {
        let wire = common::encode(&pdu);
        let decoded = Pdu::decode(wire.clone()).expect("an encoded PDU decodes");
        let mut again = BytesMut::new();
        decoded.encode(&mut again);
        prop_assert_eq!(&again[..], &wire[..]);
    }

    #[test]
    fn encoded_len_is_the_length_encode_writes_and_command_length(pdu in common::pdu()) {
        let mut buf = BytesMut::new();
        pdu.encode(&mut buf);
        prop_assert_eq!(pdu.encoded_len(), buf.len());
        let header = Header::peek(&buf).expect("at least a header");
        prop_assert_eq!(header.command_length as usize, buf.len());
        prop_assert_eq!(header.command_id, pdu.command_id());
        prop_assert_eq!(header.command_status, pdu.command_status);
        prop_assert_eq!(header.sequence_number, pdu.sequence_number);
    }

    #[test]
    fn encode_appends_without_touching_what_the_buffer_holds(
        prefix in vec(any::<u8>(), 0..64),
        pdu in common::pdu(),
    ) {
        let mut buf = BytesMut::from(&prefix[..]);
        pdu.encode(&mut buf);
        prop_assert_eq!(&buf[..prefix.len()], &prefix[..]);
        prop_assert_eq!(&buf[prefix.len()..], &common::encode(&pdu)[..]);
    }

    #[test]
    fn framer_splits_a_stream_fed_in_random_chunks_into_the_pdus_that_made_it(
        pdus in vec(common::pdu(), 1..=8),
        chunks in vec(1_usize..=97, 1..=16),
    ) {
        let mut stream = BytesMut::new();
        for p in &pdus {
            p.encode(&mut stream);
        }
        let framer = Framer::default();
        let mut read_buf = BytesMut::new();
        let mut got = Vec::new();
        let mut pos = 0;
        for chunk in chunks.iter().cycle() {
            if pos == stream.len() {
                break;
            }
            let end = (pos + chunk).min(stream.len());
            read_buf.extend_from_slice(&stream[pos..end]);
            pos = end;
            while let Some(frame) = framer.next_frame(&mut read_buf).expect("valid lengths") {
                got.push(Pdu::decode(frame).expect("a framed valid PDU decodes"));
            }
        }
        prop_assert!(read_buf.is_empty(), "{} octets left over", read_buf.len());
        prop_assert_eq!(got, pdus);
    }
}

#[test]
fn the_strategies_cover_every_command_id() {
    // `body_for` panics for a command without a strategy; also check the mapping is right.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for &id in common::all_command_ids() {
        let tree = common::body_for(id).new_tree(&mut runner).expect("strategy yields a value");
        assert_eq!(tree.current().command_id(), id);
    }
    assert_eq!(common::all_command_ids().len(), 27);
    assert!(common::all_command_ids().contains(&CommandId::GENERIC_NACK));
}

#[test]
fn the_strategies_reach_bodiless_responses_and_254_destinations() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut sample = |s: &BoxedStrategy<Body>| s.new_tree(&mut runner).unwrap().current();
    let resp = common::body_for(CommandId::SUBMIT_SM_RESP);
    assert!((0..100).any(|_| !sample(&resp).body_present()));
    let multi = common::body_for(CommandId::SUBMIT_MULTI);
    assert!((0..100).any(|_| {
        matches!(sample(&multi), Body::SubmitMulti(m) if m.dest_addresses.as_slice().len() == 254)
    }));
}

#[test]
fn a_bodiless_response_with_tlvs_is_written_with_its_empty_body() {
    use smpp_codec::{CommandStatus, Tag, Tlvs};
    let tlvs = Tlvs::builder().push_c_str(Tag::ADDITIONAL_STATUS_INFO_TEXT, b"x").unwrap().build();
    let pdu = Pdu::new(1, Body::DataSmResp(None))
        .with_status(CommandStatus::ESME_RDELIVERYFAILURE)
        .with_tlvs(tlvs);
    let wire = common::encode(&pdu);
    // A bodiless response cannot carry TLVs on the wire; it is written with its empty body:
    // 00 00 00 17 80 00 01 03 00 00 00 fe 00 00 00 01 | 00 | 00 1d 00 02 78 00
    let back = Pdu::decode(wire).unwrap();
    assert_eq!(back.body, Body::DataSmResp(Some(Default::default())));
    assert_eq!(back.tlvs, pdu.tlvs);
}
