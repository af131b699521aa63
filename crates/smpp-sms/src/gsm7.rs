//! GSM 03.38 default alphabet: basic and extension tables, septet counting,
//! unpacked encode/decode (one septet per octet, as sent over SMPP with
//! data_coding 0) and 7-bit packing with fill bits after a UDH.
//!
//! Tables and rules are from smpp34.md §11.

/// The escape septet that introduces an extension-table character (smpp34.md §11).
pub const ESC: u8 = 0x1B;

/// GSM 03.38 basic table, indexed by septet value (smpp34.md §11).
/// Index 0x1B is ESC and is never produced by the encoder; the decoder handles it
/// separately (it is shown as a space when it does not start a known pair).
const BASIC: [char; 128] = [
    // 0x00-0x0F
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
    // 0x10-0x1F (0x1B = ESC, placeholder space)
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É',
    // 0x20-0x2F
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    // 0x30-0x3F
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
    // 0x40-0x4F
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
    // 0x50-0x5F
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
    // 0x60-0x6F
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    // 0x70-0x7F
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/// GSM 03.38 extension table: (character, code after ESC) (smpp34.md §11).
const EXTENSION: [(char, u8); 10] = [
    ('\u{000C}', 0x0A), // form feed
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2F),
    ('[', 0x3C),
    ('~', 0x3D),
    (']', 0x3E),
    ('|', 0x40),
    ('€', 0x65),
];

/// How one character is written in GSM 03.38.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GsmChar {
    /// A basic-table character: one septet with this value.
    Basic(u8),
    /// An extension-table character: ESC (0x1B) followed by this code; two septets.
    Extended(u8),
}

impl GsmChar {
    /// Number of septets this character costs (1 or 2; smpp34.md §11 counting rule).
    pub fn septets(self) -> usize {
        match self {
            GsmChar::Basic(_) => 1,
            GsmChar::Extended(_) => 2,
        }
    }

    /// Appends the unpacked septets (one per octet) of this character to `out`.
    pub fn push_to(self, out: &mut Vec<u8>) {
        match self {
            GsmChar::Basic(s) => out.push(s),
            GsmChar::Extended(code) => {
                out.push(ESC);
                out.push(code);
            }
        }
    }
}

/// Looks a character up in the basic and extension tables.
///
/// Returns `None` when the character is in neither table (the message must then go
/// out as UCS2, smpp34.md §11).
pub fn encode_char(c: char) -> Option<GsmChar> {
    // Fast path: letters and digits are at their ASCII positions.
    if c.is_ascii_alphanumeric() {
        return Some(GsmChar::Basic(c as u8));
    }
    if let Some(pos) = BASIC.iter().enumerate().position(|(i, &b)| i != usize::from(ESC) && b == c)
    {
        // BASIC has 128 entries, so the index fits in a septet.
        return Some(GsmChar::Basic(pos as u8));
    }
    EXTENSION.iter().find(|(ch, _)| *ch == c).map(|&(_, code)| GsmChar::Extended(code))
}

/// Length of `text` in septets (basic chars + 2 × extension chars), or `None` if
/// any character is not representable in GSM 03.38 (smpp34.md §11 counting rule).
///
/// ```
/// assert_eq!(smpp_sms::gsm7::septet_len("a€"), Some(3));
/// assert_eq!(smpp_sms::gsm7::septet_len("日本"), None);
/// ```
pub fn septet_len(text: &str) -> Option<usize> {
    text.chars().try_fold(0usize, |n, c| encode_char(c).map(|g| n + g.septets()))
}

/// Encodes `text` as unpacked septets, one per octet; extension characters become
/// `0x1B, code`. `None` if any character is not representable.
pub fn encode_unpacked(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        encode_char(c)?.push_to(&mut out);
    }
    Some(out)
}

/// The ASCII octet of each basic-table septet that is an ASCII character, 0 for the others
/// (ESC, the non-ASCII letters, and every octet above 0x7F, which is no septet). No septet
/// decodes to NUL, so 0 is free to mean "not plain".
const PLAIN_ASCII: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < BASIC.len() {
        if i != ESC as usize && BASIC[i].is_ascii() {
            t[i] = BASIC[i] as u8;
        }
        i += 1;
    }
    t
};

