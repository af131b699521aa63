//! The ESME client against a scripted SMSC built from PDU helpers (h2's tests/h2-support
//! style). Every test runs on 127.0.0.1 and every wait is bounded.

use std::time::Duration;

use bytes::BytesMut;
use smpp_codec::{
    BindResp, Body, COctetString, CommandId, CommandStatus, DeliverSm, EsmClass, Framer, Pdu,
    ShortMessage, SubmitSm, SubmitSmResp, Tag, Tlvs,
};
use smpp_session::SessionConfig;
use smpp_tokio::{connect, Correlation, EsmeClient, EsmeConfig, IncomingEvent, TlsConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(5);

/// One scripted SMSC connection.
struct Peer<S> {
    stream: S,
    rbuf: BytesMut,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Peer<S> {
    fn new(stream: S) -> Self {
        Self { stream, rbuf: BytesMut::new() }
    }

    async fn read_pdu(&mut self) -> Pdu {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(frame) = Framer::default().next_frame(&mut self.rbuf).unwrap() {
                    return Pdu::decode(frame).unwrap();
                }
                let n = self.stream.read_buf(&mut self.rbuf).await.unwrap();
                assert!(n > 0, "client closed the connection");
            }
        })
        .await
        .expect("a PDU from the client in time")
    }

    /// Reads PDUs until one with `id`, answering enquire_link on the way.
    async fn read_until(&mut self, id: CommandId) -> Pdu {
        loop {
            let pdu = self.read_pdu().await;
            if pdu.command_id() == id {
                return pdu;
            }
            if pdu.command_id() == CommandId::ENQUIRE_LINK {
                self.send(&Pdu::new(pdu.sequence_number, Body::EnquireLinkResp)).await;
            }
        }
    }

    async fn send(&mut self, pdu: &Pdu) {
        self.send_raw(&pdu.to_bytes()).await;
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn accept_bind(&mut self) -> Pdu {
        let bind = self.read_pdu().await;
        let resp_id = bind.command_id().response_id().unwrap();
        let body = match resp_id {
            CommandId::BIND_TRANSMITTER_RESP => Body::BindTransmitterResp(Some(smsc_id())),
            CommandId::BIND_RECEIVER_RESP => Body::BindReceiverResp(Some(smsc_id())),
            _ => Body::BindTransceiverResp(Some(smsc_id())),
        };
        let tlvs = Tlvs::builder().push_u8(Tag::SC_INTERFACE_VERSION, 0x34).build();
        self.send(&Pdu::new(bind.sequence_number, body).with_tlvs(tlvs)).await;
        bind
    }

    async fn answer_submit(&mut self, submit: &Pdu, message_id: &'static str) {
        let body = Body::SubmitSmResp(Some(SubmitSmResp {
            message_id: COctetString::from_static(message_id),
        }));
        self.send(&Pdu::new(submit.sequence_number, body)).await;
    }

    async fn answer_status(&mut self, req: &Pdu, status: CommandStatus) {
        self.send(&req.error_response(status).unwrap()).await;
    }
}

fn smsc_id() -> BindResp {
    BindResp { system_id: COctetString::from_static("SCRIPTED") }
}

async fn listen() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

async fn accept(l: &TcpListener) -> Peer<TcpStream> {
    let (s, _) = tokio::time::timeout(WAIT, l.accept()).await.expect("client connects").unwrap();
    Peer::new(s)
}

fn config(port: u16) -> EsmeConfig {
    let mut c = EsmeConfig::new("127.0.0.1", port, "ISSUER01", "secret").unwrap();
    c.backoff(smpp_tokio::BackoffConfig {
        min: Duration::from_millis(20),
        max: Duration::from_millis(100),
        ..Default::default()
    });
    c
}

fn start(c: EsmeConfig) -> EsmeClient {
    let (client, conn) = connect(c).unwrap();
    tokio::spawn(conn);
    client
}

fn with_window(mut c: EsmeConfig, window: usize) -> EsmeConfig {
    let mut s = SessionConfig::default();
    s.window(window);
    c.session(s);
    c
}

/// A client on `c`, bound to the scripted SMSC listening on `l`.
async fn bound(l: &TcpListener, c: EsmeConfig) -> (EsmeClient, Peer<TcpStream>) {
    let client = start(c);
    let mut peer = accept(l).await;
    peer.accept_bind().await;
    within(client.ready()).await.unwrap();
    (client, peer)
}

