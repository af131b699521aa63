//! ESMEs not written here against our SMSC simulator (`smpp-sim`): the npm `smpp` package
//! (`interop/esme_node.js`) and python `smpplib` from PyPI (`interop/esme_smpplib.py`). Each
//! binds as a transceiver and submits 3 plain GSM, 3 UCS-2 Japanese and one concatenated (UDH)
//! Japanese message with registered_delivery 1, and must get a receipt for every submitted PDU.
//! The simulator's own view (stats, what the handsets received) is checked against the ESME's.
//!
//! `.ci/run` installs both peers (`npm ci --prefix proto-tests/interop`,
//! `python3 -m pip install -r proto-tests/interop/requirements.txt`) and sets
//! SMPP_INTEROP_REQUIRED=1, so in CI a missing peer fails the test instead of skipping it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use smpp_sim::{CarrierStats, RunningSim, SimConfig, Simulator};
use tokio::process::Command;

/// Longest an ESME script may run (each gives up by itself after 20 s).
const SCRIPT_WAIT: Duration = Duration::from_secs(45);
const CARRIER: &str = "docomo";
const SYSTEM_ID: &str = "ISSUER01";
const PASSWORD: &str = "secret";

// What both scripts send (kept identical in esme_node.js and esme_smpplib.py).
const SOURCE: &str = "TESTCARD";
const PLAIN_TO: &str = "819011110001";
const UCS2_TO: &str = "819011110002";
const CONCAT_TO: &str = "819011110003";
const PLAIN: [&str; 3] = [
    "Card 1234: 1,000 JPY @ Shop_A {ok}",
    "Card 1234: payment of 2,500 JPY accepted",
    "Your code is 482913",
];
const UCS2: [&str; 3] = [
    "ご利用ありがとうございます。カード番号下4桁1234",
    "お支払い金額：1,000円（株式会社テスト）",
    "認証コード：482913（5分間有効）",
];
const LONG: &str = concat!(
    "いつも当社カードをご利用いただき、誠にありがとうございます。",
    "本日、お客様のカード（下4桁1234）で、オンラインショップにて合計12,345円のお支払いがありました。",
    "お心当たりのない場合は、裏面に記載のカードデスク（24時間受付）まで至急ご連絡ください。",
    "なお、このメッセージへの返信はできません。今後ともよろしくお願い申し上げます。",
);
/// 166 UCS-2 characters in parts of 67 (134 octets behind a 6-octet UDH).
const LONG_PARTS: usize = 3;
const SUBMITS: usize = PLAIN.len() + UCS2.len() + LONG_PARTS;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

fn required() -> bool {
    std::env::var("SMPP_INTEROP_REQUIRED").is_ok_and(|v| v == "1")
}

/// `Some(())` when the peer is usable; otherwise skips (locally) or fails (CI).
fn available(peer: &str, missing: Option<String>) -> Option<()> {
    match missing {
        None => Some(()),
        Some(why) => {
            assert!(!required(), "{peer} missing: {why}");
            eprintln!("SKIPPED: {peer} missing: {why}");
            None
        }
    }
}

