//! Field types that carry the spec's limits (smpp34.md §1, §13.1-§13.4).
//!
//! Each type validates in its constructor, so a value that exists is encodable: encoding a
//! well-typed PDU cannot fail. Decoded values are slices of the received frame (`Bytes`), not
//! copies.

use bytes::{BufMut, Bytes, BytesMut};

/// Why a value cannot be stored in a field type. Raised by constructors (our caller's mistake),
/// never by decoding, which reports [`crate::DecodeError`] instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidValue {
    /// A C-Octet String longer than its maximum (the maximum counts the NUL, smpp34.md §13.1).
    #[error("{len} octets is longer than the {max} octets this field holds (excluding the NUL)")]
    TooLong {
        /// Octets given.
        len: usize,
        /// Most octets allowed, excluding the terminating NUL.
        max: usize,
    },
    /// A C-Octet String may not contain 0x00: the NUL would end it early on the wire.
    #[error("contains a NUL octet at offset {offset}")]
    ContainsNul {
        /// Offset of the first NUL.
        offset: usize,
    },
    /// A time field is empty or exactly 16 characters (smpp34.md §7.6).
    #[error("a time field is empty or 16 characters (YYMMDDhhmmsstnnp); got {len}")]
    TimeLength {
        /// Characters given.
        len: usize,
    },
    /// A time field holds ASCII digits and a final `+`, `-` or `R`.
    #[error("time field character {offset} is not valid for YYMMDDhhmmsstnnp")]
    TimeFormat {
        /// Offset of the first bad character.
        offset: usize,
    },
    /// short_message holds at most 254 octets; longer data goes in message_payload (§13.3).
    #[error("short_message holds at most 254 octets; got {len} (use message_payload)")]
    ShortMessageTooLong {
        /// Octets given.
        len: usize,
    },
    /// A TLV value is at most 65535 octets (its length is an Int2).
    #[error("a TLV value is at most 65535 octets; got {len}")]
    TlvTooLong {
        /// Octets given.
        len: usize,
    },
    /// Sequence numbers run from 1 to 0x7FFFFFFF (smpp34.md §2, §8.2).
    #[error("sequence_number {value:#x} is outside 1..=0x7FFFFFFF")]
    SequenceNumber {
        /// The value given.
        value: u32,
    },
    /// submit_multi carries 1 to 254 destinations (smpp34.md §4).
    #[error("submit_multi needs 1 to 254 destinations; got {count}")]
    NumberOfDests {
        /// Destinations given.
        count: usize,
    },
    /// submit_multi_resp lists at most 255 unsuccessful destinations (an Int1 count).
    #[error("at most 255 entries fit an Int1 count; got {count}")]
    TooManyEntries {
        /// Entries given.
        count: usize,
    },
}

/// A C-Octet String of at most `MAX` octets **including** the NUL (smpp34.md §1), so at most
/// `MAX - 1` characters. Holds the characters without the NUL: decoded, a `Bytes` view of the
/// frame (no copy).
///
/// ```
/// use smpp_codec::COctetString;
/// let id: COctetString<16> = COctetString::new("SMPP3TEST").unwrap();
/// assert_eq!(id.as_bytes(), b"SMPP3TEST");
/// assert!(COctetString::<9>::new("too-long-password").is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct COctetString<const MAX: usize> {
    bytes: Bytes,
}

impl<const MAX: usize> COctetString<MAX> {
    /// Most characters the field holds (the NUL excluded).
    pub const MAX_CHARS: usize = MAX - 1;

    /// The empty string (on the wire: the single octet 0x00).
    pub const fn empty() -> Self {
        Self { bytes: Bytes::new() }
    }

    /// Validates and wraps `value` (no copy when given `Bytes`).
    pub fn new(value: impl Into<Bytes>) -> Result<Self, InvalidValue> {
        let bytes = value.into();
        Self::check(&bytes)?;
        Ok(Self { bytes })
    }

    /// Validates and copies `value`.
    pub fn copy_from_slice(value: &[u8]) -> Result<Self, InvalidValue> {
        Self::check(value)?;
        Ok(Self { bytes: Bytes::copy_from_slice(value) })
    }

