//! Configuration: what each simulated carrier listens on, who may bind, and how it behaves.
//!
//! Built in code ([`SimConfig::single`], [`CarrierConfig::new`], public fields) or read from a
//! TOML file ([`SimConfig::from_toml`], [`SimConfig::load`]); `deploy/sim.toml` is the
//! documented example. Every field has a default, documented beside it, so a file only states
//! what differs. Errors name the key (`carriers.docomo.accounts[0].password: ...`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use smpp_codec::CommandStatus;

use crate::msgid::MessageIdFormat;
use crate::receipt::Stat;

/// A configuration error, naming the key it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// Dotted path of the offending key, e.g. `carriers.docomo.receipts.delay_ms`; the file
    /// name for errors about a whole file.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

/// The whole simulator: carriers, control API, number table and MO feeds.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Address of the HTTP control API (`/stats`, `/mo`, `/faults`, `/messages`, `/metrics`).
    /// `None` (the default) runs without it; the library API offers the same operations.
    pub control: Option<SocketAddr>,
    /// The simulated carriers, each on its own port. In TOML: `[carriers.NAME]` tables.
    #[serde(deserialize_with = "carriers_from_table")]
    pub carriers: Vec<CarrierConfig>,
    /// Number ownership (MNP) and handset status table.
    pub mnp: MnpConfig,
    /// Mobile-originated messages injected from a file or at a rate.
    pub mo: MoFeedConfig,
}

/// One simulated carrier SMSC.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CarrierConfig {
    /// The carrier's name (the `[carriers.NAME]` key): how stats, faults and MNP entries refer
    /// to it.
    #[serde(skip)]
    pub name: String,
    /// The smpp-sms carrier profile for segment sizes and billing (`docomo`, `au`,
    /// `softbank`, `rakuten`). Default: the carrier's name.
    pub profile: Option<String>,
    /// Where to listen. Default `127.0.0.1` on the carrier's port: docomo 2775, au 2776,
    /// softbank 2777, rakuten 2778, anything else 2775. Port 0 picks a free port (tests);
    /// [`crate::RunningSim::addr`] tells which.
    pub listen: Option<SocketAddr>,
    /// system_id sent in bind responses (at most 15 characters). Default: `SIM-` and the name
    /// in capitals, cut to 15.
    pub system_id: Option<String>,
    /// Who may bind.
    pub accounts: Vec<AccountConfig>,
    /// Serve SMPP over TLS with this certificate and key.
    pub tls: Option<TlsConfig>,
    /// Format of message_id in submit_sm_resp and receipted_message_id. Default `decimal`.
    pub message_id_format: MessageIdFormat,
    /// Format of the `id:` in the receipt text. Default: the same as `message_id_format`; a
    /// different one reproduces the classic hex/decimal mismatch (smpp34.md §9.3).
    pub receipt_id_format: Option<MessageIdFormat>,
    /// First numeric message id. Default 1.
    pub message_id_start: u64,
    /// Digits of the `padded` format. Default 10 (the receipt's id width in Appendix B).
    pub message_id_width: usize,
    /// SMPP session parameters.
    pub session: SessionSettings,
    /// Request validation.
    pub validation: ValidationConfig,
    /// Concatenated messages.
    pub concat: ConcatConfig,
    /// Delivery receipts.
    pub receipts: ReceiptConfig,
    /// Handsets that cannot be reached or whose numbers were recycled.
    pub handsets: HandsetConfig,
    /// Faults active from the start (more can be set at run time).
    pub faults: FaultConfig,
    /// Response shapes real SMSCs send although the spec says otherwise (smpp34.md §13.5).
    pub quirks: QuirksConfig,
    /// Status answering a submit for a number another carrier serves (MNP). Default
    /// ESME_RINVDSTADR. A name (`"ESME_RINVDSTADR"`) or a number.
    #[serde(deserialize_with = "status")]
    pub mnp_status: CommandStatus,
    /// Most messages kept for query_sm / cancel_sm / replace_sm; the oldest are forgotten.
    /// Default 200 000.
    pub store_capacity: usize,
    /// Most handset messages kept for `GET /messages`. Default 10 000.
    pub inbox_capacity: usize,
    /// The SMSC's local time zone for receipt dates and final_date, in minutes east of UTC.
    /// Default 540 (JST).
    pub utc_offset_minutes: i32,
}

