//! `smpp pdu decode | encode | frames`: the codec as a machine-readable command.

use std::io::{BufRead, Write};

use bytes::Bytes;
use clap::{Args, Subcommand};
use serde_json::Value;
use smpp_codec::{DecodeOptions, Framer, Pdu};

use crate::api;
use crate::hexutil::from_hex;
use crate::json::input_error_to_json;
use crate::pretty;

/// Decode, encode and split SMPP PDUs (hex ⇄ JSON).
#[derive(Debug, Subcommand)]
pub(crate) enum PduCommand {
    /// Decode one hex PDU to a JSON object; with no HEX, one hex PDU per stdin line, one
    /// JSON line out per line in (blank lines and lines starting with '#' are skipped).
    Decode(DecodeArgs),
    /// Encode a JSON object (the shape `decode` prints) to lowercase hex; with no JSON, one
    /// object per stdin line. command_length is recomputed.
    Encode {
        /// The PDU as JSON.
        json: Option<String>,
    },
    /// Split a hex byte stream into PDUs: one JSON line per frame, then
    /// {"incomplete":N} if N octets are left over.
    Frames(FramesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// The PDU in hex (spaces allowed). Omit to read lines from stdin.
    hex: Option<String>,
    /// Reject what the spec forbids even when real peers send it.
    #[arg(long)]
    strict: bool,
    /// Print a human-readable dissection instead of JSON.
    #[arg(long)]
    pretty: bool,
}

#[derive(Debug, Args)]
pub(crate) struct FramesArgs {
    /// The byte stream in hex. Omit to read it from stdin.
    hex: Option<String>,
    /// Reject what the spec forbids even when real peers send it.
    #[arg(long)]
    strict: bool,
    /// Largest command_length accepted before framing is declared lost.
    #[arg(long, default_value_t = Framer::DEFAULT_MAX_COMMAND_LENGTH)]
    max_command_length: u32,
}

/// Runs a `pdu` subcommand; returns the process exit code.
pub(crate) fn run(cmd: PduCommand) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cmd {
        PduCommand::Decode(a) => decode(a, &mut out),
        PduCommand::Encode { json } => encode(json, &mut out),
        PduCommand::Frames(a) => frames(a, &mut out),
    }
}

/// Decodes one line of hex. Returns the text to print and whether it decoded.
fn decode_one(hex: &str, strict: bool, pretty: bool) -> (String, bool) {
    let opts = if strict { DecodeOptions::STRICT } else { DecodeOptions::TOLERANT };
    let pdu = from_hex(hex).ok().and_then(|b| Pdu::decode_with(Bytes::from(b), opts).ok());
    match pdu {
        Some(pdu) if pretty => (pretty::render(&pdu), true),
        _ => {
            let v = api::decode_hex(hex, strict);
            let ok = v.get("error").is_none();
            (v.to_string(), ok)
        }
    }
}

fn decode(a: DecodeArgs, out: &mut impl Write) -> anyhow::Result<i32> {
    if let Some(hex) = a.hex {
        let (text, ok) = decode_one(&hex, a.strict, a.pretty);
        writeln!(out, "{}", text.trim_end())?;
        return Ok(if ok { 0 } else { 1 });
    }
    for line in input_lines()? {
        let (text, _) = decode_one(&line, a.strict, a.pretty);
        writeln!(out, "{}", text.trim_end())?;
        if a.pretty {
            writeln!(out)?;
        }
    }
    Ok(0)
}

fn encode_one(text: &str) -> (String, bool) {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return (input_error_to_json(&format!("not JSON: {e}")).to_string(), false),
    };
    match api::encode_json(&value) {
        Ok(hex) => (hex, true),
        Err(e) => (e.to_string(), false),
    }
}

fn encode(json: Option<String>, out: &mut impl Write) -> anyhow::Result<i32> {
    if let Some(text) = json {
        let (line, ok) = encode_one(&text);
        writeln!(out, "{line}")?;
        return Ok(if ok { 0 } else { 1 });
    }
    for line in input_lines()? {
        writeln!(out, "{}", encode_one(&line).0)?;
    }
    Ok(0)
}

fn frames(a: FramesArgs, out: &mut impl Write) -> anyhow::Result<i32> {
    let text = match a.hex {
        Some(h) => h,
        None => std::io::read_to_string(std::io::stdin())?,
    };
    let lines = match api::split_frames(&text, a.strict, a.max_command_length) {
        Ok(lines) => lines,
        Err(e) => {
            writeln!(out, "{e}")?;
            return Ok(1);
        }
    };
    // Exit 1 when framing was lost (the stream could not be read to its end).
    let framing_lost = lines.last().is_some_and(|l| {
        l.pointer("/error/then").and_then(Value::as_str) == Some("close_connection")
    });
    for line in &lines {
        writeln!(out, "{line}")?;
    }
    Ok(if framing_lost { 1 } else { 0 })
}

/// Non-blank stdin lines that are not `#` comments.
fn input_lines() -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') {
            lines.push(t.to_string());
        }
    }
    Ok(lines)
}
