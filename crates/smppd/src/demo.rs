//! `smppd demo`: a newcomer's first command. Starts the four simulated carriers in-process,
//! the daemon on a temporary SQLite file, posts a sample batch through the HTTP API like a
//! card issuer's system would, shows progress, prints a per-carrier summary, and keeps
//! serving the API and `/metrics` until Ctrl-C (or stops, with `--exit`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use smpp_sim::{MessageIdFormat, OutcomeWeight, RunningSim, SimConfig, Simulator, Stat};
use smppd_store::{MessageStatus, MessageView, Store};

use crate::app::Daemon;
use crate::config::Config;

/// The API key the demo configures (printed, so the API can be tried by hand).
pub const DEMO_KEY: &str = "demo-key-0123456789abcdef";

const CARRIERS: [(&str, &str); 4] =
    [("docomo", "+81901"), ("au", "+81802"), ("softbank", "+81803"), ("rakuten", "+81704")];

/// Demo options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Stop after the summary instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// Where the API listens. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Messages in the sample batch.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Give up waiting for receipts after this many seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout_secs: u64,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    // The demo's output is the summary; only problems are logged (unless RUST_LOG says).
    crate::init_logging(crate::config::LogFormat::Text, "warn");
    let dir = tempfile::tempdir().context("temporary directory")?;
    let sim = Simulator::start(sim_config()).await.context("starting the simulated carriers")?;
    let config = daemon_config(&sim, &dir.path().join("smppd.db"), args.listen)?;
    let store = crate::open_store(&config)?;
    let daemon = match Daemon::start(config.clone(), store.clone()).await {
        Ok(d) => d,
        Err(e) if args.listen.port() != 0 => {
            eprintln!("{e:#}; using a free port instead");
            let mut c = config;
            c.server.listen.set_port(0);
            Daemon::start(c, store.clone()).await?
        }
        Err(e) => return Err(e),
    };
    let base = format!("http://{}", daemon.addr());
    eprintln!("smppd demo: 4 simulated carriers, API at {base}, database {}", dir.path().display());
    wait_ready(&daemon).await?;
    let started = Instant::now();
    let ids = post_batch(daemon.addr(), &sample_batch(args.messages)).await?;
    let views = wait_final(&store, &ids, Duration::from_secs(args.timeout_secs)).await?;
    let elapsed = started.elapsed();
    print_summary(&views, &sim, elapsed);
    println!("\nAPI:     {base}  (Authorization: Bearer {DEMO_KEY})");
    println!(
        "try:     curl -s -H 'Authorization: Bearer {DEMO_KEY}' {base}/v1/messages/{}",
        ids.first().copied().unwrap_or(1)
    );
    println!("metrics: {base}/metrics   OpenAPI: {base}/openapi.json   binds: {base}/v1/binds");
    if !args.exit {
        println!("serving until Ctrl-C");
        let _ = tokio::signal::ctrl_c().await;
    }
    daemon.shutdown().await;
    sim.shutdown().await;
    Ok(())
}

fn sim_config() -> SimConfig {
    let formats = [
        MessageIdFormat::Decimal,
        MessageIdFormat::Hex,
        MessageIdFormat::Uuid,
        MessageIdFormat::Padded,
    ];
    let mut config = SimConfig::default();
    for ((name, _), format) in CARRIERS.iter().zip(formats) {
        let mut c = smpp_sim::CarrierConfig::new(name);
        c.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        c.message_id_format = format;
        c.account("cardco", "secret").tps = 0.0;
        c.receipts.outcomes = vec![
            OutcomeWeight { stat: Stat::Delivrd, weight: 19, err: 0 },
            OutcomeWeight { stat: Stat::Undeliv, weight: 1, err: 1 },
        ];
        config.carriers.push(c);
    }
    config
}

