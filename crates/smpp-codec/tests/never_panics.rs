//! Decoding and framing never panic, whatever the bytes, and every error they return carries a
//! consistent answer for the wire: which PDU to send back, if any, and whether the connection
//! survives.

// Each test binary uses a different part of the shared strategies.
#[allow(dead_code)]
mod common;

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use smpp_codec::{
    encode_reply, CommandId, CommandStatus, DecodeError, DecodeOptions, ErrorKind, Framer, Header,
    Pdu, Problem, Then, HEADER_LEN,
};

/// Decodes `bytes` both ways and checks every outcome: an accepted frame re-encodes to exactly
/// the same bytes, strict accepts nothing tolerant refuses, every error is consistent.
fn decode_both_ways(bytes: &[u8]) -> Result<(), TestCaseError> {
    let tolerant = Pdu::decode(Bytes::copy_from_slice(bytes));
    let strict = Pdu::decode_with(Bytes::copy_from_slice(bytes), DecodeOptions::STRICT);
    for result in [&tolerant, &strict] {
        match result {
            Ok(pdu) => accepted_re_encodes_exactly(pdu, bytes)?,
            Err(e) => error_is_consistent(e, bytes)?,
        }
    }
    if let Ok(s) = &strict {
        prop_assert_eq!(tolerant.as_ref(), Ok(s), "strict accepted what tolerant refused");
    }
    Ok(())
}

fn accepted_re_encodes_exactly(pdu: &Pdu, bytes: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(pdu.encoded_len(), bytes.len());
    let mut out = BytesMut::new();
    pdu.encode(&mut out);
    prop_assert_eq!(&out[..], bytes, "decode → encode changed the bytes");
    Ok(())
}

/// The rules of smpp34.md §5/§8.3 as `DecodeError` exposes them.
fn error_is_consistent(e: &DecodeError, bytes: &[u8]) -> Result<(), TestCaseError> {
    // Display must not panic either (it formats the header and the problem).
    prop_assert!(!e.to_string().is_empty());

    let header = Header::peek(bytes);
    if let Some(h) = e.header() {
        prop_assert_eq!(Some(*h), header, "the error's header is not the input's");
    }
    let incomplete = matches!(e.problem(), Problem::Incomplete { .. });
    let length_problem = matches!(e.problem(), Problem::CommandLength { .. });
    prop_assert_eq!(e.kind() == ErrorKind::Incomplete, incomplete);
    prop_assert!(!e.command_status().is_ok(), "an error maps to ESME_ROK: {e:?}");

    // then(): only a bad command_length loses framing; only Incomplete waits.
    prop_assert_eq!(
        e.then() == Then::CloseConnection,
        length_problem,
        "then() = {:?} for {:?}",
        e.then(),
        e.problem()
    );
    prop_assert_eq!(e.then() == Then::WaitForMoreBytes, incomplete);

    let offender_is_response = e.header().is_some_and(|h| h.command_id.is_response());
    match e.reply() {
        None => prop_assert!(incomplete || offender_is_response, "no reply for a request: {e:?}"),
        Some(r) => {
            prop_assert!(!incomplete, "a reply to an incomplete PDU");
            prop_assert_eq!(r.command_status, e.command_status());
            prop_assert_eq!(r.sequence_number, e.header().map_or(0, |h| h.sequence_number));
            let own_resp = e.header().and_then(|h| h.command_id.response_id());
            prop_assert!(
                r.command_id == CommandId::GENERIC_NACK || Some(r.command_id) == own_resp,
                "reply {:?} is neither generic_nack nor the offender's own response",
                r.command_id
            );
            if length_problem || matches!(e.problem(), Problem::UnknownCommandId) {
                prop_assert_eq!(r.command_id, CommandId::GENERIC_NACK);
            }
            // The reply goes on the wire as a header-only PDU that we can read back.
            let mut wire = BytesMut::new();
            encode_reply(&r, &mut wire);
            let back = Pdu::decode(wire.freeze()).expect("a reply decodes");
            prop_assert_eq!(back.command_id(), r.command_id);
            prop_assert_eq!(back.command_status, r.command_status);
            prop_assert_eq!(back.sequence_number, r.sequence_number);
        }
    }
    Ok(())
}

