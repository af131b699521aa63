//! `smppd`: run the daemon, check a config, or run the demo.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig { config } => check_config(&config),
        Command::Run { config } => runtime().and_then(|rt| rt.block_on(run(config))),
        Command::Demo(args) => runtime().and_then(|rt| rt.block_on(smppd::demo::run(args))),
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
