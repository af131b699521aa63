//! Receipt parsing, once per receipt on the ESME's hot path: the Appendix B layout (read by
//! position) and a reordered, re-cased one (read by the keyword scan).
//!
//! ```text
//! cargo bench -p smpp-dlr --bench receipt -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smpp_dlr::{parse_receipt, ReceiptInput};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_receipt");
    g.throughput(Throughput::Elements(1));
    let layouts: [(&str, &[u8]); 2] = [
        (
            "appendix_b",
            b"id:0059113978 sub:001 dlvrd:001 submit date:2612060817 done date:2612060818 \
              stat:DELIVRD err:000 text:Your card payment",
        ),
        (
            "reordered",
            b"STAT:DELIVRD err:000 Done Date:2612060818 dlvrd:001 Submit_Date:2612060817 \
              sub:001 ID:0059113978 text:Your card payment",
        ),
    ];
    for (name, text) in layouts {
        g.bench_function(name, |b| {
            b.iter(|| {
                let input = ReceiptInput {
                    short_message: black_box(text),
                    receipted_message_id: Some(b"0059113978"),
                    ..ReceiptInput::default()
                };
                parse_receipt(&input).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
