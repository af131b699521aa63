//! Mandatory-field primitives: nom parsers over the framed body, encoders, and a visitor /
//! source pair that lets tools (JSON, pretty printing) walk any PDU's fields in wire order by
//! the spec's names without a hand-written mapping per PDU.

use bytes::{BufMut, Bytes, BytesMut};
use nom::error::{ContextError, ErrorKind, ParseError};

use crate::codes::{EsmClass, Npi, Ton};
use crate::error::status_for_field;
use crate::types::{COctetString, InvalidValue, ShortMessage, Time};

pub(crate) type In<'a> = &'a [u8];
pub(crate) type PResult<'a, O> = nom::IResult<In<'a>, O, PErr>;

/// A parse failure inside the body; `field` is filled in by the innermost `context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PErr {
    pub(crate) field: &'static str,
    pub(crate) fail: Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// The body ended inside this field.
    Truncated,
    /// The field is there but wrong.
    Invalid(&'static str),
    /// A C-Octet String with `len` characters where at most `max` fit.
    TooLong { len: usize, max: usize },
}

impl PErr {
    fn invalid(reason: &'static str) -> nom::Err<PErr> {
        nom::Err::Error(PErr { field: "", fail: Fail::Invalid(reason) })
    }
    fn truncated() -> nom::Err<PErr> {
        nom::Err::Error(PErr { field: "", fail: Fail::Truncated })
    }
    pub(crate) fn into_problem(self) -> crate::error::Problem {
        use crate::error::Problem;
        match self.fail {
            Fail::Truncated => Problem::Truncated { field: self.field },
            Fail::Invalid(reason) => {
                Problem::Field { field: self.field, reason, status: status_for_field(self.field) }
            }
            Fail::TooLong { len, max } => Problem::FieldTooLong {
                field: self.field,
                len,
                max,
                status: status_for_field(self.field),
            },
        }
    }
}

impl ParseError<In<'_>> for PErr {
    fn from_error_kind(_: In<'_>, _: ErrorKind) -> Self {
        PErr { field: "", fail: Fail::Truncated }
    }
    fn append(_: In<'_>, _: ErrorKind, other: Self) -> Self {
        other
    }
}

impl ContextError<In<'_>> for PErr {
    fn add_context(_: In<'_>, ctx: &'static str, mut other: Self) -> Self {
        if other.field.is_empty() {
            other.field = ctx;
        }
        other
    }
}

/// Why a PDU could not be built from named fields (see [`FieldSource`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field}: {reason}")]
pub struct BuildError {
    /// The spec's name of the field.
    pub field: String,
    /// What is wrong with the value given.
    pub reason: String,
}

impl BuildError {
    /// A build error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }

    fn invalid(field: &str, e: InvalidValue) -> Self {
        Self::new(field, e.to_string())
    }
}

