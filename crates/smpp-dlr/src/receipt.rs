//! Delivery-receipt parsing: the Appendix B text plus the receipt TLVs.
//!
//! The text body of a receipt is vendor specific (smpp34.md §9.1); Appendix B only gives a
//! typical layout (§9.2) and real SMSCs deviate from it in many ways (§9.3). The parser here
//! therefore scans for keywords instead of reading fixed positions, accepts every field as
//! optional, and never assumes the bytes are ASCII or UTF-8.
//!
//! ```
//! use smpp_dlr::receipt::{parse_receipt, MessageState, ReceiptInput, Stat};
//!
//! let input = ReceiptInput {
//!     short_message: b"id:0059113978 sub:001 dlvrd:001 submit date:0911040124 \
//!                      done date:091104012431 stat:DELIVRD err:000 text:Hello",
//!     ..ReceiptInput::default()
//! };
//! let receipt = parse_receipt(&input).unwrap();
//! assert_eq!(receipt.id_text.as_deref(), Some("0059113978"));
//! assert_eq!(receipt.stat, Some(Stat::Delivered));
//! assert_eq!(receipt.state, MessageState::DELIVERED);
//! assert_eq!(receipt.done_date.unwrap().second, Some(31));
//! assert!(receipt.is_final);
//! ```

use std::fmt;

use compact_str::CompactString;

/// The fields of a `deliver_sm` / `data_sm` that carry a delivery receipt, as extracted by the
/// codec. Every slice is borrowed; nothing here needs to be valid text.
///
/// Which PDU fields these are is described in smpp34.md §9.1 and §6.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiptInput<'a> {
    /// The `short_message` field (may be empty when the text is in `message_payload`).
    pub short_message: &'a [u8],
    /// The `message_payload` TLV (0x0424) value, if present. A present, empty payload is legal.
    pub message_payload: Option<&'a [u8]>,
    /// The `receipted_message_id` TLV (0x001E) value, if present, with or without its
    /// terminating NUL.
    pub receipted_message_id: Option<&'a [u8]>,
    /// The `message_state` TLV (0x0427) value, if present.
    pub message_state: Option<u8>,
    /// The `network_error_code` TLV (0x0423) value, if present.
    pub network_error_code: Option<&'a [u8]>,
}

/// The SMPP `message_state` code (smpp34.md §7.9, SMPP §5.2.28; also TLV 0x0427).
///
/// A newtype rather than an enum so that values this crate does not name (v5.0 states, vendor
/// values) are carried through unchanged; they print as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageState(pub u8);

impl MessageState {
    /// 0: scheduled (SMPP v5.0 only). Not final.
    pub const SCHEDULED: Self = Self(0);
    /// 1: in transit or being retried. Not final.
    pub const ENROUTE: Self = Self(1);
    /// 2: delivered. Final.
    pub const DELIVERED: Self = Self(2);
    /// 3: validity period elapsed. Final.
    pub const EXPIRED: Self = Self(3);
    /// 4: deleted (for example cancelled). Final.
    pub const DELETED: Self = Self(4);
    /// 5: cannot be delivered. Final.
    pub const UNDELIVERABLE: Self = Self(5);
    /// 6: "accepted". Final in the spec, but many SMSCs use it as an interim state
    /// (smpp34.md §7.9, §9.3); see [`ParseOptions::accepted_is_final`].
    pub const ACCEPTED: Self = Self(6);
    /// 7: the SMSC reports the state as unknown / invalid. Final.
    pub const UNKNOWN: Self = Self(7);
    /// 8: rejected. Final.
    pub const REJECTED: Self = Self(8);
    /// 9: skipped (SMPP v5.0 only). Final.
    pub const SKIPPED: Self = Self(9);

    /// The spec's name for a known value, `None` for others.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "SCHEDULED",
            1 => "ENROUTE",
            2 => "DELIVERED",
            3 => "EXPIRED",
            4 => "DELETED",
            5 => "UNDELIVERABLE",
            6 => "ACCEPTED",
            7 => "UNKNOWN",
            8 => "REJECTED",
            9 => "SKIPPED",
            _ => return None,
        })
    }

    /// Whether no further receipt is expected after this state.
    ///
    /// SCHEDULED and ENROUTE are interim; ACCEPTED is final only when `accepted_is_final` is
    /// set (smpp34.md §7.9 note on ACCEPTD). Every other value, including values this crate
    /// does not know, counts as final, so that an entry waiting for its receipt is not kept
    /// forever because of a vendor code.
    pub const fn is_final(self, accepted_is_final: bool) -> bool {
        match self.0 {
            0 | 1 => false,
            6 => accepted_is_final,
            _ => true,
        }
    }
}

impl From<u8> for MessageState {
    fn from(value: u8) -> Self {
        Self(value)
    }
}

impl From<MessageState> for u8 {
    fn from(value: MessageState) -> Self {
        value.0
    }
}

impl fmt::Debug for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "MessageState(0x{:02x})", self.0),
        }
    }
}

impl fmt::Display for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "0x{:02x}", self.0),
        }
    }
}

/// The `stat:` word of a receipt text (smpp34.md §9.2 and the table in §7.9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stat {
    /// `DELIVRD` (also accepted: `DELIVERED`).
    Delivered,
    /// `EXPIRED`.
    Expired,
    /// `DELETED`.
    Deleted,
    /// `UNDELIV` (also accepted: `UNDELIVERABLE`).
    Undeliverable,
    /// `ACCEPTD` (also accepted: `ACCEPTED`).
    Accepted,
    /// `UNKNOWN`.
    Unknown,
    /// `REJECTD` (also accepted: `REJECTED`).
    Rejected,
    /// `ENROUTE`: not in Appendix B, but common (smpp34.md §7.9).
    Enroute,
    /// Any other word, as sent (lossily decoded if it is not UTF-8).
    Other(String),
}

