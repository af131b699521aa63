//! `smppd.toml`: what the daemon connects to and how it serves. Every key is documented in
//! `deploy/smppd.toml` and `docs/daemon.md`.
//!
//! Mistakes are reported with the key and the line: type and range errors come from the TOML
//! parser (values are validated while they are deserialised, so the parser knows where they
//! are), cross-key errors (a default carrier that is not configured, say) are located by
//! [`line_of`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

/// The whole file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP API and logging.
    #[serde(default)]
    pub server: ServerConfig,
    /// Storage.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Who may call the API.
    #[serde(default)]
    pub api_keys: Vec<ApiKey>,
    /// Where status changes and MOs are POSTed.
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    /// Carrier choice.
    #[serde(default)]
    pub routing: RoutingConfig,
    /// The carriers, by name (`docomo`, `au`, `softbank`, `rakuten`, or any name).
    pub carriers: BTreeMap<String, CarrierConfig>,
    /// Opt-out by MO: the acknowledgement sent back.
    #[serde(default)]
    pub optout: OptOutConfig,
    /// Message classes and their rules (smpp-policy). Default: the six classes of
    /// credit-card-sms.md with dunning held 21:00–08:00 JST. Printed by `effective()` in
    /// its own section (the policy types are read-only).
    #[serde(default, skip_serializing)]
    pub policy: smpp_policy::PolicyConfig,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// API, `/metrics`, `/healthz` listen address. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `text` (default) or `json`.
    pub log_format: LogFormat,
    /// Messages waiting (queued, held, submitting) above which the API answers 503.
    /// Default 1,000,000.
    pub max_backlog: u64,
    /// Most messages in one `POST /v1/messages:batch`. Default 10,000.
    pub max_batch: usize,
    /// Largest request body in bytes. Default 16 MiB.
    pub max_body_bytes: usize,
    /// Seconds to finish in-flight windows on SIGTERM before giving up. Default 30.
    pub shutdown_grace_secs: u64,
    /// An MO answers the last message sent to that number within this many hours. Default 72.
    pub reply_window_hours: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            max_backlog: 1_000_000,
            max_batch: 10_000,
            max_body_bytes: 16 << 20,
            shutdown_grace_secs: 30,
            reply_window_hours: 72,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// SQLite file. Default `smppd.db` in the working directory.
    pub path: PathBuf,
    /// fsync every commit (default `true`): an accepted message survives a power cut. `false`
    /// survives a process crash only.
    pub synchronous: bool,
    /// Audit events (held, re-routed, rejected before sending, paused) older than this many
    /// days are deleted, once an hour. Absent (the default): kept forever. Messages and their
    /// ledger rows are not purged: they back the billing report.
    pub audit_retention_days: Option<Positive<u64>>,
    /// Receipts that matched no submit (a lost submit_sm_resp, or an id that is not ours) are
    /// kept this many days for a late resp, then forgotten, once an hour. Default 7.
    pub held_receipt_retention_days: Positive<u64>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("smppd.db"),
            synchronous: true,
            audit_retention_days: None,
            held_receipt_retention_days: Positive(7),
        }
    }
}

/// `[optout]`: a handset that answers with a stop keyword (`policy.stop_keywords`) is put on
/// the opt-out list and, unless `reply = false`, gets a short acknowledgement.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptOutConfig {
    /// Send the acknowledgement. Default `true`.
    pub reply: bool,
    /// Its text. Default `配信を停止しました。`.
    pub reply_text: String,
    /// Its sender id. Default: the number the MO was sent to.
    pub reply_from: Option<String>,
}

impl Default for OptOutConfig {
    fn default() -> Self {
        Self { reply: true, reply_text: "配信を停止しました。".into(), reply_from: None }
    }
}

/// One `[[api_keys]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Who this is (recorded as the creator/approver of messages and batches).
    pub name: NonEmpty,
    /// The bearer token. Env `SMPPD_API_KEY_<NAME>` overrides it.
    #[serde(serialize_with = "redact")]
    pub key: String,
}