/// Decodes unpacked septets (one per octet) into text.
///
/// ESC followed by a code that is not in the extension table shows the basic-table
/// character for that code; ESC followed by ESC, or a trailing ESC, shows a space
/// (smpp34.md §11). Octets above 0x7F are not septets and decode to U+FFFD.
pub fn decode_unpacked(septets: &[u8]) -> String {
    // Built as UTF-8 octets. Nearly every text is ASCII-mapped septets all through: those
    // are mapped in one pass through a table, and only a text with some other septet takes
    // the slower path from its first one.
    let mut out: Vec<u8> = septets.iter().map(|&s| PLAIN_ASCII[usize::from(s)]).collect();
    if out.contains(&0) {
        let first_special = out.iter().position(|&a| a == 0).unwrap_or(out.len());
        out.truncate(first_special);
        push_decoded(&mut out, &septets[first_special..]);
    }
    String::from_utf8(out).expect("whole characters only")
}

/// The characters of unpacked septets, as [`decode_unpacked`] decodes them, one at a time:
/// for a caller that wants only the first few (a receipt's `text:` preview) without
/// decoding the whole message into a `String`.
pub fn chars(septets: &[u8]) -> Chars<'_> {
    Chars { rest: septets }
}

/// The iterator of [`chars`].
#[derive(Clone, Debug)]
pub struct Chars<'a> {
    rest: &'a [u8],
}

impl Iterator for Chars<'_> {
    type Item = char;

    #[inline]
    fn next(&mut self) -> Option<char> {
        let (&s, after) = self.rest.split_first()?;
        let plain = PLAIN_ASCII[usize::from(s)];
        if plain != 0 {
            self.rest = after;
            return Some(char::from(plain));
        }
        let (c, after) = decode_special(self.rest)?;
        self.rest = after;
        Some(c)
    }
}

/// Appends the UTF-8 of `septets` to `out`, copying runs of plain septets through the table.
fn push_decoded(out: &mut Vec<u8>, septets: &[u8]) {
    let mut rest = septets;
    while !rest.is_empty() {
        let run = rest.iter().position(|&s| PLAIN_ASCII[usize::from(s)] == 0).unwrap_or(rest.len());
        out.extend(rest[..run].iter().map(|&s| PLAIN_ASCII[usize::from(s)]));
        rest = &rest[run..];
        if let Some((c, after)) = decode_special(rest) {
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            rest = after;
        }
    }
}

/// Decodes the septet at the start of `septets` that is not plain ASCII (ESC and what it
/// starts, a non-ASCII letter, a non-septet); `None` when `septets` is empty.
fn decode_special(septets: &[u8]) -> Option<(char, &[u8])> {
    let (&s, after) = septets.split_first()?;
    if s != ESC {
        return Some((basic_char(s), after));
    }
    Some(match after.split_first() {
        None => (' ', after),
        Some((&ESC, rest)) => (' ', rest),
        Some((&code, rest)) => (extension_char(code).unwrap_or_else(|| basic_char(code)), rest),
    })
}

fn basic_char(s: u8) -> char {
    BASIC.get(usize::from(s)).copied().unwrap_or(char::REPLACEMENT_CHARACTER)
}

fn extension_char(code: u8) -> Option<char> {
    EXTENSION.iter().find(|(_, c)| *c == code).map(|&(ch, _)| ch)
}

/// Number of fill bits needed after a UDH of `udh_len` octets (UDHL included) so
/// that the first septet starts on a septet boundary: 1 after a 6-octet UDH, 0 after
/// 7 octets (smpp34.md §11 packing rule).
pub fn fill_bits(udh_len: usize) -> u8 {
    ((7 - (udh_len * 8) % 7) % 7) as u8
}

/// Packs septets LSB-first into octets: septet i occupies bits 7i..7i+6 of the
/// stream (smpp34.md §11). 160 septets → 140 octets.
///
/// ```
/// use smpp_sms::gsm7::{encode_unpacked, pack};
/// let packed = pack(&encode_unpacked("hello").unwrap());
/// assert_eq!(packed, [0xE8, 0x32, 0x9B, 0xFD, 0x06]);
/// ```
pub fn pack(septets: &[u8]) -> Vec<u8> {
    pack_with_fill(septets, 0)
}