impl Stat {
    /// Reads a stat word, case-insensitively.
    pub fn parse(word: &[u8]) -> Self {
        const WORDS: &[(&[u8], Stat)] = &[
            (b"DELIVRD", Stat::Delivered),
            (b"DELIVERED", Stat::Delivered),
            (b"EXPIRED", Stat::Expired),
            (b"DELETED", Stat::Deleted),
            (b"UNDELIV", Stat::Undeliverable),
            (b"UNDELIVERABLE", Stat::Undeliverable),
            (b"ACCEPTD", Stat::Accepted),
            (b"ACCEPTED", Stat::Accepted),
            (b"UNKNOWN", Stat::Unknown),
            (b"REJECTD", Stat::Rejected),
            (b"REJECTED", Stat::Rejected),
            (b"ENROUTE", Stat::Enroute),
        ];
        WORDS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|(_, stat)| stat.clone())
            .unwrap_or_else(|| Stat::Other(String::from_utf8_lossy(word).into_owned()))
    }

    /// The Appendix B spelling (or the word as sent, for [`Stat::Other`]).
    pub fn as_str(&self) -> &str {
        match self {
            Stat::Delivered => "DELIVRD",
            Stat::Expired => "EXPIRED",
            Stat::Deleted => "DELETED",
            Stat::Undeliverable => "UNDELIV",
            Stat::Accepted => "ACCEPTD",
            Stat::Unknown => "UNKNOWN",
            Stat::Rejected => "REJECTD",
            Stat::Enroute => "ENROUTE",
            Stat::Other(word) => word,
        }
    }

    /// The `message_state` this word stands for (smpp34.md §7.9), `None` for [`Stat::Other`].
    pub fn message_state(&self) -> Option<MessageState> {
        Some(match self {
            Stat::Enroute => MessageState::ENROUTE,
            Stat::Delivered => MessageState::DELIVERED,
            Stat::Expired => MessageState::EXPIRED,
            Stat::Deleted => MessageState::DELETED,
            Stat::Undeliverable => MessageState::UNDELIVERABLE,
            Stat::Accepted => MessageState::ACCEPTED,
            Stat::Unknown => MessageState::UNKNOWN,
            Stat::Rejected => MessageState::REJECTED,
            Stat::Other(_) => return None,
        })
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `submit date:` / `done date:` value, as numbers, without a time zone.
///
/// smpp34.md §9.3: dates come as 10 (`YYMMDDhhmm`), 12 (`YYMMDDhhmmss`) or 14
/// (`yyyyMMddHHmmss`) digits, in the SMSC's local zone, which the receipt does not state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptDate {
    /// Full year. Two-digit years are read as 2000..=2099.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=60, `None` for the 10-digit form, which has no seconds.
    pub second: Option<u8>,
}

impl ReceiptDate {
    /// Reads a 10, 12 or 14 digit date; `None` for any other length, non-digits or a field out
    /// of range.
    pub fn parse(digits: &[u8]) -> Option<Self> {
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let two = |i: usize| (digits[i] - b'0') * 10 + (digits[i + 1] - b'0');
        let (year, rest) = match digits.len() {
            10 | 12 => (2000 + u16::from(two(0)), 2),
            14 => (u16::from(two(0)) * 100 + u16::from(two(2)), 4),
            _ => return None,
        };
        let date = ReceiptDate {
            year,
            month: two(rest),
            day: two(rest + 2),
            hour: two(rest + 4),
            minute: two(rest + 6),
            second: (digits.len() > 10).then(|| two(rest + 8)),
        };
        let valid = (1..=12).contains(&date.month)
            && (1..=31).contains(&date.day)
            && date.hour < 24
            && date.minute < 60
            && !matches!(date.second, Some(s) if s > 60);
        valid.then_some(date)
    }
}

impl fmt::Display for ReceiptDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )?;
        if let Some(second) = self.second {
            write!(f, ":{second:02}")?;
        }
        Ok(())
    }
}

/// The `network_error_code` TLV (0x0423; smpp34.md §7.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetworkError {
    /// The spec's layout: 3 octets, network type then a big-endian 2-octet code.
    Coded {
        /// 1 ANSI-136, 2 IS-95, 3 GSM (MAP / SMS RP cause).
        network_type: u8,
        /// The network's error code, for GSM a MAP or RP cause (e.g. 0x001B absent subscriber).
        code: u16,
    },
    /// Anything else, kept as sent: some SMSCs send the ASCII text `"000"` (smpp34.md §6 and
    /// §9.3: "treat as opaque when the first octet is not 1-3"), others a wrong length.
    Opaque(Vec<u8>),
}

impl NetworkError {
    /// Reads the TLV value.
    pub fn from_tlv(value: &[u8]) -> Self {
        match *value {
            [network_type @ 1..=3, hi, lo] => {
                NetworkError::Coded { network_type, code: u16::from_be_bytes([hi, lo]) }
            }
            _ => NetworkError::Opaque(value.to_vec()),
        }
    }
}

/// Parser settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Default `false`: see [`ParseOptions::accepted_is_final`].
    accepted_is_final: bool,
}