/// `[webhook]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://` URL the callbacks are POSTed to.
    pub url: HttpUrl,
    /// HMAC-SHA256 key for the `X-Smppd-Signature` header. Env `SMPPD_WEBHOOK_SECRET`
    /// overrides it.
    #[serde(serialize_with = "redact")]
    pub secret: String,
    /// Per-attempt timeout in milliseconds. Default 5000.
    #[serde(default = "default_webhook_timeout")]
    pub timeout_ms: Positive<u64>,
    /// First retry delay in milliseconds; doubles per attempt up to `max_backoff_ms`.
    /// Default 1000.
    #[serde(default = "default_webhook_backoff")]
    pub backoff_ms: Positive<u64>,
    /// Longest retry delay in milliseconds. Default 600,000 (10 minutes).
    #[serde(default = "default_webhook_max_backoff")]
    pub max_backoff_ms: Positive<u64>,
}

fn default_webhook_timeout() -> Positive<u64> {
    Positive(5000)
}
fn default_webhook_backoff() -> Positive<u64> {
    Positive(1000)
}
fn default_webhook_max_backoff() -> Positive<u64> {
    Positive(600_000)
}

/// `[routing]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// Carrier used when neither the message, the number table nor a prefix names one.
    /// Default: the first configured carrier (alphabetically).
    pub default_carrier: Option<String>,
    /// CSV `number,carrier` table (MNP). Reloaded when the file changes.
    pub mnp_file: Option<PathBuf>,
    /// Prefix → carrier fallback, e.g. `"+81704" = "rakuten"`; longest prefix wins.
    pub prefixes: BTreeMap<String, String>,
    /// submit_sm_resp statuses meaning "not our subscriber": re-route once to the next
    /// carrier. Default `["ESME_RINVDSTADR"]`.
    pub not_subscriber_statuses: Option<Vec<String>>,
}

/// `[carriers.NAME]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierConfig {
    /// smpp-sms segmentation/billing profile. Default: the carrier's name when it is one of
    /// docomo, au, softbank, rakuten.
    pub profile: Option<String>,
    /// Longest text accepted, in characters. Default: the profile's (660).
    pub max_chars: Option<Positive<usize>>,
    /// The carrier's SMSC accounts.
    pub accounts: Vec<AccountConfig>,
}

/// `[[carriers.NAME.accounts]]`: one SMSC account.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Name in metrics and logs. Default: `system_id`.
    pub name: Option<String>,
    /// SMSC host.
    pub host: NonEmpty,
    /// SMSC port.
    pub port: Positive<u16>,
    /// TLS (off by default).
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    /// system_id (≤ 15 characters).
    pub system_id: SystemId,
    /// Password (≤ 8 characters). Env `SMPPD_PASSWORD_<ACCOUNT NAME>` overrides it.
    #[serde(serialize_with = "redact")]
    pub password: String,
    /// system_type (≤ 12 characters). Default empty.
    #[serde(default)]
    pub system_type: String,
    /// `trx` (default), `tx+rx`.
    #[serde(default = "default_bind_mode")]
    pub bind_mode: BindModeSetting,
    /// Binds (or tx+rx pairs) kept open. Default 1.
    #[serde(default = "default_binds")]
    pub binds: Positive<usize>,
    /// Requests in flight per bind. Default 10.
    #[serde(default = "default_window")]
    pub window: Positive<usize>,
    /// Contracted submits (segments) per second for the whole account, shared by its binds.
    /// 40,000/hour is 11.1. Absent: no limit.
    #[serde(default)]
    pub tps: Option<PositiveF64>,
    /// enquire_link interval in seconds. Default 30.
    #[serde(default = "default_enquire")]
    pub enquire_link_secs: Positive<u64>,
    /// Response timeout in seconds (after which the outcome is unknown). Default 30.
    #[serde(default = "default_response_timeout")]
    pub response_timeout_secs: Positive<u64>,
    /// How the SMSC writes message ids in receipts against its submit_sm_resp: `auto`
    /// (default: learned from the first matches), `text`, `decimal` or `hex` (the same both
    /// ways), `hex_resp_decimal_receipt` or `decimal_resp_hex_receipt`. Anything but `auto`
    /// is set at start, so no receipt waits for the format to be learned.
    #[serde(default = "default_msgid_format")]
    pub message_id_format: MsgIdFormatSetting,
}

