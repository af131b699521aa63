//! A quick load check: how many submits (and receipts) per second the simulator takes.
//!
//! ```text
//! cargo run -p smpp-sim --release --example load -- [BINDS] [SUBMITS_PER_BIND] [WINDOW] [ADDR]
//! ```
//!
//! Without ADDR it starts a simulator in this process (so the client's CPU counts too); with
//! ADDR (`smsc-sim --listen ... --auth test:test`) it loads that one, and the simulator's own
//! CPU can be read from its /proc entry. Each bind is a transceiver that keeps WINDOW
//! submits in flight, asks for receipts and answers them. Stops after the submits, or 60 s.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use smpp_codec::{Bind, Body, COctetString, Framer, Npi, Pdu, ShortMessage, SubmitSm, Ton};
use smpp_sim::{SimConfig, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    ok: u64,
    errors: u64,
    receipts: u64,
}

/// Receipts received by all binds; every bind stays until all are in, so that no bind closes
/// with receipts in flight (those would be resent to another bind).
static RECEIPTS: AtomicU64 = AtomicU64::new(0);

async fn one_bind(
    addr: std::net::SocketAddr,
    n: u64,
    window: u64,
    all: u64,
    deadline: Instant,
) -> Counts {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).unwrap();
    let bind = Bind {
        system_id: COctetString::from_static("test"),
        password: COctetString::from_static("test"),
        interface_version: Bind::V34,
        ..Default::default()
    };
    let mut out = BytesMut::new();
    Pdu::new(1, Body::BindTransceiver(bind)).encode(&mut out);
    tcp.write_all(&out).await.unwrap();
    out.clear();
    let framer = Framer::default();
    let mut rbuf = BytesMut::with_capacity(64 * 1024);
    let text: Vec<u8> =
        "ご利用ありがとうございます".encode_utf16().flat_map(u16::to_be_bytes).collect();
    let submit = SubmitSm {
        source_addr_ton: Ton::ALPHANUMERIC,
        source_addr: COctetString::from_static("CARD"),
        dest_addr_ton: Ton::INTERNATIONAL,
        dest_addr_npi: Npi::ISDN,
        destination_addr: COctetString::from_static("819012345678"),
        registered_delivery: 1,
        data_coding: 8,
        short_message: ShortMessage::new(text).unwrap(),
        ..Default::default()
    };
    let mut c = Counts::default();
    let (mut sent, mut answered, mut seq) = (0u64, 0u64, 2u32);
    let mut bound = false;
    while (answered < n || RECEIPTS.load(Relaxed) < all) && Instant::now() < deadline {
        if bound {
            while sent < n && sent - answered < window {
                Pdu::new(seq, Body::SubmitSm(submit.clone())).encode(&mut out);
                seq += 1;
                sent += 1;
            }
        }
        if !out.is_empty() {
            tcp.write_all(&out).await.unwrap();
            out.clear();
        }
        rbuf.reserve(64 * 1024);
        match tokio::time::timeout(Duration::from_millis(100), tcp.read_buf(&mut rbuf)).await {
            Ok(Ok(k)) if k > 0 => {}
            Ok(_) => break,
            Err(_) => continue, // idle: check whether everyone is done
        }
        while let Some(frame) = framer.next_frame(&mut rbuf).unwrap() {
            let pdu = Pdu::decode(frame).unwrap();
            match &pdu.body {
                Body::BindTransceiverResp(_) => bound = pdu.command_status.is_ok(),
                Body::SubmitSmResp(_) => {
                    answered += 1;
                    if pdu.command_status.is_ok() {
                        c.ok += 1
                    } else {
                        c.errors += 1
                    }
                }
                Body::DeliverSm(_) => {
                    c.receipts += 1;
                    RECEIPTS.fetch_add(1, Relaxed);
                    Pdu::new(pdu.sequence_number, Body::DeliverSmResp(Some(Default::default())))
                        .encode(&mut out);
                }
                Body::EnquireLink => {
                    Pdu::new(pdu.sequence_number, Body::EnquireLinkResp).encode(&mut out)
                }
                _ => {}
            }
        }
    }
    // The last deliver_sm_resp, or the simulator resends those receipts to another bind.
    let _ = tcp.write_all(&out).await;
    c
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (binds, per_bind, window) = (arg(0, 10), arg(1, 10_000), arg(2, 100));
    let (addr, _sim) = match args.get(3) {
        Some(a) => (a.parse().expect("ADDR"), None),
        None => {
            let mut config =
                SimConfig::single("docomo", "127.0.0.1:0".parse().unwrap(), &[("test", "test")]);
            let c = &mut config.carriers[0];
            c.accounts[0].max_binds = binds as usize;
            c.receipts.delay_ms = 0;
            c.session.window = 1000;
            let sim = Simulator::start(config).await.unwrap();
            (sim.addr("docomo").unwrap(), Some(sim))
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let start = Instant::now();
    let tasks: Vec<_> = (0..binds)
        .map(|_| tokio::spawn(one_bind(addr, per_bind, window, binds * per_bind, deadline)))
        .collect();
    let mut total = Counts::default();
    for t in tasks {
        let c = t.await.unwrap();
        total.ok += c.ok;
        total.errors += c.errors;
        total.receipts += c.receipts;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{binds} binds × {per_bind} submits, window {window}: {} ok, {} errors, {} receipts in {secs:.2} s = {:.0} submits/s",
        total.ok,
        total.errors,
        total.receipts,
        total.ok as f64 / secs
    );
    if let Some(sim) = _sim {
        println!("{:?}", sim.stats().carrier("docomo"));
    }
}