/// Receives a PDU's fields in wire order, by the spec's names.
pub trait FieldVisitor {
    /// An integer field of `width` octets.
    fn int(&mut self, name: &'static str, value: u32, width: u8);
    /// A C-Octet String, without its NUL.
    fn c_str(&mut self, name: &'static str, value: &[u8]);
    /// An Octet String (short_message).
    fn octets(&mut self, name: &'static str, value: &[u8]);
    /// Starts a list of `len` entries (submit_multi's dest_addresses and unsuccess_smes).
    fn begin_list(&mut self, name: &'static str, len: usize);
    /// Starts one entry of the current list.
    fn begin_item(&mut self);
    /// Ends the current entry.
    fn end_item(&mut self);
    /// Ends the current list.
    fn end_list(&mut self);
}

/// Supplies field values by the spec's names, to build a PDU (the inverse of
/// [`FieldVisitor`]). A missing field (`Ok(None)`) takes its default: 0 or empty.
pub trait FieldSource {
    /// An integer field.
    fn int(&mut self, name: &'static str) -> Result<Option<u32>, BuildError>;
    /// A C-Octet String's characters (no NUL).
    fn c_str(&mut self, name: &'static str) -> Result<Option<Bytes>, BuildError>;
    /// An Octet String.
    fn octets(&mut self, name: &'static str) -> Result<Option<Bytes>, BuildError>;
    /// A list of entries, each a source of its own.
    fn list(&mut self, name: &'static str)
        -> Result<Option<Vec<Box<dyn FieldSource>>>, BuildError>;
}

/// A mandatory-field type: how it decodes, encodes and shows itself.
pub(crate) trait Field: Sized {
    fn decode<'a>(frame: &Bytes, i: In<'a>) -> PResult<'a, Self>;
    fn encoded_len(&self) -> usize;
    fn encode(&self, buf: &mut BytesMut);
    fn visit(&self, name: &'static str, v: &mut dyn FieldVisitor);
    fn build(name: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError>;
}

pub(crate) fn build_int<T: TryFrom<u32>>(
    name: &'static str,
    src: &mut dyn FieldSource,
) -> Result<T, BuildError> {
    let v = src.int(name)?.unwrap_or(0);
    T::try_from(v).map_err(|_| BuildError::new(name, format!("{v} does not fit the field")))
}

impl Field for u8 {
    #[inline]
    fn decode<'a>(_: &Bytes, i: In<'a>) -> PResult<'a, Self> {
        be_u8(i)
    }
    fn encoded_len(&self) -> usize {
        1
    }
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(*self);
    }
    fn visit(&self, name: &'static str, v: &mut dyn FieldVisitor) {
        v.int(name, u32::from(*self), 1);
    }
    fn build(name: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError> {
        build_int(name, src)
    }
}

macro_rules! int1_newtype_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            #[inline]
    fn decode<'a>(_: &Bytes, i: In<'a>) -> PResult<'a, Self> {
                let (i, b) = be_u8(i)?;
                Ok((i, Self(b)))
            }
            fn encoded_len(&self) -> usize {
                1
            }
            fn encode(&self, buf: &mut BytesMut) {
                buf.put_u8(self.0);
            }
            fn visit(&self, name: &'static str, v: &mut dyn FieldVisitor) {
                v.int(name, u32::from(self.0), 1);
            }
            fn build(name: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError> {
                build_int(name, src).map(Self)
            }
        }
    )*};
}
int1_newtype_field!(Ton, Npi, EsmClass);

/// One octet. Written out rather than nom's `be_u8`, whose generic `take` is not inlined on
/// the decode hot path (it showed as 7% of `decode/submit_sm` under perf).
#[inline(always)]
pub(crate) fn be_u8(i: In<'_>) -> PResult<'_, u8> {
    match i.split_first() {
        Some((&b, rest)) => Ok((rest, b)),
        None => Err(PErr::truncated()),
    }
}

/// Finds the NUL that ends a C-Octet String of at most `max` octets (NUL included).
/// Returns the characters and the input after the NUL.
#[inline]
pub(crate) fn c_octets(i: In<'_>, max: usize) -> PResult<'_, In<'_>> {
    match i.iter().position(|&b| b == 0) {
        // smpp34.md §1: if no NUL before the PDU ends, the PDU is corrupt.
        None => Err(PErr::truncated()),
        Some(n) if n >= max => {
            Err(nom::Err::Error(PErr { field: "", fail: Fail::TooLong { len: n, max: max - 1 } }))
        }
        Some(n) => Ok((&i[n + 1..], &i[..n])),
    }
}

impl<const MAX: usize> Field for COctetString<MAX> {
    #[inline]
    fn decode<'a>(frame: &Bytes, i: In<'a>) -> PResult<'a, Self> {
        let (rest, s) = c_octets(i, MAX)?;
        Ok((rest, COctetString::from_checked(frame, s)))
    }
    fn encoded_len(&self) -> usize {
        COctetString::encoded_len(self)
    }
    fn encode(&self, buf: &mut BytesMut) {
        COctetString::encode(self, buf);
    }
    fn visit(&self, name: &'static str, v: &mut dyn FieldVisitor) {
        v.c_str(name, self.as_bytes());
    }
    fn build(name: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError> {
        let b = src.c_str(name)?.unwrap_or_default();
        COctetString::new(b).map_err(|e| BuildError::invalid(name, e))
    }
}

impl Field for Time {
    #[inline]
    fn decode<'a>(frame: &Bytes, i: In<'a>) -> PResult<'a, Self> {
        // "C fixed 1/17": just the NUL, or 16 characters and the NUL (smpp34.md §7.6).
        let (rest, s) = c_octets(i, Time::LEN + 1)?;
        match crate::types::check_time(s) {
            Ok(()) => Ok((rest, Time::from_checked(frame.slice_ref(s)))),
            Err(InvalidValue::TimeLength { .. }) => {
                Err(PErr::invalid("a time is empty or 16 characters"))
            }
            Err(_) => Err(PErr::invalid("not in YYMMDDhhmmsstnnp form")),
        }
    }
    fn encoded_len(&self) -> usize {
        Time::encoded_len(self)
    }
    fn encode(&self, buf: &mut BytesMut) {
        Time::encode(self, buf);
    }
    fn visit(&self, name: &'static str, v: &mut dyn FieldVisitor) {
        v.c_str(name, self.as_bytes());
    }
    fn build(name: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError> {
        let b = src.c_str(name)?.unwrap_or_default();
        Time::new(b).map_err(|e| BuildError::invalid(name, e))
    }
}

impl Field for ShortMessage {
    #[inline]
    fn decode<'a>(frame: &Bytes, i: In<'a>) -> PResult<'a, Self> {
        let (i, len) = named("sm_length", be_u8(i))?;
        if usize::from(len) > ShortMessage::MAX {
            // smpp34.md §13.3: sm_length 255 is forbidden.
            return Err(PErr::invalid("sm_length 255 is not allowed"));
        }
        let Some(data) = i.get(..usize::from(len)) else {
            return Err(PErr::invalid("sm_length runs past the end of the PDU"));
        };
        Ok((&i[data.len()..], ShortMessage::from_checked(frame.slice_ref(data))))
    }
    fn encoded_len(&self) -> usize {
        ShortMessage::encoded_len(self)
    }
    fn encode(&self, buf: &mut BytesMut) {
        ShortMessage::encode(self, buf);
    }
    fn visit(&self, _: &'static str, v: &mut dyn FieldVisitor) {
        v.int("sm_length", u32::from(self.sm_length()), 1);
        v.octets("short_message", self.as_bytes());
    }
    fn build(_: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError> {
        let data = src.octets("short_message")?.unwrap_or_default();
        if let Some(given) = src.int("sm_length")? {
            if given as usize != data.len() {
                return Err(BuildError::new(
                    "sm_length",
                    format!("{given} does not match the {} octets of short_message", data.len()),
                ));
            }
        }
        ShortMessage::new(data).map_err(|e| BuildError::invalid("short_message", e))
    }
}