fn default_bind_mode() -> BindModeSetting {
    BindModeSetting("trx".into())
}
fn default_binds() -> Positive<usize> {
    Positive(1)
}
fn default_window() -> Positive<usize> {
    Positive(10)
}
fn default_enquire() -> Positive<u64> {
    Positive(30)
}
fn default_response_timeout() -> Positive<u64> {
    Positive(30)
}
fn default_msgid_format() -> MsgIdFormatSetting {
    MsgIdFormatSetting("auto".into())
}

impl MsgIdFormatSetting {
    /// The reading pair this setting names; `None` for `auto`.
    pub fn reading_pair(&self) -> Option<smpp_dlr::msgid::ReadingPair> {
        smpp_dlr::msgid::ReadingPair::from_name(&self.0)
    }
}

impl AccountConfig {
    /// The account's name in metrics, logs and the ledger.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.system_id.0)
    }
}

/// `tls = { ca_file = "...", server_name = "...", client_cert = "...", client_key = "..." }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM CA bundle; default: the system roots are not bundled, so this is required.
    pub ca_file: PathBuf,
    /// Name checked against the certificate. Default: `host`.
    pub server_name: Option<String>,
    /// PEM client certificate chain (mutual TLS).
    pub client_cert: Option<PathBuf>,
    /// PEM client key.
    pub client_key: Option<PathBuf>,
}

macro_rules! validated {
    ($(#[$m:meta])* $name:ident($inner:ty), $check:expr, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <$inner>::deserialize(d)?;
                let check: fn(&$inner) -> bool = $check;
                if check(&v) {
                    Ok(Self(v))
                } else {
                    Err(serde::de::Error::custom(format!("{v:?}: {}", $what)))
                }
            }
        }
    };
}

validated!(
    /// A non-empty string.
    NonEmpty(String), |s| !s.trim().is_empty(), "must not be empty"
);
validated!(
    /// A system_id: 1–15 ASCII characters (smpp34.md §7.1, C-Octet String of 16).
    SystemId(String), |s| !s.is_empty() && s.len() <= 15 && s.is_ascii(),
    "must be 1 to 15 ASCII characters"
);
validated!(
    /// A positive, finite number.
    PositiveF64(f64), |v| v.is_finite() && *v > 0.0, "must be a positive number"
);
validated!(
    /// `trx` or `tx+rx`.
    BindModeSetting(String), |s| matches!(s.as_str(), "trx" | "transceiver" | "tx+rx"),
    "must be \"trx\" or \"tx+rx\""
);
validated!(
    /// How an SMSC writes message ids ([`MsgIdFormatSetting::reading_pair`]).
    MsgIdFormatSetting(String),
    |s| s == "auto" || smpp_dlr::msgid::ReadingPair::from_name(s).is_some(),
    "must be auto, text, decimal, hex, hex_resp_decimal_receipt or decimal_resp_hex_receipt"
);
validated!(
    /// An `http://host:port/path` URL.
    HttpUrl(String), |s| s.parse::<hyper::Uri>().is_ok_and(|u| u.scheme_str() == Some("http") && u.host().is_some()),
    "must be an http:// URL with a host"
);

/// A number greater than zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Positive<T>(pub T);

impl<'de, T> Deserialize<'de> for Positive<T>
where
    T: Deserialize<'de> + Default + PartialOrd + fmt::Debug,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = T::deserialize(d)?;
        if v > T::default() {
            Ok(Self(v))
        } else {
            Err(serde::de::Error::custom(format!("{v:?}: must be greater than 0")))
        }
    }
}

