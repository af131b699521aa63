//! Receipt ↔ submit correlation.
//!
//! A [`Correlator`] is told about every accepted submit (the message_id of its submit_sm_resp
//! plus the caller's tag) and every parsed [`Receipt`], and answers with an [`Outcome`] for
//! each receipt: matched to a submit, a duplicate of a final receipt already seen, held
//! because its submit_sm_resp has not been recorded yet ("early", smpp34.md §9.3 last row: the
//! receipt travels on the RX session and can overtake the resp on the TX session), or
//! unmatched. Nothing is dropped silently: a held receipt that is not matched within the
//! timeout, or that is pushed out of the full buffer, comes back as [`Unmatched`].
//!
//! Submits live in a [`CorrelationStore`]; [`MemoryStore`] keeps them in memory, a daemon can
//! plug in a durable one. Time is passed in as `now`; the correlator never reads a clock.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use compact_str::CompactString;

use crate::msgid::{
    index_keys, pairs_to_try, read, reads_as, IdKey, IdNormaliser, IdSource, ReadingPair,
};
use crate::receipt::{MessageState, Receipt};

/// A submit waiting for (or having had) its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The message_id from the submit_sm_resp, as sent.
    pub message_id: CompactString,
    /// The caller's tag for the submit.
    pub tag: u64,
    /// When the submit was recorded.
    pub submitted_at: Instant,
    /// The state of the final receipt, once one has been matched.
    pub final_state: Option<MessageState>,
    /// When the final receipt was matched.
    pub finalised_at: Option<Instant>,
}

/// Where submits are kept until their receipts arrive.
///
/// An implementation keeps one namespace per carrier account (message ids are only unique
/// within one SMSC) and must find an entry by every key [`crate::msgid::index_keys`] yields for
/// its message_id. Finalised entries are kept (for duplicate detection) until
/// [`CorrelationStore::purge_finalised`] removes them.
pub trait CorrelationStore {
    /// Records a submit. A second submit with the same `message_id` on the same account (an
    /// SMSC reusing ids) replaces the first.
    fn insert_submitted(&mut self, account: &str, message_id: &str, tag: u64, now: Instant);

    /// Calls `visit` with every entry of `account` indexed under `key`, pending or
    /// finalised, each given as its own value (the caller keeps the one it picks without a
    /// second copy). A visitor rather than a `Vec`: this runs once per receipt, and nearly
    /// always finds one entry.
    fn find_by_key(&self, account: &str, key: &IdKey, visit: &mut dyn FnMut(Pending));

    /// Marks the entry with exactly this `message_id` as finalised. Returns `false` if there is
    /// no such entry.
    fn finalise(
        &mut self,
        account: &str,
        message_id: &str,
        state: MessageState,
        now: Instant,
    ) -> bool;

    /// Removes and returns the entry with exactly this `message_id`.
    fn take_by_id(&mut self, account: &str, message_id: &str) -> Option<Pending>;

    /// Removes entries finalised at or before `finalised_before`; returns how many.
    fn purge_finalised(&mut self, finalised_before: Instant) -> usize;

    /// When the oldest entry still kept was finalised, if any: the correlator calls
    /// [`CorrelationStore::purge_finalised`] only once that entry is due, not per receipt.
    fn oldest_finalised_at(&self) -> Option<Instant>;

    /// Removes the oldest finalised entries until at most `keep` remain; returns how many
    /// it removed.
    fn purge_finalised_beyond(&mut self, keep: usize) -> usize;

    /// Entries still waiting for their final receipt.
    fn pending_len(&self) -> usize;

    /// Forgets entries still waiting for their final receipt: those submitted at or before
    /// `submitted_before`, then the oldest until at most `keep` wait (it may go a little
    /// lower, so that a full store is not swept on every submit). Returns how many.
    fn purge_pending(&mut self, submitted_before: Option<Instant>, keep: usize) -> usize;

    /// Number of entries, pending and finalised.
    fn len(&self) -> usize;

    /// Whether [`CorrelationStore::len`] is 0.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub use crate::memstore::MemoryStore;

/// [`Correlator`] settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelatorConfig {
    early_capacity: usize,
    early_timeout: Duration,
    cross_reading_after: Duration,
    text_id_format: Option<ReadingPair>,
    learn_after: u32,
    finalised_retention: Duration,
    finalised_capacity: usize,
    pending_retention: Duration,
    pending_capacity: usize,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        Self {
            early_capacity: 10_000,
            early_timeout: Duration::from_secs(30),
            cross_reading_after: Duration::from_secs(5),
            text_id_format: None,
            learn_after: 2,
            finalised_retention: Duration::from_secs(60),
            finalised_capacity: 250_000,
            pending_retention: Duration::from_secs(72 * 3600),
            pending_capacity: 1_000_000,
        }
    }
}

impl CorrelatorConfig {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many receipts may wait for their submit_sm_resp at once, over all accounts.
    ///
    /// Default 10 000. When full, the oldest held receipt is reported as
    /// [`UnmatchedReason::Evicted`]. 0 turns holding off: a receipt without a match is
    /// reported unmatched at once.
    pub fn early_capacity(&mut self, value: usize) -> &mut Self {
        self.early_capacity = value;
        self
    }

    /// How long a receipt waits for its submit_sm_resp before it is reported as
    /// [`UnmatchedReason::Timeout`].
    ///
    /// Default 30 s: the race is usually milliseconds, but a resp can take up to the
    /// response timeout of the TX session. Longer also catches receipts for submits that are
    /// recorded late (after a restart), at the cost of buffer space.
    pub fn early_timeout(&mut self, value: Duration) -> &mut Self {
        self.early_timeout = value;
        self
    }

    /// How long a held receipt waits before a cross reading of its id (hex↔decimal) may
    /// match it, on an account where no same-reading pair is learned. Default 5 s.
    ///
    /// Until then an early receipt (`29`, its resp not recorded yet) could meet another
    /// message's id read across bases (hex `29` is decimal `41`). Longer is safer against slow
    /// resps; shorter correlates a carrier that writes ids in two bases sooner until two such
    /// matches teach its format (after that, at once). Capped by `early_timeout`.
    pub fn cross_reading_after(&mut self, value: Duration) -> &mut Self {
        self.cross_reading_after = value;
        self
    }

    /// How the id in a receipt's text reads against the submit_sm_resp id, when it is known
    /// (the carrier's documentation, or [`ReadingPair::from_name`]`("hex_resp_decimal_receipt")`).
    /// Default none: learned from the first matches. Set, no receipt waits for
    /// `cross_reading_after`. The receipted_message_id TLV is still learned on its own.
    pub fn text_id_format(&mut self, value: Option<ReadingPair>) -> &mut Self {
        self.text_id_format = value;
        self
    }

