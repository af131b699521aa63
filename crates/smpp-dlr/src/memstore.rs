//! [`MemoryStore`], the in-memory [`CorrelationStore`].
//!
//! Its size per entry is its speed: an ESME correlating hundreds of thousands of receipts a
//! second keeps up to `finalised_capacity` (250,000 by default) finalised entries for
//! duplicate detection, and while the store grows to that size the kernel zeroes every new
//! page. On the 2-core VM of docs/benchmarks.md that zeroing was a quarter of the ESME's CPU
//! time, so an entry is 64 octets, lives in fixed-size chunks (never copied by a growing
//! `Vec`), keeps the finalisation order in its own links (no separate queue), and has one
//! 8-octet index entry.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use compact_str::CompactString;

use crate::correlate::{CorrelationStore, Pending};
use crate::msgid::{read, IdKey, Reading};
use crate::receipt::MessageState;

/// An in-memory [`CorrelationStore`]. Lost on restart; entries for which no receipt ever comes
/// stay until [`CorrelationStore::take_by_id`] or [`CorrelationStore::purge_pending`] removes
/// them.
///
/// Built for the ESME's hot path (one insert per submit, one lookup per receipt): entries
/// live in a slab, and the indexes map hashes of the id's readings to slab slots, so a submit
/// costs no allocation for ids of up to 24 octets. A hash match is checked against the
/// entry's id before it is returned, so collisions cost time, never a wrong match.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Few accounts per process: a linear scan beats hashing the name.
    accounts: Vec<Account>,
    entries: Slab,
    /// Finalised entries, oldest finalisation first, so purging does not scan every entry.
    finalised: List,
    /// Times are kept as nanoseconds from this instant (the first one seen): 8 octets
    /// instead of an `Instant`'s 16.
    epoch: Option<Instant>,
    /// The slot [`CorrelationStore::find_by_key`] last handed out: the correlator finalises
    /// the entry it just found, and this saves hashing its id and probing the index again.
    /// Only a hint: it is checked against the entry's account and id before use.
    last_found: Cell<Option<u32>>,
}

#[derive(Debug)]
struct Account {
    name: Box<str>,
    /// Hash of each key an id is indexed under ([`IdHashes`]) → slots. One map serves
    /// both the key lookups and the exact-id lookups: every id is under its primary hash, so
    /// an exact lookup filters that one bucket.
    by_key: Index,
    len: usize,
    /// Entries without a final receipt yet.
    pending: usize,
}

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;

/// No account: a vacant slot's.
const NO_ACCOUNT: u16 = u16::MAX;

/// One submit. 64 octets: the id inline up to 24 octets, times as offsets from the store's
/// epoch, the links of the finalised list (or, while vacant, of the free list), and the
/// index key of the id's primary hash.
#[derive(Debug)]
struct Entry {
    message_id: CompactString,
    tag: u64,
    submitted_at: i64,
    finalised_at: i64,
    prev: u32,
    next: u32,
    /// The id's primary hash as the index keys it ([`Index`]): removing the entry finds its
    /// index slot without reading the id again as hex and decimal. Once the finalised list
    /// is full, every receipt removes its oldest entry, so that reading was per receipt.
    primary: u32,
    /// Index into `MemoryStore::accounts`; [`NO_ACCOUNT`] when the slot is vacant.
    account: u16,
    final_state: Option<MessageState>,
}

impl Entry {
    fn is_vacant(&self) -> bool {
        self.account == NO_ACCOUNT
    }

    /// Whether the id may also be indexed under a decimal hash ([`IdHashes`]): only an id
    /// too long for a hex reading is.
    fn may_have_decimal_key(&self) -> bool {
        self.message_id.len() > 16
    }
}

/// Entries in chunks of [`CHUNK`] that never move: growing costs one new chunk, not a copy of
/// every entry into a twice-as-large block of fresh pages.
#[derive(Debug, Default)]
struct Slab {
    chunks: Vec<Vec<Entry>>,
    /// Vacant slots, linked through `Entry::next`.
    free: u32,
    free_len: usize,
}

const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;

impl Slab {
    fn get(&self, slot: u32) -> &Entry {
        &self.chunks[(slot >> CHUNK_BITS) as usize][slot as usize & (CHUNK - 1)]
    }

    fn try_get(&self, slot: u32) -> Option<&Entry> {
        self.chunks.get((slot >> CHUNK_BITS) as usize)?.get(slot as usize & (CHUNK - 1))
    }

    fn get_mut(&mut self, slot: u32) -> &mut Entry {
        &mut self.chunks[(slot >> CHUNK_BITS) as usize][slot as usize & (CHUNK - 1)]
    }