fn redact<S: serde::Serializer>(value: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if value.is_empty() { "" } else { "<redacted>" })
}

/// A configuration mistake: what, and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Syntax, type or range error (the message names the key, line and column).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A rule across keys.
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line of the key (0 when it is absent from the file).
        line: usize,
        /// The key, dotted.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Reads, parses, applies env overrides and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text, &path.display().to_string(), &|k| std::env::var(k).ok())
    }

    /// Parses `text` (named `path` in errors); `env` looks up secret overrides.
    pub fn parse(
        text: &str,
        path: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        config.apply_env(env);
        config.validate().map_err(|(key, message)| ConfigError::Invalid {
            path: path.into(),
            line: line_of(text, &key),
            key,
            message,
        })?;
        Ok(config)
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        for k in &mut self.api_keys {
            if let Some(v) = env(&env_name("SMPPD_API_KEY_", &k.name.0)) {
                k.key = v;
            }
        }
        if let (Some(w), Some(v)) = (&mut self.webhook, env("SMPPD_WEBHOOK_SECRET")) {
            w.secret = v;
        }
        for carrier in self.carriers.values_mut() {
            for a in &mut carrier.accounts {
                if let Some(v) = env(&env_name("SMPPD_PASSWORD_", a.name())) {
                    a.password = v;
                }
            }
        }
    }

    /// Cross-key rules. The error is (dotted key, message).
    fn validate(&self) -> Result<(), (String, String)> {
        if self.carriers.is_empty() {
            return Err(("carriers".into(), "at least one carrier is needed".into()));
        }
        self.policy.validate().map_err(|e| ("policy".to_string(), e.to_string()))?;
        let mut names = std::collections::HashSet::new();
        for (carrier, c) in &self.carriers {
            let key = |k: &str| format!("carriers.{carrier}.{k}");
            self.profile_of(carrier).map_err(|e| (key("profile"), e))?;
            if c.accounts.is_empty() {
                return Err((key("accounts"), "at least one account is needed".into()));
            }
            for a in &c.accounts {
                if a.password.len() > 8 {
                    return Err((key("accounts.password"), "at most 8 characters".into()));
                }
                if a.system_type.len() > 12 {
                    return Err((key("accounts.system_type"), "at most 12 characters".into()));
                }
                if !names.insert(a.name().to_string()) {
                    return Err((
                        key("accounts.name"),
                        format!("account name {:?} is used twice; names must be unique", a.name()),
                    ));
                }
            }
        }
        if let Some(d) = &self.routing.default_carrier {
            if !self.carriers.contains_key(d) {
                return Err(("routing.default_carrier".into(), self.unknown_carrier(d)));
            }
        }
        for (prefix, carrier) in &self.routing.prefixes {
            if !self.carriers.contains_key(carrier) {
                return Err((format!("routing.prefixes.{prefix}"), self.unknown_carrier(carrier)));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for k in &self.api_keys {
            if k.key.len() < 16 {
                return Err((
                    "api_keys.key".into(),
                    format!("key of {:?} must be at least 16 characters", k.name.0),
                ));
            }
            if !seen.insert(&k.key) {
                return Err(("api_keys.key".into(), "two API keys are the same".into()));
            }
        }
        if let Some(w) = &self.webhook {
            if w.secret.len() < 16 {
                return Err(("webhook.secret".into(), "must be at least 16 characters".into()));
            }
        }
        self.not_subscriber_statuses()
            .map_err(|e| ("routing.not_subscriber_statuses".to_string(), e))?;
        self.validate_optout()
    }

    fn validate_optout(&self) -> Result<(), (String, String)> {
        let o = &self.optout;
        if o.reply && o.reply_text.trim().is_empty() {
            return Err(("optout.reply_text".into(), "must not be empty when reply = true".into()));
        }
        if let Some(from) = &o.reply_from {
            crate::intake::check_sender(from).map_err(|e| ("optout.reply_from".to_string(), e))?;
        }
        Ok(())
    }

    /// The command_status values of `routing.not_subscriber_statuses` (names such as
    /// `ESME_RINVDSTADR`, or numbers such as `0x0000000B`); default ESME_RINVDSTADR.
    pub fn not_subscriber_statuses(&self) -> Result<Vec<u32>, String> {
        let Some(names) = &self.routing.not_subscriber_statuses else {
            return Ok(vec![smpp_codec::CommandStatus::ESME_RINVDSTADR.get()]);
        };
        names.iter().map(|n| parse_status(n)).collect()
    }

    fn unknown_carrier(&self, name: &str) -> String {
        let known: Vec<&str> = self.carriers.keys().map(String::as_str).collect();
        format!("carrier {name:?} is not configured (configured: {})", known.join(", "))
    }

    /// The segmentation/billing profile of `carrier`.
    pub fn profile_of(&self, carrier: &str) -> Result<smpp_sms::CarrierProfile, String> {
        let c = self.carriers.get(carrier).ok_or_else(|| self.unknown_carrier(carrier))?;
        let name = c.profile.as_deref().unwrap_or(carrier);
        let mut p = smpp_sms::CarrierProfile::by_name(name).map_err(|e| e.to_string())?;
        if let Some(m) = c.max_chars {
            p.max_chars = m.0;
        }
        Ok(p)
    }

    /// The default carrier: configured, else the first.
    pub fn default_carrier(&self) -> &str {
        self.routing
            .default_carrier
            .as_deref()
            .or_else(|| self.carriers.keys().next().map(String::as_str))
            .unwrap_or("")
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn effective(&self) -> String {
        let mut out =
            toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}"));
        out.push_str(&format!("\n[policy]\nstop_keywords = {:?}\n", self.policy.stop_keywords));
        for (name, c) in &self.policy.classes {
            let quiet = c.quiet.map_or("none".to_string(), |q| q.to_string());
            out.push_str(&format!(
                "\n[policy.classes.{name}]\nquiet = {quiet:?}\npriority = {}\nresend_unknown = {}\n\
                 requires_approval = {}\nopt_out_applies = {}\n",
                c.priority, c.resend_unknown, c.requires_approval, c.opt_out_applies
            ));
            if let Some(m) = c.max_chars {
                out.push_str(&format!("max_chars = {m}\n"));
            }
        }
        out
    }
}

/// A command_status by its spec name, or as a number (`0x0000000B`, `11`).
fn parse_status(s: &str) -> Result<u32, String> {
    let t = s.trim();
    if let Some(c) = smpp_codec::CommandStatus::from_name(t) {
        return Ok(c.get());
    }
    let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    };
    n.filter(|&v| v != 0)
        .ok_or_else(|| format!("{s:?} is not a command_status name (ESME_RINVDSTADR) or number"))
}