/// A header with a known (or any) command_id followed by random octets; command_length is the
/// true length or anything.
fn header_and_random_body() -> impl Strategy<Value = Vec<u8>> {
    let command_id = prop_oneof![
        3 => select(common::all_command_ids()),
        1 => any::<u32>().prop_map(CommandId),
    ];
    (
        command_id,
        any::<u32>(),
        common::sequence_number(),
        vec(any::<u8>(), 0..300),
        prop_oneof![3 => Just(None), 1 => any::<u32>().prop_map(Some)],
    )
        .prop_map(|(id, status, seq, body, length)| {
            let len = length.unwrap_or((HEADER_LEN + body.len()) as u32);
            let mut v = Vec::with_capacity(HEADER_LEN + body.len());
            for word in [len, id.0, status, seq] {
                v.extend_from_slice(&word.to_be_bytes());
            }
            v.extend_from_slice(&body);
            v
        })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0_u8..8).prop_map(|(i, bit)| Mutation::Flip(i, bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        // 0x00 and 0xFF break C-Octet Strings and lengths the most.
        (any::<Index>(), prop_oneof![Just(0_u8), Just(0xFF), any::<u8>()])
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    match *m {
        Mutation::Flip(ref i, bit) if len > 0 => bytes[i.index(len)] ^= 1 << bit,
        Mutation::Set(ref i, b) if len > 0 => bytes[i.index(len)] = b,
        Mutation::Insert(ref i, b) => bytes.insert(i.index(len + 1), b),
        Mutation::Delete(ref i) if len > 0 => {
            bytes.remove(i.index(len));
        }
        Mutation::Truncate(ref i) => bytes.truncate(i.index(len + 1)),
        _ => {}
    }
}

/// Writes the true length into command_length, so the body mutation is what gets tested
/// rather than the length check.
fn fix_command_length(bytes: &mut [u8]) {
    if bytes.len() >= 4 {
        let len = (bytes.len() as u32).to_be_bytes();
        bytes[..4].copy_from_slice(&len);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        decode_both_ways(&bytes)?;
    }

    #[test]
    fn decode_never_panics_on_a_valid_header_with_a_random_body(bytes in header_and_random_body()) {
        decode_both_ways(&bytes)?;
    }

    #[test]
    fn decode_never_panics_on_mutated_valid_pdus(
        pdu in common::pdu(),
        mutations in vec(mutation(), 1..=4),
        fix_length in any::<bool>(),
    ) {
        let mut bytes = common::encode(&pdu).to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        if fix_length {
            fix_command_length(&mut bytes);
        }
        decode_both_ways(&bytes)?;
    }

    #[test]
    fn a_cut_short_pdu_is_incomplete_never_invalid(
        pdu in common::pdu(),
        cut in any::<Index>(),
    ) {
        let wire = common::encode(&pdu);
        let cut = cut.index(wire.len());
        let e = Pdu::decode(wire.slice(..cut)).expect_err("a strict prefix is not a PDU");
        error_is_consistent(&e, &wire[..cut])?;
        // Below 4 octets command_length itself is unknown; from there on it says 16+.
        prop_assert_eq!(e.kind(), ErrorKind::Incomplete, "{:?}", e.problem());
    }

    #[test]
    fn framer_never_panics_and_never_returns_a_frame_over_its_maximum(
        max in prop_oneof![0_u32..=64, 0_u32..=600, any::<u32>()],
        stream in prop_oneof![vec(any::<u8>(), 0..1024), plausible_stream()],
        chunks in vec(1_usize..=64, 1..=8),
    ) {
        let framer = Framer::new(max);
        prop_assert!(framer.max_command_length() >= HEADER_LEN as u32);
        prop_assert!(framer.max_command_length() >= max);
        let mut read_buf = BytesMut::new();
        let mut pos = 0;
        'feed: for chunk in chunks.iter().cycle() {
            if pos == stream.len() {
                break;
            }
            let end = (pos + chunk).min(stream.len());
            read_buf.extend_from_slice(&stream[pos..end]);
            pos = end;
            loop {
                let before = read_buf.clone();
                match framer.next_frame(&mut read_buf) {
                    Ok(None) => {
                        prop_assert_eq!(&read_buf, &before, "Ok(None) consumed octets");
                        break;
                    }
                    Ok(Some(frame)) => {
                        prop_assert!(frame.len() >= HEADER_LEN);
                        prop_assert!(frame.len() as u64 <= u64::from(framer.max_command_length()));
                        prop_assert_eq!(Header::peek_length(&frame), Some(frame.len() as u32));
                        prop_assert_eq!(&frame[..], &before[..frame.len()]);
                        decode_both_ways(&frame)?;
                    }
                    Err(e) => {
                        prop_assert_eq!(&read_buf, &before, "the buffer changed on error");
                        prop_assert_eq!(e.then(), Then::CloseConnection);
                        let r = e.reply().expect("a framing error is answered");
                        prop_assert_eq!(r.command_id, CommandId::GENERIC_NACK);
                        prop_assert_eq!(r.command_status, CommandStatus::ESME_RINVCMDLEN);
                        error_is_consistent(&e, &read_buf)?;
                        break 'feed;
                    }
                }
            }
        }
    }
}

/// Segments whose command_length is mostly near the framer's range, so the framer gets past
/// the first length check and cuts real frames out of random bytes.
fn plausible_stream() -> impl Strategy<Value = Vec<u8>> {
    vec(
        (0_u32..=700, vec(any::<u8>(), 12..700)).prop_map(|(len, mut rest)| {
            let mut seg = len.to_be_bytes().to_vec();
            rest.truncate((len as usize).saturating_sub(4).max(12));
            seg.append(&mut rest);
            seg
        }),
        1..6,
    )
    .prop_map(|segs| segs.concat())
}