/// One ESME account.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountConfig {
    /// system_id the ESME binds with (at most 15 characters).
    pub system_id: String,
    /// Password (at most 8 characters).
    pub password: String,
    /// Most simultaneous binds of this account; ESME_RBINDFAIL beyond. Default 10.
    pub max_binds: usize,
    /// Submits per second allowed over all binds of the account; ESME_RTHROTTLED above it.
    /// 0 (the default) is unlimited. Contract rates are ~11/s (40 000 per hour).
    pub tps: f64,
    /// Token-bucket depth: how many submits may come back to back. Default: `tps` rounded up
    /// (one second's worth), at least 1.
    pub burst: Option<u32>,
}

/// TLS certificate and key (PEM files).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1), PEM.
    pub key: PathBuf,
}

/// SMPP session timers and window (smpp34.md §8.5, §8.6).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// Outstanding deliver_sm per session before the simulator waits. Default 64.
    pub window: usize,
    /// How long a deliver_sm waits for deliver_sm_resp before it is retried. Default 10 000.
    pub response_timeout_ms: u64,
    /// enquire_link after this much silence; 0 disables. Default 30 000.
    pub enquire_link_ms: u64,
    /// Close connections that do not bind within this; 0 disables. Default 10 000.
    pub session_init_timeout_ms: u64,
}

/// What submit validation accepts.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    /// data_coding values accepted. Default 0, 1, 2, 3, 4, 8 (smpp34.md §7.3).
    pub data_codings: Vec<u8>,
    /// Status for any other data_coding. SMPP 3.4 has no code for it; default 0x104, v5.0's
    /// ESME_RINVDCS, which carriers also use.
    #[serde(deserialize_with = "status")]
    pub data_coding_status: CommandStatus,
}

/// Concatenation rules (smpp34.md §10, §12).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConcatConfig {
    /// Most parts per message; a part announcing more is refused ESME_RINVMSGLEN. Default 10.
    pub max_parts: u8,
    /// Longest message in characters (UCS-2 code units or GSM septets). Default: the
    /// profile's (660).
    pub max_chars: Option<usize>,
    /// How long parts wait for the rest before the message fails (UNDELIV receipts for the
    /// parts). Default 60 000.
    pub timeout_ms: u64,
}

/// Delivery receipts (smpp34.md §9).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiptConfig {
    /// Fixed delay from submit to the final state. Default 100.
    pub delay_ms: u64,
    /// Random extra delay, uniform in 0..=jitter_ms. Default 0.
    pub jitter_ms: u64,
    /// Final outcomes and their weights. Default: all DELIVRD.
    pub outcomes: Vec<OutcomeWeight>,
    /// Fraction (0..=1) of receipts sent *before* the submit_sm_resp (the race of
    /// smpp34.md §9.3). Default 0.
    pub early_fraction: f64,
    /// How long the submit_sm_resp is held after an early receipt went to another session,
    /// so that it really arrives second. Default 50.
    pub early_resp_delay_ms: u64,
    /// Intermediate receipt sent before the final one: `ENROUTE`, `ACCEPTD`, or none (the
    /// default).
    pub intermediate: Option<Stat>,
    /// Send the intermediate receipt even when registered_delivery does not ask for it (bit
    /// 0x10). Default false.
    pub intermediate_always: bool,
    /// When the intermediate receipt goes. Default 20.
    pub intermediate_delay_ms: u64,
    /// esm_class of intermediate receipts: 0x04 like a receipt (the default, what most
    /// carriers send) or 0x20 (intermediate delivery notification, smpp34.md §7.1).
    pub intermediate_esm_class: u8,
    /// Appendix B text in short_message. Default true.
    pub text: bool,
    /// Put the text in message_payload instead of short_message. Default false.
    pub text_in_payload: bool,
    /// receipted_message_id TLV. Default true.
    pub tlv_receipted_message_id: bool,
    /// message_state TLV. Default true.
    pub tlv_message_state: bool,
    /// network_error_code TLV. Default true.
    pub tlv_network_error_code: bool,
    /// Network type octet of network_error_code: 3 = GSM (the default).
    pub network_type: u8,
    /// Wait before a deliver_sm the ESME did not acknowledge is sent again. Default 5 000.
    pub retry_interval_ms: u64,
    /// Attempts per deliver_sm before it is given up. Default 5.
    pub max_attempts: u32,
    /// Receipts and MOs kept per account while no receiver is bound; the oldest are dropped
    /// beyond. Default 100 000.
    pub queue_capacity: usize,
}

