//! Two cores, an ESME and an SMSC, driven against each other on a virtual clock.

mod util;

use std::time::Duration;

use proptest::prelude::*;
use smpp_codec::{
    Body, COctetString, CommandId, CommandStatus, DeliverSm, Pdu, SequenceNumber, SubmitSmResp,
    Tlvs,
};

use self::util::{bind_body, bytes_of, hex, states, submit, take_output, Pair};
use crate::{
    BindKind, CloseReason, Event, IncomingRequest, PeerError, SendError, SessionConfig, State,
    Timer,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn config(f: impl FnOnce(&mut SessionConfig)) -> SessionConfig {
    let mut c = SessionConfig::default();
    f(&mut c);
    c
}

fn responses(events: &[Event<u64>]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Response { tag, .. } => Some(*tag),
            _ => None,
        })
        .collect()
}

// ------------------------------------------------------------------------- bind

#[test]
fn binds_as_transmitter_receiver_and_transceiver() {
    for kind in [BindKind::Transmitter, BindKind::Receiver, BindKind::Transceiver] {
        let mut p = Pair::default_pair();
        p.esme.bind(p.now, kind, bind_body("esme1")).unwrap();
        p.drive();
        let Some(Event::Request { request, pdu }) = p.smsc.poll_event() else {
            panic!("the SMSC application sees the bind")
        };
        assert_eq!(pdu.command_id(), kind.command_id());
        p.smsc.accept_bind(p.now, request, COctetString::new("SMSC").unwrap()).unwrap();
        p.drive();
        assert_eq!(
            p.esme_events(),
            [Event::Bound {
                state: kind.bound_state(),
                system_id: COctetString::new("SMSC").unwrap(),
                interface_version: Some(0x34),
            }]
        );
        assert_eq!(
            p.smsc_events(),
            [Event::Bound {
                state: kind.bound_state(),
                system_id: COctetString::new("esme1").unwrap(),
                interface_version: Some(0x34),
            }]
        );
        assert_eq!(states(&p), (kind.bound_state(), kind.bound_state()));
    }
}

#[test]
fn refused_bind_leaves_the_esme_open_and_able_to_bind_again() {
    let mut p = Pair::default_pair();
    p.esme.bind(p.now, BindKind::Transceiver, bind_body("esme1")).unwrap();
    p.drive();
    let Some(Event::Request { request, .. }) = p.smsc.poll_event() else { panic!() };
    p.smsc.reject_bind(p.now, request, CommandStatus::ESME_RINVPASWD).unwrap();
    p.drive();
    assert_eq!(p.esme_events(), [Event::BindRefused { status: CommandStatus::ESME_RINVPASWD }]);
    assert_eq!(states(&p), (State::Open, State::Open));
    assert_eq!(p.esme.poll_timeout(), None, "the bind timer stopped");
    p.bind(BindKind::Transceiver);
}

#[test]
fn reject_bind_with_rok_is_refused() {
    let mut p = Pair::default_pair();
    p.esme.bind(p.now, BindKind::Transmitter, bind_body("e")).unwrap();
    p.drive();
    let Some(Event::Request { request, .. }) = p.smsc.poll_event() else { panic!() };
    assert_eq!(
        p.smsc.reject_bind(p.now, request, CommandStatus::ESME_ROK),
        Err(SendError::OkIsNotARejection)
    );
    let wrong = IncomingRequest { sequence_number: request.sequence_number + 1, ..request };
    assert_eq!(
        p.smsc.accept_bind(p.now, wrong, COctetString::new("S").unwrap()),
        Err(SendError::UnknownBind)
    );
}

#[test]
fn unanswered_bind_closes_after_the_bind_timeout() {
    let mut p = Pair::new(
        config(|c| {
            c.bind_timeout(secs(5));
        }),
        config(|c| {
            c.session_init_timeout(None);
        }),
    );
    p.esme.bind(p.now, BindKind::Receiver, bind_body("e")).unwrap();
    p.drive();
    p.advance(secs(5));
    assert_eq!(
        p.esme_events(),
        [Event::Closed { reason: CloseReason::BindTimeout, unacked: vec![] }]
    );
}

#[test]
fn smsc_closes_when_no_bind_arrives_in_time() {
    let mut p = Pair::default_pair();
    assert_eq!(p.smsc.next_timer(), Some((Timer::SessionInit, p.t0 + secs(10))));
    p.advance(secs(10));
    assert_eq!(
        p.smsc_events(),
        [Event::Closed { reason: CloseReason::SessionInitTimeout, unacked: vec![] }]
    );
    assert_eq!(p.esme.state(), State::Open);
}

