//! The hot paths allocate nothing: decoding a framed submit_sm or receipt, encoding into a
//! reused buffer, and cutting a frame out of a read buffer.
//!
//! A counting global allocator (`stats_alloc`: System behind atomic counters) sees every heap
//! allocation of this test binary. We would write the twenty lines ourselves, but
//! `GlobalAlloc` is an unsafe trait and the workspace forbids `unsafe_code`, which a
//! `#![allow]` in this file cannot override. There is a single `#[test]` so no other test
//! thread allocates while a region is measured.

mod realistic;

use std::alloc::System;

use bytes::BytesMut;
use smpp_codec::{Body, Framer, Pdu};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Runs `f` and returns its result with the number of allocations and reallocations it made.
fn count<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let change = region.change();
    (out, change.allocations + change.reallocations)
}

#[test]
fn hot_paths_make_zero_heap_allocations() {
    // The counter is live: a zero below means nothing was allocated, not nothing was seen.
    let (v, n) = count(|| Vec::<u8>::with_capacity(1));
    assert_eq!(n, 1, "the counting allocator is not installed");
    drop(v);

    let submit = realistic::submit_sm_ucs2_concatenated();
    let receipt = realistic::deliver_sm_receipt();

    // Decoding: every field is a slice of the frame, the TLV area is kept as received.
    let frame = realistic::framed(&submit);
    let (decoded, n) = count(|| Pdu::decode(frame.clone()).expect("valid"));
    assert_eq!(n, 0, "Pdu::decode of a submit_sm (UDH + 2 TLVs) allocated");
    assert_eq!(decoded, submit);
    let (_, n) = count(|| drop(decoded));
    assert_eq!(n, 0, "dropping a decoded submit_sm allocated");

    let frame = realistic::framed(&receipt);
    let (decoded, n) = count(|| {
        let pdu = Pdu::decode(frame.clone()).expect("valid");
        let id_len = pdu.tlvs.receipted_message_id().map(<[u8]>::len);
        let state = pdu.tlvs.message_state();
        (pdu, id_len, state)
    });
    assert_eq!(n, 0, "decoding a deliver_sm receipt and reading its TLVs allocated");
    assert_eq!(decoded, (receipt.clone(), Some(10), Some(2)));
    assert!(matches!(decoded.0.body, Body::DeliverSm(_)));

    // Encoding into a buffer that already has the capacity, as a writer reuses its buffer.
    let mut out = BytesMut::with_capacity(4096);
    let (_, n) = count(|| {
        for _ in 0..3 {
            out.clear();
            submit.encode(&mut out);
        }
    });
    assert_eq!(n, 0, "Pdu::encode into a reused BytesMut allocated");
    assert_eq!(out.len(), submit.encoded_len());

    // Framing: a read buffer holding several PDUs. The first split promotes the BytesMut to
    // a shared buffer (one allocation inside `bytes`, once per buffer); after that a frame
    // is a reference-counted view.
    let mut read_buf = BytesMut::with_capacity(16 * 1024);
    for _ in 0..4 {
        submit.encode(&mut read_buf);
    }
    receipt.encode(&mut read_buf);
    let framer = Framer::default();
    let first = framer.next_frame(&mut read_buf).unwrap().expect("a whole PDU");
    let (frames, n) = count(|| {
        let mut frames = [first.clone(), first.clone(), first.clone(), first.clone()];
        for f in &mut frames {
            *f = framer.next_frame(&mut read_buf).unwrap().expect("a whole PDU");
        }
        frames
    });
    assert_eq!(n, 0, "Framer::next_frame on a promoted read buffer allocated");
    assert!(read_buf.is_empty());

    let (pdus, n) = count(|| frames.map(|f| Pdu::decode(f).expect("valid")));
    assert_eq!(n, 0, "decoding frames cut by the framer allocated");
    assert_eq!(pdus[3], receipt);

    let (_, n) = count(|| {
        drop(pdus);
        drop(first);
        drop(read_buf);
    });
    assert_eq!(n, 0, "releasing frames and the read buffer allocated");
}