fn submit_sm(text: &str) -> SubmitSm {
    SubmitSm {
        destination_addr: COctetString::from_static("819012345678"),
        registered_delivery: 1,
        short_message: ShortMessage::new(text.as_bytes().to_vec()).unwrap(),
        ..Default::default()
    }
}

fn receipt(text: &str, tlv_id: Option<&[u8]>) -> Pdu {
    let d = DeliverSm {
        source_addr: COctetString::from_static("819012345678"),
        destination_addr: COctetString::from_static("TESTCARD"),
        esm_class: EsmClass(EsmClass::DELIVERY_RECEIPT),
        short_message: ShortMessage::new(text.as_bytes().to_vec()).unwrap(),
        ..Default::default()
    };
    let mut tlvs = Tlvs::builder();
    if let Some(id) = tlv_id {
        tlvs = tlvs.receipted_message_id(id).unwrap().push_u8(Tag::MESSAGE_STATE, 2);
    }
    Pdu::new(77, Body::DeliverSm(d)).with_tlvs(tlvs.build())
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f).await.expect("in time")
}

#[tokio::test]
async fn receipt_with_decimal_text_id_correlates_to_hex_submit_resp() {
    let (l, port) = listen().await;
    let mut cfg = config(port);
    let mut correlation = smpp_dlr::CorrelatorConfig::new();
    correlation.cross_reading_after(Duration::from_millis(200));
    cfg.correlation(correlation);
    let client = start(cfg);
    let mut incoming = client.incoming().unwrap();
    let mut peer = accept(&l).await;
    let bind = peer.accept_bind().await;
    assert_eq!(bind.command_id(), CommandId::BIND_TRANSCEIVER);
    within(client.ready()).await.unwrap();

    let tag = client.next_tag();
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit_tagged(tag, submit_sm("hello"), Tlvs::new()).await }
    });
    let submit = peer.read_until(CommandId::SUBMIT_SM).await;
    peer.answer_submit(&submit, "38601fa").await;
    let submitted = within(submitting).await.unwrap().unwrap();
    assert_eq!(submitted.message_id, "38601fa");

    // 0x38601FA = 59113978: the text says decimal, zero-padded (smpp34.md §9.3).
    peer.send(&receipt("id:0059113978 sub:001 dlvrd:001 submit date:2511231200 done date:2511231201 stat:DELIVRD err:000 text:hello", None)).await;
    let Some(IncomingEvent::Message(m)) = within(incoming.recv()).await else {
        panic!("no receipt")
    };
    // Nothing learned about this SMSC yet: read across bases only after a short wait, when
    // the receipt's own resp would have come (it could be another message's early receipt).
    assert!(matches!(m.correlation, Some(Correlation::Early)), "{:?}", m.correlation);
    assert!(m.receipt.as_ref().unwrap().is_final);
    m.ack();
    let resp = peer.read_until(CommandId::DELIVER_SM_RESP).await;
    assert_eq!(resp.sequence_number, 77);
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    let Some(IncomingEvent::LateMatch(matched)) = within(incoming.recv()).await else {
        panic!("no late match")
    };
    assert_eq!((matched.tag, matched.was_early), (tag, true));
}

#[tokio::test]
async fn receipt_before_its_submit_resp_is_held_then_matched() {
    let (l, port) = listen().await;
    let client = start(config(port));
    let mut incoming = client.incoming().unwrap();
    let mut peer = accept(&l).await;
    peer.accept_bind().await;
    within(client.ready()).await.unwrap();

    let tag = client.next_tag();
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit_tagged(tag, submit_sm("race"), Tlvs::new()).await }
    });
    let submit = peer.read_until(CommandId::SUBMIT_SM).await;
    peer.send(&receipt("id:42 stat:DELIVRD err:000", Some(b"42"))).await;
    let Some(IncomingEvent::Message(m)) = within(incoming.recv()).await else { panic!() };
    assert!(matches!(m.correlation, Some(Correlation::Early)), "{:?}", m.correlation);
    m.ack();
    peer.answer_submit(&submit, "42").await;
    within(submitting).await.unwrap().unwrap();
    let Some(IncomingEvent::LateMatch(matched)) = within(incoming.recv()).await else { panic!() };
    assert_eq!(matched.tag, tag);
    assert_eq!(client.correlation_counters().early, 1);
}

