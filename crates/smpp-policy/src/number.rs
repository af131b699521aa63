//! Japanese mobile numbers: normalising what operators type into E.164, and masking for logs.
//!
//! Accepted spellings of the same number:
//! `09012345678`, `090-1234-5678`, `090 1234 5678`, `(090)1234-5678`, `+819012345678`,
//! `819012345678`, `+81 90-1234-5678`, `+81 (0)90 1234 5678`, and any of these in full-width
//! digits (`０９０－１２３４－５６７８`). Separators are spaces (also U+3000), hyphens and
//! dashes (also `ー`), dots and parentheses; `+` only at the start.
//!
//! Mobile ranges are 070, 080 and 090 with 11 digits nationally; 020 (M2M, pagers) only when
//! [`NumberRules::allow_020`] is set. Anything else is a [`NumberError`] saying why.

use std::fmt;

/// Which number ranges are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NumberRules {
    /// Accept 020-xxxx-xxxx numbers (M2M / pager range). Off by default: credit-card
    /// messages go to handsets.
    pub allow_020: bool,
}

impl NumberRules {
    /// 070/080/090 only.
    pub const DEFAULT: NumberRules = NumberRules { allow_020: false };
}

/// A valid Japanese mobile number, held as its national significant number (the ten digits
/// after `+81`, e.g. `9012345678`), so it is 8 bytes and orders like the numbers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JpNumber(u64);

impl JpNumber {
    /// The national significant number (without `0` or `+81`).
    pub const fn nsn(self) -> u64 {
        self.0
    }

    /// `+819012345678`.
    pub fn e164(self) -> String {
        format!("+81{}", self.0)
    }

    /// `09012345678`.
    pub fn national(self) -> String {
        format!("0{}", self.0)
    }
}

impl fmt::Display for JpNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+81{}", self.0)
    }
}

/// What kind of non-mobile number was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NonMobile {
    /// A fixed-line area code (03, 06, 045, …).
    Landline,
    /// 050 IP phone.
    IpPhone,
    /// 0120 / 0800 free dial.
    TollFree,
    /// 0570 shared-cost (navi dial).
    SharedCost,
    /// 0990 premium rate.
    Premium,
    /// 020 (M2M, pagers) while [`NumberRules::allow_020`] is off.
    M2mNotEnabled,
    /// Any other 0X0 prefix (010 international prefix, 060, …).
    Other,
}

impl NonMobile {
    fn describe(self) -> &'static str {
        match self {
            NonMobile::Landline => "landline prefix",
            NonMobile::IpPhone => "IP phone prefix",
            NonMobile::TollFree => "toll-free prefix",
            NonMobile::SharedCost => "shared-cost prefix",
            NonMobile::Premium => "premium-rate prefix",
            NonMobile::M2mNotEnabled => "M2M/pager prefix (not enabled)",
            NonMobile::Other => "non-mobile prefix",
        }
    }
}

/// Why a number was refused. Messages never repeat the whole number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    /// Nothing but separators.
    #[error("empty number")]
    Empty,
    /// A character that is not a digit or an accepted separator.
    #[error("invalid character {ch:?} at position {position}")]
    InvalidCharacter {
        /// The character.
        ch: char,
        /// 1-based character position in the input.
        position: usize,
    },
    /// An international number with a country code other than 81.
    #[error("not a Japanese number: country code is not +81 (starts +{starts})")]
    NotJapanese {
        /// Up to the first three digits after `+`.
        starts: String,
    },
    /// Digits that start neither with `0` nor with `81`.
    #[error("not a Japanese number: a national number starts with 0 (or write +81)")]
    NoTrunkPrefix,
    /// A Japanese number outside the mobile ranges.
    #[error("not a Japanese mobile number: {} {prefix}", kind.describe())]
    NotMobile {
        /// What the prefix is.
        kind: NonMobile,
        /// The prefix in national form, e.g. `03`, `045`, `050`.
        prefix: String,
    },
    /// A mobile prefix with too few or too many digits.
    #[error("wrong length: {digits} digits, expected {expected}")]
    WrongLength {
        /// Digits in national form (with the leading 0).
        digits: usize,
        /// 11.
        expected: usize,
    },
}

