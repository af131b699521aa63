//! The correlator's work per message on the ESME's hot path: record a submit, then match its
//! final receipt, with the store at its steady size (250,000 finalised entries kept for
//! duplicate detection, the default `finalised_capacity`), so that every submit also purges
//! the oldest finalised entry. Ids are decimal and in sequence, as `smsc-sim` hands them out;
//! receipts carry the id in the `receipted_message_id` TLV.
//!
//! ```text
//! cargo bench -p smpp-dlr --bench correlate -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smpp_dlr::{parse_receipt, Correlator, CorrelatorConfig, MemoryStore, Outcome, ReceiptInput};

const ACCOUNT: &str = "ISSUER01";

fn receipt_for(id: &str) -> smpp_dlr::Receipt {
    let text = format!(
        "id:{id} sub:001 dlvrd:001 submit date:2612060817 done date:2612060818 stat:DELIVRD \
         err:000 text:Your card payment"
    );
    parse_receipt(&ReceiptInput {
        short_message: text.as_bytes(),
        receipted_message_id: Some(id.as_bytes()),
        ..ReceiptInput::default()
    })
    .expect("a well-formed receipt")
}

fn submit_and_receipt(c: &mut Criterion) {
    let mut g = c.benchmark_group("correlate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("submit_then_receipt_steady", |b| {
        let mut correlator = Correlator::new(MemoryStore::new(), CorrelatorConfig::default());
        let start = Instant::now();
        let counter = std::cell::Cell::new(1_000_000_u64);
        let next = || {
            counter.set(counter.get() + 1);
            let id = counter.get().to_string();
            let receipt = receipt_for(&id);
            (id, receipt)
        };
        // Fill to the steady size first.
        for _ in 0..260_000 {
            let (id, receipt) = next();
            correlator.record_submit(ACCOUNT, &id, 0, start);
            correlator.handle_receipt(ACCOUNT, receipt, start);
        }
        let now = start + Duration::from_millis(1);
        b.iter_batched(
            next,
            |(id, receipt)| {
                // As the ESME's driver does: the submit_sm_resp, later the receipt and a
                // look at what has expired.
                correlator.record_submit(ACCOUNT, &id, 0, now);
                let outcome = correlator.handle_receipt(ACCOUNT, receipt, now);
                assert!(matches!(outcome, Outcome::Matched(_)), "{outcome:?}");
                black_box(correlator.poll_expired(now));
                outcome
            },
            criterion::BatchSize::SmallInput,
        );
    });
    g.finish();
}

criterion_group!(benches, submit_and_receipt);
criterion_main!(benches);
