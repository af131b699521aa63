//! The state one simulated carrier shares between its connections: accounts and their
//! receivers, the message store, concatenation assembly, the handset inbox, faults and
//! counters.
//!
//! Locks are per account (routing, token bucket), per store shard and per assembler shard, so
//! connections of different accounts, and most submits of one, do not meet on a lock.

use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use smpp_codec::{Body, COctetString, CommandStatus, Tlvs};
use smpp_sms::CarrierProfile;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::{AccountConfig, CarrierConfig};
use crate::engine::EngineHandle;
use crate::fault::{FaultState, MalformedKind};
use crate::mnp::{normalise, HandsetStatus, NumberTable};
use crate::msgid::{IdGen, MessageId};
use crate::receipt::{self, Addr, Preview, ReceiptInfo, Stat, StoredAddr};
use crate::stats::Counters;
use crate::validate::ConcatKind;

pub(crate) type ConnId = u64;

/// What a carrier tells one connection task.
#[derive(Debug)]
pub(crate) enum ConnCmd {
    Deliver(Box<Delivery>),
    Drop,
    Unbind,
    Hang(Instant),
    Malformed(MalformedKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeliveryKind {
    Receipt,
    Mo,
}

/// A deliver_sm on its way to some receiver of an account. Always boxed: it passes through
/// some ten hands (channel, queue, window, retry) on its way, and each move of the ~300
/// octets cost more than the one allocation.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) kind: DeliveryKind,
    pub(crate) account: Arc<Account>,
    /// The connection to try first (the submitting transceiver).
    pub(crate) prefer: Option<ConnId>,
    /// A `Body::DeliverSm`: sent, and sent again, by reference.
    pub(crate) body: Body,
    pub(crate) tlvs: Tlvs,
    pub(crate) attempts: u32,
}

struct Receiver {
    conn: ConnId,
    tx: UnboundedSender<ConnCmd>,
}

#[derive(Default)]
struct Route {
    receivers: Vec<Receiver>,
    pending: VecDeque<Box<Delivery>>,
    next: usize,
}

/// One ESME account of a carrier.
pub(crate) struct Account {
    pub(crate) cfg: AccountConfig,
    pub(crate) binds: AtomicUsize,
    bucket: Option<Mutex<TokenBucket>>,
    route: Mutex<Route>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("system_id", &self.cfg.system_id).finish_non_exhaustive()
    }
}

/// Submits per second with a burst allowance (smpp34.md §8.5: above the agreed rate the SMSC
/// answers ESME_RTHROTTLED).
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Account {
    fn new(cfg: AccountConfig, now: Instant) -> Self {
        let bucket = (cfg.tps > 0.0).then(|| {
            let burst = f64::from(cfg.burst.unwrap_or(cfg.tps.ceil() as u32).max(1));
            Mutex::new(TokenBucket { rate: cfg.tps, burst, tokens: burst, last: now })
        });
        Self { cfg, binds: AtomicUsize::new(0), bucket, route: Mutex::new(Route::default()) }
    }

    pub(crate) fn name(&self) -> &str {
        &self.cfg.system_id
    }

    /// One submit's worth of rate; false means ESME_RTHROTTLED.
    pub(crate) fn take_token(&self, now: Instant) -> bool {
        self.bucket.as_ref().map_or(true, |b| b.lock().expect("bucket lock").take(now))
    }

    /// Counts a bind against `max_binds`; false means ESME_RBINDFAIL.
    pub(crate) fn acquire_bind(&self) -> bool {
        self.binds
            .fetch_update(Relaxed, Relaxed, |n| (n < self.cfg.max_binds).then_some(n + 1))
            .is_ok()
    }

    pub(crate) fn release_bind(&self) {
        let _ = self.binds.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
    }

    fn has_receiver(&self) -> bool {
        !self.route.lock().expect("route lock").receivers.is_empty()
    }
}

/// What stays known about a submitted message.
#[derive(Debug)]
pub(crate) struct MsgMeta {
    pub(crate) id: MessageId,
    pub(crate) account: Arc<Account>,
    pub(crate) origin: ConnId,
    pub(crate) source: StoredAddr,
    pub(crate) dest: StoredAddr,
    pub(crate) submit_unix: i64,
    pub(crate) registered_delivery: u8,
    pub(crate) preview: Preview,
}

/// A message as the handset sees it: one part, or all parts of a concatenated one.
#[derive(Debug)]
pub(crate) struct HandsetMsg {
    pub(crate) parts: Vec<Arc<MsgMeta>>,
    /// The user data (reassembled, without UDH): decoded only when `GET /messages` asks,
    /// not on the hot path of every submit.
    pub(crate) body: Box<[u8]>,
    pub(crate) data_coding: u8,
    pub(crate) segments: u32,
    pub(crate) billable: u32,
}

/// A message a handset received, as `GET /messages` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HandsetMessage {
    /// The carrier that delivered it.
    pub carrier: String,
    /// The sender (the submit's source_addr).
    pub from: String,
    /// The handset (the submit's destination_addr).
    pub to: String,
    /// The text, reassembled and decoded; `None` for binary data_coding.
    pub text: Option<String>,
    /// data_coding of the submit.
    pub data_coding: u8,
    /// Segments it took on the air.
    pub segments: u32,
    /// Billable segments by the carrier's rule.
    pub billable: u32,
    /// The message_id of every part, in order.
    pub message_ids: Vec<String>,
    /// Submit time, Unix seconds.
    pub submitted_unix: i64,
    /// Delivery time, Unix seconds.
    pub delivered_unix: i64,
}

