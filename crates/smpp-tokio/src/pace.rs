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

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Largest rate for which the one-second window is also enforced exactly (the window keeps
/// one timestamp per PDU of the last second).
const MAX_WINDOWED_RATE: f64 = 100_000.0;

/// Paces PDUs to a rate in PDUs per second (fractional rates allowed).
#[derive(Clone, Debug)]
pub struct Pacer {
    interval: Duration,
    burst: Duration,
    /// Theoretical time of the next send; `None` before the first.
    next: Option<Instant>,
    /// Send times within the last second, at most `cap` of them.
    recent: VecDeque<Instant>,
    /// Most PDUs in any one-second window: `ceil(rate) + burst`; 0 = not enforced.
    cap: usize,
}

impl Pacer {
    /// A pacer at `per_second` (> 0) allowing `burst` extra PDUs ahead of schedule (0 for exact
    /// spacing). `None` when the rate is not a positive finite number.
    pub fn new(per_second: f64, burst: u32) -> Option<Self> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return None;
        }
        let interval = Duration::from_secs_f64(1.0 / per_second);
        let cap = if per_second <= MAX_WINDOWED_RATE {
            per_second.ceil() as usize + burst as usize
        } else {
            0
        };
        Some(Self { interval, burst: interval * burst, next: None, recent: VecDeque::new(), cap })
    }

    /// The spacing between two PDUs.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the next PDU may go: `now` or later.
    pub fn ready_at(&self, now: Instant) -> Instant {
        let scheduled = match self.next {
            None => now,
            Some(next) => next.checked_sub(self.burst).map_or(now, |t| t.max(now)),
        };
        match self.recent.front() {
            // The window is full: the oldest send must leave it first.
            Some(&oldest) if self.cap > 0 && self.recent.len() >= self.cap => {
                scheduled.max(oldest + Duration::from_secs(1))
            }
            _ => scheduled,
        }
    }

    /// Records a PDU sent at `now` (call only once `ready_at(now) <= now`).
    pub fn sent(&mut self, now: Instant) {
        let base = match self.next {
            None => now.checked_sub(self.burst).unwrap_or(now),
            // On time, or woken a little late by the timer: keep the schedule, so the
            // lateness is caught up and the long-run rate stays exact.
            Some(next) if now <= next + self.interval => next,
            // Idle for a while: restart the schedule; idle time earns only `burst`.
            Some(_) => now.checked_sub(self.burst).unwrap_or(now),
        };
        self.next = Some(base + self.interval);
        if self.cap > 0 {
            while self
                .recent
                .front()
                .is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1))
            {
                self.recent.pop_front();
            }
            self.recent.push_back(now);
        }
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
    fn late_timer_wakeups_do_not_lower_the_rate_or_break_the_window() {
        // A real timer wakes us up to a millisecond late; the rate must still be 50/s, and no
        // one-second window may hold more than 50.
        let t0 = Instant::now();
        let mut p = Pacer::new(50.0, 0).unwrap();
        let mut now = t0;
        let mut sends = Vec::new();
        for i in 0..1500u64 {
            now = p.ready_at(now) + Duration::from_micros(200 + (i * 7919) % 900);
            p.sent(now);
            sends.push(now - t0);
        }
        let span = (sends[1499] - sends[0]).as_secs_f64();
        let rate = 1499.0 / span;
        assert!((rate - 50.0).abs() / 50.0 < 0.01, "long-run rate {rate}");
        assert!(max_in_any_window(&sends, Duration::from_secs(1)) <= 50);
    }

    #[test]
    fn rejects_non_positive_rates() {
        assert!(Pacer::new(0.0, 0).is_none());
        assert!(Pacer::new(f64::NAN, 0).is_none());
        assert!(Pacer::new(-1.0, 0).is_none());
    }
}
