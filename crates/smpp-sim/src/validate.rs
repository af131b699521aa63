//! Submit validation the way an SMSC does it, each failure with its specific status
//! (smpp34.md §5 field → status mapping, §7, §10, §13).
//!
//! The codec has already refused what cannot be decoded (over-long strings, malformed time
//! shapes, sm_length 255). What is left is meaning: addresses, flags, data_coding, UDH and
//! SAR consistency, lengths, and the dates inside the time fields.

use std::time::Duration;

use smpp_codec::{CommandStatus as S, EsmClass, Npi, Tag, Time, Tlvs, Ton};
use smpp_sms::udh::{parse_udh, RefWidth};

use crate::config::ValidationConfig;
use crate::time::parse_smpp_time;

/// The fields of submit_sm, data_sm and submit_multi that are checked, whatever the PDU.
pub(crate) struct Fields<'a> {
    pub(crate) source_ton: Ton,
    pub(crate) source_npi: Npi,
    pub(crate) source: &'a [u8],
    pub(crate) esm_class: EsmClass,
    pub(crate) priority_flag: u8,
    pub(crate) registered_delivery: u8,
    pub(crate) replace_if_present: u8,
    pub(crate) data_coding: u8,
    pub(crate) sm_default_msg_id: u8,
    pub(crate) short_message: &'a [u8],
    pub(crate) schedule: &'a Time,
    pub(crate) validity: &'a Time,
    pub(crate) tlvs: &'a Tlvs,
    /// data_sm: transaction mode is allowed and user data is only in message_payload.
    pub(crate) is_data_sm: bool,
}

/// Which concatenation mechanism numbered a part (smpp34.md §10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ConcatKind {
    Udh8,
    Udh16,
    Sar,
}

/// A part's place in its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConcatInfo {
    pub(crate) kind: ConcatKind,
    pub(crate) reference: u16,
    pub(crate) total: u8,
    pub(crate) seq: u8,
}

/// A submit that passed.
#[derive(Debug)]
pub(crate) struct Checked<'a> {
    /// The user data without its UDH.
    pub(crate) body: &'a [u8],
    pub(crate) concat: Option<ConcatInfo>,
    /// Length as carriers count it: UCS-2 code units (data_coding 8, and 8-bit data as
    /// octet pairs) or GSM septets (one octet each, unpacked).
    pub(crate) chars: usize,
    pub(crate) encoding: smpp_sms::Encoding,
    /// How long until schedule_delivery_time (zero when empty or past).
    pub(crate) schedule: Duration,
    /// How long until validity_period runs out, if one was given.
    pub(crate) validity: Option<Duration>,
    /// The time it was checked at (Unix seconds), which is its submit time.
    pub(crate) submit_unix: i64,
}

fn is_gsm7_coding(dcs: u8) -> bool {
    // Unpacked over SMPP, one septet per octet (smpp34.md §10.3 last paragraph).
    matches!(dcs, 0x00 | 0x01 | 0x03) || (0xF0..=0xFF).contains(&dcs) && dcs & 0x04 == 0
}

/// A numeric address: up to 20 digits, an optional leading `+`.
fn numeric(addr: &[u8]) -> bool {
    let digits = addr.strip_prefix(b"+").unwrap_or(addr);
    !digits.is_empty() && digits.len() <= 20 && digits.iter().all(u8::is_ascii_digit)
}

/// destination_addr (smpp34.md §7.4): a number, not alphanumeric.
pub(crate) fn check_destination(ton: Ton, npi: Npi, addr: &[u8]) -> Result<(), S> {
    if ton.name().is_none() {
        return Err(S::ESME_RINVDSTTON);
    }
    if npi.name().is_none() {
        return Err(S::ESME_RINVDSTNPI);
    }
    if ton == Ton::ALPHANUMERIC || !numeric(addr) {
        return Err(S::ESME_RINVDSTADR);
    }
    Ok(())
}