    /// A slot for `entry`: a vacant one, else a new one.
    fn put(&mut self, entry: Entry) -> u32 {
        if self.free_len > 0 {
            let slot = self.free;
            let vacant = self.get_mut(slot);
            let next_free = vacant.next;
            *vacant = entry;
            self.free = next_free;
            self.free_len -= 1;
            return slot;
        }
        if self.chunks.last().map_or(true, |c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let slot = ((self.chunks.len() - 1) << CHUNK_BITS) | self.chunks.last().map_or(0, Vec::len);
        self.chunks.last_mut().expect("pushed above").push(entry);
        // u32::MAX is NIL (and the index's MANY): about 270 GB of entries before it is reached.
        u32::try_from(slot).ok().filter(|&s| s != NIL).expect("fewer than 2^32 - 1 entries")
    }

    /// Marks `slot` vacant and returns what it held.
    fn vacate(&mut self, slot: u32) -> Entry {
        let vacant = Entry {
            message_id: CompactString::default(),
            tag: 0,
            submitted_at: 0,
            finalised_at: 0,
            prev: NIL,
            next: if self.free_len > 0 { self.free } else { NIL },
            primary: 0,
            account: NO_ACCOUNT,
            final_state: None,
        };
        let entry = std::mem::replace(self.get_mut(slot), vacant);
        self.free = slot;
        self.free_len += 1;
        entry
    }

    /// The occupied slots, with their numbers.
    fn slots(&self) -> impl Iterator<Item = (u32, &Entry)> {
        let all = self.chunks.iter().flatten();
        all.enumerate().map(|(s, e)| (s as u32, e)).filter(|(_, e)| !e.is_vacant())
    }

    fn capacity(&self) -> u32 {
        u32::try_from(self.chunks.len() * CHUNK).unwrap_or(u32::MAX)
    }
}

/// A doubly linked list through `Entry::prev` / `Entry::next`.
#[derive(Debug)]
struct List {
    head: u32,
    tail: u32,
    len: usize,
}

impl Default for List {
    fn default() -> Self {
        Self { head: NIL, tail: NIL, len: 0 }
    }
}

impl List {
    fn push_back(&mut self, slab: &mut Slab, slot: u32) {
        let entry = slab.get_mut(slot);
        entry.prev = self.tail;
        entry.next = NIL;
        match self.tail {
            NIL => self.head = slot,
            tail => slab.get_mut(tail).next = slot,
        }
        self.tail = slot;
        self.len += 1;
    }

    fn unlink(&mut self, slab: &mut Slab, slot: u32) {
        let entry = slab.get_mut(slot);
        let (prev, next) = (entry.prev, entry.next);
        entry.prev = NIL;
        entry.next = NIL;
        match prev {
            NIL => self.head = next,
            p => slab.get_mut(p).next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => slab.get_mut(n).prev = prev,
        }
        self.len -= 1;
    }
}

/// Hash → slots. Nearly every hash has one slot, kept inline in an 8-octet map entry (a
/// `Vec` per hash doubled the map and its cache misses); the rare hash shared by several
/// slots points to `many`. The map keys are the low 32 bits of [`key_hash`]: ids that share
/// them only share a bucket, since every match is checked against the entry's id.
#[derive(Debug, Default)]
struct Index {
    one: HashMap<u32, u32, BuildPrehashed>,
    many: HashMap<u32, Vec<u32>, BuildPrehashed>,
}

/// In `one`: the slots are in `many`.
const MANY: u32 = u32::MAX;

impl Index {
    fn get(&self, hash: u64) -> &[u32] {
        let hash = hash as u32;
        match self.one.get(&hash) {
            None => &[],
            Some(&MANY) => self.many.get(&hash).map_or(&[], Vec::as_slice),
            Some(slot) => std::slice::from_ref(slot),
        }
    }

    fn add(&mut self, hash: u64, slot: u32) {
        use std::collections::hash_map::Entry;
        let hash = hash as u32;
        match self.one.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(slot);
            }
            Entry::Occupied(e) if *e.get() == MANY => self.many.entry(hash).or_default().push(slot),
            Entry::Occupied(mut e) => {
                let first = e.insert(MANY);
                self.many.insert(hash, vec![first, slot]);
            }
        }
    }

    fn remove(&mut self, hash: u64, slot: u32) {
        let hash = hash as u32;
        match self.one.get(&hash) {
            Some(&MANY) => {
                let Some(slots) = self.many.get_mut(&hash) else { return };
                slots.retain(|s| *s != slot);
                match slots.as_slice() {
                    [] => {
                        self.many.remove(&hash);
                        self.one.remove(&hash);
                    }
                    [last] => {
                        self.one.insert(hash, *last);
                        self.many.remove(&hash);
                    }
                    _ => {}
                }
            }
            Some(&s) if s == slot => {
                self.one.remove(&hash);
            }
            _ => {}
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.one.is_empty() && self.many.is_empty()
    }
}

