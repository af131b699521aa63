//! `smppd-bench`: the daemon's benchmarks (issue 8, scenarios 6 and 7). Each mode prints one
//! JSON object on stdout; `bench/run.sh` runs them and `docs/benchmarks.md` has the figures.
//!
//! ```text
//! smppd-bench durable [--messages 100000] [--batch 10000]   # scenario 6, in-process
//! smppd-bench crash   [--messages 100000] [--smppd PATH]    # scenario 6 with kill -9
//! smppd-bench state   [--messages 1000000]                  # scenario 7, Store API only
//! ```
//!
//! - `durable`: the simulator (`smpp_sim::Simulator`) and the daemon (`smppd::Daemon`) in this
//!   process, the store a temporary SQLite file with `synchronous = true` (an fsync per
//!   commit). N messages go in through `POST /v1/messages:batch` over loopback HTTP; the run
//!   ends when every message is `delivered` on disk, which needs its submit acked and its
//!   final receipt correlated and persisted. Reports messages/s end to end, the accept
//!   latency of each batch request, and the process's peak RSS (simulator included).
//! - `crash`: the same traffic into the real `smppd` binary as a child process, `kill -9` once
//!   the simulator has seen `--kill-at` of the submits, a restart, and then a count of what
//!   every handset received: lost (accepted, never delivered and not `unknown`) and
//!   duplicated (a handset got it twice). The class is `fraud_alert`, which is never resent
//!   after a crash, so what was in flight at the kill ends `unknown`.
//! - `state`: 1,000,000 messages accepted, claimed and acked straight through the
//!   [`smppd_store::Store`] API with no receipts: a million correlations pending. Then the
//!   process's RSS, the file's size and the time to correlate random receipts.
//!
//! Every wait is bounded; a mode that does not finish reports `"ok": false` and exits 1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use smpp_sim::{RunningSim, SimConfig, Simulator};
use smppd::{Config, Daemon};
use smppd_store::{
    MessageStatus, NewMessage, ReceiptIn, ReceiptOutcome, SqliteOptions, SqliteStore, Store,
    SubmitOutcome, SubmitResult,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Faster than glibc's malloc for this load's bursts of same-sized blocks (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "bench-key-0123456789abcdef";
const CARRIER: &str = "docomo";
const ACCOUNT: &str = "docomo-1";

/// smppd benchmarks: durable end to end, kill -9, scale of state.
#[derive(Parser)]
#[command(name = "smppd-bench")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Batch API → SQLite → SMPP → receipts persisted, simulator and daemon in-process.
    Durable(Traffic),
    /// The real smppd binary, kill -9 mid-run, restart; lost and duplicated at the handsets.
    Crash(CrashArgs),
    /// A million pending correlations through the Store API: RSS and receipt lookup time.
    State(StateArgs),
}

/// The traffic and the daemon's account settings.
#[derive(Args, Clone, Debug)]
struct Traffic {
    /// Messages to send.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// Messages per `POST /v1/messages:batch`.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Binds of the one SMSC account.
    #[arg(long, default_value_t = 4)]
    binds: usize,
    /// Window per bind.
    #[arg(long, default_value_t = 100)]
    window: usize,
    /// The simulator's delay from submit to receipt, ms.
    #[arg(long, default_value_t = 10)]
    receipt_delay_ms: u64,
    /// Message class (`otp` and `fraud_alert` are never held for quiet hours).
    #[arg(long, default_value = "fraud_alert")]
    class: String,
    /// `database.synchronous = false` instead (no fsync per commit).
    #[arg(long)]
    no_sync: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

#[derive(Args, Debug)]
struct CrashArgs {
    #[command(flatten)]
    traffic: Traffic,
    /// The smppd binary (default: `smppd` beside this program).
    #[arg(long)]
    smppd: Option<PathBuf>,
    /// Kill once the simulator has seen this fraction of the submits.
    #[arg(long, default_value_t = 0.5)]
    kill_at: f64,
}

#[derive(Args, Debug)]
struct StateArgs {
    /// Pending correlations to build.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Messages per accept / claim / record transaction.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Random receipts correlated one per transaction (latency per receipt).
    #[arg(long, default_value_t = 2_000)]
    single: usize,
    /// Random receipts correlated in transactions of `--group` (throughput).
    #[arg(long, default_value_t = 20_000)]
    grouped: usize,
    /// Receipts per transaction for `--grouped`.
    #[arg(long, default_value_t = 1_000)]
    group: usize,
    /// The database file (default: a temporary one, removed at the end).
    #[arg(long)]
    db: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    smppd::init_logging(smppd::config::LogFormat::Text, "warn");
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("smppd-bench: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = rt.block_on(async {
        match cli.mode {
            Mode::Durable(t) => durable(t).await,
            Mode::Crash(a) => crash(a).await,
            Mode::State(a) => tokio::task::spawn_blocking(move || state(a)).await?,
        }
    });
    match result {
        Ok(report) => {
            println!("{report}");
            if report["ok"] == Value::Bool(true) {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("smppd-bench: {e:#}");
            println!("{}", json!({"ok": false, "error": format!("{e:#}")}));
            std::process::ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------- durable

async fn durable(t: Traffic) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let sim = Simulator::start(sim_config(&t, false)).await.context("simulator")?;
    let toml = daemon_toml(&sim, &dir.path().join("smppd.db"), &t, 0);
    let config = Config::parse(&toml, "smppd-bench.toml", &|_| None)?;
    let store = smppd::open_store(&config)?;
    let daemon = Daemon::start(config, store.clone()).await?;
    bounded(Duration::from_secs(10), "binds up", async {
        while !daemon.app().ready() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await?;
    let bodies = batches(&t);
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let posting = tokio::spawn(post_all(daemon.addr(), bodies));
    let deadline = started + Duration::from_secs(t.timeout_secs);
    let (mut submitted_s, mut done) = (None, None);
    let mut last = Counts::default();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if submitted_s.is_none() && sim.stats().carrier(CARRIER).submits >= t.messages as u64 {
            submitted_s = Some(started.elapsed().as_secs_f64());
        }
        let s = store.clone();
        last = tokio::task::spawn_blocking(move || Counts::of(&*s)).await??;
        if last.settled() >= t.messages as u64 {
            done = Some(started.elapsed().as_secs_f64());
            break;
        }
    }
    let cpu = cpu_seconds() - cpu0;
    let posted = posting.await??;
    let stats = sim.stats().carrier(CARRIER);
    daemon.shutdown().await;
    sim.shutdown().await;
    let elapsed = done.unwrap_or_else(|| started.elapsed().as_secs_f64());
    let ok = done.is_some() && last.delivered == t.messages as u64 && posted.accepted == t.messages;
    // A failed run keeps its database for a look with sqlite3.
    let kept = (!ok).then(|| dir.keep().display().to_string());
    Ok(json!({
        "kept_db_dir": kept,
        "mode": "durable",
        "messages": t.messages,
        "batch": t.batch,
        "binds": t.binds,
        "window": t.window,
        "synchronous": !t.no_sync,
        "receipt_delay_ms": t.receipt_delay_ms,
        "accepted": posted.accepted,
        "accept_s": posted.elapsed_s,
        "accept_per_s": posted.accepted as f64 / posted.elapsed_s.max(1e-9),
        "accept_latency_ms": latency_summary(&posted.latencies_ms),
        "all_submitted_s": submitted_s,
        "all_delivered_s": done,
        "messages_per_s": t.messages as f64 / elapsed.max(1e-9),
        "delivered": last.delivered,
        "statuses": last.by_status,
        "sim": {"submits": stats.submits, "receipts_sent": stats.receipts_sent, "errors": stats.errors},
        "cpu_s": cpu,
        "cpu_us_per_message": cpu * 1e6 / t.messages as f64,
        "max_rss_kib": rss_kib("self", "VmHWM"),
        "rss_includes": "daemon, simulator and this client in one process",
        "ok": ok,
    }))
}

/// Message counts by status, from the store's trigger-kept table.
#[derive(Default)]
struct Counts {
    delivered: u64,
    unknown: u64,
    open: u64,
    total: u64,
    by_status: serde_json::Map<String, Value>,
}

impl Counts {
    fn of(store: &dyn Store) -> anyhow::Result<Self> {
        let mut c = Counts::default();
        for row in store.depth()? {
            let n = row.count;
            c.total += n;
            match row.status {
                MessageStatus::Delivered => c.delivered += n,
                MessageStatus::Unknown => c.unknown += n,
                s if !s.is_final() => c.open += n,
                _ => {}
            }
            let e = c.by_status.entry(row.status.as_str()).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + n);
        }
        Ok(c)
    }

    /// Messages that will not change any more without an operator: final or `unknown`.
    fn settled(&self) -> u64 {
        self.total - self.open
    }
}

// ---------------------------------------------------------------------------- crash

async fn crash(a: CrashArgs) -> anyhow::Result<Value> {
    let t = a.traffic;
    let smppd_bin = match a.smppd {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("smppd"),
    };
    ensure!(smppd_bin.exists(), "{} not found (build it, or give --smppd)", smppd_bin.display());
    let dir = tempfile::tempdir()?;
    let sim = Simulator::start(sim_config(&t, true)).await.context("simulator")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let db = dir.path().join("smppd.db");
    let config = dir.path().join("smppd.toml");
    std::fs::write(&config, daemon_toml(&sim, &db, &t, port))?;
    let spawn = |log: &str| -> anyhow::Result<Child> {
        Command::new(&smppd_bin)
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join(log))?)
            .spawn()
            .with_context(|| format!("starting {}", smppd_bin.display()))
    };
    let timeout = Duration::from_secs(t.timeout_secs);

    let mut child = KillOnDrop(spawn("first.log")?);
    wait_ready(addr, Duration::from_secs(30)).await?;
    let started = Instant::now();
    let posted = post_all(addr, batches(&t)).await?;
    let kill_at = ((t.messages as f64 * a.kill_at) as u64).max(1);
    bounded(timeout, "simulator submits to reach --kill-at", async {
        while sim.stats().carrier(CARRIER).submits < kill_at {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await?;
    let first_rss = rss_kib(&child.0.id().to_string(), "VmHWM");
    child.0.kill()?; // SIGKILL: no shutdown code runs
    child.0.wait()?;
    let killed_s = started.elapsed().as_secs_f64();
    let at_kill = sim.stats().carrier(CARRIER).submits;

    let mut child = KillOnDrop(spawn("second.log")?);
    wait_ready(addr, Duration::from_secs(30)).await?;
    let restarted = Instant::now();
    let settled = bounded(timeout, "every message delivered or unknown after the restart", async {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Ok(c) = metrics_counts(addr).await {
                if c.total >= posted.accepted as u64 && c.open == 0 {
                    return c;
                }
            }
        }
    })
    .await?;
    let after_restart_s = restarted.elapsed().as_secs_f64();
    let second_rss = rss_kib(&child.0.id().to_string(), "VmHWM");
    terminate(&mut child.0)?;

    // Every accepted message, read from the file, against what its handset received.
    let store = SqliteStore::open(SqliteOptions::new(&db))?;
    let (mut delivered, mut unknown_sent, mut unknown_unsent, mut duplicated) = (0, 0, 0, 0);
    let mut lost = Vec::new();
    for id in &posted.ids {
        let v = store.message(*id)?.with_context(|| format!("message {id} missing"))?;
        let copies = sim.messages(None, v.to.trim_start_matches('+')).len();
        if copies > 1 {
            duplicated += 1;
        }
        match (v.status, copies) {
            (MessageStatus::Delivered, 1..) => delivered += 1,
            (MessageStatus::Unknown, 0) => unknown_unsent += 1,
            (MessageStatus::Unknown, _) => unknown_sent += 1,
            _ => lost.push(json!({"id": id, "status": v.status.as_str(), "copies": copies})),
        }
    }
    let stats = sim.stats().carrier(CARRIER);
    sim.shutdown().await;
    let ok = posted.accepted == t.messages
        && lost.is_empty()
        && duplicated == 0
        && at_kill < t.messages as u64
        && settled.total == t.messages as u64;
    Ok(json!({
        "mode": "crash",
        "messages": t.messages,
        "class": t.class,
        "accepted": posted.accepted,
        "killed_after_s": killed_s,
        "sim_submits_at_kill": at_kill,
        "restart_to_settled_s": after_restart_s,
        "delivered": delivered,
        "unknown_sent_once": unknown_sent,
        "unknown_never_sent": unknown_unsent,
        "lost": lost.len(),
        "lost_examples": lost.into_iter().take(5).collect::<Vec<_>>(),
        "duplicated": duplicated,
        "sim": {"submits": stats.submits, "messages": stats.messages},
        "smppd_max_rss_kib": {"before_kill": first_rss, "after_restart": second_rss},
        "ok": ok,
    }))
}

/// A child process that is killed if the bench stops early.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGTERM, then SIGKILL after 10 s.
fn terminate(child: &mut Child) -> anyhow::Result<()> {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill()?;
    child.wait()?;
    Ok(())
}

async fn wait_ready(addr: SocketAddr, limit: Duration) -> anyhow::Result<()> {
    bounded(limit, "smppd ready", async {
        loop {
            if matches!(http(addr, "GET", "/readyz", "").await, Ok((200, _))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

/// Message counts from the `smppd_messages` gauge (refreshed by the daemon every second).
async fn metrics_counts(addr: SocketAddr) -> anyhow::Result<Counts> {
    let (code, text) = http(addr, "GET", "/metrics", "").await?;
    ensure!(code == 200, "GET /metrics: {code}");
    let mut c = Counts::default();
    for line in text.lines().filter(|l| l.starts_with("smppd_messages{")) {
        let Some((labels, value)) = line.rsplit_once(' ') else { continue };
        let Some(status) = labels.split("status=\"").nth(1).and_then(|s| s.split('"').next())
        else {
            continue;
        };
        let n = value.parse::<f64>().unwrap_or(0.0) as u64;
        let status = MessageStatus::parse(status).context("unknown status in /metrics")?;
        c.total += n;
        match status {
            MessageStatus::Delivered => c.delivered += n,
            MessageStatus::Unknown => c.unknown += n,
            s if !s.is_final() => c.open += n,
            _ => {}
        }
    }
    Ok(c)
}

// ---------------------------------------------------------------------------- state

fn state(a: StateArgs) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let path = a.db.clone().unwrap_or_else(|| dir.path().join("state.db"));
    let store = SqliteStore::open(SqliteOptions::new(&path))?;
    let now = 1_800_000_000_000_i64;
    let smsc_id = |n: usize| (4_000_000_000_u64 + n as u64).to_string();
    let rss_before = rss_kib("self", "VmRSS");
    let started = Instant::now();
    let mut ids = Vec::with_capacity(a.messages);
    let mut done = 0;
    let mut phase_s = [0.0_f64; 3];
    while done < a.messages {
        let n = a.batch.min(a.messages - done);
        let batch: Vec<NewMessage> = (done..done + n).map(|i| new_message(i, now)).collect();
        let t0 = Instant::now();
        let accepted = store.accept(&batch)?;
        let t1 = Instant::now();
        let claimed = store.claim(CARRIER, ACCOUNT, now, n)?;
        let t2 = Instant::now();
        ensure!(claimed.len() == n, "claimed {} of {n}", claimed.len());
        let results: Vec<SubmitResult> = claimed
            .iter()
            .zip(done..)
            .map(|(c, i)| SubmitResult {
                message: c.id,
                segment: 0,
                account: ACCOUNT.into(),
                outcome: SubmitOutcome::Acked { smsc_id: smsc_id(i) },
                at: now + 5,
                sent_at: now + 1,
            })
            .collect();
        ensure!(claimed.iter().zip(&accepted).all(|(c, a)| c.id == a.id), "claim order");
        store.record_submits(&results, 5_000)?;
        let t3 = Instant::now();
        for (p, d) in phase_s.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2]) {
            *p += d.as_secs_f64();
        }
        ids.extend(accepted.iter().map(|a| a.id));
        done += n;
    }
    let load_s = started.elapsed().as_secs_f64();
    let rss_loaded = rss_kib("self", "VmRSS");
    let db_bytes = file_size(&path) + file_size(&path.with_extension("db-wal"));

    // Random receipts, each naming a pending message by its SMSC id.
    let mut rng = fastrand::Rng::with_seed(8);
    let receipt = |i: usize| ReceiptIn {
        account: ACCOUNT.into(),
        smsc_id: smsc_id(i),
        state: "DELIVRD".into(),
        is_final: true,
        delivered: true,
        error: None,
        at: now + 60_000,
    };
    let mut picks: Vec<usize> = (0..a.messages).collect();
    rng.shuffle(&mut picks);
    let (single, rest) = picks.split_at(a.single.min(picks.len()));
    let grouped = &rest[..a.grouped.min(rest.len())];
    let mut wrong = 0;
    let mut check = |i: usize, o: &ReceiptOutcome| {
        if !matches!(o, ReceiptOutcome::Matched { message, status: MessageStatus::Delivered, .. } if *message == ids[i])
        {
            wrong += 1;
        }
    };
    let mut single_us = Vec::with_capacity(single.len());
    for &i in single {
        let t0 = Instant::now();
        let out = store.apply_receipts(&[receipt(i)])?;
        single_us.push(t0.elapsed().as_secs_f64() * 1e6);
        check(i, &out[0]);
    }
    let t0 = Instant::now();
    for chunk in grouped.chunks(a.group.max(1)) {
        let receipts: Vec<ReceiptIn> = chunk.iter().map(|&i| receipt(i)).collect();
        let out = store.apply_receipts(&receipts)?;
        for (&i, o) in chunk.iter().zip(&out) {
            check(i, o);
        }
    }
    let grouped_s = t0.elapsed().as_secs_f64();
    let ok = wrong == 0 && ids.len() == a.messages;
    Ok(json!({
        "mode": "state",
        "pending_correlations": a.messages,
        "synchronous": true,
        "load_s": load_s,
        "load_per_s": a.messages as f64 / load_s.max(1e-9),
        "load_us_per_message": {
            "accept": phase_s[0] * 1e6 / a.messages.max(1) as f64,
            "claim": phase_s[1] * 1e6 / a.messages.max(1) as f64,
            "record_submits": phase_s[2] * 1e6 / a.messages.max(1) as f64,
        },
        "rss_kib": {"before": rss_before, "loaded": rss_loaded, "max": rss_kib("self", "VmHWM")},
        "db_mib": db_bytes as f64 / (1024.0 * 1024.0),
        "receipt_one_per_tx_us": latency_summary_us(&mut single_us),
        "receipt_grouped": {
            "receipts": grouped.len(),
            "per_tx": a.group,
            "per_receipt_us": grouped_s * 1e6 / grouped.len().max(1) as f64,
            "per_s": grouped.len() as f64 / grouped_s.max(1e-9),
        },
        "wrong_matches": wrong,
        "ok": ok,
    }))
}

fn new_message(i: usize, now: i64) -> NewMessage {
    NewMessage {
        api_key: "bench".into(),
        idempotency_key: None,
        client_ref: Some(format!("state-{i}")),
        to: format!("+8190{:08}", i % 100_000_000),
        from: "CARDCO".into(),
        text: format!("【カード会社】{i}円のご利用がありました。"),
        class: "fraud_alert".into(),
        carrier: CARRIER.into(),
        segments: 1,
        billable: 1,
        status: MessageStatus::Queued,
        not_before: now,
        deadline: None,
        dlr: true,
        priority: 0,
        reason: None,
        created_at: now,
        batch_id: None,
    }
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

// ---------------------------------------------------------------------------- shared

/// One carrier whose account cardco/secret takes any rate; its store and handset inbox hold a
/// whole run when `count_handsets` (the crash mode counts deliveries there).
fn sim_config(t: &Traffic, count_handsets: bool) -> SimConfig {
    let mut config = SimConfig::default();
    let mut c = smpp_sim::CarrierConfig::new(CARRIER);
    c.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let account = c.account("cardco", "secret");
    account.tps = 0.0;
    account.max_binds = t.binds.max(1) * 2;
    c.receipts.delay_ms = t.receipt_delay_ms;
    // Receipts are made from the message store, so it must hold what is in flight; the
    // handset inbox is only read by the crash mode.
    c.store_capacity = (t.messages * 2).max(10_000);
    c.inbox_capacity = if count_handsets { t.messages * 2 } else { 1_000 };
    config.carriers.push(c);
    config
}

fn daemon_toml(sim: &RunningSim, db: &Path, t: &Traffic, port: u16) -> String {
    let sim_port = sim.addr(CARRIER).map_or(0, |a| a.port());
    format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_grace_secs = 5\n\
         [database]\npath = {db:?}\nsynchronous = {sync}\n\
         [[api_keys]]\nname = \"bench\"\nkey = \"{KEY}\"\n\
         [carriers.{CARRIER}]\n[[carriers.{CARRIER}.accounts]]\nname = \"{ACCOUNT}\"\n\
         host = \"127.0.0.1\"\nport = {sim_port}\nsystem_id = \"cardco\"\npassword = \"secret\"\n\
         binds = {binds}\nwindow = {window}\n",
        sync = !t.no_sync,
        binds = t.binds,
        window = t.window,
    )
}

/// The request bodies, built before the clock starts.
fn batches(t: &Traffic) -> Vec<String> {
    (0..t.messages)
        .collect::<Vec<_>>()
        .chunks(t.batch.max(1))
        .map(|chunk| {
            let messages: Vec<Value> = chunk
                .iter()
                .map(|i| {
                    json!({
                        "to": format!("090{:08}", 10_000_000 + i),
                        "from": "CARDCO",
                        "text": format!("【カード会社】{}円のご利用がありました。心当たりがない場合はご連絡ください。", 1000 + i),
                        "class": t.class,
                        "client_ref": format!("bench-{i}"),
                    })
                })
                .collect();
            json!({ "messages": messages }).to_string()
        })
        .collect()
}

struct Posted {
    accepted: usize,
    ids: Vec<i64>,
    latencies_ms: Vec<f64>,
    elapsed_s: f64,
}

/// Posts every batch in turn, as one client would.
async fn post_all(addr: SocketAddr, bodies: Vec<String>) -> anyhow::Result<Posted> {
    let started = Instant::now();
    let mut posted =
        Posted { accepted: 0, ids: Vec::new(), latencies_ms: Vec::new(), elapsed_s: 0.0 };
    for body in bodies {
        let t0 = Instant::now();
        let (code, reply) = http(addr, "POST", "/v1/messages:batch", &body).await?;
        posted.latencies_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        ensure!(
            code == 202,
            "batch refused: HTTP {code}: {}",
            reply.chars().take(300).collect::<String>()
        );
        let v: Value = serde_json::from_str(&reply).context("batch reply")?;
        for r in v["results"].as_array().into_iter().flatten() {
            let id = r["result"]["id"].as_str().and_then(|s| s.parse().ok());
            let Some(id) = id else { bail!("item refused: {r}") };
            posted.ids.push(id);
            posted.accepted += 1;
        }
    }
    posted.elapsed_s = started.elapsed().as_secs_f64();
    Ok(posted)
}

/// A minimal HTTP/1.1 exchange over loopback (one connection per request).
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    let mut out = Vec::new();
    bounded(Duration::from_secs(120), "HTTP response", s.read_to_end(&mut out)).await??;
    let text = String::from_utf8(out).context("response is not UTF-8")?;
    let status = text.get(9..12).and_then(|s| s.parse().ok()).context("no HTTP status line")?;
    let (head, raw) = text.split_once("\r\n\r\n").context("no end of headers")?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(raw)
    } else {
        raw.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail.get(n + 2..).unwrap_or("");
    }
    out
}

async fn bounded<T>(
    limit: Duration,
    what: &str,
    f: impl std::future::Future<Output = T>,
) -> anyhow::Result<T> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| anyhow::anyhow!("{what}: not within {limit:?}"))
}

fn latency_summary(ms: &[f64]) -> Value {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    let pct = |p: f64| v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    json!({"requests": v.len(), "p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)})
}

fn latency_summary_us(us: &mut [f64]) -> Value {
    us.sort_by(f64::total_cmp);
    let pct =
        |p: f64| us.get(((us.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    json!({"receipts": us.len(), "p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)})
}

/// A `/proc/<pid>/status` field in KiB (`VmHWM` is the peak RSS), 0 when unreadable.
fn rss_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