#[test]
fn second_bind_is_answered_ralybnd_by_the_session() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    assert!(matches!(
        p.esme.bind(p.now, BindKind::Receiver, bind_body("e")),
        Err(SendError::NotAllowed { state: State::BoundTx, .. })
    ));
    let again = Pdu::new(77, Body::BindReceiver(bind_body("esme1")));
    let out = p.inject_into_smsc(&bytes_of(&again));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].command_id(), CommandId::BIND_RECEIVER_RESP);
    assert_eq!(out[0].command_status, CommandStatus::ESME_RALYBND);
    assert_eq!(out[0].sequence_number, 77);
    assert_eq!(
        p.smsc_events(),
        [Event::PeerError { error: PeerError::AlreadyBound { command: CommandId::BIND_RECEIVER } }]
    );
    assert_eq!(p.smsc.state(), State::BoundTx);
}

#[test]
fn a_bind_while_another_awaits_the_application_is_answered_ralybnd() {
    let mut p = Pair::default_pair();
    let first = Pdu::new(1, Body::BindTransmitter(bind_body("a")));
    assert!(p.inject_into_smsc(&bytes_of(&first)).is_empty());
    let second = Pdu::new(2, Body::BindReceiver(bind_body("a")));
    let out = p.inject_into_smsc(&bytes_of(&second));
    assert_eq!(
        (out[0].command_id(), out[0].command_status, out[0].sequence_number),
        (CommandId::BIND_RECEIVER_RESP, CommandStatus::ESME_RALYBND, 2)
    );
    let events = p.smsc_events();
    let Event::Request { request, .. } = events[0] else { panic!("{events:?}") };
    // The first is still the one to decide.
    p.smsc.accept_bind(p.now, request, COctetString::new("S").unwrap()).unwrap();
    assert_eq!(p.smsc.state(), State::BoundTx);
}

#[test]
fn enquire_link_before_bind_is_tolerated_and_answered() {
    let mut p = Pair::default_pair();
    let out = p.inject_into_smsc(&bytes_of(&Pdu::new(3, Body::EnquireLink)));
    assert_eq!(
        (out[0].command_id(), out[0].command_status, out[0].sequence_number),
        (CommandId::ENQUIRE_LINK_RESP, CommandStatus::ESME_ROK, 3)
    );
    assert!(p.smsc_events().is_empty());
}

#[test]
fn outbind_is_reported_to_the_esme_and_not_answered() {
    let mut p = Pair::default_pair();
    let outbind = Pdu::new(
        1,
        Body::Outbind(smpp_codec::Outbind {
            system_id: COctetString::new("SMSC").unwrap(),
            password: COctetString::new("pw").unwrap(),
        }),
    );
    assert!(p.inject_into_esme(&bytes_of(&outbind)).is_empty());
    let events = p.esme_events();
    assert!(
        matches!(&events[..], [Event::Outbind { outbind }] if outbind.password.as_bytes() == b"pw")
    );
}

// ------------------------------------------------------------------------- allowed-PDU matrix

#[test]
fn esme_refuses_to_send_submit_before_bind() {
    let mut p = Pair::default_pair();
    assert_eq!(
        p.esme.send_request(p.now, submit("8190"), Tlvs::new(), 1),
        Err(SendError::NotAllowed { state: State::Open, command: CommandId::SUBMIT_SM })
    );
}

#[test]
fn submit_before_bind_is_answered_rinvbndsts() {
    let mut p = Pair::default_pair();
    let out = p.inject_into_smsc(&bytes_of(&Pdu::new(9, submit("8190"))));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].command_id(), CommandId::SUBMIT_SM_RESP);
    assert_eq!(out[0].command_status, CommandStatus::ESME_RINVBNDSTS);
    assert_eq!(out[0].sequence_number, 9);
    assert!(!out[0].body.body_present(), "error responses are header-only");
    assert_eq!(
        p.smsc_events(),
        [Event::PeerError {
            error: PeerError::NotAllowed { command: CommandId::SUBMIT_SM, state: State::Open }
        }]
    );
    assert_eq!(p.smsc.counters().refused, 1);
}

#[test]
fn submit_on_a_receiver_bind_is_answered_rinvbndsts() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Receiver);
    assert_eq!(
        p.esme.send_request(p.now, submit("8190"), Tlvs::new(), 1),
        Err(SendError::NotAllowed { state: State::BoundRx, command: CommandId::SUBMIT_SM })
    );
    let out = p.inject_into_smsc(&bytes_of(&Pdu::new(3, submit("8190"))));
    assert_eq!(
        (out[0].command_id(), out[0].command_status),
        (CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RINVBNDSTS)
    );
    // The other direction: deliver_sm to a transmitter-only ESME.
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    let deliver = Pdu::new(4, Body::DeliverSm(DeliverSm::default()));
    let out = p.inject_into_esme(&bytes_of(&deliver));
    assert_eq!(
        (out[0].command_id(), out[0].command_status),
        (CommandId::DELIVER_SM_RESP, CommandStatus::ESME_RINVBNDSTS)
    );
}

#[test]
fn alert_notification_is_never_answered() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Receiver);
    let alert = Pdu::new(5, Body::AlertNotification(smpp_codec::AlertNotification::default()));
    assert!(p.inject_into_esme(&bytes_of(&alert)).is_empty());
    assert!(matches!(&p.esme_events()[..], [Event::AlertNotification { .. }]));
    // Not allowed on a transmitter: still not answered, only reported.
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    assert!(p.inject_into_esme(&bytes_of(&alert)).is_empty());
    assert!(matches!(
        &p.esme_events()[..],
        [Event::PeerError { error: PeerError::NotAllowed { .. } }]
    ));
}