fn daemon_config(
    sim: &RunningSim,
    db: &std::path::Path,
    listen: SocketAddr,
) -> anyhow::Result<Config> {
    let mut text = format!(
        "[server]\nlisten = \"{listen}\"\n[database]\npath = {db:?}\nsynchronous = false\n\
         [[api_keys]]\nname = \"demo\"\nkey = \"{DEMO_KEY}\"\n[routing]\ndefault_carrier = \"docomo\"\n"
    );
    text.push_str("[routing.prefixes]\n");
    for (carrier, prefix) in CARRIERS {
        text.push_str(&format!("\"{prefix}\" = \"{carrier}\"\n"));
    }
    for (carrier, _) in CARRIERS {
        let addr = sim.addr(carrier).context("simulator address")?;
        text.push_str(&format!(
            "[carriers.{carrier}]\n[[carriers.{carrier}.accounts]]\nname = \"{carrier}-1\"\n\
             host = \"127.0.0.1\"\nport = {}\nsystem_id = \"cardco\"\npassword = \"secret\"\n\
             binds = 2\nwindow = 50\n",
            addr.port()
        ));
    }
    Ok(Config::parse(&text, "demo", &|_| None)?)
}

async fn wait_ready(daemon: &Daemon) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !daemon.app().ready() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the simulated carriers did not bind within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A fraud alert listing the suspicious transactions: 100 or so characters, two SMS.
fn fraud_alert_detail(i: usize) -> String {
    format!(
        "【カード会社】不正利用の可能性があるお取引を検知しました。{}円(海外オンライン)、{}円(国内店舗)。\
         お心当たりがない場合は1、ご本人のご利用の場合は2を返信してください。カードは一時停止中です。",
        30_000 + i,
        9_800 + i % 1000
    )
}

/// The sample: what a card issuer sends in a day, in miniature.
pub fn sample_batch(n: usize) -> Vec<serde_json::Value> {
    let long_notice =
        "【カード会社】ご利用明細のお知らせです。".repeat(30).chars().take(660).collect::<String>();
    (0..n)
        .map(|i| {
            let (_, prefix) = CARRIERS[i % CARRIERS.len()];
            let to = format!("{prefix}{:07}", 1_000_000 + i);
            let (class, text) = match i % 5 {
                0 => ("otp", format!("Your one-time code is {:06}. Do not share it.", (i * 7919) % 1_000_000)),
                1 if (i / 5) % 3 != 1 => ("fraud_alert", "【カード会社】120,000円のご利用がありました。心当たりがない場合は1を返信してください。".to_string()),
                // A detailed alert (two parts on docomo/au/Rakuten): fraud alerts have no
                // quiet hours, so the demo shows long texts at any time of day.
                1 => ("fraud_alert", fraud_alert_detail(i)),
                2 => ("dunning", format!("【カード会社】{}円のお支払いが確認できていません。期日までにお振込みをお願いいたします。", 10_000 + i)),
                3 => ("notice", "【カード会社】新しいカードを発送しました。到着後、裏面にご署名ください。".to_string()),
                _ => ("billing_notice", long_notice.clone()),
            };
            serde_json::json!({"to": to, "from": "CARDCO", "text": text, "class": class, "client_ref": format!("demo-{i}")})
        })
        .collect()
}

/// Posts the batch through the HTTP API in chunks, like a client would.
async fn post_batch(addr: SocketAddr, messages: &[serde_json::Value]) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(1000) {
        let body = serde_json::json!({ "messages": chunk }).to_string();
        let (status, reply) = http_post(addr, "/v1/messages:batch", &body).await?;
        anyhow::ensure!(status == 202, "batch refused: HTTP {status}: {reply}");
        let v: serde_json::Value = serde_json::from_str(&reply)?;
        for r in v["results"].as_array().into_iter().flatten() {
            match r["result"]["id"].as_str() {
                Some(id) => ids.push(id.parse()?),
                None => eprintln!("item refused: {}", r["error"]),
            }
        }
    }
    Ok(ids)
}

/// A minimal HTTP/1.1 POST over loopback (the demo needs no HTTP client dependency).
async fn http_post(addr: SocketAddr, path: &str, body: &str) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {DEMO_KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, dechunk(body)))
}