    fn check(value: &[u8]) -> Result<(), InvalidValue> {
        if let Some(offset) = value.iter().position(|&b| b == 0) {
            return Err(InvalidValue::ContainsNul { offset });
        }
        if value.len() > Self::MAX_CHARS {
            return Err(InvalidValue::TooLong { len: value.len(), max: Self::MAX_CHARS });
        }
        Ok(())
    }

    /// Wraps a string literal. Panics if the literal does not fit, which is a bug in the
    /// calling code, never a runtime condition.
    pub fn from_static(value: &'static str) -> Self {
        Self::new(Bytes::from_static(value.as_bytes())).expect("literal must fit the field")
    }

    /// Trusted constructor for the decoder, which has checked length and NUL already: `s`
    /// is a part of `frame`.
    pub(crate) fn from_checked(frame: &Bytes, s: &[u8]) -> Self {
        debug_assert!(s.len() < MAX && !s.contains(&0));
        Self { bytes: frame.slice_ref(s) }
    }

    /// The characters, without the NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The characters as `&str` when they are valid UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.bytes).ok()
    }

    /// The characters as text, invalid UTF-8 replaced by U+FFFD. Borrowed when valid, which
    /// is checked first with the faster strict validation (ids are ASCII).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        match core::str::from_utf8(&self.bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&self.bytes),
        }
    }

    /// The underlying shared buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Number of characters (octets), NUL excluded.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.bytes.len() + 1
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_slice(&self.bytes);
        buf.put_u8(0);
    }
}

impl<const MAX: usize> core::fmt::Debug for COctetString<MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.to_str() {
            Some(s) => write!(f, "{s:?}"),
            None => write!(f, "{:02x?}", self.as_bytes()),
        }
    }
}

impl<const MAX: usize> TryFrom<&str> for COctetString<MAX> {
    type Error = InvalidValue;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::copy_from_slice(value.as_bytes())
    }
}

impl<const MAX: usize> TryFrom<String> for COctetString<MAX> {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// An SMPP time field: empty, or `YYMMDDhhmmsstnnp` (16 characters) (smpp34.md §7.6).
/// On the wire a `C fixed 1/17` string.
///
/// The constructor checks the shape (digits and a final `+`, `-` or `R`); whether the date is
/// acceptable (month 13, a time in the past) is the SMSC's business, not the codec's.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Time {
    bytes: Bytes,
}

impl Time {
    /// Characters in a non-empty time field.
    pub const LEN: usize = 16;

    /// The empty time ("now" for schedule_delivery_time, "SMSC default" for validity_period).
    pub const fn empty() -> Self {
        Self { bytes: Bytes::new() }
    }

    /// Validates and wraps a 0- or 16-character time.
    pub fn new(value: impl Into<Bytes>) -> Result<Self, InvalidValue> {
        let bytes = value.into();
        check_time(&bytes)?;
        Ok(Self { bytes })
    }

    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        Self { bytes }
    }

    /// The 16 characters, or an empty slice.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The characters as `&str` (always ASCII once validated).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes).unwrap_or("")
    }

    /// True for the empty time.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// True for a relative time (`p` = `R`).
    pub fn is_relative(&self) -> bool {
        self.bytes.last() == Some(&b'R')
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.bytes.len() + 1
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_slice(&self.bytes);
        buf.put_u8(0);
    }
}

impl core::fmt::Debug for Time {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

pub(crate) fn check_time(bytes: &[u8]) -> Result<(), InvalidValue> {
    match bytes.len() {
        0 => Ok(()),
        Time::LEN => {
            let (digits, sign) = bytes.split_at(15);
            if let Some(offset) = digits.iter().position(|b| !b.is_ascii_digit()) {
                return Err(InvalidValue::TimeFormat { offset });
            }
            if !matches!(sign[0], b'+' | b'-' | b'R') {
                return Err(InvalidValue::TimeFormat { offset: 15 });
            }
            Ok(())
        }
        len => Err(InvalidValue::TimeLength { len }),
    }
}

/// The `short_message` octets, 0 to 254 of them (smpp34.md §13.3, §13.4). `sm_length` is
/// derived from the data and cannot disagree with it.
///
/// This is binary data: GSM 03.38 "@" is 0x00 and UCS-2 has 0x00 high octets, so it is never
/// scanned for a NUL.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ShortMessage {
    bytes: Bytes,
}