#[tokio::test]
async fn full_window_holds_back_further_submits() {
    let (l, port) = listen().await;
    let (client, mut peer) = bound(&l, with_window(config(port), 2)).await;

    let mut tasks = Vec::new();
    for i in 0..5 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.submit(submit_sm(&format!("m{i}")), Tlvs::new()).await
        }));
    }
    let a = peer.read_until(CommandId::SUBMIT_SM).await;
    let b = peer.read_until(CommandId::SUBMIT_SM).await;
    // With two outstanding, nothing more may arrive until we answer.
    let mut probe = [0u8; 1];
    let more = tokio::time::timeout(Duration::from_millis(300), peer.stream.peek(&mut probe)).await;
    assert!(more.is_err(), "a third submit_sm arrived with the window full");
    peer.answer_submit(&a, "1").await;
    peer.answer_submit(&b, "2").await;
    for id in ["3", "4", "5"] {
        let s = peer.read_until(CommandId::SUBMIT_SM).await;
        peer.answer_submit(&s, id).await;
    }
    for t in tasks {
        let done = within(t).await.unwrap().unwrap();
        // Every response came after the 300 ms probe, and the latency the driver reports
        // counts from when it took the request, so the wait for a slot is in it.
        let latency = done.answered_at - done.accepted_at;
        assert!(latency >= Duration::from_millis(300), "latency {latency:?} for {done:?}");
    }
}

#[tokio::test]
async fn missing_response_times_out_with_unknown_outcome() {
    let (l, port) = listen().await;
    let mut c = config(port);
    let mut s = SessionConfig::default();
    s.response_timeout(Duration::from_millis(200));
    c.session(s);
    let (client, mut peer) = bound(&l, c).await;
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("lost"), Tlvs::new()).await }
    });
    peer.read_until(CommandId::SUBMIT_SM).await;
    let err = within(submitting).await.unwrap().unwrap_err();
    assert!(err.is_timeout() && err.outcome_unknown(), "{err}");
}

#[tokio::test]
async fn unanswered_enquire_link_reconnects() {
    let (l, port) = listen().await;
    let mut c = config(port);
    let mut s = SessionConfig::default();
    s.enquire_link_interval(Some(Duration::from_millis(100)))
        .response_timeout(Duration::from_millis(150));
    c.session(s);
    let client = start(c);
    let mut first = accept(&l).await;
    first.accept_bind().await;
    within(client.ready()).await.unwrap();
    let el = first.read_pdu().await;
    assert_eq!(el.command_id(), CommandId::ENQUIRE_LINK);
    // Never answered: the client declares the link dead and dials again.
    let mut second = accept(&l).await;
    second.accept_bind().await;
    within(async {
        while client.status().reconnects == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    drop(first);
}

#[tokio::test]
async fn throttled_submit_pauses_and_is_resent_in_order() {
    let (l, port) = listen().await;
    let mut c = config(port);
    c.throttle_pause(Duration::from_millis(50), Duration::from_millis(200));
    let (client, mut peer) = bound(&l, c).await;

    let mut tasks = Vec::new();
    for text in ["part1", "part2"] {
        let client = client.clone();
        tasks.push(tokio::spawn(async move { client.submit(submit_sm(text), Tlvs::new()).await }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut seen = Vec::new();
    let first = peer.read_until(CommandId::SUBMIT_SM).await;
    peer.answer_status(&first, CommandStatus::ESME_RTHROTTLED).await;
    seen.push(text_of(&first));
    let second = peer.read_until(CommandId::SUBMIT_SM).await;
    peer.answer_status(&second, CommandStatus::ESME_RTHROTTLED).await;
    seen.push(text_of(&second));
    for id in ["a", "b"] {
        let s = peer.read_until(CommandId::SUBMIT_SM).await;
        seen.push(text_of(&s));
        peer.answer_submit(&s, id).await;
    }
    assert_eq!(seen, ["part1", "part2", "part1", "part2"], "retried PDUs keep their order");
    for t in tasks {
        within(t).await.unwrap().unwrap();
    }
}

fn text_of(p: &Pdu) -> String {
    let Body::SubmitSm(s) = &p.body else { panic!() };
    String::from_utf8_lossy(s.short_message.as_bytes()).into_owned()
}

#[tokio::test]
async fn unbind_waits_for_pending_responses() {
    let (l, port) = listen().await;
    let (client, mut peer) = bound(&l, config(port)).await;
    let mut tasks = Vec::new();
    for i in 0..3 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.submit(submit_sm(&format!("d{i}")), Tlvs::new()).await
        }));
    }
    let mut pending = Vec::new();
    for _ in 0..3 {
        pending.push(peer.read_until(CommandId::SUBMIT_SM).await);
    }
    let unbinding = tokio::spawn({
        let client = client.clone();
        async move { client.unbind().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    for (i, p) in pending.iter().enumerate() {
        peer.answer_submit(p, ["x", "y", "z"][i]).await;
    }
    let unbind = peer.read_until(CommandId::UNBIND).await;
    peer.send(&Pdu::new(unbind.sequence_number, Body::UnbindResp)).await;
    within(unbinding).await.unwrap();
    for t in tasks {
        assert!(within(t).await.unwrap().is_ok(), "in-flight submits complete before the unbind");
    }
}

#[tokio::test]
async fn garbage_mid_stream_is_nacked_and_the_session_continues() {
    let (l, port) = listen().await;
    let (client, mut peer) = bound(&l, config(port)).await;
    // An unknown command_id: answered generic_nack ESME_RINVCMDID, connection kept.
    peer.send_raw(&[0, 0, 0, 16, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 9]).await;
    let nack = peer.read_until(CommandId::GENERIC_NACK).await;
    assert_eq!((nack.command_status, nack.sequence_number), (CommandStatus::ESME_RINVCMDID, 9));
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("after"), Tlvs::new()).await }
    });
    let s = peer.read_until(CommandId::SUBMIT_SM).await;
    peer.answer_submit(&s, "ok").await;
    assert_eq!(within(submitting).await.unwrap().unwrap().message_id, "ok");
}

