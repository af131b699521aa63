//! UCS-2 (data_coding 0x08, smpp34.md §7.3) as UTF-16 big-endian.
//!
//! Characters outside the Basic Multilingual Plane (emoji) are written as UTF-16
//! surrogate pairs; carriers count them as two characters (smpp34.md §10.3).

/// Number of UTF-16 code units in `text`: the character count carriers use for
/// UCS2 messages (a surrogate pair costs 2).
///
/// ```
/// assert_eq!(smpp_sms::ucs2::unit_len("ご請求"), 3);
/// assert_eq!(smpp_sms::ucs2::unit_len("💳"), 2);
/// ```
pub fn unit_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Encodes `text` as UTF-16BE octets (2 per code unit).
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

/// Decodes UTF-16BE octets, replacing unpaired surrogates and a trailing odd octet
/// with U+FFFD. Never fails.
pub fn decode(bytes: &[u8]) -> String {
    let mut out: String = char::decode_utf16(units(bytes))
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if bytes.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// Decodes UTF-16BE octets strictly.
///
/// # Errors
/// [`Ucs2Error::OddLength`] for an odd number of octets, [`Ucs2Error::UnpairedSurrogate`]
/// for a lone surrogate (with the octet offset of the offending unit).
pub fn decode_strict(bytes: &[u8]) -> Result<String, Ucs2Error> {
    if bytes.len() % 2 == 1 {
        return Err(Ucs2Error::OddLength(bytes.len()));
    }
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut offset = 0;
    for r in char::decode_utf16(units(bytes)) {
        match r {
            Ok(c) => {
                out.push(c);
                offset += 2 * c.len_utf16();
            }
            Err(_) => return Err(Ucs2Error::UnpairedSurrogate { offset }),
        }
    }
    Ok(out)
}

/// The big-endian code units of UCS-2 octets (a trailing odd octet left out), as a type
/// [`crate::reassembly::TextChars`] can hold.
pub(crate) type Units<'a> = std::iter::Map<std::slice::ChunksExact<'a, u8>, fn(&[u8]) -> u16>;

pub(crate) fn units(bytes: &[u8]) -> Units<'_> {
    bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
}

/// Why strict UCS-2 decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ucs2Error {
    /// UCS-2 data must have an even number of octets.
    #[error("UCS-2 data has an odd length ({0} octets)")]
    OddLength(usize),
    /// A high surrogate without its low half, or a lone low surrogate.
    #[error("unpaired UTF-16 surrogate at octet {offset}")]
    UnpairedSurrogate {
        /// Octet offset of the offending code unit.
        offset: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn japanese_encodes_big_endian_two_octets_per_char() {
        assert_eq!(encode("カ"), [0x30, 0xAB]);
        assert_eq!(encode("A"), [0x00, 0x41]);
    }

    #[test]
    fn emoji_is_a_surrogate_pair_costing_two_units() {
        // U+1F4B3 CREDIT CARD = D83D DCB3
        assert_eq!(encode("💳"), [0xD8, 0x3D, 0xDC, 0xB3]);
        assert_eq!(unit_len("💳a"), 3);
    }

    #[test]
    fn lossy_decode_replaces_broken_input() {
        assert_eq!(decode(&[0xD8, 0x3D]), "\u{FFFD}");
        assert_eq!(decode(&[0x00, 0x41, 0x00]), "A\u{FFFD}");
    }

    #[test]
    fn strict_decode_reports_odd_length_and_lone_surrogate() {
        assert_eq!(decode_strict(&[0x00]), Err(Ucs2Error::OddLength(1)));
        assert_eq!(
            decode_strict(&[0x00, 0x41, 0xDC, 0xB3]),
            Err(Ucs2Error::UnpairedSurrogate { offset: 2 })
        );
        assert_eq!(decode_strict(&encode("ご💳")).unwrap(), "ご💳");
    }

    proptest! {
        #[test]
        fn encode_decode_round_trips(s in "\\PC{0,100}") {
            prop_assert_eq!(decode(&encode(&s)), s.clone());
            prop_assert_eq!(encode(&s).len(), 2 * unit_len(&s));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
            let _ = decode_strict(&bytes);
        }
    }
}
