//! `kill -9` in the middle of a batch, then a restart: nothing accepted is lost and nothing
//! is sent twice, counted at the simulated handsets. This runs the real `smppd` binary.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(config: &std::path::Path, log: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_smppd"))
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("smppd starts")
}

async fn wait_ready(addr: std::net::SocketAddr) {
    let start = Instant::now();
    loop {
        if let Ok(s) = tokio::net::TcpStream::connect(addr).await {
            drop(s);
            if request(addr, "GET", "/readyz", None, &[], "").await.0 == 200 {
                return;
            }
        }
        assert!(start.elapsed() < T, "smppd did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status(addr: std::net::SocketAddr, id: &str) -> Value {
    let (code, v) = request(addr, "GET", &format!("/v1/messages/{id}"), Some(KEY), &[], "").await;
    assert_eq!(code, 200, "message {id} must exist after the crash: {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_batch_then_restart_loses_nothing_and_sends_nothing_twice() {
    let mut cfg = sim_config(&["docomo"]);
    cfg.carriers[0].faults.response_delay_ms = 2;
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let toml = daemon_toml(&sim, &dir.path().join("smppd.db"), "")
        .replace("listen = \"127.0.0.1:0\"", &format!("listen = \"127.0.0.1:{port}\""))
        .replace("synchronous = false", "synchronous = true");
    let config = dir.path().join("smppd.toml");
    std::fs::write(&config, toml).unwrap();

    let mut child = spawn(&config, &dir.path().join("first.log"));
    wait_ready(addr).await;
    let n = 600;
    let messages: Vec<Value> = (0..n)
        .map(|i| {
            message(&format!("090{:08}", 60_000_000 + i), "fraud_alert", &format!("alert {i}"))
        })
        .collect();
    let (code, reply) = request(
        addr,
        "POST",
        "/v1/messages:batch",
        Some(KEY),
        &[],
        &json!({ "messages": messages }).to_string(),
    )
    .await;
    assert_eq!(code, 202, "{reply}");
    let ids: Vec<String> = reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), n);
    within(T, async {
        while sim.stats().carrier("docomo").submits < 100 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    child.kill().unwrap(); // SIGKILL: no shutdown code runs
    child.wait().unwrap();
    let at_kill = sim.stats().carrier("docomo").submits;
    assert!(at_kill < n as u64, "killed mid-batch ({at_kill} of {n} sent)");

    let mut child = spawn(&config, &dir.path().join("second.log"));
    wait_ready(addr).await;
    let (mut delivered, mut unknown) = (0, 0);
    for id in &ids {
        let start = Instant::now();
        let v = loop {
            let v = status(addr, id).await;
            let s = v["status"].as_str().unwrap().to_string();
            if is_final(&s) || s == "unknown" {
                break v;
            }
            assert!(start.elapsed() < T, "message {id} stuck: {v}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let to = v["to"].as_str().unwrap().trim_start_matches('+');
        let copies = sim.messages(None, to).len();
        match v["status"].as_str().unwrap() {
            "delivered" => {
                delivered += 1;
                assert_eq!(copies, 1, "delivered exactly once: {v}");
            }
            "unknown" => {
                unknown += 1;
                assert!(copies <= 1, "never sent twice: {v}");
            }
            other => panic!("unexpected status {other}: {v}"),
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Only what was claimed at the kill can be unknown: at most one window.
    assert!(unknown <= 20, "{unknown} unknown, {delivered} delivered");
    assert_eq!(delivered + unknown, n);
    sim.shutdown().await;
}
