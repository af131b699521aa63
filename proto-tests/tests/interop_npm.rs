//! Our ESME client against an SMSC not written here: the npm `smpp` package
//! (`interop/smsc.js`). `.ci/run` installs it (`npm ci --prefix proto-tests/interop`) and sets
//! SMPP_INTEROP_REQUIRED=1, so in CI a missing peer fails the test instead of skipping it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use smpp_codec::{COctetString, ShortMessage, SubmitSm, Tlvs};
use smpp_tokio::{connect, Correlation, EsmeConfig, IncomingEvent};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const WAIT: Duration = Duration::from_secs(20);

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Starts `node smsc.js` and returns it with its port, or `None` (skip) when node or the
/// package is missing and CI does not require them.
async fn start_node_smsc() -> Option<(Child, u16)> {
    let dir = interop_dir();
    let installed = dir.join("node_modules/smpp").exists();
    let required = std::env::var("SMPP_INTEROP_REQUIRED").is_ok_and(|v| v == "1");
    if !installed {
        assert!(!required, "npm smpp missing: run `npm ci --prefix proto-tests/interop`");
        eprintln!("SKIPPED: npm smpp not installed (npm ci --prefix proto-tests/interop)");
        return None;
    }
    let mut child = Command::new("node")
        .arg("smsc.js")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("node SMSC starts")
        .unwrap()
        .unwrap();
    let port = line.strip_prefix("PORT ").expect("PORT line").trim().parse().unwrap();
    Some((child, port))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_esme_submits_and_correlates_receipts_from_the_npm_smpp_smsc() {
    let Some((_node, port)) = start_node_smsc().await else { return };
    let config = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    let (client, conn) = connect(config).unwrap();
    tokio::spawn(conn);
    let mut incoming = client.incoming().unwrap();
    tokio::time::timeout(WAIT, client.ready()).await.expect("bound in time").unwrap();

    let mut ids = Vec::new();
    for i in 0..20 {
        let sm = SubmitSm {
            destination_addr: COctetString::from_static("819012345678"),
            source_addr: COctetString::from_static("TESTCARD"),
            registered_delivery: 1,
            short_message: ShortMessage::new(format!("interop {i}").into_bytes()).unwrap(),
            ..Default::default()
        };
        let s = tokio::time::timeout(WAIT, client.submit(sm, Tlvs::new())).await.unwrap().unwrap();
        ids.push(s.message_id);
    }
    assert_eq!(ids[0], "38601fa", "the node SMSC numbers from 0x38601fa in hex");

    let mut matched = 0;
    while matched < ids.len() {
        let ev =
            tokio::time::timeout(WAIT, incoming.recv()).await.expect("receipts in time").unwrap();
        match ev {
            IncomingEvent::Message(m) => {
                if let Some(Correlation::Matched(x)) = &m.correlation {
                    assert!(ids.contains(&x.message_id));
                    matched += 1;
                }
                m.ack();
            }
            IncomingEvent::LateMatch(_) => matched += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(client.correlation_counters().matched as usize, ids.len());
    tokio::time::timeout(WAIT, client.unbind()).await.expect("unbinds in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_refused_by_the_npm_smpp_smsc() {
    let Some((_node, port)) = start_node_smsc().await else { return };
    let config = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "wrong").unwrap();
    let (client, conn) = connect(config).unwrap();
    tokio::spawn(conn);
    let err = tokio::time::timeout(WAIT, client.ready()).await.unwrap().unwrap_err();
    assert_eq!(err.status(), Some(smpp_codec::CommandStatus::ESME_RINVPASWD));
}