/// One possible final outcome of a message.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutcomeWeight {
    /// Final state: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN.
    pub stat: Stat,
    /// Relative weight.
    pub weight: u32,
    /// Error code for `err:` and network_error_code. Default 0.
    #[serde(default)]
    pub err: u16,
}

/// Handsets that cannot be reached, and how long the carrier keeps retrying.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandsetConfig {
    /// Numbers whose handset is off or out of coverage: the carrier retries for its retry
    /// window, then reports UNDELIV.
    pub unreachable: Vec<String>,
    /// Numbers reassigned to someone else: UNDELIV after the normal delay.
    pub recycled: Vec<String>,
    /// How long the carrier keeps retrying an unreachable handset, in simulated seconds.
    /// Default by carrier (credit-card-sms.md): docomo and Rakuten 72 h, SoftBank 24 h, au one
    /// retry after 60 min; others 24 h.
    pub retry_window_secs: Option<u64>,
    /// Simulated seconds between retries (each one sends an ENROUTE receipt when
    /// intermediate receipts are requested). Default: docomo/Rakuten 6 h, SoftBank 3 h,
    /// au 60 min.
    pub retry_interval_secs: Option<u64>,
    /// Simulated seconds per real second for these retries: 3600 makes an hour pass in a
    /// second. Default 1.
    pub time_compression: f64,
    /// err code of the final UNDELIV for an unreachable handset. Default 27 (GSM MAP absent
    /// subscriber, smpp34.md §7.7).
    pub unreachable_err: u16,
    /// err code of the UNDELIV for a recycled number. Default 1 (unknown subscriber).
    pub recycled_err: u16,
}

/// Faults active from the start.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Delay every response by this much. Default 0.
    pub response_delay_ms: u64,
    /// Refuse binds for this long after start. Default 0.
    pub refuse_binds_ms: u64,
    /// Status of refused binds. Default ESME_RBINDFAIL.
    #[serde(deserialize_with = "status")]
    pub refuse_binds_status: CommandStatus,
    /// ESME_RMSGQFUL bursts: out of every `queue_full_every` submits, the first
    /// `queue_full_burst` are refused. 0 (the default) disables.
    pub queue_full_every: u64,
    /// See `queue_full_every`.
    pub queue_full_burst: u64,
}

/// Response shapes seen from real SMSCs (smpp34.md §13.5): decoders must take all of them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuirksConfig {
    /// Error submit_sm_resp / data_sm_resp / query_sm_resp carry a body (an empty message_id)
    /// instead of being header-only. Default false.
    pub error_response_body: bool,
    /// Successful submit_sm_resp / data_sm_resp come without a body (no message_id at all).
    /// Default false.
    pub bodiless_success: bool,
}

/// The number ownership table (MNP).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MnpConfig {
    /// CSV file of `number,carrier[,status]`, status being `ok`, `unreachable` or
    /// `recycled`. Lines starting with `#` and a `number,...` header are skipped.
    pub file: Option<PathBuf>,
    /// Entries given inline, as `"number,carrier[,status]"` strings.
    pub entries: Vec<String>,
}

/// MO messages fed without the control API.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoFeedConfig {
    /// CSV of `carrier,from,to,text` (text may contain commas), injected in order.
    pub file: Option<PathBuf>,
    /// MOs per second from the file and the generator. Default (0) means 1 per second.
    pub rate_per_sec: f64,
    /// Start the file again when it ends. Default false.
    pub repeat: bool,
    /// A synthetic MO sent at `rate_per_sec` for as long as the simulator runs.
    pub generate: Option<MoTemplate>,
}

/// A synthetic MO.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoTemplate {
    /// Carrier that sends it.
    pub carrier: String,
    /// Handset number.
    pub from: String,
    /// Service number.
    pub to: String,
    /// Text.
    pub text: String,
}

// ------------------------------------------------------------------- defaults

