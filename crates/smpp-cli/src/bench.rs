//! `smpp bench`: the load tool every benchmark uses. Bounded by --count and --dlr-timeout.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use smpp_codec::{COctetString, ShortMessage, SubmitSm, Tlvs};
use smpp_sms::{segment, CarrierProfile};
use smpp_tokio::{compose, connect, Completion, Correlation, IncomingEvent, Pipeline};

use crate::conn_args::ConnArgs;

/// Load test: submit --count messages through --binds binds with --window outstanding each,
/// and (unless --no-dlr) correlate every receipt.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// Messages to send (each may be several PDUs with --long).
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// UCS-2 Japanese text instead of GSM.
    #[arg(long)]
    ucs2: bool,
    /// Long text: several concatenated parts per message.
    #[arg(long)]
    long: bool,
    /// Do not ask for receipts.
    #[arg(long = "no-dlr")]
    no_dlr: bool,
    /// Seconds to wait for receipts after the last submit response.
    #[arg(long = "dlr-timeout", default_value_t = 30.0)]
    dlr_timeout: f64,
    /// Carrier profile for splitting long texts.
    #[arg(long, default_value = "docomo")]
    carrier: String,
    /// Print one JSON object as the last stdout line.
    #[arg(long)]
    json: bool,
    /// Runtime worker threads for the ESME. One keeps a bind's driver and the submitting task
    /// on one thread (no cross-thread wake-ups per PDU), which costs the least CPU per message
    /// when the SMSC runs on the same box; more threads spread several binds over cores.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
}

impl BenchArgs {
    /// Worker threads for the runtime that runs this bench.
    pub(crate) fn threads(&self) -> usize {
        usize::from(self.threads)
    }
}

/// What the submitting task saw, handed back when it is done.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: BTreeMap<String, u64>,
    latencies_us: Vec<u32>,
    /// When each accepted submit's response arrived, µs after `pacing_since` (for --tps).
    accepted_at_us: Vec<u64>,
    /// The start of the run, when the pacing report (--tps) needs each response's arrival.
    pacing_since: Option<Instant>,
}

impl Tally {
    fn record(&mut self, done: Completion) {
        match done.result {
            Ok(done) => {
                self.ok += 1;
                // The driver's times, not two clock reads per submit here: they were a few
                // per cent of the CPU this bench reports as the ESME's.
                let latency = done.answered_at.saturating_duration_since(done.accepted_at);
                self.latencies_us.push(latency.as_micros().min(u128::from(u32::MAX)) as u32);
                if let Some(s) = self.pacing_since {
                    let at = done.answered_at.saturating_duration_since(s);
                    self.accepted_at_us.push(at.as_micros() as u64);
                }
            }
            Err(e) => self.fail(&e),
        }
    }

    fn fail(&mut self, e: &smpp_tokio::Error) {
        let key = e.status().map_or_else(|| format!("{:?}", e.kind()), |s| s.to_string());
        *self.failed.entry(key).or_default() += 1;
    }
}

#[derive(Default, Debug)]
struct Receipts {
    received: u64,
    correlated: u64,
    uncorrelated: u64,
    duplicate: u64,
    early: u64,
    by_stat: BTreeMap<String, u64>,
    last_correlated: Option<Instant>,
}

fn template(a: &BenchArgs) -> anyhow::Result<Vec<(SubmitSm, Tlvs)>> {
    let base = if a.ucs2 {
        "ご利用代金のお支払い期日は11月27日です。"
    } else {
        "Your card payment is due on 27 Nov."
    };
    let text = if a.long { base.repeat(if a.ucs2 { 8 } else { 9 }) } else { base.to_string() };
    let profile = CarrierProfile::by_name(&a.carrier)?;
    let seg = segment(&text, &profile, 0x4242, a.ucs2)?;
    let submits = compose::submits(&seg, "TESTCARD", "+819012345678", u8::from(!a.no_dlr))?;
    Ok(submits.into_iter().map(|(sm, tlvs)| (pinned(sm), tlvs)).collect())
}

