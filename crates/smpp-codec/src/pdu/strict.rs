//! Checks applied only in strict mode: what the spec forbids but real peers send
//! (smpp34.md §13), and flag values outside their defined ranges.

use super::{Body, SubmitMulti, SubmitSm};
use crate::codes::{CommandId, CommandStatus as S, EsmClass, Npi, Ton};
use crate::error::{status_for_field, Problem};
use crate::header::Header;
use crate::tlv::Tlvs;

fn field(field: &'static str, reason: &'static str) -> Problem {
    Problem::Field { field, reason, status: status_for_field(field) }
}

pub(super) fn check(header: &Header, body: &Body, tlvs: &Tlvs) -> Result<(), Problem> {
    // smpp34.md §2: allowed range 0x00000001-0x7FFFFFFF (§5.1.4). No status names this;
    // ESME_RUNKNOWNERR is the least misleading answer.
    if header.sequence_number == 0 || header.sequence_number > 0x7FFF_FFFF {
        return Err(Problem::Strict {
            reason: "sequence_number outside 1..=0x7FFFFFFF",
            status: S::ESME_RUNKNOWNERR,
        });
    }
    if header.command_id.is_response() {
        check_response(header, body)?;
    }
    match body {
        Body::SubmitSm(b) => check_submit(b, tlvs),
        Body::DeliverSm(b) => check_deliver(b),
        Body::SubmitMulti(b) => check_multi(b, tlvs),
        Body::DataSm(b) => check_addresses(
            (b.source_addr_ton, b.source_addr_npi),
            (b.dest_addr_ton, b.dest_addr_npi),
        )
        .and(check_registered_delivery(b.registered_delivery)),
        Body::ReplaceSm(b) => check_registered_delivery(b.registered_delivery),
        _ => Ok(()),
    }
}

fn check_response(header: &Header, body: &Body) -> Result<(), Problem> {
    let status = header.command_status;
    if status.name().is_none() && !status.is_vendor_specific() {
        return Err(Problem::Strict {
            reason: "unknown command_status",
            status: S::ESME_RUNKNOWNERR,
        });
    }
    if status.is_ok() && !body.body_present() {
        return Err(Problem::Strict {
            reason: "a successful response without its body",
            status: S::ESME_RINVCMDLEN,
        });
    }
    // smpp34.md §4: bind_*_resp and submit_sm_resp omit the body on error.
    let omits_on_error = matches!(
        header.command_id,
        CommandId::BIND_RECEIVER_RESP
            | CommandId::BIND_TRANSMITTER_RESP
            | CommandId::BIND_TRANSCEIVER_RESP
            | CommandId::SUBMIT_SM_RESP
    );
    if !status.is_ok() && omits_on_error && body.body_present() {
        return Err(Problem::Strict {
            reason: "an error response with a body",
            status: S::ESME_RINVCMDLEN,
        });
    }
    Ok(())
}

fn check_submit(b: &SubmitSm, tlvs: &Tlvs) -> Result<(), Problem> {
    check_esme_esm_class(b.esm_class)?;
    check_common(b.priority_flag, b.registered_delivery, b.replace_if_present_flag)?;
    check_addresses((b.source_addr_ton, b.source_addr_npi), (b.dest_addr_ton, b.dest_addr_npi))?;
    check_payload_exclusive(b.short_message.is_empty(), tlvs)
}

fn check_multi(b: &SubmitMulti, tlvs: &Tlvs) -> Result<(), Problem> {
    check_esme_esm_class(b.esm_class)?;
    check_common(b.priority_flag, b.registered_delivery, b.replace_if_present_flag)?;
    check_payload_exclusive(b.short_message.is_empty(), tlvs)
}

fn check_deliver(b: &SubmitSm) -> Result<(), Problem> {
    // smpp34.md §4 (deliver_sm column): these must be empty / 0.
    if !b.schedule_delivery_time.is_empty() {
        return Err(field("schedule_delivery_time", "must be empty in deliver_sm"));
    }
    if !b.validity_period.is_empty() {
        return Err(field("validity_period", "must be empty in deliver_sm"));
    }
    if b.replace_if_present_flag != 0 {
        return Err(field("replace_if_present_flag", "must be 0 in deliver_sm"));
    }
    Ok(())
}

fn check_esme_esm_class(e: EsmClass) -> Result<(), Problem> {
    // smpp34.md §4, §7.1: submit_sm does not support transaction mode; ESME→SMSC types are
    // 0x00, 0x08 and 0x10 only.
    if e.mode() == 0x02 {
        return Err(field("esm_class", "transaction mode is for data_sm only"));
    }
    if !matches!(e.message_type(), 0x00 | 0x08 | 0x10) {
        return Err(field("esm_class", "reserved message type for ESME→SMSC"));
    }
    Ok(())
}

fn check_common(priority: u8, registered: u8, replace: u8) -> Result<(), Problem> {
    if priority > 3 {
        return Err(field("priority_flag", "must be 0-3"));
    }
    check_registered_delivery(registered)?;
    if replace > 1 {
        return Err(field("replace_if_present_flag", "must be 0 or 1"));
    }
    Ok(())
}

fn check_registered_delivery(r: u8) -> Result<(), Problem> {
    // smpp34.md §7.2: bits 1-0 = 3 and bits 7-5 are reserved.
    if r & 0x03 == 0x03 || r & 0xE0 != 0 {
        return Err(field("registered_delivery", "reserved bits set"));
    }
    Ok(())
}

fn check_addresses(src: (Ton, Npi), dst: (Ton, Npi)) -> Result<(), Problem> {
    if src.0.name().is_none() {
        return Err(field("source_addr_ton", "undefined TON"));
    }
    if src.1.name().is_none() {
        return Err(field("source_addr_npi", "undefined NPI"));
    }
    if dst.0.name().is_none() {
        return Err(field("dest_addr_ton", "undefined TON"));
    }
    if dst.1.name().is_none() {
        return Err(field("dest_addr_npi", "undefined NPI"));
    }
    Ok(())
}

fn check_payload_exclusive(short_message_empty: bool, tlvs: &Tlvs) -> Result<(), Problem> {
    // smpp34.md §4: user data in short_message or message_payload, never both.
    if !short_message_empty && tlvs.message_payload().is_some() {
        return Err(field("short_message", "both short_message and message_payload are set"));
    }
    Ok(())
}