impl Default for CarrierConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            profile: None,
            listen: None,
            system_id: None,
            accounts: Vec::new(),
            tls: None,
            message_id_format: MessageIdFormat::Decimal,
            receipt_id_format: None,
            message_id_start: 1,
            message_id_width: 10,
            session: SessionSettings::default(),
            validation: ValidationConfig::default(),
            concat: ConcatConfig::default(),
            receipts: ReceiptConfig::default(),
            handsets: HandsetConfig::default(),
            faults: FaultConfig::default(),
            quirks: QuirksConfig::default(),
            mnp_status: CommandStatus::ESME_RINVDSTADR,
            store_capacity: 200_000,
            inbox_capacity: 10_000,
            utc_offset_minutes: 540,
        }
    }
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            system_id: String::new(),
            password: String::new(),
            max_binds: 10,
            tps: 0.0,
            burst: None,
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            window: 64,
            response_timeout_ms: 10_000,
            enquire_link_ms: 30_000,
            session_init_timeout_ms: 10_000,
        }
    }
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self { data_codings: vec![0, 1, 2, 3, 4, 8], data_coding_status: CommandStatus(0x104) }
    }
}

impl Default for ConcatConfig {
    fn default() -> Self {
        Self { max_parts: 10, max_chars: None, timeout_ms: 60_000 }
    }
}

impl Default for ReceiptConfig {
    fn default() -> Self {
        Self {
            delay_ms: 100,
            jitter_ms: 0,
            outcomes: vec![OutcomeWeight { stat: Stat::Delivrd, weight: 1, err: 0 }],
            early_fraction: 0.0,
            early_resp_delay_ms: 50,
            intermediate: None,
            intermediate_always: false,
            intermediate_delay_ms: 20,
            intermediate_esm_class: 0x04,
            text: true,
            text_in_payload: false,
            tlv_receipted_message_id: true,
            tlv_message_state: true,
            tlv_network_error_code: true,
            network_type: 3,
            retry_interval_ms: 5_000,
            max_attempts: 5,
            queue_capacity: 100_000,
        }
    }
}

impl Default for HandsetConfig {
    fn default() -> Self {
        Self {
            unreachable: Vec::new(),
            recycled: Vec::new(),
            retry_window_secs: None,
            retry_interval_secs: None,
            time_compression: 1.0,
            unreachable_err: 27,
            recycled_err: 1,
        }
    }
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            response_delay_ms: 0,
            refuse_binds_ms: 0,
            refuse_binds_status: CommandStatus::ESME_RBINDFAIL,
            queue_full_every: 0,
            queue_full_burst: 0,
        }
    }
}

// ------------------------------------------------------------------- building in code

impl SimConfig {
    /// One carrier listening on `listen` with the given accounts (`(system_id, password)`),
    /// everything else at its default. What `smsc-sim --listen ADDR --auth SYS:PASS` runs.
    ///
    /// ```
    /// let config = smpp_sim::SimConfig::single("docomo", "127.0.0.1:0".parse().unwrap(), &[("bank", "secret")]);
    /// assert_eq!(config.carriers[0].accounts[0].system_id, "bank");
    /// ```
    pub fn single(carrier: &str, listen: SocketAddr, accounts: &[(&str, &str)]) -> Self {
        let mut c = CarrierConfig::new(carrier);
        c.listen = Some(listen);
        for (sys, pass) in accounts {
            c.account(sys, pass);
        }
        Self { carriers: vec![c], ..Self::default() }
    }

    /// The carrier called `name`.
    pub fn carrier_mut(&mut self, name: &str) -> Option<&mut CarrierConfig> {
        self.carriers.iter_mut().find(|c| c.name == name)
    }

