//! The daemon's only clock. The store and the policy take times as arguments; this is where
//! they come from.

use smppd_store::Millis;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// `2026-11-23T08:00:00.123Z`.
pub fn rfc3339(ms: Millis) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Parses an RFC 3339 time with an offset (`2026-11-22T22:30:00+09:00`).
pub fn parse_rfc3339(s: &str) -> Result<Millis, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time with an offset ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_rfc3339() {
        let t = parse_rfc3339("2026-11-22T22:30:00+09:00").unwrap();
        assert_eq!(rfc3339(t), "2026-11-22T13:30:00Z");
        assert!(parse_rfc3339("2026-11-22 22:30").is_err());
    }
}
