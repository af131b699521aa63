//! Reassembly of mobile-originated (MO) long messages from deliver_sm / data_sm
//! parts: UDH concatenation (IEI 0x00 and 0x08), SAR TLVs and message_payload
//! (smpp34.md §10.1, §10.2).
//!
//! Parts are keyed by (source, destination, mechanism, reference, total). A
//! message is returned when its last missing part arrives; [`Reassembler::expire`]
//! gives up on messages whose first part arrived longer ago than the timeout. The
//! number of pending messages is bounded: when full, the oldest is evicted and
//! counted. The caller supplies the time (`Instant`); nothing here reads a clock.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::segment::{Sar, ESM_CLASS_UDHI};
use crate::udh::{parse_udh, RefWidth, UdhError};
use crate::{gsm7, ucs2};

/// Reassembly limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// How long after its first part an incomplete message is given up by
    /// [`Reassembler::expire`].
    pub timeout: Duration,
    /// Most incomplete messages kept at once (at least 1).
    pub max_pending: usize,
}

impl Default for ReassemblyConfig {
    /// 5 minutes, 10 000 pending messages.
    fn default() -> Self {
        ReassemblyConfig { timeout: Duration::from_secs(300), max_pending: 10_000 }
    }
}

/// One received MO PDU, as the codec decoded it.
#[derive(Debug, Clone, Copy)]
pub struct MoPart<'a> {
    /// source_addr (the handset).
    pub from: &'a str,
    /// destination_addr (our number).
    pub to: &'a str,
    /// data_coding.
    pub data_coding: u8,
    /// esm_class (only UDHI, 0x40, is looked at).
    pub esm_class: u8,
    /// short_message (may be empty).
    pub short_message: &'a [u8],
    /// sar_msg_ref_num, sar_total_segments, sar_segment_seqnum when all three
    /// TLVs were present (smpp34.md §10.1: otherwise they are ignored).
    pub sar: Option<Sar>,
    /// message_payload TLV, if present; used instead of short_message when
    /// non-empty.
    pub payload: Option<&'a [u8]>,
    /// Arrival time.
    pub now: Instant,
}

/// Which mechanism joined the parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Concatenation {
    /// UDH with an 8-bit reference.
    Udh8,
    /// UDH with a 16-bit reference.
    Udh16,
    /// SAR TLVs.
    Sar,
}

/// A complete MO message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReassembledMessage {
    /// source_addr.
    pub from: String,
    /// destination_addr.
    pub to: String,
    /// data_coding of the first part.
    pub data_coding: u8,
    /// Decoded text, or `None` for a data_coding that is not text (see
    /// [`decode_text`]).
    pub text: Option<String>,
    /// The user data of all parts joined in order, UDHs removed.
    pub raw: Vec<u8>,
    /// Number of parts joined (1 for an unsplit message).
    pub parts: u8,
    /// Mechanism and reference, `None` for an unsplit message.
    pub concatenation: Option<(Concatenation, u16)>,
}

/// A message given up by [`Reassembler::expire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteMessage {
    /// source_addr.
    pub from: String,
    /// destination_addr.
    pub to: String,
    /// data_coding of the first part received.
    pub data_coding: u8,
    /// Mechanism.
    pub concatenation: Concatenation,
    /// Reference number.
    pub reference: u16,
    /// Total parts announced.
    pub total: u8,
    /// Part numbers that arrived, ascending.
    pub received: Vec<u8>,
    /// Part numbers that never arrived, ascending.
    pub missing: Vec<u8>,
    /// User data (UDH removed) of the parts that arrived, by part number.
    pub parts: BTreeMap<u8, Vec<u8>>,
    /// Arrival time of the first part.
    pub first_seen: Instant,
}