fn env_name(prefix: &str, name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    format!("{prefix}{tail}")
}

/// The 1-based line where the dotted `key` is set, found by walking table headers; 0 when
/// the key is not in the file (a missing key).
pub fn line_of(text: &str, key: &str) -> usize {
    let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    let mut table_line = 0;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[') {
            current = h.trim_start_matches('[').trim_end_matches(']').trim().to_string();
            if current == key {
                table_line = i + 1;
            }
            continue;
        }
        let Some((k, _)) = t.split_once('=') else { continue };
        let k = k.trim().trim_matches('"');
        if (current == table && k == leaf) || (table.is_empty() && current.is_empty() && k == key) {
            return i + 1;
        }
        if current.is_empty() && k == key.split('.').next().unwrap_or("") && table_line == 0 {
            table_line = i + 1;
        }
    }
    table_line
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[api_keys]]
name = "app"
key = "0123456789abcdef0123"

[carriers.docomo]
[[carriers.docomo.accounts]]
host = "127.0.0.1"
port = 2775
system_id = "cardco"
password = "secret"
tps = 11.1
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "smppd.toml", &|_| None)
    }

    #[test]
    fn minimal_config_takes_defaults() {
        let c = parse(MINIMAL).unwrap();
        let a = &c.carriers["docomo"].accounts[0];
        assert_eq!(a.window.0, 10);
        assert_eq!(a.tps.as_ref().unwrap().0, 11.1);
        assert_eq!(c.default_carrier(), "docomo");
        assert_eq!(c.server.max_batch, 10_000);
    }

    #[test]
    fn a_bad_value_names_its_key_and_line() {
        let text = MINIMAL.replace("tps = 11.1", "tps = -3.0");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("line 12"), "{e}");
        assert!(e.contains("tps"), "{e}");
        assert!(e.contains("must be a positive number"), "{e}");
    }

    #[test]
    fn a_message_id_format_is_one_of_the_named_ones() {
        let text = MINIMAL.replace("tps = 11.1", "tps = 11.1\nmessage_id_format = \"base64\"");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("message_id_format") && e.contains("hex_resp_decimal_receipt"), "{e}");
        let text = MINIMAL.replace("tps = 11.1", "tps = 11.1\nmessage_id_format = \"hex\"");
        let config = parse(&text).unwrap();
        let account = &config.carriers.values().next().unwrap().accounts[0];
        let pair = account.message_id_format.reading_pair().unwrap();
        assert!(pair.is_same());
        assert_eq!(pair.submit, smpp_dlr::msgid::Reading::Hex);
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_line() {
        let text = MINIMAL.replace("tps = 11.1", "tpz = 11.1");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("line 12") && e.contains("tpz"), "{e}");
    }

    #[test]
    fn cross_key_errors_name_the_key_and_line() {
        let text = format!("[routing]\ndefault_carrier = \"kddi\"\n{MINIMAL}");
        let e = parse(&text).unwrap_err().to_string();
        assert_eq!(
            e,
            "smppd.toml:2: routing.default_carrier: carrier \"kddi\" is not configured (configured: docomo)"
        );
    }

    #[test]
    fn env_overrides_secrets_and_effective_config_redacts_them() {
        let c = Config::parse(MINIMAL, "f", &|k| match k {
            "SMPPD_PASSWORD_CARDCO" => Some("fromenv".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.carriers["docomo"].accounts[0].password, "fromenv");
        let shown = c.effective();
        assert!(shown.contains("<redacted>") && !shown.contains("fromenv"), "{shown}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }

    #[test]
    fn not_subscriber_statuses_take_names_or_numbers_and_name_the_key_when_wrong() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.not_subscriber_statuses().unwrap(), [0x0B]);
        let text = format!(
            "[routing]\nnot_subscriber_statuses = [\"ESME_RINVDSTADR\", \"0x00000400\"]\n{MINIMAL}"
        );
        assert_eq!(parse(&text).unwrap().not_subscriber_statuses().unwrap(), [0x0B, 0x400]);
        let text = format!("[routing]\nnot_subscriber_statuses = [\"ESME_NOPE\"]\n{MINIMAL}");
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.contains("smppd.toml:2: routing.not_subscriber_statuses") && e.contains("ESME_NOPE"),
            "{e}"
        );
    }

    #[test]
    fn optout_reply_settings_are_checked() {
        let c = parse(MINIMAL).unwrap();
        assert!(c.optout.reply && c.optout.reply_text == "配信を停止しました。");
        let text = format!("{MINIMAL}\n[optout]\nreply_from = \"not a valid sender id!\"\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("optout.reply_from"), "{e}");
        let text = format!("{MINIMAL}\n[database]\naudit_retention_days = 0\n");
        assert!(parse(&text).unwrap_err().to_string().contains("greater than 0"));
    }

    #[test]
    fn long_system_id_is_refused() {
        let text = MINIMAL.replace("\"cardco\"", "\"a-much-too-long-system-id\"");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("system_id") && e.contains("1 to 15"), "{e}");
    }
}