impl ShortMessage {
    /// Most octets short_message holds (sm_length 255 is forbidden, §5.2.21).
    pub const MAX: usize = 254;

    /// No user data (sm_length 0), as used together with message_payload.
    pub const fn empty() -> Self {
        Self { bytes: Bytes::new() }
    }

    /// Validates and wraps up to 254 octets.
    pub fn new(value: impl Into<Bytes>) -> Result<Self, InvalidValue> {
        let bytes = value.into();
        if bytes.len() > Self::MAX {
            return Err(InvalidValue::ShortMessageTooLong { len: bytes.len() });
        }
        Ok(Self { bytes })
    }

    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        Self { bytes }
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The underlying shared buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// `sm_length` as it goes on the wire.
    pub fn sm_length(&self) -> u8 {
        // Invariant from the constructors: len <= 254.
        self.bytes.len() as u8
    }

    /// Number of octets.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when there is no user data.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.bytes.len() + 1
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.sm_length());
        buf.put_slice(&self.bytes);
    }
}

impl core::fmt::Debug for ShortMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ShortMessage({} octets)", self.bytes.len())
    }
}

/// A sequence number we choose for our own requests: 1..=0x7FFFFFFF (smpp34.md §2, §8.2).
///
/// Numbers received from a peer are kept as raw `u32` in [`crate::Header`] instead, because
/// real SMSCs send 0 and values with bit 31 set, and the response must echo them unchanged.
///
/// ```
/// use smpp_codec::SequenceNumber;
/// let last = SequenceNumber::new(0x7FFF_FFFF).unwrap();
/// assert_eq!(last.next().get(), 1); // wraps to 1, never 0
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SequenceNumber(u32);

impl SequenceNumber {
    /// The first number a session uses.
    pub const FIRST: Self = Self(1);
    /// The largest number; the next one wraps to 1.
    pub const MAX: Self = Self(0x7FFF_FFFF);

    /// Validates the range.
    pub const fn new(value: u32) -> Result<Self, InvalidValue> {
        if value == 0 || value > 0x7FFF_FFFF {
            Err(InvalidValue::SequenceNumber { value })
        } else {
            Ok(Self(value))
        }
    }

    /// The following number, wrapping from 0x7FFFFFFF to 1.
    pub const fn next(self) -> Self {
        if self.0 == 0x7FFF_FFFF {
            Self(1)
        } else {
            Self(self.0 + 1)
        }
    }

    /// The raw value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl From<SequenceNumber> for u32 {
    fn from(v: SequenceNumber) -> u32 {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_octet_string_max_includes_the_nul() {
        assert!(COctetString::<9>::new("12345678").is_ok());
        assert_eq!(
            COctetString::<9>::new("123456789"),
            Err(InvalidValue::TooLong { len: 9, max: 8 })
        );
    }

    #[test]
    fn c_octet_string_rejects_interior_nul() {
        assert_eq!(
            COctetString::<16>::new(&b"ab\0c"[..]),
            Err(InvalidValue::ContainsNul { offset: 2 })
        );
    }

    #[test]
    fn time_is_empty_or_sixteen_characters() {
        assert!(Time::new("").is_ok());
        assert!(Time::new("250131235959036+").is_ok());
        assert!(Time::new("000001000000000R").unwrap().is_relative());
        assert_eq!(Time::new("2501312359"), Err(InvalidValue::TimeLength { len: 10 }));
        assert_eq!(Time::new("25013123595903+6"), Err(InvalidValue::TimeFormat { offset: 14 }));
        assert_eq!(Time::new("250131235959036X"), Err(InvalidValue::TimeFormat { offset: 15 }));
    }

    #[test]
    fn short_message_rejects_255_octets() {
        assert!(ShortMessage::new(vec![0u8; 254]).is_ok());
        assert_eq!(
            ShortMessage::new(vec![0u8; 255]),
            Err(InvalidValue::ShortMessageTooLong { len: 255 })
        );
    }

    #[test]
    fn sequence_number_range_and_wrap() {
        assert!(SequenceNumber::new(0).is_err());
        assert!(SequenceNumber::new(0x8000_0000).is_err());
        assert_eq!(SequenceNumber::FIRST.next().get(), 2);
        assert_eq!(SequenceNumber::MAX.next(), SequenceNumber::FIRST);
    }
}
