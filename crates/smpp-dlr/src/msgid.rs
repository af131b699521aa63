//! Message-id normalisation: the same message can be named `38601fa` in the submit_sm_resp and
//! `0059113978` in the receipt text.
//!
//! smpp34.md §7.8: a message_id is an opaque string of up to 64 characters chosen by the SMSC,
//! but Appendix B documents the receipt's `id:` as 10 decimal digits (§9.2), and SMSCs resolve
//! the conflict differently: decimal in one place and hex in the other, zero padding, upper or
//! lower case (§9.3, first row). Kannel and Jasmin make the conversion a per-link setting; here
//! it is learned from the first matches by [`IdNormaliser`].
//!
//! An id is *read* in up to three ways ([`Reading`]): as text (case-insensitive), as a decimal
//! number and as a hex number, leading zeros ignored. Each reading yields an [`IdKey`]; a
//! submit and a receipt belong together when the submit's key under one reading equals the
//! receipt's key under another (a [`ReadingPair`]).
//!
//! ```
//! use smpp_dlr::msgid::{relate, Reading, ReadingPair};
//!
//! // The submit_sm_resp said hex 38601fa, the receipt text says decimal 0059113978.
//! assert_eq!(
//!     relate("38601fa", "0059113978"),
//!     Some(ReadingPair { submit: Reading::Hex, receipt: Reading::Decimal })
//! );
//! ```

use std::fmt;

use compact_str::CompactString;

/// One way to read a message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reading {
    /// As text, ASCII case folded: UUIDs, 32-hex-digit ids and anything opaque.
    Exact,
    /// As a decimal number that fits a `u64`, leading zeros ignored.
    Decimal,
    /// As a hex number (either case) that fits a `u64`, leading zeros ignored.
    Hex,
}

/// A normalised message id, the thing submits and receipts are matched on.
///
/// Numbers from decimal and hex readings share one key space on purpose: `Number(59113978)`
/// is both `0059113978` read as decimal and `38601fa` read as hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKey {
    /// An [`Reading::Exact`] reading: the id with ASCII letters lower-cased.
    Text(CompactString),
    /// A [`Reading::Decimal`] or [`Reading::Hex`] reading.
    Number(u64),
}

impl fmt::Display for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdKey::Text(text) => write!(f, "t:{text}"),
            IdKey::Number(n) => write!(f, "n:{n}"),
        }
    }
}

/// One reading of an id and the key it gives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// How the id was read.
    pub reading: Reading,
    /// The key that reading gives.
    pub key: IdKey,
}

/// Which reading of the submit id corresponds to which reading of the receipt id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadingPair {
    /// How the submit_sm_resp message_id is read.
    pub submit: Reading,
    /// How the receipt's id is read.
    pub receipt: Reading,
}

impl ReadingPair {
    /// The pairs tried when nothing has been learned, most plausible first: the same text, the
    /// same number with different padding or case, then the decimal↔hex conversions
    /// (smpp34.md §9.3: "match the text id exactly, then as decimal↔hex conversions, ignoring
    /// leading zeros and case").
    pub const DEFAULT_ORDER: [ReadingPair; 5] = [
        ReadingPair::new(Reading::Exact, Reading::Exact),
        ReadingPair::new(Reading::Decimal, Reading::Decimal),
        ReadingPair::new(Reading::Hex, Reading::Hex),
        ReadingPair::new(Reading::Hex, Reading::Decimal),
        ReadingPair::new(Reading::Decimal, Reading::Hex),
    ];

    /// A pair.
    pub const fn new(submit: Reading, receipt: Reading) -> Self {
        Self { submit, receipt }
    }

    /// Whether both ids are read the same way. Such pairs only forgive case and leading
    /// zeros; a cross pair (hex↔decimal) makes `29` and `41` the same message, which is
    /// right for a carrier that writes ids that way and wrong for every other.
    pub const fn is_same(self) -> bool {
        matches!(
            (self.submit, self.receipt),
            (Reading::Exact, Reading::Exact)
                | (Reading::Decimal, Reading::Decimal)
                | (Reading::Hex, Reading::Hex)
        )
    }

