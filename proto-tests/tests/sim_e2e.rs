//! The project's own ESME client (`smpp-tokio`) against the project's SMSC simulator
//! (`smpp-sim`), one test per simulator behaviour. All on 127.0.0.1 with port 0; every wait is
//! bounded.

use std::time::{Duration, Instant};

use smpp_codec::{COctetString, CommandStatus, Npi, ShortMessage, SubmitSm, Tlvs, Ton};
use smpp_sim::{Fault, FaultRequest, MessageIdFormat, MoRequest, RunningSim, SimConfig, Simulator};
use smpp_sms::{segment, CarrierProfile, MoPart, Reassembler, ReassemblyConfig};
use smpp_tokio::{compose, connect, Correlation, EsmeClient, EsmeConfig, IncomingEvent};
use tokio::sync::mpsc::Receiver;

const WAIT: Duration = Duration::from_secs(20);

fn config(carrier: &str) -> SimConfig {
    let mut c =
        SimConfig::single(carrier, "127.0.0.1:0".parse().unwrap(), &[("ISSUER01", "secret")]);
    c.carriers[0].receipts.delay_ms = 5;
    c
}

async fn client_for(sim: &RunningSim, carrier: &str) -> (EsmeClient, Receiver<IncomingEvent>) {
    let port = sim.addr(carrier).unwrap().port();
    let mut c = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    c.throttle_pause(Duration::from_millis(20), Duration::from_millis(200));
    c.backoff(smpp_tokio::BackoffConfig {
        min: Duration::from_millis(20),
        max: Duration::from_millis(200),
        ..Default::default()
    });
    let (client, conn) = connect(c).unwrap();
    tokio::spawn(conn);
    let incoming = client.incoming().unwrap();
    tokio::time::timeout(WAIT, client.ready()).await.expect("bound in time").unwrap();
    (client, incoming)
}

fn sm(to: &'static str, text: &str) -> SubmitSm {
    SubmitSm {
        source_addr_ton: Ton::ALPHANUMERIC,
        source_addr: COctetString::from_static("TESTCARD"),
        dest_addr_ton: Ton::INTERNATIONAL,
        dest_addr_npi: Npi::ISDN,
        destination_addr: COctetString::from_static(to),
        registered_delivery: 1,
        short_message: ShortMessage::new(text.as_bytes().to_vec()).unwrap(),
        ..Default::default()
    }
}

