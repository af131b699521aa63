//! The `smpp` command-line tool as a library, so tests and other tools can call exactly what
//! the binary runs.
//!
//! - [`Cli`] / [`run`]: the argument parser and dispatcher behind the `smpp` binary.
//! - [`api`]: the JSON contract of `smpp pdu` as functions (hex ⇄ JSON), used by the fixture
//!   corpus in `proto-tests/`.

use clap::{Parser, Subcommand};

mod bench;
mod conn_args;
mod hexutil;
mod json;
mod pdu_cmd;
mod pretty;
mod segment;
mod send;

/// SMPP 3.4 tools.
#[derive(Debug, Parser)]
#[command(name = "smpp", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode, encode and split PDUs (hex ⇄ JSON).
    #[command(subcommand)]
    Pdu(pdu_cmd::PduCommand),
    /// Send one message (split per carrier) and optionally wait for its receipts.
    Send(send::SendArgs),
    /// Load test an SMSC: throughput, latency, receipt correlation, CPU.
    Bench(bench::BenchArgs),
    /// Show how a text is encoded, split and billed for a carrier (nothing is sent).
    Segment(segment::SegmentArgs),
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Pdu(cmd) => pdu_cmd::run(cmd),
        Command::Send(a) => runtime(None)?.block_on(send::run(a)),
        Command::Bench(a) => runtime(Some(a.threads()))?.block_on(bench::run(a)),
        Command::Segment(a) => segment::run(a),
    }
}

/// A multi-thread runtime with `threads` workers (tokio's default, one per core, if `None`).
fn runtime(threads: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    // Logs go to stderr; RUST_LOG=smpp_tokio=debug for detail. Numbers and texts are never logged.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .try_init();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = threads {
        builder.worker_threads(threads);
    }
    Ok(builder.enable_all().build()?)
}

/// The `smpp pdu` JSON contract as functions.
pub mod api {
    use bytes::{Bytes, BytesMut};
    use serde_json::{json, Value};
    use smpp_codec::{DecodeOptions, Framer, Pdu};

    use crate::hexutil::{from_hex, to_hex};
    use crate::json::{decode_error_to_json, input_error_to_json, pdu_from_json, pdu_to_json};

    fn options(strict: bool) -> DecodeOptions {
        if strict {
            DecodeOptions::STRICT
        } else {
            DecodeOptions::TOLERANT
        }
    }

    /// What `smpp pdu decode [--strict] HEX` prints: the PDU object, or `{"error":{..}}`.
    pub fn decode_hex(hex: &str, strict: bool) -> Value {
        match from_hex(hex) {
            Err(e) => input_error_to_json(&e),
            Ok(b) => match Pdu::decode_with(Bytes::from(b), options(strict)) {
                Ok(pdu) => pdu_to_json(&pdu),
                Err(e) => decode_error_to_json(&e),
            },
        }
    }

    /// What `smpp pdu encode JSON` prints: `Ok(lowercase hex)` or `Err({"error":{..}})`.
    pub fn encode_json(value: &Value) -> Result<String, Value> {
        pdu_from_json(value)
            .map(|pdu| to_hex(&pdu.to_bytes()))
            .map_err(|e| input_error_to_json(&e.to_string()))
    }

    /// What `smpp pdu frames HEX` prints, one value per line; `Err` when the input is not hex.
    pub fn split_frames(
        hex: &str,
        strict: bool,
        max_command_length: u32,
    ) -> Result<Vec<Value>, Value> {
        let bytes = from_hex(hex).map_err(|e| input_error_to_json(&e))?;
        let framer = Framer::new(max_command_length);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut out = Vec::new();
        loop {
            match framer.next_frame(&mut buf) {
                Ok(Some(frame)) => out.push(match Pdu::decode_with(frame, options(strict)) {
                    Ok(pdu) => pdu_to_json(&pdu),
                    Err(e) => decode_error_to_json(&e),
                }),
                Ok(None) => break,
                Err(e) => {
                    // Framing is lost: nothing after this point can be delimited.
                    out.push(decode_error_to_json(&e));
                    return Ok(out);
                }
            }
        }
        if !buf.is_empty() {
            out.push(json!({"incomplete": buf.len()}));
        }
        Ok(out)
    }
}