    /// The names used in configuration: `text`, `decimal`, `hex` (the same both ways),
    /// `hex_resp_decimal_receipt`, `decimal_resp_hex_receipt`.
    pub const NAMES: [&'static str; 5] =
        ["text", "decimal", "hex", "hex_resp_decimal_receipt", "decimal_resp_hex_receipt"];

    /// The pair a configuration name stands for (see [`ReadingPair::NAMES`]).
    pub fn from_name(name: &str) -> Option<Self> {
        let (submit, receipt) = match name {
            "text" => (Reading::Exact, Reading::Exact),
            "decimal" => (Reading::Decimal, Reading::Decimal),
            "hex" => (Reading::Hex, Reading::Hex),
            "hex_resp_decimal_receipt" => (Reading::Hex, Reading::Decimal),
            "decimal_resp_hex_receipt" => (Reading::Decimal, Reading::Hex),
            _ => return None,
        };
        Some(Self::new(submit, receipt))
    }

    /// The cross pairs (hex↔decimal), in [`ReadingPair::DEFAULT_ORDER`].
    pub fn cross() -> impl Iterator<Item = ReadingPair> {
        Self::DEFAULT_ORDER.into_iter().filter(|p| !p.is_same())
    }

    /// Whether `submit_id` and `receipt_id` name the same message under this pair.
    pub fn relates(self, submit_id: &str, receipt_id: &str) -> bool {
        match (read(submit_id, self.submit), read(receipt_id, self.receipt)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    fn index(self) -> usize {
        Self::DEFAULT_ORDER
            .iter()
            .position(|p| *p == self)
            .expect("DEFAULT_ORDER lists every meaningful pair")
    }
}

/// Reads `id` one way; `None` when the id is not of that form (or, for numbers, does not fit
/// a `u64`, as with 32-hex-digit ids, which then compare as text only).
pub fn read(id: &str, reading: Reading) -> Option<IdKey> {
    if id.is_empty() {
        return None;
    }
    match reading {
        Reading::Exact => Some(IdKey::Text(lowercase(id))),
        Reading::Decimal => number(id, 10).map(IdKey::Number),
        Reading::Hex => number(id, 16).map(IdKey::Number),
    }
}

/// `id` with ASCII letters lower-cased, inline when short (no allocation for most ids).
fn lowercase(id: &str) -> CompactString {
    let mut text = CompactString::from(id);
    text.make_ascii_lowercase();
    text
}

/// `id` as a number in `radix` (10 or 16; any number of leading zeros), or `None` if it has
/// another character or does not fit in 64 bits. One pass over the bytes: this runs several
/// times per submit and per receipt.
fn number(id: &str, radix: u32) -> Option<u64> {
    let mut value: u64 = 0;
    for &b in id.as_bytes() {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' if radix == 16 => b - b'a' + 10,
            b'A'..=b'F' if radix == 16 => b - b'A' + 10,
            _ => return None,
        };
        value = value.checked_mul(u64::from(radix))?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// Whether `id` read as `reading` gives `key`: [`read`] without building the key (no
/// allocation for an [`IdKey::Text`]), for the receipt path.
pub fn reads_as(id: &str, reading: Reading, key: &IdKey) -> bool {
    match (reading, key) {
        (Reading::Exact, IdKey::Text(text)) => !id.is_empty() && id.eq_ignore_ascii_case(text),
        (Reading::Exact, IdKey::Number(_)) | (_, IdKey::Text(_)) => false,
        (number, key) => read(id, number).as_ref() == Some(key),
    }
}

/// Every reading of `id`, in the order [`Reading::Exact`], [`Reading::Decimal`],
/// [`Reading::Hex`], skipping those that do not apply.
///
/// ```
/// use smpp_dlr::msgid::{candidates, IdKey};
///
/// let keys: Vec<IdKey> = candidates("0059113978").map(|c| c.key).collect();
/// assert_eq!(
///     keys,
///     [IdKey::Text("0059113978".into()), IdKey::Number(59_113_978), IdKey::Number(0x59113978)]
/// );
/// ```
pub fn candidates(id: &str) -> impl Iterator<Item = Candidate> + '_ {
    [Reading::Exact, Reading::Decimal, Reading::Hex]
        .into_iter()
        .filter_map(move |reading| read(id, reading).map(|key| Candidate { reading, key }))
}

/// The distinct keys under which a submitted id must be findable: its [`candidates`] without
/// repeats (`"7"` is the number 7 both as decimal and as hex).
pub fn index_keys(id: &str) -> impl Iterator<Item = IdKey> + '_ {
    let mut seen_number = None;
    candidates(id).filter_map(move |c| match c.key {
        IdKey::Number(n) if seen_number == Some(n) => None,
        IdKey::Number(n) => {
            seen_number = Some(n);
            Some(c.key)
        }
        key => Some(key),
    })
}

/// The first pair of [`ReadingPair::DEFAULT_ORDER`] under which the two ids name the same
/// message, if any.
pub fn relate(submit_id: &str, receipt_id: &str) -> Option<ReadingPair> {
    ReadingPair::DEFAULT_ORDER.into_iter().find(|pair| pair.relates(submit_id, receipt_id))
}

/// How a carrier writes its message ids, as far as one sample shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgIdFormat {
    /// Decimal digits without padding: `59113978`.
    Decimal,
    /// Lower-case hex (or hex without letters): `38601fa`.
    HexLower,
    /// Upper-case hex: `38601FA`.
    HexUpper,
    /// Decimal zero-padded to the given width: `0059113978` is width 10.
    ZeroPaddedDecimal(u8),
    /// Compared as text only: UUIDs, 32 hex digits, anything else.
    Opaque,
}

impl MsgIdFormat {
    /// The format of `id` when it is read as `reading`.
    pub fn of(id: &str, reading: Reading) -> Self {
        match reading {
            Reading::Exact => MsgIdFormat::Opaque,
            Reading::Decimal if id.len() > 1 && id.starts_with('0') => {
                MsgIdFormat::ZeroPaddedDecimal(u8::try_from(id.len()).unwrap_or(u8::MAX))
            }
            Reading::Decimal => MsgIdFormat::Decimal,
            Reading::Hex if id.bytes().any(|b| b.is_ascii_uppercase()) => MsgIdFormat::HexUpper,
            Reading::Hex => MsgIdFormat::HexLower,
        }
    }