/// Why a part was not accepted. Never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReassemblyError {
    /// UDHI was set and the UDH is malformed.
    #[error("malformed UDH: {0}")]
    Udh(#[from] UdhError),
    /// SAR total 0, seq 0 or seq over total.
    #[error("invalid SAR values: segment {seq} of {total}")]
    BadSar {
        /// sar_total_segments.
        total: u8,
        /// sar_segment_seqnum.
        seq: u8,
    },
    /// A UDH concatenation IE and SAR TLVs on one PDU (smpp34.md §10.1 forbids it).
    #[error("part carries both a concatenation UDH and SAR TLVs")]
    UdhAndSar,
    /// This part number of this message has already been received.
    #[error("duplicate part {seq} of {total} (reference {reference})")]
    DuplicatePart {
        /// Reference number.
        reference: u16,
        /// Total parts.
        total: u8,
        /// The repeated part number.
        seq: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    from: String,
    to: String,
    concatenation: Concatenation,
    reference: u16,
    total: u8,
}

#[derive(Debug, Clone)]
struct Pending {
    data_coding: u8,
    parts: BTreeMap<u8, Vec<u8>>,
    first_seen: Instant,
    order: u64,
}

/// Collects MO parts into messages. See the module docs.
#[derive(Debug, Clone)]
pub struct Reassembler {
    config: ReassemblyConfig,
    pending: HashMap<Key, Pending>,
    /// insertion order → key, oldest first
    order: BTreeMap<u64, Key>,
    next_order: u64,
    evicted: u64,
}

impl Reassembler {
    /// A reassembler with these limits.
    pub fn new(config: ReassemblyConfig) -> Reassembler {
        Reassembler {
            config,
            pending: HashMap::new(),
            order: BTreeMap::new(),
            next_order: 0,
            evicted: 0,
        }
    }

    /// Feeds one part. Returns the whole message when this part completes it (an
    /// unsplit message completes at once), `Ok(None)` while parts are missing.
    ///
    /// # Errors
    /// [`ReassemblyError`] for a malformed UDH, invalid SAR values, UDH plus SAR,
    /// or a duplicate part; the part is then dropped and pending state is unchanged.
    ///
    /// ```
    /// use smpp_sms::reassembly::{MoPart, Reassembler};
    /// use std::time::Instant;
    /// let mut r = Reassembler::default();
    /// let part = |sm: &'static [u8]| MoPart {
    ///     from: "819012345678", to: "1234", data_coding: 0, esm_class: 0x40,
    ///     short_message: sm, sar: None, payload: None, now: Instant::now(),
    /// };
    /// assert_eq!(r.push(part(&[5, 0, 3, 9, 2, 2, b'!'])).unwrap(), None);
    /// let msg = r.push(part(&[5, 0, 3, 9, 2, 1, b'h', b'i'])).unwrap().unwrap();
    /// assert_eq!(msg.text.as_deref(), Some("hi!"));
    /// ```
    pub fn push(
        &mut self,
        part: MoPart<'_>,
    ) -> Result<Option<ReassembledMessage>, ReassemblyError> {
        let user_data = match part.payload {
            Some(p) if !p.is_empty() => p,
            _ => part.short_message,
        };
        let (body, concat) = if part.esm_class & ESM_CLASS_UDHI != 0 {
            let udh = parse_udh(user_data)?;
            let body = user_data.get(udh.len..).unwrap_or_default();
            (body, udh.concat)
        } else {
            (user_data, None)
        };
        // (mechanism, reference, total, seq)
        let numbering = match (concat, part.sar) {
            (Some(_), Some(_)) => return Err(ReassemblyError::UdhAndSar),
            (Some(c), None) => {
                let kind = match c.width {
                    RefWidth::Bits8 => Concatenation::Udh8,
                    RefWidth::Bits16 => Concatenation::Udh16,
                };
                Some((kind, c.reference, c.total, c.seq))
            }
            (None, Some(s)) => {
                if s.total == 0 || s.seq == 0 || s.seq > s.total {
                    return Err(ReassemblyError::BadSar { total: s.total, seq: s.seq });
                }
                Some((Concatenation::Sar, s.reference, s.total, s.seq))
            }
            (None, None) => None,
        };
        let Some((concatenation, reference, total, seq)) = numbering else {
            return Ok(Some(complete(
                part.from,
                part.to,
                part.data_coding,
                body.to_vec(),
                1,
                None,
            )));
        };
        if total == 1 {
            return Ok(Some(complete(
                part.from,
                part.to,
                part.data_coding,
                body.to_vec(),
                1,
                Some((concatenation, reference)),
            )));
        }
        let key = Key {
            from: part.from.to_owned(),
            to: part.to.to_owned(),
            concatenation,
            reference,
            total,
        };
        if let Some(p) = self.pending.get(&key) {
            if p.parts.contains_key(&seq) {
                return Err(ReassemblyError::DuplicatePart { reference, total, seq });
            }
        } else {
            if self.pending.len() >= self.config.max_pending.max(1) {
                if let Some((_, oldest)) = self.order.pop_first() {
                    self.pending.remove(&oldest);
                    self.evicted += 1;
                }
            }
            let order = self.next_order;
            self.next_order += 1;
            self.order.insert(order, key.clone());
            self.pending.insert(
                key.clone(),
                Pending {
                    data_coding: part.data_coding,
                    parts: BTreeMap::new(),
                    first_seen: part.now,
                    order,
                },
            );
        }
        let Some(p) = self.pending.get_mut(&key) else {
            return Ok(None);
        };
        p.parts.insert(seq, body.to_vec());
        if p.parts.len() < usize::from(total) {
            return Ok(None);
        }
        let Some(p) = self.pending.remove(&key) else {
            return Ok(None);
        };
        self.order.remove(&p.order);
        let raw: Vec<u8> = p.parts.into_values().flatten().collect();
        Ok(Some(complete(
            &key.from,
            &key.to,
            p.data_coding,
            raw,
            total,
            Some((concatenation, reference)),
        )))
    }

    /// Removes and returns the incomplete messages whose first part arrived at
    /// least the configured timeout before `now`, oldest first, each with the part
    /// numbers that are missing.
    pub fn expire(&mut self, now: Instant) -> Vec<IncompleteMessage> {
        let timeout = self.config.timeout;
        let expired: Vec<(u64, Key)> = self
            .order
            .iter()
            .filter(|(_, k)| {
                self.pending
                    .get(*k)
                    .is_some_and(|p| now.saturating_duration_since(p.first_seen) >= timeout)
            })
            .map(|(o, k)| (*o, k.clone()))
            .collect();
        let mut out = Vec::with_capacity(expired.len());
        for (order, key) in expired {
            self.order.remove(&order);
            let Some(p) = self.pending.remove(&key) else {
                continue;
            };
            let received: Vec<u8> = p.parts.keys().copied().collect();
            let missing = (1..=key.total).filter(|s| !p.parts.contains_key(s)).collect();
            out.push(IncompleteMessage {
                from: key.from,
                to: key.to,
                data_coding: p.data_coding,
                concatenation: key.concatenation,
                reference: key.reference,
                total: key.total,
                received,
                missing,
                parts: p.parts,
                first_seen: p.first_seen,
            });
        }
        out
    }

    /// Number of incomplete messages held.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Incomplete messages evicted so far because [`ReassemblyConfig::max_pending`]
    /// was reached.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(ReassemblyConfig::default())
    }
}