/// Packs septets after `fill_bits` leading zero bits (0..=6; larger values are
/// taken modulo 7). Used for the text that follows a UDH.
pub fn pack_with_fill(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let fill = usize::from(fill_bits % 7);
    let total_bits = fill + septets.len() * 7;
    let mut out = vec![0u8; total_bits.div_ceil(8)];
    for (i, &s) in septets.iter().enumerate() {
        let v = u16::from(s & 0x7F);
        let bit = fill + 7 * i;
        let (byte, shift) = (bit / 8, bit % 8);
        let word = v << shift;
        out[byte] |= (word & 0xFF) as u8;
        if shift > 1 {
            out[byte + 1] |= (word >> 8) as u8;
        }
    }
    out
}

/// Builds packed user data: the UDH octets, then the septets packed after the fill
/// bits that bring them to a septet boundary (smpp34.md §11).
pub fn pack_with_udh(udh: &[u8], septets: &[u8]) -> Vec<u8> {
    let mut out = udh.to_vec();
    out.extend(pack_with_fill(septets, fill_bits(udh.len())));
    out
}

/// Unpacks `septets` septets from packed octets (inverse of [`pack`]). Stops early,
/// without panicking, if `packed` is too short.
pub fn unpack(packed: &[u8], septets: usize) -> Vec<u8> {
    unpack_with_fill(packed, septets, 0)
}