    /// Writes `value` in this format; `None` for [`MsgIdFormat::Opaque`].
    pub fn render(self, value: u64) -> Option<String> {
        Some(match self {
            MsgIdFormat::Decimal => value.to_string(),
            MsgIdFormat::HexLower => format!("{value:x}"),
            MsgIdFormat::HexUpper => format!("{value:X}"),
            MsgIdFormat::ZeroPaddedDecimal(width) => {
                format!("{value:0width$}", width = width.into())
            }
            MsgIdFormat::Opaque => return None,
        })
    }

    /// The reading this format implies.
    pub fn reading(self) -> Reading {
        match self {
            MsgIdFormat::Decimal | MsgIdFormat::ZeroPaddedDecimal(_) => Reading::Decimal,
            MsgIdFormat::HexLower | MsgIdFormat::HexUpper => Reading::Hex,
            MsgIdFormat::Opaque => Reading::Exact,
        }
    }
}

/// Where a receipt's id came from; the two are learned separately because SMSCs often fill
/// the TLV exactly like the submit_sm_resp and the text differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdSource {
    /// The `receipted_message_id` TLV.
    Tlv,
    /// The `id:` of the receipt text.
    Text,
}

/// What an [`IdNormaliser`] has learned about one [`IdSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    /// The relationship tried first.
    pub pair: ReadingPair,
    /// The submit_sm_resp id format, from the latest match.
    pub submit_format: MsgIdFormat,
    /// The receipt id format, from the latest match.
    pub receipt_format: MsgIdFormat,
    /// How many matches used this relationship.
    pub matches: u32,
}

/// Learns, per carrier account, how the receipt ids relate to the submit_sm_resp ids.
///
/// Each correlated receipt is reported with [`IdNormaliser::observe`]; once one pair has
/// explained at least `learn_after` matches, and more than any other pair, it is learned (for
/// example "resp is hex, receipt text is decimal"), which also settles ambiguous ids such as
/// `10` (decimal 10 or hex 16) the carrier's way. [`IdNormaliser::pairs`] proposes pairs by
/// [`pairs_to_try`]: a cross pair only once learned.
#[derive(Debug, Clone)]
pub struct IdNormaliser {
    learn_after: u32,
    sources: [SourceStats; 2],
}