    /// How many matches settle an account's id relationship (see [`IdNormaliser`]). Default 2.
    pub fn learn_after(&mut self, value: u32) -> &mut Self {
        self.learn_after = value;
        self
    }

    /// How long a finalised submit is kept so that a repeated final receipt is recognised as
    /// [`Outcome::Duplicate`]. Default 60 s, which covers an SMSC resending a deliver_sm whose
    /// deliver_sm_resp it did not see. Memory grows with rate × retention; a duplicate arriving
    /// later is reported as unmatched instead.
    pub fn finalised_retention(&mut self, value: Duration) -> &mut Self {
        self.finalised_retention = value;
        self
    }

    /// At most this many finalised submits are kept for duplicate detection, the oldest
    /// going first: memory stays bounded at any rate (at 100,000 receipts/s, 60 s would be
    /// six million entries). Default 250,000, about 60 s at 4,000 receipts/s.
    pub fn finalised_capacity(&mut self, value: usize) -> &mut Self {
        self.finalised_capacity = value;
        self
    }

    /// How long a submit waits for its final receipt before it is forgotten (counted in
    /// [`Counters::forgotten`]; a receipt after that is reported unmatched). Default 72 h,
    /// the longest validity period carriers accept.
    pub fn pending_retention(&mut self, value: Duration) -> &mut Self {
        self.pending_retention = value;
        self
    }

    /// At most this many submits wait for their final receipt; beyond it the oldest are
    /// forgotten (counted in [`Counters::forgotten`]), so receipts an SMSC never sends do not
    /// grow memory without end. Default 1,000,000.
    pub fn pending_capacity(&mut self, value: usize) -> &mut Self {
        self.pending_capacity = value.max(1);
        self
    }
}

/// Counts of what happened to receipts; they only grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Receipts matched to a submit (including early ones matched later).
    pub matched: u64,
    /// Receipts that arrived before their submit was recorded and were held.
    pub early: u64,
    /// Receipts for a submit whose final receipt had already been matched.
    pub duplicate: u64,
    /// Receipts reported as [`Unmatched`], for any reason (so including `evicted`).
    pub unmatched: u64,
    /// Held receipts pushed out because the early buffer was full.
    pub evicted: u64,
    /// Submits forgotten without a final receipt: past `pending_retention`, or beyond
    /// `pending_capacity`.
    pub forgotten: u64,
}

/// A receipt matched to its submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The submit's message_id, as the submit_sm_resp gave it.
    pub message_id: CompactString,
    /// The caller's tag for the submit.
    pub tag: u64,
    /// When the submit was recorded.
    pub submitted_at: Instant,
    /// When the receipt was handed to the correlator.
    pub received_at: Instant,
    /// Whether the receipt was held waiting for its submit_sm_resp.
    pub was_early: bool,
    /// The receipt.
    pub receipt: Receipt,
}

/// Why a receipt could not be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnmatchedReason {
    /// No submit was recorded within the early timeout.
    Timeout,
    /// The early buffer was full (or disabled) and this was its oldest receipt.
    Evicted,
    /// The receipt has no id to match on.
    NoId,
}

/// A receipt that could not be matched to any submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// The carrier account the receipt arrived on.
    pub account: String,
    /// When the receipt was handed to the correlator.
    pub received_at: Instant,
    /// Why it is reported.
    pub reason: UnmatchedReason,
    /// The receipt.
    pub receipt: Receipt,
}

/// What became of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Matched to a submit. If the receipt was final, the submit is finalised; if not, it
    /// stays pending so the final receipt still matches.
    Matched(Box<Matched>),
    /// The submit's final receipt had already been matched.
    Duplicate(Box<Matched>),
    /// Held until the submit is recorded ([`Correlator::record_submit`] then returns it as
    /// matched) or the timeout passes ([`Correlator::poll_expired`] returns it). Holding it
    /// may have pushed out the oldest held receipt, which is returned here.
    Early {
        /// The receipt pushed out of the full buffer, if any.
        evicted: Option<Box<Unmatched>>,
    },
    /// Not matched, and not held.
    Unmatched(Box<Unmatched>),
}

struct EarlyEntry {
    account: String,
    receipt: Receipt,
    received_at: Instant,
    deadline: Instant,
    keys: Vec<IdKey>,
}

/// A receipt's match; the receipt id is the receipt's own for `source`.
struct Found {
    pending: Pending,
    source: IdSource,
    pair: ReadingPair,
}

/// Matches receipts to submits, per carrier account. See the [module docs](self).
///
/// `now` must not go backwards between calls (an [`Instant`] from one clock does not).
pub struct Correlator<S: CorrelationStore> {
    store: S,
    config: CorrelatorConfig,
    /// Per account. Few accounts per process: a scan beats hashing the name three times per
    /// receipt.
    normalisers: Vec<(Box<str>, IdNormaliser)>,
    /// Held receipts by arrival; with a fixed timeout, arrival order is deadline order.
    early: BTreeMap<u64, EarlyEntry>,
    early_index: HashMap<String, HashMap<IdKey, Vec<u64>>>,
    /// Held receipts with a smaller seq have had their cross-reading look.
    cross_checked: u64,
    next_seq: u64,
    counters: Counters,
    /// When the next sweep of submits waiting in vain is due.
    next_pending_sweep: Option<Instant>,
    /// When the oldest finalised entry passes `finalised_retention`; `None` while none is
    /// kept. Instant arithmetic and the store's purge cost about 300 instructions, and most
    /// receipts have nothing to purge.
    finalised_purge_due: Option<Instant>,
}

impl<S: CorrelationStore + std::fmt::Debug> std::fmt::Debug for Correlator<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("store", &self.store)
            .field("config", &self.config)
            .field("early", &self.early.len())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// The ids of a receipt, TLV first (smpp34.md §9.3: "Prefer receipted_message_id"); the text
/// id is still tried when the TLV finds nothing, in case one of them is garbage.
fn receipt_ids(receipt: &Receipt) -> impl Iterator<Item = (IdSource, &str)> {
    let tlv = receipt.id_tlv.as_deref();
    let text = receipt.id_text.as_deref().filter(|t| Some(*t) != tlv);
    tlv.map(|id| (IdSource::Tlv, id)).into_iter().chain(text.map(|id| (IdSource::Text, id)))
}

impl<S: CorrelationStore> Correlator<S> {
    /// A correlator over `store`.
    pub fn new(store: S, config: CorrelatorConfig) -> Self {
        Self {
            store,
            config,
            normalisers: Vec::new(),
            early: BTreeMap::new(),
            early_index: HashMap::new(),
            cross_checked: 0,
            next_seq: 0,
            counters: Counters::default(),
            next_pending_sweep: None,
            finalised_purge_due: None,
        }
    }

