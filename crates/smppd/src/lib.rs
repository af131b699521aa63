//! smppd: the SMS gateway daemon Japanese card issuers run. Internal systems post messages
//! over HTTP; smppd stores them durably (SQLite), keeps persistent SMPP binds to each
//! carrier, sends at the contracted pace with each carrier's segmentation, correlates every
//! receipt on disk (days later, across restarts), calls back by webhook and exports
//! Prometheus metrics. See `docs/daemon.md`.

pub mod app;
pub mod batch;
pub mod clock;
pub mod commit;
pub mod config;
pub mod demo;
pub mod http;
pub mod intake;
pub mod lists;
pub mod metrics;
pub mod policy;
pub mod receiver;
pub mod sender;
pub mod webhook;

pub use app::Daemon;
pub use config::Config;

use std::sync::Arc;

/// Opens the configured SQLite store.
pub fn open_store(config: &Config) -> anyhow::Result<Arc<dyn smppd_store::Store>> {
    let mut opts = smppd_store::SqliteOptions::new(&config.database.path);
    opts.synchronous_full = config.database.synchronous;
    opts.webhooks = config.webhook.is_some();
    let store = smppd_store::SqliteStore::open(opts)
        .map_err(|e| anyhow::anyhow!("database.path {}: {e}", config.database.path.display()))?;
    Ok(Arc::new(store))
}

/// Logging to stderr, text or JSON; `RUST_LOG` filters (default `default_filter`).
pub fn init_logging(format: config::LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        config::LogFormat::Json => builder.json().try_init(),
        config::LogFormat::Text => builder.try_init(),
    };
}
