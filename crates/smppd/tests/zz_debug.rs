//! The daemon under trouble: restarts, dropped connections, throttling, receipts before
//! their resps and receipts 72 (simulated) hours late.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use smpp_sim::{Fault, FaultRequest};

const T: Duration = Duration::from_secs(30);

/// `n` messages of `class`, each to its own number (so the simulator's per-handset log
/// counts deliveries per message).
fn batch(n: usize, class: &str, base: u32) -> Value {
    let messages: Vec<Value> = (0..n)
        .map(|i| message(&format!("090{:08}", base as usize + i), class, &format!("message {i}")))
        .collect();
    json!({ "messages": messages })
}

fn ids(reply: &Value) -> Vec<String> {
    reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn statuses(d: &smppd::Daemon, ids: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        out.push(wait_status(d, id, T, |s| is_final(s) || s == "unknown").await);
    }
    out
}

fn handset(v: &Value) -> String {
    v["to"].as_str().unwrap().trim_start_matches('+').to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_before_their_resps_are_correlated() {
    let mut cfg = sim_config(&["rakuten"]);
    cfg.carriers[0].receipts.early_fraction = 1.0;
    cfg.carriers[0].receipts.early_resp_delay_ms = 30;
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap(); let dir = { let p = dir.keep(); eprintln!("DBDIR {}", p.display()); p };
    let d = start_daemon(&daemon_toml(&sim, &dir.join("db"), "")).await;
    let (_, reply) = post(&d, "/v1/messages:batch", batch(50, "otp", 50_000_000)).await;
    for v in statuses(&d, &ids(&reply)).await {
        assert_eq!(v["status"], "delivered", "{v}");
    }
    let (_, m) = request(d.addr(), "GET", "/metrics", None, &[], "").await;
    assert!(
        m.as_str().unwrap().contains("outcome=\"held\""),
        "early receipts were held, then matched"
    );
    d.shutdown().await;
    sim.shutdown().await;
}