// ------------------------------------------------------------------------- requests and window

#[test]
fn submit_and_deliver_round_trip_with_tags() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    let seq = p.esme.send_request(p.now, submit("819012345678"), Tlvs::new(), 1001).unwrap();
    assert_eq!(seq, SequenceNumber::FIRST.next(), "the bind used 1");
    p.drive();
    let rest = p.smsc_answers_all();
    assert!(rest.is_empty());
    let events = p.esme_events();
    let [Event::Response { tag: 1001, pdu }] = &events[..] else { panic!("{events:?}") };
    let Body::SubmitSmResp(Some(r)) = &pdu.body else { panic!() };
    assert_eq!(r.message_id.as_bytes(), b"m2");

    // And SMSC → ESME: deliver_sm, answered by the ESME application.
    p.smsc.send_request(p.now, Body::DeliverSm(DeliverSm::default()), Tlvs::new(), 5).unwrap();
    p.drive();
    let Some(Event::Request { request, .. }) = p.esme.poll_event() else { panic!() };
    assert_eq!(
        p.esme.respond(
            p.now,
            request,
            CommandStatus::ESME_ROK,
            Body::SubmitSmResp(None),
            Tlvs::new()
        ),
        Err(SendError::ResponseMismatch {
            request: CommandId::DELIVER_SM,
            expected: CommandId::DELIVER_SM_RESP,
            got: CommandId::SUBMIT_SM_RESP
        })
    );
    p.esme
        .respond(
            p.now,
            request,
            CommandStatus::ESME_ROK,
            Body::DeliverSmResp(Some(SubmitSmResp::default())),
            Tlvs::new(),
        )
        .unwrap();
    p.drive();
    assert_eq!(responses(&p.smsc_events()), [5]);
}

#[test]
fn a_message_id_response_is_the_octets_of_the_response_with_that_body() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    p.esme.send_request(p.now, submit("819012345678"), Tlvs::new(), 1).unwrap();
    p.esme.send_request(p.now, Body::QuerySm(Default::default()), Tlvs::new(), 2).unwrap();
    p.drive();
    let requests = p.smsc_requests();
    let [submit_req, query_req] = requests[..] else { panic!("{requests:?}") };
    let refused =
        |why| Err(SendError::NotAMessageIdResponse { request: CommandId::SUBMIT_SM, why });
    let too_long = [b'7'; 65];
    assert_eq!(
        p.smsc.respond_message_id(p.now, submit_req, &too_long),
        refused("message_id must be at most 64 octets without a NUL")
    );
    assert_eq!(
        p.smsc.respond_message_id(p.now, submit_req, b"12\x003"),
        refused("message_id must be at most 64 octets without a NUL")
    );
    assert_eq!(
        p.smsc.respond_message_id(p.now, query_req, b"12"),
        Err(SendError::NotAMessageIdResponse {
            request: CommandId::QUERY_SM,
            why: "its response has more fields than message_id"
        })
    );
    assert!(take_output(&mut p.smsc).is_empty(), "a refusal writes nothing");

    let id = [b'f'; 64];
    p.smsc.respond_message_id(p.now, submit_req, &id).unwrap();
    let body = Body::SubmitSmResp(Some(SubmitSmResp {
        message_id: COctetString::new(id.to_vec()).unwrap(),
    }));
    let expected = Pdu::new(submit_req.sequence_number, body);
    assert_eq!(take_output(&mut p.smsc), [expected]);

    // ESME side: a deliver_sm answered with the unused, empty message_id (smpp34.md §4.6.2).
    p.smsc.send_request(p.now, Body::DeliverSm(DeliverSm::default()), Tlvs::new(), 5).unwrap();
    p.drive();
    let Some(Event::Request { request, .. }) = p.esme.poll_event() else { panic!() };
    p.esme.respond_message_id(p.now, request, b"").unwrap();
    let mut sent = bytes::BytesMut::new();
    p.esme.poll_transmit(&mut sent);
    let expected =
        Pdu::new(request.sequence_number, Body::DeliverSmResp(Some(SubmitSmResp::default())));
    assert_eq!(sent.len(), 17, "header and one NUL");
    assert_eq!(Pdu::decode(sent.freeze()).unwrap(), expected);
}

#[test]
fn a_borrowed_request_is_sent_as_the_owned_one_and_keeps_its_window_slot() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    let tlvs = Tlvs::builder().message_payload(b"hi").unwrap().build();
    let body = submit("819012345678");
    let first = p.esme.send_request_ref(p.now, &body, &tlvs, 7).unwrap();
    let second = p.esme.send_request(p.now, body.clone(), tlvs.clone(), 8).unwrap();
    assert_eq!(p.esme.in_flight(), 2);
    let sent = take_output(&mut p.esme);
    let expected = |seq: SequenceNumber| Pdu::new(seq.get(), body.clone()).with_tlvs(tlvs.clone());
    assert_eq!(sent, [expected(first), expected(second)]);
}

