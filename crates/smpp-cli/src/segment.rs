//! `smpp segment`: how a text is split and billed for one carrier, without sending it.

use std::io::Write;

use clap::Args;
use serde_json::{json, Value};
use smpp_sms::{
    billable_count_for, segment, CarrierProfile, ConcatMethod, Encoding, Part, SegmentError,
    Segmented,
};

use crate::hexutil::to_hex;

/// Show encoding, length, PDUs and billable count of a text for one carrier.
#[derive(Debug, Args)]
pub(crate) struct SegmentArgs {
    /// Carrier whose split and billing rules apply: docomo, au, softbank or rakuten.
    #[arg(long, value_parser = parse_carrier)]
    carrier: CarrierProfile,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Split with SAR TLVs (sar_msg_ref_num / sar_total_segments / sar_segment_seqnum)
    /// instead of the carrier's usual method; 66 UCS-2 / 152 GSM characters per part.
    #[arg(long)]
    sar: bool,
    /// Always use UCS-2.
    #[arg(long)]
    ucs2: bool,
    /// Concatenation reference to put in the UDH or SAR TLVs (the 8-bit UDH uses the low
    /// octet).
    #[arg(long, default_value_t = 1)]
    reference: u16,
    /// The text (UTF-8). Omit to read it from stdin (one trailing newline is dropped).
    text: Option<String>,
}

fn parse_carrier(s: &str) -> Result<CarrierProfile, String> {
    CarrierProfile::by_name(s).map_err(|e| e.to_string())
}

/// Runs `smpp segment`; returns the exit code (2 when the text is too long).
pub(crate) fn run(a: SegmentArgs) -> anyhow::Result<i32> {
    let text = match a.text {
        Some(t) => t,
        None => {
            let mut t = std::io::read_to_string(std::io::stdin())?;
            if t.ends_with('\n') {
                t.pop();
                if t.ends_with('\r') {
                    t.pop();
                }
            }
            t
        }
    };
    let carrier = a.carrier;
    let mut profile = carrier.clone();
    if a.sar {
        profile.method = ConcatMethod::Sar;
        profile.part_ucs2 = ConcatMethod::Sar.default_part_capacity(Encoding::Ucs2);
        profile.part_gsm7 = ConcatMethod::Sar.default_part_capacity(Encoding::Gsm7);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let seg = match segment(&text, &profile, a.reference, a.ucs2) {
        Ok(seg) => seg,
        Err(SegmentError::TooLong { chars, max, carrier }) => {
            let message = format!("text is {chars} characters; {carrier} accepts at most {max}");
            if a.json {
                let err = json!({"error": {"kind": "too_long", "message": message, "chars": chars, "max": max}});
                writeln!(out, "{err}")?;
            }
            eprintln!("smpp segment: {message}");
            return Ok(2);
        }
        Err(e) => {
            eprintln!("smpp segment: {e}");
            return Ok(2);
        }
    };
    // Billing follows the carrier's published rule even when --sar changes the split.
    let billable = billable_count_for(seg.encoding, seg.chars, &carrier);
    if a.json {
        writeln!(out, "{}", to_json(&carrier, &seg, billable))?;
    } else {
        write_text(&mut out, &carrier, &seg, billable)?;
    }
    Ok(0)
}

fn field(p: &Part) -> &'static str {
    if p.in_message_payload {
        "message_payload"
    } else {
        "short_message"
    }
}

fn to_json(carrier: &CarrierProfile, seg: &Segmented, billable: u32) -> Value {
    let pdus: Vec<Value> = seg
        .parts
        .iter()
        .map(|p| {
            let mut v = json!({
                "field": field(p),
                "esm_class_udhi": p.udhi,
                "hex": to_hex(&p.user_data),
            });
            if let Some(sar) = p.sar {
                v["sar"] = json!({"msg_ref_num": sar.reference, "total_segments": sar.total, "segment_seqnum": sar.seq});
            }
            v
        })
        .collect();
    json!({
        "carrier": carrier.name,
        "encoding": seg.encoding.as_str(),
        "data_coding": seg.data_coding,
        "chars": seg.chars,
        "max_chars": carrier.max_chars,
        "method": seg.method.as_str(),
        "pdus": seg.parts.len(),
        "billable": billable,
        "parts": pdus,
    })
}

fn write_text(
    out: &mut impl Write,
    carrier: &CarrierProfile,
    seg: &Segmented,
    billable: u32,
) -> std::io::Result<()> {
    writeln!(out, "carrier   {}", carrier.name)?;
    writeln!(out, "encoding  {} (data_coding 0x{:02x})", seg.encoding, seg.data_coding)?;
    writeln!(out, "chars     {} (at most {})", seg.chars, carrier.max_chars)?;
    writeln!(out, "pdus      {}", seg.parts.len())?;
    writeln!(out, "billable  {billable}")?;
    writeln!(out, "method    {}", seg.method)?;
    for (i, p) in seg.parts.iter().enumerate() {
        let mut extra = String::new();
        if p.udhi {
            extra.push_str(" udhi");
        }
        if let Some(s) = p.sar {
            extra.push_str(&format!(" sar={}/{}/{}", s.reference, s.total, s.seq));
        }
        writeln!(out, "pdu {} {}{extra} {}", i + 1, field(p), to_hex(&p.user_data))?;
    }
    Ok(())
}