/// The template's octets for the whole run, as `'static` buffers: cloning the template per
/// submit then copies pointers instead of taking (and later dropping) a reference on a shared
/// buffer per field, two atomic operations each, counted in the ESME CPU this tool reports.
fn pinned(mut sm: SubmitSm) -> SubmitSm {
    fn for_the_run(octets: &[u8]) -> &'static [u8] {
        Box::leak(octets.to_vec().into_boxed_slice())
    }
    if let Ok(source) = COctetString::new(for_the_run(sm.source_addr.as_bytes())) {
        sm.source_addr = source;
    }
    if let Ok(text) = ShortMessage::new(for_the_run(sm.short_message.as_bytes())) {
        sm.short_message = text;
    }
    sm
}

pub(crate) async fn run(a: BenchArgs) -> anyhow::Result<i32> {
    let pdus = Arc::new(template(&a)?);
    let mut config = a.conn.config()?;
    config.incoming_capacity(65_536);
    if a.no_dlr {
        config.discard_incoming();
    }
    let (client, conn) = connect(config)?;
    tokio::spawn(conn);
    let incoming = client.incoming().filter(|_| !a.no_dlr);
    tokio::time::timeout(Duration::from_secs(15), client.ready())
        .await
        .map_err(|_| anyhow::anyhow!("no bind within 15 s to {}:{}", a.conn.host, a.conn.port))??;

    let started = Instant::now();
    let receipts = Arc::new(Mutex::new(Receipts::default()));
    let collector = incoming.map(|rx| tokio::spawn(collect(rx, receipts.clone())));
    let progress = Arc::new(AtomicUsize::new(0));
    // Twice the window over all binds, so that each bind's queue holds the next submits
    // whenever a response frees a slot.
    let depth = (a.conn.window * a.conn.binds * 2).clamp(1, 4096);
    let tally = Tally { pacing_since: a.conn.tps.map(|_| started), ..Tally::default() };
    let submitter = tokio::spawn(submit_all(
        client.pipeline(),
        pdus.clone(),
        tally,
        progress.clone(),
        a.count,
        depth,
    ));
    let bar = show_progress(progress.clone(), a.count * pdus.len() as u64);
    let mut tally = submitter.await?;
    let submit_elapsed = started.elapsed().as_secs_f64();
    let sent = a.count * pdus.len() as u64;
    let ok = tally.ok;

    if let Some(c) = collector {
        let deadline = Instant::now() + Duration::from_secs_f64(a.dlr_timeout.max(0.0));
        while receipts.lock().unwrap().correlated < ok && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        c.abort();
    }
    if let Some(b) = bar {
        b.abort();
        eprintln!();
    }
    client.unbind().await;

    let r = receipts.lock().unwrap();
    let mut lat = std::mem::take(&mut tally.latencies_us);
    let mut pct = |p: f64| percentile_ms(&mut lat, p);
    let all_correlated_s = r.last_correlated.map_or(0.0, |t| (t - started).as_secs_f64());
    let failed = std::mem::take(&mut tally.failed);
    let dlr_ok = a.no_dlr || r.correlated >= ok;
    let all_ok = ok == sent && dlr_ok;
    let report = json!({
        "pdus": sent,
        "submit": {
            "sent": sent, "ok": ok, "failed": failed,
            "elapsed_s": submit_elapsed, "per_s": ok as f64 / submit_elapsed.max(1e-9),
        },
        "dlr": {
            "expected": if a.no_dlr { 0 } else { ok },
            "received": r.received, "correlated": r.correlated, "uncorrelated": r.uncorrelated,
            "duplicate": r.duplicate, "early": r.early, "by_stat": r.by_stat,
            "all_correlated_s": all_correlated_s,
            "full_cycle_per_s": if all_correlated_s > 0.0 { r.correlated as f64 / all_correlated_s } else { 0.0 },
        },
        "resp_latency_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
        "pacing": a.conn.tps.map(|t| pacing(std::mem::take(&mut tally.accepted_at_us), t)),
        "cpu_s": cpu_seconds(),
        "max_rss_kib": max_rss_kib(),
        "ok": all_ok,
    });
    if a.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(if all_ok { 0 } else { 1 })
}