#[test]
fn full_window_refuses_then_reports_available_after_a_response() {
    let mut p = Pair::new(
        config(|c| {
            c.window(2);
        }),
        SessionConfig::default(),
    );
    p.bind(BindKind::Transmitter);
    p.esme.send_request(p.now, submit("1"), Tlvs::new(), 1).unwrap();
    p.esme.send_request(p.now, submit("2"), Tlvs::new(), 2).unwrap();
    assert_eq!(p.esme.window_available(), 0);
    assert_eq!(p.esme.send_request(p.now, submit("3"), Tlvs::new(), 3), Err(SendError::WindowFull));
    p.drive();
    // The SMSC answers only the first.
    let Some(Event::Request { request, .. }) = p.smsc.poll_event() else { panic!() };
    p.smsc.respond_error(p.now, request, CommandStatus::ESME_RTHROTTLED).unwrap();
    p.drive();
    let events = p.esme_events();
    assert!(matches!(
        &events[..],
        [Event::Response { tag: 1, pdu }, Event::WindowAvailable]
            if pdu.command_status == CommandStatus::ESME_RTHROTTLED
    ));
    p.esme.send_request(p.now, submit("3"), Tlvs::new(), 3).unwrap();
    assert_eq!(p.esme.counters().window_high_water, 2);
}

#[test]
fn response_timeout_fails_the_request_and_frees_its_slot() {
    let mut p = Pair::new(
        config(|c| {
            c.window(1).response_timeout(secs(5));
        }),
        SessionConfig::default(),
    );
    p.bind(BindKind::Transmitter);
    let seq = p.esme.send_request(p.now, submit("1"), Tlvs::new(), 11).unwrap();
    assert_eq!(p.esme.next_timer(), Some((Timer::Response(seq), p.now + secs(5))));
    p.drive();
    let held = p.smsc_events(); // the SMSC application sits on it
    p.advance(secs(5));
    assert_eq!(
        p.esme_events(),
        [Event::ResponseTimeout { tag: 11, sequence_number: seq }, Event::WindowAvailable]
    );
    assert_eq!(p.esme.window_available(), 1);
    assert_eq!(p.esme.counters().response_timeouts, 1);
    // The late answer matches nothing: reported, not answered.
    let Event::Request { request, .. } = &held[0] else { panic!() };
    p.smsc.respond_error(p.now, *request, CommandStatus::ESME_RSYSERR).unwrap();
    p.drive();
    assert!(matches!(&p.esme_events()[..], [Event::UnexpectedResponse { .. }]));
    assert_eq!(p.esme.counters().unexpected_responses, 1);
    assert_eq!(p.smsc.counters().received.get(CommandId::GENERIC_NACK), 0);
}

#[test]
fn sequence_numbers_wrap_from_0x7fffffff_to_1() {
    let mut p = Pair::new(
        config(|c| {
            c.first_sequence_number(SequenceNumber::new(0x7FFF_FFFE).unwrap());
        }),
        SessionConfig::default(),
    );
    p.bind(BindKind::Transmitter); // uses 0x7FFFFFFE
    let a = p.esme.send_request(p.now, submit("1"), Tlvs::new(), 1).unwrap();
    let b = p.esme.send_request(p.now, submit("2"), Tlvs::new(), 2).unwrap();
    assert_eq!((a.get(), b.get()), (0x7FFF_FFFF, 1));
    p.drive();
    p.smsc_answers_all();
    assert_eq!(responses(&p.esme_events()), [1, 2]);
}

#[test]
fn peer_sequence_numbers_are_echoed_even_out_of_range() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    // Seen from real SMSCs (smpp34.md §8.2): 0, 0xA2859F22, 0x806A179B.
    let el = Pdu::new(0x806A_179B, Body::EnquireLink);
    let out = p.inject_into_esme(&bytes_of(&el));
    assert_eq!(out[0].command_id(), CommandId::ENQUIRE_LINK_RESP);
    assert_eq!(out[0].sequence_number, 0x806A_179B);
    for seq in [0, 0xA285_9F22] {
        let deliver = Pdu::new(seq, Body::DeliverSm(DeliverSm::default()));
        assert!(p.inject_into_esme(&bytes_of(&deliver)).is_empty());
        let Some(Event::Request { request, .. }) = p.esme.poll_event() else { panic!() };
        assert_eq!(request.sequence_number, seq);
        p.esme.respond_error(p.now, request, CommandStatus::ESME_RX_T_APPN).unwrap();
        let out = take_output(&mut p.esme);
        assert_eq!(out[0].sequence_number, seq);
        assert_eq!(out[0].command_status, CommandStatus::ESME_RX_T_APPN);
    }
}

