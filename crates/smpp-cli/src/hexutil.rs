//! Hex text in and out. Input may carry spaces, newlines, `:` separators and a `0x` prefix.

/// Lowercase hex without separators.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0F)] as char);
    }
    s
}

/// Parses hex text; the error names the offending character and its position.
pub(crate) fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let text = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    for (pos, c) in text.char_indices() {
        if c.is_whitespace() || c == ':' {
            continue;
        }
        let Some(v) = c.to_digit(16) else {
            return Err(format!("not hex: {c:?} at position {pos}"));
        };
        match high.take() {
            None => high = Some(v as u8),
            Some(h) => out.push(h << 4 | v as u8),
        }
    }
    if high.is_some() {
        return Err("odd number of hex digits".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spaced_and_prefixed_hex() {
        assert_eq!(from_hex("0x00 0A:ff\n10").unwrap(), vec![0, 10, 255, 16]);
        assert_eq!(to_hex(&[0, 10, 255]), "000aff");
    }

    #[test]
    fn names_the_bad_character() {
        assert_eq!(from_hex("00 zz").unwrap_err(), "not hex: 'z' at position 3");
        assert_eq!(from_hex("abc").unwrap_err(), "odd number of hex digits");
    }
}