// ------------------------------------------------------------------- store

#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) meta: Arc<MsgMeta>,
    pub(crate) state: Stat,
    pub(crate) final_unix: Option<i64>,
    pub(crate) err: u16,
    pub(crate) registered_delivery: u8,
    pub(crate) replaced_text: Option<String>,
}

/// One shard's records by key (the id's number divided by [`SHARDS`]): `records[i]` holds
/// key `first + i`. Ids are handed out in sequence and forgotten oldest first, so a ring
/// indexed by the key does what a hash table and a separate eviction queue did: an insert
/// writes the next slot in memory order instead of a random bucket, whose cache miss was 7%
/// of the simulator's time under perf. A key whose id was never stored (a submit_multi with
/// no destination accepted) is an empty slot.
#[derive(Default)]
struct Shard {
    first: u64,
    records: VecDeque<Option<Record>>,
}

impl Shard {
    fn slot(&self, key: u64) -> Option<usize> {
        usize::try_from(key.checked_sub(self.first)?).ok().filter(|&i| i < self.records.len())
    }

    fn get(&self, key: u64) -> Option<&Record> {
        self.records[self.slot(key)?].as_ref()
    }

    fn get_mut(&mut self, key: u64) -> Option<&mut Record> {
        let i = self.slot(key)?;
        self.records[i].as_mut()
    }

    /// Stores `record` under `key`, then forgets the oldest keys beyond `cap`. Keys come in
    /// order, except that connections on other threads may store theirs a little late.
    fn insert(&mut self, key: u64, record: Record, cap: usize) {
        if self.records.is_empty() {
            self.first = key;
        }
        if key < self.first {
            let back = usize::try_from(self.first - key).unwrap_or(usize::MAX);
            if back.saturating_add(self.records.len()) > cap {
                return; // older than everything kept: forgotten already
            }
            for _ in 0..back {
                self.records.push_front(None);
            }
            self.first = key;
        }
        let mut at = usize::try_from(key - self.first).unwrap_or(usize::MAX);
        if at >= self.records.len().saturating_add(cap) {
            // Every key kept would be forgotten to make room.
            self.records.clear();
            self.first = key;
            at = 0;
        }
        if self.records.len() <= at {
            self.records.resize_with(at + 1, || None);
        }
        self.records[at] = Some(record);
        while self.records.len() > cap {
            self.records.pop_front();
            self.first += 1;
        }
    }
}

/// message_id → record, for query_sm / cancel_sm / replace_sm and receipts. Sharded so that
/// connections rarely share a lock; bounded, oldest forgotten first.
///
/// Each shard's ring is sized for its share of the capacity when the store is made, so it
/// never grows (a growing table copied every record into fresh pages, which the kernel
/// zeroes: a tenth of the simulator's CPU in a 300,000-message benchmark once).
pub(crate) struct Store {
    shards: Vec<Mutex<Shard>>,
    cap_per_shard: usize,
}

const SHARDS: usize = 16;

fn shard_of<K: Hash + ?Sized>(k: &K) -> usize {
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    (h.finish() as usize) % SHARDS
}

/// Why cancel_sm / replace_sm / query_sm could not act.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoreError {
    Unknown,
    Final,
}

impl Store {
    fn new(capacity: usize) -> Self {
        let cap_per_shard = capacity.div_ceil(SHARDS).max(1);
        let shard = || Shard { first: 0, records: VecDeque::with_capacity(cap_per_shard + 1) };
        Self { shards: (0..SHARDS).map(|_| Mutex::new(shard())).collect(), cap_per_shard }
    }

    /// The shard of `id`, and the key within it.
    fn shard(&self, id: MessageId) -> (std::sync::MutexGuard<'_, Shard>, u64) {
        let shard = self.shards[(id.0 % SHARDS as u64) as usize].lock().expect("store lock");
        (shard, id.0 / SHARDS as u64)
    }

    pub(crate) fn insert(&self, meta: Arc<MsgMeta>) {
        let rd = meta.registered_delivery;
        let (mut s, key) = self.shard(meta.id);
        let record = Record {
            meta,
            state: Stat::Enroute,
            final_unix: None,
            err: 0,
            registered_delivery: rd,
            replaced_text: None,
        };
        s.insert(key, record, self.cap_per_shard);
    }

    /// Moves a pending message to its final state. Returns (registered_delivery, replaced
    /// text) when a receipt may follow, `None` when the message was cancelled meanwhile. A
    /// forgotten message (store full) counts as pending. submit_multi destinations share one
    /// id and one record (the first destination's); the others only read it.
    pub(crate) fn finish(
        &self,
        meta: &MsgMeta,
        stat: Stat,
        err: u16,
        now_unix: i64,
    ) -> Option<(u8, Option<String>)> {
        let (mut s, key) = self.shard(meta.id);
        let Some(r) = s.get_mut(key) else {
            return Some((meta.registered_delivery, None));
        };
        if r.state == Stat::Deleted {
            return None;
        }
        let own = std::ptr::eq(Arc::as_ptr(&r.meta), meta);
        if own && !r.state.is_final() && stat.is_final() {
            r.state = stat;
            r.final_unix = Some(now_unix);
            r.err = err;
        } else if own {
            return None;
        }
        Some((r.registered_delivery, r.replaced_text.clone()))
    }

    /// (registered_delivery, replaced text) while the message is pending, for intermediate
    /// receipts; `None` once final.
    pub(crate) fn pending(&self, meta: &MsgMeta) -> Option<(u8, Option<String>)> {
        let (s, key) = self.shard(meta.id);
        match s.get(key) {
            Some(r) if !r.state.is_final() => {
                Some((r.registered_delivery, r.replaced_text.clone()))
            }
            Some(_) => None,
            None => Some((meta.registered_delivery, None)),
        }
    }