fn dechunk(body: &str) -> String {
    // hyper answers `connection: close` requests with a plain body or chunks; join chunks.
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, tail)) = rest.split_once("\r\n") else { return body.to_string() };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return body.to_string() };
        if n == 0 {
            return out;
        }
        out.push_str(tail.get(..n).unwrap_or(tail));
        rest = tail.get(n + 2..).unwrap_or("");
    }
}

/// Waits until every message is final or held (quiet hours), drawing a progress bar.
async fn wait_final(
    store: &Arc<dyn Store>,
    ids: &[i64],
    timeout: Duration,
) -> anyhow::Result<Vec<MessageView>> {
    let deadline = Instant::now() + timeout;
    loop {
        let s = store.clone();
        let list = ids.to_vec();
        let views = tokio::task::spawn_blocking(move || {
            list.iter().filter_map(|id| s.message(*id).ok().flatten()).collect::<Vec<_>>()
        })
        .await?;
        let done =
            views.iter().filter(|v| v.status.is_final() || v.status == MessageStatus::Held).count();
        draw_progress(done, ids.len());
        if done == ids.len() || Instant::now() > deadline {
            eprintln!();
            return Ok(views);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn draw_progress(done: usize, total: usize) {
    let width = 40;
    let filled = (done * width).checked_div(total).unwrap_or(width).min(width);
    eprint!(
        "\r[{}{}] {done}/{total} messages final",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    let _ = std::io::stderr().flush();
}

#[derive(Default)]
struct Row {
    messages: u64,
    held: u64,
    delivered: u64,
    undeliverable: u64,
    segments: u64,
    billable: u64,
    submit_ms: Vec<i64>,
    dlr_ms: Vec<i64>,
}

fn print_summary(views: &[MessageView], sim: &RunningSim, elapsed: Duration) {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for v in views {
        let r = rows.entry(v.carrier.clone()).or_default();
        r.messages += 1;
        if v.status != MessageStatus::Held {
            r.segments += u64::from(v.segments);
            r.billable += u64::from(v.billable);
        }
        match v.status {
            MessageStatus::Held => r.held += 1,
            MessageStatus::Delivered => r.delivered += 1,
            MessageStatus::Undeliverable => r.undeliverable += 1,
            _ => {}
        }
        for s in &v.segment_details {
            if let (Some(sent), Some(acked)) = (s.sent_at, s.submitted_at) {
                r.submit_ms.push(acked - sent);
                if let Some(receipt) = s.receipt_at {
                    r.dlr_ms.push(receipt - sent);
                }
            }
        }
    }
    let stats = sim.stats();
    println!("\n{} messages in {:.1} s\n", views.len(), elapsed.as_secs_f64());
    println!(
        "{:<9} {:>6} {:>5} {:>9} {:>7} {:>8} {:>8} {:>9} {:>11} {:>11} {:>9} {:>9}",
        "carrier",
        "sent",
        "held",
        "delivered",
        "undeliv",
        "segments",
        "billable",
        "sim bill",
        "submit p50",
        "submit p99",
        "dlr p50",
        "dlr p99"
    );
    for (carrier, mut r) in rows {
        let sim_billable = stats.carrier(&carrier).billable_segments;
        println!(
            "{:<9} {:>6} {:>5} {:>9} {:>7} {:>8} {:>8} {:>9} {:>9}ms {:>9}ms {:>7}ms {:>7}ms",
            carrier,
            r.messages - r.held,
            r.held,
            r.delivered,
            r.undeliverable,
            r.segments,
            r.billable,
            sim_billable,
            percentile(&mut r.submit_ms, 50.0),
            percentile(&mut r.submit_ms, 99.0),
            percentile(&mut r.dlr_ms, 50.0),
            percentile(&mut r.dlr_ms, 99.0),
        );
    }
    if views.iter().any(|v| v.status == MessageStatus::Held) {
        println!("\nheld: quiet hours (dunning and notices are not sent 21:00-08:00 JST); they go out at 08:00.");
    }
}

fn percentile(v: &mut [i64], p: f64) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[i.min(v.len() - 1)]
}