    /// Reads and checks a TOML file. Relative paths inside it (TLS, MNP and MO files) are
    /// taken relative to the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path.display().to_string(), e.to_string()))?;
        let mut config = Self::from_toml(&text)?;
        if let Some(dir) = path.parent() {
            config.resolve_paths(dir);
        }
        Ok(config)
    }

    /// Parses and checks TOML text.
    ///
    /// ```
    /// let err = smpp_sim::SimConfig::from_toml("[carriers.docomo]\nlisten = 2775\n").unwrap_err();
    /// assert_eq!(err.key, "carriers.docomo.listen");
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: SimConfig = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        config.validate()?;
        Ok(config)
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        for c in &mut self.carriers {
            if let Some(tls) = &mut c.tls {
                fix(&mut tls.cert);
                fix(&mut tls.key);
            }
        }
        if let Some(f) = &mut self.mnp.file {
            fix(f);
        }
        if let Some(f) = &mut self.mo.file {
            fix(f);
        }
    }

    /// Checks values serde cannot: lengths, ranges, duplicates, known profiles.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.carriers.is_empty() {
            return Err(ConfigError::new("carriers", "at least one carrier is needed"));
        }
        let mut names = std::collections::HashSet::new();
        let mut addrs = std::collections::HashMap::new();
        for c in &self.carriers {
            let k = |field: &str| format!("carriers.{}.{field}", c.name);
            if c.name.is_empty() {
                return Err(ConfigError::new("carriers", "a carrier needs a name"));
            }
            if !names.insert(c.name.clone()) {
                return Err(ConfigError::new(k("name"), "carrier declared twice"));
            }
            let profile = c.profile_name();
            if let Err(e) = smpp_sms::CarrierProfile::by_name(profile) {
                let key =
                    if c.profile.is_some() { k("profile") } else { format!("carriers.{}", c.name) };
                return Err(ConfigError::new(
                    key,
                    format!("{e}; set `profile` to one of them for a carrier with another name"),
                ));
            }
            let addr = c.listen_addr();
            if addr.port() != 0 {
                if let Some(other) = addrs.insert(addr, c.name.clone()) {
                    return Err(ConfigError::new(
                        k("listen"),
                        format!("{addr} is also used by carrier {other}"),
                    ));
                }
            }
            if let Some(id) = &c.system_id {
                if id.len() > 15 {
                    return Err(ConfigError::new(k("system_id"), "at most 15 characters"));
                }
            }
            if c.accounts.is_empty() {
                return Err(ConfigError::new(k("accounts"), "at least one account is needed"));
            }
            let mut ids = std::collections::HashSet::new();
            for (i, a) in c.accounts.iter().enumerate() {
                let ak = |f: &str| format!("carriers.{}.accounts[{i}].{f}", c.name);
                if a.system_id.is_empty() || a.system_id.len() > 15 || a.system_id.contains('\0') {
                    return Err(ConfigError::new(ak("system_id"), "1 to 15 characters"));
                }
                if a.password.len() > 8 || a.password.contains('\0') {
                    return Err(ConfigError::new(ak("password"), "at most 8 characters"));
                }
                if !ids.insert(a.system_id.clone()) {
                    return Err(ConfigError::new(ak("system_id"), "account declared twice"));
                }
                if !(a.tps >= 0.0 && a.tps.is_finite()) {
                    return Err(ConfigError::new(ak("tps"), "must be 0 (unlimited) or positive"));
                }
                if a.max_binds == 0 {
                    return Err(ConfigError::new(ak("max_binds"), "must be at least 1"));
                }
            }
            if c.message_id_width == 0 || c.message_id_width > 64 {
                return Err(ConfigError::new(k("message_id_width"), "1 to 64 digits"));
            }
            if c.session.window == 0 {
                return Err(ConfigError::new(k("session.window"), "must be at least 1"));
            }
            if c.concat.max_parts == 0 {
                return Err(ConfigError::new(k("concat.max_parts"), "must be at least 1"));
            }
            let r = &c.receipts;
            if !(0.0..=1.0).contains(&r.early_fraction) {
                return Err(ConfigError::new(k("receipts.early_fraction"), "must be within 0..=1"));
            }
            if r.outcomes.is_empty() || r.outcomes.iter().all(|o| o.weight == 0) {
                return Err(ConfigError::new(
                    k("receipts.outcomes"),
                    "needs at least one outcome with a weight",
                ));
            }
            for (i, o) in r.outcomes.iter().enumerate() {
                if !o.stat.is_final() {
                    return Err(ConfigError::new(
                        format!("carriers.{}.receipts.outcomes[{i}].stat", c.name),
                        format!("{} is not a final state", o.stat.text()),
                    ));
                }
            }
            if let Some(s) = r.intermediate {
                if s.is_final() && s != Stat::Acceptd {
                    return Err(ConfigError::new(k("receipts.intermediate"), "ENROUTE or ACCEPTD"));
                }
            }
            if r.max_attempts == 0 {
                return Err(ConfigError::new(k("receipts.max_attempts"), "must be at least 1"));
            }
            let h = &c.handsets;
            if !(h.time_compression > 0.0 && h.time_compression.is_finite()) {
                return Err(ConfigError::new(k("handsets.time_compression"), "must be positive"));
            }
            if h.retry_interval_secs == Some(0) {
                return Err(ConfigError::new(
                    k("handsets.retry_interval_secs"),
                    "must be positive",
                ));
            }
            if c.faults.queue_full_burst > c.faults.queue_full_every {
                return Err(ConfigError::new(
                    k("faults.queue_full_burst"),
                    "cannot exceed queue_full_every",
                ));
            }
        }
        if self.mo.rate_per_sec < 0.0 || !self.mo.rate_per_sec.is_finite() {
            return Err(ConfigError::new("mo.rate_per_sec", "must be 0 or positive"));
        }
        if let Some(g) = &self.mo.generate {
            if !names.contains(&g.carrier) {
                return Err(ConfigError::new(
                    "mo.generate.carrier",
                    format!("no carrier {:?}", g.carrier),
                ));
            }
        }
        for (i, e) in self.mnp.entries.iter().enumerate() {
            crate::mnp::parse_line(e)
                .map_err(|m| ConfigError::new(format!("mnp.entries[{i}]"), m))?;
        }
        Ok(())
    }
}