    pub(crate) fn query(&self, id: MessageId, account: &str) -> Option<(Stat, Option<i64>, u16)> {
        let (s, key) = self.shard(id);
        let r = s.get(key).filter(|r| r.meta.account.name() == account)?;
        Some((r.state, r.final_unix, r.err))
    }

    pub(crate) fn cancel(
        &self,
        id: MessageId,
        account: &str,
        now_unix: i64,
    ) -> Result<(), StoreError> {
        self.with_pending(id, account, |r| {
            r.state = Stat::Deleted;
            r.final_unix = Some(now_unix);
        })
    }

    /// Applies `change` to `account`'s message `id` while it is still pending (cancel_sm and
    /// replace_sm both refuse unknown, foreign and final messages the same way).
    fn with_pending(
        &self,
        id: MessageId,
        account: &str,
        change: impl FnOnce(&mut Record),
    ) -> Result<(), StoreError> {
        let (mut s, key) = self.shard(id);
        let r = s
            .get_mut(key)
            .filter(|r| r.meta.account.name() == account)
            .ok_or(StoreError::Unknown)?;
        if r.state.is_final() {
            return Err(StoreError::Final);
        }
        change(r);
        Ok(())
    }

    /// cancel_sm with an empty message_id: every pending message of `account` from `source`
    /// (and to `dest` when given).
    pub(crate) fn cancel_matching(
        &self,
        account: &str,
        source: &str,
        dest: &str,
        now_unix: i64,
    ) -> usize {
        let mut n = 0;
        for shard in &self.shards {
            let mut s = shard.lock().expect("store lock");
            for r in s.records.iter_mut().flatten() {
                let m = &r.meta;
                if !r.state.is_final()
                    && m.account.name() == account
                    && m.source.as_str() == source
                    && (dest.is_empty() || m.dest.as_str() == dest)
                {
                    r.state = Stat::Deleted;
                    r.final_unix = Some(now_unix);
                    n += 1;
                }
            }
        }
        n
    }

    pub(crate) fn replace(
        &self,
        id: MessageId,
        account: &str,
        text: String,
        rd: u8,
    ) -> Result<(), StoreError> {
        self.with_pending(id, account, |r| {
            r.replaced_text = Some(text);
            r.registered_delivery = rd;
        })
    }
}

// ------------------------------------------------------------------- concatenation

#[derive(Debug, PartialEq, Eq, Hash)]
struct ConcatKey {
    account: String,
    source: String,
    dest: String,
    kind: ConcatKind,
    reference: u16,
}

struct Partial {
    total: u8,
    data_coding: u8,
    chars: usize,
    first_seen: Instant,
    parts: BTreeMap<u8, (Arc<MsgMeta>, Bytes)>,
}

/// A part's fate in [`Assembler::add`].
pub(crate) enum PartOutcome {
    /// Parts are missing still.
    Pending(Arc<MsgMeta>),
    /// This part (`this`) completed the message: every part in order, with the joined user
    /// data.
    Complete {
        this: Arc<MsgMeta>,
        parts: Vec<Arc<MsgMeta>>,
        raw: Vec<u8>,
        data_coding: u8,
        chars: usize,
    },
}

/// One concatenated part, checked.
pub(crate) struct PartIn<'a> {
    pub(crate) account: &'a str,
    pub(crate) source: &'a str,
    pub(crate) dest: &'a str,
    pub(crate) kind: ConcatKind,
    pub(crate) reference: u16,
    pub(crate) total: u8,
    pub(crate) seq: u8,
    pub(crate) data_coding: u8,
    pub(crate) chars: usize,
    pub(crate) body: Bytes,
}

/// Reassembles MT parts (UDH 8/16-bit reference and SAR, smpp34.md §10) per (account, source,
/// destination, mechanism, reference).
pub(crate) struct Assembler {
    shards: Vec<Mutex<HashMap<ConcatKey, Partial>>>,
    pending: AtomicUsize,
}

