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
async fn graceful_restart_mid_batch_sends_every_message_exactly_once() {
    let mut cfg = sim_config(&["docomo"]);
    cfg.carriers[0].faults.response_delay_ms = 5; // keep the batch in flight for a while
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let toml = daemon_toml(&sim, &dir.path().join("db"), "");
    let d = start_daemon(&toml).await;
    let (code, reply) = post(&d, "/v1/messages:batch", batch(300, "fraud_alert", 10_000_000)).await;
    assert_eq!(code, 202);
    let ids = ids(&reply);
    within(T, async {
        while sim.stats().carrier("docomo").submits < 50 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    d.shutdown().await; // mid-batch
    let sent_before = sim.stats().carrier("docomo").submits;
    assert!(sent_before < 300, "the restart happened mid-batch ({sent_before} sent)");
    let d = start_daemon(&toml).await;
    for v in statuses(&d, &ids).await {
        assert_eq!(v["status"], "delivered", "{v}");
        assert_eq!(sim.messages(None, &handset(&v)).len(), 1, "exactly once: {v}");
    }
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_leave_unknowns_for_dunning_and_resend_otps() {
    let mut cfg = sim_config(&["docomo"]);
    cfg.carriers[0].faults.response_delay_ms = 20;
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let d = start_daemon(&daemon_toml(&sim, &dir.path().join("db"), "")).await;
    let (_, a) = post(&d, "/v1/messages:batch", batch(100, "fraud_alert", 20_000_000)).await;
    let (_, b) = post(&d, "/v1/messages:batch", batch(100, "otp", 30_000_000)).await;
    within(T, async {
        while sim.stats().carrier("docomo").submits < 20 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    sim.set_fault(&FaultRequest::all(Fault::Drop)).unwrap();
    let mut unknown = 0;
    for v in statuses(&d, &ids(&a)).await {
        let n = sim.messages(None, &handset(&v)).len();
        match v["status"].as_str().unwrap() {
            "delivered" => assert_eq!(n, 1, "{v}"),
            "unknown" => {
                unknown += 1;
                assert!(n <= 1, "an unknown fraud alert is never resent: {v}");
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    for v in statuses(&d, &ids(&b)).await {
        assert_eq!(v["status"], "delivered", "OTPs whose outcome was unknown are resent: {v}");
    }
    // The operator resends one unknown message and abandons another.
    let (_, first) = get(&d, &format!("/v1/messages/{}", ids(&a)[0])).await;
    if unknown > 0 {
        let unknown_ids: Vec<String> = {
            let mut v = Vec::new();
            for id in ids(&a) {
                let (_, m) = get(&d, &format!("/v1/messages/{id}")).await;
                if m["status"] == "unknown" {
                    v.push(id);
                }
            }
            v
        };
        let (code, r) = post(
            &d,
            &format!("/v1/messages/{}/resolve", unknown_ids[0]),
            json!({"decision": "resend"}),
        )
        .await;
        assert_eq!((code, r["status"].as_str()), (200, Some("queued")), "{r}");
        wait_status(&d, &unknown_ids[0], T, |s| s == "delivered").await;
        if let Some(id) = unknown_ids.get(1) {
            let (code, r) =
                post(&d, &format!("/v1/messages/{id}/resolve"), json!({"decision": "abandon"}))
                    .await;
            assert_eq!((code, r["status"].as_str()), (200, Some("failed")), "{r}");
        }
    }
    let (code, _) =
        post(&d, &format!("/v1/messages/{}/resolve", ids(&a)[0]), json!({"decision": "maybe"}))
            .await;
    assert_eq!(code, 400, "{first}");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_storm_slows_sending_but_loses_and_duplicates_nothing() {
    let mut cfg = sim_config(&["au"]);
    let acc = &mut cfg.carriers[0].accounts[0];
    acc.tps = 500.0;
    acc.burst = Some(10);
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let d = start_daemon(&daemon_toml(&sim, &dir.path().join("db"), "")).await;
    let (_, reply) = post(&d, "/v1/messages:batch", batch(100, "fraud_alert", 40_000_000)).await;
    for v in statuses(&d, &ids(&reply)).await {
        assert_eq!(v["status"], "delivered", "{v}");
        assert_eq!(sim.messages(None, &handset(&v)).len(), 1, "{v}");
    }
    let throttled = sim.stats().carrier("au").errors.get("ESME_RTHROTTLED").copied().unwrap_or(0);
    assert!(throttled > 0, "the simulator throttled: {:?}", sim.stats().carrier("au").errors);
    tokio::time::sleep(Duration::from_millis(1200)).await; // metrics refresh once a second
    let (_, m) = request(d.addr(), "GET", "/metrics", None, &[], "").await;
    let line = m
        .as_str()
        .unwrap()
        .lines()
        .find(|l| l.starts_with("smppd_throttles_total{"))
        .unwrap_or_default()
        .to_string();
    let count: u64 = line.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(count > 0, "throttles counted: {line}");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_before_their_resps_are_correlated() {
    let mut cfg = sim_config(&["rakuten"]);
    cfg.carriers[0].receipts.early_fraction = 1.0;
    cfg.carriers[0].receipts.early_resp_delay_ms = 30;
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let d = start_daemon(&daemon_toml(&sim, &dir.path().join("db"), "")).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_72_hours_late_and_after_a_restart_still_resolves_its_message() {
    let mut cfg = sim_config(&["docomo"]);
    cfg.carriers[0].handsets.unreachable = vec!["819099990000".into()];
    // docomo retries for 72 h; 72 simulated hours pass in about 3 real seconds.
    cfg.carriers[0].handsets.time_compression = 72.0 * 3600.0 / 3.0;
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let toml = daemon_toml(&sim, &dir.path().join("db"), "");
    let d = start_daemon(&toml).await;
    let (_, v) =
        post(&d, "/v1/messages", message("09099990000", "fraud_alert", "are you there?")).await;
    let id = v["id"].as_str().unwrap().to_string();
    wait_status(&d, &id, T, |s| s == "submitted").await;
    d.shutdown().await; // the receipt comes while we are down: the SMSC keeps it
    tokio::time::sleep(Duration::from_millis(500)).await;
    let d = start_daemon(&toml).await;
    let v = wait_status(&d, &id, T, |s| s == "undeliverable").await;
    assert_eq!(v["segment_details"][0]["receipt_state"], "UNDELIV", "{v}");
    let lag = v["segment_details"][0]["receipt_at"].as_str().unwrap()
        > v["segment_details"][0]["submitted_at"].as_str().unwrap();
    assert!(lag, "{v}");
    d.shutdown().await;
    sim.shutdown().await;
}

/// One carrier (au) that answers submits with hex ids and writes the receipt text's id in
/// zero-padded decimal, with no receipted_message_id TLV: the classic mismatch.
fn hex_resp_decimal_receipt_sim() -> smpp_sim::SimConfig {
    let mut cfg = sim_config(&["au"]);
    let carrier = &mut cfg.carriers[0];
    carrier.message_id_format = smpp_sim::MessageIdFormat::Hex;
    carrier.receipt_id_format = Some(smpp_sim::MessageIdFormat::Padded);
    carrier.message_id_start = 0x38601fa;
    carrier.receipts.tlv_receipted_message_id = false;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hex_resp_ids_with_decimal_receipt_text_are_learned_after_the_grace_period() {
    let sim = start_sim(hex_resp_decimal_receipt_sim()).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(smppd::clock::ManualClock::new(smppd::clock::now_ms()));
    let toml = daemon_toml(&sim, &dir.path().join("db"), "");
    let d = start_daemon_with_clock(&toml, clock.clone()).await;
    let (_, reply) = post(&d, "/v1/messages:batch", batch(3, "otp", 60_000_000)).await;
    let held = || async {
        let (_, m) = request(d.addr(), "GET", "/metrics", None, &[], "").await;
        let held: f64 = m
            .as_str()
            .unwrap_or("")
            .lines()
            .filter(|l| l.starts_with("smppd_receipts_total") && l.contains("outcome=\"held\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        held >= 3.0
    };
    within(T, async {
        while !held().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    for id in ids(&reply) {
        let (_, v) = get(&d, &format!("/v1/messages/{id}")).await;
        assert_eq!(v["status"], "submitted", "not read across bases before the grace: {v}");
    }
    // Default response timeout 30 s: the grace is one minute.
    clock.advance(61_000);
    for v in statuses(&d, &ids(&reply)).await {
        assert!(matches!(v["status"].as_str(), Some("delivered" | "undeliverable")), "{v}");
        let sent = sim.messages(None, &handset(&v));
        assert_eq!(sent.len(), 1, "{v}");
        assert_eq!(v["segment_details"][0]["message_id"], sent[0].message_ids[0], "{v}");
    }
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_that_never_matched_are_forgotten_after_the_retention() {
    use smppd_store::{ReceiptIn, SqliteOptions, SqliteStore, Store};
    const DAY: i64 = 86_400_000;
    let now = smppd::clock::now_ms();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let held = |id: &str, at: i64| ReceiptIn {
        account: "cardco".into(),
        smsc_id: id.into(),
        state: "DELIVRD".into(),
        is_final: true,
        delivered: true,
        error: None,
        at,
    };
    let store = SqliteStore::open(SqliteOptions::new(&db)).unwrap();
    store
        .apply_receipts(&[held("foreign-8d", now - 8 * DAY), held("foreign-1d", now - DAY)])
        .unwrap();
    drop(store);

    let sim = start_sim(sim_config(&["docomo"])).await;
    let d = start_daemon(&daemon_toml(&sim, &db, "")).await;
    // The daemon purges at start: the 8-day-old one goes, the recent one stays (7 days).
    let held = || async {
        let (_, m) = request(d.addr(), "GET", "/metrics", None, &[], "").await;
        let text = m.as_str().unwrap_or("").to_string();
        text.lines().find_map(|l| l.strip_prefix("smppd_receipts_held ")?.parse::<u64>().ok())
    };
    within(T, async {
        while held().await != Some(1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_message_id_format_correlates_across_bases_at_once() {
    let sim = start_sim(hex_resp_decimal_receipt_sim()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut toml = daemon_toml(&sim, &dir.path().join("db"), "");
    toml.push_str("message_id_format = \"hex_resp_decimal_receipt\"\n");
    let d = start_daemon(&toml).await;
    let (_, reply) = post(&d, "/v1/messages:batch", batch(3, "otp", 61_000_000)).await;
    // No clock moves here: the format is known, so no receipt waits for a grace period.
    for v in statuses(&d, &ids(&reply)).await {
        assert!(matches!(v["status"].as_str(), Some("delivered" | "undeliverable")), "{v}");
    }
    d.shutdown().await;
    sim.shutdown().await;
}
