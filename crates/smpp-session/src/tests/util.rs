//! Two cores talking to each other on a virtual clock (quinn-proto's `tests/util.rs` `Pair`).

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use smpp_codec::{
    Bind, Body, COctetString, CommandStatus, Framer, Pdu, SubmitSm, SubmitSmResp, Tlvs,
};

use crate::{BindKind, Event, IncomingRequest, Role, Session, SessionConfig, State};

pub(super) struct Pair {
    pub(super) esme: Session<u64>,
    pub(super) smsc: Session<u64>,
    pub(super) t0: Instant,
    pub(super) now: Instant,
    /// Drop what the ESME sends (a dead link or a black-hole SMSC).
    pub(super) esme_to_smsc_lost: bool,
    /// Drop what the SMSC sends.
    pub(super) smsc_to_esme_lost: bool,
}

impl Pair {
    pub(super) fn new(esme: SessionConfig, smsc: SessionConfig) -> Self {
        let t0 = Instant::now();
        Self {
            esme: Session::new(Role::Esme, esme, t0),
            smsc: Session::new(Role::Smsc, smsc, t0),
            t0,
            now: t0,
            esme_to_smsc_lost: false,
            smsc_to_esme_lost: false,
        }
    }

    /// Default configs on both sides.
    pub(super) fn default_pair() -> Self {
        Self::new(SessionConfig::default(), SessionConfig::default())
    }

    /// Moves bytes both ways until neither side has anything to send. Events stay queued.
    pub(super) fn drive(&mut self) {
        loop {
            let mut moved = false;
            let mut buf = BytesMut::new();
            if self.esme.poll_transmit(&mut buf) {
                moved = true;
                if !self.esme_to_smsc_lost {
                    self.smsc.handle_input(self.now, &mut buf);
                }
            }
            let mut buf = BytesMut::new();
            if self.smsc.poll_transmit(&mut buf) {
                moved = true;
                if !self.smsc_to_esme_lost {
                    self.esme.handle_input(self.now, &mut buf);
                }
            }
            self.esme.debug_check();
            self.smsc.debug_check();
            if !moved {
                return;
            }
        }
    }

    /// Advances the virtual clock to `t0 + at`, firing every timer due on the way in order
    /// and driving after each.
    pub(super) fn advance_to(&mut self, at: Duration) {
        let target = self.t0 + at;
        loop {
            let next =
                [self.esme.poll_timeout(), self.smsc.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.esme.handle_timeout(self.now);
                    self.smsc.handle_timeout(self.now);
                    self.drive();
                }
                _ => break,
            }
        }
        self.now = target;
    }

    /// Advances the clock by `d` from now.
    pub(super) fn advance(&mut self, d: Duration) {
        let at = self.now + d - self.t0;
        self.advance_to(at);
    }

    pub(super) fn esme_events(&mut self) -> Vec<Event<u64>> {
        std::iter::from_fn(|| self.esme.poll_event()).collect()
    }

    pub(super) fn smsc_events(&mut self) -> Vec<Event<u64>> {
        std::iter::from_fn(|| self.smsc.poll_event()).collect()
    }

    /// The requests among the SMSC's events (the other events are taken and dropped).
    pub(super) fn smsc_requests(&mut self) -> Vec<IncomingRequest> {
        let request = |e| match e {
            Event::Request { request, .. } => Some(request),
            _ => None,
        };
        self.smsc_events().into_iter().filter_map(request).collect()
    }

    /// Binds the ESME with `kind`; the SMSC application accepts.
    pub(super) fn bind(&mut self, kind: BindKind) {
        self.esme.bind(self.now, kind, bind_body("esme1")).unwrap();
        self.drive();
        let req = self.smsc_requests().into_iter().next().expect("the SMSC sees the bind");
        self.smsc.accept_bind(self.now, req, COctetString::new("SMSC").unwrap()).unwrap();
        self.drive();
        assert_eq!(self.esme.state(), kind.bound_state());
        assert_eq!(self.smsc.state(), kind.bound_state());
        self.esme_events();
        self.smsc_events();
    }

    /// The SMSC application answers every request it was given with ESME_ROK and returns
    /// the other events.
    pub(super) fn smsc_answers_all(&mut self) -> Vec<Event<u64>> {
        let mut others = Vec::new();
        for e in self.smsc_events() {
            match e {
                Event::Request { request, .. } => {
                    let body = Body::SubmitSmResp(Some(SubmitSmResp {
                        message_id: COctetString::new(format!("m{}", request.sequence_number))
                            .unwrap(),
                    }));
                    self.smsc
                        .respond(self.now, request, CommandStatus::ESME_ROK, body, Tlvs::new())
                        .unwrap();
                }
                other => others.push(other),
            }
        }
        self.drive();
        others
    }

    /// Feeds `bytes` straight into the SMSC core and returns what it sends back, undelivered.
    pub(super) fn inject_into_smsc(&mut self, bytes: &[u8]) -> Vec<Pdu> {
        self.smsc.handle_bytes(self.now, bytes);
        take_output(&mut self.smsc)
    }

    /// Feeds `bytes` straight into the ESME core and returns what it sends back, undelivered.
    pub(super) fn inject_into_esme(&mut self, bytes: &[u8]) -> Vec<Pdu> {
        self.esme.handle_bytes(self.now, bytes);
        take_output(&mut self.esme)
    }
}

/// Everything `session` has queued, decoded.
pub(super) fn take_output(session: &mut Session<u64>) -> Vec<Pdu> {
    let mut buf = BytesMut::new();
    session.poll_transmit(&mut buf);
    let framer = Framer::default();
    let mut pdus = Vec::new();
    while let Some(frame) = framer.next_frame(&mut buf).unwrap() {
        pdus.push(Pdu::decode(frame).unwrap());
    }
    assert!(buf.is_empty());
    pdus
}

pub(super) fn bind_body(system_id: &str) -> Bind {
    Bind {
        system_id: COctetString::new(system_id.to_owned()).unwrap(),
        password: COctetString::new("secret").unwrap(),
        interface_version: Bind::V34,
        ..Default::default()
    }
}

pub(super) fn submit(dest: &str) -> Body {
    Body::SubmitSm(SubmitSm {
        destination_addr: COctetString::new(dest.to_owned()).unwrap(),
        ..Default::default()
    })
}

pub(super) fn bytes_of(pdu: &Pdu) -> Bytes {
    pdu.to_bytes()
}

/// Spaced hex to bytes: `hex("00 00 00 10 80000000")`.
pub(super) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

pub(super) fn states(p: &Pair) -> (State, State) {
    (p.esme.state(), p.smsc.state())
}
