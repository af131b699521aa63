//! Dates without a date library: receipt dates (smpp34.md §9.2), final_date and the SMPP time
//! format of schedule_delivery_time / validity_period (smpp34.md §7.6).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BufMut;

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

struct Fields {
    yy: i64,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
}

fn local_fields(unix: i64, offset_minutes: i32) -> Fields {
    let t = unix + i64::from(offset_minutes) * 60;
    let (y, mo, d) = civil_from_days(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400) as u32;
    Fields { yy: y.rem_euclid(100), mo, d, h: secs / 3600, mi: secs / 60 % 60, s: secs % 60 }
}

/// `YYMMDDhhmm` in the SMSC's local time, as receipts write dates (smpp34.md §9.2).
#[cfg(test)]
pub(crate) fn receipt_date(unix: i64, offset_minutes: i32) -> String {
    let mut out = Vec::with_capacity(10);
    push_receipt_date(&mut out, unix, offset_minutes);
    String::from_utf8(out).expect("digits")
}

/// Appends [`receipt_date`]'s `YYMMDDhhmm`: written by hand, because `format!` was the
/// simulator's largest cost per receipt.
pub(crate) fn push_receipt_date(out: &mut impl BufMut, unix: i64, offset_minutes: i32) {
    // A receipt's two dates, and the next receipts', nearly always fall in the same minute:
    // the calendar arithmetic is done once per minute and thread.
    thread_local! {
        static LAST: std::cell::RefCell<(i64, i32, Vec<u8>)> =
            const { std::cell::RefCell::new((i64::MIN, 0, Vec::new())) };
    }
    let minute = unix.div_euclid(60);
    LAST.with_borrow_mut(|(at, offset, text)| {
        if (*at, *offset) != (minute, offset_minutes) {
            let f = local_fields(unix, offset_minutes);
            text.clear();
            for n in [f.yy as u32, f.mo, f.d, f.h, f.mi] {
                push_padded(text, n, 2);
            }
            (*at, *offset) = (minute, offset_minutes);
        }
        out.put_slice(text);
    });
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (`{:0width$}`).
pub(crate) fn push_padded(out: &mut impl BufMut, n: u32, width: usize) {
    let mut digits = [0u8; 10];
    let mut len = 0;
    let mut rest = n;
    while len == 0 || rest > 0 {
        digits[len] = b'0' + (rest % 10) as u8;
        rest /= 10;
        len += 1;
    }
    for _ in len..width {
        out.put_u8(b'0');
    }
    digits[..len].reverse();
    out.put_slice(&digits[..len]);
}

/// The 16-character absolute form `YYMMDDhhmmss0nnp` for query_sm_resp's final_date.
pub(crate) fn smpp_absolute(unix: i64, offset_minutes: i32) -> String {
    let f = local_fields(unix, offset_minutes);
    let quarters = offset_minutes.unsigned_abs() / 15;
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    format!("{:02}{:02}{:02}{:02}{:02}{:02}0{:02}{sign}", f.yy, f.mo, f.d, f.h, f.mi, f.s, quarters)
}

/// Why a time field is unacceptable even though its shape is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadTime;

/// How far in the future a schedule_delivery_time / validity_period lies, from `now_unix`.
/// `Ok(None)` for the empty time. A time in the past gives `Duration::ZERO`.
///
/// smpp34.md §7.6: absolute `YYMMDDhhmmsstnnp` (nn quarter hours from UTC, p `+`/`-`) or
/// relative `YYMMDDhhmmss000R`. The codec has already checked the shape (digits and the final
/// character); this checks the ranges.
pub(crate) fn parse_smpp_time(s: &[u8], now_unix: i64) -> Result<Option<Duration>, BadTime> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() != 16 || !s[..15].iter().all(u8::is_ascii_digit) {
        return Err(BadTime);
    }
    let n = |i: usize| u32::from(s[i] - b'0') * 10 + u32::from(s[i + 1] - b'0');
    let (yy, mo, d, h, mi, sec) = (n(0), n(2), n(4), n(6), n(8), n(10));
    let nn = n(13);
    match s[15] {
        b'R' => {
            // Relative: months as 30 days and years as 365 (the spec leaves it open).
            if h > 23 || mi > 59 || sec > 59 {
                return Err(BadTime);
            }
            let secs = u64::from(yy) * 365 * 86_400
                + u64::from(mo) * 30 * 86_400
                + u64::from(d) * 86_400
                + u64::from(h) * 3600
                + u64::from(mi) * 60
                + u64::from(sec);
            Ok(Some(Duration::from_secs(secs)))
        }
        p @ (b'+' | b'-') => {
            // Appendix C: 38-99 are 19xx, 00-37 are 20xx.
            let year = if yy >= 38 { 1900 + i64::from(yy) } else { 2000 + i64::from(yy) };
            if !(1..=12).contains(&mo)
                || d == 0
                || d > days_in_month(year, mo)
                || h > 23
                || mi > 59
                || sec > 59
                || nn > 48
            {
                return Err(BadTime);
            }
            let local = days_from_civil(year, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + sec);
            let offset = i64::from(nn) * 15 * 60;
            let utc = if p == b'+' { local - offset } else { local + offset };
            Ok(Some(Duration::from_secs(utc.saturating_sub(now_unix).max(0) as u64)))
        }
        _ => Err(BadTime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for z in [-1000, 0, 10_957, 19_000, 20_000, 60_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn padded_numbers_match_format() {
        for (n, width) in [(0, 2), (7, 2), (42, 2), (0, 3), (5, 3), (999, 3), (1000, 3), (65535, 3)]
        {
            let mut out = Vec::new();
            push_padded(&mut out, n, width);
            assert_eq!(out, format!("{n:0width$}").into_bytes());
        }
    }

    #[test]
    fn receipt_date_is_local_time_to_the_minute() {
        // 2025-01-31 14:59:59 UTC = 23:59 JST.
        let t = days_from_civil(2025, 1, 31) * 86_400 + 14 * 3600 + 59 * 60 + 59;
        assert_eq!(receipt_date(t, 540), "2501312359");
        // The per-minute memo: another offset, the next minute, and back.
        assert_eq!(receipt_date(t, 0), "2501311459");
        assert_eq!(receipt_date(t + 1, 540), "2502010000");
        assert_eq!(receipt_date(t, 540), "2501312359");
        assert_eq!(smpp_absolute(t, 540), "250131235959036+");
    }

    #[test]
    fn absolute_time_with_offset_is_converted_to_utc() {
        let now = days_from_civil(2025, 1, 31) * 86_400 + 14 * 3600;
        // 23:59:59 JST is 59m59s after 14:00 UTC.
        assert_eq!(parse_smpp_time(b"250131235959036+", now), Ok(Some(Duration::from_secs(3599))));
        assert_eq!(parse_smpp_time(b"240101000000000+", now), Ok(Some(Duration::ZERO)));
    }

    #[test]
    fn relative_time_counts_days_and_hours() {
        assert_eq!(
            parse_smpp_time(b"000001020000000R", 0),
            Ok(Some(Duration::from_secs(86_400 + 7200)))
        );
    }

    #[test]
    fn out_of_range_fields_are_refused() {
        assert_eq!(parse_smpp_time(b"251331000000000+", 0), Err(BadTime));
        assert_eq!(parse_smpp_time(b"250230000000000+", 0), Err(BadTime));
        assert_eq!(parse_smpp_time(b"250101000000049+", 0), Err(BadTime));
        assert_eq!(parse_smpp_time(b"", 0), Ok(None));
    }
}
