//! SMPP 3.4 delivery receipts: parsing them and matching them to the submits they report on.
//!
//! This crate does no IO and reads no clock. It is handed the fields of a receipt (plain byte
//! slices the codec has already cut out of a `deliver_sm` or `data_sm`) and, for correlation,
//! the current time as a [`std::time::Instant`]; it hands back values. It does not depend on
//! any other crate of the workspace.
//!
//! - [`receipt`] reads the Appendix B text tolerantly (keywords in any order and case, missing
//!   fields, 10/12/14-digit dates, text in `message_payload`, raw 8-bit text) together with the
//!   `receipted_message_id`, `message_state` and `network_error_code` TLVs (smpp34.md §9).
//! - [`msgid`] normalises message ids, which carriers write differently in the submit_sm_resp
//!   and in the receipt (decimal vs hex, zero padding, case; smpp34.md §7.8, §9.3), and learns
//!   per account which way round it is.
//! - [`correlate`] matches receipts to submits through a [`correlate::CorrelationStore`],
//!   holds receipts that overtake their submit_sm_resp, detects duplicates and reports every
//!   receipt it cannot match.
//!
//! What it leaves to others:
//!
//! ```text
//!   SMSC ──deliver_sm──▶ smpp-codec ──fields──▶ parse_receipt ──Receipt──▶ Correlator ──Outcome──▶ application
//!                        (extracts TLVs,                                    ▲    │                   │
//!                         answers malformed                 submit_sm_resp ─┘    ▼                   │
//!                         PDUs)                                           CorrelationStore           │
//!   SMSC ◀──deliver_sm_resp── client ◀───────────── "handed on" ────────────(daemon: durable)◀───────┘
//! ```
//!
//! - The codec extracts the PDU fields and decides what to do with a broken TLV (for example a
//!   `receipted_message_id` whose length overruns the PDU).
//! - The client answers the `deliver_sm` with `deliver_sm_resp` only after the receipt's
//!   [`correlate::Outcome`] has been handed on, so a crash does not lose it. Receipts held as
//!   [`correlate::Outcome::Early`] live only in memory.
//! - The daemon persists submits (a durable [`correlate::CorrelationStore`]) and decides what
//!   to do with unmatched receipts and with submits that never get one.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use smpp_dlr::correlate::{CorrelatorConfig, Correlator, MemoryStore, Outcome};
//! use smpp_dlr::receipt::{parse_receipt, MessageState, ReceiptInput};
//!
//! let mut correlator = Correlator::new(MemoryStore::new(), CorrelatorConfig::default());
//! let t0 = Instant::now();
//!
//! // The submit_sm_resp named the message in hex; our tag for it is 42.
//! correlator.record_submit("carrier-a", "38601fa", 42, t0);
//!
//! // The receipt names it in zero-padded decimal (0x38601FA = 59113978).
//! let receipt = parse_receipt(&ReceiptInput {
//!     short_message: b"id:0059113978 sub:001 dlvrd:001 submit date:2411251200 \
//!                      done date:2411251201 stat:DELIVRD err:000 text:Hello",
//!     ..ReceiptInput::default()
//! })?;
//!
//! // Nothing is learned about carrier-a yet, and a receipt can overtake its own resp: read
//! // across bases at once, `0059113978` could be another message's id. So it waits.
//! let held = correlator.handle_receipt("carrier-a", receipt, t0 + Duration::from_secs(3));
//! assert_eq!(held, Outcome::Early { evicted: None });
//!
//! // After a short wait (`cross_reading_after`, 5 s by default) its own resp would have come:
//! // the cross reading is taken, and counted towards learning carrier-a's format.
//! let settled = correlator.poll_expired(t0 + Duration::from_secs(8));
//! match &settled[..] {
//!     [Outcome::Matched(m)] => {
//!         assert_eq!(m.tag, 42);
//!         assert_eq!(m.receipt.state, MessageState::DELIVERED);
//!         assert!(m.receipt.is_final && m.was_early);
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert_eq!(correlator.counters().matched, 1);
//! # Ok::<(), smpp_dlr::receipt::ReceiptError>(())
//! ```

pub mod correlate;
mod memstore;
pub mod msgid;
pub mod receipt;

/// The string type of message ids and receipt fields: ids up to 24 octets are kept inline,
/// without an allocation.
pub use compact_str::CompactString;
pub use correlate::{CorrelationStore, Correlator, CorrelatorConfig, MemoryStore, Outcome};
pub use receipt::{parse_receipt, MessageState, Receipt, ReceiptError, ReceiptInput};