/// Normalises a Japanese mobile number to E.164 (`+819012345678`) with the default rules
/// (070/080/090).
///
/// # Errors
/// [`NumberError`] with the reason.
///
/// ```
/// use smpp_policy::number::normalise_jp;
/// assert_eq!(normalise_jp("090-1234-5678").unwrap(), "+819012345678");
/// assert_eq!(normalise_jp("+81 90 1234 5678").unwrap(), "+819012345678");
/// assert_eq!(normalise_jp("０８０１２３４５６７８").unwrap(), "+818012345678");
/// assert_eq!(
///     normalise_jp("03-1234-5678").unwrap_err().to_string(),
///     "not a Japanese mobile number: landline prefix 03"
/// );
/// ```
pub fn normalise_jp(input: &str) -> Result<String, NumberError> {
    normalise_jp_with(input, NumberRules::DEFAULT)
}

/// [`normalise_jp`] with explicit [`NumberRules`].
///
/// # Errors
/// [`NumberError`] with the reason.
pub fn normalise_jp_with(input: &str, rules: NumberRules) -> Result<String, NumberError> {
    parse_jp(input, rules).map(JpNumber::e164)
}

/// Parses any accepted spelling into a [`JpNumber`] without allocating.
///
/// # Errors
/// [`NumberError`] with the reason.
pub fn parse_jp(input: &str, rules: NumberRules) -> Result<JpNumber, NumberError> {
    // At most 15 digits are meaningful in any spelling; keep a few more to report lengths.
    let mut digits = [0u8; 24];
    let mut n = 0usize;
    let mut count = 0usize;
    let mut plus = false;
    for (i, c) in input.chars().enumerate() {
        let c = match c {
            '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
            '\u{FF0B}' => '+',
            c => c,
        };
        match c {
            '0'..='9' => {
                if n < digits.len() {
                    digits[n] = c as u8 - b'0';
                    n += 1;
                }
                count += 1;
            }
            '+' if count == 0 && !plus => plus = true,
            ' '
            | '\t'
            | '\u{3000}'
            | '-'
            | '.'
            | '('
            | ')'
            | '\u{FF08}'
            | '\u{FF09}'
            | '\u{FF0D}'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{30FC}' => {}
            _ => return Err(NumberError::InvalidCharacter { ch: c, position: i + 1 }),
        }
    }
    if count == 0 {
        return Err(NumberError::Empty);
    }
    let d = &digits[..n];
    // The national number, with its leading 0 dropped.
    let nsn: &[u8] = if plus {
        match d {
            [8, 1, 0, rest @ ..] => rest, // "+81 (0)90 …": the trunk 0 kept by mistake
            [8, 1, rest @ ..] => rest,
            _ => {
                let starts = d.iter().take(3).map(|x| char::from(b'0' + x)).collect();
                return Err(NumberError::NotJapanese { starts });
            }
        }
    } else {
        match d {
            [0, rest @ ..] => rest,
            [8, 1, rest @ ..] => rest,
            _ => return Err(NumberError::NoTrunkPrefix),
        }
    };
    let national_digits = count - (n - nsn.len()) + 1;
    check_prefix(nsn, national_digits, rules)?;
    if national_digits != 11 {
        return Err(NumberError::WrongLength { digits: national_digits, expected: 11 });
    }
    Ok(JpNumber(nsn.iter().fold(0u64, |acc, &x| acc * 10 + u64::from(x))))
}

