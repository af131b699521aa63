//! Instants as milliseconds since the Unix epoch, and Japan time computed from them.
//!
//! Japan Standard Time is UTC+9 all year (no daylight saving since 1951), so the JST wall
//! clock is plain arithmetic on the UTC instant. Nothing here reads the host's time zone or
//! the clock: `TZ` and `/etc/localtime` never change a result.

use std::fmt::Write as _;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Milliseconds since 1970-01-01T00:00:00Z: the daemon's time unit everywhere.
pub type Millis = i64;

/// One second in [`Millis`].
pub const SECOND: Millis = 1_000;
/// One minute in [`Millis`].
pub const MINUTE: Millis = 60 * SECOND;
/// One hour in [`Millis`].
pub const HOUR: Millis = 60 * MINUTE;
/// One day in [`Millis`] (JST has no leap-second or DST irregularities we model).
pub const DAY: Millis = 24 * HOUR;
/// JST is UTC+9.
pub const JST_OFFSET: Millis = 9 * HOUR;

/// A time that is not RFC 3339 with an explicit offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time with an offset: {value:?} ({reason})")]
#[non_exhaustive]
pub struct TimeError {
    /// The text that was given.
    pub value: String,
    /// What the parser said.
    pub reason: String,
}

/// Parses an RFC 3339 timestamp with an offset (`Z`, `+09:00`, …) to [`Millis`].
/// Sub-millisecond digits are truncated towards the past.
///
/// # Errors
/// [`TimeError`] naming the value, also when the offset is missing (a time without an
/// offset is ambiguous, and guessing the host's zone is exactly what we must not do).
///
/// ```
/// use smpp_policy::time::parse_rfc3339;
/// assert_eq!(parse_rfc3339("1970-01-01T09:00:01+09:00"), Ok(1_000));
/// assert_eq!(parse_rfc3339("2026-11-22T13:30:00Z"), parse_rfc3339("2026-11-22T22:30:00+09:00"));
/// let err = parse_rfc3339("2026-11-22 22:30").unwrap_err();
/// assert!(err.to_string().contains("\"2026-11-22 22:30\""));
/// ```
pub fn parse_rfc3339(s: &str) -> Result<Millis, TimeError> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339)
        .map_err(|e| TimeError { value: s.to_owned(), reason: e.to_string() })?;
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    Millis::try_from(ms)
        .map_err(|_| TimeError { value: s.to_owned(), reason: "out of range".into() })
}

/// Milliseconds since the start of the JST day containing `at` (0..86_400_000).
pub const fn jst_millis_of_day(at: Millis) -> Millis {
    at.saturating_add(JST_OFFSET).rem_euclid(DAY)
}

/// The instant of 00:00:00.000 JST on the JST day containing `at`.
pub const fn jst_midnight(at: Millis) -> Millis {
    at.saturating_sub(jst_millis_of_day(at))
}

/// Formats `at` as JST RFC 3339: `2026-11-23T08:00:00+09:00`, with `.mmm` only when the
/// milliseconds are not zero. Instants outside years 0000–9999 print as `@<ms>ms`.
///
/// ```
/// use smpp_policy::time::{format_jst, parse_rfc3339};
/// let t = parse_rfc3339("2026-11-22T23:00:00Z").unwrap();
/// assert_eq!(format_jst(t), "2026-11-23T08:00:00+09:00");
/// assert_eq!(format_jst(t + 5), "2026-11-23T08:00:00.005+09:00");
/// ```
pub fn format_jst(at: Millis) -> String {
    let jst = UtcOffset::from_whole_seconds(9 * 3600).expect("+09:00 is a valid offset");
    let nanos = i128::from(at) * 1_000_000;
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return format!("@{at}ms");
    };
    let t = t.to_offset(jst);
    if !(0..=9999).contains(&t.year()) {
        return format!("@{at}ms");
    }
    let mut s = String::with_capacity(29);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if t.millisecond() != 0 {
        let _ = write!(s, ".{:03}", t.millisecond());
    }
    s.push_str("+09:00");
    s
}

/// Formats a time of day given in milliseconds since midnight as `HH:MM` (or `HH:MM:SS`
/// when the seconds are not zero).
pub fn format_time_of_day(ms: Millis) -> String {
    let secs = ms.rem_euclid(DAY) / SECOND;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_offsets_and_utc() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("1970-01-01T09:00:00+09:00"), Ok(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.123456Z"), Ok(123));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.9995Z"), Ok(-1));
    }

    #[test]
    fn rejects_a_time_without_offset_and_names_it() {
        let err = parse_rfc3339("2026-11-22T22:30:00").unwrap_err();
        assert_eq!(err.value, "2026-11-22T22:30:00");
        assert!(err.to_string().starts_with("not an RFC 3339 time with an offset"), "{err}");
        assert!(parse_rfc3339("").is_err());
        assert!(parse_rfc3339("tomorrow").is_err());
    }

    #[test]
    fn jst_day_arithmetic_is_utc_plus_nine() {
        let t = parse_rfc3339("2026-11-22T15:00:00Z").unwrap(); // 00:00 JST on the 23rd
        assert_eq!(jst_millis_of_day(t), 0);
        assert_eq!(jst_midnight(t + 5 * HOUR), t);
        assert_eq!(jst_millis_of_day(t - 1), DAY - 1);
        assert_eq!(jst_millis_of_day(-JST_OFFSET), 0);
    }

    #[test]
    fn formats_time_of_day() {
        assert_eq!(format_time_of_day(21 * HOUR), "21:00");
        assert_eq!(format_time_of_day(8 * HOUR + 30 * SECOND), "08:00:30");
    }

    #[test]
    fn out_of_range_instants_do_not_panic() {
        assert_eq!(format_jst(Millis::MAX), format!("@{}ms", Millis::MAX));
        assert_eq!(format_jst(Millis::MIN), format!("@{}ms", Millis::MIN));
        let _ = jst_midnight(Millis::MIN);
        let _ = jst_midnight(Millis::MAX);
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ms in -62_000_000_000_000i64..253_000_000_000_000) {
            let text = format_jst(ms);
            prop_assert!(text.ends_with("+09:00"));
            prop_assert_eq!(parse_rfc3339(&text), Ok(ms));
        }

        #[test]
        fn formatted_hour_is_the_arithmetic_jst_hour(ms in 0i64..4_102_444_800_000) {
            let text = format_jst(ms);
            let hour: i64 = text[11..13].parse().unwrap();
            prop_assert_eq!(hour, jst_millis_of_day(ms) / HOUR);
        }
    }
}