fn complete(
    from: &str,
    to: &str,
    data_coding: u8,
    raw: Vec<u8>,
    parts: u8,
    concatenation: Option<(Concatenation, u16)>,
) -> ReassembledMessage {
    ReassembledMessage {
        from: from.to_owned(),
        to: to.to_owned(),
        data_coding,
        text: decode_text(data_coding, &raw),
        raw,
        parts,
        concatenation,
    }
}

/// The characters of user data (UDH removed) as [`decode_text`] decodes them, one at a time
/// (`None` where it gives `None`): for a caller that wants only the first few.
pub fn text_chars(data_coding: u8, bytes: &[u8]) -> Option<TextChars<'_>> {
    let odd = bytes.len() % 2 == 1;
    Some(match data_coding {
        0x00 | 0xC0..=0xDF => TextChars::Gsm(gsm7::chars(bytes)),
        0xF0..=0xFF if data_coding & 0x04 == 0 => TextChars::Gsm(gsm7::chars(bytes)),
        0x01 => TextChars::Ascii(bytes.iter()),
        0x03 => TextChars::Latin1(bytes.iter()),
        0x08 => TextChars::Ucs2 { units: char::decode_utf16(ucs2::units(bytes)), odd },
        _ => return None,
    })
}

/// The iterator of [`text_chars`].
#[derive(Clone, Debug)]
pub enum TextChars<'a> {
    /// GSM 03.38, unpacked.
    Gsm(gsm7::Chars<'a>),
    /// ASCII; octets above 0x7F are U+FFFD.
    Ascii(std::slice::Iter<'a, u8>),
    /// Latin-1.
    Latin1(std::slice::Iter<'a, u8>),
    /// UTF-16BE, lossy: unpaired surrogates and a trailing odd octet are U+FFFD.
    Ucs2 {
        /// The characters of the code units, as [`ucs2::decode`] reads them.
        units: std::char::DecodeUtf16<ucs2::Units<'a>>,
        /// Whether a trailing odd octet is still to be shown.
        odd: bool,
    },
}

impl Iterator for TextChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        match self {
            TextChars::Gsm(chars) => chars.next(),
            TextChars::Ascii(octets) => octets.next().map(|&b| {
                if b.is_ascii() {
                    char::from(b)
                } else {
                    char::REPLACEMENT_CHARACTER
                }
            }),
            TextChars::Latin1(octets) => octets.next().map(|&b| char::from(b)),
            TextChars::Ucs2 { units, odd } => match units.next() {
                Some(c) => Some(c.unwrap_or(char::REPLACEMENT_CHARACTER)),
                None => std::mem::take(odd).then_some(char::REPLACEMENT_CHARACTER),
            },
        }
    }
}

