//! Async SMPP ESME client over tokio: persistent binds to a carrier SMSC with reconnect,
//! enquire_link, TLS, a windowed pipeline, exact pacing to the contracted rate, throttling
//! backoff, and delivery-receipt correlation.
//!
//! This crate is the thin IO layer. The protocol lives in `smpp-session` (bind states,
//! window, timers: a state machine handed bytes and `now`) and `smpp-codec` (the wire
//! format). Receipt parsing and correlation are `smpp-dlr`'s. What this crate adds: sockets
//! and TLS, one driver task per bind, bounded channels with back-pressure, reconnecting with
//! backoff, pacing ([`Pacer`]) and the pause-and-retry on ESME_RTHROTTLED / ESME_RMSGQFUL.
//!
//! ```text
//!  EsmeClient::submit ──bounded mpsc──▶ driver task (one per bind) ──TCP/TLS──▶ SMSC
//!   or Pipeline::submit                 │  Session (smpp-session)
//!        ▲                              │  Pacer, throttle pause, reconnect backoff
//!        └─ oneshot resp, or the ───────┤
//!           pipeline's one stream       │
//!  incoming() ◀──── bounded mpsc ───────┘  receipts parsed + correlated (smpp-dlr)
//! ```
//!
//! Nothing is resent blindly: a request whose response never came (timeout, lost
//! connection) fails with an error for which [`Error::outcome_unknown`] is true, and the
//! caller decides. Incoming deliver_sm are answered only when the application calls
//! [`Incoming::ack`], so a crash before it stored the message loses nothing.
//!
//! See [`connect`] for an example.

mod backoff;
mod client;
pub mod compose;
mod config;
mod driver;
mod error;
mod pace;
mod pipeline;
mod tls;

pub use backoff::{Backoff, BackoffConfig};
pub use client::{
    connect, BindInfo, BindStatus, Connection, Correlation, EsmeClient, Incoming, IncomingEvent,
    Submitted,
};
pub use config::{BindMode, EsmeConfig};
pub use error::{Error, ErrorKind};
pub use pace::Pacer;
pub use pipeline::{Completion, Pipeline};
pub use tls::TlsConfig;
