//! Choosing the encoding and splitting a text into PDU payloads per carrier.

use std::fmt;

use crate::carrier::{billable_count_for, CarrierProfile, ConcatMethod};
use crate::{gsm7, ucs2, udh};

/// esm_class bit UDHI: the user data starts with a UDH (smpp34.md §7.1).
pub const ESM_CLASS_UDHI: u8 = 0x40;

/// Text encoding of a message (smpp34.md §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, sent unpacked, data_coding 0x00.
    Gsm7,
    /// UCS-2 / UTF-16BE, data_coding 0x08.
    Ucs2,
}

impl Encoding {
    /// GSM7 when every character of `text` is in the GSM 03.38 basic or extension
    /// table and `force_ucs2` is false, else UCS2 (smpp34.md §11 counting rule).
    ///
    /// ```
    /// use smpp_sms::Encoding;
    /// assert_eq!(Encoding::choose("Your code is 1234", false), Encoding::Gsm7);
    /// assert_eq!(Encoding::choose("認証コード 1234", false), Encoding::Ucs2);
    /// assert_eq!(Encoding::choose("Your code is 1234", true), Encoding::Ucs2);
    /// ```
    pub fn choose(text: &str, force_ucs2: bool) -> Encoding {
        if !force_ucs2 && gsm7::septet_len(text).is_some() {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        }
    }

    /// The data_coding octet: 0x00 for GSM7, 0x08 for UCS2 (smpp34.md §7.3).
    pub const fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => 0x00,
            Encoding::Ucs2 => 0x08,
        }
    }

    /// `"gsm7"` or `"ucs2"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a segmented text is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Fits one SMS: one part, no UDH.
    Single,
    /// Parts with an 8-bit reference concatenation UDH.
    Udh8,
    /// Parts with a 16-bit reference concatenation UDH.
    Udh16,
    /// Parts without UDH, carrying SAR TLVs.
    Sar,
    /// One PDU with the whole text in message_payload.
    Payload,
}

impl Method {
    /// `single`, `udh8`, `udh16`, `sar` or `payload`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Single => "single",
            Method::Udh8 => "udh8",
            Method::Udh16 => "udh16",
            Method::Sar => "sar",
            Method::Payload => "payload",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three SAR TLV values of one part (smpp34.md §10.1, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sar {
    /// sar_msg_ref_num: same in every part of one message.
    pub reference: u16,
    /// sar_total_segments, 1..=255.
    pub total: u8,
    /// sar_segment_seqnum, 1..=total.
    pub seq: u8,
}

impl From<(u16, u8, u8)> for Sar {
    fn from((reference, total, seq): (u16, u8, u8)) -> Self {
        Sar { reference, total, seq }
    }
}

/// One PDU's worth of user data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The user data: UDH (when the method uses one) followed by the encoded text
    /// (unpacked septets for GSM7, UTF-16BE for UCS2). Goes in short_message,
    /// or in message_payload when [`Part::in_message_payload`] is set.
    pub user_data: Vec<u8>,
    /// esm_class UDHI (0x40) must be set (the user data starts with a UDH).
    pub udhi: bool,
    /// SAR TLVs to send with this part ([`Method::Sar`] only).
    pub sar: Option<Sar>,
    /// The user data goes in the message_payload TLV with sm_length 0
    /// ([`Method::Payload`] only).
    pub in_message_payload: bool,
}

impl Part {
    /// The esm_class bits this part requires: [`ESM_CLASS_UDHI`] or 0. OR it into
    /// the messaging-mode and type bits chosen by the caller.
    pub fn esm_class_bits(&self) -> u8 {
        if self.udhi {
            ESM_CLASS_UDHI
        } else {
            0
        }
    }
}

/// The result of [`segment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segmented {
    /// Encoding chosen.
    pub encoding: Encoding,
    /// data_coding octet for every part (0x00 GSM7, 0x08 UCS2).
    pub data_coding: u8,
    /// Length as carriers count it: UTF-16 code units for UCS2, septets for GSM7.
    pub chars: usize,
    /// How the parts are to be sent.
    pub method: Method,
    /// Billable count per the carrier's rule ([`crate::billable_count_for`]).
    ///
    /// For UCS2 on docomo/au/Rakuten this equals `parts.len()` unless a surrogate
    /// pair straddles a part boundary, in which case one more part may be needed
    /// than the carrier's character table counts.
    pub billable: u32,
    /// The PDUs' user data, in order.
    pub parts: Vec<Part>,
}

