//! `smsc-sim`: the SMSC simulator as a program.
//!
//! ```text
//! smsc-sim --config deploy/sim.toml
//! smsc-sim --listen 127.0.0.1:2775 [--carrier docomo] [--auth SYS:PASS]... [--control 127.0.0.1:8775]
//! ```
//!
//! It runs until killed. Logs go to stderr (`RUST_LOG=debug` for more).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Parser;
use smpp_sim::{CarrierConfig, MessageIdFormat, SimConfig, Simulator};

/// Faster than glibc's malloc for this load's bursts of same-sized blocks (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An SMSC simulator that behaves like the Japanese carriers (docomo, au, softbank, rakuten).
#[derive(Parser, Debug)]
#[command(name = "smsc-sim", version)]
struct Args {
    /// A TOML file declaring one or more carriers (see deploy/sim.toml). Without it, one
    /// carrier is configured from the flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["listen", "carrier", "auth", "tps", "message_id_format", "receipt_delay_ms", "window"])]
    config: Option<PathBuf>,

    /// Where the single carrier listens. Default: the carrier's port on 127.0.0.1 (docomo
    /// 2775, au 2776, softbank 2777, rakuten 2778).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,

    /// Which carrier to simulate: docomo, au, softbank or rakuten.
    #[arg(long, default_value = "docomo")]
    carrier: String,

    /// An account as SYSTEM_ID:PASSWORD; repeat for more. Default test:test.
    #[arg(long, value_name = "SYS:PASS")]
    auth: Vec<String>,

    /// Submits per second allowed per account (0 = unlimited).
    #[arg(long, default_value_t = 0.0)]
    tps: f64,

    /// message_id format: decimal, hex, hex_upper, padded, uuid.
    #[arg(long, value_name = "FORMAT")]
    message_id_format: Option<String>,

    /// Delay from submit to the delivery receipt, in milliseconds.
    #[arg(long, value_name = "MS")]
    receipt_delay_ms: Option<u64>,

    /// Outstanding deliver_sm (receipts and MO) per bind before the simulator waits for a
    /// deliver_sm_resp (default 64). Throughput benchmarks set it at least as large as the
    /// ESME's submit window (bench/run.sh: 1000), so that receipts flow as fast as submits
    /// instead of queueing behind a smaller window.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    window: Option<u32>,

    /// Address of the HTTP control API (/stats, /mo, /faults, /messages, /metrics). Overrides
    /// the file's `control`.
    #[arg(long, value_name = "ADDR")]
    control: Option<SocketAddr>,

    /// Runtime worker threads (default: one per core). One costs the least CPU per message
    /// for a single busy bind, and leaves the other cores to an ESME benchmarked beside it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

fn from_flags(args: &Args) -> anyhow::Result<SimConfig> {
    let mut c = CarrierConfig::new(&args.carrier);
    c.listen = args.listen;
    let auths = if args.auth.is_empty() { vec!["test:test".to_owned()] } else { args.auth.clone() };
    for a in &auths {
        let Some((sys, pass)) = a.split_once(':') else {
            bail!("--auth {a:?}: expected SYSTEM_ID:PASSWORD");
        };
        c.account(sys, pass).tps = args.tps;
    }
    if let Some(f) = &args.message_id_format {
        c.message_id_format =
            serde_json::from_value::<MessageIdFormat>(serde_json::Value::String(f.clone()))
                .with_context(|| {
                    format!(
                        "--message-id-format {f:?}: use decimal, hex, hex_upper, padded or uuid"
                    )
                })?;
    }
    if let Some(ms) = args.receipt_delay_ms {
        c.receipts.delay_ms = ms;
    }
    if let Some(w) = args.window {
        c.session.window = w as usize;
    }
    let config = SimConfig { carriers: vec![c], ..SimConfig::default() };
    config.validate()?;
    Ok(config)
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => SimConfig::load(path).with_context(|| format!("{}", path.display()))?,
        None => from_flags(&args)?,
    };
    if args.control.is_some() {
        config.control = args.control;
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        builder.worker_threads(usize::from(threads));
    }
    let runtime = builder.enable_all().build()?;
    runtime.block_on(async {
        let sim = Simulator::start(config).await?;
        for (name, addr) in sim.addrs() {
            eprintln!("smsc-sim: {name} on {addr}");
        }
        if let Some(addr) = sim.control_addr() {
            eprintln!("smsc-sim: control API on http://{addr}");
        }
        // Ctrl-C or SIGTERM: close the connections (ESMEs see the drop) and stop.
        wait_for_signal().await;
        eprintln!("smsc-sim: stopping");
        sim.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}