/// Unpacks `septets` septets that start after `fill_bits` leading bits (inverse of
/// [`pack_with_fill`]). Stops early if `packed` is too short.
pub fn unpack_with_fill(packed: &[u8], septets: usize, fill_bits: u8) -> Vec<u8> {
    let fill = usize::from(fill_bits % 7);
    let available = (packed.len() * 8).saturating_sub(fill) / 7;
    let n = septets.min(available);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let bit = fill + 7 * i;
        let (byte, shift) = (bit / 8, bit % 8);
        let lo = u16::from(packed[byte]);
        let hi = u16::from(packed.get(byte + 1).copied().unwrap_or(0));
        out.push((((hi << 8 | lo) >> shift) & 0x7F) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hello_packs_to_reference_vector() {
        let s = encode_unpacked("hello").unwrap();
        assert_eq!(pack(&s), [0xE8, 0x32, 0x9B, 0xFD, 0x06]);
    }

    #[test]
    fn hellohello_packs_to_reference_vector() {
        let s = encode_unpacked("hellohello").unwrap();
        assert_eq!(pack(&s), [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]);
        assert_eq!(unpack(&pack(&s), 10), s);
    }

    #[test]
    fn hundred_sixty_septets_pack_into_140_octets() {
        let s = vec![0x41u8; 160];
        assert_eq!(pack(&s).len(), 140);
        assert_eq!(unpack(&pack(&s), 160), s);
    }

    #[test]
    fn fill_bits_are_one_after_six_octet_udh_and_zero_after_seven() {
        assert_eq!(fill_bits(6), 1);
        assert_eq!(fill_bits(7), 0);
        assert_eq!(fill_bits(0), 0);
    }

    #[test]
    fn pack_with_udh_shifts_text_by_one_fill_bit_after_8bit_concat_udh() {
        let udh = [0x05, 0x00, 0x03, 0x01, 0x02, 0x01];
        let s = encode_unpacked("hello").unwrap();
        let ud = pack_with_udh(&udh, &s);
        assert_eq!(&ud[..6], &udh);
        // 'h' = 0x68 shifted left by one fill bit: low octet 0xD0.
        assert_eq!(ud[6], 0xD0);
        assert_eq!(unpack_with_fill(&ud[6..], 5, fill_bits(6)), s);
        // 6 octets UDH + 1 fill bit + 5 * 7 bits = 36 bits -> 5 octets
        assert_eq!(ud.len(), 6 + 5);
    }

    #[test]
    fn unpack_of_short_input_stops_without_panic() {
        assert_eq!(unpack(&[0xE8], 5), vec![0x68]);
        assert!(unpack(&[], 3).is_empty());
    }

    #[test]
    fn ascii_differences_map_to_gsm_positions() {
        assert_eq!(encode_unpacked("@$_").unwrap(), [0x00, 0x02, 0x11]);
        assert_eq!(encode_char('¤'), Some(GsmChar::Basic(0x24)));
        assert_eq!(encode_char('¡'), Some(GsmChar::Basic(0x40)));
        assert_eq!(encode_char('`'), None);
    }

    #[test]
    fn extension_chars_cost_two_septets_and_encode_with_escape() {
        assert_eq!(septet_len("[€]"), Some(6));
        assert_eq!(encode_unpacked("{}").unwrap(), [0x1B, 0x28, 0x1B, 0x29]);
        assert_eq!(encode_unpacked("\u{000C}").unwrap(), [0x1B, 0x0A]);
    }

    #[test]
    fn japanese_is_not_representable() {
        assert_eq!(septet_len("お支払い"), None);
        assert_eq!(encode_unpacked("abc日"), None);
    }

    #[test]
    fn escape_with_undefined_code_decodes_as_basic_char() {
        // ESC 0x41 is not an extension code -> basic 'A'.
        assert_eq!(decode_unpacked(&[0x1B, 0x41]), "A");
        assert_eq!(decode_unpacked(&[0x1B, 0x1B]), " ");
        assert_eq!(decode_unpacked(&[0x61, 0x1B]), "a ");
        assert_eq!(decode_unpacked(&[0x80]), "\u{FFFD}");
    }

    #[test]
    fn every_table_entry_round_trips() {
        for (i, &c) in BASIC.iter().enumerate() {
            if i == usize::from(ESC) {
                continue;
            }
            let enc = encode_unpacked(&c.to_string()).unwrap();
            assert_eq!(enc, [i as u8], "char {c:?}");
            assert_eq!(decode_unpacked(&enc), c.to_string());
        }
        for &(c, code) in &EXTENSION {
            let enc = encode_unpacked(&c.to_string()).unwrap();
            assert_eq!(enc, [ESC, code]);
            assert_eq!(decode_unpacked(&enc), c.to_string());
        }
    }

    /// The char-by-char decoder that [`decode_unpacked`] replaced, kept as its reference.
    fn decode_unpacked_reference(septets: &[u8]) -> String {
        let mut out = String::with_capacity(septets.len());
        let mut i = 0;
        while i < septets.len() {
            let s = septets[i];
            i += 1;
            if s == ESC {
                match septets.get(i) {
                    None => out.push(' '),
                    Some(&ESC) => {
                        out.push(' ');
                        i += 1;
                    }
                    Some(&code) => {
                        i += 1;
                        match EXTENSION.iter().find(|(_, c)| *c == code) {
                            Some(&(ch, _)) => out.push(ch),
                            None => out.push(basic_char(code)),
                        }
                    }
                }
            } else {
                out.push(basic_char(s));
            }
        }
        out
    }

    /// Octets biased towards the interesting ones: ESC, extension codes, non-ASCII letters.
    fn septet_octet() -> impl Strategy<Value = u8> {
        prop_oneof![
            4 => 0u8..0x80,
            2 => Just(ESC),
            2 => prop::sample::select(EXTENSION.iter().map(|&(_, code)| code).collect::<Vec<_>>()),
            1 => any::<u8>(),
        ]
    }

    proptest! {
        #[test]
        fn decode_matches_the_reference(septets in prop_oneof![
            proptest::collection::vec(septet_octet(), 0..300),
            // Mostly all plain: the one-pass path.
            proptest::collection::vec(0x20u8..0x7B, 0..300),
        ]) {
            prop_assert_eq!(decode_unpacked(&septets), decode_unpacked_reference(&septets));
        }

        #[test]
        fn chars_yields_what_decode_decodes(septets in proptest::collection::vec(septet_octet(), 0..300)) {
            prop_assert_eq!(chars(&septets).collect::<String>(), decode_unpacked(&septets));
        }

        #[test]
        fn pack_unpack_round_trips(septets in proptest::collection::vec(0u8..0x80, 0..200), fill in 0u8..7) {
            let packed = pack_with_fill(&septets, fill);
            prop_assert_eq!(unpack_with_fill(&packed, septets.len(), fill), septets);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_unpacked(&bytes);
        }
    }
}
