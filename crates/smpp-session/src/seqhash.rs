//! A hasher for maps keyed by numbers we hand out ourselves (sequence numbers, request ids).

use std::hash::{BuildHasherDefault, Hasher};

/// Fibonacci hashing of one integer key: a multiply instead of SipHash's rounds, which were a
/// visible share of the ESME's CPU per PDU (two lookups per request). Safe from hash flooding
/// here because only keys we allocated are inserted; a peer's sequence numbers are only
/// looked up. Consecutive keys land in consecutive-stride buckets, so they do not collide.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The `BuildHasher` for [`SeqHasher`]: `HashMap<u32, V, BuildSeqHasher>`.
pub type BuildSeqHasher = BuildHasherDefault<SeqHasher>;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn consecutive_keys_spread_over_the_buckets_of_a_small_table() {
        use std::hash::BuildHasher;
        let build = BuildSeqHasher::default();
        let mut buckets = [0u32; 64];
        for n in 0u32..6400 {
            buckets[(build.hash_one(n) & 63) as usize] += 1;
        }
        assert!(buckets.iter().all(|&b| b == 100), "{buckets:?}");
    }

    #[test]
    fn a_map_keyed_by_it_behaves_like_any_map() {
        let mut map: HashMap<u32, u32, BuildSeqHasher> = HashMap::default();
        for n in 1..=10_000 {
            map.insert(n, n * 2);
        }
        for n in (1..=10_000).step_by(2) {
            assert_eq!(map.remove(&n), Some(n * 2));
        }
        assert_eq!(map.len(), 5_000);
        assert!((2..=10_000).step_by(2).all(|n| map[&n] == n * 2));
    }
}
