//! User Data Header: parsing and building (smpp34.md §10.2).
//!
//! Layout: `UDHL` (one octet, length of the IEs that follow) then information
//! elements `IEI, IEDL, data`. The concatenation IEs are 0x00 (8-bit reference,
//! `05 00 03 RR TT SS`) and 0x08 (16-bit reference, `06 08 04 RR RR TT SS`).

/// IEI of the concatenation IE with an 8-bit reference (smpp34.md §10.2).
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of the concatenation IE with a 16-bit reference (smpp34.md §10.2).
pub const IEI_CONCAT_16: u8 = 0x08;
/// IEI of the 16-bit application port addressing IE (smpp34.md §10.2).
pub const IEI_PORTS_16: u8 = 0x05;

/// One information element of a UDH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationElement {
    /// Information element identifier.
    pub iei: u8,
    /// The IE's data (its length is the IEDL).
    pub data: Vec<u8>,
}

/// Width of a concatenation reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefWidth {
    /// IEI 0x00: one-octet reference.
    Bits8,
    /// IEI 0x08: two-octet big-endian reference.
    Bits16,
}

/// A validated concatenation IE: which part of which message this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concat {
    /// Reference shared by all parts of one message.
    pub reference: u16,
    /// 8- or 16-bit reference IE.
    pub width: RefWidth,
    /// Total number of parts (1..=255).
    pub total: u8,
    /// This part's number, 1..=total.
    pub seq: u8,
}

/// A parsed UDH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udh {
    /// All IEs in order, including the concatenation IE and unknown ones.
    pub ies: Vec<InformationElement>,
    /// The concatenation IE, if any (the last one wins when repeated).
    pub concat: Option<Concat>,
    /// Length of the whole UDH in octets, UDHL included: the user text starts at
    /// this offset in the user data.
    pub len: usize,
}

/// Why a UDH could not be parsed or built. Parsing never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UdhError {
    /// The user data is empty, so there is no UDHL octet.
    #[error("UDHI is set but the user data is empty")]
    Empty,
    /// UDHL says more octets than the user data holds.
    #[error("UDH length {udhl} exceeds the {available} octets that follow it")]
    Truncated {
        /// The UDHL value.
        udhl: usize,
        /// Octets available after the UDHL octet.
        available: usize,
    },
    /// An IE's IEDL runs past the end of the UDH.
    #[error("information element 0x{iei:02X} at offset {offset} runs past the end of the UDH")]
    IeOverrun {
        /// The IEI.
        iei: u8,
        /// Offset of the IEI within the UDH (0 = the UDHL octet).
        offset: usize,
    },
    /// A concatenation IE with the wrong IEDL (3 for 0x00, 4 for 0x08).
    #[error("concatenation IE 0x{iei:02X} has length {len}, expected {expected}")]
    BadConcatLength {
        /// The IEI.
        iei: u8,
        /// The IEDL found.
        len: usize,
        /// The IEDL required.
        expected: usize,
    },
    /// Total of 0, part of 0, or part greater than total (smpp34.md §10.2).
    #[error("invalid concatenation numbers: part {seq} of {total}")]
    BadConcatNumbers {
        /// Total parts claimed.
        total: u8,
        /// This part's number.
        seq: u8,
    },
    /// The IEs do not fit in a UDH (UDHL is one octet; an IE's data at most 255).
    #[error("UDH too long to build ({0} octets of IEs)")]
    TooLong(usize),
}

/// Parses the UDH at the start of `user_data` (short_message or message_payload
/// when esm_class UDHI is set). Unknown IEs, such as 0x05 ports, are kept in
/// [`Udh::ies`] and otherwise skipped.
///
/// # Errors
/// A [`UdhError`] for any malformed header; never panics on arbitrary input.
///
/// ```
/// let udh = smpp_sms::udh::parse_udh(&[0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, b'h', b'i']).unwrap();
/// let c = udh.concat.unwrap();
/// assert_eq!((c.reference, c.total, c.seq, udh.len), (0x2A, 2, 1, 6));
/// ```
pub fn parse_udh(user_data: &[u8]) -> Result<Udh, UdhError> {
    let (&udhl, rest) = user_data.split_first().ok_or(UdhError::Empty)?;
    let udhl = usize::from(udhl);
    let body = rest.get(..udhl).ok_or(UdhError::Truncated { udhl, available: rest.len() })?;
    let mut ies = Vec::new();
    let mut concat = None;
    let mut i = 0;
    while i < body.len() {
        let iei = body[i];
        let Some(&iedl) = body.get(i + 1) else {
            return Err(UdhError::IeOverrun { iei, offset: i + 1 });
        };
        let start = i + 2;
        let end = start + usize::from(iedl);
        let data = body.get(start..end).ok_or(UdhError::IeOverrun { iei, offset: i + 1 })?;
        match iei {
            IEI_CONCAT_8 | IEI_CONCAT_16 => concat = Some(parse_concat(iei, data)?),
            _ => {}
        }
        ies.push(InformationElement { iei, data: data.to_vec() });
        i = end;
    }
    Ok(Udh { ies, concat, len: 1 + udhl })
}

