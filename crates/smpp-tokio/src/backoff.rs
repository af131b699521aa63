//! Reconnect backoff: exponential with jitter, reset after a healthy period, and a slow lane
//! for binds the SMSC refused on credentials (retrying those fast locks accounts).

use std::time::Duration;

/// Reconnect policy. Defaults suit a carrier SMSC: 1 s doubling to 60 s, reset after 5 minutes
/// bound, credential refusals retried every 10 minutes.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffConfig {
    /// First delay.
    pub min: Duration,
    /// Largest delay.
    pub max: Duration,
    /// A bind that stayed healthy this long resets the delay to `min`.
    pub reset_after: Duration,
    /// Delay after ESME_RINVPASWD / ESME_RINVSYSID, whatever the attempt count.
    pub auth_failure: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(1),
            max: Duration::from_secs(60),
            reset_after: Duration::from_secs(300),
            auth_failure: Duration::from_secs(600),
        }
    }
}

/// Tracks consecutive failures and hands out delays.
#[derive(Clone, Debug)]
pub struct Backoff {
    config: BackoffConfig,
    failures: u32,
}

impl Backoff {
    /// A fresh backoff.
    pub fn new(config: BackoffConfig) -> Self {
        Self { config, failures: 0 }
    }

    /// The delay before the next attempt after a failure; `jitter` in `[0, 1)` spreads
    /// reconnects of many binds (the delay is scaled into `[d/2, d)`).
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let exp = self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let base = self.config.min.saturating_mul(1u32 << exp).min(self.config.max);
        base.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// The delay after a credential refusal.
    pub fn auth_failure_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.config.auth_failure
    }

    /// Call when a bind ends after being healthy for `bound_for`.
    pub fn bound_for(&mut self, bound_for: Duration) {
        if bound_for >= self.config.reset_after {
            self.failures = 0;
        }
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_maximum() {
        let mut b = Backoff::new(BackoffConfig::default());
        let delays: Vec<u64> = (0..9).map(|_| b.next_delay(0.998).as_secs()).collect();
        assert_eq!(delays, [0, 1, 3, 7, 15, 31, 59, 59, 59]);
    }

    #[test]
    fn jitter_keeps_delay_between_half_and_full() {
        let mut b = Backoff::new(BackoffConfig::default());
        b.failures = 3;
        let low = b.clone().next_delay(0.0);
        let high = b.next_delay(0.999);
        assert_eq!(low, Duration::from_secs(4));
        assert!(high > Duration::from_millis(7900) && high < Duration::from_secs(8));
    }

    #[test]
    fn healthy_period_resets() {
        let mut b = Backoff::new(BackoffConfig::default());
        b.next_delay(0.5);
        b.next_delay(0.5);
        b.bound_for(Duration::from_secs(10));
        assert_eq!(b.failures(), 2);
        b.bound_for(Duration::from_secs(301));
        assert_eq!(b.failures(), 0);
    }

    #[test]
    fn credential_refusal_waits_long() {
        let mut b = Backoff::new(BackoffConfig::default());
        assert_eq!(b.auth_failure_delay(), Duration::from_secs(600));
    }
}