/// Why a text cannot be segmented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// The text is longer than the carrier accepts.
    #[error(
        "text is {chars} characters long, over the {max}-character maximum for carrier {carrier}"
    )]
    TooLong {
        /// Length as counted (UCS-2 code units or GSM septets).
        chars: usize,
        /// The profile's maximum.
        max: usize,
        /// The profile's name.
        carrier: String,
    },
    /// The split would need more than 255 parts (smpp34.md §10.2).
    #[error(
        "text needs {parts} parts, over the 255-part limit of concatenation (carrier {carrier})"
    )]
    TooManyParts {
        /// Parts needed.
        parts: usize,
        /// The profile's name.
        carrier: String,
    },
    /// The profile's numbers cannot work (see [`CarrierProfile::validate`]).
    #[error("carrier profile {carrier} is invalid: {reason}")]
    InvalidProfile {
        /// The profile's name.
        carrier: String,
        /// What is wrong.
        reason: String,
    },
}

/// Splits `text` into PDU payloads for `profile`.
///
/// - Encoding: GSM7 when every character fits the GSM 03.38 tables, else UCS2;
///   `force_ucs2` always picks UCS2.
/// - A text that fits one SMS (70 UCS2 / 160 septets by default) is one
///   [`Method::Single`] part whatever the carrier's method, and so is the empty text.
/// - Longer texts follow the profile's [`ConcatMethod`]: UDH parts (8-bit
///   reference = low octet of `reference`), SAR parts, or one message_payload part.
/// - A GSM escape pair and a UTF-16 surrogate pair are never split across parts
///   (smpp34.md §10.3).
///
/// # Errors
/// [`SegmentError::TooLong`] over the profile's maximum,
/// [`SegmentError::TooManyParts`] over 255 parts,
/// [`SegmentError::InvalidProfile`] for impossible capacities.
///
/// ```
/// use smpp_sms::{segment, CarrierProfile, Method};
/// let s = segment(&"あ".repeat(133), &CarrierProfile::DOCOMO, 0x0102, false).unwrap();
/// assert_eq!((s.method, s.parts.len(), s.billable), (Method::Udh16, 3, 3));
/// assert_eq!(&s.parts[0].user_data[..7], &[0x06, 0x08, 0x04, 0x01, 0x02, 0x03, 0x01]);
/// ```
pub fn segment(
    text: &str,
    profile: &CarrierProfile,
    reference: u16,
    force_ucs2: bool,
) -> Result<Segmented, SegmentError> {
    profile.validate().map_err(|reason| SegmentError::InvalidProfile {
        carrier: profile.name.to_string(),
        reason,
    })?;
    let encoding = Encoding::choose(text, force_ucs2);
    let chars = match encoding {
        Encoding::Gsm7 => gsm7::septet_len(text).unwrap_or(0),
        Encoding::Ucs2 => ucs2::unit_len(text),
    };
    if chars > profile.max_chars {
        return Err(SegmentError::TooLong {
            chars,
            max: profile.max_chars,
            carrier: profile.name.to_string(),
        });
    }
    let billable = billable_count_for(encoding, chars, profile);
    let done = |method, parts| Segmented {
        encoding,
        data_coding: encoding.data_coding(),
        chars,
        method,
        billable,
        parts,
    };

    if chars <= profile.single_capacity(encoding) {
        let part = Part {
            user_data: encode_whole(text, encoding),
            udhi: false,
            sar: None,
            in_message_payload: false,
        };
        return Ok(done(Method::Single, vec![part]));
    }

    if profile.method == ConcatMethod::Payload {
        let part = Part {
            user_data: encode_whole(text, encoding),
            udhi: false,
            sar: None,
            in_message_payload: true,
        };
        return Ok(done(Method::Payload, vec![part]));
    }

    let chunks = split(text, encoding, profile.part_capacity(encoding));
    let total = u8::try_from(chunks.len()).map_err(|_| SegmentError::TooManyParts {
        parts: chunks.len(),
        carrier: profile.name.to_string(),
    })?;
    let [_, ref8] = reference.to_be_bytes();
    let (method, parts) = match profile.method {
        ConcatMethod::Udh8 | ConcatMethod::Udh16 => {
            let wide = profile.method == ConcatMethod::Udh16;
            let parts = chunks
                .into_iter()
                .zip(1..=total)
                .map(|(body, seq)| {
                    // smpp34.md §10.2: 05 00 03 RR TT SS / 06 08 04 RR RR TT SS
                    let mut user_data = if wide {
                        udh::concat16(reference, total, seq).to_vec()
                    } else {
                        udh::concat8(ref8, total, seq).to_vec()
                    };
                    user_data.extend(body);
                    Part { user_data, udhi: true, sar: None, in_message_payload: false }
                })
                .collect();
            (if wide { Method::Udh16 } else { Method::Udh8 }, parts)
        }
        ConcatMethod::Sar | ConcatMethod::Payload => {
            // smpp34.md §10.1: SAR parts carry no UDH and UDHI stays clear.
            let parts = chunks
                .into_iter()
                .zip(1..=total)
                .map(|(user_data, seq)| Part {
                    user_data,
                    udhi: false,
                    sar: Some(Sar { reference, total, seq }),
                    in_message_payload: false,
                })
                .collect();
            (Method::Sar, parts)
        }
    };
    Ok(done(method, parts))
}

