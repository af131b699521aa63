//! End-to-end behaviour of the simulator, driven by the minimal ESME in `common/`, all on
//! 127.0.0.1 with port 0.

mod common;

use std::time::{Duration, Instant};

use common::{message_id, submit, ucs2, Ack, Esme, WAIT};
use smpp_codec::{
    Body, COctetString, CommandStatus as S, EsmClass, QuerySm, ShortMessage, Tag, Time, Tlvs,
};
use smpp_session::{BindKind, Event, State};
use smpp_sim::{
    CarrierConfig, Fault, FaultRequest, MessageIdFormat, MoRequest, RunningSim, SimConfig,
    Simulator, Stat,
};

const TO: &str = "819012345678";

/// One carrier on a free port with account bank/secret; receipts after 10 ms.
async fn start(carrier: &str, tweak: impl FnOnce(&mut CarrierConfig)) -> RunningSim {
    start_with(carrier, tweak, |_| {}).await
}

async fn start_with(
    carrier: &str,
    tweak: impl FnOnce(&mut CarrierConfig),
    sim: impl FnOnce(&mut SimConfig),
) -> RunningSim {
    let mut config =
        SimConfig::single(carrier, "127.0.0.1:0".parse().unwrap(), &[("bank", "secret")]);
    let c = &mut config.carriers[0];
    c.receipts.delay_ms = 10;
    tweak(c);
    sim(&mut config);
    Simulator::start(config).await.expect("simulator starts")
}

async fn trx(sim: &RunningSim, carrier: &str) -> Esme {
    Esme::bound(sim.addr(carrier).unwrap(), BindKind::Transceiver, "bank", "secret").await
}

// ------------------------------------------------------------------------- binds

#[tokio::test]
async fn binds_tx_rx_trx_and_refuses_bad_credentials_with_specific_statuses() {
    let sim = start("docomo", |_| {}).await;
    let addr = sim.addr("docomo").unwrap();
    for (kind, state) in [
        (BindKind::Transmitter, State::BoundTx),
        (BindKind::Receiver, State::BoundRx),
        (BindKind::Transceiver, State::BoundTrx),
    ] {
        let mut e = Esme::connect(addr).await;
        assert_eq!(e.bind(kind, "bank", "secret").await, Ok(state));
    }
    let mut e = Esme::connect(addr).await;
    assert_eq!(e.bind(BindKind::Transceiver, "bank", "wrong").await, Err(S::ESME_RINVPASWD));
    assert_eq!(e.bind(BindKind::Transceiver, "nobody", "secret").await, Err(S::ESME_RINVSYSID));
    // The connection stays open after a refusal; a good bind then works.
    assert_eq!(e.bind(BindKind::Transceiver, "bank", "secret").await, Ok(State::BoundTrx));
    let s = sim.stats().carrier("docomo");
    assert_eq!((s.binds_total, s.binds_refused), (4, 2));
    assert_eq!(s.errors.get("ESME_RINVPASWD"), Some(&1));
    sim.shutdown().await;
}