/// Decodes user data (UDH removed) by data_coding (smpp34.md §7.3):
///
/// | data_coding | decoded as |
/// |---|---|
/// | 0x00, 0xC0–0xDF, 0xF0–0xFF with bit 2 clear | GSM 03.38, unpacked (one septet per octet) |
/// | 0x01 | ASCII (octets above 0x7F → U+FFFD) |
/// | 0x03 | Latin-1 |
/// | 0x08 | UCS-2 / UTF-16BE (lossy) |
/// | anything else (8-bit binary, JIS, ...) | `None` |
///
/// data_coding 0 is "SMSC default" (smpp34.md §13.13); GSM 03.38 is assumed.
pub fn decode_text(data_coding: u8, bytes: &[u8]) -> Option<String> {
    Some(match text_chars(data_coding, bytes)? {
        // Whole texts in the common encodings: decoders faster than char by char.
        TextChars::Gsm(_) => gsm7::decode_unpacked(bytes),
        TextChars::Ucs2 { .. } => ucs2::decode(bytes),
        other => other.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{segment, CarrierProfile, ConcatMethod, Method, Segmented};
    use proptest::prelude::*;

    fn mo<'a>(sm: &'a [u8], esm: u8, dcs: u8, now: Instant) -> MoPart<'a> {
        MoPart {
            from: "819012345678",
            to: "0120000000",
            data_coding: dcs,
            esm_class: esm,
            short_message: sm,
            sar: None,
            payload: None,
            now,
        }
    }

    /// Feeds every part of a segmented text (as the SMSC would deliver it) and
    /// returns what came out.
    fn feed_all(r: &mut Reassembler, s: &Segmented, now: Instant) -> Vec<ReassembledMessage> {
        let mut done = Vec::new();
        for p in s.parts.iter().rev() {
            let mut m = mo(&[], p.esm_class_bits(), s.data_coding, now);
            if p.in_message_payload {
                m.payload = Some(&p.user_data);
            } else {
                m.short_message = &p.user_data;
            }
            m.sar = p.sar;
            if let Some(msg) = r.push(m).unwrap() {
                done.push(msg);
            }
        }
        done
    }

    #[test]
    fn single_part_without_udh_completes_immediately() {
        let mut r = Reassembler::default();
        let msg = r.push(mo(&[0x00, 0x41], 0, 0x08, Instant::now())).unwrap().unwrap();
        assert_eq!(msg.text.as_deref(), Some("A"));
        assert_eq!((msg.parts, msg.concatenation), (1, None));
    }

    #[test]
    fn udh16_parts_arriving_out_of_order_are_joined_in_order() {
        let now = Instant::now();
        let mut r = Reassembler::default();
        let s =
            segment(&"お支払い期限".repeat(30), &CarrierProfile::DOCOMO, 0x0A0B, false).unwrap();
        assert_eq!(s.parts.len(), 3);
        let done = feed_all(&mut r, &s, now);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].text.as_deref(), Some("お支払い期限".repeat(30).as_str()));
        assert_eq!(done[0].concatenation, Some((Concatenation::Udh16, 0x0A0B)));
        assert_eq!(r.pending_len(), 0);
    }

    #[test]
    fn sar_parts_are_joined() {
        let now = Instant::now();
        let mut r = Reassembler::default();
        let profile = CarrierProfile::new("sar", ConcatMethod::Sar);
        let text = "x".repeat(400);
        let s = segment(&text, &profile, 77, false).unwrap();
        assert_eq!(s.method, Method::Sar);
        let done = feed_all(&mut r, &s, now);
        assert_eq!(done[0].text.as_deref(), Some(text.as_str()));
        assert_eq!(done[0].concatenation, Some((Concatenation::Sar, 77)));
    }

    #[test]
    fn message_payload_is_one_complete_message() {
        let mut r = Reassembler::default();
        let mut m = mo(&[], 0, 0x08, Instant::now());
        let data = ucs2::encode("長いメッセージ");
        m.payload = Some(&data);
        let msg = r.push(m).unwrap().unwrap();
        assert_eq!(msg.text.as_deref(), Some("長いメッセージ"));
    }

    #[test]
    fn port_ie_is_skipped() {
        let mut r = Reassembler::default();
        let sm = [0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x68, 0x69];
        let msg = r.push(mo(&sm, 0x40, 0, Instant::now())).unwrap().unwrap();
        assert_eq!(msg.text.as_deref(), Some("hi"));
    }

    #[test]
    fn same_reference_from_different_handsets_does_not_mix() {
        let now = Instant::now();
        let mut r = Reassembler::default();
        let mut a = mo(&[5, 0, 3, 1, 2, 1, b'a'], 0x40, 0, now);
        a.from = "A";
        let mut b = mo(&[5, 0, 3, 1, 2, 2, b'b'], 0x40, 0, now);
        b.from = "B";
        assert_eq!(r.push(a).unwrap(), None);
        assert_eq!(r.push(b).unwrap(), None);
        assert_eq!(r.pending_len(), 2);
    }

    #[test]
    fn malformed_udh_is_an_error() {
        let mut r = Reassembler::default();
        let err = r.push(mo(&[0x05, 0x00], 0x40, 0, Instant::now())).unwrap_err();
        assert!(matches!(err, ReassemblyError::Udh(UdhError::Truncated { .. })));
        let err = r.push(mo(&[], 0x40, 0, Instant::now())).unwrap_err();
        assert_eq!(err, ReassemblyError::Udh(UdhError::Empty));
    }

    #[test]
    fn bad_sar_and_udh_plus_sar_are_errors() {
        let now = Instant::now();
        let mut r = Reassembler::default();
        let mut m = mo(b"x", 0, 0, now);
        m.sar = Some(Sar::from((1, 2, 3)));
        assert_eq!(r.push(m).unwrap_err(), ReassemblyError::BadSar { total: 2, seq: 3 });
        let mut m = mo(&[5, 0, 3, 1, 2, 1, b'a'], 0x40, 0, now);
        m.sar = Some(Sar::from((1, 2, 1)));
        assert_eq!(r.push(m).unwrap_err(), ReassemblyError::UdhAndSar);
    }

    #[test]
    fn duplicate_part_is_reported_and_does_not_complete() {
        let now = Instant::now();
        let mut r = Reassembler::default();
        let sm = [5, 0, 3, 4, 2, 1, b'a'];
        assert_eq!(r.push(mo(&sm, 0x40, 0, now)).unwrap(), None);
        assert!(matches!(
            r.push(mo(&sm, 0x40, 0, now)),
            Err(ReassemblyError::DuplicatePart { seq: 1, .. })
        ));
        assert_eq!(r.pending_len(), 1);
    }

    #[test]
    fn expire_returns_old_incomplete_messages_with_missing_parts() {
        let t0 = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig {
            timeout: Duration::from_secs(60),
            max_pending: 10,
        });
        r.push(mo(&[5, 0, 3, 9, 3, 2, b'b'], 0x40, 0, t0)).unwrap();
        r.push(mo(&[5, 0, 3, 8, 2, 1, b'z'], 0x40, 0, t0 + Duration::from_secs(30))).unwrap();
        assert!(r.expire(t0 + Duration::from_secs(59)).is_empty());
        let gone = r.expire(t0 + Duration::from_secs(60));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].reference, 9);
        assert_eq!(gone[0].received, [2]);
        assert_eq!(gone[0].missing, [1, 3]);
        assert_eq!(gone[0].parts[&2], b"b");
        assert_eq!(r.pending_len(), 1);
        // a part of the expired message arriving late starts a new pending entry
        assert_eq!(
            r.push(mo(&[5, 0, 3, 9, 3, 1, b'a'], 0x40, 0, t0 + Duration::from_secs(61))).unwrap(),
            None
        );
        assert_eq!(r.pending_len(), 2);
    }

    #[test]
    fn pending_is_bounded_and_oldest_is_evicted_and_counted() {
        let now = Instant::now();
        let mut r =
            Reassembler::new(ReassemblyConfig { timeout: Duration::from_secs(60), max_pending: 2 });
        for reference in 1..=3u8 {
            r.push(mo(&[5, 0, 3, reference, 2, 1, b'x'], 0x40, 0, now)).unwrap();
        }
        assert_eq!(r.pending_len(), 2);
        assert_eq!(r.evicted(), 1);
        // reference 1 was evicted: its second part alone does not complete it
        assert_eq!(r.push(mo(&[5, 0, 3, 1, 2, 2, b'y'], 0x40, 0, now)).unwrap(), None);
        // reference 3 is still there
        let msg = r.push(mo(&[5, 0, 3, 3, 2, 2, b'y'], 0x40, 0, now)).unwrap().unwrap();
        assert_eq!(msg.text.as_deref(), Some("xy"));
    }

    #[test]
    fn decode_text_by_data_coding() {
        assert_eq!(decode_text(0x00, &[0x00]).as_deref(), Some("@"));
        assert_eq!(decode_text(0x01, b"ok").as_deref(), Some("ok"));
        assert_eq!(decode_text(0x03, &[0xE9]).as_deref(), Some("é"));
        assert_eq!(decode_text(0xF0, &[0x41]).as_deref(), Some("A"));
        assert_eq!(decode_text(0xF6, &[0x41]), None);
        assert_eq!(decode_text(0x04, &[0x41]), None);
    }

    fn gsm_char() -> impl Strategy<Value = char> {
        prop::sample::select(
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\u{c}^{}\\[~]|€"
                .chars()
                .collect::<Vec<_>>(),
        )
    }

    fn unicode_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => prop::char::range('\u{3041}', '\u{30FF}'),  // kana
            2 => prop::char::range('\u{4E00}', '\u{9FFF}'),  // kanji
            2 => prop::char::range('\u{1F300}', '\u{1FAFF}'), // emoji (surrogate pairs)
            1 => gsm_char(),
            1 => any::<char>(),
        ]
    }

    fn round_trip(text: &str, force_ucs2: bool) -> Result<(), TestCaseError> {
        for profile in &crate::BUILTIN_PROFILES {
            let s = segment(text, profile, 0x4242, force_ucs2).unwrap();
            let mut r = Reassembler::default();
            let done = feed_all(&mut r, &s, Instant::now());
            prop_assert_eq!(done.len(), 1);
            prop_assert_eq!(done[0].text.as_deref(), Some(text));
            prop_assert_eq!(r.pending_len(), 0);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn text_chars_yield_what_decode_text_decodes(
            data_coding in prop_oneof![Just(0x00u8), Just(0x01), Just(0x03), Just(0x08), Just(0xF0), any::<u8>()],
            // Around the surrogate range too, for UCS-2.
            bytes in prop::collection::vec(prop_oneof![any::<u8>(), 0xD8u8..=0xDF], 0..200),
        ) {
            let chars = text_chars(data_coding, &bytes).map(|c| c.collect::<String>());
            prop_assert_eq!(chars, decode_text(data_coding, &bytes));
        }

        #[test]
        fn segment_then_reassemble_gives_gsm_text_back(chars in prop::collection::vec(gsm_char(), 0..=330)) {
            let text: String = chars.into_iter().collect();
            round_trip(&text, false)?;
        }

        #[test]
        fn segment_then_reassemble_gives_unicode_text_back(chars in prop::collection::vec(unicode_char(), 0..=330)) {
            let text: String = chars.into_iter().collect();
            prop_assume!(crate::ucs2::unit_len(&text) <= 660);
            round_trip(&text, false)?;
            round_trip(&text, true)?;
        }

        #[test]
        fn reassembly_never_panics_on_arbitrary_parts(
            parts in prop::collection::vec(
                (prop::collection::vec(any::<u8>(), 0..200), any::<u8>(), any::<u8>(),
                 prop::option::of((any::<u16>(), any::<u8>(), any::<u8>())), any::<bool>()),
                1..20),
        ) {
            let now = Instant::now();
            let mut r = Reassembler::new(ReassemblyConfig { timeout: Duration::from_secs(1), max_pending: 4 });
            for (bytes, esm, dcs, sar, as_payload) in &parts {
                let mut m = mo(bytes, *esm, *dcs, now);
                m.sar = sar.map(Sar::from);
                if *as_payload { m.payload = Some(bytes); m.short_message = &[]; }
                let _ = r.push(m);
                prop_assert!(r.pending_len() <= 4);
            }
            let _ = r.expire(now + Duration::from_secs(2));
            prop_assert_eq!(r.pending_len(), 0);
        }

        #[test]
        fn udh_flagged_random_parts_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut r = Reassembler::default();
            let _ = r.push(mo(&bytes, 0x40, 0x08, Instant::now()));
        }
    }
}