/// The maps of [`Index`] are keyed by [`key_hash`] values, already spread over all their
/// bits: they are used as they are, not hashed again.
#[derive(Default, Clone, Copy)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        // Only u32 keys are hashed here; any other input is still folded in, never dropped.
        for &b in bytes {
            self.0 = spread(self.0 ^ u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        // The table picks a bucket with the low bits and tags it with the top 7: both come
        // from the key.
        self.0 = u64::from(n) << 32 | u64::from(n);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type BuildPrehashed = std::hash::BuildHasherDefault<Prehashed>;

/// murmur3's 64-bit finaliser: every input bit reaches every output bit, the low ones (which
/// pick a hash table's bucket) included.
fn spread(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Numbers that differ only in these low bits share their hash but for those bits, so they
/// sit in neighbouring buckets: SMSCs hand out message ids in sequence and receipts come
/// back in about the same order, so 8 submits or receipts in a row touch one or two cache
/// lines of the index instead of 8 (the misses on this index were the ESME's largest CPU
/// cost per receipt after the memory copies). A group holds at most 8 numbers, so ids
/// sharing other bits never pile up.
const NEIGHBOUR_BITS: u32 = 3;

/// The hash of an [`IdKey`]; for text, of its (already lower-cased) bytes.
fn key_hash(key: &IdKey) -> u64 {
    match key {
        IdKey::Text(t) => text_hash(t.bytes()),
        IdKey::Number(n) => {
            let low = (1 << NEIGHBOUR_BITS) - 1;
            (spread(2 ^ spread(n >> NEIGHBOUR_BITS)) & !low) | (n & low)
        }
    }
}

fn text_hash(bytes: impl Iterator<Item = u8>) -> u64 {
    spread(bytes.fold(1, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)))
}

/// The hashes an id is indexed under, reading it once as hex and once as decimal, without
/// allocating. With [`number_buckets`] they cover every key [`crate::msgid::index_keys`] gives
/// for the id.
///
/// The primary hash is where the id, and a [`IdKey::Text`] lookup of it, live: under its
/// hex reading when it has one, else under its lower-cased text. Ids equal but for case have
/// the same hex reading, so a text key needs no entry of its own when the hex one exists.
/// Nor does the decimal reading: an id that reads as decimal and as hex is all digits, and
/// its decimal number's digits read as hex give its hex number, so a decimal lookup also
/// looks there ([`number_buckets`]). Only an id too long for a hex reading (17 to 20 digits)
/// has a decimal entry. One index entry per submit instead of up to four: the ESME's CPU per
/// receipt is dominated by cache misses on this map, and its growth by fresh pages.
#[derive(Clone, Copy)]
struct IdHashes {
    primary: u64,
    decimal: Option<u64>,
}

impl IdHashes {
    fn of(id: &str) -> Self {
        let hex = read(id, Reading::Hex);
        let decimal = if hex.is_none() { read(id, Reading::Decimal) } else { None };
        Self {
            primary: primary_hash_read(id, hex.as_ref()),
            decimal: decimal.as_ref().map(key_hash),
        }
    }

    fn iter(self) -> impl Iterator<Item = u64> {
        std::iter::once(self.primary).chain(self.decimal)
    }
}

/// `id`'s primary hash (see [`IdHashes`]).
fn primary_hash(id: &str) -> u64 {
    primary_hash_read(id, read(id, Reading::Hex).as_ref())
}

/// [`primary_hash`] when `id`'s hex reading, `hex`, is already at hand.
fn primary_hash_read(id: &str, hex: Option<&IdKey>) -> u64 {
    match hex {
        Some(hex) => key_hash(hex),
        None => text_hash(id.bytes().map(|b| b.to_ascii_lowercase())),
    }
}

/// The buckets a number lookup reads: the number's own (hex readings, and decimal readings
/// of ids too long for hex), and that of the number its decimal digits make when read as hex
/// (decimal readings of ids that also read as hex; see [`IdHashes`]). One bucket when the
/// two coincide.
fn number_buckets(n: u64) -> impl Iterator<Item = u64> {
    let own = key_hash(&IdKey::Number(n));
    let as_hex = decimal_digits_as_hex(n).map(|m| key_hash(&IdKey::Number(m)));
    std::iter::once(own).chain(as_hex.filter(|&h| h as u32 != own as u32))
}

/// `n`'s decimal digits read as a hex number (`1234` → `0x1234`); `None` when they are more
/// than 16, which no `u64` holds.
fn decimal_digits_as_hex(mut n: u64) -> Option<u64> {
    if n >= 10_u64.pow(16) {
        return None;
    }
    let mut hex = 0;
    let mut shift = 0;
    loop {
        hex |= (n % 10) << shift;
        n /= 10;
        shift += 4;
        if n == 0 {
            return Some(hex);
        }
    }
}

/// Whether `id` reads as `key` under some reading (what `index_keys` would yield).
fn id_has_key(id: &str, key: &IdKey) -> bool {
    match key {
        IdKey::Text(t) => id.eq_ignore_ascii_case(t),
        IdKey::Number(_) => {
            read(id, Reading::Decimal).as_ref() == Some(key)
                || read(id, Reading::Hex).as_ref() == Some(key)
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn account_index(&self, account: &str) -> Option<usize> {
        self.accounts.iter().position(|a| &*a.name == account)
    }

    fn account_or_new(&mut self, account: &str) -> usize {
        self.account_index(account).unwrap_or_else(|| {
            // Accounts are a process's configured SMSC accounts, a handful: the limit is a
            // bug in the caller, never traffic.
            assert!(self.accounts.len() < usize::from(NO_ACCOUNT), "at most 65,534 accounts");
            self.accounts.push(Account {
                name: account.into(),
                by_key: Index::default(),
                len: 0,
                pending: 0,
            });
            self.accounts.len() - 1
        })
    }

    /// `at` as an offset from the epoch, fixing the epoch at the first call.
    fn offset(&mut self, at: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(at);
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        match at.checked_duration_since(epoch) {
            Some(after) => nanos(after),
            None => -nanos(epoch.duration_since(at)),
        }
    }

    /// The instant an offset stands for.
    fn instant(&self, offset: i64) -> Instant {
        let epoch = self.epoch.expect("an offset was taken");
        let d = Duration::from_nanos(offset.unsigned_abs());
        let at = if offset >= 0 { epoch.checked_add(d) } else { epoch.checked_sub(d) };
        at.unwrap_or(epoch)
    }

    /// `e` as the trait hands it out, with `message_id` (its own, cloned or moved out).
    fn pending_of(&self, e: &Entry, message_id: CompactString) -> Pending {
        Pending {
            message_id,
            tag: e.tag,
            submitted_at: self.instant(e.submitted_at),
            final_state: e.final_state,
            finalised_at: e.final_state.map(|_| self.instant(e.finalised_at)),
        }
    }

    /// The slot of `message_id` on account `a`, whose primary hash is `primary`.
    fn slot_under(&self, a: usize, primary: u64, message_id: &str) -> Option<u32> {
        let slots = self.accounts[a].by_key.get(primary);
        slots.iter().copied().find(|&s| self.entries.get(s).message_id == message_id)
    }

    fn slot_of(&self, account: &str, message_id: &str) -> Option<(usize, u32)> {
        let a = self.account_index(account)?;
        let hinted = self.last_found.get().filter(|&slot| {
            // A vacant slot's account is NO_ACCOUNT, never `a`.
            self.entries
                .try_get(slot)
                .is_some_and(|e| e.account as usize == a && e.message_id == message_id)
        });
        Some((a, hinted.or_else(|| self.slot_under(a, primary_hash(message_id), message_id))?))
    }

    /// Takes the entry in `slot` out of the slab, its account's index and the finalised list.
    fn remove(&mut self, slot: u32) -> Option<Pending> {
        let mut entry = self.take(slot)?;
        let message_id = std::mem::take(&mut entry.message_id);
        Some(self.pending_of(&entry, message_id))
    }

    /// [`MemoryStore::remove`] without making a [`Pending`] of the entry: purges drop it.
    fn take(&mut self, slot: u32) -> Option<Entry> {
        let entry = self.entries.get(slot);
        if entry.is_vacant() {
            return None;
        }
        let a = entry.account as usize;
        if entry.final_state.is_some() {
            self.finalised.unlink(&mut self.entries, slot);
        }
        let entry = self.entries.vacate(slot);
        let account = &mut self.accounts[a];
        account.by_key.remove(u64::from(entry.primary), slot);
        if entry.may_have_decimal_key() {
            if let Some(decimal) = IdHashes::of(&entry.message_id).decimal {
                account.by_key.remove(decimal, slot);
            }
        }
        account.len -= 1;
        if entry.final_state.is_none() {
            account.pending -= 1;
        }
        Some(entry)
    }

    /// Removes the entries without a final receipt submitted at or before `cutoff` (an
    /// offset); returns how many.
    fn purge_pending_submitted_by(&mut self, cutoff: i64) -> usize {
        let mut purged = 0;
        for slot in 0..self.entries.capacity() {
            let old = self.entries.try_get(slot).is_some_and(|e| {
                !e.is_vacant() && e.final_state.is_none() && e.submitted_at <= cutoff
            });
            if old && self.take(slot).is_some() {
                purged += 1;
            }
        }
        purged
    }

    /// Removes the oldest finalised entry; false when there is none.
    fn purge_oldest_finalised(&mut self) -> bool {
        match self.finalised.head {
            NIL => false,
            slot => self.take(slot).is_some(),
        }
    }

    /// Whether every index is empty (no id is findable).
    #[cfg(test)]
    fn indexes_are_empty(&self) -> bool {
        self.accounts.iter().all(|a| a.by_key.is_empty())
    }
}

impl CorrelationStore for MemoryStore {
    fn insert_submitted(&mut self, account: &str, message_id: &str, tag: u64, now: Instant) {
        let a = self.account_or_new(account);
        let hashes = IdHashes::of(message_id);
        if let Some(old) = self.slot_under(a, hashes.primary, message_id) {
            // An SMSC reusing ids: the newer submit replaces the older.
            self.take(old);
        }
        let submitted_at = self.offset(now);
        let slot = self.entries.put(Entry {
            message_id: CompactString::from(message_id),
            tag,
            submitted_at,
            finalised_at: 0,
            prev: NIL,
            next: NIL,
            primary: hashes.primary as u32,
            account: a as u16,
            final_state: None,
        });
        let account = &mut self.accounts[a];
        for h in hashes.iter() {
            account.by_key.add(h, slot);
        }
        account.len += 1;
        account.pending += 1;
    }

    fn find_by_key(&self, account: &str, key: &IdKey, visit: &mut dyn FnMut(Pending)) {
        let Some(a) = self.account_index(account) else { return };
        let index = &self.accounts[a].by_key;
        let mut visit_bucket = |bucket: u64| {
            for &slot in index.get(bucket) {
                let entry = self.entries.get(slot);
                if id_has_key(&entry.message_id, key) {
                    self.last_found.set(Some(slot));
                    visit(self.pending_of(entry, entry.message_id.clone()));
                }
            }
        };
        match key {
            // No id is findable by an empty key (see `index_keys`).
            IdKey::Text(t) if t.is_empty() => {}
            IdKey::Text(t) => visit_bucket(primary_hash(t)),
            IdKey::Number(n) => number_buckets(*n).for_each(visit_bucket),
        }
    }

    fn finalise(
        &mut self,
        account: &str,
        message_id: &str,
        state: MessageState,
        now: Instant,
    ) -> bool {
        let Some((a, slot)) = self.slot_of(account, message_id) else { return false };
        let finalised_at = self.offset(now);
        let entry = self.entries.get_mut(slot);
        let was_final = entry.final_state.replace(state).is_some();
        entry.finalised_at = finalised_at;
        if was_final {
            self.finalised.unlink(&mut self.entries, slot);
        } else {
            self.accounts[a].pending -= 1;
        }
        self.finalised.push_back(&mut self.entries, slot);
        true
    }

    fn take_by_id(&mut self, account: &str, message_id: &str) -> Option<Pending> {
        let (_, slot) = self.slot_of(account, message_id)?;
        self.remove(slot)
    }

    fn purge_finalised(&mut self, finalised_before: Instant) -> usize {
        let before = self.offset(finalised_before);
        let mut purged = 0;
        while self.finalised.head != NIL {
            if self.entries.get(self.finalised.head).finalised_at > before {
                break;
            }
            purged += usize::from(self.purge_oldest_finalised());
        }
        purged
    }

    fn oldest_finalised_at(&self) -> Option<Instant> {
        match self.finalised.head {
            NIL => None,
            head => Some(self.instant(self.entries.get(head).finalised_at)),
        }
    }

    fn purge_finalised_beyond(&mut self, keep: usize) -> usize {
        let mut purged = 0;
        while self.finalised.len > keep {
            purged += usize::from(self.purge_oldest_finalised());
        }
        purged
    }

    fn pending_len(&self) -> usize {
        self.accounts.iter().map(|a| a.pending).sum()
    }

    fn purge_pending(&mut self, submitted_before: Option<Instant>, keep: usize) -> usize {
        let mut purged = 0;
        if let Some(before) = submitted_before {
            let before = self.offset(before);
            purged += self.purge_pending_submitted_by(before);
        }
        let waiting = self.pending_len();
        if waiting > keep {
            // Down to 90% of `keep`: one sweep per tenth of the capacity, not per submit.
            let excess = waiting - keep + keep / 10;
            let mut times: Vec<i64> = self
                .entries
                .slots()
                .filter(|(_, e)| e.final_state.is_none())
                .map(|(_, e)| e.submitted_at)
                .collect();
            if let Some(nth) = excess.min(times.len()).checked_sub(1) {
                let (_, &mut cutoff, _) = times.select_nth_unstable(nth);
                purged += self.purge_pending_submitted_by(cutoff);
            }
        }
        purged
    }

    fn len(&self) -> usize {
        self.accounts.iter().map(|a| a.len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgid::index_keys;
    use proptest::prelude::*;

    const ACCOUNT: &str = "docomo-1";

    /// What `find_by_key` visits, collected.
    fn found(s: &MemoryStore, key: &IdKey) -> Vec<Pending> {
        let mut all = Vec::new();
        s.find_by_key(ACCOUNT, key, &mut |p| all.push(p));
        all
    }

    #[test]
    fn ids_in_sequence_hash_to_neighbouring_buckets_and_patterned_ids_spread() {
        use std::collections::HashSet;
        let bucket_bits = 16;
        let bucket = |n: u64| key_hash(&IdKey::Number(n)) & ((1 << bucket_bits) - 1);
        // Eight ids in a row: one group of neighbouring buckets.
        let base = 59_113_976;
        assert!((base..base + 8).all(|n| bucket(n) == (bucket(base) & !7) | (n & 7)));
        // Ids that share their low bits (multiples of 2^20) must not share buckets. Their
        // low 3 bits are 0, so 8,192 of the buckets can take them: placed at random, 4,096
        // ids fill about 3,220 (a hash of the low bits alone would put them all in one).
        let distinct: HashSet<u64> = (0..4096u64).map(|k| bucket(k << 20)).collect();
        assert!(distinct.len() > 3000, "only {} buckets for 4096 ids", distinct.len());
        // Nor groups in a row (8,192 places for a group here, so again about 3,220).
        let groups: HashSet<u64> = (0..4096u64).map(|g| bucket(g << 3) >> 3).collect();
        assert!(groups.len() > 3000, "only {} groups for 4096", groups.len());
    }

    #[test]
    fn ids_sharing_a_key_are_all_found_and_taken_out_one_by_one() {
        let t0 = Instant::now();
        let mut s = MemoryStore::new();
        // 10 is "10" read in decimal, "a" and "A" in hex, and "0a" too.
        for (tag, id) in [(1, "10"), (2, "a"), (3, "A"), (4, "0a"), (5, "16")] {
            s.insert_submitted(ACCOUNT, id, tag, t0);
        }
        let tags = |s: &MemoryStore, key: IdKey| {
            let mut t: Vec<u64> = found(s, &key).iter().map(|p| p.tag).collect();
            t.sort_unstable();
            t
        };
        assert_eq!(tags(&s, IdKey::Number(10)), [1, 2, 3, 4]);
        assert_eq!(tags(&s, IdKey::Text("a".into())), [2, 3]);
        assert_eq!(tags(&s, IdKey::Number(0x16)), [5]);
        assert_eq!(s.take_by_id(ACCOUNT, "A").map(|p| p.tag), Some(3));
        assert_eq!(tags(&s, IdKey::Text("a".into())), [2]);
        for id in ["a", "0a", "10"] {
            assert!(s.take_by_id(ACCOUNT, id).is_some(), "{id}");
        }
        assert_eq!(tags(&s, IdKey::Number(10)), [] as [u64; 0]);
        assert_eq!(tags(&s, IdKey::Number(16)), [5]);
        assert_eq!(s.take_by_id(ACCOUNT, "16").map(|p| p.tag), Some(5));
        assert!(s.indexes_are_empty());
    }

    #[test]
    fn memory_store_takes_entries_out_of_every_index() {
        let t0 = Instant::now();
        let mut s = MemoryStore::new();
        s.insert_submitted(ACCOUNT, "0059113978", 1, t0);
        assert_eq!(found(&s, &IdKey::Number(59113978)).len(), 1);
        assert_eq!(found(&s, &IdKey::Number(0x59113978)).len(), 1);
        assert_eq!(s.take_by_id(ACCOUNT, "0059113978").map(|p| p.tag), Some(1));
        assert!(found(&s, &IdKey::Number(59113978)).is_empty());
        assert!(found(&s, &IdKey::Text("0059113978".into())).is_empty());
        assert!(s.is_empty());
    }

    /// What a store must do, the simple way: entries in a `Vec`, finalisation order in
    /// another.
    #[derive(Default)]
    struct Model {
        entries: Vec<Pending>,
        finalised: Vec<String>,
    }

    impl Model {
        fn take(&mut self, id: &str) -> Option<Pending> {
            let at = self.entries.iter().position(|p| p.message_id == id)?;
            self.finalised.retain(|f| f != id);
            Some(self.entries.remove(at))
        }
        fn pop_oldest_finalised(&mut self) {
            let id = self.finalised.remove(0);
            self.take(&id);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize, i64),
        Finalise(usize, i64),
        Take(usize),
        PurgeFinalised(i64),
        PurgeFinalisedBeyond(usize),
        PurgePendingBefore(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Few ids, so that they are reused, finalised twice and taken from the middle of
        // the finalised list; times before and after the first one seen (the epoch).
        let id = 0..12usize;
        let ms = -5_000i64..5_000;
        prop_oneof![
            4 => (id.clone(), ms.clone()).prop_map(|(i, t)| Op::Insert(i, t)),
            3 => (id.clone(), ms.clone()).prop_map(|(i, t)| Op::Finalise(i, t)),
            1 => id.prop_map(Op::Take),
            1 => ms.clone().prop_map(Op::PurgeFinalised),
            1 => (0..6usize).prop_map(Op::PurgeFinalisedBeyond),
            1 => ms.prop_map(Op::PurgePendingBefore),
        ]
    }

    fn at(base: Instant, ms: i64) -> Instant {
        let d = Duration::from_millis(ms.unsigned_abs());
        if ms >= 0 {
            base + d
        } else {
            base - d
        }
    }

    proptest! {
        /// Any sequence of operations leaves the store holding what the model holds, with
        /// the same times, and purging in the same finalisation order.
        #[test]
        fn memory_store_behaves_like_the_model(ops in prop::collection::vec(op(), 1..80)) {
            let base = Instant::now() + Duration::from_secs(10);
            let ids: Vec<String> = (0..12).map(|i| format!("{:x}", 0x5000 + i * 7)).collect();
            let (mut s, mut m) = (MemoryStore::new(), Model::default());
            for (n, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert(i, t) => {
                        s.insert_submitted(ACCOUNT, &ids[i], n as u64, at(base, t));
                        m.take(&ids[i]);
                        m.entries.push(Pending {
                            message_id: ids[i].as_str().into(),
                            tag: n as u64,
                            submitted_at: at(base, t),
                            final_state: None,
                            finalised_at: None,
                        });
                    }
                    Op::Finalise(i, t) => {
                        let state = MessageState::DELIVERED;
                        let done = s.finalise(ACCOUNT, &ids[i], state, at(base, t));
                        let entry = m.entries.iter_mut().find(|p| p.message_id == ids[i]);
                        prop_assert_eq!(done, entry.is_some());
                        if let Some(p) = entry {
                            p.final_state = Some(state);
                            p.finalised_at = Some(at(base, t));
                            m.finalised.retain(|f| *f != ids[i]);
                            m.finalised.push(ids[i].clone());
                        }
                    }
                    Op::Take(i) => prop_assert_eq!(s.take_by_id(ACCOUNT, &ids[i]), m.take(&ids[i])),
                    Op::PurgeFinalised(t) => {
                        let mut purged = 0;
                        while let Some(first) = m.finalised.first() {
                            let p = m.entries.iter().find(|p| p.message_id == *first).unwrap();
                            if p.finalised_at.unwrap() > at(base, t) {
                                break;
                            }
                            m.pop_oldest_finalised();
                            purged += 1;
                        }
                        prop_assert_eq!(s.purge_finalised(at(base, t)), purged);
                    }
                    Op::PurgeFinalisedBeyond(keep) => {
                        let purged = m.finalised.len().saturating_sub(keep);
                        (0..purged).for_each(|_| m.pop_oldest_finalised());
                        prop_assert_eq!(s.purge_finalised_beyond(keep), purged);
                    }
                    Op::PurgePendingBefore(t) => {
                        let before = m.entries.len();
                        m.entries.retain(|p| p.final_state.is_some() || p.submitted_at > at(base, t));
                        let purged = s.purge_pending(Some(at(base, t)), usize::MAX);
                        prop_assert_eq!(purged, before - m.entries.len());
                    }
                }
                prop_assert_eq!(s.len(), m.entries.len());
                let waiting = m.entries.iter().filter(|p| p.final_state.is_none()).count();
                prop_assert_eq!(s.pending_len(), waiting);
                for id in &ids {
                    let want: Vec<Pending> = m.entries.iter().filter(|p| p.message_id == *id).cloned().collect();
                    prop_assert_eq!(found(&s, &IdKey::Text(id.as_str().into())), want);
                }
            }
        }
    }

    #[test]
    fn an_entry_is_64_octets() {
        // The store's memory, and the kernel's page zeroing as it grows, scale with this.
        assert_eq!(std::mem::size_of::<Entry>(), 64);
    }

    #[test]
    fn slots_are_reused_across_chunks_and_every_entry_stays_findable() {
        let t0 = Instant::now();
        let mut s = MemoryStore::new();
        let n = 3 * CHUNK as u64 + 5;
        for tag in 0..n {
            s.insert_submitted(ACCOUNT, &tag.to_string(), tag, t0);
        }
        for tag in (0..n).step_by(3) {
            assert_eq!(s.take_by_id(ACCOUNT, &tag.to_string()).map(|p| p.tag), Some(tag));
        }
        let chunks = s.entries.chunks.len();
        for tag in (0..n).step_by(3) {
            s.insert_submitted(ACCOUNT, &format!("again-{tag}"), tag, t0);
        }
        assert_eq!(s.entries.chunks.len(), chunks, "vacant slots were not reused");
        for tag in 0..n {
            let id = if tag % 3 == 0 { format!("again-{tag}") } else { tag.to_string() };
            let hits = found(&s, &IdKey::Text(id.as_str().into()));
            assert_eq!(hits.iter().map(|p| p.tag).collect::<Vec<_>>(), [tag], "{id}");
        }
        assert_eq!(s.len(), n as usize);
    }

    proptest! {
        /// The store's merged index: every key `index_keys` gives finds the entry (and only
        /// entries that have that key, each once), an exact-id lookup is case-exact, and
        /// taking an entry leaves no trace in the index.
        #[test]
        fn memory_store_finds_every_key_of_every_id(ids in prop::collection::vec("[0-9a-fA-Fg-zG-Z]{0,22}", 1..30)) {
            finds_every_key_of_every_id(ids)?;
        }

        /// The same for ids of digits only, from 1 to 23 of them: under 17 significant
        /// digits the decimal reading is found through the hex bucket, above through an entry
        /// of its own.
        #[test]
        fn memory_store_finds_digit_ids_by_both_readings(ids in prop::collection::vec("0{0,3}[0-9]{1,20}", 1..30)) {
            finds_every_key_of_every_id(ids)?;
        }

        /// Short ids, where one id's decimal reading is often another's hex reading.
        #[test]
        fn memory_store_finds_short_ids_across_readings(ids in prop::collection::vec("[0-9a-f]{1,3}", 1..60)) {
            finds_every_key_of_every_id(ids)?;
        }
    }

    fn finds_every_key_of_every_id(ids: Vec<String>) -> Result<(), TestCaseError> {
        let t0 = Instant::now();
        let mut s = MemoryStore::new();
        let mut unique: Vec<&String> = Vec::new();
        for id in &ids {
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        for (tag, id) in unique.iter().enumerate() {
            s.insert_submitted(ACCOUNT, id, tag as u64, t0);
        }
        for (tag, id) in unique.iter().enumerate() {
            for key in index_keys(id) {
                let found = found(&s, &key);
                prop_assert!(
                    found.iter().any(|p| p.tag == tag as u64),
                    "{} not found by {:?}",
                    id,
                    key
                );
                let having = unique.iter().filter(|u| index_keys(u).any(|k| k == key)).count();
                prop_assert_eq!(found.len(), having, "{:?} found {:?}", key, found);
            }
            let flipped = if id.to_ascii_uppercase() != **id {
                id.to_ascii_uppercase()
            } else {
                id.to_ascii_lowercase()
            };
            if flipped != **id && !unique.contains(&&flipped) {
                prop_assert!(
                    s.take_by_id(ACCOUNT, &flipped).is_none(),
                    "exact lookup ignored case"
                );
            }
        }
        for (tag, id) in unique.iter().enumerate() {
            prop_assert_eq!(s.take_by_id(ACCOUNT, id).map(|p| p.tag), Some(tag as u64));
        }
        prop_assert!(s.is_empty());
        prop_assert!(s.indexes_are_empty());
        Ok(())
    }

    #[test]
    fn decimal_digits_read_as_hex() {
        assert_eq!(decimal_digits_as_hex(0), Some(0));
        assert_eq!(decimal_digits_as_hex(59_113_978), Some(0x5911_3978));
        assert_eq!(decimal_digits_as_hex(9_999_999_999_999_999), Some(0x9999_9999_9999_9999));
        assert_eq!(decimal_digits_as_hex(10_000_000_000_000_000), None);
    }
}