#[derive(Debug, Clone, Default)]
struct SourceStats {
    counts: [u32; 5],
    learned: Option<Learned>,
}

impl Default for IdNormaliser {
    fn default() -> Self {
        Self::new(2)
    }
}

impl IdNormaliser {
    /// A normaliser that settles on a pair after `learn_after` matches (at least 1).
    pub fn new(learn_after: u32) -> Self {
        Self { learn_after: learn_after.max(1), sources: Default::default() }
    }

    fn stats(&self, source: IdSource) -> &SourceStats {
        &self.sources[source as usize]
    }

    /// The pairs to try for a receipt id from `source`, best first ([`pairs_to_try`]).
    pub fn pairs(
        &self,
        source: IdSource,
        readable: impl Fn(ReadingPair) -> bool,
    ) -> impl Iterator<Item = ReadingPair> {
        pairs_to_try(self.stats(source).learned.map(|l| l.pair), readable)
    }

    /// The relationship learned for `source`, if any.
    pub fn learned(&self, source: IdSource) -> Option<Learned> {
        self.stats(source).learned
    }

    /// Records that `receipt_id` from `source` was matched to `submit_id` under `pair`. An id
    /// that [`reads_alike`] is not counted.
    pub fn observe(
        &mut self,
        source: IdSource,
        pair: ReadingPair,
        submit_id: &str,
        receipt_id: &str,
    ) {
        if reads_alike(receipt_id) {
            return;
        }
        let learn_after = self.learn_after;
        let stats = &mut self.sources[source as usize];
        let index = pair.index();
        stats.counts[index] = stats.counts[index].saturating_add(1);
        let count = stats.counts[index];
        let leads = stats.counts.iter().enumerate().all(|(i, &c)| i == index || c < count);
        if count >= learn_after && leads {
            stats.learned = Some(Learned {
                pair,
                submit_format: MsgIdFormat::of(submit_id, pair.submit),
                receipt_format: MsgIdFormat::of(receipt_id, pair.receipt),
                matches: count,
            });
        }
    }
}

/// The pairs to try for an id, best first, given the pair `learned` for its account.
///
/// Cross pairs (hex↔decimal) only once one is learned, and then alone for the ids it can
/// read (`readable`): a receipt that arrives before its own submit_sm_resp is recorded (`29`)
/// would otherwise meet another message's id under a cross reading (hex `29` is decimal
/// `41`) and resolve the wrong message. Until then the same-reading pairs, learned one
/// first. A receipt only a cross pair explains is for the caller to hold and look at again
/// once its own resp would have come ([`crate::Correlator::poll_expired`] does).
pub fn pairs_to_try(
    learned: Option<ReadingPair>,
    readable: impl Fn(ReadingPair) -> bool,
) -> impl Iterator<Item = ReadingPair> {
    let cross = learned.filter(|l| !l.is_same() && readable(*l));
    let same = learned.filter(|l| l.is_same());
    let rest = ReadingPair::DEFAULT_ORDER
        .into_iter()
        .filter(move |p| cross.is_none() && p.is_same() && Some(*p) != same);
    cross.into_iter().chain(same.filter(|_| cross.is_none())).chain(rest)
}