#[test]
fn generic_nack_from_the_peer_fails_the_pending_request_and_is_not_answered() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    let seq = p.esme.send_request(p.now, submit("1"), Tlvs::new(), 21).unwrap();
    take_output(&mut p.esme);
    let nack = hex(&format!("00000010 80000000 00000008 {:08x}", seq.get()));
    assert!(p.inject_into_esme(&nack).is_empty());
    assert_eq!(
        p.esme_events(),
        [Event::GenericNack { tag: 21, sequence_number: seq, status: CommandStatus::ESME_RSYSERR }]
    );
    assert_eq!(p.esme.in_flight(), 0);
    // A generic_nack for nothing pending (seq 0) is only reported.
    assert!(p.inject_into_esme(&hex("00000010 80000000 00000003 00000000")).is_empty());
    assert!(matches!(&p.esme_events()[..], [Event::UnexpectedResponse { .. }]));
}

#[test]
fn a_response_of_the_wrong_type_does_not_complete_the_request() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    let seq = p.esme.send_request(p.now, submit("1"), Tlvs::new(), 1).unwrap();
    take_output(&mut p.esme);
    let wrong = Pdu::new(seq.get(), Body::QuerySmResp(None));
    p.inject_into_esme(&bytes_of(&wrong));
    assert!(matches!(&p.esme_events()[..], [Event::UnexpectedResponse { .. }]));
    assert_eq!(p.esme.in_flight(), 1);
}

// ------------------------------------------------------------------------- enquire_link, timers

#[test]
fn enquire_link_is_sent_after_idle_and_answered() {
    let mut p = Pair::new(
        SessionConfig::default(),
        config(|c| {
            c.enquire_link_interval(None);
        }),
    );
    p.bind(BindKind::Transceiver);
    assert_eq!(p.esme.next_timer(), Some((Timer::EnquireLink, p.now + secs(30))));
    p.advance(secs(29));
    assert_eq!(p.esme.counters().sent.get(CommandId::ENQUIRE_LINK), 0);
    p.advance(secs(1));
    assert_eq!(p.esme.counters().sent.get(CommandId::ENQUIRE_LINK), 1);
    assert_eq!(p.smsc.counters().sent.get(CommandId::ENQUIRE_LINK_RESP), 1);
    assert_eq!(p.esme.counters().received.get(CommandId::ENQUIRE_LINK_RESP), 1);
    assert!(p.esme_events().is_empty(), "keep-alives are not the app's business");
    assert!(p.smsc_events().is_empty());
    // Answered, so the next one is due a full interval after the answer.
    assert_eq!(p.esme.next_timer(), Some((Timer::EnquireLink, p.now + secs(30))));
    p.advance(secs(300));
    assert_eq!(p.esme.counters().sent.get(CommandId::ENQUIRE_LINK), 11);
    assert_eq!(p.esme.state(), State::BoundTrx);
}

#[test]
fn traffic_postpones_the_enquire_link() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    for _ in 0..5 {
        p.advance(secs(20));
        p.esme.send_request(p.now, submit("1"), Tlvs::new(), 1).unwrap();
        p.drive();
        p.smsc_answers_all();
    }
    assert_eq!(p.esme.counters().sent.get(CommandId::ENQUIRE_LINK), 0);
}

#[test]
fn unanswered_enquire_link_closes_the_session_as_dead_peer() {
    let mut p = Pair::new(
        config(|c| {
            c.response_timeout(secs(10));
        }),
        config(|c| {
            c.enquire_link_interval(None);
        }),
    );
    p.bind(BindKind::Transmitter);
    p.esme.send_request(p.now, submit("1"), Tlvs::new(), 31).unwrap();
    p.esme_to_smsc_lost = true;
    p.drive();
    // The submit times out at 10 s; the enquire_link goes out at 30 s and dies at 40 s.
    p.advance(secs(39));
    assert!(!p.esme.is_closed());
    p.advance(secs(1));
    let events = p.esme_events();
    assert_eq!(
        events.last(),
        Some(&Event::Closed { reason: CloseReason::EnquireLinkTimeout, unacked: vec![] })
    );
    assert_eq!(p.esme.counters().enquire_link_timeouts, 1);
    assert_eq!(p.esme.poll_timeout(), None);
}

#[test]
fn inactivity_timeout_closes_and_keepalives_do_not_count() {
    let mut p = Pair::new(
        config(|c| {
            c.inactivity_timeout(Some(secs(100)));
        }),
        SessionConfig::default(),
    );
    p.bind(BindKind::Transmitter);
    p.advance(secs(99));
    assert!(p.esme.counters().sent.get(CommandId::ENQUIRE_LINK) > 0);
    assert!(!p.esme.is_closed());
    p.advance(secs(1));
    assert!(matches!(
        &p.esme_events()[..],
        [Event::Closed { reason: CloseReason::InactivityTimeout, .. }]
    ));
}

// ------------------------------------------------------------------------- unbind and close