impl Assembler {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            pending: AtomicUsize::new(0),
        }
    }

    /// Adds a part. `make_meta` allocates the part's id, and is only called when the part is
    /// accepted. Refusals: a total over `max_parts` or a message over `max_chars`
    /// (ESME_RINVMSGLEN); parts that do not add up - another total or data_coding than the
    /// first part's, or the same part twice (ESME_RSUBMITFAIL).
    pub(crate) fn add(
        &self,
        p: PartIn<'_>,
        max_parts: u8,
        max_chars: usize,
        now: Instant,
        make_meta: impl FnOnce() -> Arc<MsgMeta>,
    ) -> Result<PartOutcome, CommandStatus> {
        if p.total > max_parts {
            return Err(CommandStatus::ESME_RINVMSGLEN);
        }
        let key = ConcatKey {
            account: p.account.to_owned(),
            source: p.source.to_owned(),
            dest: normalise(p.dest).into_owned(),
            kind: p.kind,
            reference: p.reference,
        };
        let mut shard = self.shards[shard_of(&key)].lock().expect("assembler lock");
        let partial = match shard.get_mut(&key) {
            Some(partial) => {
                if partial.total != p.total
                    || partial.data_coding != p.data_coding
                    || partial.parts.contains_key(&p.seq)
                {
                    return Err(CommandStatus::ESME_RSUBMITFAIL);
                }
                if partial.chars + p.chars > max_chars {
                    return Err(CommandStatus::ESME_RINVMSGLEN);
                }
                partial
            }
            None => {
                if p.chars > max_chars {
                    return Err(CommandStatus::ESME_RINVMSGLEN);
                }
                self.pending.fetch_add(1, Relaxed);
                shard.entry(key).or_insert(Partial {
                    total: p.total,
                    data_coding: p.data_coding,
                    chars: 0,
                    first_seen: now,
                    parts: BTreeMap::new(),
                })
            }
        };
        let meta = make_meta();
        partial.chars += p.chars;
        partial.parts.insert(p.seq, (meta.clone(), p.body));
        if partial.parts.len() < usize::from(partial.total) {
            return Ok(PartOutcome::Pending(meta));
        }
        let key = ConcatKey {
            account: p.account.to_owned(),
            source: p.source.to_owned(),
            dest: normalise(p.dest).into_owned(),
            kind: p.kind,
            reference: p.reference,
        };
        let done = shard.remove(&key).expect("present: just added to it");
        self.pending.fetch_sub(1, Relaxed);
        let mut raw = Vec::with_capacity(done.parts.values().map(|(_, b)| b.len()).sum());
        let mut parts = Vec::with_capacity(done.parts.len());
        for (meta, body) in done.parts.into_values() {
            raw.extend_from_slice(&body);
            parts.push(meta);
        }
        Ok(PartOutcome::Complete {
            this: meta,
            parts,
            raw,
            data_coding: done.data_coding,
            chars: done.chars,
        })
    }

    /// Removes messages whose first part is older than `timeout`, returning their parts.
    pub(crate) fn expire(&self, now: Instant, timeout: Duration) -> Vec<Vec<Arc<MsgMeta>>> {
        if self.pending.load(Relaxed) == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for shard in &self.shards {
            let mut s = shard.lock().expect("assembler lock");
            s.retain(|_, p| {
                let keep = now.saturating_duration_since(p.first_seen) < timeout;
                if !keep {
                    out.push(p.parts.values().map(|(m, _)| m.clone()).collect());
                }
                keep
            });
        }
        self.pending.fetch_sub(out.len(), Relaxed);
        out
    }
}

// ------------------------------------------------------------------- inbox

/// A delivered message as the inbox keeps it: shared with the engine's job, so that delivery
/// copies nothing; [`HandsetMessage`] is made only when asked for.
struct Received {
    msg: Arc<HandsetMsg>,
    delivered_unix: i64,
}

impl Received {
    fn to(&self) -> &str {
        self.msg.parts[0].dest.as_str()
    }

    fn handset(&self) -> u64 {
        handset_key(&normalise(self.to()))
    }

    fn message(&self, carrier: &str, ids: &IdGen) -> HandsetMessage {
        let first = &self.msg.parts[0];
        HandsetMessage {
            carrier: carrier.to_owned(),
            from: first.source.as_str().to_owned(),
            to: first.dest.as_str().to_owned(),
            text: smpp_sms::reassembly::decode_text(self.msg.data_coding, &self.msg.body),
            data_coding: self.msg.data_coding,
            segments: self.msg.segments,
            billable: self.msg.billable,
            message_ids: self
                .msg
                .parts
                .iter()
                .map(|m| ids.resp(m.id).as_str().to_owned())
                .collect(),
            submitted_unix: first.submit_unix,
            delivered_unix: self.delivered_unix,
        }
    }
}

/// A handset's number as a map key without allocating: its normalised digits as a number
/// (with their count, so `0081…` and `81…` differ), or a hash for anything else. Keys may
/// collide; a look-up compares the numbers themselves.
fn handset_key(normalised: &str) -> u64 {
    let b = normalised.as_bytes();
    if b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        let value = b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        return value << 5 | b.len() as u64;
    }
    let mut h = DefaultHasher::new();
    normalised.hash(&mut h);
    h.finish() | 1 << 63
}

/// What handsets received, bounded (oldest forgotten first), in one queue for all handsets.
/// Delivery (every message) costs no allocation nor hashing; the index by handset that a
/// look-up (control API, `Simulator::messages`) reads is built at the first look-up and kept
/// up to date from then on, so a simulator that is never asked (a load test) never pays for
/// it, and one that is asked for every message (the daemon's crash bench) does not scan the
/// whole queue each time.
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    cap: usize,
}

#[derive(Default)]
struct InboxState {
    received: VecDeque<Received>,
    /// Position of `received[0]`: positions only grow, so an index entry stays valid.
    first: u64,
    by_handset: Option<HandsetIndex>,
}

/// [`handset_key`] → positions in the inbox of what that handset received, oldest first.
type HandsetIndex = HashMap<u64, Positions>;

/// Nearly every handset has one message in the inbox, kept inline.
enum Positions {
    One(u64),
    Many(VecDeque<u64>),
}

impl InboxState {
    fn push(&mut self, received: Received) {
        let at = self.first + self.received.len() as u64;
        if let Some(index) = &mut self.by_handset {
            index_add(index, received.handset(), at);
        }
        self.received.push_back(received);
    }

    /// Forgets the oldest message; it is the oldest of its handset too.
    fn pop_oldest(&mut self) {
        let Some(oldest) = self.received.pop_front() else { return };
        if let Some(index) = &mut self.by_handset {
            index_remove_oldest(index, oldest.handset());
        }
        self.first += 1;
    }