impl CarrierConfig {
    /// A carrier with the defaults (see each field) and no accounts yet.
    pub fn new(name: &str) -> Self {
        Self { name: name.to_owned(), ..Self::default() }
    }

    /// Adds an account with default limits and returns it for adjusting.
    pub fn account(&mut self, system_id: &str, password: &str) -> &mut AccountConfig {
        self.accounts.push(AccountConfig {
            system_id: system_id.to_owned(),
            password: password.to_owned(),
            ..AccountConfig::default()
        });
        self.accounts.last_mut().expect("just pushed")
    }

    /// The smpp-sms profile name in use.
    pub fn profile_name(&self) -> &str {
        self.profile.as_deref().unwrap_or(&self.name)
    }

    /// The address to listen on, defaults applied.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| {
            let port = match self.profile_name() {
                "au" => 2776,
                "softbank" => 2777,
                "rakuten" => 2778,
                _ => 2775,
            };
            SocketAddr::from(([127, 0, 0, 1], port))
        })
    }

    /// (retry window, retry interval) for unreachable handsets in simulated seconds, defaults
    /// applied per carrier (credit-card-sms.md, "Handset unreachable").
    pub fn retry_schedule_secs(&self) -> (u64, u64) {
        const H: u64 = 3600;
        let (window, interval) = match self.profile_name() {
            "docomo" | "rakuten" => (72 * H, 6 * H),
            "softbank" => (24 * H, 3 * H),
            "au" => (H, H),
            _ => (24 * H, 3 * H),
        };
        (
            self.handsets.retry_window_secs.unwrap_or(window),
            self.handsets.retry_interval_secs.unwrap_or(interval).max(1),
        )
    }
}

// ------------------------------------------------------------------- serde helpers

fn carriers_from_table<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CarrierConfig>, D::Error> {
    let map = BTreeMap::<String, CarrierConfig>::deserialize(d)?;
    // BTreeMap orders by name; keep the conventional carrier order first.
    let rank =
        |n: &str| ["docomo", "au", "softbank", "rakuten"].iter().position(|x| *x == n).unwrap_or(4);
    let mut v: Vec<CarrierConfig> = map
        .into_iter()
        .map(|(name, mut c)| {
            c.name = name;
            c
        })
        .collect();
    v.sort_by_key(|c| rank(&c.name));
    Ok(v)
}

/// A command_status given by name (`"ESME_RTHROTTLED"`) or number.
pub(crate) fn status<'de, D: Deserializer<'de>>(d: D) -> Result<CommandStatus, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum S {
        N(u32),
        Name(String),
    }
    match S::deserialize(d)? {
        S::N(n) => Ok(CommandStatus(n)),
        S::Name(s) => parse_status(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown command_status {s:?} (use a name like ESME_RINVDSTADR or a number)"
            ))
        }),
    }
}