impl ParseOptions {
    /// Default options: ACCEPTD is interim.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a receipt in state ACCEPTED (`stat:ACCEPTD`) is final.
    ///
    /// Default `false`: the spec calls ACCEPTED final ("manually read on behalf of the
    /// subscriber"), but many SMSCs send it as an interim "accepted by the network" receipt
    /// followed by a DELIVRD one (smpp34.md §7.9, §9.3). Set it to `true` for a carrier that
    /// uses the spec's meaning, or the entry waiting for the receipt is kept until the
    /// store purges it.
    pub fn accepted_is_final(&mut self, value: bool) -> &mut Self {
        self.accepted_is_final = value;
        self
    }

    /// The current value of [`ParseOptions::accepted_is_final`].
    pub fn is_accepted_final(&self) -> bool {
        self.accepted_is_final
    }
}

/// A parsed delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The `id:` of the text, as sent (no normalisation).
    pub id_text: Option<CompactString>,
    /// The `receipted_message_id` TLV, without its NUL terminator.
    pub id_tlv: Option<CompactString>,
    /// `sub:`, messages originally submitted.
    pub sub: Option<u32>,
    /// `dlvrd:`, messages delivered.
    pub dlvrd: Option<u32>,
    /// `submit date:`.
    pub submit_date: Option<ReceiptDate>,
    /// `done date:`.
    pub done_date: Option<ReceiptDate>,
    /// `stat:`.
    pub stat: Option<Stat>,
    /// The state: the `message_state` TLV when present, else the state `stat:` stands for
    /// ([`MessageState::UNKNOWN`] for a stat word this crate does not know).
    pub state: MessageState,
    /// `err:`, as sent: widths and bases vary (`0`, `0000`, hex `21b`; smpp34.md §9.3).
    pub err: Option<CompactString>,
    /// The `network_error_code` TLV.
    pub network_error: Option<NetworkError>,
    /// The octets after `text:`: informational only, possibly cut mid-character and in any
    /// encoding (smpp34.md §9.3).
    pub text: Vec<u8>,
    /// Whether no further receipt is expected for this message (see
    /// [`MessageState::is_final`] and [`ParseOptions::accepted_is_final`]).
    pub is_final: bool,
}

impl Receipt {
    /// The id to correlate on: the `receipted_message_id` TLV when present, else the text id
    /// (smpp34.md §9.3, "Prefer receipted_message_id").
    pub fn id(&self) -> Option<&str> {
        self.id_tlv.as_deref().or(self.id_text.as_deref())
    }
}

/// Why a deliver_sm could not be read as a receipt. Both are caused by the peer's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Neither a `receipted_message_id` TLV nor an `id:` in the text.
    #[error("delivery receipt carries no message id (no receipted_message_id TLV, no `id:`)")]
    MissingId,
    /// Neither a `message_state` TLV nor a `stat:` in the text.
    #[error("delivery receipt carries no state (no message_state TLV, no `stat:`)")]
    MissingState,
}

/// Parses a receipt with the default [`ParseOptions`].
pub fn parse_receipt(input: &ReceiptInput<'_>) -> Result<Receipt, ReceiptError> {
    parse_receipt_with(input, &ParseOptions::default())
}

