//! Connection flags shared by `smpp send` and `smpp bench`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use smpp_session::SessionConfig;
use smpp_tokio::{BindMode, EsmeConfig, TlsConfig};

/// Where and how to bind.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConnArgs {
    /// SMSC host.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// SMSC port.
    #[arg(long, default_value_t = 2775)]
    pub(crate) port: u16,
    /// system_id (at most 15 characters).
    #[arg(long = "system-id")]
    pub(crate) system_id: String,
    /// Password (at most 8 characters).
    #[arg(long)]
    pub(crate) password: String,
    /// Connect with TLS (give --ca-file).
    #[arg(long)]
    pub(crate) tls: bool,
    /// PEM file of the CA that signed the SMSC's certificate.
    #[arg(long = "ca-file")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Name to verify in the SMSC's certificate (default: --host).
    #[arg(long = "server-name")]
    pub(crate) server_name: Option<String>,
    /// Bind mode: trx, tx+rx, tx or rx.
    #[arg(long = "bind", default_value = "trx")]
    pub(crate) bind: String,
    /// Binds (or tx+rx pairs) to open.
    #[arg(long, default_value_t = 1)]
    pub(crate) binds: usize,
    /// Outstanding requests per bind.
    #[arg(long, default_value_t = 10)]
    pub(crate) window: usize,
    /// Contracted rate for the whole account, PDUs per second (e.g. 11.1 for 40,000/hour).
    #[arg(long)]
    pub(crate) tps: Option<f64>,
    /// Seconds to wait for each response.
    #[arg(long = "response-timeout", default_value_t = 30.0)]
    pub(crate) response_timeout: f64,
    /// How the receipt text's id reads against the submit_sm_resp id, when known: text,
    /// decimal, hex, hex_resp_decimal_receipt or decimal_resp_hex_receipt. Default: learned
    /// (receipts that only match across bases then wait 5 s until two have taught it).
    #[arg(long = "text-id-format")]
    pub(crate) text_id_format: Option<String>,
}

impl ConnArgs {
    pub(crate) fn config(&self) -> anyhow::Result<EsmeConfig> {
        let mut c = EsmeConfig::new(&self.host, self.port, &self.system_id, &self.password)?;
        let mode: BindMode = self.bind.parse()?;
        let mut s = SessionConfig::default();
        if !(self.response_timeout.is_finite() && self.response_timeout > 0.0) {
            anyhow::bail!(
                "--response-timeout {}: must be a positive number of seconds",
                self.response_timeout
            );
        }
        s.window(self.window).response_timeout(Duration::from_secs_f64(self.response_timeout));
        c.bind_mode(mode).binds(self.binds).session(s).tps(self.tps).queue(self.window.max(64) * 4);
        if let Some(name) = &self.text_id_format {
            let pair = smpp_dlr::msgid::ReadingPair::from_name(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "--text-id-format {name:?}: must be one of {}",
                    smpp_dlr::msgid::ReadingPair::NAMES.join(", ")
                )
            })?;
            let mut correlation = smpp_dlr::CorrelatorConfig::new();
            correlation.text_id_format(Some(pair));
            c.correlation(correlation);
        }
        if self.tls || self.ca_file.is_some() {
            c.tls(Some(TlsConfig {
                server_name: self.server_name.clone(),
                ca_file: self.ca_file.clone(),
                ..Default::default()
            }));
        }
        Ok(c)
    }
}