#[tokio::test]
async fn wrong_password_fails_ready_and_is_not_hammered() {
    let (l, port) = listen().await;
    let client = start(config(port));
    let mut peer = accept(&l).await;
    let bind = peer.read_pdu().await;
    peer.answer_status(&bind, CommandStatus::ESME_RINVPASWD).await;
    let err = within(client.ready()).await.unwrap_err();
    assert_eq!(err.status(), Some(CommandStatus::ESME_RINVPASWD));
    // The default credential backoff is 10 minutes: no second dial within a second.
    let again = tokio::time::timeout(Duration::from_millis(500), l.accept()).await;
    assert!(again.is_err(), "the client hammered the SMSC after a credential refusal");
}

#[tokio::test]
async fn binds_over_tls() {
    let cert = rcgen::generate_simple_self_signed(vec!["smsc.test".to_string()]).unwrap();
    // Removed when the test ends, pass or fail.
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert.cert.pem()).unwrap();

    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server));

    let (l, port) = listen().await;
    let mut c = config(port);
    c.tls(Some(TlsConfig {
        server_name: Some("smsc.test".into()),
        ca_file: Some(ca),
        ..Default::default()
    }));
    let client = start(c);
    let (tcp, _) = within(l.accept()).await.unwrap();
    let tls = within(acceptor.accept(tcp)).await.unwrap();
    let mut peer = Peer::new(tls);
    peer.accept_bind().await;
    within(client.ready()).await.unwrap();
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("over tls"), Tlvs::new()).await }
    });
    let s = peer.read_until(CommandId::SUBMIT_SM).await;
    peer.answer_submit(&s, "t1").await;
    assert_eq!(within(submitting).await.unwrap().unwrap().message_id, "t1");
}

