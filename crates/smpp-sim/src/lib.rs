//! An SMSC simulator that behaves like the four Japanese carriers (NTT docomo, au, SoftBank,
//! Rakuten Mobile), for tests, demos and load tests of SMPP 3.4 clients.
//!
//! `smpp-sim` listens on one port per carrier and plays the SMSC end of every bind with the
//! project's session core (`smpp_session::Session` in the SMSC role; `smpp-codec` for the
//! wire). It checks credentials and bind limits, validates submits like a carrier, answers
//! with the carrier's message_id format, sends delivery receipts (with the real-world
//! deviations: hex/decimal ids, receipts before the submit_sm_resp, late receipts from
//! unreachable handsets), reassembles and bills concatenated messages with each carrier's rule
//! (`smpp-sms`), throttles, rejects numbers another carrier serves (MNP), injects MO messages,
//! and breaks on demand. An HTTP control API (`/stats`, `/mo`, `/faults`, `/messages`,
//! `/metrics`) and the [`RunningSim`] handle observe and steer it.
//!
//! What it leaves to others: it is not an ESME client (that is `smpp-tokio`), it keeps
//! nothing on disk (messages, receipts and stats live in memory and end with the process), and
//! it delivers nothing to real handsets. Everything happens on the addresses it is given.
//!
//! ```text
//!                 ┌──────────── smpp-sim ─────────────────────────────────────────┐
//!   ESME ──TCP/TLS──▶ listener (per carrier) ──▶ connection task: Session (SMSC role)
//!                 │      accounts, throttle, validation, MNP, concatenation, store │
//!                 │                   │ message fates                              │
//!                 │                   ▼                                            │
//!   ESME ◀─deliver_sm─── engine (per carrier): receipts, retries, MO routing        │
//!                 │                                                                │
//!   HTTP ──────────▶ control API: /stats /mo /faults /messages /metrics            │
//!                 └────────────────────────────────────────────────────────────────┘
//! ```
//!
//! Section numbers in comments (`smpp34.md §N`) point into the project's SMPP digest,
//! `shared/reference/smpp34.md`; carrier rules come from `credit-card-sms.md` beside it.
//!
//! # Example
//!
//! Start one carrier on a free port, bind as a transceiver and submit one message, with a
//! client of a few lines built from `smpp-codec`:
//!
//! ```
//! use bytes::BytesMut;
//! use smpp_codec::{Bind, Body, COctetString, Framer, Pdu, ShortMessage, SubmitSm};
//! use smpp_sim::{SimConfig, Simulator};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::TcpStream;
//!
//! /// Writes one PDU and reads the next one back.
//! async fn call(tcp: &mut TcpStream, buf: &mut BytesMut, pdu: Pdu) -> Pdu {
//!     tcp.write_all(&pdu.to_bytes()).await.unwrap();
//!     loop {
//!         if let Some(frame) = Framer::default().next_frame(buf).unwrap() {
//!             return Pdu::decode(frame).unwrap();
//!         }
//!         assert!(tcp.read_buf(buf).await.unwrap() > 0, "connection closed");
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let config = SimConfig::single("docomo", "127.0.0.1:0".parse().unwrap(), &[("bank", "secret")]);
//! let sim = Simulator::start(config).await.unwrap();
//!
//! let mut tcp = TcpStream::connect(sim.addr("docomo").unwrap()).await.unwrap();
//! let mut buf = BytesMut::new();
//! let bind = Bind {
//!     system_id: COctetString::new("bank").unwrap(),
//!     password: COctetString::new("secret").unwrap(),
//!     interface_version: Bind::V34,
//!     ..Default::default()
//! };
//! let resp = call(&mut tcp, &mut buf, Pdu::new(1, Body::BindTransceiver(bind))).await;
//! assert!(resp.command_status.is_ok());
//!
//! let submit = SubmitSm {
//!     destination_addr: COctetString::new("819012345678").unwrap(),
//!     data_coding: 0x08,
//!     short_message: ShortMessage::new(&b"\x30\x42\x30\x8A\x30\x4C\x30\x68\x30\x46"[..]).unwrap(), // ありがとう
//!     ..Default::default()
//! };
//! let resp = call(&mut tcp, &mut buf, Pdu::new(2, Body::SubmitSm(submit))).await;
//! let Body::SubmitSmResp(Some(r)) = resp.body else { panic!("{resp:?}") };
//! assert_eq!(r.message_id.as_bytes(), b"1"); // docomo's default format: decimal from 1
//!
//! assert_eq!(sim.stats().carrier("docomo").submits, 1);
//! sim.shutdown().await;
//! # });
//! ```
//!
//! # Configuration
//!
//! [`SimConfig`] holds one [`CarrierConfig`] per carrier. Build it in code
//! ([`SimConfig::single`], [`CarrierConfig::new`] and the public fields, each documented with
//! its default) or read TOML with [`SimConfig::load`]; `deploy/sim.toml` documents every key
//! for all four carriers. A configuration error names its key
//! (`carriers.docomo.accounts[0].password: at most 8 characters`).
//!
//! # Control API
//!
//! With [`SimConfig::control`] set, an HTTP server on that address offers what
//! [`RunningSim`] does:
//!
//! | Route | Does |
//! |---|---|
//! | `GET /stats` | [`SimStats`] as JSON: per carrier binds, submits, parts, billable segments, receipts sent/acked, MOs, errors by status |
//! | `GET /metrics` | the same as Prometheus text (`smsc_sim_submits_total{carrier="docomo"}`, ...) |
//! | `GET /messages?to=NUMBER[&carrier=NAME]` | what that handset received ([`HandsetMessage`]: reassembled text, segments, billable count) |
//! | `POST /mo` | injects an MO: `{"carrier":"docomo","from":"819012345678","to":"0120000000","text":"はい"}` ([`MoRequest`]) |
//! | `POST /faults` | injects a fault: `{"carrier":"au","fault":"hang","ms":5000}` ([`FaultRequest`], [`Fault`]) |
//!
//! Errors come back as status 400 with `{"error": "..."}`.
//!
//! # Performance
//!
//! Connections share no lock on the submit path except their account's token bucket (only
//! when a rate is set) and one of 16 message-store shards; counters are atomics. Reads and
//! writes are batched: one `read` feeds every whole PDU it holds to the session, and
//! everything the session queued goes out in one `write`. On the 2-core development machine,
//! with the load generator of `examples/load.rs` on the same cores, 10 transceivers with 100
//! submits in flight each pass ~140 000 submits/s, each with its receipt; the simulator spends
//! ~10 µs of CPU per message (submit, response, receipt, its response). 2 000 binds at once
//! are served. Memory is bounded by [`CarrierConfig::store_capacity`] (about 270 bytes per
//! stored message: peak RSS of `smsc-sim --receipt-delay-ms 0 --threads 1` under `/usr/bin/time
//! -v`, driven by `smpp bench --window 100`, was 14.2 MB after 20 000 messages and 62.1 MB
//! after 200 000 on 2026-12-06, both with a full handset inbox; 16.6 and 97.2 MB before the
//! store became a ring) and the receipt queues.