#[test]
fn unbind_drains_pending_requests_before_sending_unbind() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    p.esme.send_request(p.now, submit("1"), Tlvs::new(), 1).unwrap();
    p.esme.send_request(p.now, submit("2"), Tlvs::new(), 2).unwrap();
    p.esme.unbind(p.now).unwrap();
    assert_eq!(p.esme.state(), State::Unbinding);
    assert_eq!(p.esme.send_request(p.now, submit("3"), Tlvs::new(), 3), Err(SendError::Closing));
    assert_eq!(p.esme.unbind(p.now), Err(SendError::Closing));
    p.drive();
    assert_eq!(p.smsc.counters().received.get(CommandId::UNBIND), 0);
    // Incoming requests are still delivered while draining.
    p.smsc.send_request(p.now, Body::DeliverSm(DeliverSm::default()), Tlvs::new(), 9).unwrap();
    p.drive();
    assert!(matches!(&p.esme_events()[..], [Event::Request { .. }]));
    p.smsc_answers_all();
    let events = p.esme_events();
    assert_eq!(responses(&events), [1, 2]);
    assert_eq!(
        &events[2..],
        [Event::Unbound, Event::Closed { reason: CloseReason::Unbound, unacked: vec![] }]
    );
    assert!(matches!(
        &p.smsc_events()[..],
        [
            Event::Unbound,
            Event::Closed {
                reason: CloseReason::PeerUnbound,
                unacked
            }
        ] if unacked.len() == 1 && unacked[0].tag == 9
    ));
    assert_eq!(states(&p), (State::Closed, State::Closed));
}

#[test]
fn unbind_gives_up_on_a_silent_peer_after_the_response_timeouts() {
    let mut p = Pair::new(
        config(|c| {
            c.response_timeout(secs(5)).enquire_link_interval(None);
        }),
        SessionConfig::default(),
    );
    p.bind(BindKind::Transmitter);
    p.esme.send_request(p.now, submit("1"), Tlvs::new(), 1).unwrap();
    p.esme_to_smsc_lost = true;
    p.esme.unbind(p.now).unwrap();
    p.drive();
    p.advance(secs(5));
    assert_eq!(p.esme.counters().sent.get(CommandId::UNBIND), 1);
    p.advance(secs(5));
    let events = p.esme_events();
    assert!(matches!(events[0], Event::ResponseTimeout { tag: 1, .. }));
    assert_eq!(
        events.last(),
        Some(&Event::Closed { reason: CloseReason::UnbindTimeout, unacked: vec![] })
    );
}

#[test]
fn peer_unbind_is_answered_and_hands_back_unacked_requests() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    p.esme.send_request(p.now, submit("1"), Tlvs::new(), 41).unwrap();
    p.drive();
    p.smsc_events();
    p.smsc.unbind(p.now).unwrap(); // the SMSC has nothing pending, so unbind goes at once
    p.drive();
    let events = p.esme_events();
    assert_eq!(events[0], Event::Unbound);
    let Event::Closed { reason: CloseReason::PeerUnbound, unacked } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(unacked.iter().map(|u| u.tag).collect::<Vec<_>>(), [41]);
    assert_eq!(states(&p), (State::Closed, State::Closed));
}

#[test]
fn close_hands_back_every_unacked_request_with_its_tag() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    let mut seqs = Vec::new();
    for tag in [7, 8, 9] {
        seqs.push(p.esme.send_request(p.now, submit("1"), Tlvs::new(), tag).unwrap());
    }
    p.drive();
    p.smsc_answers_all(); // answers all three …
    p.esme_events();
    for tag in [10, 11] {
        seqs.push(p.esme.send_request(p.now, submit("1"), Tlvs::new(), tag).unwrap());
    }
    p.esme.close(CloseReason::Local);
    let events = p.esme_events();
    let [Event::Closed { reason: CloseReason::Local, unacked }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(
        unacked.iter().map(|u| (u.tag, u.sequence_number, u.command_id)).collect::<Vec<_>>(),
        [(10, seqs[3], CommandId::SUBMIT_SM), (11, seqs[4], CommandId::SUBMIT_SM)]
    );
    assert_eq!(p.esme.send_request(p.now, submit("1"), Tlvs::new(), 12), Err(SendError::Closed));
    p.esme.handle_transport_closed();
    assert!(p.esme_events().is_empty(), "closing twice reports once");
}

#[test]
fn transport_close_hands_back_unacked_requests() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    p.esme.send_request(p.now, submit("1"), Tlvs::new(), 5).unwrap();
    p.esme.handle_transport_closed();
    assert!(matches!(
        &p.esme_events()[..],
        [Event::Closed { reason: CloseReason::TransportClosed, unacked }] if unacked[0].tag == 5
    ));
}

// ------------------------------------------------------------------------- malformed input