/// Names the field a failure happened in, unless an inner parser already did (the same rule
/// as nom's `ContextError::add_context`, which `PErr` implements).
#[inline(always)]
pub(crate) fn named<'a, O>(field: &'static str, r: PResult<'a, O>) -> PResult<'a, O> {
    r.map_err(|e| e.map(|e| <PErr as ContextError<In<'a>>>::add_context(&[], field, e)))
}

/// Defines a PDU body: the struct with its fields in wire order, and its decoder, encoder,
/// visitor and builder, all generated from the one field list so they cannot disagree.
macro_rules! body {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            #[allow(unused_variables)]
            // Always inlined into `Body::decode` (its one caller per PDU type), so the struct
            // is built in place rather than copied out of the returned tuple.
            #[inline(always)]
            pub(crate) fn decode<'a>(
                frame: &bytes::Bytes,
                i: $crate::field::In<'a>,
            ) -> $crate::field::PResult<'a, Self> {
                $(
                    // `named` is nom's `context` applied on the error path only: the hot path
                    // pays nothing for field names.
                    let (i, $field) = $crate::field::named(
                        stringify!($field),
                        <$ty as $crate::field::Field>::decode(frame, i),
                    )?;
                )*
                Ok((i, Self { $($field,)* }))
            }

            pub(crate) fn encoded_len(&self) -> usize {
                0 $( + $crate::field::Field::encoded_len(&self.$field) )*
            }

            #[allow(unused_variables)]
            pub(crate) fn encode(&self, buf: &mut bytes::BytesMut) {
                $( $crate::field::Field::encode(&self.$field, buf); )*
            }

            /// Walks the mandatory fields in wire order, by the spec's names.
            #[allow(unused_variables)]
            pub fn visit_fields(&self, v: &mut dyn $crate::field::FieldVisitor) {
                $( $crate::field::Field::visit(&self.$field, stringify!($field), v); )*
            }

            /// Builds the body from named field values (missing ones default to 0 / empty).
            #[allow(unused_variables)]
            pub fn from_fields(
                src: &mut dyn $crate::field::FieldSource,
            ) -> Result<Self, $crate::field::BuildError> {
                Ok(Self {
                    $( $field: $crate::field::Field::build(stringify!($field), src)?, )*
                })
            }
        }
    };
}
pub(crate) use body;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_octets_distinguishes_truncated_from_too_long() {
        assert_eq!(c_octets(b"abc\0rest", 4).unwrap(), (&b"rest"[..], &b"abc"[..]));
        let too_long = c_octets(b"abcd\0", 4).unwrap_err();
        assert!(matches!(
            too_long,
            nom::Err::Error(PErr { fail: Fail::TooLong { len: 4, max: 3 }, .. })
        ));
        let truncated = c_octets(b"abc", 4).unwrap_err();
        assert!(matches!(truncated, nom::Err::Error(PErr { fail: Fail::Truncated, .. })));
    }

    #[test]
    fn short_message_may_contain_nul_octets() {
        let frame = Bytes::from_static(&[3, 0x00, 0x41, 0x00, 0xFF]);
        let (rest, sm) = ShortMessage::decode(&frame, &frame).unwrap();
        assert_eq!(sm.as_bytes(), &[0x00, 0x41, 0x00]);
        assert_eq!(rest, &[0xFF]);
    }
}