mod carrier;
mod config;
mod conn;
mod control;
mod engine;
mod fault;
mod mnp;
mod mo;
mod msgid;
mod receipt;
mod stats;
mod time;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use carrier::HandsetMessage;
pub use config::{
    AccountConfig, CarrierConfig, ConcatConfig, ConfigError, FaultConfig, HandsetConfig, MnpConfig,
    MoFeedConfig, MoTemplate, OutcomeWeight, QuirksConfig, ReceiptConfig, SessionSettings,
    SimConfig, TlsConfig, ValidationConfig,
};
pub use fault::{Fault, FaultRequest, MalformedKind};
pub use mo::{MoError, MoInjected, MoRequest};
pub use msgid::MessageIdFormat;
pub use receipt::Stat;
pub use stats::{CarrierStats, SimStats};

use carrier::{Carrier, ConnCmd};
use engine::EngineHandle;
use mnp::NumberTable;

/// Why the simulator did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is wrong (the error names the key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listening address could not be bound.
    #[error("{what}: cannot listen on {addr}: {source}")]
    Listen {
        /// `carriers.NAME.listen` or `control`.
        what: String,
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Why a fault could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultError {
    /// No such carrier.
    #[error("no carrier {0:?}")]
    UnknownCarrier(String),
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Checks `config`, binds every listener (port 0 picks a free one) and starts serving.
    /// Must be called within a tokio runtime; the simulator runs on it until
    /// [`RunningSim::shutdown`] (or the runtime ends).
    pub async fn start(config: SimConfig) -> Result<RunningSim, StartError> {
        config.validate()?;
        let now = Instant::now();
        let mut numbers = NumberTable::default();
        if let Some(f) = &config.mnp.file {
            numbers.load_file(f)?;
        }
        for (i, e) in config.mnp.entries.iter().enumerate() {
            let (n, c, s) =
                mnp::parse_line(e).map_err(|m| ConfigError::new(format!("mnp.entries[{i}]"), m))?;
            numbers.insert(n, &c, s);
        }
        let numbers = Arc::new(numbers);
        let feed = match &config.mo.file {
            Some(f) => mo::load_feed(f)?,
            None => Vec::new(),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut carriers = Vec::new();
        let mut addrs = Vec::new();
        for cc in &config.carriers {
            let tls = match &cc.tls {
                Some(t) => Some(tls::acceptor(&cc.name, t)?),
                None => None,
            };
            let addr = cc.listen_addr();
            let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Listen {
                what: format!("carriers.{}.listen", cc.name),
                addr,
                source,
            })?;
            let local = listener.local_addr().unwrap_or(addr);
            let (engine, jobs) = EngineHandle::channel();
            let c = Arc::new(Carrier::new(cc.clone(), numbers.clone(), engine, now));
            tasks.push(tokio::spawn(engine::run(Arc::downgrade(&c), jobs, shutdown_rx.clone())));
            tasks.push(tokio::spawn(accept_loop(listener, c.clone(), tls, shutdown_rx.clone())));
            addrs.push((cc.name.clone(), local));
            carriers.push(c);
        }
        let shared = Arc::new(Shared { carriers, shutdown });
        let mut control = None;
        if let Some(addr) = config.control {
            let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Listen {
                what: "control".into(),
                addr,
                source,
            })?;
            control = Some(listener.local_addr().unwrap_or(addr));
            tasks.push(tokio::spawn(control::serve(listener, shared.clone(), shutdown_rx.clone())));
        }
        if !feed.is_empty() || config.mo.generate.is_some() {
            tasks.push(tokio::spawn(mo::run_feed(
                shared.carriers.clone(),
                config.mo.clone(),
                feed,
                shutdown_rx,
            )));
        }
        for (name, addr) in &addrs {
            tracing::info!(carrier = %name, %addr, "SMSC simulator listening");
        }
        Ok(RunningSim { shared, addrs, control, tasks })
    }
}