    /// Records a submit: `message_id` from its submit_sm_resp, `tag` the caller's reference.
    ///
    /// Returns the outcomes of held receipts that this submit matches (usually none), in
    /// arrival order.
    pub fn record_submit(
        &mut self,
        account: &str,
        message_id: &str,
        tag: u64,
        now: Instant,
    ) -> Vec<Outcome> {
        self.store.insert_submitted(account, message_id, tag, now);
        if self.store.pending_len() > self.config.pending_capacity {
            self.counters.forgotten +=
                self.store.purge_pending(None, self.config.pending_capacity) as u64;
        }
        // Nearly always nothing is held: no need to hash the account's name.
        if self.early_index.is_empty() {
            return Vec::new();
        }
        let Some(index) = self.early_index.get(account) else {
            return Vec::new();
        };
        let mut seqs: Vec<u64> =
            index_keys(message_id).filter_map(|key| index.get(&key)).flatten().copied().collect();
        if seqs.is_empty() {
            return Vec::new();
        }
        seqs.sort_unstable();
        seqs.dedup();

        let mut pending = Pending {
            message_id: CompactString::from(message_id),
            tag,
            submitted_at: now,
            final_state: None,
            finalised_at: None,
        };
        let mut outcomes = Vec::new();
        for seq in seqs {
            let entry = &self.early[&seq];
            let relation = receipt_ids(&entry.receipt).find_map(|(source, rid)| {
                let readable = |p: ReadingPair| {
                    read(rid, p.receipt).is_some() && read(message_id, p.submit).is_some()
                };
                pairs_to_try(self.known(account, source), readable)
                    .find(|pair| pair.relates(message_id, rid))
                    .map(|pair| (source, pair))
            });
            let Some((source, pair)) = relation else {
                continue;
            };
            let entry = self.remove_early(seq);
            let found = Found { pending: pending.clone(), source, pair };
            let outcome = self.apply(account, found, entry.receipt, entry.received_at, true, now);
            if let Outcome::Matched(m) = &outcome {
                if m.receipt.is_final {
                    pending.final_state = Some(m.receipt.state);
                    pending.finalised_at = Some(now);
                }
            }
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Matches a receipt that arrived on `account` at `now`.
    ///
    /// The caller hands the outcome on (to the application or a durable queue) before
    /// answering the deliver_sm. Note that an [`Outcome::Early`] receipt is held in memory
    /// only.
    pub fn handle_receipt(&mut self, account: &str, receipt: Receipt, now: Instant) -> Outcome {
        if receipt_ids(&receipt).next().is_none() {
            self.counters.unmatched += 1;
            return Outcome::Unmatched(Box::new(Unmatched {
                account: account.to_owned(),
                received_at: now,
                reason: UnmatchedReason::NoId,
                receipt,
            }));
        }
        match self.find_match(account, &receipt) {
            Some(found) => self.apply(account, found, receipt, now, false, now),
            None => self.hold(account, receipt, now),
        }
    }

    /// Settles held receipts whose timeout has passed, oldest first, and purges finalised
    /// submits older than the retention.
    ///
    /// A receipt that only a cross reading of its id (hex↔decimal) explains is matched here,
    /// once it has waited [`CorrelatorConfig::cross_reading_after`], as long as no
    /// same-reading pair is learned for the account: that is
    /// how a carrier writing ids in two bases is learned without letting an early receipt
    /// resolve another message. Those come back as [`Outcome::Matched`] (or
    /// [`Outcome::Duplicate`]) with `was_early`; the rest as [`Outcome::Unmatched`] with
    /// [`UnmatchedReason::Timeout`].
    ///
    /// Call it at [`Correlator::next_timeout`], or periodically.
    pub fn poll_expired(&mut self, now: Instant) -> Vec<Outcome> {
        let mut settled = self.match_across(now);
        while let Some((&seq, entry)) = self.early.first_key_value() {
            if entry.deadline > now {
                break;
            }
            let entry = self.remove_early(seq);
            self.counters.unmatched += 1;
            settled.push(Outcome::Unmatched(Box::new(Unmatched {
                account: entry.account,
                received_at: entry.received_at,
                reason: UnmatchedReason::Timeout,
                receipt: entry.receipt,
            })));
        }
        self.purge_finalised(now);
        self.sweep_pending(now);
        settled
    }

    /// Forgets finalised entries older than `finalised_retention`, when the oldest is due.
    /// (With `now` going backwards between calls, an entry may be kept a little longer.)
    fn purge_finalised(&mut self, now: Instant) {
        if self.finalised_purge_due.map_or(true, |due| now < due) {
            return;
        }
        let retention = self.config.finalised_retention;
        if let Some(before) = now.checked_sub(retention) {
            self.store.purge_finalised(before);
        }
        self.finalised_purge_due =
            self.store.oldest_finalised_at().and_then(|at| at.checked_add(retention));
    }

    /// At most once a minute: forgets submits that waited `pending_retention` in vain. A scan
    /// of the store, so not on every call.
    fn sweep_pending(&mut self, now: Instant) {
        const EVERY: Duration = Duration::from_secs(60);
        if self.next_pending_sweep.is_some_and(|due| now < due) {
            return;
        }
        self.next_pending_sweep = now.checked_add(EVERY);
        let before = now.checked_sub(self.config.pending_retention);
        if before.is_some() {
            self.counters.forgotten +=
                self.store.purge_pending(before, self.config.pending_capacity) as u64;
        }
    }

    /// Gives each held receipt that has waited `cross_reading_after` its one look under the
    /// cross readings (see [`Correlator::poll_expired`]).
    fn match_across(&mut self, now: Instant) -> Vec<Outcome> {
        let mut settled = Vec::new();
        while let Some((&seq, entry)) = self.early.range(self.cross_checked..).next() {
            if self.cross_due(entry) > now {
                break;
            }
            self.cross_checked = seq + 1;
            if let Some(found) = self.find_across(&entry.account, &entry.receipt) {
                let entry = self.remove_early(seq);
                let outcome =
                    self.apply(&entry.account, found, entry.receipt, entry.received_at, true, now);
                settled.push(outcome);
            }
        }
        settled
    }

    fn cross_due(&self, entry: &EarlyEntry) -> Instant {
        (entry.received_at + self.config.cross_reading_after).min(entry.deadline)
    }

    /// When [`Correlator::poll_expired`] has something to do next (a held receipt's cross
    /// reading look or its timeout), if any receipt is held.
    pub fn next_timeout(&self) -> Option<Instant> {
        let timeout = self.early.first_key_value().map(|(_, e)| e.deadline);
        let cross = self.early.range(self.cross_checked..).next().map(|(_, e)| self.cross_due(e));
        timeout.into_iter().chain(cross).min()
    }

    /// How many receipts are held waiting for their submit_sm_resp.
    pub fn early_len(&self) -> usize {
        self.early.len()
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// What has been learned about an account's ids, if it has seen a receipt.
    pub fn normaliser(&self, account: &str) -> Option<&IdNormaliser> {
        self.normalisers.iter().find(|(a, _)| **a == *account).map(|(_, n)| n)
    }

    fn normaliser_mut(&mut self, account: &str) -> &mut IdNormaliser {
        let at = match self.normalisers.iter().position(|(a, _)| **a == *account) {
            Some(at) => at,
            None => {
                let fresh = IdNormaliser::new(self.config.learn_after);
                self.normalisers.push((account.into(), fresh));
                self.normalisers.len() - 1
            }
        };
        &mut self.normalisers[at].1
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (for example to remove submits that will never get a receipt).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The settings.
    pub fn config(&self) -> &CorrelatorConfig {
        &self.config
    }

    /// How `account`'s ids from `source` relate: learned, or configured for receipt texts
    /// ([`CorrelatorConfig::text_id_format`]).
    fn known(&self, account: &str, source: IdSource) -> Option<ReadingPair> {
        let learned = self.normaliser(account).and_then(|n| n.learned(source));
        let configured = self.config.text_id_format.filter(|_| source == IdSource::Text);
        learned.map(|l| l.pair).or(configured)
    }

    fn find_match(&self, account: &str, receipt: &Receipt) -> Option<Found> {
        receipt_ids(receipt).find_map(|(source, receipt_id)| {
            let readable = |p: ReadingPair| read(receipt_id, p.receipt).is_some();
            let pairs = pairs_to_try(self.known(account, source), readable);
            self.find_under(account, pairs, source, receipt_id)
        })
    }

    /// The submit that `receipt_id` names under the first of `pairs` that names any.
    fn find_under(
        &self,
        account: &str,
        pairs: impl Iterator<Item = ReadingPair>,
        source: IdSource,
        receipt_id: &str,
    ) -> Option<Found> {
        for pair in pairs {
            let Some(key) = read(receipt_id, pair.receipt) else {
                continue;
            };
            let mut best: Option<Pending> = None;
            // An id reused by the SMSC: the pending submit, then the oldest.
            let rank = |p: &Pending| (p.final_state.is_some(), p.submitted_at);
            self.store.find_by_key(account, &key, &mut |p| {
                if reads_as(&p.message_id, pair.submit, &key)
                    && best.as_ref().map_or(true, |b| rank(&p) < rank(b))
                {
                    best = Some(p);
                }
            });
            if let Some(pending) = best {
                return Some(Found { pending, source, pair });
            }
        }
        None
    }

    /// A held receipt whose time is up, on an account where no same-reading pair is learned
    /// for its id's source: the submit a cross reading (hex↔decimal) names, if any. Its own
    /// resp would have been recorded by now, so this is not an early receipt meeting another
    /// message's id.
    fn find_across(&self, account: &str, receipt: &Receipt) -> Option<Found> {
        receipt_ids(receipt).find_map(|(source, receipt_id)| {
            if self.known(account, source).is_some_and(|p| p.is_same()) {
                return None;
            }
            self.find_under(account, ReadingPair::cross(), source, receipt_id)
        })
    }

    fn apply(
        &mut self,
        account: &str,
        found: Found,
        receipt: Receipt,
        received_at: Instant,
        was_early: bool,
        now: Instant,
    ) -> Outcome {
        let Found { pending, source, pair } = found;
        let already_final = pending.final_state.is_some();
        let matched = Box::new(Matched {
            message_id: pending.message_id,
            tag: pending.tag,
            submitted_at: pending.submitted_at,
            received_at,
            was_early,
            receipt,
        });
        if already_final {
            self.counters.duplicate += 1;
            return Outcome::Duplicate(matched);
        }
        let normaliser = self.normaliser_mut(account);
        if let Some((_, receipt_id)) = receipt_ids(&matched.receipt).find(|(s, _)| *s == source) {
            normaliser.observe(source, pair, &matched.message_id, receipt_id);
        }
        if matched.receipt.is_final {
            self.store.finalise(account, &matched.message_id, matched.receipt.state, now);
            self.store.purge_finalised_beyond(self.config.finalised_capacity);
            if self.finalised_purge_due.is_none() {
                self.finalised_purge_due = now.checked_add(self.config.finalised_retention);
            }
        }
        self.counters.matched += 1;
        Outcome::Matched(matched)
    }

    fn hold(&mut self, account: &str, receipt: Receipt, now: Instant) -> Outcome {
        if self.config.early_capacity == 0 {
            self.counters.unmatched += 1;
            self.counters.evicted += 1;
            return Outcome::Unmatched(Box::new(Unmatched {
                account: account.to_owned(),
                received_at: now,
                reason: UnmatchedReason::Evicted,
                receipt,
            }));
        }
        let evicted = if self.early.len() >= self.config.early_capacity {
            let (&oldest, _) = self.early.first_key_value().expect("capacity is at least 1");
            let entry = self.remove_early(oldest);
            self.counters.unmatched += 1;
            self.counters.evicted += 1;
            Some(Box::new(Unmatched {
                account: entry.account,
                received_at: entry.received_at,
                reason: UnmatchedReason::Evicted,
                receipt: entry.receipt,
            }))
        } else {
            None
        };

        let mut keys: Vec<IdKey> =
            receipt_ids(&receipt).flat_map(|(_, id)| index_keys(id)).collect();
        keys.sort_unstable();
        keys.dedup();
        let seq = self.next_seq;
        self.next_seq += 1;
        let index = match self.early_index.get_mut(account) {
            Some(index) => index,
            None => self.early_index.entry(account.to_owned()).or_default(),
        };
        for key in &keys {
            index.entry(key.clone()).or_default().push(seq);
        }
        self.early.insert(
            seq,
            EarlyEntry {
                account: account.to_owned(),
                receipt,
                received_at: now,
                deadline: now + self.config.early_timeout,
                keys,
            },
        );
        self.counters.early += 1;
        Outcome::Early { evicted }
    }

    fn remove_early(&mut self, seq: u64) -> EarlyEntry {
        let entry = self.early.remove(&seq).expect("seq taken from the buffer");
        if let Some(index) = self.early_index.get_mut(&entry.account) {
            for key in &entry.keys {
                if let Some(seqs) = index.get_mut(key) {
                    seqs.retain(|s| *s != seq);
                    if seqs.is_empty() {
                        index.remove(key);
                    }
                }
            }
            if index.is_empty() {
                self.early_index.remove(&entry.account);
            }
        }
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgid::{MsgIdFormat, Reading};
    use crate::receipt::{parse_receipt, ReceiptInput};
    use proptest::prelude::*;

    const ACCOUNT: &str = "docomo-1";

    fn text_receipt(id: &str, stat: &str) -> Receipt {
        parse_receipt(&ReceiptInput {
            short_message: format!("id:{id} sub:001 dlvrd:001 stat:{stat} err:000 text:x")
                .as_bytes(),
            ..ReceiptInput::default()
        })
        .unwrap()
    }

    fn tlv_receipt(tlv_id: &str, text_id: &str, state: u8) -> Receipt {
        parse_receipt(&ReceiptInput {
            short_message: format!("id:{text_id} stat:DELIVRD").as_bytes(),
            receipted_message_id: Some(format!("{tlv_id}\0").as_bytes()),
            message_state: Some(state),
            ..ReceiptInput::default()
        })
        .unwrap()
    }

    fn correlator() -> Correlator<MemoryStore> {
        Correlator::new(MemoryStore::new(), CorrelatorConfig::default())
    }

    /// The match for a receipt: at once, or, held, when its wait is over (a cross reading).
    #[track_caller]
    fn settled(c: &mut Correlator<MemoryStore>, outcome: Outcome, at: Instant) -> Matched {
        if let Outcome::Early { evicted: None } = outcome {
            let mut expired = c.poll_expired(at + Duration::from_secs(5));
            assert_eq!(expired.len(), 1, "{expired:?}");
            return matched(expired.remove(0));
        }
        matched(outcome)
    }

    #[track_caller]
    fn matched(outcome: Outcome) -> Matched {
        match outcome {
            Outcome::Matched(m) => *m,
            other => panic!("expected a match, got {other:?}"),
        }
    }

    #[test]
    fn matches_decimal_text_ids_to_hex_resp_ids() {
        let t0 = Instant::now();
        for (resp, text) in
            [("38601fa", "0059113978"), ("18d0e03a", "0416342074"), ("6aad5", "436949")]
        {
            let mut c = correlator();
            c.record_submit(ACCOUNT, resp, 7, t0);
            // Nothing learned yet: a cross reading only once the receipt has waited.
            let held = c.handle_receipt(ACCOUNT, text_receipt(text, "DELIVRD"), t0);
            assert_eq!(held, Outcome::Early { evicted: None });
            assert!(c.poll_expired(t0 + Duration::from_millis(4_999)).is_empty());
            assert_eq!(c.next_timeout(), Some(t0 + Duration::from_secs(5)));
            let m = settled(&mut c, held, t0);
            assert_eq!((m.tag, m.message_id.as_str(), m.was_early), (7, resp, true));
        }
    }

    #[test]
    fn a_configured_text_id_format_matches_across_bases_at_once() {
        let t0 = Instant::now();
        let mut config = CorrelatorConfig::new();
        config.text_id_format(ReadingPair::from_name("hex_resp_decimal_receipt"));
        let mut c = Correlator::new(MemoryStore::new(), config);
        c.record_submit(ACCOUNT, "10", 1, t0);
        c.record_submit(ACCOUNT, "16", 2, t0);
        // "16" in a text is hex 10 here, not the resp "16".
        assert_eq!(matched(c.handle_receipt(ACCOUNT, text_receipt("16", "DELIVRD"), t0)).tag, 1);
        // The TLV is learned on its own: the same text as the resp.
        assert_eq!(matched(c.handle_receipt(ACCOUNT, tlv_receipt("16", "22", 2), t0)).tag, 2);
    }

    #[test]
    fn matches_hex_text_ids_to_decimal_resp_ids() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "0059113978", 1, t0);
        c.record_submit(ACCOUNT, "436949", 2, t0);
        c.handle_receipt(ACCOUNT, text_receipt("38601FA", "DELIVRD"), t0);
        c.handle_receipt(ACCOUNT, text_receipt("6aad5", "DELIVRD"), t0);
        let tags: Vec<u64> = c
            .poll_expired(t0 + Duration::from_secs(30))
            .into_iter()
            .map(|o| matched(o).tag)
            .collect();
        assert_eq!(tags, [1, 2]);
    }

    #[test]
    fn prefers_the_tlv_id_over_the_text_id() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "abc", 1, t0);
        c.record_submit(ACCOUNT, "42", 2, t0);
        // TLV names "abc", text names "42": the TLV wins.
        let m = matched(c.handle_receipt(ACCOUNT, tlv_receipt("ABC", "42", 2), t0));
        assert_eq!(m.tag, 1);
    }

    #[test]
    fn falls_back_to_the_text_id_when_the_tlv_id_matches_nothing() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "59113978", 1, t0);
        let m = matched(c.handle_receipt(ACCOUNT, tlv_receipt("zzz-unknown", "0059113978", 2), t0));
        assert_eq!(m.tag, 1);
    }

    #[test]
    fn matches_uuids_case_insensitively() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "74E02EE1-4E2F-4C55-A3C0-0C2C0A3A3B1D", 9, t0);
        let m = matched(c.handle_receipt(
            ACCOUNT,
            text_receipt("74e02ee1-4e2f-4c55-a3c0-0c2c0a3a3b1d", "DELIVRD"),
            t0,
        ));
        assert_eq!(m.tag, 9);
    }

    #[test]
    fn keeps_accounts_apart() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit("kddi", "12345", 1, t0);
        assert!(matches!(
            c.handle_receipt(ACCOUNT, text_receipt("12345", "DELIVRD"), t0),
            Outcome::Early { evicted: None }
        ));
    }

    #[test]
    fn learns_the_carrier_format_and_uses_it_for_ambiguous_ids() {
        let t0 = Instant::now();
        let mut c = correlator();
        for (resp, text, tag) in [("38601fa", "0059113978", 1), ("18d0e03a", "0416342074", 2)] {
            c.record_submit(ACCOUNT, resp, tag, t0);
            c.handle_receipt(ACCOUNT, text_receipt(text, "DELIVRD"), t0);
        }
        assert_eq!(c.poll_expired(t0 + Duration::from_secs(30)).len(), 2);
        let learned = c.normaliser(ACCOUNT).unwrap().learned(IdSource::Text).unwrap();
        assert_eq!(learned.pair, ReadingPair::new(Reading::Hex, Reading::Decimal));
        assert_eq!(learned.submit_format, MsgIdFormat::HexLower);
        assert_eq!(learned.receipt_format, MsgIdFormat::ZeroPaddedDecimal(10));

        // "16" names resp "16" read as text, but this carrier writes hex resps and decimal
        // receipts, so it names resp "10" (0x10 = 16), at once now that this is learned.
        c.record_submit(ACCOUNT, "16", 3, t0);
        c.record_submit(ACCOUNT, "10", 4, t0);
        assert_eq!(matched(c.handle_receipt(ACCOUNT, text_receipt("16", "DELIVRD"), t0)).tag, 4);
        // Ids the learned mapping cannot read are matched as text.
        c.record_submit(ACCOUNT, "uuid-LIKE", 5, t0);
        assert_eq!(
            matched(c.handle_receipt(ACCOUNT, text_receipt("UUID-like", "DELIVRD"), t0)).tag,
            5
        );
    }

    #[test]
    fn keeps_the_entry_after_an_interim_receipt_so_the_final_one_matches() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "59113978", 1, t0);
        let m = matched(c.handle_receipt(ACCOUNT, text_receipt("0059113978", "ENROUTE"), t0));
        assert!(!m.receipt.is_final);
        let m = matched(c.handle_receipt(ACCOUNT, text_receipt("0059113978", "ACCEPTD"), t0));
        assert!(!m.receipt.is_final);
        let m = matched(c.handle_receipt(ACCOUNT, text_receipt("0059113978", "DELIVRD"), t0));
        assert!(m.receipt.is_final);
        assert_eq!(c.counters().matched, 3);
    }

    #[test]
    fn an_early_receipt_is_not_taken_for_a_duplicate_through_another_reading() {
        let t0 = Instant::now();
        let mut c = correlator();
        // The account's ids are plain decimal both ways: learned after two matches.
        for id in ["16", "17"] {
            c.record_submit(ACCOUNT, id, 1, t0);
            matched(c.handle_receipt(ACCOUNT, text_receipt(id, "DELIVRD"), t0));
        }
        // Receipt "10" races ahead of its resp. Read as hex it is 16, a finalised submit: a
        // coincidence, not a duplicate.
        let early = c.handle_receipt(ACCOUNT, text_receipt("10", "DELIVRD"), t0);
        assert_eq!(early, Outcome::Early { evicted: None });
        let outcomes = c.record_submit(ACCOUNT, "10", 3, t0);
        assert_eq!(matched(outcomes.into_iter().next().unwrap()).tag, 3);
        assert_eq!(c.counters().duplicate, 0);
    }

    #[test]
    fn an_early_receipt_does_not_take_a_pending_submit_through_a_cross_reading() {
        let t0 = Instant::now();
        let mut c = correlator();
        // Decimal ids both ways, learned; "41" waits for its receipt.
        for id in ["16", "17"] {
            c.record_submit(ACCOUNT, id, 1, t0);
            matched(c.handle_receipt(ACCOUNT, text_receipt(id, "DELIVRD"), t0));
        }
        c.record_submit(ACCOUNT, "41", 2, t0);
        // Receipt "29" races ahead of its resp; read as hex it is 41.
        let early = c.handle_receipt(ACCOUNT, text_receipt("29", "DELIVRD"), t0);
        assert_eq!(early, Outcome::Early { evicted: None });
        assert_eq!(matched(c.record_submit(ACCOUNT, "29", 3, t0).remove(0)).tag, 3);
        assert_eq!(matched(c.handle_receipt(ACCOUNT, text_receipt("41", "DELIVRD"), t0)).tag, 2);
        // And with decimal learned, a held receipt is never read across bases at its timeout.
        c.record_submit(ACCOUNT, "66", 4, t0);
        c.handle_receipt(ACCOUNT, text_receipt("42", "DELIVRD"), t0);
        let expired = c.poll_expired(t0 + Duration::from_secs(30));
        assert!(matches!(expired[..], [Outcome::Unmatched(_)]), "{expired:?}");
    }

    #[test]
    fn with_nothing_learned_an_early_receipt_waits_for_its_own_resp() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "41", 1, t0);
        let early = c.handle_receipt(ACCOUNT, text_receipt("29", "DELIVRD"), t0);
        assert_eq!(early, Outcome::Early { evicted: None }, "not resolved as hex 29 = 41");
        let t1 = t0 + Duration::from_secs(4);
        assert!(c.poll_expired(t1).is_empty());
        assert_eq!(matched(c.record_submit(ACCOUNT, "29", 2, t1).remove(0)).tag, 2);
        assert!(c.poll_expired(t0 + Duration::from_secs(60)).is_empty());
        assert_eq!(c.counters().matched, 1);
    }

    #[test]
    fn detects_a_duplicate_final_receipt() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "59113978", 1, t0);
        matched(c.handle_receipt(ACCOUNT, text_receipt("0059113978", "DELIVRD"), t0));
        let again = c.handle_receipt(ACCOUNT, text_receipt("0059113978", "DELIVRD"), t0);
        let Outcome::Duplicate(d) = again else {
            panic!("expected a duplicate, got {again:?}");
        };
        assert_eq!(d.tag, 1);
        assert_eq!(c.counters().duplicate, 1);
        assert_eq!(c.counters().matched, 1);
    }

    #[test]
    fn forgets_finalised_submits_after_the_retention() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.record_submit(ACCOUNT, "1", 1, t0);
        matched(c.handle_receipt(ACCOUNT, text_receipt("1", "DELIVRD"), t0));
        assert_eq!(c.store().len(), 1);
        c.poll_expired(t0 + Duration::from_secs(59));
        assert_eq!(c.store().len(), 1);
        c.poll_expired(t0 + Duration::from_secs(60));
        assert_eq!(c.store().len(), 0);
    }

    #[test]
    fn matches_a_receipt_that_arrives_before_its_resp_when_the_resp_is_recorded() {
        let t0 = Instant::now();
        let mut c = correlator();
        let outcome = c.handle_receipt(ACCOUNT, text_receipt("0059113978", "DELIVRD"), t0);
        assert_eq!(outcome, Outcome::Early { evicted: None });
        assert_eq!(c.early_len(), 1);
        assert_eq!(c.next_timeout(), Some(t0 + Duration::from_secs(5)), "its cross-reading look");

        // Unrelated submits leave it waiting.
        assert!(c.record_submit(ACCOUNT, "1", 1, t0).is_empty());
        let t1 = t0 + Duration::from_millis(5);
        let outcomes = c.record_submit(ACCOUNT, "59113978", 2, t1);
        assert_eq!(outcomes.len(), 1);
        let m = matched(outcomes.into_iter().next().unwrap());
        assert_eq!((m.tag, m.was_early, m.received_at, m.submitted_at), (2, true, t0, t1));
        assert_eq!(c.early_len(), 0);
        assert_eq!(c.next_timeout(), None);
        let counters = c.counters();
        assert_eq!((counters.early, counters.matched, counters.unmatched), (1, 1, 0));
        // The submit is finalised: a repeat is a duplicate.
        assert!(matches!(
            c.handle_receipt(ACCOUNT, text_receipt("59113978", "DELIVRD"), t1),
            Outcome::Duplicate(_)
        ));
    }

    #[test]
    fn matches_an_interim_and_a_final_early_receipt_in_arrival_order() {
        let t0 = Instant::now();
        let mut c = correlator();
        c.handle_receipt(ACCOUNT, text_receipt("436949", "ENROUTE"), t0);
        c.handle_receipt(ACCOUNT, text_receipt("436949", "DELIVRD"), t0);
        c.handle_receipt(ACCOUNT, text_receipt("436949", "DELIVRD"), t0);
        let outcomes = c.record_submit(ACCOUNT, "436949", 3, t0);
        assert_eq!(outcomes.len(), 3);
        assert!(
            matches!(&outcomes[0], Outcome::Matched(m) if m.receipt.state == MessageState::ENROUTE)
        );
        assert!(
            matches!(&outcomes[1], Outcome::Matched(m) if m.receipt.state == MessageState::DELIVERED)
        );
        assert!(matches!(&outcomes[2], Outcome::Duplicate(m) if m.tag == 3));
    }

    #[test]
    fn reports_an_unmatched_receipt_after_the_timeout() {
        let t0 = Instant::now();
        let mut config = CorrelatorConfig::new();
        config.early_timeout(Duration::from_secs(10));
        let mut c = Correlator::new(MemoryStore::new(), config);
        c.handle_receipt(ACCOUNT, text_receipt("999", "DELIVRD"), t0);
        c.handle_receipt(ACCOUNT, text_receipt("998", "DELIVRD"), t0 + Duration::from_secs(1));

        assert!(c.poll_expired(t0 + Duration::from_millis(9_999)).is_empty());
        let expired = c.poll_expired(t0 + Duration::from_secs(10));
        assert_eq!(expired.len(), 1);
        let Outcome::Unmatched(u) = &expired[0] else { panic!("{expired:?}") };
        assert_eq!(u.reason, UnmatchedReason::Timeout);
        assert_eq!(u.account, ACCOUNT);
        assert_eq!(u.receipt.id_text.as_deref(), Some("999"));
        assert_eq!(c.next_timeout(), Some(t0 + Duration::from_secs(11)));
        assert_eq!(c.counters().unmatched, 1);

        // A resp recorded after the timeout no longer finds it.
        assert!(c.record_submit(ACCOUNT, "999", 1, t0 + Duration::from_secs(10)).is_empty());
        let expired = c.poll_expired(t0 + Duration::from_secs(11));
        assert_eq!(expired.len(), 1);
        assert_eq!(c.early_len(), 0);
        assert_eq!(c.counters().unmatched, 2);
    }

    #[test]
    fn evicts_the_oldest_held_receipt_when_the_buffer_is_full_and_counts_it() {
        let t0 = Instant::now();
        let mut config = CorrelatorConfig::new();
        config.early_capacity(2);
        let mut c = Correlator::new(MemoryStore::new(), config);
        assert_eq!(
            c.handle_receipt(ACCOUNT, text_receipt("1", "DELIVRD"), t0),
            Outcome::Early { evicted: None }
        );
        assert_eq!(
            c.handle_receipt(ACCOUNT, text_receipt("2", "DELIVRD"), t0),
            Outcome::Early { evicted: None }
        );
        let Outcome::Early { evicted: Some(evicted) } =
            c.handle_receipt(ACCOUNT, text_receipt("3", "DELIVRD"), t0)
        else {
            panic!("expected an eviction");
        };
        assert_eq!(evicted.reason, UnmatchedReason::Evicted);
        assert_eq!(evicted.receipt.id_text.as_deref(), Some("1"));
        assert_eq!(c.early_len(), 2);
        let counters = c.counters();
        assert_eq!((counters.early, counters.evicted, counters.unmatched), (3, 1, 1));
        // The evicted one no longer matches; the others still do.
        assert!(c.record_submit(ACCOUNT, "1", 1, t0).is_empty());
        assert_eq!(c.record_submit(ACCOUNT, "3", 3, t0).len(), 1);
    }

    #[test]
    fn reports_at_once_when_holding_is_disabled() {
        let t0 = Instant::now();
        let mut config = CorrelatorConfig::new();
        config.early_capacity(0);
        let mut c = Correlator::new(MemoryStore::new(), config);
        let outcome = c.handle_receipt(ACCOUNT, text_receipt("1", "DELIVRD"), t0);
        assert!(matches!(outcome, Outcome::Unmatched(u) if u.reason == UnmatchedReason::Evicted));
        assert_eq!(c.counters().unmatched, 1);
    }

    #[test]
    fn reports_a_receipt_without_an_id_as_unmatched() {
        let t0 = Instant::now();
        let mut c = correlator();
        let mut receipt = text_receipt("1", "DELIVRD");
        receipt.id_text = None;
        let outcome = c.handle_receipt(ACCOUNT, receipt, t0);
        assert!(matches!(outcome, Outcome::Unmatched(u) if u.reason == UnmatchedReason::NoId));
    }

    #[test]
    fn finalised_entries_beyond_the_capacity_go_oldest_first() {
        let t0 = Instant::now();
        let mut config = CorrelatorConfig::default();
        config.finalised_capacity(2);
        let mut c = Correlator::new(MemoryStore::new(), config);
        for (tag, id) in [(1, "a1"), (2, "a2"), (3, "a3"), (4, "a4")] {
            c.record_submit(ACCOUNT, id, tag, t0);
        }
        for id in ["a1", "a2", "a3"] {
            matched(c.handle_receipt(ACCOUNT, text_receipt(id, "DELIVRD"), t0));
        }
        // a1 went to make room; a2 and a3 are still known, a4 is pending.
        assert_eq!(c.store().len(), 3);
        let again = c.handle_receipt(ACCOUNT, text_receipt("a3", "DELIVRD"), t0);
        assert!(matches!(again, Outcome::Duplicate(ref m) if m.tag == 3), "{again:?}");
        let late = c.handle_receipt(ACCOUNT, text_receipt("a1", "DELIVRD"), t0);
        assert!(matches!(late, Outcome::Early { .. } | Outcome::Unmatched(_)), "{late:?}");
        assert_eq!(matched(c.handle_receipt(ACCOUNT, text_receipt("a4", "DELIVRD"), t0)).tag, 4);
        assert_eq!(c.store().len(), 2);
    }

    #[test]
    fn submits_beyond_the_pending_capacity_are_forgotten_oldest_first() {
        let t0 = Instant::now();
        let mut config = CorrelatorConfig::default();
        config.pending_capacity(10);
        let mut c = Correlator::new(MemoryStore::new(), config);
        for tag in 0..12u64 {
            c.record_submit(ACCOUNT, &format!("m{tag}"), tag, t0 + Duration::from_millis(tag));
        }
        let waiting = c.store().pending_len();
        assert!((9..=10).contains(&waiting), "{waiting} waiting");
        assert_eq!(c.counters().forgotten, 12 - waiting as u64);
        assert_eq!(c.store().len(), waiting);
        let old = c.handle_receipt(ACCOUNT, text_receipt("m0", "DELIVRD"), t0);
        assert!(!matches!(old, Outcome::Matched(_)), "{old:?}");
        assert_eq!(matched(c.handle_receipt(ACCOUNT, text_receipt("m11", "DELIVRD"), t0)).tag, 11);
        assert_eq!(c.store().pending_len(), waiting - 1);
    }

    #[test]
    fn finalised_submits_are_kept_for_duplicates_until_the_retention_is_over() {
        let t0 = Instant::now();
        let secs = |n| t0 + Duration::from_secs(n);
        let mut config = CorrelatorConfig::default();
        config.finalised_retention(Duration::from_secs(60));
        let mut c = Correlator::new(MemoryStore::new(), config);
        c.record_submit(ACCOUNT, "a", 1, t0);
        c.record_submit(ACCOUNT, "b", 2, t0);
        matched(c.handle_receipt(ACCOUNT, text_receipt("a", "DELIVRD"), t0));
        matched(c.handle_receipt(ACCOUNT, text_receipt("b", "DELIVRD"), secs(30)));
        c.poll_expired(secs(59));
        let again = c.handle_receipt(ACCOUNT, text_receipt("a", "DELIVRD"), secs(59));
        assert!(matches!(again, Outcome::Duplicate(_)), "{again:?}");
        c.poll_expired(secs(61));
        assert_eq!(c.store().len(), 1, "a is forgotten, b is kept");
        let late = c.handle_receipt(ACCOUNT, text_receipt("a", "DELIVRD"), secs(61));
        assert!(!matches!(late, Outcome::Duplicate(_)), "{late:?}");
        c.poll_expired(secs(89));
        assert_eq!(c.store().len(), 1);
        c.poll_expired(secs(90));
        assert_eq!(c.store().len(), 0, "b is forgotten at its own time");
        // A submit finalised after the store emptied is due again.
        c.record_submit(ACCOUNT, "c", 3, secs(100));
        matched(c.handle_receipt(ACCOUNT, text_receipt("c", "DELIVRD"), secs(100)));
        c.poll_expired(secs(159));
        assert_eq!(c.store().len(), 1);
        c.poll_expired(secs(160));
        assert_eq!(c.store().len(), 0);
    }

    #[test]
    fn submits_waiting_past_the_pending_retention_are_forgotten() {
        let t0 = Instant::now();
        let mut config = CorrelatorConfig::default();
        config.pending_retention(Duration::from_secs(3600));
        let mut c = Correlator::new(MemoryStore::new(), config);
        c.record_submit(ACCOUNT, "old", 1, t0);
        c.record_submit(ACCOUNT, "done", 2, t0);
        matched(c.handle_receipt(ACCOUNT, text_receipt("done", "DELIVRD"), t0));
        c.poll_expired(t0 + Duration::from_secs(60)); // the first sweep: nothing is old yet
        c.record_submit(ACCOUNT, "new", 3, t0 + Duration::from_secs(3000));
        c.poll_expired(t0 + Duration::from_secs(3700));
        assert_eq!(c.counters().forgotten, 1);
        assert_eq!(c.store().pending_len(), 1, "only `new` waits");
        let late = c.handle_receipt(ACCOUNT, text_receipt("old", "DELIVRD"), t0);
        assert!(!matches!(late, Outcome::Matched(_)), "{late:?}");
    }

    proptest! {
        #[test]
        fn decimal_receipt_ids_correlate_with_hex_resp_ids(id in any::<u64>(), pad in 0usize..6, upper in any::<bool>()) {
            let t0 = Instant::now();
            let mut c = correlator();
            let resp = if upper { format!("{id:X}") } else { format!("{id:x}") };
            c.record_submit(ACCOUNT, &resp, id, t0);
            let text_id = format!("{}{id}", "0".repeat(pad));
            let outcome = c.handle_receipt(ACCOUNT, text_receipt(&text_id, "DELIVRD"), t0);
            prop_assert_eq!(settled(&mut c, outcome, t0).tag, id);
        }

        #[test]
        fn hex_receipt_ids_correlate_with_decimal_resp_ids(id in any::<u64>(), pad in 0usize..6) {
            let t0 = Instant::now();
            let mut c = correlator();
            c.record_submit(ACCOUNT, &format!("{}{id}", "0".repeat(pad)), id, t0);
            let outcome = c.handle_receipt(ACCOUNT, text_receipt(&format!("{id:x}"), "DELIVRD"), t0);
            prop_assert_eq!(settled(&mut c, outcome, t0).tag, id);
        }

        #[test]
        fn early_decimal_receipts_correlate_with_later_hex_resps(id in any::<u64>()) {
            let t0 = Instant::now();
            let mut c = correlator();
            let held = c.handle_receipt(ACCOUNT, text_receipt(&format!("{id:010}"), "DELIVRD"), t0);
            prop_assert_eq!(held, Outcome::Early { evicted: None });
            // Its resp only relates across bases (unless the id reads alike): nothing is
            // learned, so the match waits for the receipt's time to be up.
            let mut outcomes = c.record_submit(ACCOUNT, &format!("{id:x}"), id, t0);
            if outcomes.is_empty() {
                outcomes = c.poll_expired(t0 + Duration::from_secs(30));
            }
            prop_assert_eq!(outcomes.len(), 1);
            prop_assert_eq!(matched(outcomes.into_iter().next().unwrap()).tag, id);
        }

        /// With many submits pending, once the carrier's format is learned every receipt finds
        /// its own submit, even when its decimal form is also some other submit's hex form.
        #[test]
        fn every_receipt_finds_its_own_submit_once_learned(ids in prop::collection::hash_set(any::<u32>(), 3..40)) {
            let t0 = Instant::now();
            let mut c = correlator();
            for &id in &ids {
                c.record_submit(ACCOUNT, &format!("{id:x}"), id.into(), t0);
            }
            // Teach the format with two ids that only relate as hex → decimal.
            for (tag, resp, text) in [(u64::MAX, "38601fa", "0059113978"), (u64::MAX - 1, "18d0e03a", "0416342074")] {
                c.record_submit(ACCOUNT, resp, tag, t0);
                let outcome = c.handle_receipt(ACCOUNT, text_receipt(text, "DELIVRD"), t0);
                prop_assert_eq!(settled(&mut c, outcome, t0).tag, tag);
            }
            for &id in &ids {
                let m = matched(c.handle_receipt(ACCOUNT, text_receipt(&id.to_string(), "DELIVRD"), t0));
                prop_assert_eq!(m.tag, u64::from(id));
            }
        }
    }
}