/// Parses a receipt.
///
/// The text is taken from `short_message`, or from `message_payload` when `short_message` is
/// empty or has no receipt keywords (smpp34.md §9.3, "look in both"). Missing text fields are
/// `None`; only a receipt with no id at all, or no state at all, is an error.
pub fn parse_receipt_with(
    input: &ReceiptInput<'_>,
    options: &ParseOptions,
) -> Result<Receipt, ReceiptError> {
    let mut fields = TextFields::read(input.short_message);
    if fields.is_empty() {
        if let Some(payload) = input.message_payload {
            fields = TextFields::read(payload);
        }
    }

    let id_text = fields.id.and_then(non_empty_string);
    let id_tlv = input
        .receipted_message_id
        .map(|v| trim(v.split(|&b| b == 0).next().unwrap_or_default()))
        .and_then(non_empty_string);
    if id_text.is_none() && id_tlv.is_none() {
        return Err(ReceiptError::MissingId);
    }

    let stat = fields.stat.filter(|w| !w.is_empty()).map(Stat::parse);
    // smpp34.md §9.3 "map text → message_state"; the TLV wins when both are present.
    let state = match (input.message_state, &stat) {
        (Some(v), _) => MessageState(v),
        (None, Some(stat)) => stat.message_state().unwrap_or(MessageState::UNKNOWN),
        (None, None) => return Err(ReceiptError::MissingState),
    };

    Ok(Receipt {
        id_text,
        id_tlv,
        sub: fields.sub.and_then(parse_count),
        dlvrd: fields.dlvrd.and_then(parse_count),
        submit_date: fields.submit_date.and_then(ReceiptDate::parse),
        done_date: fields.done_date.and_then(ReceiptDate::parse),
        stat,
        state,
        err: fields.err.and_then(non_empty_string),
        network_error: input.network_error_code.map(NetworkError::from_tlv),
        text: fields.text.map(<[u8]>::to_vec).unwrap_or_default(),
        is_final: state.is_final(options.accepted_is_final),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

/// The raw value of each keyword found, first occurrence wins.
#[derive(Debug, Default)]
struct TextFields<'a> {
    id: Option<&'a [u8]>,
    sub: Option<&'a [u8]>,
    dlvrd: Option<&'a [u8]>,
    submit_date: Option<&'a [u8]>,
    done_date: Option<&'a [u8]>,
    stat: Option<&'a [u8]>,
    err: Option<&'a [u8]>,
    text: Option<&'a [u8]>,
}

impl<'a> TextFields<'a> {
    fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.sub.is_none()
            && self.dlvrd.is_none()
            && self.submit_date.is_none()
            && self.done_date.is_none()
            && self.stat.is_none()
            && self.err.is_none()
            && self.text.is_none()
    }

    /// The fields of a receipt text: by position when it has exactly the Appendix B layout,
    /// else by keyword.
    fn read(s: &'a [u8]) -> Self {
        Self::canonical(s).unwrap_or_else(|| Self::scan(s))
    }

    /// Reads a text in exactly the Appendix B layout (smpp34.md §9.2): the keywords of
    /// [`CANONICAL`] in that order and case, one blank before each, values of one token
    /// without a colon, `text:` last or missing. Anything else is `None`, for [`Self::scan`].
    /// Where it reads a text, it reads what `scan` reads (a property test checks it): it is
    /// only the fast way for the layout nearly every SMSC sends, on the ESME's hot path.
    fn canonical(s: &'a [u8]) -> Option<Self> {
        let mut fields = TextFields::default();
        let mut rest = s;
        for &(keyword, key) in &CANONICAL {
            if key == Key::Text && rest.is_empty() {
                return Some(fields);
            }
            rest = rest.strip_prefix(keyword)?;
            if key == Key::Text {
                fields.text = Some(trim_text_to_end(rest));
                return Some(fields);
            }
            let end = rest.iter().position(|&b| is_space(b) || b == b':').unwrap_or(rest.len());
            if rest.get(end) == Some(&b':') {
                return None;
            }
            *fields.slot(key) = Some(&rest[..end]);
            rest = &rest[end..];
        }
        None
    }

    /// Scans by keyword, not by position (smpp34.md §9.3: fields go missing, move and change
    /// case). A value runs from its keyword to the next keyword.
    ///
    /// `text:` needs care because the original message may itself contain `id:` or `stat:`.
    /// When `text:` comes after the id or the stat (the usual layout), it runs to the end of
    /// the message and nothing after it is scanned. When it comes first, it ends at the next
    /// keyword like any other field.
    fn scan(s: &'a [u8]) -> Self {
        let mut fields = TextFields::default();
        // The keyword being read and where its value starts: a value runs to the next keyword
        // (no list of keywords is built: this runs once per receipt on the ESME's hot path).
        let mut open: Option<(Key, usize)> = None;
        let mut seen_id_or_stat = false;
        // Every keyword ends with the first ':' after its start, so only the colons are
        // looked at (memchr), each against the keywords that can end there: this runs once
        // per receipt on the ESME's hot path.
        for colon in memchr::memchr_iter(b':', s) {
            let Some((key, start)) = keyword_ending_at(s, colon) else {
                continue;
            };
            if let Some((k, value_start)) = open.take() {
                fields.set(k, &s[value_start..start]);
            }
            if key == Key::Text && seen_id_or_stat {
                if fields.text.is_none() {
                    fields.text = Some(trim_text_to_end(&s[colon + 1..]));
                }
                return fields;
            }
            seen_id_or_stat |= matches!(key, Key::Id | Key::Stat);
            open = Some((key, colon + 1));
        }
        if let Some((k, value_start)) = open {
            fields.set(k, &s[value_start..]);
        }
        fields
    }

    /// Records `value` for `key` unless an earlier occurrence of the keyword did.
    fn set(&mut self, key: Key, value: &'a [u8]) {
        let slot = self.slot(key);
        if slot.is_none() {
            *slot = Some(if key == Key::Text { trim_text(value) } else { first_token(value) });
        }
    }

    fn slot(&mut self, key: Key) -> &mut Option<&'a [u8]> {
        match key {
            Key::Id => &mut self.id,
            Key::Sub => &mut self.sub,
            Key::Dlvrd => &mut self.dlvrd,
            Key::SubmitDate => &mut self.submit_date,
            Key::DoneDate => &mut self.done_date,
            Key::Stat => &mut self.stat,
            Key::Err => &mut self.err,
            Key::Text => &mut self.text,
        }
    }
}

/// The Appendix B layout, keyword by keyword with the blank before it (smpp34.md §9.2).
const CANONICAL: [(&[u8], Key); 8] = [
    (b"id:", Key::Id),
    (b" sub:", Key::Sub),
    (b" dlvrd:", Key::Dlvrd),
    (b" submit date:", Key::SubmitDate),
    (b" done date:", Key::DoneDate),
    (b" stat:", Key::Stat),
    (b" err:", Key::Err),
    (b" text:", Key::Text),
];

/// The keywords of one word, with their colon.
const ONE_WORD_KEYWORDS: [(&[u8], Key); 6] = [
    (b"id:", Key::Id),
    (b"sub:", Key::Sub),
    (b"dlvrd:", Key::Dlvrd),
    (b"stat:", Key::Stat),
    (b"err:", Key::Err),
    (b"text:", Key::Text),
];

/// The keyword whose ':' is at `colon`, and where it starts: one of `id:`, `sub:`, `dlvrd:`,
/// `stat:`, `err:`, `text:`, or `submit date:` / `done date:` (also with `_`, `-` or
/// nothing between the words), in any case, starting a word.
fn keyword_ending_at(s: &[u8], colon: usize) -> Option<(Key, usize)> {
    let head = &s[..=colon];
    let starts_word = |start: usize| start == 0 || !s[start - 1].is_ascii_alphanumeric();
    let simple = ONE_WORD_KEYWORDS.iter().find_map(|&(kw, key)| {
        let start = head.len().checked_sub(kw.len())?;
        (ends_with_ci(head, kw) && starts_word(start)).then_some((key, start))
    });
    if simple.is_some() || !ends_with_ci(head, b"date:") {
        return simple;
    }
    let date = head.len() - b"date:".len();
    let separated = date > 0 && matches!(s[date - 1], b' ' | b'_' | b'-');
    [(&b"submit"[..], Key::SubmitDate), (b"done", Key::DoneDate)].into_iter().find_map(
        |(prefix, key)| {
            // "submitdate:" or one separator: "submit date:" (as the forward reading had it).
            let ends = [separated.then(|| date - 1), Some(date)];
            ends.into_iter().flatten().find_map(|end| {
                let start = end.checked_sub(prefix.len())?;
                (ends_with_ci(&s[..end], prefix) && starts_word(start)).then_some((key, start))
            })
        },
    )
}