fn encode_whole(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Gsm7 => gsm7::encode_unpacked(text).unwrap_or_default(),
        Encoding::Ucs2 => ucs2::encode(text),
    }
}

/// Splits into chunks of at most `capacity` units (septets or UTF-16 code units),
/// never splitting a character: an escape pair or surrogate pair moves whole to the
/// next chunk (smpp34.md §10.3).
fn split(text: &str, encoding: Encoding, capacity: usize) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    let mut used = 0;
    let mut buf = [0u16; 2];
    for c in text.chars() {
        let cost = match encoding {
            // Encoding::choose guarantees every char is in the GSM tables.
            Encoding::Gsm7 => gsm7::encode_char(c).map_or(1, gsm7::GsmChar::septets),
            Encoding::Ucs2 => c.len_utf16(),
        };
        if used + cost > capacity && used > 0 {
            chunks.push(std::mem::take(&mut current));
            used = 0;
        }
        match encoding {
            Encoding::Gsm7 => {
                gsm7::encode_char(c).unwrap_or(gsm7::GsmChar::Basic(b'?')).push_to(&mut current)
            }
            Encoding::Ucs2 => {
                for unit in c.encode_utf16(&mut buf) {
                    current.extend_from_slice(&unit.to_be_bytes());
                }
            }
        }
        used += cost;
    }
    if !current.is_empty() || chunks.is_empty() {
        chunks.push(current);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::billable_count;
    use proptest::prelude::*;

    fn jp(n: usize) -> String {
        "あいうえお".chars().cycle().take(n).collect()
    }

    fn body_units(p: &Part, udh_len: usize) -> usize {
        (p.user_data.len() - udh_len) / 2
    }

    #[test]
    fn docomo_splits_133_chars_into_3_parts() {
        let s = segment(&jp(133), &CarrierProfile::DOCOMO, 7, false).unwrap();
        assert_eq!(s.encoding, Encoding::Ucs2);
        assert_eq!(s.data_coding, 0x08);
        assert_eq!(s.chars, 133);
        assert_eq!(s.method, Method::Udh16);
        assert_eq!(s.parts.len(), 3);
        assert_eq!(s.billable, 3);
        let sizes: Vec<_> = s.parts.iter().map(|p| body_units(p, 7)).collect();
        assert_eq!(sizes, [66, 66, 1]);
        for (i, p) in s.parts.iter().enumerate() {
            assert!(p.udhi);
            assert_eq!(p.esm_class_bits(), 0x40);
            assert!(p.user_data.len() <= 140);
            assert_eq!(&p.user_data[..7], &[0x06, 0x08, 0x04, 0x00, 0x07, 3, i as u8 + 1]);
        }
    }

    #[test]
    fn au_keeps_134_chars_in_2_parts_with_8bit_reference() {
        let s = segment(&jp(134), &CarrierProfile::AU, 0x1234, false).unwrap();
        assert_eq!(s.method, Method::Udh8);
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.billable, 2);
        assert_eq!(&s.parts[0].user_data[..6], &[0x05, 0x00, 0x03, 0x34, 2, 1]);
        assert_eq!(&s.parts[1].user_data[..6], &[0x05, 0x00, 0x03, 0x34, 2, 2]);
        assert_eq!(s.parts[0].user_data.len(), 140);
    }

    #[test]
    fn rakuten_splits_135_chars_into_3_parts() {
        let s = segment(&jp(135), &CarrierProfile::RAKUTEN, 1, false).unwrap();
        assert_eq!((s.method, s.parts.len(), s.billable), (Method::Udh8, 3, 3));
    }

    #[test]
    fn seventy_ucs2_chars_are_a_single_sms_without_udh() {
        for p in &crate::BUILTIN_PROFILES {
            let s = segment(&jp(70), p, 1, false).unwrap();
            assert_eq!(s.method, Method::Single);
            assert_eq!(s.parts.len(), 1);
            assert!(!s.parts[0].udhi);
            assert_eq!(s.parts[0].user_data, ucs2::encode(&jp(70)));
        }
    }

    #[test]
    fn softbank_sends_long_text_in_one_message_payload_billed_once() {
        let text = jp(660);
        let s = segment(&text, &CarrierProfile::SOFTBANK, 1, false).unwrap();
        assert_eq!(s.method, Method::Payload);
        assert_eq!(s.billable, 1);
        assert_eq!(s.parts.len(), 1);
        let p = &s.parts[0];
        assert!(p.in_message_payload);
        assert!(!p.udhi);
        assert_eq!(p.user_data, ucs2::encode(&text));
    }

    #[test]
    fn sar_profile_puts_triple_on_each_part_without_udh() {
        let p = CarrierProfile::new("sar-carrier", ConcatMethod::Sar);
        let s = segment(&jp(140), &p, 0xABCD, false).unwrap();
        assert_eq!(s.method, Method::Sar);
        assert_eq!(s.parts.len(), 3);
        for (i, part) in s.parts.iter().enumerate() {
            assert!(!part.udhi);
            assert_eq!(part.sar, Some(Sar::from((0xABCD, 3, i as u8 + 1))));
        }
        assert_eq!(body_units(&s.parts[0], 0), 66);
    }

    #[test]
    fn text_over_660_is_rejected_with_the_count() {
        let err = segment(&jp(661), &CarrierProfile::DOCOMO, 1, false).unwrap_err();
        assert_eq!(err, SegmentError::TooLong { chars: 661, max: 660, carrier: "docomo".into() });
        assert!(err.to_string().contains("661"), "{err}");
        assert!(err.to_string().contains("660"), "{err}");
    }

    #[test]
    fn empty_text_is_one_empty_single_part() {
        let s = segment("", &CarrierProfile::DOCOMO, 1, false).unwrap();
        assert_eq!(s.encoding, Encoding::Gsm7);
        assert_eq!((s.chars, s.method, s.billable), (0, Method::Single, 1));
        assert_eq!(s.parts.len(), 1);
        assert!(s.parts[0].user_data.is_empty());
    }

    #[test]
    fn gsm_text_uses_data_coding_0_and_unpacked_septets() {
        let s = segment("Code: 1234 @ $5", &CarrierProfile::AU, 1, false).unwrap();
        assert_eq!((s.encoding, s.data_coding), (Encoding::Gsm7, 0x00));
        assert_eq!(s.chars, 15);
        assert_eq!(s.parts[0].user_data[11], 0x00); // '@'
        assert_eq!(s.parts[0].user_data[13], 0x02); // '$'
    }

    #[test]
    fn force_ucs2_overrides_gsm() {
        let s = segment("hello", &CarrierProfile::AU, 1, true).unwrap();
        assert_eq!((s.encoding, s.data_coding, s.chars), (Encoding::Ucs2, 0x08, 5));
        assert_eq!(s.parts[0].user_data, [0, b'h', 0, b'e', 0, b'l', 0, b'l', 0, b'o']);
    }

    #[test]
    fn gsm_161_septets_on_au_are_2_parts_of_153_and_8() {
        let s = segment(&"a".repeat(161), &CarrierProfile::AU, 1, false).unwrap();
        assert_eq!(s.method, Method::Udh8);
        let sizes: Vec<_> = s.parts.iter().map(|p| p.user_data.len() - 6).collect();
        assert_eq!(sizes, [153, 8]);
        assert_eq!(s.billable, 2);
    }

    #[test]
    fn gsm_escape_pair_is_never_split_across_parts() {
        // 151 'a' + '€' (2 septets) + 'b': on docomo (152/part) the euro would
        // straddle 152; it must move whole to part 2.
        let text = format!("{}€{}", "a".repeat(151), "b".repeat(20));
        let s = segment(&text, &CarrierProfile::DOCOMO, 1, false).unwrap();
        assert_eq!(s.chars, 151 + 2 + 20);
        let first = &s.parts[0].user_data[7..];
        assert_eq!(first.len(), 151);
        assert_ne!(first.last(), Some(&gsm7::ESC));
        assert_eq!(&s.parts[1].user_data[7..9], &[0x1B, 0x65]);
    }

    #[test]
    fn surrogate_pair_is_never_split_across_parts() {
        // 65 kana + emoji (2 units) straddles docomo's 66-unit boundary.
        let text = format!("{}💳{}", jp(65), jp(10));
        let s = segment(&text, &CarrierProfile::DOCOMO, 1, false).unwrap();
        assert_eq!(s.chars, 77);
        assert_eq!(body_units(&s.parts[0], 7), 65);
        assert_eq!(&s.parts[1].user_data[7..11], &[0xD8, 0x3D, 0xDC, 0xB3]);
        for p in &s.parts {
            let body = &p.user_data[7..];
            let last = u16::from_be_bytes([body[body.len() - 2], body[body.len() - 1]]);
            assert!(!(0xD800..0xDC00).contains(&last), "part ends in a high surrogate");
        }
    }

    #[test]
    fn udh8_uses_low_octet_of_reference() {
        let s = segment(&jp(71), &CarrierProfile::AU, 0xFF01, false).unwrap();
        assert_eq!(s.parts[0].user_data[3], 0x01);
    }

    #[test]
    fn too_many_parts_is_an_error_not_a_panic() {
        let mut p = CarrierProfile::new("tiny", ConcatMethod::Udh8);
        p.part_ucs2 = 2;
        p.max_chars = 100_000;
        let err = segment(&jp(600), &p, 1, false).unwrap_err();
        assert_eq!(err, SegmentError::TooManyParts { parts: 300, carrier: "tiny".into() });
    }

    #[test]
    fn invalid_profile_is_reported() {
        let mut p = CarrierProfile::DOCOMO;
        p.part_ucs2 = 0;
        assert!(matches!(segment("x", &p, 1, false), Err(SegmentError::InvalidProfile { .. })));
    }

    #[test]
    fn docomo_660_chars_are_exactly_10_parts() {
        let s = segment(&jp(660), &CarrierProfile::DOCOMO, 1, false).unwrap();
        assert_eq!((s.parts.len(), s.billable), (10, 10));
        let s = segment(&jp(660), &CarrierProfile::AU, 1, false).unwrap();
        assert_eq!((s.parts.len(), s.billable), (10, 10));
    }

    proptest! {
        #[test]
        fn billable_equals_udh_parts_for_bmp_ucs2_text(
            n in 0usize..=660,
            carrier in prop::sample::select(vec!["docomo", "au", "rakuten"]),
        ) {
            let profile = CarrierProfile::by_name(carrier).unwrap();
            let s = segment(&jp(n), &profile, 9, false).unwrap();
            prop_assert_eq!(s.billable as usize, s.parts.len());
            prop_assert_eq!(s.billable, billable_count(n, &profile));
            for p in &s.parts {
                prop_assert!(p.user_data.len() <= 140);
            }
        }

        #[test]
        fn gsm_parts_fit_140_octets_when_packed(s in "[a-z€\\[\\]{}]{0,330}") {
            for profile in &crate::BUILTIN_PROFILES {
                let seg = segment(&s, profile, 3, false).unwrap();
                if seg.method == Method::Payload { continue; }
                for p in &seg.parts {
                    let udh_len = if p.udhi { usize::from(p.user_data[0]) + 1 } else { 0 };
                    let packed = gsm7::pack_with_udh(&p.user_data[..udh_len], &p.user_data[udh_len..]);
                    prop_assert!(packed.len() <= 140);
                    prop_assert_ne!(p.user_data.last(), Some(&gsm7::ESC));
                }
            }
        }
    }
}
