//! Codec hot paths on realistic PDUs. Targets on the 2-core dev machine: decode/submit_sm
//! ≤ 100 ns, encode/submit_sm ≤ 70 ns.
//!
//! ```text
//! cargo bench -p smpp-codec --bench codec -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smpp_codec::{Framer, Pdu};

#[path = "../tests/realistic/mod.rs"]
mod realistic;

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));

    let submit = realistic::framed(&realistic::submit_sm_ucs2_concatenated());
    g.bench_function("submit_sm", |b| b.iter(|| Pdu::decode(black_box(&submit).clone()).unwrap()));

    let receipt = realistic::framed(&realistic::deliver_sm_receipt());
    g.bench_function("deliver_sm_receipt", |b| {
        b.iter(|| Pdu::decode(black_box(&receipt).clone()).unwrap())
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(1));
    let submit = realistic::submit_sm_ucs2_concatenated();
    let mut out = BytesMut::with_capacity(4096);
    g.bench_function("submit_sm", |b| {
        b.iter(|| {
            out.clear();
            black_box(&submit).encode(&mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

fn frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame");
    g.throughput(Throughput::Elements(1000));
    let submit = realistic::submit_sm_ucs2_concatenated();
    let mut stream = BytesMut::new();
    for _ in 0..1000 {
        submit.encode(&mut stream);
    }
    let stream = stream.freeze();
    let framer = Framer::default();
    g.bench_function("stream_1000_pdus", |b| {
        b.iter_batched_ref(
            // A fresh read buffer per iteration, as a socket read would fill it.
            || BytesMut::from(&stream[..]),
            |read_buf| {
                let mut n = 0;
                while let Some(frame) = framer.next_frame(read_buf).unwrap() {
                    black_box(Pdu::decode(frame).unwrap());
                    n += 1;
                }
                assert_eq!(n, 1000);
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, decode, encode, frame);
criterion_main!(benches);
