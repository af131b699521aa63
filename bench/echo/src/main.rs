//! `smpp-echo`: the ceiling that bench scenario 1 measures our ESME ↔ SMSC pair against.
//!
//! Two processes on loopback, like `smpp bench` and `smsc-sim`, with SMPP's framing (a 4-octet
//! big-endian command_length, then command_id and sequence_number) and nothing else: no
//! decoding, no session, no window bookkeeping beyond a counter, no correlation. What the
//! pair cannot beat is the kernel's loopback and tokio's wake-ups, which is what we want to
//! know.
//!
//! ```text
//! smpp-echo server [--listen 127.0.0.1:0] [--receipts]      # prints "PORT <n>", serves until stdin closes
//! smpp-echo client --port N --window W --count C [--receipts] [--conns K] [--json]
//! ```
//!
//! The client keeps W submit-sized frames (command_id 0x00000004) in flight per connection.
//! The server answers each with a resp-sized frame (0x80000004) and, with `--receipts`, a
//! receipt-sized frame (0x00000005) that the client answers (0x80000005): the same four frames
//! per message as a full SMPP cycle. The client reports frames per second, round-trip
//! latency percentiles, its own CPU time and peak RSS as one JSON line.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::{Buf, BufMut, BytesMut};
use clap::{Parser, Subcommand};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SUBMIT: u32 = 0x0000_0004;
const SUBMIT_RESP: u32 = 0x8000_0004;
const DELIVER: u32 = 0x0000_0005;
const DELIVER_RESP: u32 = 0x8000_0005;
/// Frames longer than this close the connection (smpp-codec's default limit too).
const MAX_FRAME: usize = 64 * 1024;
/// No read may wait longer than this: every loop is bounded.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// TCP frame echo with SMPP framing (bench scenario 1).
#[derive(Parser)]
#[command(name = "smpp-echo")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer every submit frame; print "PORT <n>" once listening.
    Server {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Also send a receipt frame per submit (4 frames per message).
        #[arg(long)]
        receipts: bool,
    },
    /// Keep --window frames in flight until --count messages are answered.
    Client {
        /// Server host.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Server port.
        #[arg(long)]
        port: u16,
        /// Frames in flight per connection.
        #[arg(long, default_value_t = 100)]
        window: usize,
        /// Messages in total (split across connections).
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Connections.
        #[arg(long, default_value_t = 1)]
        conns: usize,
        /// Expect (and answer) a receipt frame per message, as the server's --receipts sends.
        #[arg(long)]
        receipts: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Server { listen, receipts } => rt.block_on(server(listen, receipts)),
        Command::Client { host, port, window, count, conns, receipts, json } => {
            rt.block_on(client(host, port, window.max(1), count, conns.max(1), receipts, json))
        }
    }
}

/// A frame: header (length, command_id, status 0, sequence) and `body_len` filler octets.
fn put_frame(out: &mut BytesMut, command_id: u32, seq: u32, body: &[u8]) {
    out.put_u32(16 + body.len() as u32);
    out.put_u32(command_id);
    out.put_u32(0);
    out.put_u32(seq);
    out.put_slice(body);
}

/// The next whole frame's (command_id, sequence), consumed from `buf`; `Ok(None)` when more
/// bytes are needed.
fn next_frame(buf: &mut BytesMut) -> anyhow::Result<Option<(u32, u32)>> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if !(16..=MAX_FRAME).contains(&len) {
        bail!("bad command_length {len}");
    }
    if buf.len() < len {
        return Ok(None);
    }
    let mut frame = buf.split_to(len);
    frame.advance(4);
    let command_id = frame.get_u32();
    frame.advance(4);
    Ok(Some((command_id, frame.get_u32())))
}

/// Body sizes of a GSM submit_sm, its resp and an Appendix B receipt, as `smpp bench` sends.
fn submit_body() -> Vec<u8> {
    vec![b'S'; 86]
}
fn resp_body() -> Vec<u8> {
    b"1234567890\0".to_vec()
}
fn receipt_body() -> Vec<u8> {
    vec![b'R'; 160]
}

