//! Requests we sent that await their response: the window, sequence allocation and the
//! per-request response deadlines (smpp34.md §8.2, §8.5).

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use smpp_codec::{CommandId, SequenceNumber};

use crate::event::Unacked;
use crate::seqhash::BuildSeqHasher;
use crate::state::BindKind;

/// Who sent a pending request, and so who gets its response.
#[derive(Debug)]
pub(crate) enum Origin<T> {
    /// The caller, via `send_request`; holds a window permit.
    User(T),
    /// Our bind (ESME role).
    Bind(BindKind),
    /// Our keep-alive.
    EnquireLink,
    /// Our unbind.
    Unbind,
}

/// One request awaiting its response.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) command: CommandId,
    pub(crate) origin: Origin<T>,
    pub(crate) sent_at: Instant,
    /// Unique per request for the session's lifetime; tells a deadline record for this
    /// request from one left behind by an earlier request with the same sequence number.
    serial: u64,
}

/// The pending-request table.
///
/// Invariants (checked by `debug_check` in tests):
/// 1. `in_flight` is the number of `Origin::User` entries in `map`, and is at most the
///    configured window (the session checks before `insert_user`). Internal requests (bind,
///    enquire_link, unbind) are in `map` but hold no permit.
/// 2. Every `User` entry has exactly one *live* record in `deadlines`: same sequence number and
///    same serial. Records whose entry has gone (answered, timed out) are *stale*.
/// 3. `deadlines` is in send order. The response timeout is fixed and `now` never goes back, so
///    send order is deadline order and the first live record is the earliest deadline.
/// 4. The front record is live, or `deadlines` is empty: stale records are popped off the front
///    whenever an entry is removed. Stale records further back are dropped in one sweep once
///    they outnumber the live ones (plus 32), which keeps the queue O(window) and each
///    removal amortised O(1).
/// 5. Keys of `map` are distinct; `allocate` skips numbers still in `map`, so a number that
///    wrapped round (after 0x7FFFFFFF comes 1) never collides with a request still waiting.
///    `map` holds at most window + 3 entries, far fewer than the 2^31 - 1 numbers, so the
///    skip loop ends.
///
/// Worked example: window 3, response timeout 30 s, times in seconds from the start.
///
/// ```text
/// t=0   send submit A   seq 1  map {1:A}          deadlines [(30,1)]          in_flight 1
/// t=1   send submit B   seq 2  map {1:A,2:B}      deadlines [(30,1),(31,2)]   in_flight 2
/// t=2   enquire_link    seq 3  map {1:A,2:B,3:EL} deadlines unchanged         in_flight 2
/// t=3   resp to seq 1          map {2:B,3:EL}     front (30,1) stale, popped:
///                                                 deadlines [(31,2)]          in_flight 1
/// t=4   enquire_link_resp      map {2:B}
/// t=31  handle_timeout         B fails (ResponseTimeout), map {}, deadlines [], in_flight 0
/// ```
#[derive(Debug)]
pub(crate) struct Window<T> {
    map: HashMap<u32, Entry<T>, BuildSeqHasher>,
    deadlines: VecDeque<(Instant, u32, u64)>,
    in_flight: usize,
    next_seq: SequenceNumber,
    next_serial: u64,
}

impl<T> Window<T> {
    pub(crate) fn new(first: SequenceNumber) -> Self {
        Self {
            map: HashMap::default(),
            deadlines: VecDeque::new(),
            in_flight: 0,
            next_seq: first,
            next_serial: 0,
        }
    }

    /// User requests awaiting a response.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// A sequence number not in use, advancing 1..=0x7FFFFFFF with wrap (smpp34.md §8.2).
    pub(crate) fn allocate(&mut self) -> SequenceNumber {
        loop {
            let seq = self.next_seq;
            self.next_seq = seq.next();
            if !self.map.contains_key(&seq.get()) {
                return seq;
            }
        }
    }