/// Acks every message and counts correlated receipts until `n` or the time is up.
async fn correlated(rx: &mut Receiver<IncomingEvent>, n: usize) -> (usize, Vec<String>) {
    let mut got = 0;
    let mut stats = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while got < n {
        let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await else { break };
        match ev {
            IncomingEvent::Message(m) => {
                if let Some(Correlation::Matched(x)) = &m.correlation {
                    if x.receipt.is_final {
                        got += 1;
                    }
                    stats.extend(x.receipt.stat.as_ref().map(|s| s.as_str().to_string()));
                }
                m.ack();
            }
            IncomingEvent::LateMatch(x) => {
                got += 1;
                stats.extend(x.receipt.stat.as_ref().map(|s| s.as_str().to_string()));
            }
            _ => {}
        }
    }
    (got, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hex_resp_ids_and_padded_decimal_receipt_ids_correlate() {
    let mut c = config("docomo");
    c.carriers[0].message_id_format = MessageIdFormat::Hex;
    c.carriers[0].receipt_id_format = Some(MessageIdFormat::Padded);
    let sim = Simulator::start(c).await.unwrap();
    let (client, mut rx) = client_for(&sim, "docomo").await;
    for i in 0..50 {
        client.submit(sm("819012345678", &format!("m{i}")), Tlvs::new()).await.unwrap();
    }
    assert_eq!(correlated(&mut rx, 50).await.0, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_sent_before_their_resp_are_all_correlated() {
    let mut c = config("au");
    c.carriers[0].receipts.early_fraction = 1.0;
    let sim = Simulator::start(c).await.unwrap();
    let (client, mut rx) = client_for(&sim, "au").await;
    for i in 0..30 {
        client.submit(sm("819012345678", &format!("early {i}")), Tlvs::new()).await.unwrap();
    }
    let got = correlated(&mut rx, 30).await.0;
    let counters = client.correlation_counters();
    assert_eq!(got, 30, "{counters:?} {:?}", sim.stats().carrier("au"));
    assert!(counters.early > 0, "the race was exercised");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_submits_are_retried_until_accepted() {
    let mut c = config("docomo");
    c.carriers[0].accounts[0].tps = 100.0;
    let sim = Simulator::start(c).await.unwrap();
    let (client, mut rx) = client_for(&sim, "docomo").await;
    let mut tasks = Vec::new();
    for i in 0..300 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.submit(sm("819012345678", &format!("t{i}")), Tlvs::new()).await
        }));
    }
    for t in tasks {
        tokio::time::timeout(WAIT, t).await.unwrap().unwrap().expect("accepted after retries");
    }
    let stats = sim.stats().carrier("docomo");
    assert!(stats.errors.get("ESME_RTHROTTLED").copied().unwrap_or(0) > 0, "{:?}", stats.errors);
    assert_eq!(correlated(&mut rx, 300).await.0, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_served_by_another_carrier_is_refused() {
    let mut c = config("docomo");
    c.mnp.entries.push("819011112222,au".to_string());
    let sim = Simulator::start(c).await.unwrap();
    let (client, _rx) = client_for(&sim, "docomo").await;
    let err = client.submit(sm("819011112222", "ported"), Tlvs::new()).await.unwrap_err();
    assert_eq!(err.status(), Some(CommandStatus::ESME_RINVDSTADR));
    assert!(client.submit(sm("819012345678", "not ported"), Tlvs::new()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_japanese_text_is_billed_per_carrier() {
    let text = "ご利用代金のお支払い期日を過ぎています。至急お手続きください。".repeat(5); // 155 chars
    for (carrier, billed) in [("docomo", 3), ("au", 3), ("softbank", 1)] {
        let sim = Simulator::start(config(carrier)).await.unwrap();
        let (client, mut rx) = client_for(&sim, carrier).await;
        let profile = CarrierProfile::by_name(carrier).unwrap();
        let seg = segment(&text, &profile, 7, false).unwrap();
        assert_eq!(seg.billable, billed, "{carrier}");
        let pdus = compose::submits(&seg, "TESTCARD", "+819012345678", 1).unwrap();
        let parts = pdus.len();
        for (sm, tlvs) in pdus {
            client.submit(sm, tlvs).await.unwrap();
        }
        assert_eq!(correlated(&mut rx, parts).await.0, parts, "{carrier}");
        let stats = sim.stats().carrier(carrier);
        assert_eq!(stats.billable_segments, billed as u64, "{carrier}");
        let handset = sim.messages(Some(carrier), "819012345678");
        assert_eq!(
            handset.last().and_then(|m| m.text.clone()).as_deref(),
            Some(text.as_str()),
            "{carrier}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_long_mo_arrives_and_reassembles() {
    let sim = Simulator::start(config("docomo")).await.unwrap();
    let (_client, mut rx) = client_for(&sim, "docomo").await;
    let text = "住所変更の件、承知しました。新しい住所は東京都千代田区丸の内一丁目です。よろしくお願いします。".repeat(2);
    sim.inject_mo(&MoRequest::new("docomo", "819012345678", "0120123456", &text)).unwrap();
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let deadline = tokio::time::Instant::now() + WAIT;
    let message = loop {
        let Ok(Some(IncomingEvent::Message(m))) =
            tokio::time::timeout_at(deadline, rx.recv()).await
        else {
            panic!("the MO did not arrive")
        };
        let smpp_codec::Body::DeliverSm(d) = &m.pdu.body else { panic!() };
        assert!(m.receipt.is_none(), "an MO is not a receipt");
        let part = MoPart {
            from: "819012345678",
            to: "0120123456",
            data_coding: d.data_coding,
            esm_class: d.esm_class.0,
            short_message: d.short_message.as_bytes(),
            sar: m.pdu.tlvs.sar().map(Into::into),
            payload: m.pdu.tlvs.message_payload(),
            now: Instant::now(),
        };
        let done = r.push(part).unwrap();
        m.ack();
        if let Some(done) = done {
            break done;
        }
    };
    assert_eq!(message.text.as_deref(), Some(text.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_redialled() {
    let sim = Simulator::start(config("rakuten")).await.unwrap();
    let (client, _rx) = client_for(&sim, "rakuten").await;
    sim.set_fault(&FaultRequest { carrier: None, account: None, fault: Fault::Drop }).unwrap();
    let deadline = Instant::now() + WAIT;
    while client.status().reconnects == 0 || client.status().bound == 0 {
        assert!(Instant::now() < deadline, "no reconnect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(client.submit(sm("819012345678", "after redial"), Tlvs::new()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_nack_fails_only_that_request() {
    let sim = Simulator::start(config("docomo")).await.unwrap();
    let (client, _rx) = client_for(&sim, "docomo").await;
    let fault = Fault::GenericNack { count: 1, status: CommandStatus::ESME_RSYSERR };
    sim.set_fault(&FaultRequest { carrier: None, account: None, fault }).unwrap();
    let err = client.submit(sm("819012345678", "nacked"), Tlvs::new()).await.unwrap_err();
    assert_eq!(err.status(), Some(CommandStatus::ESME_RSYSERR));
    assert!(client.submit(sm("819012345678", "fine"), Tlvs::new()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_handset_gets_interim_then_final_undeliverable() {
    let mut c = config("docomo");
    c.mnp.entries.push("819099998888,docomo,unreachable".to_string());
    c.carriers[0].handsets.time_compression = 1_000_000.0;
    let sim = Simulator::start(c).await.unwrap();
    let (client, mut rx) = client_for(&sim, "docomo").await;
    client.submit(sm("819099998888", "unreachable"), Tlvs::new()).await.unwrap();
    let (finals, stats) = correlated(&mut rx, 1).await;
    assert_eq!(finals, 1);
    assert_eq!(stats.last().map(String::as_str), Some("UNDELIV"), "{stats:?}");
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_cancel_work_against_the_message_store() {
    let mut c = config("docomo");
    c.carriers[0].receipts.delay_ms = 60_000; // still pending when we query
    let sim = Simulator::start(c).await.unwrap();
    let (client, _rx) = client_for(&sim, "docomo").await;
    let mut s = sm("819012345678", "to cancel");
    s.schedule_delivery_time = smpp_codec::Time::new("000001000000000R").unwrap();
    let id = client.submit(s, Tlvs::new()).await.unwrap().message_id;
    let q = smpp_codec::QuerySm {
        message_id: COctetString::try_from(id.as_str()).unwrap(),
        source_addr_ton: Ton::ALPHANUMERIC,
        source_addr: COctetString::from_static("TESTCARD"),
        ..Default::default()
    };
    let resp = client.query_sm(q.clone()).await.unwrap();
    let smpp_codec::Body::QuerySmResp(Some(r)) = resp.body else { panic!("{resp:?}") };
    assert_eq!(r.message_id.as_bytes(), id.as_bytes());
    let cancel = smpp_codec::CancelSm {
        message_id: COctetString::try_from(id.as_str()).unwrap(),
        source_addr_ton: Ton::ALPHANUMERIC,
        source_addr: COctetString::from_static("TESTCARD"),
        ..Default::default()
    };
    client.cancel_sm(cancel).await.expect("a pending message can be cancelled");
    let resp = client.query_sm(q).await.unwrap();
    let smpp_codec::Body::QuerySmResp(Some(r)) = resp.body else { panic!() };
    assert_eq!(r.message_state, 4, "DELETED after cancel_sm (smpp34.md §7.9)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_beyond_the_account_limit_are_refused_and_retried() {
    let mut c = config("docomo");
    c.carriers[0].accounts[0].max_binds = 1;
    let sim = Simulator::start(c).await.unwrap();
    let port = sim.addr("docomo").unwrap().port();
    let mut cfg = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    cfg.binds(2).backoff(smpp_tokio::BackoffConfig {
        min: Duration::from_millis(20),
        max: Duration::from_millis(50),
        ..Default::default()
    });
    let (client, conn) = connect(cfg).unwrap();
    tokio::spawn(conn);
    tokio::time::timeout(WAIT, client.ready()).await.unwrap().unwrap();
    wait_for("a refused second bind", || {
        client.status().last_refusal == Some(CommandStatus::ESME_RBINDFAIL)
    })
    .await;
    assert_eq!(client.status().bound, 1);
    assert!(sim.stats().carrier("docomo").binds_refused > 0);
    // The bind that holds the slot still carries traffic.
    for i in 0..10 {
        client.submit(sm("819012345678", &format!("one bind {i}")), Tlvs::new()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smsc_side_unbind_is_followed_by_a_rebind() {
    let sim = Simulator::start(config("au")).await.unwrap();
    let (client, _rx) = client_for(&sim, "au").await;
    sim.set_fault(&FaultRequest { carrier: None, account: None, fault: Fault::Unbind }).unwrap();
    wait_for("a rebind", || client.status().reconnects > 0 && client.status().bound == 1).await;
    assert!(client.submit(sm("819012345678", "after unbind"), Tlvs::new()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_pdus_from_the_smsc_do_not_break_the_session() {
    let sim = Simulator::start(config("docomo")).await.unwrap();
    let (client, _rx) = client_for(&sim, "docomo").await;
    for kind in [smpp_sim::MalformedKind::TruncatedBody, smpp_sim::MalformedKind::UnknownCommand] {
        sim.set_fault(&FaultRequest {
            carrier: None,
            account: None,
            fault: Fault::Malformed { kind },
        })
        .unwrap();
    }
    assert!(client.submit(sm("819012345678", "still fine"), Tlvs::new()).await.is_ok());
    assert_eq!(client.status().reconnects, 0, "item errors keep the connection");
    let bad = FaultRequest {
        carrier: None,
        account: None,
        fault: Fault::Malformed { kind: smpp_sim::MalformedKind::BadLength },
    };
    sim.set_fault(&bad).unwrap();
    wait_for("a redial after framing was lost", || {
        client.status().reconnects > 0 && client.status().bound == 1
    })
    .await;
    assert!(client.submit(sm("819012345678", "after redial"), Tlvs::new()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_responses_time_out_with_unknown_outcome() {
    let sim = Simulator::start(config("docomo")).await.unwrap();
    let port = sim.addr("docomo").unwrap().port();
    let mut cfg = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    let mut session = smpp_session::SessionConfig::default();
    session.response_timeout(Duration::from_millis(200));
    cfg.session(session);
    let (client, conn) = connect(cfg).unwrap();
    tokio::spawn(conn);
    tokio::time::timeout(WAIT, client.ready()).await.unwrap().unwrap();
    sim.set_fault(&FaultRequest {
        carrier: None,
        account: None,
        fault: Fault::DelayResponses { ms: 1_000 },
    })
    .unwrap();
    let err = client.submit(sm("819012345678", "slow"), Tlvs::new()).await.unwrap_err();
    assert!(err.is_timeout() && err.outcome_unknown(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_binds_are_retried_until_the_smsc_accepts() {
    let sim = Simulator::start(config("softbank")).await.unwrap();
    let fault = Fault::RefuseBinds { ms: 300, status: CommandStatus::ESME_RBINDFAIL };
    sim.set_fault(&FaultRequest { carrier: None, account: None, fault }).unwrap();
    let (client, _rx) = client_for(&sim, "softbank").await;
    assert!(client.status().reconnects > 0, "the first binds were refused");
    assert!(client.submit(sm("819012345678", "finally"), Tlvs::new()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_wait_for_a_receiver_and_arrive_when_one_binds() {
    let sim = Simulator::start(config("docomo")).await.unwrap();
    let port = sim.addr("docomo").unwrap().port();
    let mut tx = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    tx.bind_mode(smpp_tokio::BindMode::Transmitter);
    let (sender, conn) = connect(tx).unwrap();
    tokio::spawn(conn);
    tokio::time::timeout(WAIT, sender.ready()).await.unwrap().unwrap();
    for i in 0..5 {
        sender.submit(sm("819012345678", &format!("q{i}")), Tlvs::new()).await.unwrap();
    }
    wait_for("queued receipts", || sim.stats().carrier("docomo").receipts_queued == 5).await;

    let mut rx = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    rx.bind_mode(smpp_tokio::BindMode::Receiver);
    let (receiver, conn) = connect(rx).unwrap();
    tokio::spawn(conn);
    tokio::time::timeout(WAIT, receiver.ready()).await.unwrap().unwrap();
    // The queued receipts go out right after the bind; the application takes its stream
    // only afterwards, and still gets every one of them.
    wait_for("queued receipts sent", || sim.stats().carrier("docomo").receipts_sent == 5).await;
    let mut incoming = receiver.incoming().unwrap();
    let mut receipts = 0;
    while receipts < 5 {
        let ev = tokio::time::timeout(WAIT, incoming.recv())
            .await
            .expect("queued receipts arrive")
            .unwrap();
        if let IncomingEvent::Message(m) = ev {
            assert!(m.receipt.is_some());
            receipts += 1;
            m.ack();
        }
    }
    wait_for("acks counted", || sim.stats().carrier("docomo").receipts_acked == 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_binds_to_the_simulator_over_tls() {
    let cert = rcgen::generate_simple_self_signed(vec!["smsc.test".to_string()]).unwrap();
    // Removed when the test ends, pass or fail.
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let mut c = config("docomo");
    c.carriers[0].tls = Some(smpp_sim::TlsConfig { cert: cert_path.clone(), key: key_path });
    let sim = Simulator::start(c).await.unwrap();
    let port = sim.addr("docomo").unwrap().port();
    let mut cfg = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    cfg.tls(Some(smpp_tokio::TlsConfig {
        server_name: Some("smsc.test".into()),
        ca_file: Some(cert_path),
        ..Default::default()
    }));
    let (client, conn) = connect(cfg).unwrap();
    tokio::spawn(conn);
    let mut incoming = client.incoming().unwrap();
    tokio::time::timeout(WAIT, client.ready()).await.unwrap().unwrap();
    client.submit(sm("819012345678", "over tls"), Tlvs::new()).await.unwrap();
    assert_eq!(correlated(&mut incoming, 1).await.0, 1);
}
