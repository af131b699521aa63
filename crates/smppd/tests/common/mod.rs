//! Test harness: simulated carriers, a daemon on a temporary database, an HTTP client and a
//! webhook receiver, all on 127.0.0.1. Every wait is bounded.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use smpp_sim::{RunningSim, SimConfig, Simulator};
use smppd::{Config, Daemon};

pub const KEY: &str = "test-key-0123456789abcdef";
pub const OTHER_KEY: &str = "other-key-0123456789abcdef";
pub const SECRET: &str = "webhook-secret-0123456789";

/// The simulated carriers: each carrier named gets an account cardco/secret on a free port.
pub fn sim_config(carriers: &[&str]) -> SimConfig {
    let mut config = SimConfig::default();
    for name in carriers {
        let mut c = smpp_sim::CarrierConfig::new(name);
        c.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        c.account("cardco", "secret").tps = 0.0;
        c.receipts.delay_ms = 20;
        config.carriers.push(c);
    }
    config
}

pub async fn start_sim(config: SimConfig) -> RunningSim {
    Simulator::start(config).await.expect("simulator starts")
}

/// Config text for a daemon talking to `sim`'s carriers. `extra` is appended (webhook, …).
pub fn daemon_toml(sim: &RunningSim, db: &Path, extra: &str) -> String {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace_secs = 5\n[database]\npath = {db:?}\nsynchronous = false\n\
         [[api_keys]]\nname = \"maker\"\nkey = \"{KEY}\"\n[[api_keys]]\nname = \"checker\"\nkey = \"{OTHER_KEY}\"\n"
    );
    text.push_str(extra);
    text.push('\n');
    for (carrier, addr) in sim.addrs() {
        text.push_str(&format!(
            "[carriers.{carrier}]\n[[carriers.{carrier}.accounts]]\nname = \"{carrier}-1\"\n\
             host = \"127.0.0.1\"\nport = {}\nsystem_id = \"cardco\"\npassword = \"secret\"\n\
             window = 20\nresponse_timeout_secs = 2\nenquire_link_secs = 5\n",
            addr.port()
        ));
    }
    text
}

pub async fn start_daemon(toml: &str) -> Daemon {
    start_daemon_with_clock(toml, Arc::new(smppd::clock::SystemClock)).await
}

/// A daemon whose "now" is `clock` (a `ManualClock` in tests of quiet hours and deadlines).
pub async fn start_daemon_with_clock(toml: &str, clock: Arc<dyn smppd::clock::Clock>) -> Daemon {
    let config = Config::parse(toml, "test.toml", &|_| None).expect("valid config");
    let store = smppd::open_store(&config).expect("store opens");
    let d = Daemon::start_with_clock(config, store, clock).await.expect("daemon starts");
    within(Duration::from_secs(10), async {
        while !d.app().ready() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    d
}

pub async fn within<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, f).await.expect("in time")
}

/// A tiny HTTP/1.1 client for the API.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    request_bytes(addr, method, path, key, headers, body.as_bytes()).await
}

/// [`request`] with a body that need not be UTF-8 (a Shift_JIS CSV file).
pub async fn request_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    if let Some(k) = key {
        req.push_str(&format!("authorization: Bearer {k}\r\n"));
    }
    for (h, v) in headers {
        req.push_str(&format!("{h}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut req = req.into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).await.unwrap();
    let mut out = Vec::new();
    within(Duration::from_secs(30), s.read_to_end(&mut out)).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status: u16 = text[9..12].parse().unwrap();
    let (head, raw) = text.split_once("\r\n\r\n").unwrap();
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(raw)
    } else {
        raw.to_string()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

pub async fn post(d: &Daemon, path: &str, body: Value) -> (u16, Value) {
    request(d.addr(), "POST", path, Some(KEY), &[], &body.to_string()).await
}

pub async fn get(d: &Daemon, path: &str) -> (u16, Value) {
    request(d.addr(), "GET", path, Some(KEY), &[], "").await
}

/// Any method, as the API key `key`, with a JSON body (`Value::Null` sends none).
pub async fn call(d: &Daemon, method: &str, path: &str, key: &str, body: Value) -> (u16, Value) {
    let text = if body.is_null() { String::new() } else { body.to_string() };
    request(d.addr(), method, path, Some(key), &[], &text).await
}

pub fn message(to: &str, class: &str, text: &str) -> Value {
    json!({"to": to, "from": "CARDCO", "text": text, "class": class})
}

/// Polls GET /v1/messages/{id} until `done` says so.
pub async fn wait_status(
    d: &Daemon,
    id: &str,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let (code, v) = get(d, &format!("/v1/messages/{id}")).await;
        assert_eq!(code, 200, "{v}");
        if done(v["status"].as_str().unwrap_or("")) {
            return v;
        }
        if start.elapsed() >= limit {
            let (_, metrics) = get(d, "/metrics").await;
            let receipts: Vec<&str> = metrics
                .as_str()
                .unwrap_or("")
                .lines()
                .filter(|l| l.starts_with("smppd_receipts") || l.starts_with("smppd_submit"))
                .collect();
            panic!(
                "message {id} still {} after {limit:?}: {v}\n{}",
                v["status"],
                receipts.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn is_final(s: &str) -> bool {
    matches!(s, "delivered" | "undeliverable" | "expired" | "rejected" | "failed" | "cancelled")
}

/// Collects webhook POSTs (body, signature header).
#[derive(Clone, Default)]
pub struct Hooks(pub Arc<Mutex<Vec<(Value, String)>>>);

impl Hooks {
    pub fn all(&self) -> Vec<(Value, String)> {
        self.0.lock().unwrap().clone()
    }
}

/// A webhook receiver on a free port; fails the first `fail_first` requests with 500.
pub async fn webhook_receiver(fail_first: usize) -> (SocketAddr, Hooks) {
    use axum::http::{HeaderMap, StatusCode};
    let hooks = Hooks::default();
    let seen = Arc::new(Mutex::new(0usize));
    let h = hooks.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let h = h.clone();
            let seen = seen.clone();
            async move {
                let mut n = seen.lock().unwrap();
                *n += 1;
                if *n <= fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let sig = headers
                    .get("x-smppd-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                h.0.lock().unwrap().push((serde_json::from_str(&body).unwrap_or(Value::Null), sig));
                StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, hooks)
}

pub fn webhook_toml(addr: SocketAddr) -> String {
    format!("[webhook]\nurl = \"http://{addr}/hook\"\nsecret = \"{SECRET}\"\nbackoff_ms = 50\nmax_backoff_ms = 200\n")
}
