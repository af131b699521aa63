//! The Japanese sending policy of the gateway, as pure functions.
//!
//! This crate decides *whether and when* a message may go out and *to which carrier*; it
//! does not send anything. It knows Japan time (UTC+9, computed, never the host's zone),
//! the message classes of a credit-card issuer (`otp`, `fraud_alert`, `dunning`,
//! `billing_notice`, `notice`, `campaign`) with their quiet hours — dunning is held
//! 21:00–08:00 JST by law — Japanese mobile numbers, MNP carrier tables, message templates
//! and CSV batch uploads in UTF-8 or Shift_JIS. It reads no clock (callers pass `now` as
//! [`Millis`]), opens no sockets, and touches the file system only in the two loaders
//! that say so ([`CarrierTable::load_csv`]; [`csv_batch::read_rows`] takes bytes).
//!
//! What it leaves to others: the daemon (`smppd`) holds the queue, the suppression and
//! opt-out lists, the approval workflow and the clock; it asks [`decide()`] before every
//! send and re-asks at a hold's `until`, routes with [`CarrierTable::route`], rebuilds the
//! table in the background when the file changes, and segments with `smpp-sms`.
//!
//! ```text
//!   CSV upload ──read_rows──validate_batch──▶ rows (E.164, rendered text)
//!                                                │
//!   API submit ─────────normalise_jp────────────┤
//!                                                ▼
//!   daemon: lists + now ──▶ decide(input, config) ──▶ Send | Hold{until} | Reject{reason}
//!                                                │ Send
//!                                                ▼
//!                         CarrierTable::route ──▶ carrier ──▶ smpp_sms::segment ──▶ SMSC
//! ```
//!
//! ```
//! use smpp_policy::{decide, normalise_jp, DecisionInput, ListStatus, PolicyConfig, Verdict};
//! use smpp_policy::time::{format_jst, parse_rfc3339};
//!
//! let config = PolicyConfig::from_toml_str("[classes.campaign]\nquiet = \"20:00-09:00\"\n")?;
//! let to = normalise_jp("090-1234-5678")?;
//! let input = DecisionInput {
//!     class: "dunning",
//!     to: &to,
//!     now: parse_rfc3339("2026-11-22T21:00:00+09:00")?,
//!     send_at: None,
//!     deadline: Some(parse_rfc3339("2026-11-24T00:00:00+09:00")?),
//!     lists: ListStatus::default(),
//! };
//! let decision = decide(&input, &config);
//! assert_eq!(decision.verdict, Verdict::Hold { until: parse_rfc3339("2026-11-23T08:00:00+09:00")? });
//! println!("{}", decision.explain());
//! // hold until 2026-11-23T08:00:00+09:00
//! // - class dunning (priority 2)
//! // - not on the suppression list
//! // - class dunning: quiet hours 21:00-08:00 JST
//! // - 2026-11-22T21:00:00+09:00 is inside the window
//! // - deadline 2026-11-24T00:00:00+09:00 not reached
//! // - held until 2026-11-23T08:00:00+09:00
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod class;
pub mod config;
pub mod csv_batch;
pub mod decide;
pub mod mnp;
pub mod number;
pub mod template;
pub mod time;

pub use class::{ClassPolicy, QuietWindow, QuietWindowError, UnknownClass};
pub use config::{ConfigError, PolicyConfig};
pub use csv_batch::{read_rows, validate_batch, BatchMessage, CsvError, Row, RowError, RowErrors};
pub use decide::{
    decide, Decision, DecisionInput, ListStatus, RejectReason, Rule, RuleKind, Verdict,
};
pub use mnp::{CarrierTable, MnpError, Route, RouteSource};
pub use number::{mask, normalise_jp, normalise_jp_with, NumberError, NumberRules};
pub use template::{MissingField, Template, TemplateError};
pub use time::{format_jst, parse_rfc3339, Millis, TimeError};
