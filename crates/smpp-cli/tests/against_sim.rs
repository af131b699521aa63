//! `smpp send` and `smpp bench` as a user runs them, against the in-repo SMSC simulator on
//! 127.0.0.1 (bounded counts, every wait bounded).

use std::process::Command;

use serde_json::Value;
use smpp_sim::{SimConfig, Simulator};

fn run_smpp(args: &[String]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_smpp")).args(args).output().expect("smpp runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), serde_json::from_str(last).unwrap())
}

fn args(port: u16, rest: &[&str]) -> Vec<String> {
    let mut v: Vec<String> =
        ["--port", &port.to_string(), "--system-id", "ISSUER01", "--password", "secret"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    v.extend(rest.iter().map(|s| s.to_string()));
    v
}

async fn sim() -> smpp_sim::RunningSim {
    let config =
        SimConfig::single("docomo", "127.0.0.1:0".parse().unwrap(), &[("ISSUER01", "secret")]);
    Simulator::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_splits_japanese_text_and_returns_receipts() {
    let sim = sim().await;
    let port = sim.addr("docomo").unwrap().port();
    let text = "ご利用代金のお支払い期日を過ぎています。".repeat(5); // 100 UCS-2 chars
    let mut a = vec!["send".to_string()];
    a.extend(args(
        port,
        &[
            "--from",
            "TESTCARD",
            "--to",
            "+819012345678",
            "--text",
            &text,
            "--dlr",
            "--dlr-timeout",
            "20",
        ],
    ));
    let (code, v) = tokio::task::spawn_blocking(move || run_smpp(&a)).await.unwrap();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["encoding"], "ucs2");
    assert_eq!(v["method"], "udh16");
    assert_eq!(v["parts"], 2);
    assert_eq!(v["billable"], 2, "docomo bills 71-132 characters as 2");
    let ids = v["message_ids"].as_array().unwrap();
    let receipts = v["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), ids.len());
    assert!(receipts.iter().all(|r| r["final"] == true && ids.contains(&r["message_id"])));
    let handset = sim.messages(Some("docomo"), "819012345678");
    assert!(
        handset.iter().any(|m| m.text.as_deref() == Some(text.as_str())),
        "the handset got the whole text"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_reports_every_submit_and_receipt_correlated() {
    let sim = sim().await;
    let port = sim.addr("docomo").unwrap().port();
    let mut a = vec!["bench".to_string()];
    a.extend(args(
        port,
        &[
            "--count",
            "500",
            "--window",
            "20",
            "--binds",
            "2",
            "--threads",
            "2",
            "--long",
            "--ucs2",
            "--json",
        ],
    ));
    let (code, v) = tokio::task::spawn_blocking(move || run_smpp(&a)).await.unwrap();
    assert_eq!(code, 0, "{v}");
    let pdus = v["pdus"].as_u64().unwrap();
    assert!(pdus > 500, "--long makes several PDUs per message");
    assert_eq!(v["submit"]["ok"], pdus);
    assert_eq!(v["dlr"]["correlated"], pdus);
    assert_eq!(v["dlr"]["uncorrelated"], 0);
    assert!(v["resp_latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    assert_eq!(v["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_over_tx_rx_pairs_correlates_receipts_from_the_receiver() {
    let sim = sim().await;
    let port = sim.addr("docomo").unwrap().port();
    let mut a = vec!["bench".to_string()];
    a.extend(args(port, &["--count", "300", "--window", "10", "--bind", "tx+rx", "--json"]));
    let (code, v) = tokio::task::spawn_blocking(move || run_smpp(&a)).await.unwrap();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["dlr"]["correlated"], 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_fails_with_a_clear_error_on_wrong_credentials() {
    let sim = sim().await;
    let port = sim.addr("docomo").unwrap().port();
    let a: Vec<String> = [
        "bench",
        "--port",
        &port.to_string(),
        "--system-id",
        "ISSUER01",
        "--password",
        "nope",
        "--count",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_smpp")).args(&a).output().unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ESME_RINVPASWD"), "{err}");
}