fn check_prefix(nsn: &[u8], national_digits: usize, rules: NumberRules) -> Result<(), NumberError> {
    let prefix = |len: usize| -> String {
        std::iter::once('0').chain(nsn.iter().take(len).map(|x| char::from(b'0' + x))).collect()
    };
    let not_mobile = |kind, len| Err(NumberError::NotMobile { kind, prefix: prefix(len) });
    match nsn {
        [] | [7..=9] => Err(NumberError::WrongLength { digits: national_digits, expected: 11 }),
        // 0800 is free dial, not the 080 mobile range (080-0xxx is not allocated to mobiles).
        [8, 0, 0, ..] => not_mobile(NonMobile::TollFree, 3),
        [7..=9, 0, ..] => Ok(()),
        [2, 0, ..] if rules.allow_020 => Ok(()),
        [2, 0, ..] => not_mobile(NonMobile::M2mNotEnabled, 2),
        [5, 0, ..] => not_mobile(NonMobile::IpPhone, 2),
        [1, 2, 0, ..] => not_mobile(NonMobile::TollFree, 3),
        [5, 7, 0, ..] => not_mobile(NonMobile::SharedCost, 3),
        [9, 9, 0, ..] => not_mobile(NonMobile::Premium, 3),
        [0, ..] => not_mobile(NonMobile::Other, 1),
        [_, 0, ..] => not_mobile(NonMobile::Other, 2),
        // Two-digit area codes are only Tokyo (03) and Osaka (06); the others have three or more.
        [3 | 6, ..] => not_mobile(NonMobile::Landline, 1),
        [_, ..] => not_mobile(NonMobile::Landline, 2),
    }
}