/// A running simulator: where it listens, what it did, and the levers.
///
/// Dropping it leaves the simulator running on the runtime; call [`RunningSim::shutdown`]
/// to stop it.
#[derive(Debug)]
pub struct RunningSim {
    shared: Arc<Shared>,
    addrs: Vec<(String, SocketAddr)>,
    control: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningSim {
    /// The address `carrier` listens on.
    pub fn addr(&self, carrier: &str) -> Option<SocketAddr> {
        self.addrs.iter().find(|(n, _)| n == carrier).map(|(_, a)| *a)
    }

    /// Every carrier and its address, in configuration order.
    pub fn addrs(&self) -> &[(String, SocketAddr)] {
        &self.addrs
    }

    /// The control API's address, when configured.
    pub fn control_addr(&self) -> Option<SocketAddr> {
        self.control
    }

    /// The counters of every carrier, now.
    pub fn stats(&self) -> SimStats {
        self.shared.stats()
    }

    /// Injects a mobile-originated message (see [`MoRequest`]).
    pub fn inject_mo(&self, req: &MoRequest) -> Result<MoInjected, MoError> {
        self.shared.inject_mo(req)
    }

    /// Injects a fault; returns how many connections it was sent to (0 for the carrier-wide
    /// ones: delay, refuse binds, generic_nack, queue full, clear).
    pub fn set_fault(&self, req: &FaultRequest) -> Result<usize, FaultError> {
        self.shared.set_fault(req)
    }

    /// What the handset `to` received (delivered messages, reassembled), oldest first, on
    /// `carrier` or on all carriers.
    pub fn messages(&self, carrier: Option<&str>, to: &str) -> Vec<HandsetMessage> {
        self.shared.messages(carrier, to)
    }

    /// Stops listening, closes every connection and waits (a second at most) for the tasks.
    pub async fn shutdown(self) {
        let _ = self.shared.shutdown.send(true);
        for c in &self.shared.carriers {
            c.broadcast(None, || ConnCmd::Drop);
        }
        for t in self.tasks {
            if tokio::time::timeout(Duration::from_secs(1), t).await.is_err() {
                tracing::warn!("a simulator task did not stop within 1 s");
            }
        }
    }
}

/// What the handle and the control API share.
pub(crate) struct Shared {
    carriers: Vec<Arc<Carrier>>,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("carriers", &self.carriers.len()).finish_non_exhaustive()
    }
}