    fn of_handset(&mut self, key: u64) -> impl Iterator<Item = &Received> {
        let (received, first) = (&self.received, self.first);
        let index = self.by_handset.get_or_insert_with(|| {
            let mut index = HandsetIndex::new();
            for (at, r) in (first..).zip(received) {
                index_add(&mut index, r.handset(), at);
            }
            index
        });
        let (head, tail): (&[u64], &[u64]) = match index.get(&key) {
            None => (&[], &[]),
            Some(Positions::One(at)) => (std::slice::from_ref(at), &[]),
            Some(Positions::Many(list)) => list.as_slices(),
        };
        head.iter().chain(tail).filter_map(move |at| received.get((at - first) as usize))
    }
}

fn index_add(index: &mut HandsetIndex, handset: u64, at: u64) {
    match index.entry(handset) {
        Entry::Vacant(e) => _ = e.insert(Positions::One(at)),
        Entry::Occupied(mut e) => match e.get_mut() {
            Positions::Many(list) => list.push_back(at),
            Positions::One(one) => {
                let one = *one;
                e.insert(Positions::Many(VecDeque::from([one, at])));
            }
        },
    }
}

/// Drops the oldest position of `handset`: the message just forgotten.
fn index_remove_oldest(index: &mut HandsetIndex, handset: u64) {
    let Entry::Occupied(mut e) = index.entry(handset) else { return };
    let now_empty = match e.get_mut() {
        Positions::One(_) => true,
        Positions::Many(list) => {
            list.pop_front();
            list.is_empty()
        }
    };
    if now_empty {
        e.remove();
    }
}

impl Inbox {
    fn new(cap: usize) -> Self {
        Self { state: Mutex::new(InboxState::default()), cap: cap.max(1) }
    }

    /// Files messages the handsets got, under one lock.
    pub(crate) fn push_all(
        &self,
        msgs: impl IntoIterator<Item = Arc<HandsetMsg>>,
        delivered_unix: i64,
    ) {
        let mut state = self.state.lock().expect("inbox lock");
        for msg in msgs {
            if state.received.len() >= self.cap {
                state.pop_oldest();
            }
            state.push(Received { msg, delivered_unix });
        }
    }

    pub(crate) fn get(&self, carrier: &str, ids: &IdGen, to: &str) -> Vec<HandsetMessage> {
        let to = normalise(to);
        let mut state = self.state.lock().expect("inbox lock");
        state
            .of_handset(handset_key(&to))
            .filter(|r| normalise(r.to()) == to)
            .map(|r| r.message(carrier, ids))
            .collect()
    }
}

// ------------------------------------------------------------------- the carrier

/// Live connections, for faults and shutdown.
struct ConnEntry {
    account: Option<String>,
    tx: UnboundedSender<ConnCmd>,
}

/// One simulated carrier.
pub(crate) struct Carrier {
    pub(crate) name: String,
    pub(crate) cfg: CarrierConfig,
    pub(crate) profile: CarrierProfile,
    pub(crate) system_id: COctetString<16>,
    accounts: HashMap<String, Arc<Account>>,
    account_order: Vec<Arc<Account>>,
    pub(crate) ids: IdGen,
    pub(crate) store: Store,
    pub(crate) assembler: Assembler,
    pub(crate) inbox: Inbox,
    numbers: Arc<NumberTable>,
    handsets: HashMap<String, HandsetStatus>,
    pub(crate) faults: FaultState,
    pub(crate) stats: Counters,
    pub(crate) engine: EngineHandle,
    conns: Mutex<HashMap<ConnId, ConnEntry>>,
    next_conn: AtomicU64,
    mo_refs: Mutex<smpp_sms::ReferenceAllocator>,
    pub(crate) max_chars: usize,
}

impl Carrier {
    pub(crate) fn new(
        cfg: CarrierConfig,
        numbers: Arc<NumberTable>,
        engine: EngineHandle,
        now: Instant,
    ) -> Self {
        let profile =
            CarrierProfile::by_name(cfg.profile_name()).expect("validated: known profile");
        let sys = cfg.system_id.clone().unwrap_or_else(|| {
            let mut s = format!("SIM-{}", cfg.name.to_uppercase());
            s.truncate(15);
            s
        });
        let system_id = COctetString::new(Bytes::from(sys))
            .unwrap_or_else(|_| COctetString::from_static("SIM"));
        let account_order: Vec<Arc<Account>> =
            cfg.accounts.iter().map(|a| Arc::new(Account::new(a.clone(), now))).collect();
        let accounts = account_order.iter().map(|a| (a.cfg.system_id.clone(), a.clone())).collect();
        let mut handsets = HashMap::new();
        for n in &cfg.handsets.unreachable {
            handsets.insert(normalise(n).into_owned(), HandsetStatus::Unreachable);
        }
        for n in &cfg.handsets.recycled {
            handsets.insert(normalise(n).into_owned(), HandsetStatus::Recycled);
        }
        Self {
            name: cfg.name.clone(),
            ids: IdGen::new(
                cfg.message_id_start,
                cfg.message_id_format,
                cfg.receipt_id_format,
                cfg.message_id_width,
            ),
            store: Store::new(cfg.store_capacity),
            assembler: Assembler::new(),
            inbox: Inbox::new(cfg.inbox_capacity),
            faults: FaultState::new(&cfg.faults, now),
            stats: Counters::default(),
            max_chars: cfg.concat.max_chars.unwrap_or(profile.max_chars),
            profile,
            system_id,
            accounts,
            account_order,
            numbers,
            handsets,
            engine,
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            mo_refs: Mutex::new(smpp_sms::ReferenceAllocator::default()),
            cfg,
        }
    }

    pub(crate) fn account(&self, system_id: &str) -> Option<&Arc<Account>> {
        self.accounts.get(system_id)
    }

