//! `smppd`: run the daemon, check a config, or run the demo.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Faster than glibc's malloc for this load's bursts of same-sized blocks (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The SMS gateway daemon for Japanese card issuers.
#[derive(Parser)]
#[command(name = "smppd", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run {
        /// The config file.
        #[arg(long, default_value = "smppd.toml")]
        config: PathBuf,
    },
    /// Validate a config file and print the effective configuration (secrets redacted).
    CheckConfig {
        /// The config file.
        #[arg(long, default_value = "smppd.toml")]
        config: PathBuf,
    },
    /// Start four simulated carriers and the daemon, send a sample batch, print a summary.
    Demo(smppd::demo::DemoArgs),
    /// Policy tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the send/hold/reject decision for one message and every rule that applied.
    Explain {
        /// The config file (its [policy] section and routing are used).
        #[arg(long, default_value = "smppd.toml")]
        config: PathBuf,
        /// Message class.
        #[arg(long)]
        class: String,
        /// Destination number.
        #[arg(long)]
        to: String,
        /// The time to decide at (RFC 3339 with offset); default now.
        #[arg(long)]
        at: Option<String>,
        /// Booked send time (RFC 3339).
        #[arg(long)]
        send_at: Option<String>,
        /// Deadline (RFC 3339).
        #[arg(long)]
        deadline: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig { config } => check_config(&config),
        Command::Run { config } => runtime().and_then(|rt| rt.block_on(run(config))),
        Command::Demo(args) => runtime().and_then(|rt| rt.block_on(smppd::demo::run(args))),
        Command::Policy(PolicyCommand::Explain { config, class, to, at, send_at, deadline }) => {
            explain(&config, &class, &to, at.as_deref(), send_at.as_deref(), deadline.as_deref())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smppd: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn check_config(path: &std::path::Path) -> anyhow::Result<()> {
    let config = smppd::Config::load(path)?;
    print!("{}", config.effective());
    Ok(())
}

fn explain(
    path: &std::path::Path,
    class: &str,
    to: &str,
    at: Option<&str>,
    send_at: Option<&str>,
    deadline: Option<&str>,
) -> anyhow::Result<()> {
    use smppd::clock::parse_rfc3339;
    let config = smppd::Config::load(path)?;
    let policy = smppd::policy::Policy::new(&config).map_err(anyhow::Error::msg)?;
    let time = |flag: &str, v: Option<&str>| -> anyhow::Result<Option<i64>> {
        v.map(|s| parse_rfc3339(s).map_err(|e| anyhow::anyhow!("--{flag}: {e}"))).transpose()
    };
    let now = time("at", at)?.unwrap_or_else(smppd::clock::now_ms);
    let e164 = policy.normalise_number(to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let carrier = policy.route(&e164, None).map_err(anyhow::Error::msg)?;
    let (lists, checked) = list_status(&config, &e164)?;
    let (_, decision) = policy.decide(
        class,
        &e164,
        now,
        time("send_at", send_at)?,
        time("deadline", deadline)?,
        lists,
    );
    println!("{}", decision.explain());
    println!("- routed to {carrier}");
    println!("- {checked}");
    Ok(())
}

/// The number's suppression and opt-out entries from the configured database, if it exists
/// (it is not created for this), with a line saying where they came from.
fn list_status(
    config: &smppd::Config,
    e164: &str,
) -> anyhow::Result<(smpp_policy::ListStatus, String)> {
    let path = &config.database.path;
    if !path.exists() {
        let note = format!("lists not checked: no database at {}", path.display());
        return Ok((smpp_policy::ListStatus::default(), note));
    }
    let store = smppd::open_store(config)?;
    let hits = store.list_hits(&[e164.to_string()]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let status = hits.into_iter().next().map(smppd::lists::status_of).unwrap_or_default();
    Ok((status, format!("lists checked in {}", path.display())))
}

async fn run(path: PathBuf) -> anyhow::Result<()> {
    let config = smppd::Config::load(&path)?;
    smppd::init_logging(config.server.log_format, "info");
    let store = smppd::open_store(&config)?;
    let daemon = smppd::Daemon::start(config, store).await?;
    wait_for_signal().await;
    tracing::info!("shutting down: intake stopped, finishing in-flight windows");
    daemon.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (systemd, containers) or Ctrl-C.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
