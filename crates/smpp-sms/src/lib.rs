//! Text to SMPP 3.4 PDU payloads for Japanese carriers, as pure functions.
//!
//! This crate turns a UTF-8 text into the user data of the PDUs that carry it:
//! it picks the encoding (GSM 03.38 when every character fits, else UCS-2),
//! splits the text the way the chosen carrier wants (UDH with an 8- or 16-bit
//! reference, SAR TLVs, or one message_payload), never splitting a GSM escape
//! pair or a UTF-16 surrogate pair, and computes the billable count by each
//! carrier's rule. In the other direction it parses UDHs and reassembles
//! mobile-originated long messages. It does no IO, reads no clock (callers pass
//! `Instant`s) and depends on no other workspace crate.
//!
//! What it leaves to others: the codec (`smpp-codec`) builds the actual
//! submit_sm / deliver_sm PDUs from the [`Part`]s (setting esm_class UDHI, the SAR
//! TLVs or message_payload as flagged); the daemon decides which carrier a number
//! belongs to and therefore which [`CarrierProfile`] to use, and keeps a
//! [`ReferenceAllocator`] per bind or per process.
//!
//! Rules come from `smpp34.md` §7.3, §10, §11, §12 and `credit-card-sms.md`.
//!
//! ```
//! use smpp_sms::{segment, CarrierProfile, Encoding, Method, ReferenceAllocator};
//!
//! let profile = CarrierProfile::by_name("au")?;
//! let mut refs = ReferenceAllocator::default();
//! let text = "【カード会社】ご利用代金のお支払い期限が過ぎています。".repeat(3);
//! let s = segment(&text, &profile, refs.next("+819012345678"), false)?;
//! assert_eq!(s.encoding, Encoding::Ucs2);
//! assert_eq!(s.data_coding, 0x08);
//! assert_eq!(s.chars, 81); // 27 UCS-2 characters × 3
//! assert_eq!(s.method, Method::Udh8);
//! assert_eq!((s.parts.len(), s.billable), (2, 2));
//! assert!(s.parts.iter().all(|p| p.udhi && p.user_data.len() <= 140));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod carrier;
pub mod gsm7;
pub mod reassembly;
pub mod refs;
pub mod segment;
pub mod ucs2;
pub mod udh;

pub use carrier::{
    billable_count, billable_count_for, BillingRule, CarrierProfile, ConcatMethod, UnknownCarrier,
    BUILTIN_PROFILES, DEFAULT_MAX_CHARS,
};
pub use reassembly::{
    Concatenation, IncompleteMessage, MoPart, ReassembledMessage, Reassembler, ReassemblyConfig,
    ReassemblyError,
};
pub use refs::ReferenceAllocator;
pub use segment::{segment, Encoding, Method, Part, Sar, SegmentError, Segmented, ESM_CLASS_UDHI};
pub use udh::{parse_udh, Udh, UdhError};
