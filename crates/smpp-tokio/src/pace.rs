//! Exact pacing to a contracted rate (credit-card-sms.md: 40,000/hour ≈ 11.1/s per account).
//!
//! A GCRA scheduler ("virtual scheduling"): every PDU has a theoretical send time, each one
//! `1/rate` after the previous. With no burst allowance the sends are spaced exactly, so no
//! half-open one-second window holds more than `ceil(rate)` PDUs, and a sender that is always
//! backlogged runs at `rate` in the long run. The clock is passed in, as everywhere below
//! `smpp-tokio`'s drivers.
//!
//! Worked example at 2/s with no burst: sends may go at t = 0, 0.5, 1.0, 1.5 s. A caller that
//! was idle until t = 10 sends at 10.0, 10.5, ...: idle time earns no credit beyond the burst.

use std::time::{Duration, Instant};

/// Paces PDUs to a rate in PDUs per second (fractional rates allowed).
#[derive(Clone, Debug)]
pub struct Pacer {
    interval: Duration,
    burst: Duration,
    /// Theoretical time of the next send; `None` before the first.
    next: Option<Instant>,
}

impl Pacer {
    /// A pacer at `per_second` (> 0) allowing `burst` extra PDUs ahead of schedule (0 for exact
    /// spacing). `None` when the rate is not a positive finite number.
    pub fn new(per_second: f64, burst: u32) -> Option<Self> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return None;
        }
        let interval = Duration::from_secs_f64(1.0 / per_second);
        Some(Self { interval, burst: interval * burst, next: None })
    }

    /// The spacing between two PDUs.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the next PDU may go: `now` or later.
    pub fn ready_at(&self, now: Instant) -> Instant {
        match self.next {
            None => now,
            Some(next) => next.checked_sub(self.burst).map_or(now, |t| t.max(now)),
        }
    }

    /// Records a PDU sent at `now` (call only once `ready_at(now) <= now`).
    pub fn sent(&mut self, now: Instant) {
        let base = match self.next {
            // Behind schedule by more than the burst: restart the schedule from now, so idle
            // time does not turn into a burst.
            Some(next) if next + self.burst >= now => next,
            _ => now,
        };
        self.next = Some(base.max(now.checked_sub(self.burst).unwrap_or(now)) + self.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rate: f64, seconds: u64) -> Vec<Duration> {
        let t0 = Instant::now();
        let mut p = Pacer::new(rate, 0).unwrap();
        let mut now = t0;
        let mut sends = Vec::new();
        while now < t0 + Duration::from_secs(seconds) {
            now = p.ready_at(now);
            if now >= t0 + Duration::from_secs(seconds) {
                break;
            }
            p.sent(now);
            sends.push(now - t0);
        }
        sends
    }

    fn max_in_any_window(sends: &[Duration], window: Duration) -> usize {
        let mut best = 0;
        let mut lo = 0;
        for hi in 0..sends.len() {
            while sends[hi] - sends[lo] >= window {
                lo += 1;
            }
            best = best.max(hi - lo + 1);
        }
        best
    }

    #[test]
    fn contract_rate_of_40000_per_hour_is_kept_exactly() {
        let rate = 40_000.0 / 3600.0;
        let sends = run(rate, 3600);
        assert!((sends.len() as f64 - 40_000.0).abs() <= 1.0, "{}", sends.len());
        assert!(max_in_any_window(&sends, Duration::from_secs(1)) <= 12);
    }

    #[test]
    fn no_one_second_window_exceeds_an_integer_rate() {
        let sends = run(50.0, 30);
        assert_eq!(max_in_any_window(&sends, Duration::from_secs(1)), 50);
        assert_eq!(sends.len(), 1500);
    }

    #[test]
    fn idle_time_earns_no_burst() {
        let t0 = Instant::now();
        let mut p = Pacer::new(2.0, 0).unwrap();
        p.sent(t0);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(p.ready_at(later), later);
        p.sent(later);
        assert_eq!(p.ready_at(later), later + Duration::from_millis(500));
    }

    #[test]
    fn burst_allows_that_many_early() {
        let t0 = Instant::now();
        let mut p = Pacer::new(1.0, 2).unwrap();
        for _ in 0..3 {
            assert_eq!(p.ready_at(t0), t0);
            p.sent(t0);
        }
        assert!(p.ready_at(t0) > t0);
    }

    #[test]
    fn rejects_non_positive_rates() {
        assert!(Pacer::new(0.0, 0).is_none());
        assert!(Pacer::new(f64::NAN, 0).is_none());
        assert!(Pacer::new(-1.0, 0).is_none());
    }
}