fn ends_with_ci(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_space(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

fn first_token(s: &[u8]) -> &[u8] {
    let s = trim(s);
    let end = s.iter().position(|&b| is_space(b)).unwrap_or(s.len());
    &s[..end]
}

/// A `text:` value bounded by the next keyword: drop the separating blanks on both sides.
fn trim_text(s: &[u8]) -> &[u8] {
    trim(s)
}

/// A `text:` value running to the end: drop the blank after the colon and any NUL padding,
/// keep everything else, whatever the bytes are.
fn trim_text_to_end(s: &[u8]) -> &[u8] {
    let s = s.strip_prefix(b" ").unwrap_or(s);
    let end = s.iter().rposition(|&b| b != 0).map_or(0, |e| e + 1);
    &s[..end]
}

/// Ids and error codes are short: a [`CompactString`] keeps them inline, so a receipt costs no
/// allocation for them (this runs once per receipt on the ESME's hot path).
fn non_empty_string(s: &[u8]) -> Option<CompactString> {
    // Strict validation first: it is faster than the lossy pass, and receipts are ASCII.
    (!s.is_empty()).then(|| match std::str::from_utf8(s) {
        Ok(text) => CompactString::from(text),
        Err(_) => CompactString::from_utf8_lossy(s),
    })
}

fn parse_count(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u32, |n, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u32::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &[u8]) -> ReceiptInput<'_> {
        ReceiptInput { short_message: s, ..ReceiptInput::default() }
    }

    fn date(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: Option<u8>,
    ) -> ReceiptDate {
        ReceiptDate { year, month, day, hour, minute, second }
    }

    #[test]
    fn parses_the_appendix_b_layout() {
        let r = parse_receipt(&text(
            b"id:0123456789 sub:001 dlvrd:001 submit date:0911040124 done date:0911040125 \
              stat:DELIVRD err:000 Text:Hello world",
        ))
        .unwrap();
        assert_eq!(r.id_text.as_deref(), Some("0123456789"));
        assert_eq!(r.id_tlv, None);
        assert_eq!(r.sub, Some(1));
        assert_eq!(r.dlvrd, Some(1));
        assert_eq!(r.submit_date, Some(date(2009, 11, 4, 1, 24, None)));
        assert_eq!(r.done_date, Some(date(2009, 11, 4, 1, 25, None)));
        assert_eq!(r.stat, Some(Stat::Delivered));
        assert_eq!(r.state, MessageState::DELIVERED);
        assert_eq!(r.err.as_deref(), Some("000"));
        assert_eq!(r.text, b"Hello world");
        assert_eq!(r.network_error, None);
        assert!(r.is_final);
    }

    // smpp34.md §9.3 row: id decimal in the text, hex in receipted_message_id.
    #[test]
    fn keeps_both_text_id_and_tlv_id_and_prefers_the_tlv() {
        let r = parse_receipt(&ReceiptInput {
            short_message: b"id:0059113978 stat:DELIVRD",
            receipted_message_id: Some(b"38601fa\0"),
            ..ReceiptInput::default()
        })
        .unwrap();
        assert_eq!(r.id_text.as_deref(), Some("0059113978"));
        assert_eq!(r.id_tlv.as_deref(), Some("38601fa"));
        assert_eq!(r.id(), Some("38601fa"));
    }

    // §9.3 row: ids longer than 10.
    #[test]
    fn keeps_uuid_and_32_hex_digit_ids_whole() {
        let uuid = "74e02ee1-4e2f-4c55-a3c0-0c2c0a3a3b1d";
        let r = parse_receipt(&text(format!("id:{uuid} stat:DELIVRD").as_bytes())).unwrap();
        assert_eq!(r.id_text.as_deref(), Some(uuid));
        let hex32 = "0123456789ABCDEF0123456789abcdef";
        let r = parse_receipt(&text(format!("id:{hex32} stat:DELIVRD").as_bytes())).unwrap();
        assert_eq!(r.id_text.as_deref(), Some(hex32));
    }

    // §9.3 row: 12-digit dates, and the 14-digit form.
    #[test]
    fn accepts_10_12_and_14_digit_dates() {
        let r = parse_receipt(&text(
            b"id:1 submit date:091104012431 done date:20240229235960 stat:DELIVRD",
        ))
        .unwrap();
        assert_eq!(r.submit_date, Some(date(2009, 11, 4, 1, 24, Some(31))));
        assert_eq!(r.done_date, Some(date(2024, 2, 29, 23, 59, Some(60))));
        assert_eq!(ReceiptDate::parse(b"0911040124"), Some(date(2009, 11, 4, 1, 24, None)));
    }

    #[test]
    fn rejects_dates_of_other_lengths_or_out_of_range_without_failing_the_receipt() {
        for bad in [&b"09110401"[..], b"091104012", b"0913040124", b"09110401x4", b"0911042460"] {
            assert_eq!(ReceiptDate::parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let r = parse_receipt(&text(b"id:1 submit date:0913 stat:DELIVRD")).unwrap();
        assert_eq!(r.submit_date, None);
        assert_eq!(r.state, MessageState::DELIVERED);
    }

    // §9.3 row: missing fields.
    #[test]
    fn parses_a_receipt_without_sub_dlvrd_and_text() {
        let r = parse_receipt(&text(
            b"id:436949 submit date:1312311200 done date:1312311201 stat:UNDELIV err:001",
        ))
        .unwrap();
        assert_eq!(r.id_text.as_deref(), Some("436949"));
        assert_eq!((r.sub, r.dlvrd), (None, None));
        assert!(r.text.is_empty());
        assert_eq!(r.state, MessageState::UNDELIVERABLE);
        assert_eq!(r.err.as_deref(), Some("001"));
    }

    #[test]
    fn treats_an_empty_value_as_missing() {
        let r = parse_receipt(&text(b"id:42 sub: dlvrd: stat:DELIVRD err: text:")).unwrap();
        assert_eq!((r.sub, r.dlvrd, r.err), (None, None, None));
        assert!(r.text.is_empty());
    }

    #[test]
    fn reads_the_appendix_b_layout_by_position() {
        let full = b"id:0059113978 sub:001 dlvrd:001 submit date:2612060817 done date:2612060818 \
                     stat:DELIVRD err:000 text:Your card";
        let f = TextFields::canonical(full).expect("the Appendix B layout");
        assert_eq!(format!("{f:?}"), format!("{:?}", TextFields::scan(full)));
        assert_eq!(
            (f.id, f.stat, f.text),
            (Some(&b"0059113978"[..]), Some(&b"DELIVRD"[..]), Some(&b"Your card"[..]))
        );
        let no_text = b"id:1 sub:001 dlvrd:001 submit date:2612060817 done date:2612060818 stat:DELIVRD err:000";
        assert_eq!(TextFields::canonical(no_text).and_then(|f| f.err), Some(&b"000"[..]));
        // Any other layout is left to the scan.
        assert!(TextFields::canonical(b"ID:1 sub:001 dlvrd:001 stat:DELIVRD").is_none());
        assert!(TextFields::canonical(b"id:1  sub:001 dlvrd:001").is_none());
    }

    // §9.3 row: reordered / re-cased fields.
    #[test]
    fn scans_keywords_in_any_order_and_case() {
        let r = parse_receipt(&text(
            b"STAT:delivrd ERR:0 Done Date:0911040125 DLVRD:1 Submit_Date:0911040124 SUB:1 ID:77 TEXT:hi",
        ))
        .unwrap();
        assert_eq!(r.id_text.as_deref(), Some("77"));
        assert_eq!(r.stat, Some(Stat::Delivered));
        assert_eq!((r.sub, r.dlvrd), (Some(1), Some(1)));
        assert_eq!(r.submit_date, Some(date(2009, 11, 4, 1, 24, None)));
        assert_eq!(r.done_date, Some(date(2009, 11, 4, 1, 25, None)));
        assert_eq!(r.text, b"hi");
    }

    #[test]
    fn reads_text_that_comes_first_up_to_the_next_keyword() {
        let r = parse_receipt(&text(b"text:hello there id:5 stat:EXPIRED")).unwrap();
        assert_eq!(r.text, b"hello there");
        assert_eq!(r.id_text.as_deref(), Some("5"));
        assert_eq!(r.state, MessageState::EXPIRED);
    }

    #[test]
    fn does_not_read_keywords_inside_the_trailing_text() {
        let r =
            parse_receipt(&text(b"id:5 stat:DELIVRD err:0 text:your id:999 stat:REJECTD")).unwrap();
        assert_eq!(r.id_text.as_deref(), Some("5"));
        assert_eq!(r.state, MessageState::DELIVERED);
        assert_eq!(r.text, b"your id:999 stat:REJECTD");
    }

    #[test]
    fn does_not_mistake_a_longer_word_ending_in_a_keyword() {
        let r = parse_receipt(&text(b"msgid:9 id:5 stat:DELIVRD")).unwrap();
        assert_eq!(r.id_text.as_deref(), Some("5"));
    }

    // §9.3 row: err width.
    #[test]
    fn keeps_err_as_sent() {
        for err in ["0", "0000", "21b", "107"] {
            let r =
                parse_receipt(&text(format!("id:1 stat:UNDELIV err:{err}").as_bytes())).unwrap();
            assert_eq!(r.err.as_deref(), Some(err));
        }
    }

    // §9.3 row: receipt text in message_payload, sm_length 0.
    #[test]
    fn reads_the_text_from_message_payload_when_short_message_is_empty() {
        let r = parse_receipt(&ReceiptInput {
            short_message: b"",
            message_payload: Some(b"id:12345 sub:001 dlvrd:001 stat:DELIVRD err:000 text:x"),
            ..ReceiptInput::default()
        })
        .unwrap();
        assert_eq!(r.id_text.as_deref(), Some("12345"));
        assert_eq!(r.state, MessageState::DELIVERED);
    }

    #[test]
    fn prefers_short_message_when_both_carry_a_receipt() {
        let r = parse_receipt(&ReceiptInput {
            short_message: b"id:1 stat:DELIVRD",
            message_payload: Some(b"id:2 stat:EXPIRED"),
            ..ReceiptInput::default()
        })
        .unwrap();
        assert_eq!(r.id_text.as_deref(), Some("1"));
    }

    // §9.3 row: raw 8-bit or cut text after `text:`.
    #[test]
    fn keeps_raw_8_bit_text_bytes() {
        let mut sm = b"id:1 stat:DELIVRD err:0 text:".to_vec();
        sm.extend_from_slice(&[0x84, 0x41, 0xff, 0xe3, 0x81]); // cut inside a UTF-8 sequence
        let r = parse_receipt(&text(&sm)).unwrap();
        assert_eq!(r.text, [0x84, 0x41, 0xff, 0xe3, 0x81]);
    }

    #[test]
    fn survives_non_ascii_bytes_in_ids_and_stat() {
        let r = parse_receipt(&text(b"id:\xff\xfe stat:\x84DELIV")).unwrap();
        assert_eq!(r.id_text.as_deref(), Some("\u{fffd}\u{fffd}"));
        assert!(matches!(r.stat, Some(Stat::Other(_))));
        assert_eq!(r.state, MessageState::UNKNOWN);
    }

    // §9.3 row: network_error_code as ASCII "000".
    #[test]
    fn treats_ascii_network_error_code_as_opaque() {
        let r = parse_receipt(&ReceiptInput {
            short_message: b"id:1 stat:DELIVRD",
            network_error_code: Some(&[0x30, 0x30, 0x30]),
            ..ReceiptInput::default()
        })
        .unwrap();
        assert_eq!(r.network_error, Some(NetworkError::Opaque(b"000".to_vec())));
    }

    #[test]
    fn reads_a_three_octet_network_error_code() {
        assert_eq!(
            NetworkError::from_tlv(&[0x03, 0x00, 0x1b]),
            NetworkError::Coded { network_type: 3, code: 0x001b }
        );
        assert!(matches!(NetworkError::from_tlv(&[0x03, 0x00]), NetworkError::Opaque(_)));
        assert!(matches!(NetworkError::from_tlv(&[0x04, 0, 1]), NetworkError::Opaque(_)));
    }

    // §9.3 row: broken receipt TLV. Truncation is the codec's decision; here a short or
    // unterminated value is taken as it comes, and NUL padding is cut.
    #[test]
    fn reads_receipted_message_id_with_or_without_nul() {
        for tlv in [&b"abc12"[..], b"abc12\0", b"abc12\0\0\0garbage"] {
            let r = parse_receipt(&ReceiptInput {
                receipted_message_id: Some(tlv),
                message_state: Some(2),
                ..ReceiptInput::default()
            })
            .unwrap();
            assert_eq!(r.id_tlv.as_deref(), Some("abc12"));
        }
    }

    // §9.3 row: stat ACCEPTD used as interim, ENROUTE receipts.
    #[test]
    fn treats_acceptd_as_interim_by_default() {
        let r = parse_receipt(&text(b"id:1 stat:ACCEPTD err:107")).unwrap();
        assert_eq!(r.state, MessageState::ACCEPTED);
        assert!(!r.is_final);
        let mut options = ParseOptions::new();
        options.accepted_is_final(true);
        let r = parse_receipt_with(&text(b"id:1 stat:ACCEPTD err:107"), &options).unwrap();
        assert!(r.is_final);
    }

    #[test]
    fn treats_enroute_as_interim() {
        let r = parse_receipt(&text(b"id:1 stat:ENROUTE")).unwrap();
        assert_eq!(r.state, MessageState::ENROUTE);
        assert!(!r.is_final);
    }

    #[test]
    fn maps_every_stat_word_to_its_message_state() {
        for (word, state) in [
            ("ENROUTE", 1),
            ("DELIVRD", 2),
            ("EXPIRED", 3),
            ("DELETED", 4),
            ("UNDELIV", 5),
            ("ACCEPTD", 6),
            ("UNKNOWN", 7),
            ("REJECTD", 8),
        ] {
            let r = parse_receipt(&text(format!("id:1 stat:{word}").as_bytes())).unwrap();
            assert_eq!(r.state, MessageState(state), "{word}");
            assert_eq!(r.stat.as_ref().map(Stat::as_str), Some(word));
        }
    }

    #[test]
    fn prefers_the_message_state_tlv_over_the_stat_word() {
        let r = parse_receipt(&ReceiptInput {
            short_message: b"id:1 stat:ENROUTE",
            message_state: Some(5),
            ..ReceiptInput::default()
        })
        .unwrap();
        assert_eq!(r.state, MessageState::UNDELIVERABLE);
        assert_eq!(r.stat, Some(Stat::Enroute));
        assert!(r.is_final);
    }

    #[test]
    fn accepts_unknown_message_state_values_and_prints_them_as_hex() {
        let r = parse_receipt(&ReceiptInput {
            receipted_message_id: Some(b"1"),
            message_state: Some(0x42),
            ..ReceiptInput::default()
        })
        .unwrap();
        assert_eq!(r.state, MessageState(0x42));
        assert_eq!(r.state.to_string(), "0x42");
        assert_eq!(format!("{:?}", r.state), "MessageState(0x42)");
        assert_eq!(MessageState::DELIVERED.to_string(), "DELIVERED");
    }

    #[test]
    fn rejects_a_receipt_without_any_id() {
        assert_eq!(parse_receipt(&text(b"stat:DELIVRD")), Err(ReceiptError::MissingId));
        assert_eq!(
            parse_receipt(&ReceiptInput {
                short_message: b"id: stat:DELIVRD",
                receipted_message_id: Some(b"\0"),
                ..ReceiptInput::default()
            }),
            Err(ReceiptError::MissingId)
        );
    }

    #[test]
    fn rejects_a_receipt_without_any_state() {
        assert_eq!(parse_receipt(&text(b"id:1 err:0")), Err(ReceiptError::MissingState));
    }

    const FRAGMENTS: &[&[u8]] = &[
        b"id:",
        b"ID:",
        b"sub:",
        b"dlvrd:",
        b"submit date:",
        b"done date:",
        b"stat:",
        b"err:",
        b"text:",
        b"Text:",
        b" ",
        b"  ",
        b"0",
        b"0059113978",
        b"38601fa",
        b"DELIVRD",
        b"ACCEPTD",
        b"0911040124",
        b"091104012431",
        b"20240229235960",
        b"\0",
        b"\xff",
        b"\x84\x41",
        b"\xe3",
        b"submit",
        b"done",
        b"date",
        b":",
        b"_",
    ];

    fn receipt_like() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..24)
            .prop_map(|parts| parts.concat())
    }

    /// The forward, position-by-position scan that `TextFields::scan` replaced: the
    /// reference it must agree with.
    fn reference_scan(s: &[u8]) -> TextFields<'_> {
        fn keyword_at(s: &[u8], i: usize) -> Option<(Key, usize)> {
            let ci =
                |s: &[u8], p: &[u8]| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p);
            if i > 0 && s[i - 1].is_ascii_alphanumeric() {
                return None;
            }
            let rest = &s[i..];
            if let Some(&(kw, key)) = ONE_WORD_KEYWORDS.iter().find(|(kw, _)| ci(rest, kw)) {
                return Some((key, kw.len()));
            }
            for (prefix, key) in [(&b"submit"[..], Key::SubmitDate), (b"done", Key::DoneDate)] {
                if ci(rest, prefix) {
                    let mut j = prefix.len();
                    if matches!(rest.get(j), Some(b' ' | b'_' | b'-')) {
                        j += 1;
                    }
                    if ci(&rest[j..], b"date:") {
                        return Some((key, j + b"date:".len()));
                    }
                }
            }
            None
        }
        let mut fields = TextFields::default();
        let mut open: Option<(Key, usize)> = None;
        let mut seen_id_or_stat = false;
        let mut i = 0;
        while i < s.len() {
            let Some((key, len)) = keyword_at(s, i) else {
                i += 1;
                continue;
            };
            if let Some((k, value_start)) = open.take() {
                fields.set(k, &s[value_start..i]);
            }
            if key == Key::Text && seen_id_or_stat {
                if fields.text.is_none() {
                    fields.text = Some(trim_text_to_end(&s[i + len..]));
                }
                return fields;
            }
            seen_id_or_stat |= matches!(key, Key::Id | Key::Stat);
            open = Some((key, i + len));
            i += len;
        }
        if let Some((k, value_start)) = open {
            fields.set(k, &s[value_start..]);
        }
        fields
    }

    proptest! {
        /// Colon-to-colon scanning finds what the forward scan found, on texts made of
        /// keywords, their look-alikes and separators.
        #[test]
        fn the_colon_scan_agrees_with_the_forward_scan(parts in prop::collection::vec(prop::sample::select(vec![
            "id:", "ID:", "sub:", "dlvrd:", "stat:", "err:", "text:", "Text:", "submit date:",
            "submit_date:", "submitdate:", "submit-date:", "submit  date:", "done date:", "DONE DATE:",
            "date:", "done", "submit", "x", "7", " ", "  ", ":", "_", "-", "DELIVRD", "0059113978",
            "\0", "id", "é",
        ]), 0..24)) {
            let text = parts.concat();
            let bytes = text.as_bytes();
            prop_assert_eq!(format!("{:?}", TextFields::scan(bytes)), format!("{:?}", reference_scan(bytes)), "{:?}", text);
        }

        #[test]
        fn the_positional_read_agrees_with_the_scan(fields in prop::collection::vec((
            prop::sample::select(vec!["", " ", "  ", "\t", "ID:", "Sub:", "x"]),
            prop_oneof![
                4 => prop::sample::select(vec!["", "0059113978", "7", "DELIVRD", "é"]),
                1 => prop::sample::select(vec!["a:b", "x\ty", "\0", " 5", "id:1"]),
            ],
            prop::bool::weighted(0.9),
        ), CANONICAL.len())) {
            // Each canonical keyword, sometimes dropped or replaced, then its value.
            let mut text = Vec::new();
            for ((keyword, _), (replacement, value, keep)) in CANONICAL.iter().zip(&fields) {
                text.extend_from_slice(if *keep { keyword } else { replacement.as_bytes() });
                text.extend_from_slice(value.as_bytes());
            }
            if let Some(read) = TextFields::canonical(&text) {
                prop_assert_eq!(format!("{read:?}"), format!("{:?}", TextFields::scan(&text)), "{:?}", String::from_utf8_lossy(&text));
            }
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(
            sm in prop::collection::vec(any::<u8>(), 0..300),
            payload in prop::option::of(prop::collection::vec(any::<u8>(), 0..300)),
            id in prop::option::of(prop::collection::vec(any::<u8>(), 0..70)),
            state in any::<Option<u8>>(),
            nec in prop::option::of(prop::collection::vec(any::<u8>(), 0..5)),
        ) {
            let _ = parse_receipt(&ReceiptInput {
                short_message: &sm,
                message_payload: payload.as_deref(),
                receipted_message_id: id.as_deref(),
                message_state: state,
                network_error_code: nec.as_deref(),
            });
        }

        #[test]
        fn never_panics_on_receipt_shaped_bytes(sm in receipt_like(), payload in receipt_like()) {
            let _ = parse_receipt(&ReceiptInput {
                short_message: &sm,
                message_payload: Some(&payload),
                ..ReceiptInput::default()
            });
        }
    }
}