/// Masks a number for logs: the country code and the next three digits, then `*` for every
/// hidden digit, then the last two: `+819012345678` → `+81901*****78`. Other strings keep at
/// most their first four and last two characters and only when at least half is hidden.
///
/// ```
/// use smpp_policy::number::mask;
/// assert_eq!(mask("+819012345678"), "+81901*****78");
/// assert_eq!(mask("12345"), "*****");
/// ```
pub fn mask(e164: &str) -> String {
    let chars: Vec<char> = e164.chars().collect();
    let len = chars.len();
    let (head, tail) = if e164.starts_with("+81") && len >= 10 { (6, 2) } else { (4, 2) };
    if len < 2 * (head + tail) && !(e164.starts_with("+81") && len >= 10) {
        // Too short to show anything and still hide most of it.
        return "*".repeat(len);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < head || i >= len - tail { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const E164: &str = "+819012345678";

    #[test]
    fn accepts_every_documented_spelling() {
        for s in [
            "09012345678",
            "090-1234-5678",
            "090 1234 5678",
            "+819012345678",
            "819012345678",
            "+81 90-1234-5678",
            "+81 (0)90 1234 5678",
            "(090)1234-5678",
            "０９０－１２３４－５６７８",
            "０９０ー１２３４ー５６７８",
            "＋８１　９０１２３４５６７８",
            " 090.1234.5678 ",
        ] {
            assert_eq!(normalise_jp(s).as_deref(), Ok(E164), "{s:?}");
        }
    }

    #[test]
    fn accepts_070_and_080() {
        assert_eq!(normalise_jp("070-1111-2222").unwrap(), "+817011112222");
        assert_eq!(normalise_jp("080-1111-2222").unwrap(), "+818011112222");
    }

    #[test]
    fn rejects_020_unless_allowed() {
        let err = normalise_jp("020-1234-5678").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a Japanese mobile number: M2M/pager prefix (not enabled) 020"
        );
        let rules = NumberRules { allow_020: true };
        assert_eq!(normalise_jp_with("020-1234-5678", rules).unwrap(), "+812012345678");
    }

    #[test]
    fn rejects_landlines_with_their_prefix() {
        let msg = |s| normalise_jp(s).unwrap_err().to_string();
        assert_eq!(msg("03-1234-5678"), "not a Japanese mobile number: landline prefix 03");
        assert_eq!(msg("06-1234-5678"), "not a Japanese mobile number: landline prefix 06");
        assert_eq!(msg("045-123-4567"), "not a Japanese mobile number: landline prefix 045");
        assert_eq!(msg("+81 3 1234 5678"), "not a Japanese mobile number: landline prefix 03");
    }

    #[test]
    fn rejects_other_non_mobile_ranges() {
        let kind = |s| match normalise_jp(s) {
            Err(NumberError::NotMobile { kind, prefix }) => (kind, prefix),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(kind("050-1234-5678"), (NonMobile::IpPhone, "050".into()));
        assert_eq!(kind("0120-123-456"), (NonMobile::TollFree, "0120".into()));
        assert_eq!(kind("0800-123-4567"), (NonMobile::TollFree, "0800".into()));
        assert_eq!(kind("08001234567"), (NonMobile::TollFree, "0800".into()));
        assert_eq!(kind("0570-123-456"), (NonMobile::SharedCost, "0570".into()));
        assert_eq!(kind("0990-123-456"), (NonMobile::Premium, "0990".into()));
        assert_eq!(kind("010-1-202-555-0100"), (NonMobile::Other, "010".into()));
    }

    #[test]
    fn rejects_wrong_length_with_the_count() {
        let msg = |s| normalise_jp(s).unwrap_err().to_string();
        assert_eq!(msg("090-1234-567"), "wrong length: 10 digits, expected 11");
        assert_eq!(msg("090-1234-56789"), "wrong length: 12 digits, expected 11");
        assert_eq!(msg("+81 90 1234 567"), "wrong length: 10 digits, expected 11");
        assert_eq!(msg("0"), "wrong length: 1 digits, expected 11");
        assert_eq!(msg("0901234567890123456789012345"), "wrong length: 28 digits, expected 11");
    }

    #[test]
    fn rejects_bad_characters_and_foreign_numbers() {
        assert_eq!(
            normalise_jp("090-1234-567x").unwrap_err().to_string(),
            "invalid character 'x' at position 13"
        );
        assert_eq!(
            normalise_jp("090+12345678").unwrap_err(),
            NumberError::InvalidCharacter { ch: '+', position: 4 }
        );
        assert_eq!(
            normalise_jp("+1 202 555 0100").unwrap_err().to_string(),
            "not a Japanese number: country code is not +81 (starts +120)"
        );
        assert_eq!(normalise_jp("9012345678").unwrap_err(), NumberError::NoTrunkPrefix);
        assert_eq!(normalise_jp(" - ").unwrap_err(), NumberError::Empty);
        assert_eq!(normalise_jp("").unwrap_err(), NumberError::Empty);
    }

    #[test]
    fn masks_keep_country_three_digits_and_last_two() {
        assert_eq!(mask(E164), "+81901*****78");
        assert_eq!(mask("+12025550100"), "+120******00");
        assert_eq!(mask("abc"), "***");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn jp_number_formats() {
        let n = parse_jp("080 1111 2222", NumberRules::DEFAULT).unwrap();
        assert_eq!(
            (n.nsn(), n.national(), n.to_string()),
            (8011112222, "08011112222".into(), "+818011112222".into())
        );
    }

    proptest! {
        #[test]
        fn every_mobile_number_round_trips_in_every_spelling(
            p in prop::sample::select(vec![7u64, 8, 9]),
            rest in 10_000_000u64..100_000_000, // 0800 is toll-free
            style in 0usize..5,
        ) {
            let national = format!("0{p}0{rest:08}");
            let e164 = format!("+81{p}0{rest:08}");
            let spelled = match style {
                0 => national.clone(),
                1 => format!("{}-{}-{}", &national[..3], &national[3..7], &national[7..]),
                2 => e164.clone(),
                3 => e164[1..].to_string(),
                _ => national.chars().map(|c| char::from_u32(c as u32 - 0x30 + 0xFF10).unwrap()).collect(),
            };
            prop_assert_eq!(normalise_jp(&spelled), Ok(e164.clone()));
            prop_assert_eq!(normalise_jp(&e164), Ok(e164.clone()));
            let m = mask(&e164);
            prop_assert_eq!(m.chars().count(), e164.len());
            prop_assert_eq!(m.matches('*').count(), 5);
        }

        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,30}") {
            let _ = normalise_jp(&s);
            let _ = mask(&s);
        }
    }
}
