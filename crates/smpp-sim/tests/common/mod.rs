//! A minimal test ESME: smpp-session's core in the ESME role over a tokio TcpStream, plus a
//! raw HTTP/1.1 client for the control API. Every wait is bounded by a deadline.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use smpp_codec::{
    Bind, Body, COctetString, CommandStatus, Npi, Pdu, ShortMessage, SubmitSm, Tlvs, Ton,
};
use smpp_session::{BindKind, Event, Role, Session, SessionConfig, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How the test ESME answers deliver_sm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ack {
    /// deliver_sm_resp ESME_ROK.
    Ok,
    /// No answer at all (the SMSC's response timer runs out).
    Ignore,
}

/// A deliver_sm received, with when it arrived.
#[derive(Clone, Debug)]
pub(crate) struct Delivered {
    /// Arrival order among everything this ESME received (see `Esme::order_of`).
    pub(crate) order: u64,
    pub(crate) at: Instant,
    pub(crate) pdu: Pdu,
}

impl Delivered {
    pub(crate) fn sm(&self) -> &SubmitSm {
        match &self.pdu.body {
            Body::DeliverSm(d) => d,
            other => panic!("not a deliver_sm: {other:?}"),
        }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(self.sm().short_message.as_bytes()).into_owned()
    }

    pub(crate) fn is_receipt(&self) -> bool {
        self.sm().esm_class.is_delivery_receipt()
    }
}

/// What the ESME talks over: TCP, or TLS over TCP.
pub(crate) trait Stream:
    tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send
{
}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

pub(crate) struct Esme {
    tcp: Box<dyn Stream>,
    pub(crate) session: Session<u32>,
    rbuf: BytesMut,
    wbuf: BytesMut,
    events: VecDeque<(u64, Event<u32>)>,
    arrivals: u64,
    pub(crate) delivered: VecDeque<Delivered>,
    pub(crate) ack: Ack,
    next_tag: u32,
    pub(crate) closed: bool,
}

pub(crate) const WAIT: Duration = Duration::from_secs(5);

impl Esme {
    pub(crate) async fn connect(addr: SocketAddr) -> Esme {
        let tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect timeout")
            .expect("connect");
        tcp.set_nodelay(true).unwrap();
        Esme::over(Box::new(tcp))
    }

    /// An ESME over an established stream (e.g. TLS).
    pub(crate) fn over(tcp: Box<dyn Stream>) -> Esme {
        let mut cfg = SessionConfig::default();
        cfg.response_timeout(Duration::from_secs(5)).window(1000);
        Esme {
            tcp,
            session: Session::new(Role::Esme, cfg, Instant::now()),
            rbuf: BytesMut::with_capacity(8192),
            wbuf: BytesMut::new(),
            events: VecDeque::new(),
            delivered: VecDeque::new(),
            ack: Ack::Ok,
            next_tag: 1,
            closed: false,
            arrivals: 0,
        }
    }

    /// Connects and binds; panics unless the bind succeeds.
    pub(crate) async fn bound(addr: SocketAddr, kind: BindKind, sys: &str, pass: &str) -> Esme {
        let mut e = Esme::connect(addr).await;
        e.bind(kind, sys, pass).await.unwrap_or_else(|s| panic!("bind {sys} refused: {s}"));
        e
    }

    /// Binds: `Ok(state)` or `Err(status)`.
    pub(crate) async fn bind(
        &mut self,
        kind: BindKind,
        sys: &str,
        pass: &str,
    ) -> Result<State, CommandStatus> {
        let bind = Bind {
            system_id: COctetString::copy_from_slice(sys.as_bytes()).unwrap(),
            password: COctetString::copy_from_slice(pass.as_bytes()).unwrap(),
            interface_version: Bind::V34,
            ..Default::default()
        };
        self.session.bind(Instant::now(), kind, bind).unwrap();
        let ev = self
            .wait_event(WAIT, |e| {
                matches!(e, Event::Bound { .. } | Event::BindRefused { .. } | Event::Closed { .. })
            })
            .await
            .expect("no bind answer");
        match ev {
            Event::Bound { state, .. } => Ok(state),
            Event::BindRefused { status } => Err(status),
            other => panic!("closed while binding: {other:?}"),
        }
    }

    /// Sends a request and returns its tag.
    pub(crate) fn send(&mut self, body: Body, tlvs: Tlvs) -> u32 {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.session.send_request(Instant::now(), body, tlvs, tag).expect("send_request");
        tag
    }

    /// Sends and waits for the outcome (Response, GenericNack, timeout...).
    pub(crate) async fn call(&mut self, body: Body, tlvs: Tlvs) -> Event<u32> {
        let tag = self.send(body, tlvs);
        self.outcome(tag).await
    }

    /// The outcome of request `tag`.
    pub(crate) async fn outcome(&mut self, tag: u32) -> Event<u32> {
        self.wait_event(WAIT, |e| match e {
            Event::Response { tag: t, .. }
            | Event::GenericNack { tag: t, .. }
            | Event::ResponseTimeout { tag: t, .. }
            | Event::MalformedResponse { tag: t, .. } => *t == tag,
            Event::Closed { .. } => true,
            _ => false,
        })
        .await
        .unwrap_or_else(|| panic!("no outcome for request {tag}"))
    }

    /// Sends and expects a response PDU.
    pub(crate) async fn request(&mut self, body: Body, tlvs: Tlvs) -> Pdu {
        match self.call(body, tlvs).await {
            Event::Response { pdu, .. } => *pdu,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    pub(crate) async fn submit(&mut self, sm: SubmitSm, tlvs: Tlvs) -> Pdu {
        self.request(Body::SubmitSm(sm), tlvs).await
    }

    /// Drives the connection until `deadline` or until it closes.
    async fn step(&mut self, deadline: Instant) {
        self.session.poll_transmit(&mut self.wbuf);
        if !self.wbuf.is_empty() {
            if self.tcp.write_all(&self.wbuf).await.is_err() {
                self.session.handle_transport_closed();
            }
            self.wbuf.clear();
        }
        if self.closed {
            tokio::time::sleep_until(deadline.into()).await;
            return;
        }
        let wake = self.session.poll_timeout().map_or(deadline, |t| t.min(deadline));
        self.rbuf.reserve(8192);
        tokio::select! {
            r = self.tcp.read_buf(&mut self.rbuf) => match r {
                Ok(n) if n > 0 => self.session.handle_input(Instant::now(), &mut self.rbuf),
                _ => self.session.handle_transport_closed(),
            },
            _ = tokio::time::sleep_until(wake.into()) => self.session.handle_timeout(Instant::now()),
        }
        self.drain();
        self.session.poll_transmit(&mut self.wbuf);
        if !self.wbuf.is_empty() {
            let _ = self.tcp.write_all(&self.wbuf).await;
            self.wbuf.clear();
        }
    }

    fn drain(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            let now = Instant::now();
            self.arrivals += 1;
            let n = self.arrivals;
            match ev {
                Event::Request { request, pdu } if matches!(pdu.body, Body::DeliverSm(_)) => {
                    if self.ack == Ack::Ok {
                        let resp = Body::DeliverSmResp(Some(Default::default()));
                        self.session
                            .respond(now, request, CommandStatus::ESME_ROK, resp, Tlvs::new())
                            .unwrap();
                    }
                    self.delivered.push_back(Delivered { order: n, at: now, pdu: *pdu });
                }
                Event::Closed { .. } => {
                    self.closed = true;
                    self.events.push_back((n, ev));
                }
                other => self.events.push_back((n, other)),
            }
        }
    }

    /// Waits for an event matching `want`, removing it from the queue.
    pub(crate) async fn wait_event(
        &mut self,
        within: Duration,
        want: impl Fn(&Event<u32>) -> bool,
    ) -> Option<Event<u32>> {
        self.wait_event_at(within, want).await.map(|(_, e)| e)
    }

    /// Like `wait_event`, with the arrival order (comparable with `Delivered::order`).
    pub(crate) async fn wait_event_at(
        &mut self,
        within: Duration,
        want: impl Fn(&Event<u32>) -> bool,
    ) -> Option<(u64, Event<u32>)> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = self.events.iter().position(|(_, e)| want(e)) {
                return self.events.remove(i);
            }
            if Instant::now() >= deadline || (self.closed && self.session.is_closed()) {
                return None;
            }
            self.step(deadline).await;
        }
    }

    /// Waits for `n` deliver_sm in total (received so far included).
    pub(crate) async fn wait_delivered(&mut self, n: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.delivered.len() < n {
            if Instant::now() >= deadline || self.closed {
                return false;
            }
            self.step(deadline).await;
        }
        true
    }

    /// Drives the connection for `d` (to collect what arrives).
    pub(crate) async fn pump(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline && !self.closed {
            self.step(deadline).await;
        }
    }

    /// Waits until the connection closes.
    pub(crate) async fn wait_closed(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while !self.closed && Instant::now() < deadline {
            self.step(deadline).await;
        }
        self.closed
    }

    /// Writes raw bytes around the session.
    pub(crate) async fn write_raw(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.unwrap();
    }
}

