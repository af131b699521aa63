//! Client configuration: one SMSC account and how to bind to it.

use std::time::Duration;

use smpp_codec::{COctetString, Npi, Ton};
use smpp_dlr::CorrelatorConfig;
use smpp_session::SessionConfig;

use crate::backoff::BackoffConfig;
use crate::error::Error;
use crate::tls::TlsConfig;

/// How the account's binds are made (smpp34.md §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindMode {
    /// bind_transceiver: submits and receipts on the same connection.
    Transceiver,
    /// A bind_transmitter and a bind_receiver per bind slot; receipts arrive on the receiver.
    TransmitterReceiver,
    /// bind_transmitter only (receipts not wanted, or collected elsewhere).
    Transmitter,
    /// bind_receiver only.
    Receiver,
}

impl std::str::FromStr for BindMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "trx" | "transceiver" => Ok(Self::Transceiver),
            "tx+rx" | "tx-rx" => Ok(Self::TransmitterReceiver),
            "tx" | "transmitter" => Ok(Self::Transmitter),
            "rx" | "receiver" => Ok(Self::Receiver),
            _ => Err(Error::config(format!("bind mode {s:?}: use trx, tx+rx, tx or rx"))),
        }
    }
}

/// Everything needed to keep binds to one SMSC account.
///
/// ```
/// use smpp_tokio::{BindMode, EsmeConfig};
/// let mut c = EsmeConfig::new("127.0.0.1", 2775, "ISSUER01", "secret").unwrap();
/// c.bind_mode(BindMode::TransmitterReceiver).binds(2).tps(Some(40_000.0 / 3600.0));
/// ```
#[derive(Clone, Debug)]
pub struct EsmeConfig {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) system_id: COctetString<16>,
    pub(crate) password: COctetString<9>,
    pub(crate) system_type: COctetString<13>,
    pub(crate) addr_ton: Ton,
    pub(crate) addr_npi: Npi,
    pub(crate) bind_mode: BindMode,
    pub(crate) binds: usize,
    pub(crate) session: SessionConfig,
    pub(crate) tps: Option<f64>,
    pub(crate) backoff: BackoffConfig,
    pub(crate) throttle_min: Duration,
    pub(crate) throttle_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) queue: usize,
    pub(crate) incoming_capacity: usize,
    pub(crate) correlation: CorrelatorConfig,
    pub(crate) correlate: bool,
    pub(crate) discard_incoming: bool,
}

impl EsmeConfig {
    /// An account at `host:port` with `system_id` (≤ 15 characters) and `password` (≤ 8).
    /// Defaults: one transceiver bind, window 10, no TPS limit, reconnect 1 s → 60 s.
    pub fn new(host: &str, port: u16, system_id: &str, password: &str) -> Result<Self, Error> {
        let system_id = COctetString::try_from(system_id)
            .map_err(|e| Error::config(format!("system_id: {e}")))?;
        let password = COctetString::try_from(password)
            .map_err(|e| Error::config(format!("password: {e}")))?;
        Ok(Self {
            host: host.to_string(),
            port,
            tls: None,
            system_id,
            password,
            system_type: COctetString::empty(),
            addr_ton: Ton::UNKNOWN,
            addr_npi: Npi::UNKNOWN,
            bind_mode: BindMode::Transceiver,
            binds: 1,
            session: SessionConfig::default(),
            tps: None,
            backoff: BackoffConfig::default(),
            throttle_min: Duration::from_millis(100),
            throttle_max: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            queue: 1024,
            incoming_capacity: 4096,
            correlation: CorrelatorConfig::default(),
            correlate: true,
            discard_incoming: false,
        })
    }

    /// system_type sent in the bind (≤ 12 characters; usually empty).
    pub fn system_type(&mut self, system_type: &str) -> Result<&mut Self, Error> {
        self.system_type = COctetString::try_from(system_type)
            .map_err(|e| Error::config(format!("system_type: {e}")))?;
        Ok(self)
    }

    /// Connect with TLS.
    pub fn tls(&mut self, tls: Option<TlsConfig>) -> &mut Self {
        self.tls = tls;
        self
    }

    /// Transceiver (default) or transmitter + receiver pairs, etc.
    pub fn bind_mode(&mut self, mode: BindMode) -> &mut Self {
        self.bind_mode = mode;
        self
    }

    /// Number of binds (or tx+rx pairs) kept open; the carrier's contract caps it. Default 1.
    pub fn binds(&mut self, binds: usize) -> &mut Self {
        self.binds = binds.max(1);
        self
    }

    /// Session settings (window, timers). Default window 10, enquire_link every 30 s.
    pub fn session(&mut self, session: SessionConfig) -> &mut Self {
        self.session = session;
        self
    }

    /// The contracted rate in PDUs (segments) per second for the whole account, shared
    /// evenly by its transmitting binds. `None` (default) sends as fast as the window allows.
    /// 40,000 messages/hour is `Some(11.11)`.
    pub fn tps(&mut self, tps: Option<f64>) -> &mut Self {
        self.tps = tps;
        self
    }

    /// Reconnect backoff.
    pub fn backoff(&mut self, backoff: BackoffConfig) -> &mut Self {
        self.backoff = backoff;
        self
    }

    /// Pause after ESME_RTHROTTLED / ESME_RMSGQFUL: starts at `min`, doubles per repeat up to
    /// `max`, resets on the next accepted submit. Default 100 ms → 10 s.
    pub fn throttle_pause(&mut self, min: Duration, max: Duration) -> &mut Self {
        self.throttle_min = min;
        self.throttle_max = max.max(min);
        self
    }

    /// TCP (and TLS) connect timeout. Default 10 s.
    pub fn connect_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.connect_timeout = timeout;
        self
    }

    /// Requests queued per bind before `submit` waits (back-pressure). Default 1024.
    pub fn queue(&mut self, queue: usize) -> &mut Self {
        self.queue = queue.max(1);
        self
    }

    /// Incoming messages (MO, receipts) buffered before the receiver stops reading and the
    /// SMSC's window fills. Default 4096.
    pub fn incoming_capacity(&mut self, capacity: usize) -> &mut Self {
        self.incoming_capacity = capacity.max(1);
        self
    }

    /// Receipt correlation settings (early-receipt buffer size and timeout, ...).
    pub fn correlation(&mut self, c: CorrelatorConfig) -> &mut Self {
        self.correlation = c;
        self
    }

    /// Whether the client correlates receipts in memory (default `true`). An application
    /// that correlates on disk itself (smppd does, so receipts days later and after a
    /// restart still match) turns this off: receipts are then parsed but not matched, and
    /// the client keeps no per-submit state.
    pub fn correlate(&mut self, on: bool) -> &mut Self {
        self.correlate = on;
        self
    }

    /// Acknowledge incoming deliver_sm / data_sm (MO, receipts) as they arrive and discard
    /// them: for a client that only sends. Off by default: messages are buffered for
    /// [`EsmeClient::incoming`](crate::EsmeClient::incoming), even before it is taken.
    pub fn discard_incoming(&mut self) -> &mut Self {
        self.discard_incoming = true;
        self
    }

    /// TON/NPI sent in the bind.
    pub fn addr(&mut self, ton: Ton, npi: Npi) -> &mut Self {
        self.addr_ton = ton;
        self.addr_npi = npi;
        self
    }

    pub(crate) fn account(&self) -> String {
        String::from_utf8_lossy(self.system_id.as_bytes()).into_owned()
    }
}
