//! Timers as data: one enum, one table (smpp34.md §8.6; quinn-proto's `connection/timer.rs`).
//!
//! The session never reads a clock. Each timer is a deadline stored here; the driver asks
//! [`crate::Session::poll_timeout`] for the earliest one and calls
//! [`crate::Session::handle_timeout`] when it passes. Per-request response deadlines are kept
//! in the window's send-order queue (see `window.rs`) rather than here, because there are up to
//! `window` of them.

use std::time::Instant;

use smpp_codec::SequenceNumber;

/// A timer the session runs (smpp34.md §8.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// response_timer of one request we sent: on expiry the request fails with
    /// [`crate::Event::ResponseTimeout`] and frees its window slot.
    Response(SequenceNumber),
    /// enquire_link_timer: nothing was received for the interval, so an enquire_link is sent;
    /// while one is outstanding this holds its response deadline, and expiry closes the
    /// session ([`crate::CloseReason::EnquireLinkTimeout`]).
    EnquireLink,
    /// inactivity_timer: no PDU other than enquire_link(_resp) in either direction; closes.
    Inactivity,
    /// session_init_timer (SMSC role): no successful bind since the connection opened; closes.
    SessionInit,
    /// ESME role: our bind got no bind_resp in time; closes.
    Bind,
    /// Our unbind got no unbind_resp in time; closes.
    Unbind,
}

/// The timers with one deadline each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fixed {
    EnquireLink = 0,
    Inactivity = 1,
    SessionInit = 2,
    Bind = 3,
    Unbind = 4,
}

impl Fixed {
    const ALL: [Fixed; 5] =
        [Fixed::EnquireLink, Fixed::Inactivity, Fixed::SessionInit, Fixed::Bind, Fixed::Unbind];
}

impl From<Fixed> for Timer {
    fn from(f: Fixed) -> Timer {
        match f {
            Fixed::EnquireLink => Timer::EnquireLink,
            Fixed::Inactivity => Timer::Inactivity,
            Fixed::SessionInit => Timer::SessionInit,
            Fixed::Bind => Timer::Bind,
            Fixed::Unbind => Timer::Unbind,
        }
    }
}

/// One optional deadline per [`Fixed`] timer; `None` means stopped.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerTable {
    data: [Option<Instant>; 5],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Fixed, deadline: Instant) {
        self.data[timer as usize] = Some(deadline);
    }

    pub(crate) fn stop(&mut self, timer: Fixed) {
        self.data[timer as usize] = None;
    }

    pub(crate) fn get(&self, timer: Fixed) -> Option<Instant> {
        self.data[timer as usize]
    }

    pub(crate) fn clear(&mut self) {
        self.data = Default::default();
    }

    /// The earliest running timer.
    pub(crate) fn next(&self) -> Option<(Fixed, Instant)> {
        Fixed::ALL.iter().filter_map(|&t| self.get(t).map(|d| (t, d))).min_by_key(|&(_, d)| d)
    }

    /// Stops and returns one timer whose deadline is at or before `now`, earliest first.
    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<Fixed> {
        let (t, d) = self.next()?;
        if d > now {
            return None;
        }
        self.stop(t);
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn next_is_the_earliest_running_timer() {
        let t0 = Instant::now();
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Fixed::Inactivity, t0 + Duration::from_secs(5));
        t.set(Fixed::EnquireLink, t0 + Duration::from_secs(3));
        assert_eq!(t.next(), Some((Fixed::EnquireLink, t0 + Duration::from_secs(3))));
        assert_eq!(t.take_expired(t0 + Duration::from_secs(2)), None);
        assert_eq!(t.take_expired(t0 + Duration::from_secs(9)), Some(Fixed::EnquireLink));
        assert_eq!(t.take_expired(t0 + Duration::from_secs(9)), Some(Fixed::Inactivity));
        assert_eq!(t.take_expired(t0 + Duration::from_secs(9)), None);
    }
}