    /// The account an MO goes to when none is named: the first with a receiver bound, else
    /// the first.
    pub(crate) fn mo_account(&self) -> Arc<Account> {
        self.account_order
            .iter()
            .find(|a| a.has_receiver())
            .unwrap_or(&self.account_order[0])
            .clone()
    }

    pub(crate) fn next_mo_reference(&self, to: &str) -> u16 {
        self.mo_refs.lock().expect("refs lock").next(to)
    }

    // ------------------------------------------------------------- numbers

    /// The carrier serving `dest` when the MNP table says it is another one.
    pub(crate) fn ported_away(&self, dest: &Addr) -> Option<&str> {
        // Without a table (the usual case) the number is not even read as text.
        if self.numbers.is_empty() {
            return None;
        }
        self.numbers.lookup(dest.as_str()).map(|(c, _)| c).filter(|c| *c != self.name)
    }

    pub(crate) fn handset_status(&self, dest: &Addr) -> HandsetStatus {
        // Without tables (the usual case) the number is not even read as text.
        if self.handsets.is_empty() && self.numbers.is_empty() {
            return HandsetStatus::Ok;
        }
        let dest = dest.as_str();
        if !self.handsets.is_empty() {
            if let Some(s) = self.handsets.get(&*normalise(dest)) {
                return *s;
            }
        }
        self.numbers.lookup(dest).map_or(HandsetStatus::Ok, |(_, s)| s)
    }

    // ------------------------------------------------------------- connections

    pub(crate) fn register_conn(&self, tx: UnboundedSender<ConnCmd>) -> ConnId {
        let id = self.next_conn.fetch_add(1, Relaxed);
        self.conns.lock().expect("conns lock").insert(id, ConnEntry { account: None, tx });
        Counters::inc(&self.stats.connections_current);
        Counters::inc(&self.stats.connections_total);
        id
    }

    pub(crate) fn set_conn_account(&self, id: ConnId, account: &str) {
        if let Some(e) = self.conns.lock().expect("conns lock").get_mut(&id) {
            e.account = Some(account.to_owned());
        }
    }

    pub(crate) fn unregister_conn(&self, id: ConnId) {
        if self.conns.lock().expect("conns lock").remove(&id).is_some() {
            Counters::dec(&self.stats.connections_current);
        }
    }

    /// Sends `make()` to every connection (of `account`, when given); returns how many.
    pub(crate) fn broadcast(&self, account: Option<&str>, make: impl Fn() -> ConnCmd) -> usize {
        let conns = self.conns.lock().expect("conns lock");
        conns
            .values()
            .filter(|e| account.map_or(true, |a| e.account.as_deref() == Some(a)))
            .filter(|e| e.tx.send(make()).is_ok())
            .count()
    }

    /// Registers a bound receiver (RX or TRX) and hands back what was queued for the account.
    pub(crate) fn add_receiver(
        &self,
        account: &Account,
        conn: ConnId,
        tx: UnboundedSender<ConnCmd>,
    ) -> VecDeque<Box<Delivery>> {
        let mut r = account.route.lock().expect("route lock");
        r.receivers.push(Receiver { conn, tx });
        let queued = std::mem::take(&mut r.pending);
        for _ in 0..queued.len() {
            Counters::dec(&self.stats.receipts_queued);
        }
        queued
    }

    pub(crate) fn remove_receiver(&self, account: &Account, conn: ConnId) {
        account.route.lock().expect("route lock").receivers.retain(|r| r.conn != conn);
    }

    /// Hands a deliver_sm to a receiver of its account: the preferred connection if it is one,
    /// else the next in turn; queued when none is bound (smpp34.md §9.1: receipts go to a
    /// receiver session of the ESME). Returns the connection it went to, `None` when queued.
    pub(crate) fn route(&self, mut d: Box<Delivery>) -> Option<ConnId> {
        let account = d.account.clone();
        let mut r = account.route.lock().expect("route lock");
        if let Some(p) = d.prefer {
            if let Some(i) = r.receivers.iter().position(|x| x.conn == p) {
                match r.receivers[i].tx.send(ConnCmd::Deliver(d)) {
                    Ok(()) => return Some(p),
                    Err(e) => {
                        let ConnCmd::Deliver(back) = e.0 else { unreachable!("sent a Deliver") };
                        d = back;
                        r.receivers.remove(i);
                    }
                }
            }
        }
        while !r.receivers.is_empty() {
            let i = r.next % r.receivers.len();
            r.next = r.next.wrapping_add(1);
            match r.receivers[i].tx.send(ConnCmd::Deliver(d)) {
                Ok(()) => return Some(r.receivers[i].conn),
                Err(e) => {
                    let ConnCmd::Deliver(back) = e.0 else { unreachable!("sent a Deliver") };
                    d = back;
                    r.receivers.remove(i);
                }
            }
        }
        if r.pending.len() >= self.cfg.receipts.queue_capacity.max(1) {
            r.pending.pop_front();
            Counters::inc(&self.stats.receipts_dropped);
            Counters::dec(&self.stats.receipts_queued);
        }
        r.pending.push_back(d);
        Counters::inc(&self.stats.receipts_queued);
        None
    }

    /// A deliver_sm a connection could not send: to any receiver of its account.
    pub(crate) fn reroute(&self, mut d: Box<Delivery>) {
        d.prefer = None;
        self.route(d);
    }