    pub(crate) fn get(&self, seq: u32) -> Option<&Entry<T>> {
        self.map.get(&seq)
    }

    /// Records a caller's request, which holds a window permit until it is removed.
    pub(crate) fn insert_user(
        &mut self,
        seq: SequenceNumber,
        command: CommandId,
        tag: T,
        now: Instant,
        deadline: Instant,
    ) {
        let serial = self.insert(seq, command, Origin::User(tag), now);
        self.in_flight += 1;
        self.deadlines.push_back((deadline, seq.get(), serial));
    }

    /// Records one of the session's own requests (bind, enquire_link, unbind); these hold no
    /// permit and are timed by the fixed timer table.
    pub(crate) fn insert_internal(
        &mut self,
        seq: SequenceNumber,
        command: CommandId,
        origin: Origin<T>,
        now: Instant,
    ) {
        debug_assert!(!matches!(origin, Origin::User(_)), "use insert_user");
        self.insert(seq, command, origin, now);
    }

    fn insert(
        &mut self,
        seq: SequenceNumber,
        command: CommandId,
        origin: Origin<T>,
        now: Instant,
    ) -> u64 {
        let serial = self.next_serial;
        self.next_serial += 1;
        let entry = Entry { command, origin, sent_at: now, serial };
        let old = self.map.insert(seq.get(), entry);
        debug_assert!(old.is_none(), "allocate() skips numbers in use");
        serial
    }

    /// Removes the entry for `seq`, keeping invariants 1 and 4.
    pub(crate) fn remove(&mut self, seq: u32) -> Option<Entry<T>> {
        let entry = self.map.remove(&seq)?;
        if let Origin::User(_) = entry.origin {
            self.in_flight -= 1;
            self.prune();
        }
        Some(entry)
    }

    /// The earliest response deadline of a user request.
    pub(crate) fn next_deadline(&self) -> Option<(Instant, SequenceNumber)> {
        let &(d, seq, _) = self.deadlines.front()?;
        // Invariant 4: the front is live, and its number came from `allocate`.
        Some((d, SequenceNumber::new(seq).ok()?))
    }