#[tokio::test]
async fn refuses_binds_over_the_account_limit_with_rbindfail_until_one_leaves() {
    let sim = start("au", |c| c.accounts[0].max_binds = 2).await;
    let addr = sim.addr("au").unwrap();
    let first = Esme::bound(addr, BindKind::Transmitter, "bank", "secret").await;
    let _second = Esme::bound(addr, BindKind::Receiver, "bank", "secret").await;
    let mut third = Esme::connect(addr).await;
    assert_eq!(third.bind(BindKind::Transceiver, "bank", "secret").await, Err(S::ESME_RBINDFAIL));
    drop(first);
    let deadline = Instant::now() + WAIT;
    loop {
        if sim.stats().carrier("au").binds_current == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the closed bind was never released");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(third.bind(BindKind::Transceiver, "bank", "secret").await, Ok(State::BoundTrx));
    sim.shutdown().await;
}

#[tokio::test]
async fn submit_before_bind_is_answered_rinvbndsts() {
    let sim = start("docomo", |_| {}).await;
    let mut e = Esme::connect(sim.addr("docomo").unwrap()).await;
    // The ESME core refuses to send it, so write it raw.
    let pdu = smpp_codec::Pdu::new(7, Body::SubmitSm(submit(TO, "x", 0)));
    e.write_raw(&pdu.to_bytes()).await;
    let ev = e
        .wait_event(WAIT, |ev| matches!(ev, Event::UnexpectedResponse { .. }))
        .await
        .expect("an answer");
    let Event::UnexpectedResponse { pdu } = ev else { unreachable!() };
    assert_eq!((pdu.command_status, pdu.sequence_number), (S::ESME_RINVBNDSTS, 7));
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- submit

#[tokio::test]
async fn answers_submit_with_the_carriers_message_id_format() {
    type Check = fn(&str) -> bool;
    let cases: [(MessageIdFormat, Check); 5] = [
        (MessageIdFormat::Decimal, |id| id == "59113978"),
        (MessageIdFormat::Hex, |id| id == "38601fa"),
        (MessageIdFormat::HexUpper, |id| id == "38601FA"),
        (MessageIdFormat::Padded, |id| id == "0059113978"),
        (MessageIdFormat::Uuid, |id| {
            id.len() == 36
                && id.ends_with("0000038601fa")
                && id.chars().filter(|c| *c == '-').count() == 4
        }),
    ];
    for (format, ok) in cases {
        let sim = start("softbank", |c| {
            c.message_id_format = format;
            c.message_id_start = 59_113_978;
        })
        .await;
        let mut e = trx(&sim, "softbank").await;
        let id = message_id(&e.submit(submit(TO, "テスト", 0), Tlvs::new()).await).unwrap();
        assert!(ok(&id), "{format:?} gave {id}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn refuses_invalid_submits_with_the_specific_status() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    let empty_dest = submit("", "x", 0);
    assert_eq!(message_id(&e.submit(empty_dest, Tlvs::new()).await), Err(S::ESME_RINVDSTADR));
    let letters = submit("81abc", "x", 0);
    assert_eq!(message_id(&e.submit(letters, Tlvs::new()).await), Err(S::ESME_RINVDSTADR));
    let mut udhi_no_udh = submit(TO, "x", 0);
    udhi_no_udh.esm_class = EsmClass(0x40);
    udhi_no_udh.short_message = ShortMessage::new(vec![0x09, 0x00]).unwrap();
    assert_eq!(message_id(&e.submit(udhi_no_udh, Tlvs::new()).await), Err(S::ESME_RINVESMCLASS));
    let mut udh_no_udhi = submit(TO, "x", 0);
    udh_no_udhi.short_message = ShortMessage::new(vec![5, 0, 3, 1, 2, 1, 0x30, 0x42]).unwrap();
    assert_eq!(message_id(&e.submit(udh_no_udhi, Tlvs::new()).await), Err(S::ESME_RINVESMCLASS));
    let both = Tlvs::builder().message_payload(&ucs2("x")).unwrap().build();
    assert_eq!(message_id(&e.submit(submit(TO, "x", 0), both).await), Err(S::ESME_RINVMSGLEN));
    let mut jis = submit(TO, "x", 0);
    jis.data_coding = 0x05;
    assert_eq!(message_id(&e.submit(jis, Tlvs::new()).await), Err(S(0x104)));
    let sar_incomplete = Tlvs::builder().push_u16(Tag::SAR_MSG_REF_NUM, 1).build();
    assert_eq!(
        message_id(&e.submit(submit(TO, "x", 0), sar_incomplete).await),
        Err(S::ESME_RMISSINGOPTPARAM)
    );
    let mut bad_validity = submit(TO, "x", 0);
    bad_validity.validity_period = Time::new("251340000000036+").unwrap();
    assert_eq!(message_id(&e.submit(bad_validity, Tlvs::new()).await), Err(S::ESME_RINVEXPIRY));
    // Still fine afterwards.
    assert!(message_id(&e.submit(submit(TO, "x", 0), Tlvs::new()).await).is_ok());
    let s = sim.stats().carrier("docomo");
    assert_eq!(s.submits, 1);
    assert_eq!(s.errors.get("ESME_RINVESMCLASS"), Some(&2));
    sim.shutdown().await;
}

#[tokio::test]
async fn query_cancel_and_replace_work_on_the_message_store() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    let mut later = submit(TO, "tomorrow", 1);
    later.schedule_delivery_time = Time::new("000001000000000R").unwrap(); // in one day
    let id = message_id(&e.submit(later, Tlvs::new()).await).unwrap();
    let query = |id: &str| {
        Body::QuerySm(QuerySm {
            message_id: COctetString::new(bytes::Bytes::copy_from_slice(id.as_bytes())).unwrap(),
            source_addr: COctetString::from_static("CARD"),
            ..Default::default()
        })
    };
    let state = |pdu: &smpp_codec::Pdu| match &pdu.body {
        Body::QuerySmResp(Some(r)) => r.message_state,
        other => panic!("{other:?}"),
    };
    assert_eq!(state(&e.request(query(&id), Tlvs::new()).await), Stat::Enroute.message_state());
    let replace = Body::ReplaceSm(smpp_codec::ReplaceSm {
        message_id: COctetString::new(bytes::Bytes::copy_from_slice(id.as_bytes())).unwrap(),
        short_message: ShortMessage::new(ucs2("new text")).unwrap(),
        registered_delivery: 1,
        ..Default::default()
    });
    assert!(e.request(replace, Tlvs::new()).await.command_status.is_ok());
    let cancel = || {
        Body::CancelSm(smpp_codec::CancelSm {
            message_id: COctetString::new(bytes::Bytes::copy_from_slice(id.as_bytes())).unwrap(),
            source_addr: COctetString::from_static("CARD"),
            ..Default::default()
        })
    };
    assert!(e.request(cancel(), Tlvs::new()).await.command_status.is_ok());
    let resp = e.request(query(&id), Tlvs::new()).await;
    assert_eq!(state(&resp), Stat::Deleted.message_state());
    assert_eq!(e.request(cancel(), Tlvs::new()).await.command_status, S::ESME_RCANCELFAIL);
    assert_eq!(
        e.request(query("no-such-id"), Tlvs::new()).await.command_status,
        S::ESME_RQUERYFAIL
    );
    let s = sim.stats().carrier("docomo");
    assert_eq!((s.queries, s.cancels, s.replaces), (2, 1, 1));
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- receipts

#[tokio::test]
async fn receipt_swaps_addresses_and_carries_appendix_b_text_and_tlvs() {
    let sim = start("docomo", |c| {
        c.message_id_format = MessageIdFormat::Hex;
        c.receipt_id_format = Some(MessageIdFormat::Padded);
        c.message_id_start = 0x38601fa;
    })
    .await;
    let mut e = trx(&sim, "docomo").await;
    let id =
        message_id(&e.submit(submit(TO, "Your code is 123456", 1), Tlvs::new()).await).unwrap();
    assert_eq!(id, "38601fa");
    assert!(e.wait_delivered(1, WAIT).await, "no receipt");
    let r = e.delivered.pop_front().unwrap();
    let sm = r.sm();
    assert!(sm.esm_class.is_delivery_receipt());
    assert_eq!(sm.source_addr.as_bytes(), TO.as_bytes());
    assert_eq!(sm.destination_addr.as_bytes(), b"CARD");
    let text = r.text();
    // The hex/decimal mismatch of smpp34.md §9.3: the text shows 0x38601fa in decimal.
    assert!(text.starts_with("id:0059113978 sub:001 dlvrd:001 submit date:"), "{text}");
    assert!(text.contains(" stat:DELIVRD err:000 text:Your code is 123456"), "{text}");
    let dates: Vec<&str> = text.split(" date:").skip(1).map(|s| &s[..10]).collect();
    assert!(dates.iter().all(|d| d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit())), "{text}");
    assert_eq!(r.pdu.tlvs.receipted_message_id(), Some(id.as_bytes()));
    assert_eq!(r.pdu.tlvs.message_state(), Some(2));
    assert_eq!(r.pdu.tlvs.network_error_code(), Some(&[3, 0, 0][..]));
    // The ESME acknowledged it.
    e.pump(Duration::from_millis(50)).await;
    let s = sim.stats().carrier("docomo");
    assert_eq!((s.receipts_sent, s.receipts_acked), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn receipt_tlvs_can_be_switched_off_and_outcomes_follow_the_weights() {
    let sim = start("au", |c| {
        c.receipts.tlv_message_state = false;
        c.receipts.tlv_network_error_code = false;
        c.receipts.outcomes =
            vec![smpp_sim::OutcomeWeight { stat: Stat::Undeliv, weight: 1, err: 34 }];
    })
    .await;
    let mut e = trx(&sim, "au").await;
    // registered_delivery 2: failures only, and this one fails.
    e.submit(submit(TO, "x", 2), Tlvs::new()).await;
    assert!(e.wait_delivered(1, WAIT).await);
    let r = e.delivered.pop_front().unwrap();
    assert!(r.text().contains("stat:UNDELIV err:034"), "{}", r.text());
    assert!(r.pdu.tlvs.receipted_message_id().is_some());
    assert_eq!(r.pdu.tlvs.message_state(), None);
    assert_eq!(r.pdu.tlvs.network_error_code(), None);
    sim.shutdown().await;
}

#[tokio::test]
async fn receipt_can_arrive_before_the_submit_resp_on_a_transceiver() {
    let sim = start("docomo", |c| {
        c.receipts.early_fraction = 1.0;
    })
    .await;
    let mut e = trx(&sim, "docomo").await;
    let tag = e.send(Body::SubmitSm(submit(TO, "x", 1)), Tlvs::new());
    let (resp_order, ev) = e
        .wait_event_at(WAIT, |ev| matches!(ev, Event::Response { tag: t, .. } if *t == tag))
        .await
        .expect("a response");
    let Event::Response { pdu, .. } = ev else { unreachable!() };
    let id = message_id(&pdu).unwrap();
    let receipt = e.delivered.front().expect("the receipt came first");
    assert!(receipt.order < resp_order);
    assert_eq!(receipt.pdu.tlvs.receipted_message_id(), Some(id.as_bytes()));
    sim.shutdown().await;
}

#[tokio::test]
async fn receipt_can_arrive_before_the_submit_resp_across_tx_and_rx() {
    let sim = start("rakuten", |c| {
        c.receipts.early_fraction = 1.0;
        // Room for a slow test machine to read the receipt on the RX first.
        c.receipts.early_resp_delay_ms = 300;
    })
    .await;
    let addr = sim.addr("rakuten").unwrap();
    let mut tx = Esme::bound(addr, BindKind::Transmitter, "bank", "secret").await;
    let mut rx = Esme::bound(addr, BindKind::Receiver, "bank", "secret").await;
    let receiver = tokio::spawn(async move {
        assert!(rx.wait_delivered(1, WAIT).await, "no receipt on the RX");
        rx.delivered[0].at
    });
    let resp = tx.submit(submit(TO, "x", 1), Tlvs::new()).await;
    let resp_at = Instant::now();
    assert!(resp.command_status.is_ok());
    let receipt_at = receiver.await.unwrap();
    assert!(receipt_at < resp_at, "the receipt should beat the response");
    sim.shutdown().await;
}

#[tokio::test]
async fn receipt_is_routed_to_an_rx_session_of_the_account() {
    let sim = start("docomo", |_| {}).await;
    let addr = sim.addr("docomo").unwrap();
    let mut tx = Esme::bound(addr, BindKind::Transmitter, "bank", "secret").await;
    let mut rx = Esme::bound(addr, BindKind::Receiver, "bank", "secret").await;
    let id = message_id(&tx.submit(submit(TO, "x", 1), Tlvs::new()).await).unwrap();
    assert!(rx.wait_delivered(1, WAIT).await, "no receipt on the RX");
    assert_eq!(rx.delivered[0].pdu.tlvs.receipted_message_id(), Some(id.as_bytes()));
    sim.shutdown().await;
}

#[tokio::test]
async fn receipts_are_queued_while_no_receiver_is_bound_and_delivered_after_rebind() {
    let sim = start("softbank", |_| {}).await;
    let addr = sim.addr("softbank").unwrap();
    let mut tx = Esme::bound(addr, BindKind::Transmitter, "bank", "secret").await;
    let a = message_id(&tx.submit(submit(TO, "a", 1), Tlvs::new()).await).unwrap();
    let b = message_id(&tx.submit(submit(TO, "b", 1), Tlvs::new()).await).unwrap();
    let deadline = Instant::now() + WAIT;
    while sim.stats().carrier("softbank").receipts_queued < 2 {
        assert!(Instant::now() < deadline, "receipts were not queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut rx = Esme::bound(addr, BindKind::Receiver, "bank", "secret").await;
    assert!(rx.wait_delivered(2, WAIT).await, "queued receipts not delivered");
    let ids: Vec<_> =
        rx.delivered.iter().map(|d| d.pdu.tlvs.receipted_message_id().unwrap().to_vec()).collect();
    assert_eq!(ids, [a.into_bytes(), b.into_bytes()]);
    assert_eq!(sim.stats().carrier("softbank").receipts_queued, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn unanswered_receipt_is_sent_again() {
    let sim = start("docomo", |c| {
        c.session.response_timeout_ms = 150;
        c.receipts.retry_interval_ms = 50;
    })
    .await;
    let mut e = trx(&sim, "docomo").await;
    e.ack = Ack::Ignore;
    let id = message_id(&e.submit(submit(TO, "x", 1), Tlvs::new()).await).unwrap();
    assert!(e.wait_delivered(2, WAIT).await, "the receipt was not retried");
    for d in &e.delivered {
        assert_eq!(d.pdu.tlvs.receipted_message_id(), Some(id.as_bytes()));
    }
    assert!(sim.stats().carrier("docomo").receipts_retried >= 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn unreachable_handset_gets_enroute_receipts_then_a_late_undeliv() {
    let sim = start("docomo", |c| {
        c.handsets.unreachable = vec![TO.to_owned()];
        // 72 h of docomo retries in 0.36 s; a retry every 6 h is every 30 ms.
        c.handsets.time_compression = 72.0 * 3600.0 / 0.36;
    })
    .await;
    let mut e = trx(&sim, "docomo").await;
    let started = Instant::now();
    // registered_delivery 0x11: final receipt and intermediate notifications.
    e.submit(submit(TO, "x", 0x11), Tlvs::new()).await;
    assert!(
        e.wait_delivered(12, WAIT).await,
        "expected 11 ENROUTE and one UNDELIV, got {}",
        e.delivered.len()
    );
    let stats: Vec<String> = e
        .delivered
        .iter()
        .map(|d| d.text().split(" stat:").nth(1).unwrap()[..7].to_owned())
        .collect();
    assert!(stats[..11].iter().all(|s| s == "ENROUTE"), "{stats:?}");
    assert_eq!(stats[11], "UNDELIV");
    assert!(e.delivered[11].text().contains("err:027"));
    assert!(started.elapsed() >= Duration::from_millis(300), "the final receipt came too early");
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- concatenation

/// Submits `text` split by smpp-sms for `profile`, returns the responses' statuses.
async fn submit_split(e: &mut Esme, profile: &smpp_sms::CarrierProfile, text: &str) -> Vec<S> {
    let seg = smpp_sms::segment(text, profile, 0x1234, true).unwrap();
    let mut out = Vec::new();
    for part in seg.parts {
        let mut sm = submit(TO, "", 1);
        sm.esm_class = EsmClass(part.esm_class_bits());
        let mut tlvs = Tlvs::builder();
        if part.in_message_payload {
            tlvs = tlvs.message_payload(&part.user_data).unwrap();
        } else {
            sm.short_message = ShortMessage::new(part.user_data).unwrap();
        }
        if let Some(s) = part.sar {
            tlvs = tlvs.sar(s.reference, s.total, s.seq);
        }
        out.push(e.submit(sm, tlvs.build()).await.command_status);
    }
    out
}

#[tokio::test]
async fn concatenated_message_is_reassembled_and_billed_with_each_carriers_rule() {
    // 133 UCS-2 characters: docomo 3 (66 per part), au 2 (67 per part), SoftBank 1.
    let text = "あ".repeat(133);
    for (carrier, parts, billable) in [("docomo", 3, 3), ("au", 2, 2), ("softbank", 2, 1)] {
        let sim = start(carrier, |_| {}).await;
        let mut e = trx(&sim, carrier).await;
        let profile = smpp_sms::CarrierProfile::by_name(carrier).unwrap();
        let statuses = submit_split(&mut e, &profile, &text).await;
        assert!(statuses.iter().all(|s| s.is_ok()), "{carrier}: {statuses:?}");
        assert!(e.wait_delivered(statuses.len(), WAIT).await, "{carrier}: receipts per part");
        let s = sim.stats().carrier(carrier);
        assert_eq!((s.messages, s.parts, s.billable_segments), (1, parts, billable), "{carrier}");
        let got = sim.messages(Some(carrier), TO);
        assert_eq!(got.len(), 1, "{carrier}");
        assert_eq!(got[0].text.as_deref(), Some(text.as_str()), "{carrier}");
        assert_eq!(got[0].billable, billable as u32);
        sim.shutdown().await;
    }
}

/// The inbox tests' second handset.
const OTHER: &str = "819011112222";

/// Messages `m0`..`m4` to TO, OTHER, TO, OTHER, TO.
async fn submit_to_two_handsets(e: &mut Esme, registered_delivery: u8) {
    for (i, to) in [TO, OTHER, TO, OTHER, TO].into_iter().enumerate() {
        let sm = submit(to, &format!("m{i}"), registered_delivery);
        assert!(e.submit(sm, Tlvs::new()).await.command_status.is_ok());
    }
}

/// The texts the handset `to` received on docomo, oldest first.
fn texts(sim: &RunningSim, to: &str) -> Vec<String> {
    sim.messages(Some("docomo"), to).into_iter().filter_map(|m| m.text).collect()
}

#[tokio::test]
async fn the_inbox_finds_a_handsets_messages_in_any_number_format_and_forgets_the_oldest() {
    let sim = start("docomo", |c| c.inbox_capacity = 4).await;
    let mut e = trx(&sim, "docomo").await;
    submit_to_two_handsets(&mut e, 0).await;
    let deadline = Instant::now() + WAIT;
    let delivered = |to: &str, last: &str| texts(&sim, to).iter().any(|t| t == last);
    while !(delivered(TO, "m4") && delivered(OTHER, "m3")) {
        assert!(Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Capacity 4: the first message is forgotten; each handset sees its own, oldest first,
    // whichever way its number is written.
    assert_eq!(texts(&sim, "+81 90-1234-5678"), ["m2", "m4"]);
    assert_eq!(texts(&sim, "090-1111-2222"), ["m1", "m3"]);
    assert!(texts(&sim, "819099999999").is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_inbox_looked_up_only_after_it_forgot_some_still_finds_each_handsets_own() {
    let sim = start("docomo", |c| c.inbox_capacity = 3).await;
    let mut e = trx(&sim, "docomo").await;
    submit_to_two_handsets(&mut e, 1).await;
    // Each handset has its message before its receipt leaves: no look-up until all are in.
    assert!(e.wait_delivered(5, WAIT).await, "receipts");
    assert_eq!(texts(&sim, TO), ["m2", "m4"]);
    assert_eq!(texts(&sim, OTHER), ["m3"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn concatenation_over_the_part_cap_or_not_adding_up_is_refused() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    let part = |reference: u8, total: u8, seq: u8| {
        let mut sm = submit(TO, "", 0);
        sm.esm_class = EsmClass(0x40);
        let mut ud = vec![5, 0, 3, reference, total, seq];
        ud.extend(ucs2("あい"));
        sm.short_message = ShortMessage::new(ud).unwrap();
        sm
    };
    // 11 parts: over docomo's 10-part cap.
    assert_eq!(e.submit(part(1, 11, 1), Tlvs::new()).await.command_status, S::ESME_RINVMSGLEN);
    // Parts of one reference that disagree on the total do not add up.
    assert!(e.submit(part(2, 3, 1), Tlvs::new()).await.command_status.is_ok());
    assert_eq!(e.submit(part(2, 2, 2), Tlvs::new()).await.command_status, S::ESME_RSUBMITFAIL);
    // The same part twice neither.
    assert_eq!(e.submit(part(2, 3, 1), Tlvs::new()).await.command_status, S::ESME_RSUBMITFAIL);
    sim.shutdown().await;
}

#[tokio::test]
async fn sar_parts_are_reassembled_too() {
    let sim = start("au", |_| {}).await;
    let mut e = trx(&sim, "au").await;
    for seq in 1..=2u8 {
        let sm = submit(TO, if seq == 1 { "前半" } else { "後半" }, 0);
        let tlvs = Tlvs::builder().sar(0xBEEF, 2, seq).build();
        assert!(e.submit(sm, tlvs).await.command_status.is_ok());
    }
    let deadline = Instant::now() + WAIT;
    while sim.messages(Some("au"), TO).is_empty() {
        assert!(Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.messages(Some("au"), TO)[0].text.as_deref(), Some("前半後半"));
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- throttling, MNP

#[tokio::test]
async fn throttles_above_the_account_tps_with_rthrottled() {
    let sim = start("docomo", |c| {
        c.accounts[0].tps = 5.0;
        c.accounts[0].burst = Some(5);
        c.receipts.delay_ms = 0;
    })
    .await;
    let mut e = trx(&sim, "docomo").await;
    let tags: Vec<u32> =
        (0..20).map(|_| e.send(Body::SubmitSm(submit(TO, "x", 0)), Tlvs::new())).collect();
    let mut ok = 0;
    let mut throttled = 0;
    for tag in tags {
        match e.outcome(tag).await {
            Event::Response { pdu, .. } if pdu.command_status.is_ok() => ok += 1,
            Event::Response { pdu, .. } if pdu.command_status == S::ESME_RTHROTTLED => {
                throttled += 1
            }
            other => panic!("{other:?}"),
        }
    }
    // 20 back to back against a 5-deep bucket refilling at 5/s: ~5 pass.
    assert!((5..=7).contains(&ok), "ok {ok}");
    assert_eq!(ok + throttled, 20);
    assert_eq!(sim.stats().carrier("docomo").errors.get("ESME_RTHROTTLED"), Some(&throttled));
    sim.shutdown().await;
}

#[tokio::test]
async fn queue_full_fault_answers_rmsgqful() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    sim.set_fault(&FaultRequest::carrier("docomo", Fault::QueueFull { count: 2 })).unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(e.submit(submit(TO, "x", 0), Tlvs::new()).await.command_status);
    }
    assert_eq!(statuses, [S::ESME_RMSGQFUL, S::ESME_RMSGQFUL, S::ESME_ROK]);
    sim.shutdown().await;
}

#[tokio::test]
async fn rejects_a_number_another_carrier_serves_with_the_configured_status() {
    let sim = start_with(
        "docomo",
        |c| c.mnp_status = S(0x400),
        |s| s.mnp.entries = vec!["09011112222,au".into(), "09033334444,docomo".into()],
    )
    .await;
    let mut e = trx(&sim, "docomo").await;
    assert_eq!(
        message_id(&e.submit(submit("819011112222", "x", 0), Tlvs::new()).await),
        Err(S(0x400))
    );
    assert!(message_id(&e.submit(submit("819033334444", "x", 0), Tlvs::new()).await).is_ok());
    assert!(
        message_id(&e.submit(submit("819055556666", "x", 0), Tlvs::new()).await).is_ok(),
        "unlisted numbers are ours"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn recycled_number_gets_an_undeliv_receipt() {
    let sim = start_with("au", |_| {}, |s| s.mnp.entries = vec![format!("{TO},au,recycled")]).await;
    let mut e = trx(&sim, "au").await;
    e.submit(submit(TO, "x", 1), Tlvs::new()).await;
    assert!(e.wait_delivered(1, WAIT).await);
    assert!(e.delivered[0].text().contains("stat:UNDELIV err:001"), "{}", e.delivered[0].text());
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- MO

#[tokio::test]
async fn injected_concatenated_ucs2_mo_arrives_as_deliver_sm_parts() {
    let sim = start("docomo", |_| {}).await;
    let addr = sim.addr("docomo").unwrap();
    let mut rx = Esme::bound(addr, BindKind::Receiver, "bank", "secret").await;
    let text = "はい、私が利用しました。".repeat(7); // 84 UCS-2 characters: 2 parts
    let r = sim.inject_mo(&MoRequest::new("docomo", "819012345678", "0120000000", &text)).unwrap();
    assert_eq!((r.parts, r.data_coding, r.queued), (2, 8, false));
    assert!(rx.wait_delivered(2, WAIT).await, "MO parts");
    let mut reassembler = smpp_sms::Reassembler::default();
    let mut whole = None;
    for d in &rx.delivered {
        let sm = d.sm();
        assert_eq!(sm.esm_class.message_type(), 0, "an MO, not a receipt");
        assert!(sm.esm_class.udhi());
        whole = reassembler
            .push(smpp_sms::MoPart {
                from: sm.source_addr.to_str().unwrap(),
                to: sm.destination_addr.to_str().unwrap(),
                data_coding: sm.data_coding,
                esm_class: sm.esm_class.0,
                short_message: sm.short_message.as_bytes(),
                sar: None,
                payload: None,
                now: Instant::now(),
            })
            .unwrap()
            .or(whole);
    }
    assert_eq!(whole.unwrap().text.as_deref(), Some(text.as_str()));
    rx.pump(Duration::from_millis(50)).await;
    let s = sim.stats().carrier("docomo");
    assert_eq!((s.mo_injected, s.mo_sent, s.mo_acked), (1, 2, 2));
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- faults

#[tokio::test]
async fn drop_fault_closes_the_connection() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    let n = sim.set_fault(&FaultRequest::carrier("docomo", Fault::Drop)).unwrap();
    assert_eq!(n, 1);
    assert!(e.wait_closed(WAIT).await, "still open");
    sim.shutdown().await;
}

#[tokio::test]
async fn generic_nack_fault_answers_the_next_request_with_generic_nack() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    sim.set_fault(&FaultRequest::carrier(
        "docomo",
        Fault::GenericNack { count: 1, status: S::ESME_RSYSERR },
    ))
    .unwrap();
    match e.call(Body::SubmitSm(submit(TO, "x", 0)), Tlvs::new()).await {
        Event::GenericNack { status, .. } => assert_eq!(status, S::ESME_RSYSERR),
        other => panic!("{other:?}"),
    }
    assert!(e.submit(submit(TO, "x", 0), Tlvs::new()).await.command_status.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_pdu_fault_reaches_the_esme() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    sim.set_fault(&FaultRequest::carrier(
        "docomo",
        Fault::Malformed { kind: smpp_sim::MalformedKind::TruncatedBody },
    ))
    .unwrap();
    let ev = e.wait_event(WAIT, |ev| matches!(ev, Event::PeerError { .. })).await;
    assert!(ev.is_some(), "the ESME saw no malformed PDU");
    // The session survives a malformed body (smpp34.md §8.3).
    assert!(e.submit(submit(TO, "x", 0), Tlvs::new()).await.command_status.is_ok());
    assert_eq!(sim.stats().carrier("docomo").malformed_sent, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn unbind_fault_unbinds_from_the_smsc_side() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    sim.set_fault(&FaultRequest::carrier("docomo", Fault::Unbind)).unwrap();
    assert!(e.wait_event(WAIT, |ev| matches!(ev, Event::Unbound)).await.is_some());
    assert!(e.wait_closed(WAIT).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn refuse_binds_and_delay_faults_take_effect_and_clear() {
    let sim = start("docomo", |_| {}).await;
    let addr = sim.addr("docomo").unwrap();
    sim.set_fault(&FaultRequest::carrier(
        "docomo",
        Fault::RefuseBinds { ms: 60_000, status: S::ESME_RBINDFAIL },
    ))
    .unwrap();
    let mut e = Esme::connect(addr).await;
    assert_eq!(e.bind(BindKind::Transceiver, "bank", "secret").await, Err(S::ESME_RBINDFAIL));
    sim.set_fault(&FaultRequest::carrier("docomo", Fault::Clear)).unwrap();
    assert_eq!(e.bind(BindKind::Transceiver, "bank", "secret").await, Ok(State::BoundTrx));
    sim.set_fault(&FaultRequest::carrier("docomo", Fault::DelayResponses { ms: 200 })).unwrap();
    let t = Instant::now();
    assert!(e.submit(submit(TO, "x", 0), Tlvs::new()).await.command_status.is_ok());
    assert!(t.elapsed() >= Duration::from_millis(200));
    sim.shutdown().await;
}

#[tokio::test]
async fn hang_fault_stops_answering_for_a_while() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    sim.set_fault(&FaultRequest::carrier("docomo", Fault::Hang { ms: 300 })).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t = Instant::now();
    assert!(e.submit(submit(TO, "x", 0), Tlvs::new()).await.command_status.is_ok());
    assert!(t.elapsed() >= Duration::from_millis(200), "answered during the hang");
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- control API, config

#[tokio::test]
async fn control_api_stats_json_reflects_what_happened() {
    let sim = start_with(
        "docomo",
        |c| {
            c.accounts[0].tps = 1.0;
            c.accounts[0].burst = Some(1);
        },
        |s| s.control = Some("127.0.0.1:0".parse().unwrap()),
    )
    .await;
    let http = sim.control_addr().unwrap();
    let mut e = trx(&sim, "docomo").await;
    let mut bad = Esme::connect(sim.addr("docomo").unwrap()).await;
    assert!(bad.bind(BindKind::Transceiver, "bank", "nope").await.is_err());
    assert!(e.submit(submit(TO, "x", 1), Tlvs::new()).await.command_status.is_ok());
    assert_eq!(e.submit(submit(TO, "x", 1), Tlvs::new()).await.command_status, S::ESME_RTHROTTLED);
    assert!(e.wait_delivered(1, WAIT).await);
    e.pump(Duration::from_millis(50)).await;

    let (code, body) = common::http(http, "GET", "/stats", None).await;
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let d = &v["carriers"]["docomo"];
    assert_eq!(d["binds_current"], 1, "{body}");
    assert_eq!(d["binds_refused"], 1);
    assert_eq!(d["submits"], 1);
    assert_eq!(d["parts"], 1);
    assert_eq!(d["billable_segments"], 1);
    assert_eq!(d["receipts_sent"], 1);
    assert_eq!(d["receipts_acked"], 1);
    assert_eq!(d["errors"]["ESME_RTHROTTLED"], 1);
    assert_eq!(d["errors"]["ESME_RINVPASWD"], 1);

    let (code, metrics) = common::http(http, "GET", "/metrics", None).await;
    assert_eq!(code, 200);
    assert!(metrics.contains("smsc_sim_submits_total{carrier=\"docomo\"} 1"), "{metrics}");

    let (code, body) = common::http(http, "GET", &format!("/messages?to={TO}"), None).await;
    assert_eq!(code, 200);
    let msgs: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(msgs[0]["text"], "x", "{body}");

    let mo = format!(r#"{{"carrier":"docomo","from":"{TO}","to":"0120000000","text":"YES"}}"#);
    let (code, body) = common::http(http, "POST", "/mo", Some(&mo)).await;
    assert_eq!(code, 200, "{body}");
    assert!(e.wait_delivered(2, WAIT).await, "MO via HTTP");
    assert_eq!(e.delivered[1].text(), "YES");

    let (code, body) =
        common::http(http, "POST", "/faults", Some(r#"{"carrier":"docomo","fault":"drop"}"#)).await;
    assert_eq!((code, body.as_str()), (200, r#"{"connections":2}"#));
    assert!(e.wait_closed(WAIT).await);
    let (code, _) =
        common::http(http, "POST", "/faults", Some(r#"{"carrier":"nowhere","fault":"drop"}"#))
            .await;
    assert_eq!(code, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn config_file_error_names_the_key() {
    let dir = std::env::temp_dir().join(format!("smpp-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "control = \"127.0.0.1:0\"\n\n[carriers.au]\nlisten = \"127.0.0.1:0\"\n\n[carriers.au.receipts]\nearly_fraction = \"often\"\n",
    )
    .unwrap();
    let err = SimConfig::load(&path).unwrap_err();
    assert_eq!(err.key, "carriers.au.receipts.early_fraction", "{err}");
    std::fs::write(
        &path,
        "[carriers.au]\n[[carriers.au.accounts]]\nsystem_id = \"bank\"\nmax_binds = 0\n",
    )
    .unwrap();
    let err = SimConfig::load(&path).unwrap_err();
    assert_eq!(err.key, "carriers.au.accounts[0].max_binds", "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_deploy_example_config_is_valid_and_starts_on_free_ports() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/sim.toml");
    let mut config = SimConfig::load(&path).unwrap_or_else(|e| panic!("deploy/sim.toml: {e}"));
    let names: Vec<&str> = config.carriers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["docomo", "au", "softbank", "rakuten"]);
    let ports: Vec<u16> = config.carriers.iter().map(|c| c.listen_addr().port()).collect();
    assert_eq!(ports, [2775, 2776, 2777, 2778]);
    for c in &mut config.carriers {
        c.listen = Some("127.0.0.1:0".parse().unwrap());
    }
    config.control = Some("127.0.0.1:0".parse().unwrap());
    config.mo = Default::default();
    let sim = Simulator::start(config).await.unwrap();
    assert_eq!(sim.addrs().len(), 4);
    sim.shutdown().await;
}

// ------------------------------------------------------------------------- more PDUs and inputs

#[tokio::test]
async fn data_sm_and_submit_multi_are_answered_with_ids_and_receipts() {
    let sim = start("docomo", |_| {}).await;
    let mut e = trx(&sim, "docomo").await;
    let ds = smpp_codec::DataSm {
        source_addr_ton: smpp_codec::Ton::ALPHANUMERIC,
        source_addr: COctetString::from_static("CARD"),
        dest_addr_ton: smpp_codec::Ton::INTERNATIONAL,
        dest_addr_npi: smpp_codec::Npi::ISDN,
        destination_addr: COctetString::from_static(TO),
        registered_delivery: 1,
        data_coding: 8,
        ..Default::default()
    };
    let payload = Tlvs::builder().message_payload(&ucs2("データ")).unwrap().build();
    let resp = e.request(Body::DataSm(ds), payload).await;
    assert!(matches!(resp.body, Body::DataSmResp(_)));
    let data_id = message_id(&resp).unwrap();

    let dest = |n: &'static str| smpp_codec::DestAddress::Sme {
        dest_addr_ton: smpp_codec::Ton::INTERNATIONAL,
        dest_addr_npi: smpp_codec::Npi::ISDN,
        destination_addr: COctetString::from_static(n),
    };
    let multi = smpp_codec::SubmitMulti {
        source_addr_ton: smpp_codec::Ton::ALPHANUMERIC,
        source_addr: COctetString::from_static("CARD"),
        dest_addresses: smpp_codec::DestAddresses::new(vec![
            dest("819011112222"),
            dest("bad"),
            dest("819033334444"),
        ])
        .unwrap(),
        registered_delivery: 1,
        data_coding: 8,
        short_message: ShortMessage::new(ucs2("一斉")).unwrap(),
        ..Default::default()
    };
    let resp = e.request(Body::SubmitMulti(multi), Tlvs::new()).await;
    let Body::SubmitMultiResp(Some(r)) = &resp.body else { panic!("{resp:?}") };
    let multi_id = r.message_id.to_str().unwrap().to_owned();
    let failed: Vec<_> = r
        .unsuccess_smes
        .as_slice()
        .iter()
        .map(|u| (u.destination_addr.clone(), u.error_status_code))
        .collect();
    assert_eq!(failed, [(COctetString::from_static("bad"), S::ESME_RINVDSTADR)]);

    // One receipt for the data_sm, one per good submit_multi destination.
    assert!(e.wait_delivered(3, WAIT).await);
    let mut ids: Vec<Vec<u8>> =
        e.delivered.iter().map(|d| d.pdu.tlvs.receipted_message_id().unwrap().to_vec()).collect();
    ids.sort();
    let mut want = vec![data_id.into_bytes(), multi_id.clone().into_bytes(), multi_id.into_bytes()];
    want.sort();
    assert_eq!(ids, want);
    sim.shutdown().await;
}

#[tokio::test]
async fn intermediate_enroute_receipt_precedes_the_final_one_when_asked_for() {
    let sim = start("au", |c| {
        c.receipts.intermediate = Some(Stat::Enroute);
        c.receipts.intermediate_delay_ms = 5;
        c.receipts.delay_ms = 50;
    })
    .await;
    let mut e = trx(&sim, "au").await;
    e.submit(submit(TO, "x", 0x11), Tlvs::new()).await;
    assert!(e.wait_delivered(2, WAIT).await);
    assert!(e.delivered[0].text().contains("stat:ENROUTE"), "{}", e.delivered[0].text());
    assert_eq!(e.delivered[0].pdu.tlvs.message_state(), Some(1));
    assert!(e.delivered[1].text().contains("stat:DELIVRD"));
    // Without bit 0x10 only the final receipt comes.
    e.submit(submit(TO, "x", 0x01), Tlvs::new()).await;
    assert!(e.wait_delivered(3, WAIT).await);
    e.pump(Duration::from_millis(100)).await;
    assert_eq!(e.delivered.len(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn mnp_table_and_mo_feed_are_read_from_files() {
    let dir = std::env::temp_dir().join(format!("smpp-sim-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("numbers.csv"), "number,carrier,status\n# ported\n09011112222,au\n")
        .unwrap();
    std::fs::write(dir.join("mo.csv"), "docomo,819012345678,0120000000,first, with a comma\ndocomo,819012345678,0120000000,second\n")
        .unwrap();
    let toml = r#"
        [carriers.docomo]
        listen = "127.0.0.1:0"
        [[carriers.docomo.accounts]]
        system_id = "bank"
        password = "secret"
        [mnp]
        file = "numbers.csv"
        [mo]
        file = "mo.csv"
        rate_per_sec = 50.0
    "#;
    std::fs::write(dir.join("sim.toml"), toml).unwrap();
    let config = SimConfig::load(&dir.join("sim.toml")).unwrap();
    let mut rx_first = None;
    let sim = Simulator::start(config).await.unwrap();
    let mut e = trx(&sim, "docomo").await;
    assert_eq!(
        message_id(&e.submit(submit("819011112222", "x", 0), Tlvs::new()).await),
        Err(S::ESME_RINVDSTADR)
    );
    assert!(e.wait_delivered(2, WAIT).await, "MOs from the file");
    for d in &e.delivered {
        assert_eq!(d.sm().esm_class.message_type(), 0);
        rx_first.get_or_insert_with(|| d.text());
    }
    assert_eq!(rx_first.as_deref(), Some("first, with a comma"));
    sim.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn serves_smpp_over_tls() {
    let dir = std::env::temp_dir().join(format!("smpp-sim-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), ck.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
    let sim = start("softbank", |c| {
        c.tls = Some(smpp_sim::TlsConfig { cert: dir.join("cert.pem"), key: dir.join("key.pem") })
    })
    .await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(sim.addr("softbank").unwrap()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio::time::timeout(WAIT, connector.connect(name, tcp)).await.unwrap().unwrap();
    let mut e = Esme::over(Box::new(tls));
    assert_eq!(e.bind(BindKind::Transceiver, "bank", "secret").await, Ok(State::BoundTrx));
    assert!(message_id(&e.submit(submit(TO, "x", 1), Tlvs::new()).await).is_ok());
    assert!(e.wait_delivered(1, WAIT).await);
    sim.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn serves_many_binds_at_once() {
    const BINDS: usize = 300;
    let sim = start("docomo", |c| {
        c.accounts[0].max_binds = BINDS;
        c.receipts.delay_ms = 0;
    })
    .await;
    let addr = sim.addr("docomo").unwrap();
    let mut tasks = Vec::new();
    for _ in 0..BINDS {
        tasks.push(tokio::spawn(async move {
            let mut e = Esme::bound(addr, BindKind::Transceiver, "bank", "secret").await;
            let tags: Vec<u32> = (0..5).map(|_| e.send(Body::SubmitSm(submit(TO, "x", 1)), Tlvs::new())).collect();
            for t in tags {
                assert!(matches!(e.outcome(t).await, Event::Response { pdu, .. } if pdu.command_status.is_ok()));
            }
            assert!(e.wait_delivered(5, WAIT).await);
            e
        }));
    }
    let mut esmes = Vec::new();
    for t in tasks {
        esmes.push(
            tokio::time::timeout(Duration::from_secs(30), t).await.expect("bounded").unwrap(),
        );
    }
    let s = sim.stats().carrier("docomo");
    assert_eq!((s.binds_current, s.submits), (BINDS as u64, 5 * BINDS as u64));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_binary_serves_one_carrier_from_flags() {
    use std::io::BufRead;
    /// Kills the child however the test ends.
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_smsc-sim"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--carrier",
                "au",
                "--auth",
                "bank:secret",
                "--message-id-format",
                "hex",
                "--receipt-delay-ms",
                "0",
                "--window",
                "2",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("smsc-sim: au on ") {
                let _ = tx.send(a.trim().parse::<std::net::SocketAddr>().unwrap());
            }
        }
    });
    let addr = rx.recv_timeout(WAIT).expect("smsc-sim did not start");
    let mut e = Esme::bound(addr, BindKind::Transceiver, "bank", "secret").await;
    let result = message_id(&e.submit(submit(TO, "x", 0), Tlvs::new()).await);
    assert_eq!(result.unwrap(), "1");
    // --window 2: with receipts unanswered, two are outstanding and the rest wait.
    e.ack = Ack::Ignore;
    for _ in 0..4 {
        e.submit(submit(TO, "x", 1), Tlvs::new()).await;
    }
    e.pump(Duration::from_millis(300)).await;
    assert_eq!(e.delivered.len(), 2, "receipts sent past a window of 2");
}

#[test]
fn the_binary_refuses_carrier_flags_beside_a_config_file_and_a_zero_window() {
    for flag in [["--window", "8"], ["--receipt-delay-ms", "0"], ["--tps", "5"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_smsc-sim"))
            .args(["--config", "sim.toml"])
            .args(flag)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag:?} was accepted beside --config");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag[0]), "{flag:?}: {err}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smsc-sim"))
        .args(["--window", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "--window 0 was accepted");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--window"));
}

#[tokio::test]
async fn quirks_send_error_responses_with_a_body_and_successes_without_one() {
    let sim = start("au", |c| {
        c.quirks.error_response_body = true;
        c.quirks.bodiless_success = true;
    })
    .await;
    let mut e = trx(&sim, "au").await;
    let ok = e.submit(submit(TO, "x", 0), Tlvs::new()).await;
    assert!(ok.command_status.is_ok());
    assert_eq!(ok.body, Body::SubmitSmResp(None), "a success without its body");
    let err = e.submit(submit("", "x", 0), Tlvs::new()).await;
    assert_eq!(err.command_status, S::ESME_RINVDSTADR);
    assert!(matches!(err.body, Body::SubmitSmResp(Some(_))), "an error with a body: {err:?}");
    sim.shutdown().await;
}