async fn server(listen: SocketAddr, receipts: bool) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await.with_context(|| format!("listen {listen}"))?;
    println!("PORT {}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    // Never outlive the script that started us: stop when stdin closes.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    });
    let accept = async {
        loop {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            tokio::spawn(async move {
                if let Err(e) = serve(tcp, receipts).await {
                    eprintln!("smpp-echo server: {e:#}");
                }
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), anyhow::Error>(())
    };
    tokio::select! {
        r = accept => r,
        _ = stdin_closed => Ok(()),
    }
}

async fn serve(mut tcp: TcpStream, receipts: bool) -> anyhow::Result<()> {
    let (resp, receipt) = (resp_body(), receipt_body());
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut out = BytesMut::with_capacity(64 * 1024);
    loop {
        if tcp.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
        while let Some((command_id, seq)) = next_frame(&mut input)? {
            if command_id == SUBMIT {
                put_frame(&mut out, SUBMIT_RESP, seq, &resp);
                if receipts {
                    put_frame(&mut out, DELIVER, seq, &receipt);
                }
            }
        }
        if !out.is_empty() {
            tcp.write_all(&out).await?;
            out.clear();
        }
    }
}

/// What one connection measured.
#[derive(Default)]
struct ConnResult {
    latencies_us: Vec<u32>,
    receipts: usize,
}

async fn client(
    host: String,
    port: u16,
    window: usize,
    count: usize,
    conns: usize,
    receipts: bool,
    json: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..conns {
        let n = count / conns + usize::from(i < count % conns);
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .with_context(|| format!("connect {host}:{port}"))?;
        tcp.set_nodelay(true)?;
        tasks.push(tokio::spawn(drive(tcp, n, window, receipts)));
    }
    let mut lat = Vec::with_capacity(count);
    let mut got_receipts = 0;
    for t in tasks {
        let r = t.await??;
        lat.extend(r.latencies_us);
        got_receipts += r.receipts;
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |v| *v as f64 / 1e3)
    };
    let frames_per_message = if receipts { 4 } else { 2 };
    let ok = lat.len() == count && (!receipts || got_receipts == count);
    let report = json!({
        "messages": count,
        "window": window,
        "conns": conns,
        "receipts": receipts,
        "elapsed_s": elapsed,
        "messages_per_s": count as f64 / elapsed.max(1e-9),
        "frames_per_s": (count * frames_per_message) as f64 / elapsed.max(1e-9),
        "rtt_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
        "cpu_s": cpu_seconds(),
        "max_rss_kib": max_rss_kib(),
        "ok": ok,
    });
    if json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    if !ok {
        bail!("{} of {count} answered, {got_receipts} receipts", lat.len());
    }
    Ok(())
}

/// One connection's closed loop: keep `window` submits in flight until `n` are answered
/// (and, with receipts, `n` receipts answered).
async fn drive(
    mut tcp: TcpStream,
    n: usize,
    window: usize,
    receipts: bool,
) -> anyhow::Result<ConnResult> {
    let (submit, ack) = (submit_body(), Vec::new());
    let mut sent_at: Vec<Instant> = Vec::with_capacity(n);
    let mut result = ConnResult { latencies_us: Vec::with_capacity(n), receipts: 0 };
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut out = BytesMut::with_capacity(64 * 1024);
    let mut answered = 0;
    loop {
        let now = Instant::now();
        while sent_at.len() < n && sent_at.len() - answered < window {
            sent_at.push(now);
            put_frame(&mut out, SUBMIT, sent_at.len() as u32, &submit);
        }
        if !out.is_empty() {
            tcp.write_all(&out).await?;
            out.clear();
        }
        if answered == n && (!receipts || result.receipts == n) {
            return Ok(result);
        }
        let read = tokio::time::timeout(READ_TIMEOUT, tcp.read_buf(&mut input))
            .await
            .context("no answer within 10 s")??;
        if read == 0 {
            bail!("server closed the connection");
        }
        let now = Instant::now();
        while let Some((command_id, seq)) = next_frame(&mut input)? {
            match command_id {
                SUBMIT_RESP => {
                    let t0 = sent_at.get(seq as usize - 1).context("resp for an unsent seq")?;
                    result.latencies_us.push((now - *t0).as_micros().min(u32::MAX as u128) as u32);
                    answered += 1;
                }
                DELIVER => {
                    put_frame(&mut out, DELIVER_RESP, seq, &ack);
                    result.receipts += 1;
                }
                other => bail!("unexpected command_id 0x{other:08x}"),
            }
        }
    }
}

/// User + system CPU seconds of this process (Linux /proc; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime, fields 14 and 15 of the line (11 and 12 after the name), in USER_HZ.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size in KiB (VmHWM).
fn max_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_partial_frames_wait() {
        let mut buf = BytesMut::new();
        put_frame(&mut buf, SUBMIT, 7, &submit_body());
        put_frame(&mut buf, DELIVER_RESP, 8, &[]);
        let mut partial = buf.split_to(50);
        assert_eq!(next_frame(&mut partial).unwrap(), None, "half a frame waits");
        partial.unsplit(buf);
        assert_eq!(next_frame(&mut partial).unwrap(), Some((SUBMIT, 7)));
        assert_eq!(next_frame(&mut partial).unwrap(), Some((DELIVER_RESP, 8)));
        assert!(partial.is_empty());
    }

    #[test]
    fn rejects_a_length_shorter_than_the_header() {
        let mut buf = BytesMut::from(&[0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0][..]);
        assert!(next_frame(&mut buf).is_err());
    }
}