    /// A deliver_sm the ESME did not take: try again after the retry interval, or give up.
    pub(crate) fn retry(&self, mut d: Box<Delivery>) {
        d.attempts += 1;
        if d.attempts >= self.cfg.receipts.max_attempts {
            Counters::inc(&self.stats.receipts_dropped);
            return;
        }
        Counters::inc(&self.stats.receipts_retried);
        d.prefer = None;
        let due = Instant::now() + Duration::from_millis(self.cfg.receipts.retry_interval_ms);
        self.engine.redeliver(due, d);
    }

    // ------------------------------------------------------------- message fates

    /// Reaches the final state of a message: updates the store, records what the handset got
    /// when delivered, and hands `emit` the receipts registered_delivery asks for (smpp34.md
    /// §7.2).
    pub(crate) fn finalize(
        &self,
        msg: &Arc<HandsetMsg>,
        stat: Stat,
        err: u16,
        now_unix: i64,
        emit: impl FnMut(Box<Delivery>),
    ) {
        let to_inbox = |msg| self.inbox.push_all([msg], now_unix);
        self.finalize_then(msg.clone(), stat, err, now_unix, to_inbox, emit);
    }

    /// [`Carrier::finalize`], with a delivered message handed to `delivered` (before any
    /// receipt goes to `emit`) instead of to the inbox: a connection collects a slice's
    /// messages and files them under one lock ([`Inbox::push_all`]). Each lock was an atomic
    /// that waited for the stores before it, among them the freeing of the message the full
    /// inbox dropped: 4% of the simulator's time.
    pub(crate) fn finalize_then(
        &self,
        msg: Arc<HandsetMsg>,
        stat: Stat,
        err: u16,
        now_unix: i64,
        delivered: impl FnOnce(Arc<HandsetMsg>),
        emit: impl FnMut(Box<Delivery>),
    ) {
        let finish = |meta: &Arc<MsgMeta>| self.finish_part(meta, stat, err, now_unix);
        let Some((first, rest)) = msg.parts.split_first() else { return };
        // Every part reaches its state, and the handset its message, before a receipt
        // leaves; a single part (nearly every message) needs no list for that.
        let first = finish(first);
        let rest: Vec<Box<Delivery>> = rest.iter().filter_map(finish).collect();
        if stat == Stat::Delivrd {
            delivered(msg);
        }
        first.into_iter().chain(rest).for_each(emit);
    }

    /// One part's final state, and its receipt when one is asked for.
    fn finish_part(
        &self,
        meta: &MsgMeta,
        stat: Stat,
        err: u16,
        now_unix: i64,
    ) -> Option<Box<Delivery>> {
        let (rd, replaced) = self.store.finish(meta, stat, err, now_unix)?;
        stat.wanted_by(rd)
            .then(|| self.receipt(meta, stat, err, now_unix, replaced.as_deref(), false))
    }

    /// Hands `emit` the intermediate receipts (ENROUTE / ACCEPTD) for the parts still pending.
    pub(crate) fn intermediate(
        &self,
        msg: &HandsetMsg,
        stat: Stat,
        now_unix: i64,
        emit: impl FnMut(Box<Delivery>),
    ) {
        let always = self.cfg.receipts.intermediate_always;
        // Every part is looked up before the first receipt leaves.
        let receipts: Vec<Box<Delivery>> = msg
            .parts
            .iter()
            .filter_map(|meta| {
                let (rd, replaced) = self.store.pending(meta)?;
                (always || rd & 0x10 != 0)
                    .then(|| self.receipt(meta, stat, 0, now_unix, replaced.as_deref(), true))
            })
            .collect();
        receipts.into_iter().for_each(emit);
    }

    fn receipt(
        &self,
        meta: &MsgMeta,
        stat: Stat,
        err: u16,
        now_unix: i64,
        replaced: Option<&str>,
        intermediate: bool,
    ) -> Box<Delivery> {
        let preview = replaced.map(receipt::preview);
        let (id, text_id) = self.ids.resp_and_text(meta.id);
        let info = ReceiptInfo {
            id: id.as_bytes(),
            text_id: text_id.as_bytes(),
            source: &meta.source,
            dest: &meta.dest,
            submit_unix: meta.submit_unix,
            done_unix: now_unix,
            stat,
            err,
            preview: preview.as_ref().unwrap_or(&meta.preview).as_bytes(),
            intermediate,
        };
        let (pdu, tlvs) = receipt::build(&info, &self.cfg.receipts, self.cfg.utc_offset_minutes);
        Box::new(Delivery {
            kind: DeliveryKind::Receipt,
            account: meta.account.clone(),
            prefer: Some(meta.origin),
            body: Body::DeliverSm(pdu),
            tlvs,
            attempts: 0,
        })
    }