fn check_source(ton: Ton, npi: Npi, addr: &[u8]) -> Result<(), S> {
    if ton.name().is_none() {
        return Err(S::ESME_RINVSRCTON);
    }
    if npi.name().is_none() {
        return Err(S::ESME_RINVSRCNPI);
    }
    let ok = match ton {
        // Empty: the SMSC fills in the account's default.
        _ if addr.is_empty() => true,
        // GSM alphanumeric senders hold 11 characters.
        Ton::ALPHANUMERIC => {
            addr.len() <= 11 && addr.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        }
        _ => numeric(addr),
    };
    if ok {
        Ok(())
    } else {
        Err(S::ESME_RINVSRCADR)
    }
}

/// Looks like a concatenation UDH although UDHI is clear (smpp34.md §13.12).
fn looks_like_concat_udh(data: &[u8]) -> bool {
    match data {
        [0x05, 0x00, 0x03, _, t, s, ..] => *t > 1 && (1..=*t).contains(s),
        [0x06, 0x08, 0x04, _, _, t, s, ..] => *t > 1 && (1..=*t).contains(s),
        _ => false,
    }
}

/// Checks one submit. `max_chars` is the carrier's longest message.
pub(crate) fn check<'a>(
    f: &Fields<'a>,
    cfg: &ValidationConfig,
    max_chars: usize,
    now_unix: i64,
) -> Result<Checked<'a>, S> {
    // smpp34.md §7.1: submit_sm has no transaction mode; ESME→SMSC types are 0x00, 0x08, 0x10.
    if (f.esm_class.mode() == 0x02 && !f.is_data_sm)
        || !matches!(f.esm_class.message_type(), 0x00 | 0x08 | 0x10)
    {
        return Err(S::ESME_RINVESMCLASS);
    }
    if f.priority_flag > 3 {
        return Err(S::ESME_RINVPRTFLG);
    }
    // smpp34.md §7.2: bits 1-0 = 3 and bits 7-5 are reserved.
    if f.registered_delivery & 0x03 == 0x03 || f.registered_delivery & 0xE0 != 0 {
        return Err(S::ESME_RINVREGDLVFLG);
    }
    if f.replace_if_present > 1 {
        return Err(S::ESME_RINVREPFLAG);
    }
    check_source(f.source_ton, f.source_npi, f.source)?;
    // No canned messages here.
    if f.sm_default_msg_id != 0 {
        return Err(S::ESME_RINVDFTMSGID);
    }
    let payload = f.tlvs.message_payload();
    // smpp34.md §13.3: never both short_message and message_payload.
    if !f.short_message.is_empty() && payload.is_some() {
        return Err(S::ESME_RINVMSGLEN);
    }
    if !cfg.data_codings.contains(&f.data_coding) {
        return Err(cfg.data_coding_status);
    }
    let (user_data, in_payload) = match payload {
        Some(p) => (p, true),
        None => (f.short_message, false),
    };

    // SAR (smpp34.md §10.1): all three TLVs or none.
    let sar_present = [Tag::SAR_MSG_REF_NUM, Tag::SAR_TOTAL_SEGMENTS, Tag::SAR_SEGMENT_SEQNUM]
        .iter()
        .filter(|t| f.tlvs.get(**t).is_some())
        .count();
    let sar = match (sar_present, f.tlvs.sar()) {
        (0, _) => None,
        (3, Some((r, t, s))) => {
            if t == 0 || s == 0 || s > t {
                return Err(S::ESME_RINVOPTPARAMVAL);
            }
            Some(ConcatInfo { kind: ConcatKind::Sar, reference: r, total: t, seq: s })
        }
        _ => return Err(S::ESME_RMISSINGOPTPARAM),
    };

    // UDH (smpp34.md §10.2, §13.12): UDHI set needs a valid UDH; a UDH needs UDHI; UDH and SAR
    // are exclusive.
    let (body, udh_len, udh_concat) = if f.esm_class.udhi() {
        let udh = parse_udh(user_data).map_err(|_| S::ESME_RINVESMCLASS)?;
        let concat = udh.concat.map(|c| ConcatInfo {
            kind: match c.width {
                RefWidth::Bits8 => ConcatKind::Udh8,
                RefWidth::Bits16 => ConcatKind::Udh16,
            },
            reference: c.reference,
            total: c.total,
            seq: c.seq,
        });
        (&user_data[udh.len..], udh.len, concat)
    } else {
        if looks_like_concat_udh(user_data) {
            return Err(S::ESME_RINVESMCLASS);
        }
        (user_data, 0, None)
    };
    let concat = match (udh_concat, sar) {
        (Some(_), Some(_)) => return Err(S::ESME_RINVESMCLASS),
        (a, b) => a.or(b),
    };

    // Lengths. One PDU's user data fits one SMS (140 octets; 160 septets unpacked) unless it
    // came in message_payload, which the SMSC splits; the whole message is capped in chars.
    let gsm7 = is_gsm7_coding(f.data_coding);
    if f.data_coding == 0x08 && body.len() % 2 != 0 {
        return Err(S::ESME_RINVMSGLEN);
    }
    let chars = if gsm7 { body.len() } else { body.len().div_ceil(2) };
    if !in_payload {
        let fits = if gsm7 {
            // The UDH takes whole septets, fill bits included.
            (udh_len * 8).div_ceil(7) + body.len() <= 160
        } else {
            user_data.len() <= 140
        };
        if !fits {
            return Err(S::ESME_RINVMSGLEN);
        }
    } else if chars > max_chars {
        return Err(S::ESME_RINVMSGLEN);
    }

    let schedule =
        parse_smpp_time(f.schedule.as_bytes(), now_unix).map_err(|_| S::ESME_RINVSCHED)?;
    let validity =
        parse_smpp_time(f.validity.as_bytes(), now_unix).map_err(|_| S::ESME_RINVEXPIRY)?;
    if validity == Some(Duration::ZERO) {
        // An absolute validity already past.
        return Err(S::ESME_RINVEXPIRY);
    }
    Ok(Checked {
        body,
        concat,
        chars,
        encoding: if gsm7 { smpp_sms::Encoding::Gsm7 } else { smpp_sms::Encoding::Ucs2 },
        schedule: schedule.unwrap_or_default(),
        validity,
        submit_unix: now_unix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(sm: &'a [u8], esm: u8, tlvs: &'a Tlvs, t: &'a Time) -> Fields<'a> {
        Fields {
            source_ton: Ton::ALPHANUMERIC,
            source_npi: Npi::UNKNOWN,
            source: b"CARD",
            esm_class: EsmClass(esm),
            priority_flag: 0,
            registered_delivery: 1,
            replace_if_present: 0,
            data_coding: 8,
            sm_default_msg_id: 0,
            short_message: sm,
            schedule: t,
            validity: t,
            tlvs,
            is_data_sm: false,
        }
    }

    /// (concat, chars) of an accepted submit.
    fn run(f: &Fields<'_>) -> Result<(Option<ConcatInfo>, usize), S> {
        check(f, &ValidationConfig::default(), 660, 0).map(|c| (c.concat, c.chars))
    }

    #[test]
    fn udhi_without_a_valid_udh_is_an_esm_class_error() {
        let (t, tl) = (Time::empty(), Tlvs::new());
        assert_eq!(run(&fields(&[0x09, 0x00], 0x40, &tl, &t)).unwrap_err(), S::ESME_RINVESMCLASS);
        assert_eq!(run(&fields(&[], 0x40, &tl, &t)).unwrap_err(), S::ESME_RINVESMCLASS);
    }

    #[test]
    fn udh_without_udhi_is_an_esm_class_error() {
        let (t, tl) = (Time::empty(), Tlvs::new());
        let sm = [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x30, 0x42];
        assert_eq!(run(&fields(&sm, 0x00, &tl, &t)).unwrap_err(), S::ESME_RINVESMCLASS);
        let (concat, chars) = run(&fields(&sm, 0x40, &tl, &t)).unwrap();
        assert_eq!(
            concat,
            Some(ConcatInfo { kind: ConcatKind::Udh8, reference: 0x2A, total: 2, seq: 1 })
        );
        assert_eq!(chars, 1);
    }

    #[test]
    fn short_message_and_payload_together_is_a_length_error() {
        let t = Time::empty();
        let tl = Tlvs::builder().message_payload(b"\x30\x42").unwrap().build();
        assert_eq!(run(&fields(b"\x30\x42", 0, &tl, &t)).unwrap_err(), S::ESME_RINVMSGLEN);
    }

    #[test]
    fn incomplete_sar_is_a_missing_parameter() {
        let t = Time::empty();
        let tl = Tlvs::builder()
            .push_u16(Tag::SAR_MSG_REF_NUM, 7)
            .push_u8(Tag::SAR_TOTAL_SEGMENTS, 2)
            .build();
        assert_eq!(run(&fields(b"\x30\x42", 0, &tl, &t)).unwrap_err(), S::ESME_RMISSINGOPTPARAM);
        let bad = Tlvs::builder().sar(7, 2, 3).build();
        assert_eq!(run(&fields(b"\x30\x42", 0, &bad, &t)).unwrap_err(), S::ESME_RINVOPTPARAMVAL);
    }

    #[test]
    fn sar_with_a_udh_is_refused() {
        let t = Time::empty();
        let tl = Tlvs::builder().sar(7, 2, 1).build();
        let sm = [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x30, 0x42];
        assert_eq!(run(&fields(&sm, 0x40, &tl, &t)).unwrap_err(), S::ESME_RINVESMCLASS);
    }

    #[test]
    fn ucs2_over_140_octets_in_short_message_is_a_length_error() {
        let (t, tl) = (Time::empty(), Tlvs::new());
        assert!(run(&fields(&[0x30; 140], 0, &tl, &t)).is_ok());
        assert_eq!(run(&fields(&[0x30; 142], 0, &tl, &t)).unwrap_err(), S::ESME_RINVMSGLEN);
        assert_eq!(
            run(&fields(&[0x30; 3], 0, &tl, &t)).unwrap_err(),
            S::ESME_RINVMSGLEN,
            "odd UCS-2"
        );
    }

    #[test]
    fn impossible_dates_are_schedule_and_expiry_errors() {
        let tl = Tlvs::new();
        let bad = Time::new("251399000000000+").unwrap();
        let empty = Time::empty();
        let mut f = fields(b"\x30\x42", 0, &tl, &empty);
        f.schedule = &bad;
        assert_eq!(run(&f).unwrap_err(), S::ESME_RINVSCHED);
        f.schedule = &empty;
        f.validity = &bad;
        assert_eq!(run(&f).unwrap_err(), S::ESME_RINVEXPIRY);
    }

    #[test]
    fn destinations_must_be_numbers() {
        assert_eq!(check_destination(Ton::INTERNATIONAL, Npi::ISDN, b""), Err(S::ESME_RINVDSTADR));
        assert_eq!(
            check_destination(Ton::INTERNATIONAL, Npi::ISDN, b"81abc"),
            Err(S::ESME_RINVDSTADR)
        );
        assert_eq!(
            check_destination(Ton::ALPHANUMERIC, Npi::UNKNOWN, b"123"),
            Err(S::ESME_RINVDSTADR)
        );
        assert_eq!(check_destination(Ton(9), Npi::ISDN, b"123"), Err(S::ESME_RINVDSTTON));
        assert_eq!(check_destination(Ton::INTERNATIONAL, Npi::ISDN, b"819012345678"), Ok(()));
    }

    #[test]
    fn unsupported_data_coding_gets_the_configured_status() {
        let (t, tl) = (Time::empty(), Tlvs::new());
        let mut f = fields(b"\x30\x42", 0, &tl, &t);
        f.data_coding = 0x05;
        assert_eq!(run(&f).unwrap_err(), S(0x104));
    }
}