#[test]
fn garbage_mid_stream_is_answered_and_the_session_continues() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    // An unknown command_id with a sane length: generic_nack ESME_RINVCMDID, skip it.
    let unknown = hex("00000014 00000A00 00000000 00000033 deadbeef");
    // A submit_sm cut short (service_type has no NUL): generic_nack ESME_RINVCMDLEN.
    let truncated = hex("00000013 00000004 00000000 00000034 414243");
    // A submit_sm whose destination_addr is 21 characters: its own resp, ESME_RINVDSTADR.
    let mut long_dest = Pdu::new(0x35, submit("1")).to_bytes().to_vec();
    let at = 16 + 6; // header, service_type, TON, NPI, source_addr, TON, NPI
    assert_eq!(long_dest[at], b'1');
    long_dest.splice(at..at + 1, *b"123456789012345678901");
    let len = long_dest.len() as u32;
    long_dest[..4].copy_from_slice(&len.to_be_bytes());
    let mut stream = unknown;
    stream.extend_from_slice(&truncated);
    stream.extend_from_slice(&long_dest);
    // Fed in awkward pieces.
    let mut out = Vec::new();
    for chunk in stream.chunks(7) {
        out.extend(p.inject_into_smsc(chunk));
    }
    let got: Vec<_> =
        out.iter().map(|r| (r.command_id(), r.command_status, r.sequence_number)).collect();
    assert_eq!(
        got,
        [
            (CommandId::GENERIC_NACK, CommandStatus::ESME_RINVCMDID, 0x33),
            (CommandId::GENERIC_NACK, CommandStatus::ESME_RINVCMDLEN, 0x34),
            (CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RINVDSTADR, 0x35),
        ]
    );
    let events = p.smsc_events();
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| matches!(e, Event::PeerError { error: PeerError::Malformed(_) })));
    assert_eq!(p.smsc.counters().decode_errors, 3);
    // Still bound and working.
    assert_eq!(p.smsc.state(), State::BoundTx);
    p.esme.send_request(p.now, submit("1"), Tlvs::new(), 1).unwrap();
    p.drive();
    p.smsc_answers_all();
    assert_eq!(responses(&p.esme_events()), [1]);
}

#[test]
fn command_length_8_is_nacked_rinvcmdlen_then_closed() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    let out = p.inject_into_smsc(&hex("00000008 00000015"));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].command_id(), out[0].command_status, out[0].sequence_number),
        (CommandId::GENERIC_NACK, CommandStatus::ESME_RINVCMDLEN, 0)
    );
    let events = p.smsc_events();
    assert!(matches!(
        &events[..],
        [
            Event::PeerError { error: PeerError::Malformed(_) },
            Event::Closed { reason: CloseReason::FramingLost, .. }
        ]
    ));
    // Anything after is ignored.
    assert!(p.inject_into_smsc(&bytes_of(&Pdu::new(1, Body::EnquireLink))).is_empty());
}

#[test]
fn command_length_above_the_maximum_closes_before_the_body_arrives() {
    let mut p = Pair::new(
        SessionConfig::default(),
        config(|c| {
            c.max_command_length(1024);
        }),
    );
    p.bind(BindKind::Transceiver);
    let out = p.inject_into_smsc(&hex("00100000 00000004 00000000 00000007"));
    assert_eq!((out[0].command_id(), out[0].sequence_number), (CommandId::GENERIC_NACK, 7));
    assert!(p.smsc.is_closed());
}

#[test]
fn malformed_response_fails_the_request_without_an_answer() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transmitter);
    let seq = p.esme.send_request(p.now, submit("1"), Tlvs::new(), 61).unwrap();
    take_output(&mut p.esme);
    // submit_sm_resp whose message_id has no NUL.
    let bad = hex(&format!("00000013 80000004 00000000 {:08x} 414243", seq.get()));
    assert!(p.inject_into_esme(&bad).is_empty());
    let events = p.esme_events();
    assert!(matches!(
        &events[..],
        [Event::PeerError { .. }, Event::MalformedResponse { tag: 61, sequence_number, .. }]
            if *sequence_number == seq
    ));
    assert_eq!(p.esme.in_flight(), 0);
    assert_eq!(p.esme.state(), State::BoundTx);
}

// ------------------------------------------------------------------------- API misuse

#[test]
fn binds_and_unbind_do_not_go_through_send_request() {
    let mut p = Pair::default_pair();
    assert_eq!(
        p.esme.send_request(p.now, Body::BindTransmitter(bind_body("e")), Tlvs::new(), 0),
        Err(SendError::ManagedBySession { command: CommandId::BIND_TRANSMITTER })
    );
    assert_eq!(
        p.esme.send_request(p.now, Body::GenericNack, Tlvs::new(), 0),
        Err(SendError::NotARequest { command: CommandId::GENERIC_NACK })
    );
    assert!(matches!(p.esme.unbind(p.now), Err(SendError::NotAllowed { state: State::Open, .. })));
    assert!(matches!(
        p.smsc.bind(p.now, BindKind::Transmitter, bind_body("e")),
        Err(SendError::NotAllowed { .. })
    ));
}

// ------------------------------------------------------------------------- properties