/// `ESME_RTHROTTLED`, `RTHROTTLED`, `0x58` or `88`.
pub(crate) fn parse_status(s: &str) -> Option<CommandStatus> {
    let s = s.trim();
    if let Some(st) = CommandStatus::from_name(s) {
        return Some(st);
    }
    if let Some(st) = CommandStatus::from_name(&format!("ESME_{s}")) {
        return Some(st);
    }
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok().map(CommandStatus);
    }
    s.parse().ok().map(CommandStatus)
}

/// Turns a toml error into one naming the key: the span points into the text, and the key is
/// found from the table header above it and the `key =` on its line.
fn toml_error(src: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().to_owned();
    let Some(span) = e.span() else {
        return ConfigError::new("(file)", message);
    };
    let mut table = String::new();
    let mut offset = 0;
    let mut key = String::new();
    for line in src.split_inclusive('\n') {
        let end = offset + line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            let inner = trimmed.trim_start_matches('[');
            let inner = inner.split(']').next().unwrap_or("").trim();
            if offset <= span.start && span.start < end {
                // The error is about the header itself (e.g. an unknown table).
                return ConfigError::new(inner, message);
            }
            table = inner.to_owned();
        } else if offset <= span.start && span.start < end {
            if let Some((k, _)) = line.split_once('=') {
                key = k.trim().trim_matches('"').to_owned();
            }
            break;
        }
        if span.start < offset {
            break;
        }
        offset = end;
    }
    // serde names the field in "unknown field `x`" / "missing field `x`"; prefer that name.
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("unknown field") || message.starts_with("missing field"));
    let key = match (named, key.is_empty()) {
        (Some(n), _) if key.is_empty() || message.starts_with("missing") => n.to_owned(),
        (_, false) => key,
        _ => String::new(),
    };
    let path = match (table.is_empty(), key.is_empty()) {
        (true, true) => "(file)".to_owned(),
        (true, false) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    };
    ConfigError::new(path, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_names_the_key_with_its_table() {
        let e = SimConfig::from_toml(
            "[carriers.au]\n[[carriers.au.accounts]]\nsystem_id = \"a\"\nmax_binds = \"x\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "carriers.au.accounts.max_binds");
    }

    #[test]
    fn unknown_key_is_named() {
        let e = SimConfig::from_toml("[carriers.au.receipts]\ndelay = 5\n").unwrap_err();
        assert_eq!(e.key, "carriers.au.receipts.delay");
        assert!(e.message.contains("unknown field"), "{e}");
    }

    #[test]
    fn semantic_error_names_the_account() {
        let e = SimConfig::from_toml(
            "[carriers.docomo]\n[[carriers.docomo.accounts]]\nsystem_id = \"bank\"\npassword = \"far-too-long\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "carriers.docomo.accounts[0].password");
    }

    #[test]
    fn unknown_carrier_without_profile_is_refused() {
        let e = SimConfig::from_toml(
            "[carriers.ymobile]\n[[carriers.ymobile.accounts]]\nsystem_id = \"a\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "carriers.ymobile");
    }

    #[test]
    fn carriers_get_their_default_ports_in_conventional_order() {
        let mut text = String::new();
        for n in ["rakuten", "au", "docomo", "softbank"] {
            text += &format!("[carriers.{n}]\n[[carriers.{n}.accounts]]\nsystem_id = \"x\"\n");
        }
        let c = SimConfig::from_toml(&text).unwrap();
        let ports: Vec<(String, u16)> =
            c.carriers.iter().map(|c| (c.name.clone(), c.listen_addr().port())).collect();
        assert_eq!(
            ports,
            [
                ("docomo".into(), 2775),
                ("au".into(), 2776),
                ("softbank".into(), 2777),
                ("rakuten".into(), 2778)
            ]
        );
    }

    #[test]
    fn status_accepts_names_and_numbers() {
        assert_eq!(parse_status("ESME_RTHROTTLED"), Some(CommandStatus::ESME_RTHROTTLED));
        assert_eq!(parse_status("RINVDSTADR"), Some(CommandStatus::ESME_RINVDSTADR));
        assert_eq!(parse_status("0x58"), Some(CommandStatus(0x58)));
        assert_eq!(parse_status("1024"), Some(CommandStatus(0x400)));
        assert_eq!(parse_status("nope"), None);
    }
}
