//! The daemon's only clock. The store and the policy take times as arguments; this is where
//! they come from. The running daemon reads [`crate::app::App::now`], a [`Clock`] chosen at
//! start: [`SystemClock`] in production, a [`ManualClock`] in tests of quiet hours and
//! deadlines (see `Daemon::start_with_clock`). Timers (polls, retries, timeouts) stay on
//! tokio's real time either way.

use std::sync::atomic::{AtomicI64, Ordering};

use smppd_store::Millis;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Where the daemon's "now" comes from.
pub trait Clock: Send + Sync + 'static {
    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
}

/// The host's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        now_ms()
    }
}

/// A clock that moves only when told to: a test sets it to 22:30 JST, checks that a dunning
/// reminder is held, and sets it to 08:00 to see it released.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Millis) -> Self {
        Self(AtomicI64::new(start))
    }

    /// Shows `t` from now on.
    pub fn set(&self, t: Millis) {
        self.0.store(t, Ordering::SeqCst);
    }

    /// Moves forward by `ms`.
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

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
    fn a_manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(500);
        assert_eq!(c.now_ms(), 1_500);
        c.set(10);
        assert_eq!(c.now_ms(), 10);
    }

    #[test]
    fn round_trips_through_rfc3339() {
        let t = parse_rfc3339("2026-11-22T22:30:00+09:00").unwrap();
        assert_eq!(rfc3339(t), "2026-11-22T13:30:00Z");
        assert!(parse_rfc3339("2026-11-22 22:30").is_err());
    }
}