impl Shared {
    fn carrier(&self, name: &str) -> Option<&Arc<Carrier>> {
        self.carriers.iter().find(|c| c.name == name)
    }

    pub(crate) fn stats(&self) -> SimStats {
        let mut s = SimStats::default();
        for c in &self.carriers {
            s.carriers.insert(c.name.clone(), c.stats.snapshot());
        }
        s
    }

    pub(crate) fn inject_mo(&self, req: &MoRequest) -> Result<MoInjected, MoError> {
        let c = match &req.carrier {
            Some(n) => self.carrier(n).ok_or_else(|| MoError::UnknownCarrier(n.clone()))?,
            None => &self.carriers[0],
        };
        mo::inject(c, req)
    }

    pub(crate) fn set_fault(&self, req: &FaultRequest) -> Result<usize, FaultError> {
        let targets: Vec<&Arc<Carrier>> = match &req.carrier {
            Some(n) => {
                vec![self.carrier(n).ok_or_else(|| FaultError::UnknownCarrier(n.clone()))?]
            }
            None => self.carriers.iter().collect(),
        };
        let now = Instant::now();
        let account = req.account.as_deref();
        let mut n = 0;
        for c in targets {
            tracing::info!(carrier = %c.name, fault = ?req.fault, account = ?account, "fault");
            c.faults.apply(&req.fault, now);
            n += match &req.fault {
                Fault::Drop => c.broadcast(account, || ConnCmd::Drop),
                Fault::Unbind => c.broadcast(account, || ConnCmd::Unbind),
                Fault::Hang { ms } => {
                    let until = now + Duration::from_millis(*ms);
                    c.broadcast(account, || ConnCmd::Hang(until))
                }
                Fault::Malformed { kind } => c.broadcast(account, || ConnCmd::Malformed(*kind)),
                _ => 0,
            };
        }
        Ok(n)
    }

    pub(crate) fn messages(&self, carrier: Option<&str>, to: &str) -> Vec<HandsetMessage> {
        let mut out: Vec<HandsetMessage> = self
            .carriers
            .iter()
            .filter(|c| carrier.map_or(true, |n| c.name == n))
            .flat_map(|c| c.inbox.get(&c.name, &c.ids, to))
            .collect();
        out.sort_by_key(|m| m.delivered_unix);
        out
    }
}

async fn accept_loop(
    listener: TcpListener,
    carrier: Arc<Carrier>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(carrier = %carrier.name, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let c = carrier.clone();
        match &tls {
            None => {
                tokio::spawn(conn::serve(c, stream));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => conn::serve(c, s).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

mod tls {
    //! The TLS server side (tokio-rustls with the ring provider).

    use std::fs::File;
    use std::io::BufReader;
    use std::sync::Arc;

    use tokio_rustls::TlsAcceptor;

    use crate::{ConfigError, TlsConfig};

    pub(crate) fn acceptor(carrier: &str, t: &TlsConfig) -> Result<TlsAcceptor, ConfigError> {
        let key_of = |f: &str| format!("carriers.{carrier}.tls.{f}");
        let open = |p: &std::path::Path, f: &str| {
            File::open(p)
                .map(BufReader::new)
                .map_err(|e| ConfigError::new(key_of(f), format!("{}: {e}", p.display())))
        };
        let certs = rustls_pemfile::certs(&mut open(&t.cert, "cert")?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError::new(key_of("cert"), e.to_string()))?;
        if certs.is_empty() {
            return Err(ConfigError::new(key_of("cert"), "no certificate in the file"));
        }
        let key = rustls_pemfile::private_key(&mut open(&t.key, "key")?)
            .map_err(|e| ConfigError::new(key_of("key"), e.to_string()))?
            .ok_or_else(|| ConfigError::new(key_of("key"), "no private key in the file"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::new(key_of("cert"), e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| ConfigError::new(key_of("key"), e.to_string()))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