    /// Picks the outcome and its timing for a new message.
    pub(crate) fn decide(
        &self,
        dest: &Addr,
        schedule: Duration,
        validity: Option<Duration>,
    ) -> Fate {
        let r = &self.cfg.receipts;
        let normal_delay = Duration::from_millis(
            r.delay_ms + if r.jitter_ms > 0 { fastrand::u64(0..=r.jitter_ms) } else { 0 },
        );
        let mut intermediates = Vec::new();
        let (mut stat, mut err, mut delay) = match self.handset_status(dest) {
            HandsetStatus::Ok => {
                let total: u64 = r.outcomes.iter().map(|o| u64::from(o.weight)).sum();
                let mut pick = fastrand::u64(0..total.max(1));
                let o = r
                    .outcomes
                    .iter()
                    .find(|o| {
                        let w = u64::from(o.weight);
                        if pick < w {
                            true
                        } else {
                            pick -= w;
                            false
                        }
                    })
                    .unwrap_or(&r.outcomes[0]);
                (o.stat, o.err, normal_delay)
            }
            HandsetStatus::Recycled => {
                (Stat::Undeliv, self.cfg.handsets.recycled_err, normal_delay)
            }
            HandsetStatus::Unreachable => {
                // The carrier retries for its window, then gives up (credit-card-sms.md).
                let (window, interval) = self.cfg.retry_schedule_secs();
                // At most 1000 retries per message, whatever the configuration says.
                let interval = interval.max(window / 1000).max(1);
                let scale = self.cfg.handsets.time_compression;
                let real = |secs: u64| Duration::from_secs_f64(secs as f64 / scale);
                let mut t = interval;
                while t < window {
                    intermediates.push((normal_delay + real(t), Stat::Enroute));
                    t += interval;
                }
                (Stat::Undeliv, self.cfg.handsets.unreachable_err, normal_delay + real(window))
            }
        };
        if let Some(s) = r.intermediate {
            let at = Duration::from_millis(r.intermediate_delay_ms).min(delay / 2);
            intermediates.insert(0, (at, s));
        }
        delay += schedule;
        for (at, _) in &mut intermediates {
            *at += schedule;
        }
        if let Some(v) = validity {
            if v < delay {
                stat = Stat::Expired;
                err = 0;
                delay = v;
                intermediates.retain(|(at, _)| *at < v);
            }
        }
        Fate { stat, err, delay, intermediates }
    }

    /// Hands a message to the engine: its intermediate receipts and its final state.
    pub(crate) fn schedule(&self, msg: Arc<HandsetMsg>, fate: &Fate, now: Instant) {
        for (at, s) in &fate.intermediates {
            self.engine.intermediate(now + *at, msg.clone(), *s);
        }
        self.engine.finalize(now + fate.delay, msg, fate.stat, fate.err);
    }
}

/// A message's outcome, decided at submit time.
#[derive(Debug, Clone)]
pub(crate) struct Fate {
    pub(crate) stat: Stat,
    pub(crate) err: u16,
    pub(crate) delay: Duration,
    pub(crate) intermediates: Vec<(Duration, Stat)>,
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use crate::receipt::preview_of;

    fn account() -> Arc<Account> {
        let cfg = AccountConfig { system_id: "ISSUER01".into(), ..AccountConfig::default() };
        Arc::new(Account::new(cfg, Instant::now()))
    }

    fn meta(account: &Arc<Account>, id: u64) -> Arc<MsgMeta> {
        let addr = StoredAddr::from(&Addr::default());
        Arc::new(MsgMeta {
            id: MessageId(id),
            account: account.clone(),
            origin: 0,
            source: addr,
            dest: addr,
            submit_unix: 0,
            registered_delivery: 1,
            preview: preview_of(0, b"hi"),
        })
    }

    /// Ids of one shard (multiples of [`SHARDS`]) that `store` still answers query_sm for.
    fn kept(store: &Store, ids: &[u64]) -> Vec<u64> {
        ids.iter().copied().filter(|&id| store.query(MessageId(id), "ISSUER01").is_some()).collect()
    }

    #[test]
    fn a_full_shard_forgets_its_oldest_id_first() {
        let (a, store) = (account(), Store::new(2 * SHARDS));
        for id in [0, 16, 32] {
            store.insert(meta(&a, id));
        }
        assert_eq!(kept(&store, &[0, 16, 32]), [16, 32]);
        assert_eq!(store.query(MessageId(16), "OTHER"), None, "another account's message");
        // A forgotten message counts as pending: its receipt still goes out.
        assert_eq!(store.finish(&meta(&a, 0), Stat::Delivrd, 0, 1), Some((1, None)));
    }

    #[test]
    fn ids_stored_a_little_out_of_order_are_all_kept() {
        let (a, store) = (account(), Store::new(3 * SHARDS));
        for id in [32, 16, 48] {
            store.insert(meta(&a, id));
        }
        assert_eq!(kept(&store, &[0, 16, 32, 48]), [16, 32, 48]);
        // Older than everything a full shard keeps: forgotten at once.
        store.insert(meta(&a, 0));
        assert_eq!(kept(&store, &[0, 16, 32, 48]), [16, 32, 48]);
    }

    #[test]
    fn finishing_and_cancelling_reach_the_stored_record() {
        let (a, store) = (account(), Store::new(4 * SHARDS));
        let (m16, m32) = (meta(&a, 16), meta(&a, 32));
        store.insert(m16.clone());
        store.insert(m32);
        assert_eq!(store.finish(&m16, Stat::Delivrd, 0, 7), Some((1, None)));
        assert_eq!(store.query(MessageId(16), "ISSUER01"), Some((Stat::Delivrd, Some(7), 0)));
        assert_eq!(store.finish(&m16, Stat::Delivrd, 0, 8), None, "already final");
        assert_eq!(store.cancel(MessageId(16), "ISSUER01", 9), Err(StoreError::Final));
        assert_eq!(store.cancel(MessageId(32), "ISSUER01", 9), Ok(()));
        assert_eq!(store.cancel(MessageId(48), "ISSUER01", 9), Err(StoreError::Unknown));
    }

    #[test]
    fn a_jump_far_ahead_keeps_at_most_the_capacity() {
        let (a, store) = (account(), Store::new(2 * SHARDS));
        store.insert(meta(&a, 0));
        store.insert(meta(&a, 16 * 1_000_000));
        assert_eq!(kept(&store, &[0, 16 * 1_000_000]), [16 * 1_000_000]);
        assert!(store.shards[0].lock().unwrap().records.len() <= 2);
    }
}