/// Submits `count` messages (each the template's PDUs, in order) through one pipeline with
/// up to `depth` PDUs in flight, and tallies their results. One task and one stream of
/// results, not a task and a future per submit in flight: those were a tenth of the CPU
/// this bench reports as the ESME's.
async fn submit_all(
    mut pipeline: Pipeline,
    pdus: Arc<Vec<(SubmitSm, Tlvs)>>,
    mut tally: Tally,
    progress: Arc<AtomicUsize>,
    count: u64,
    depth: usize,
) -> Tally {
    let mut next = 0u64;
    let mut tag = 0u64;
    loop {
        while pipeline.in_flight() < depth && next < count {
            for (sm, tlvs) in pdus.iter() {
                tag += 1;
                if let Err(e) = pipeline.submit(tag, for_message(sm, next), tlvs.clone()).await {
                    tally.fail(&e);
                    progress.fetch_add(1, Ordering::Relaxed);
                }
            }
            next += 1;
        }
        let Some(done) = pipeline.next().await else { break };
        tally.record(done);
        let mut taken = 1;
        while let Some(done) = pipeline.try_next() {
            tally.record(done);
            taken += 1;
        }
        progress.fetch_add(taken, Ordering::Relaxed);
    }
    tally
}

/// The `p` quantile (0 to 1, nearest rank) of latencies in µs, in ms. A selection, not a
/// sort: `cpu_s` covers the whole run, and sorting a million latencies would add to it.
fn percentile_ms(lat_us: &mut [u32], p: f64) -> f64 {
    if lat_us.is_empty() {
        return 0.0;
    }
    let rank = ((lat_us.len() as f64 - 1.0) * p).round() as usize;
    f64::from(*lat_us.select_nth_unstable(rank).1) / 1000.0
}

/// How well the rate was kept, from the arrival times of the submit responses (one network
/// round trip after the SMSC saw each submit): the most PDUs in any 1-second window and the
/// long-run rate from the first to the last.
fn pacing(mut at_us: Vec<u64>, target: f64) -> serde_json::Value {
    at_us.sort_unstable();
    let mut max_in_window = 0;
    let mut lo = 0;
    for hi in 0..at_us.len() {
        while at_us[hi] - at_us[lo] >= 1_000_000 {
            lo += 1;
        }
        max_in_window = max_in_window.max(hi - lo + 1);
    }
    let span_s = match (at_us.first(), at_us.last()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e6,
        _ => 0.0,
    };
    let rate = if span_s > 0.0 { (at_us.len() - 1) as f64 / span_s } else { 0.0 };
    json!({
        "target_per_s": target,
        "max_in_any_1s_window": max_in_window,
        "long_run_per_s": rate,
        "error_pct": if target > 0.0 { (rate - target) / target * 100.0 } else { 0.0 },
        "measured": "submit_sm_resp arrival times at the ESME",
    })
}

/// The template part made distinct for message `i`: its own handset and its own
/// concatenation reference, as real traffic has. Without this, the parts of concurrent long
/// messages to one handset with one reference would be mixed up by the SMSC (smpp34.md §10.2).
fn for_message(template: &SubmitSm, i: u64) -> SubmitSm {
    let mut sm = template.clone();
    sm.destination_addr = COctetString::copy_from_slice(&handset(i)).unwrap_or_default();
    if sm.esm_class.udhi() {
        let mut data = sm.short_message.as_bytes().to_vec();
        match data.get(..3) {
            // 16-bit reference: 06 08 04 RR RR TT SS
            Some([_, 0x08, 0x04]) => data[3..5].copy_from_slice(&(i as u16).to_be_bytes()),
            // 8-bit reference: 05 00 03 RR TT SS
            Some([_, 0x00, 0x03]) => data[3] = i as u8,
            _ => {}
        }
        sm.short_message = ShortMessage::new(data).unwrap_or_default();
    }
    sm
}