    /// Removes and returns the user request with the earliest deadline if it is due.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(SequenceNumber, Entry<T>)> {
        let (d, seq) = self.next_deadline()?;
        if d > now {
            return None;
        }
        let entry = self.remove(seq.get())?;
        Some((seq, entry))
    }

    /// Empties the table, handing back the user requests in the order they were sent.
    pub(crate) fn drain_unacked(&mut self) -> Vec<Unacked<T>> {
        let mut entries: Vec<(u32, Entry<T>)> = self.map.drain().collect();
        entries.sort_by_key(|(_, e)| e.serial);
        self.deadlines.clear();
        self.in_flight = 0;
        entries
            .into_iter()
            .filter_map(|(seq, e)| match e.origin {
                Origin::User(tag) => Some(Unacked {
                    tag,
                    command_id: e.command,
                    sequence_number: SequenceNumber::new(seq).ok()?,
                    sent_at: e.sent_at,
                }),
                _ => None,
            })
            .collect()
    }

    fn is_live(&self, seq: u32, serial: u64) -> bool {
        self.map.get(&seq).is_some_and(|e| e.serial == serial)
    }

    fn prune(&mut self) {
        while let Some(&(_, seq, serial)) = self.deadlines.front() {
            if self.is_live(seq, serial) {
                break;
            }
            self.deadlines.pop_front();
        }
        if self.deadlines.len() > 2 * self.in_flight + 32 {
            let map = &self.map;
            self.deadlines
                .retain(|&(_, seq, serial)| map.get(&seq).is_some_and(|e| e.serial == serial));
        }
    }

    #[cfg(test)]
    pub(crate) fn debug_check(&self) {
        let users = self.map.values().filter(|e| matches!(e.origin, Origin::User(_))).count();
        assert_eq!(users, self.in_flight, "invariant 1");
        let live = self.deadlines.iter().filter(|&&(_, s, n)| self.is_live(s, n)).count();
        assert_eq!(live, self.in_flight, "invariant 2");
        assert!(
            self.deadlines.iter().zip(self.deadlines.iter().skip(1)).all(|(a, b)| a.0 <= b.0),
            "invariant 3"
        );
        if let Some(&(_, s, n)) = self.deadlines.front() {
            assert!(self.is_live(s, n), "invariant 4");
        }
        assert!(self.deadlines.len() <= 2 * self.in_flight + 33, "invariant 4");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn seq(n: u32) -> SequenceNumber {
        SequenceNumber::new(n).unwrap()
    }

    #[test]
    fn allocation_wraps_to_one_and_skips_numbers_still_pending() {
        let t0 = Instant::now();
        let mut w: Window<u32> = Window::new(SequenceNumber::MAX);
        w.insert_user(seq(1), CommandId::SUBMIT_SM, 1, t0, t0);
        w.insert_internal(seq(2), CommandId::ENQUIRE_LINK, Origin::EnquireLink, t0);
        assert_eq!(w.allocate(), SequenceNumber::MAX);
        assert_eq!(w.allocate(), seq(3));
        w.remove(1);
        assert_eq!(w.allocate(), seq(4));
    }

    #[test]
    fn the_worked_example_holds() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut w: Window<char> = Window::new(SequenceNumber::FIRST);
        let a = w.allocate();
        w.insert_user(a, CommandId::SUBMIT_SM, 'A', t0, t0 + s(30));
        let b = w.allocate();
        w.insert_user(b, CommandId::SUBMIT_SM, 'B', t0, t0 + s(31));
        let el = w.allocate();
        w.insert_internal(el, CommandId::ENQUIRE_LINK, Origin::EnquireLink, t0);
        assert_eq!((a.get(), b.get(), el.get()), (1, 2, 3));
        assert_eq!(w.in_flight(), 2);
        w.debug_check();
        assert!(w.remove(1).is_some());
        assert_eq!(w.next_deadline(), Some((t0 + s(31), b)));
        w.debug_check();
        assert!(w.remove(3).is_some());
        assert!(w.pop_expired(t0 + s(30)).is_none());
        let (seq, entry) = w.pop_expired(t0 + s(31)).unwrap();
        assert_eq!(seq, b);
        assert!(matches!(entry.origin, Origin::User('B')));
        assert_eq!(w.in_flight(), 0);
        assert_eq!(w.next_deadline(), None);
        w.debug_check();
    }

    #[test]
    fn a_stuck_request_does_not_let_stale_deadlines_pile_up() {
        let t0 = Instant::now();
        let mut w: Window<u32> = Window::new(SequenceNumber::FIRST);
        let stuck = w.allocate();
        w.insert_user(stuck, CommandId::SUBMIT_SM, 0, t0, t0);
        for i in 1..10_000u32 {
            let s = w.allocate();
            w.insert_user(s, CommandId::SUBMIT_SM, i, t0, t0);
            w.remove(s.get());
            w.debug_check();
        }
        assert_eq!(w.next_deadline(), Some((t0, stuck)));
    }

    #[test]
    fn drain_hands_back_user_requests_in_send_order() {
        let t0 = Instant::now();
        let mut w: Window<&str> = Window::new(SequenceNumber::MAX);
        for tag in ["a", "b", "c"] {
            let s = w.allocate();
            w.insert_user(s, CommandId::SUBMIT_SM, tag, t0, t0);
        }
        let s = w.allocate();
        w.insert_internal(s, CommandId::UNBIND, Origin::Unbind, t0);
        let tags: Vec<_> = w.drain_unacked().into_iter().map(|u| u.tag).collect();
        assert_eq!(tags, ["a", "b", "c"]);
        assert_eq!(w.in_flight(), 0);
        w.debug_check();
    }
}