/// A UCS-2 submit from "CARD" to `to`.
pub(crate) fn submit(to: &str, text: &str, registered_delivery: u8) -> SubmitSm {
    SubmitSm {
        source_addr_ton: Ton::ALPHANUMERIC,
        source_addr_npi: Npi::UNKNOWN,
        source_addr: COctetString::from_static("CARD"),
        dest_addr_ton: Ton::INTERNATIONAL,
        dest_addr_npi: Npi::ISDN,
        destination_addr: COctetString::copy_from_slice(to.as_bytes()).unwrap(),
        registered_delivery,
        data_coding: 0x08,
        short_message: ShortMessage::new(ucs2(text)).unwrap(),
        ..Default::default()
    }
}

pub(crate) fn ucs2(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// The message_id of a submit_sm_resp / data_sm_resp, or its error status.
pub(crate) fn message_id(pdu: &Pdu) -> Result<String, CommandStatus> {
    if !pdu.command_status.is_ok() {
        return Err(pdu.command_status);
    }
    match &pdu.body {
        Body::SubmitSmResp(Some(r)) | Body::DataSmResp(Some(r)) => {
            Ok(r.message_id.to_str().unwrap().to_owned())
        }
        Body::SubmitMultiResp(Some(r)) => Ok(r.message_id.to_str().unwrap().to_owned()),
        other => panic!("no message_id in {other:?}"),
    }
}

pub(crate) fn status(pdu: &Pdu) -> CommandStatus {
    pdu.command_status
}

/// One HTTP/1.1 request with `Connection: close`; returns (status code, body).
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut out)).await.expect("http timeout").unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("http response");
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, body.to_owned())
}