/// `8190` and the last 8 digits of `i`: message `i`'s handset. Written by hand because
/// `format!` was a visible part of the bench's own CPU per message, which counts in its
/// reported ESME CPU.
fn handset(i: u64) -> [u8; 12] {
    let mut to = *b"819000000000";
    let mut n = i % 100_000_000;
    for digit in to[4..].iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
    to
}

async fn collect(mut rx: tokio::sync::mpsc::Receiver<IncomingEvent>, r: Arc<Mutex<Receipts>>) {
    while let Some(ev) = rx.recv().await {
        let mut r = r.lock().unwrap();
        let mut correlated = count(&mut r, ev);
        // Everything already queued is counted under the same lock, with one clock read.
        while let Ok(ev) = rx.try_recv() {
            correlated |= count(&mut r, ev);
        }
        if correlated {
            r.last_correlated = Some(Instant::now());
        }
    }
}

/// Counts one incoming event (and acks a message); `true` if it correlated a receipt.
fn count(r: &mut Receipts, ev: IncomingEvent) -> bool {
    match ev {
        IncomingEvent::Message(m) => {
            r.received += 1;
            if let Some(stat) = m.receipt.as_ref().and_then(|x| x.stat.as_ref()) {
                match r.by_stat.get_mut(stat.as_str()) {
                    Some(n) => *n += 1,
                    None => _ = r.by_stat.insert(stat.as_str().to_string(), 1),
                }
            }
            let correlated = matches!(m.correlation, Some(Correlation::Matched(_)));
            match &m.correlation {
                Some(Correlation::Matched(_)) => r.correlated += 1,
                Some(Correlation::Duplicate(_)) => r.duplicate += 1,
                Some(Correlation::Early) => r.early += 1,
                Some(Correlation::Unmatched(_)) | None => r.uncorrelated += 1,
            }
            m.ack();
            correlated
        }
        IncomingEvent::LateMatch(_) => {
            r.correlated += 1;
            true
        }
        IncomingEvent::Unmatched(_) => {
            r.uncorrelated += 1;
            false
        }
        _ => false,
    }
}

/// A one-line progress bar on stderr, only when stderr is a terminal.
fn show_progress(done: Arc<AtomicUsize>, total: u64) -> Option<tokio::task::JoinHandle<()>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            let d = done.load(Ordering::Relaxed) as u64;
            let pct = d * 100 / total.max(1);
            let filled = (pct / 5) as usize;
            eprint!(
                "\r[{}{}] {d}/{total} PDUs",
                "#".repeat(filled),
                " ".repeat(20 - filled.min(20))
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }))
}

/// User + system CPU time of this process, from /proc (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based) of the whole line: 11 and 12 here.
    // Linux reports them in USER_HZ, which is 100 on every supported architecture.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size in KiB (VmHWM), from /proc (Linux; 0 elsewhere).
fn max_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_the_nearest_rank_of_the_sorted_latencies() {
        let mut lat: Vec<u32> = (1..=1000).rev().map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&mut lat, 0.5), 501.0);
        assert_eq!(percentile_ms(&mut lat, 0.99), 990.0);
        assert_eq!(percentile_ms(&mut lat, 1.0), 1000.0);
        assert_eq!(percentile_ms(&mut [], 0.99), 0.0);
    }

    #[test]
    fn each_message_gets_the_handset_format_would_give_it() {
        for i in [0, 7, 12_345_678, 99_999_999, 100_000_000, 123_456_789_012, u64::MAX] {
            let expected = format!("8190{:08}", i % 100_000_000);
            assert_eq!(handset(i), expected.as_bytes(), "message {i}");
        }
    }
}