fn bound_esme() -> Pair {
    let mut p = Pair::new(
        config(|c| {
            c.window(4).max_command_length(4096);
        }),
        SessionConfig::default(),
    );
    p.bind(BindKind::Transceiver);
    for tag in 0..3 {
        p.esme.send_request(p.now, submit("1"), Tlvs::new(), tag).unwrap();
    }
    take_output(&mut p.esme);
    p
}

/// Valid PDUs an SMSC might send, to splice into random input so that the session gets past
/// the framing check often enough to exercise its state handling.
fn plausible_pdus() -> impl Strategy<Value = Vec<u8>> {
    let seq = prop_oneof![Just(0u32), 1u32..6, any::<u32>()];
    (0usize..6, seq).prop_map(|(k, seq)| {
        let body = match k {
            0 => Body::EnquireLink,
            1 => Body::SubmitSmResp(None),
            2 => Body::DeliverSm(DeliverSm::default()),
            3 => Body::GenericNack,
            4 => Body::Unbind,
            _ => Body::EnquireLinkResp,
        };
        Pdu::new(seq, body).to_bytes().to_vec()
    })
}

proptest! {
    #[test]
    fn random_chunks_never_panic_a_bound_session(
        chunks in prop::collection::vec(
            prop_oneof![prop::collection::vec(any::<u8>(), 0..64), plausible_pdus()],
            0..24,
        ),
        steps in prop::collection::vec(0u64..40, 0..24),
    ) {
        let mut p = bound_esme();
        for (i, chunk) in chunks.iter().enumerate() {
            p.esme.handle_bytes(p.now, chunk);
            take_output(&mut p.esme);
            p.esme_events();
            if let Some(&s) = steps.get(i) {
                p.now += Duration::from_secs(s);
                p.esme.handle_timeout(p.now);
            }
            p.esme.debug_check();
            if let Some(deadline) = p.esme.poll_timeout() {
                // handle_timeout at the deadline makes progress: the deadline moves on.
                p.esme.handle_timeout(deadline);
                prop_assert!(p.esme.poll_timeout().map_or(true, |d| d > deadline));
            }
        }
        // Closing always hands back exactly the requests still awaiting an answer.
        let in_flight = p.esme.in_flight();
        p.esme.handle_transport_closed();
        if let Some(Event::Closed { unacked, .. }) = p.esme_events().pop() {
            prop_assert_eq!(unacked.len(), in_flight);
        }
    }
}

#[test]
fn requests_hold_their_own_sequence_numbers_under_load() {
    // A long run through the window: thousands of requests, answered out of order.
    let mut p = Pair::new(
        config(|c| {
            c.window(50);
        }),
        SessionConfig::default(),
    );
    p.bind(BindKind::Transceiver);
    let mut next_tag = 0u64;
    let mut got = Vec::new();
    for round in 0..100 {
        while p.esme.window_available() > 0 {
            p.esme.send_request(p.now, submit("1"), Tlvs::new(), next_tag).unwrap();
            next_tag += 1;
        }
        p.drive();
        let mut reqs = p.smsc_requests();
        if round % 2 == 0 {
            reqs.reverse();
        }
        for r in reqs {
            p.smsc.respond_error(p.now, r, CommandStatus::ESME_ROK).unwrap();
        }
        p.drive();
        got.extend(responses(&p.esme_events()));
    }
    got.sort_unstable();
    assert_eq!(got, (0..next_tag).collect::<Vec<_>>());
    assert_eq!(p.esme.counters().sent.get(CommandId::SUBMIT_SM), next_tag);
}

#[test]
fn bounded_input_hands_a_batch_over_in_slices_and_keeps_the_rest() {
    let mut p = Pair::default_pair();
    p.bind(BindKind::Transceiver);
    p.smsc_events();
    // Five submits in one read, as a window's worth arrives.
    let mut wire = bytes::BytesMut::new();
    for n in 0..5u32 {
        wire.extend_from_slice(&bytes_of(&Pdu::new(100 + n, submit("8190"))));
    }
    let requests = |events: Vec<Event<u64>>| {
        events.into_iter().filter(|e| matches!(e, Event::Request { .. })).count()
    };
    assert!(p.smsc.handle_input_bounded(p.now, &mut wire, 2), "three are left");
    assert!(wire.is_empty(), "the session took the bytes");
    assert_eq!(requests(p.smsc_events()), 2);
    assert!(p.smsc.resume_input(p.now, 2), "one is left");
    assert_eq!(requests(p.smsc_events()), 2);
    assert!(!p.smsc.resume_input(p.now, 2), "nothing is left");
    assert_eq!(requests(p.smsc_events()), 1);
    // Half a PDU stays for the next read, which completes it.
    let next = bytes_of(&Pdu::new(200, submit("8190")));
    let mut head = bytes::BytesMut::from(&next[..10]);
    assert!(!p.smsc.handle_input_bounded(p.now, &mut head, 2), "no whole PDU: read more");
    assert_eq!(requests(p.smsc_events()), 0);
    assert!(!p.smsc.handle_input_bounded(p.now, &mut bytes::BytesMut::from(&next[10..]), 2));
    assert_eq!(requests(p.smsc_events()), 1);
}