fn parse_concat(iei: u8, data: &[u8]) -> Result<Concat, UdhError> {
    let (width, reference, total, seq) = match (iei, data) {
        (IEI_CONCAT_8, &[r, t, s]) => (RefWidth::Bits8, u16::from(r), t, s),
        (IEI_CONCAT_16, &[r1, r2, t, s]) => (RefWidth::Bits16, u16::from_be_bytes([r1, r2]), t, s),
        _ => {
            return Err(UdhError::BadConcatLength {
                iei,
                len: data.len(),
                expected: if iei == IEI_CONCAT_8 { 3 } else { 4 },
            })
        }
    };
    if total == 0 || seq == 0 || seq > total {
        return Err(UdhError::BadConcatNumbers { total, seq });
    }
    Ok(Concat { reference, width, total, seq })
}

/// Builds the 6-octet UDH `05 00 03 RR TT SS` (8-bit reference).
pub fn concat8(reference: u8, total: u8, seq: u8) -> [u8; 6] {
    [0x05, IEI_CONCAT_8, 0x03, reference, total, seq]
}

/// Builds the 7-octet UDH `06 08 04 RR RR TT SS` (16-bit big-endian reference).
pub fn concat16(reference: u16, total: u8, seq: u8) -> [u8; 7] {
    let [hi, lo] = reference.to_be_bytes();
    [0x06, IEI_CONCAT_16, 0x04, hi, lo, total, seq]
}

/// Builds a UDH (UDHL included) from arbitrary IEs, e.g. ports plus concatenation.
///
/// # Errors
/// [`UdhError::TooLong`] if an IE's data exceeds 255 octets or the IEs exceed the
/// one-octet UDHL.
pub fn build_udh(ies: &[InformationElement]) -> Result<Vec<u8>, UdhError> {
    let body_len: usize = ies.iter().map(|ie| 2 + ie.data.len()).sum();
    let udhl = u8::try_from(body_len).map_err(|_| UdhError::TooLong(body_len))?;
    let mut out = Vec::with_capacity(1 + body_len);
    out.push(udhl);
    for ie in ies {
        let iedl = u8::try_from(ie.data.len()).map_err(|_| UdhError::TooLong(body_len))?;
        out.push(ie.iei);
        out.push(iedl);
        out.extend_from_slice(&ie.data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn concat8_builds_05_00_03_rr_tt_ss() {
        assert_eq!(concat8(0xAB, 3, 2), [0x05, 0x00, 0x03, 0xAB, 0x03, 0x02]);
    }

    #[test]
    fn concat16_builds_06_08_04_rrrr_tt_ss_big_endian() {
        assert_eq!(concat16(0x1234, 10, 1), [0x06, 0x08, 0x04, 0x12, 0x34, 0x0A, 0x01]);
    }

    #[test]
    fn parses_16bit_reference() {
        let udh = parse_udh(&concat16(0xBEEF, 4, 4)).unwrap();
        assert_eq!(
            udh.concat,
            Some(Concat { reference: 0xBEEF, width: RefWidth::Bits16, total: 4, seq: 4 })
        );
        assert_eq!(udh.len, 7);
    }

    #[test]
    fn skips_port_ie_before_concat() {
        // ports IE (0x05, 4 octets) then 8-bit concat
        let ud = [0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x07, 0x02, 0x02, 0x41];
        let udh = parse_udh(&ud).unwrap();
        assert_eq!(udh.ies.len(), 2);
        assert_eq!(udh.ies[0].iei, IEI_PORTS_16);
        let c = udh.concat.unwrap();
        assert_eq!((c.reference, c.total, c.seq), (7, 2, 2));
        assert_eq!(&ud[udh.len..], &[0x41]);
    }

    #[test]
    fn udh_without_concat_has_none() {
        let udh = parse_udh(&[0x06, 0x05, 0x04, 0, 1, 0, 2]).unwrap();
        assert_eq!(udh.concat, None);
    }

    #[test]
    fn rejects_malformed_headers() {
        assert_eq!(parse_udh(&[]), Err(UdhError::Empty));
        assert_eq!(
            parse_udh(&[0x05, 0x00, 0x03]),
            Err(UdhError::Truncated { udhl: 5, available: 2 })
        );
        assert!(matches!(
            parse_udh(&[0x03, 0x00, 0x05, 0x01]),
            Err(UdhError::IeOverrun { iei: 0, .. })
        ));
        assert!(matches!(parse_udh(&[0x01, 0x00]), Err(UdhError::IeOverrun { .. })));
        assert_eq!(
            parse_udh(&[0x04, 0x00, 0x02, 0x01, 0x01]),
            Err(UdhError::BadConcatLength { iei: 0, len: 2, expected: 3 })
        );
    }

    #[test]
    fn rejects_part_zero_total_zero_and_part_over_total() {
        for (t, s) in [(0, 0), (2, 0), (0, 1), (2, 3)] {
            assert_eq!(
                parse_udh(&concat8(1, t, s)),
                Err(UdhError::BadConcatNumbers { total: t, seq: s })
            );
        }
    }

    #[test]
    fn build_udh_matches_fixed_builders_and_round_trips() {
        let ies = [InformationElement { iei: IEI_CONCAT_8, data: vec![9, 2, 1] }];
        assert_eq!(build_udh(&ies).unwrap(), concat8(9, 2, 1));
        assert_eq!(parse_udh(&build_udh(&ies).unwrap()).unwrap().ies, ies);
        let big = [InformationElement { iei: 0x70, data: vec![0; 254] }];
        assert_eq!(build_udh(&big), Err(UdhError::TooLong(256)));
    }

    proptest! {
        #[test]
        fn parse_udh_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(udh) = parse_udh(&bytes) {
                prop_assert!(udh.len <= bytes.len());
            }
        }
    }
}