/// Why `program args` cannot serve as a peer, if it cannot.
async fn probe(program: &str, args: &[&str], hint: &str) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(interop_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(20), out).await {
        Err(_) => Some(format!("`{program}` did not answer within 20 s")),
        Ok(Err(e)) => Some(format!("cannot run `{program}`: {e} ({hint})")),
        Ok(Ok(o)) if !o.status.success() => Some(format!(
            "`{program} {}` failed: {} ({hint})",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(Ok(_)) => None,
    }
}

async fn start_sim() -> RunningSim {
    let mut config =
        SimConfig::single(CARRIER, "127.0.0.1:0".parse().unwrap(), &[(SYSTEM_ID, PASSWORD)]);
    config.carriers[0].receipts.delay_ms = 10;
    Simulator::start(config).await.expect("simulator starts")
}

/// What an ESME script printed: `{"submitted":N,"receipts":M,"ids":[...],"matched":K,...}`.
#[derive(Debug)]
struct Report {
    submitted: usize,
    receipts: usize,
    matched: usize,
    ids: Vec<String>,
    raw: Value,
}

/// Runs one ESME script against `sim`, bounded, and returns its report once it exited 0.
async fn run_esme(sim: &RunningSim, program: &str, script: &str) -> Report {
    let port = sim.addr(CARRIER).unwrap().port().to_string();
    let child = Command::new(program)
        .arg(script)
        .args(["127.0.0.1", &port, SYSTEM_ID, PASSWORD])
        .current_dir(interop_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{program} {script} runs: {e}"));
    // On timeout the future, and with it the child, is dropped: kill_on_drop ends it.
    let out = tokio::time::timeout(SCRIPT_WAIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{script} exits within {SCRIPT_WAIT:?}"))
        .expect("script output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line =
        stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_else(|| {
            panic!("{script} printed no JSON line\nstdout: {stdout}\nstderr: {stderr}")
        });
    let raw: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{script} printed bad JSON ({e}): {line}"));
    assert!(
        out.status.success(),
        "{script} failed ({}): {line}\nstderr: {stderr}\nsim stats: {:?}",
        out.status,
        sim.stats().carrier(CARRIER)
    );
    let count = |k: &str| {
        raw[k].as_u64().unwrap_or_else(|| panic!("{script}: no number {k:?} in {line}")) as usize
    };
    let ids = raw["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("{script}: no ids in {line}"))
        .iter()
        .map(|v| v.as_str().expect("ids are strings").to_owned())
        .collect();
    Report {
        submitted: count("submitted"),
        receipts: count("receipts"),
        matched: count("matched"),
        ids,
        raw,
    }
}

/// Waits (bounded) until the simulator has seen every receipt acknowledged: the ESME may exit
/// before the simulator read its last deliver_sm_resp.
async fn settled_stats(sim: &RunningSim, acked: u64) -> CarrierStats {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let s = sim.stats().carrier(CARRIER);
        if s.receipts_acked >= acked || tokio::time::Instant::now() >= deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Everything the ESME says and everything the simulator saw must agree: all submits
/// accepted, every one receipted and matched, the handsets got the texts, the long one
/// reassembled exactly.
async fn check_exchange(sim: &RunningSim, esme: &str, report: &Report, plain_codings: [u8; 3]) {
    let r = report;
    assert_eq!(r.submitted, SUBMITS, "{esme}: {}", r.raw);
    assert_eq!(r.ids.len(), r.submitted, "{esme}: every submit accepted: {}", r.raw);
    assert!(r.receipts >= r.submitted, "{esme}: a receipt per submit: {}", r.raw);
    assert_eq!(r.matched, r.submitted, "{esme}: every receipt matched: {}", r.raw);
    let mut unique = r.ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), r.ids.len(), "{esme}: message_ids are unique: {:?}", r.ids);

    let n = SUBMITS as u64;
    let s = settled_stats(sim, n).await;
    assert_eq!(s.binds_total, 1, "{esme}: {s:?}");
    assert_eq!(s.binds_refused, 0, "{esme}: {s:?}");
    assert_eq!(s.submits, n, "{esme}: {s:?}");
    assert_eq!(s.parts, n, "{esme}: {s:?}");
    assert_eq!(s.messages, (PLAIN.len() + UCS2.len() + 1) as u64, "{esme}: {s:?}");
    assert_eq!(s.concat_incomplete, 0, "{esme}: {s:?}");
    assert!(s.receipts_sent >= n, "{esme}: {s:?}");
    assert_eq!(s.receipts_acked, s.receipts_sent, "{esme}: every receipt acknowledged: {s:?}");
    assert_eq!(s.receipts_retried + s.receipts_dropped, 0, "{esme}: {s:?}");
    assert_eq!(s.peer_errors, 0, "{esme}: {s:?}");
    assert!(s.errors.is_empty(), "{esme}: error responses {:?}", s.errors);

    let texts = |to: &str| {
        let mut v: Vec<(String, u8)> = sim
            .messages(Some(CARRIER), to)
            .into_iter()
            .map(|m| {
                assert_eq!(m.from, SOURCE, "{esme}: {m:?}");
                (m.text.clone().unwrap_or_default(), m.data_coding)
            })
            .collect();
        v.sort();
        v
    };
    let mut want: Vec<(String, u8)> =
        PLAIN.iter().zip(plain_codings).map(|(t, dc)| ((*t).to_owned(), dc)).collect();
    want.sort();
    assert_eq!(texts(PLAIN_TO), want, "{esme}: plain messages");
    let mut want: Vec<(String, u8)> = UCS2.iter().map(|t| ((*t).to_owned(), 8)).collect();
    want.sort();
    assert_eq!(texts(UCS2_TO), want, "{esme}: UCS-2 messages");

    let long = sim.messages(Some(CARRIER), CONCAT_TO);
    assert_eq!(long.len(), 1, "{esme}: one concatenated message: {long:?}");
    let m = &long[0];
    assert_eq!(m.text.as_deref(), Some(LONG), "{esme}: reassembled exactly");
    assert_eq!(m.data_coding, 8, "{esme}: {m:?}");
    assert_eq!(m.segments as usize, LONG_PARTS, "{esme}: {m:?}");
    assert_eq!(m.message_ids.len(), LONG_PARTS, "{esme}: {m:?}");

    // The ids the ESME got in submit_sm_resp are the simulator's, one per submitted PDU.
    let mut sim_ids: Vec<String> = [PLAIN_TO, UCS2_TO, CONCAT_TO]
        .iter()
        .flat_map(|to| sim.messages(Some(CARRIER), to))
        .flat_map(|m| m.message_ids)
        .collect();
    sim_ids.sort();
    assert_eq!(sim_ids, unique, "{esme}: submit_sm_resp ids are the simulator's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_smpp_esme_gets_every_receipt_from_the_sim() {
    let missing = if interop_dir().join("node_modules/smpp").exists() {
        probe("node", &["--version"], "install nodejs").await
    } else {
        Some("node_modules/smpp absent: run `npm ci --prefix proto-tests/interop`".into())
    };
    let Some(()) = available("npm smpp", missing) else { return };
    let sim = start_sim().await;
    let report = run_esme(&sim, "node", "esme_node.js").await;
    // npm smpp sends data_coding 0 when told to, and 0x01 (its "ASCII", GSM bytes) by itself.
    check_exchange(&sim, "npm smpp", &report, [0, 0, 1]).await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smpplib_esme_gets_every_receipt_from_the_sim() {
    let missing = probe(
        "python3",
        &["-c", "import smpplib.client, smpplib.gsm"],
        "run `python3 -m pip install -r proto-tests/interop/requirements.txt`",
    )
    .await;
    let Some(()) = available("python smpplib", missing) else { return };
    let sim = start_sim().await;
    let report = run_esme(&sim, "python3", "esme_smpplib.py").await;
    check_exchange(&sim, "python smpplib", &report, [0, 0, 0]).await;
    sim.shutdown().await;
}