#[tokio::test]
async fn a_group_goes_out_on_one_bind_in_order_and_binds_report_occupancy() {
    let (l, port) = listen().await;
    let mut c = config(port);
    c.binds(2).correlate(false);
    let client = start(c);
    let mut incoming = client.incoming().unwrap();
    let mut a = accept(&l).await;
    a.accept_bind().await;
    let mut b = accept(&l).await;
    b.accept_bind().await;
    within(async {
        while client.binds().iter().filter(|x| x.bound).count() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;

    let parts: Vec<_> =
        ["p1", "p2", "p3"].iter().map(|t| (client.next_tag(), submit_sm(t), Tlvs::new())).collect();
    let group = tokio::spawn({
        let client = client.clone();
        async move { client.submit_group(parts).await }
    });
    // Whichever bind got the group must carry all three parts, in order.
    let (first, on_a) = tokio::select! {
        p = a.read_until(CommandId::SUBMIT_SM) => (p, true),
        p = b.read_until(CommandId::SUBMIT_SM) => (p, false),
    };
    let peer = if on_a { &mut a } else { &mut b };
    let second = peer.read_until(CommandId::SUBMIT_SM).await;
    let third = peer.read_until(CommandId::SUBMIT_SM).await;
    assert_eq!([text_of(&first), text_of(&second), text_of(&third)], ["p1", "p2", "p3"]);
    let busy = client.binds().iter().map(|x| x.in_flight).max().unwrap();
    assert_eq!(busy, 3, "three requests wait on one bind: {:?}", client.binds());
    for (p, id) in [(&first, "1"), (&second, "2"), (&third, "3")] {
        peer.answer_submit(p, id).await;
    }
    let results = within(group).await.unwrap();
    let ids: Vec<_> = results.into_iter().map(|r| r.unwrap().message_id).collect();
    assert_eq!(ids, ["1", "2", "3"]);

    // correlate(false): the receipt is parsed but not matched in memory.
    peer.send(&receipt("id:1 stat:DELIVRD err:000", Some(b"1"))).await;
    let Some(IncomingEvent::Message(m)) = within(incoming.recv()).await else { panic!() };
    assert!(m.receipt.is_some());
    assert!(m.correlation.is_none(), "{:?}", m.correlation);
    assert_eq!(client.correlation_counters().matched, 0);
    m.ack();
}

#[tokio::test]
async fn a_receipt_sent_before_incoming_is_taken_waits_for_the_application() {
    let (l, port) = listen().await;
    let (client, mut peer) = bound(&l, config(port)).await;
    peer.send(&receipt("id:abc sub:001 dlvrd:001 submit date:2511231200 done date:2511231201 stat:DELIVRD err:000 text:x", None)).await;
    // Not answered while nobody holds it: the application may still take it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut incoming = client.incoming().unwrap();
    let Some(IncomingEvent::Message(m)) = within(incoming.recv()).await else {
        panic!("the receipt was not kept for the application")
    };
    assert!(m.receipt.is_some());
    m.ack();
    let resp = peer.read_until(CommandId::DELIVER_SM_RESP).await;
    assert_eq!((resp.sequence_number, resp.command_status), (77, CommandStatus::ESME_ROK));
}

#[tokio::test]
async fn discard_incoming_acknowledges_receipts_as_they_arrive() {
    let (l, port) = listen().await;
    let mut cfg = config(port);
    cfg.discard_incoming();
    let (client, mut peer) = bound(&l, cfg).await;
    peer.send(&receipt("id:abc sub:001 dlvrd:001 submit date:2511231200 done date:2511231201 stat:DELIVRD err:000 text:x", None)).await;
    let resp = peer.read_until(CommandId::DELIVER_SM_RESP).await;
    assert_eq!((resp.sequence_number, resp.command_status), (77, CommandStatus::ESME_ROK));
    let mut incoming = client.incoming().unwrap();
    assert!(incoming.try_recv().is_err(), "a discarded message reached the application");
}

#[tokio::test]
async fn a_submit_that_asked_for_no_receipt_is_not_kept_for_one() {
    let (l, port) = listen().await;
    let client = start(config(port));
    let mut incoming = client.incoming().unwrap();
    let mut peer = accept(&l).await;
    peer.accept_bind().await;
    within(client.ready()).await.unwrap();
    for (id, registered_delivery) in [("77", 0), ("78", 1)] {
        let submitting = tokio::spawn({
            let client = client.clone();
            let sm = SubmitSm { registered_delivery, ..submit_sm("x") };
            async move { client.submit(sm, Tlvs::new()).await }
        });
        let submit = peer.read_until(CommandId::SUBMIT_SM).await;
        peer.answer_submit(&submit, id).await;
        within(submitting).await.unwrap().unwrap();
    }
    // An SMSC that sends a receipt anyway: it matches nothing recorded (held, then reported).
    peer.send(&receipt("id:77 stat:DELIVRD err:000", Some(b"77"))).await;
    let Some(IncomingEvent::Message(m)) = within(incoming.recv()).await else { panic!() };
    assert!(matches!(m.correlation, Some(Correlation::Early)), "{:?}", m.correlation);
    m.ack();
    peer.send(&receipt("id:78 stat:DELIVRD err:000", Some(b"78"))).await;
    let Some(IncomingEvent::Message(m)) = within(incoming.recv()).await else { panic!() };
    assert!(matches!(m.correlation, Some(Correlation::Matched(_))), "{:?}", m.correlation);
    m.ack();
}

#[tokio::test]
async fn a_pipeline_streams_each_result_with_its_tag_as_responses_arrive() {
    let (l, port) = listen().await;
    let (client, mut peer) = bound(&l, with_window(config(port), 2)).await;

    let mut pipeline = client.pipeline();
    for (tag, text) in [(10, "a"), (11, "b"), (12, "c")] {
        within(pipeline.submit(tag, submit_sm(text), Tlvs::new())).await.unwrap();
    }
    assert_eq!(pipeline.in_flight(), 3);
    let a = peer.read_until(CommandId::SUBMIT_SM).await;
    let b = peer.read_until(CommandId::SUBMIT_SM).await;
    assert_eq!([text_of(&a), text_of(&b)], ["a", "b"]);
    // Answered out of order, one refused: the results follow the answers.
    peer.answer_submit(&b, "B").await;
    peer.answer_status(&a, CommandStatus::ESME_RINVDSTADR).await;
    let first = within(pipeline.next()).await.unwrap();
    assert_eq!(first.tag, 11);
    let submitted = first.result.unwrap();
    assert_eq!((submitted.message_id.as_str(), submitted.tag), ("B", 11));
    let second = within(pipeline.next()).await.unwrap();
    assert_eq!(second.tag, 10);
    assert_eq!(second.result.unwrap_err().status(), Some(CommandStatus::ESME_RINVDSTADR));
    // The third waited for a free slot in the window.
    let c3 = peer.read_until(CommandId::SUBMIT_SM).await;
    assert_eq!(text_of(&c3), "c");
    peer.answer_submit(&c3, "C").await;
    let third = within(pipeline.next()).await.unwrap();
    assert_eq!((third.tag, third.result.unwrap().message_id.as_str()), (12, "C"));
    assert_eq!(pipeline.in_flight(), 0);
    assert!(pipeline.next().await.is_none(), "nothing in flight: no wait");
    assert!(pipeline.try_next().is_none());
}

#[tokio::test]
async fn a_lost_connection_completes_every_pipeline_submit_with_an_unknown_outcome() {
    let (l, port) = listen().await;
    let (client, mut peer) = bound(&l, config(port)).await;

    let mut pipeline = client.pipeline();
    for tag in [1, 2] {
        within(pipeline.submit(tag, submit_sm("x"), Tlvs::new())).await.unwrap();
    }
    peer.read_until(CommandId::SUBMIT_SM).await;
    peer.read_until(CommandId::SUBMIT_SM).await;
    drop(peer);
    let mut tags = Vec::new();
    while let Some(done) = within(pipeline.next()).await {
        let e = done.result.unwrap_err();
        assert!(e.outcome_unknown(), "{e:?}: the SMSC may have taken it");
        tags.push(done.tag);
    }
    tags.sort_unstable();
    assert_eq!(tags, [1, 2]);
}

#[tokio::test]
async fn a_receiver_only_pipeline_refuses_at_once_and_owes_no_result() {
    let (_l, port) = listen().await;
    let mut c = config(port);
    c.bind_mode(smpp_tokio::BindMode::Receiver);
    let client = start(c);
    let mut pipeline = client.pipeline();
    let e = pipeline.submit(1, submit_sm("x"), Tlvs::new()).await.unwrap_err();
    assert_eq!(e.kind(), &smpp_tokio::ErrorKind::NotAllowed, "{e}");
    assert_eq!(pipeline.in_flight(), 0);
    assert!(pipeline.next().await.is_none());
}

#[tokio::test]
async fn a_pipeline_of_a_client_that_unbound_refuses_and_owes_no_result() {
    let (l, port) = listen().await;
    let (client, mut peer) = bound(&l, config(port)).await;
    let unbinding = tokio::spawn({
        let client = client.clone();
        async move { client.unbind().await }
    });
    let unbind = peer.read_until(CommandId::UNBIND).await;
    peer.send(&Pdu::new(unbind.sequence_number, Body::UnbindResp)).await;
    within(unbinding).await.unwrap();

    let mut pipeline = client.pipeline();
    let e = within(pipeline.submit(1, submit_sm("x"), Tlvs::new())).await.unwrap_err();
    assert_eq!(e.kind(), &smpp_tokio::ErrorKind::Closed, "{e}");
    assert_eq!(pipeline.in_flight(), 0);
    assert!(within(pipeline.next()).await.is_none());
    assert!(pipeline.try_next().is_none(), "the refused submit sent no completion");
}
