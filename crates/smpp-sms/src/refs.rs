//! Concatenation reference numbers that rotate per destination.
//!
//! smpp34.md §10.2: the reference is the same in every part of one message and
//! should differ between concurrent messages to the same handset, otherwise the
//! handset may mix their parts.
//!
//! Design: a per-destination counter map with a bounded size.
//! - Each destination remembers the next reference to hand out; successive
//!   messages to one destination get consecutive references, so the low octet (the
//!   8-bit reference) repeats only after 256 messages to that destination and the
//!   16-bit reference after 65 536.
//! - A destination seen for the first time (or again after eviction) starts at
//!   `hash(destination) XOR global counter`, the counter advancing for each new
//!   entry, so a returning destination does not restart at the same value and
//!   different handsets do not march in lockstep.
//! - When the map is full, the least recently used destination is evicted. A
//!   collision is then possible only for a destination that was evicted while it
//!   still had a long message in flight and is given the same start by chance.
//!
//! Pure: no clock and no randomness; the same calls give the same references.

use std::collections::{BTreeMap, HashMap};

/// Hands out concatenation references per destination. See the module docs.
#[derive(Debug, Clone)]
pub struct ReferenceAllocator {
    capacity: usize,
    /// destination → (next reference, last-use tick)
    entries: HashMap<String, (u16, u64)>,
    /// last-use tick → destination, for least-recently-used eviction
    by_use: BTreeMap<u64, String>,
    tick: u64,
    new_entries: u16,
}

impl ReferenceAllocator {
    /// Default bound on remembered destinations.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// An allocator that remembers at most `capacity` destinations (at least 1).
    pub fn new(capacity: usize) -> ReferenceAllocator {
        ReferenceAllocator {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            tick: 0,
            new_entries: 0,
        }
    }

    /// The reference to use for the next long message to `destination`. Use the
    /// whole value for a 16-bit UDH or SAR, its low octet for an 8-bit UDH
    /// ([`crate::segment()`] does this).
    ///
    /// ```
    /// let mut refs = smpp_sms::ReferenceAllocator::default();
    /// let a = refs.next("+819012345678");
    /// let b = refs.next("+819012345678");
    /// assert_eq!(b, a.wrapping_add(1));
    /// ```
    pub fn next(&mut self, destination: &str) -> u16 {
        self.tick += 1;
        let tick = self.tick;
        if let Some((next, last_use)) = self.entries.get_mut(destination) {
            let reference = *next;
            *next = next.wrapping_add(1);
            self.by_use.remove(last_use);
            *last_use = tick;
            self.by_use.insert(tick, destination.to_owned());
            return reference;
        }
        if self.entries.len() >= self.capacity {
            if let Some((_, oldest)) = self.by_use.pop_first() {
                self.entries.remove(&oldest);
            }
        }
        let reference = fnv16(destination) ^ self.new_entries.wrapping_mul(0x9E37);
        self.new_entries = self.new_entries.wrapping_add(1);
        self.entries.insert(destination.to_owned(), (reference.wrapping_add(1), tick));
        self.by_use.insert(tick, destination.to_owned());
        reference
    }

    /// Number of destinations currently remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no destination is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Default for ReferenceAllocator {
    fn default() -> Self {
        ReferenceAllocator::new(Self::DEFAULT_CAPACITY)
    }
}

/// FNV-1a folded to 16 bits: stable across runs and platforms.
fn fnv16(s: &str) -> u16 {
    let mut h: u32 = 0x811C_9DC5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    ((h >> 16) ^ (h & 0xFFFF)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn consecutive_messages_to_one_handset_get_distinct_8bit_references() {
        let mut refs = ReferenceAllocator::default();
        let low: HashSet<u8> =
            (0..256).map(|_| refs.next("+819011112222").to_be_bytes()[1]).collect();
        assert_eq!(low.len(), 256);
    }

    #[test]
    fn interleaved_destinations_each_rotate_independently() {
        let mut refs = ReferenceAllocator::default();
        let a1 = refs.next("a");
        let b1 = refs.next("b");
        let a2 = refs.next("a");
        let b2 = refs.next("b");
        assert_eq!(a2, a1.wrapping_add(1));
        assert_eq!(b2, b1.wrapping_add(1));
    }

    #[test]
    fn map_is_bounded_and_evicts_least_recently_used() {
        let mut refs = ReferenceAllocator::new(2);
        let a1 = refs.next("a");
        refs.next("b");
        refs.next("a"); // a is now more recent than b
        refs.next("c"); // evicts b
        assert_eq!(refs.len(), 2);
        assert_eq!(refs.next("a"), a1.wrapping_add(2));
        refs.next("b"); // b returns, evicting c
        assert_eq!(refs.len(), 2);
    }

    #[test]
    fn returning_destination_does_not_restart_at_same_reference() {
        let mut refs = ReferenceAllocator::new(1);
        let first = refs.next("a");
        refs.next("b"); // evicts a
        let again = refs.next("a"); // evicts b, a starts afresh
        assert_ne!(first, again);
    }

    #[test]
    fn allocation_is_deterministic() {
        let mut x = ReferenceAllocator::default();
        let mut y = ReferenceAllocator::default();
        for d in ["1", "2", "1", "3"] {
            assert_eq!(x.next(d), y.next(d));
        }
    }
}