/// Whether `id` is the same number in decimal and in hex (`0`–`9`, `007`): a match on it
/// says nothing about how an account writes its ids.
pub fn reads_alike(id: &str) -> bool {
    let decimal = read(id, Reading::Decimal);
    decimal.is_some() && decimal == read(id, Reading::Hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_DEC: ReadingPair = ReadingPair::new(Reading::Hex, Reading::Decimal);

    proptest::proptest! {
        /// The one-pass number reading against the standard library's parser.
        #[test]
        fn numbers_read_as_from_str_radix_reads_them(id in "[0-9a-fA-Fx]{1,24}") {
            for radix in [10, 16] {
                let significant = id.trim_start_matches('0');
                let expected = if !id.chars().all(|c| c.is_digit(radix)) {
                    None
                } else if significant.is_empty() {
                    Some(0)
                } else {
                    u64::from_str_radix(significant, radix).ok()
                };
                proptest::prop_assert_eq!(number(&id, radix), expected, "{} in radix {}", id, radix);
            }
        }
    }

    #[test]
    fn reads_as_agrees_with_read() {
        for id in ["", "0", "0059113978", "38601FA", "38601fa", "abc-DEF", "12x"] {
            for reading in [Reading::Exact, Reading::Decimal, Reading::Hex] {
                for other in [Reading::Exact, Reading::Decimal, Reading::Hex] {
                    for key_id in ["0059113978", "38601fa", "abc-def", "0", "12X"] {
                        let Some(key) = read(key_id, other) else { continue };
                        assert_eq!(
                            reads_as(id, reading, &key),
                            read(id, reading).as_ref() == Some(&key),
                            "{id:?} as {reading:?} against {key:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn relates_hex_resp_to_zero_padded_decimal_receipt() {
        assert_eq!(relate("38601fa", "0059113978"), Some(HEX_DEC));
        assert_eq!(relate("18d0e03a", "0416342074"), Some(HEX_DEC));
        assert_eq!(relate("6aad5", "436949"), Some(HEX_DEC));
    }

    #[test]
    fn relates_decimal_resp_to_hex_receipt() {
        assert_eq!(
            relate("0059113978", "38601FA"),
            Some(ReadingPair::new(Reading::Decimal, Reading::Hex))
        );
    }

    #[test]
    fn ignores_leading_zeros_and_case_for_numeric_ids() {
        assert_eq!(
            relate("59113978", "0059113978"),
            Some(ReadingPair::new(Reading::Decimal, Reading::Decimal))
        );
        assert_eq!(
            relate("038601FA", "38601fa"),
            Some(ReadingPair::new(Reading::Hex, Reading::Hex))
        );
    }

    #[test]
    fn compares_uuids_case_insensitively_and_exactly_otherwise() {
        let a = "74e02ee1-4e2f-4c55-a3c0-0c2c0a3a3b1d";
        assert_eq!(
            relate(a, &a.to_uppercase()),
            Some(ReadingPair::new(Reading::Exact, Reading::Exact))
        );
        assert_eq!(relate(a, "74e02ee1-4e2f-4c55-a3c0-0c2c0a3a3b1e"), None);
        assert_eq!(relate(a, "074e02ee1-4e2f-4c55-a3c0-0c2c0a3a3b1d"), None);
    }

    #[test]
    fn compares_32_hex_digit_ids_as_text_only() {
        let a = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(read(a, Reading::Hex), None);
        assert_eq!(
            relate(a, &a.to_lowercase()),
            Some(ReadingPair::new(Reading::Exact, Reading::Exact))
        );
        assert_eq!(relate(a, &a[1..]), None);
        assert_eq!(relate(a, &format!("0{a}")), None);
    }

    #[test]
    fn reads_all_zero_ids_as_zero() {
        assert_eq!(read("0000", Reading::Decimal), Some(IdKey::Number(0)));
        assert_eq!(read("", Reading::Decimal), None);
        assert_eq!(read("", Reading::Exact), None);
    }

    #[test]
    fn does_not_read_numbers_beyond_u64() {
        assert_eq!(read("18446744073709551615", Reading::Decimal), Some(IdKey::Number(u64::MAX)));
        assert_eq!(read("18446744073709551616", Reading::Decimal), None);
        assert_eq!(
            read("00000000000000000000ffffffffffffffff", Reading::Hex),
            Some(IdKey::Number(u64::MAX))
        );
        assert_eq!(read("+12", Reading::Decimal), None);
    }

    #[test]
    fn index_keys_do_not_repeat_a_number() {
        let keys: Vec<_> = index_keys("7").collect();
        assert_eq!(keys, [IdKey::Text("7".into()), IdKey::Number(7)]);
        let keys: Vec<_> = index_keys("38601fa").collect();
        assert_eq!(keys, [IdKey::Text("38601fa".into()), IdKey::Number(0x38601fa)]);
    }

    #[test]
    fn formats_describe_and_render_ids() {
        assert_eq!(
            MsgIdFormat::of("0059113978", Reading::Decimal),
            MsgIdFormat::ZeroPaddedDecimal(10)
        );
        assert_eq!(MsgIdFormat::of("38601FA", Reading::Hex), MsgIdFormat::HexUpper);
        assert_eq!(
            MsgIdFormat::ZeroPaddedDecimal(10).render(59113978).as_deref(),
            Some("0059113978")
        );
        assert_eq!(MsgIdFormat::HexLower.render(59113978).as_deref(), Some("38601fa"));
        assert_eq!(MsgIdFormat::Opaque.render(1), None);
    }

    #[test]
    fn proposes_same_readings_until_something_is_learned() {
        let n = IdNormaliser::new(2);
        let same: Vec<_> = ReadingPair::DEFAULT_ORDER.into_iter().filter(|p| p.is_same()).collect();
        assert_eq!(n.pairs(IdSource::Text, |_| true).collect::<Vec<_>>(), same);
        assert_eq!(n.learned(IdSource::Text), None);
    }

    #[test]
    fn a_learned_cross_pair_is_tried_alone_for_the_ids_it_reads() {
        let same: Vec<_> = ReadingPair::DEFAULT_ORDER.into_iter().filter(|p| p.is_same()).collect();
        assert_eq!(pairs_to_try(Some(HEX_DEC), |_| true).collect::<Vec<_>>(), [HEX_DEC]);
        assert_eq!(pairs_to_try(Some(HEX_DEC), |_| false).collect::<Vec<_>>(), same);
        let dec = ReadingPair::new(Reading::Decimal, Reading::Decimal);
        let tried: Vec<_> = pairs_to_try(Some(dec), |_| true).collect();
        assert_eq!(tried[0], dec);
        assert_eq!(tried.len(), 3);
        assert!(tried.iter().all(|p| p.is_same()));
        assert_eq!(ReadingPair::cross().count(), 2);
    }

    #[test]
    fn single_digit_ids_teach_nothing() {
        assert!(reads_alike("7") && reads_alike("007"));
        assert!(!reads_alike("10") && !reads_alike("1a") && !reads_alike("abc-1"));
        let mut n = IdNormaliser::new(1);
        n.observe(IdSource::Text, HEX_DEC, "5", "5");
        assert_eq!(n.learned(IdSource::Text), None);
    }

    #[test]
    fn learns_hex_resp_and_decimal_text_and_proposes_it_first() {
        let mut n = IdNormaliser::new(2);
        n.observe(IdSource::Text, HEX_DEC, "38601fa", "0059113978");
        assert_eq!(n.learned(IdSource::Text), None);
        n.observe(IdSource::Text, HEX_DEC, "18d0e03a", "0416342074");
        let learned = n.learned(IdSource::Text).unwrap();
        assert_eq!(learned.pair, HEX_DEC);
        assert_eq!(learned.submit_format, MsgIdFormat::HexLower);
        assert_eq!(learned.receipt_format, MsgIdFormat::ZeroPaddedDecimal(10));
        assert_eq!(n.pairs(IdSource::Text, |_| true).collect::<Vec<_>>(), [HEX_DEC]);
        // The TLV source is learned separately.
        assert_eq!(n.learned(IdSource::Tlv), None);
    }

    #[test]
    fn relearns_when_another_pair_takes_the_lead() {
        let exact = ReadingPair::new(Reading::Exact, Reading::Exact);
        let mut n = IdNormaliser::new(1);
        n.observe(IdSource::Tlv, exact, "a", "a");
        assert_eq!(n.learned(IdSource::Tlv).unwrap().pair, exact);
        n.observe(IdSource::Tlv, HEX_DEC, "a", "10");
        assert_eq!(n.learned(IdSource::Tlv).unwrap().pair, exact, "a tie keeps the old pair");
        n.observe(IdSource::Tlv, HEX_DEC, "b", "11");
        assert_eq!(n.learned(IdSource::Tlv).unwrap().pair, HEX_DEC);
    }
}
